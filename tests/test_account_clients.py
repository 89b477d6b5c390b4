"""Real account clients against recorded payloads (httpx.MockTransport): routes, parsing and outcomes."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fixtures.platform_support import fixture_json, fixture_text, settings_for
from viewtrail.domain.models import AccountToDiscover, Outcome, Platform
from viewtrail.platforms.accounts import build_account_client, discover_sync
from viewtrail.platforms.accounts.factory import ACCOUNT_BASE_URLS
from viewtrail.platforms.youtube.client import QuotaTracker

SECRET_KEY = "AIzaSy-secret-account-key-123"
SECRET_SESSION = "sessionid-secret-987654"


def account(platform: Platform, handle: str | None, *, platform_account_id: str | None = None, url: str = "", **kw):
    key = handle.lower() if handle else platform_account_id
    return AccountToDiscover(
        account_id=f"{platform.value}:{key}",
        platform=platform,
        handle=handle,
        url=url or f"https://example.invalid/{handle}",
        platform_account_id=platform_account_id,
        **kw,
    )


def discover(platform: Platform, handler, tmp_path, accounts, **overrides):
    settings = settings_for(platform, handler, tmp_path, **overrides)
    client = build_account_client(platform, "real", settings=settings)
    return client, list(discover_sync(client, accounts))


def json_response(data, status: int = 200, **kw) -> httpx.Response:
    return httpx.Response(status, json=data, **kw)


# ------------------------------------------------------------------------------------------- YouTube
def test_youtube_channel_metrics_and_uploads_pages(tmp_path):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/channels"):
            return json_response(fixture_json("youtube", "channels_list_ok.json"))
        token = request.url.params.get("pageToken")
        name = "playlist_items_page2.json" if token else "playlist_items_page1.json"
        return json_response(fixture_json("youtube", name))

    client, [result] = discover(
        Platform.YOUTUBE, handler, tmp_path, [account(Platform.YOUTUBE, "mkbhd", latest_n=30)], api_key=SECRET_KEY
    )
    assert result.attempt.outcome is Outcome.OK
    obs = result.observation
    assert (obs.followers, obs.views, obs.video_count, obs.following, obs.likes) == (
        20_100_000,
        4_712_938_561,
        1821,
        None,
        None,
    )
    assert obs.platform_account_id == "UCBJycsmduvYEL83R_U4JriQ" and obs.handle == "mkbhd"
    assert obs.display_name == "Marques Brownlee" and obs.source == "youtube_api"
    # Newest first; the private item (no videoPublishedAt) is skipped; posted_at is videoPublishedAt.
    assert [v.ref.external_id for v in result.videos] == ["U2hAqsyGsy4", "dQw4w9WgXcQ", "9bZkp7q19f0"]
    assert result.videos[0].posted_at == datetime(2026, 11, 28, 17, 0, 6)
    assert result.videos[0].ref.url == "https://www.youtube.com/watch?v=U2hAqsyGsy4"
    assert result.attempt.videos_listed == 3 and result.attempt.tries == 3
    channels = parse_qs(urlsplit(str(seen[0].url)).query)
    assert channels["forHandle"] == ["@mkbhd"] and channels["part"] == ["snippet,statistics,contentDetails"]
    assert parse_qs(urlsplit(str(seen[1].url)).query)["playlistId"] == ["UUBJycsmduvYEL83R_U4JriQ"]
    assert all(SECRET_KEY not in str(r.url) for r in seen)
    assert all(r.headers["x-goog-api-key"] == SECRET_KEY for r in seen)
    # The three calls count against the video client's daily budget (the same state file).
    assert QuotaTracker(tmp_path / "state" / "youtube_quota.json", 10_000).status(client.now())["units_used"] == 3


def test_youtube_lookup_by_channel_id_and_legacy_username(tmp_path):
    queries = []

    def handler(request):
        queries.append(dict(request.url.params))
        return json_response(fixture_json("youtube", "channels_list_empty.json"))

    accounts = [
        account(Platform.YOUTUBE, None, platform_account_id="UCBJycsmduvYEL83R_U4JriQ"),
        account(Platform.YOUTUBE, "marquesbrownlee", url="https://www.youtube.com/user/marquesbrownlee"),
    ]
    _, results = discover(Platform.YOUTUBE, handler, tmp_path, accounts, api_key="k", concurrency=1)
    assert {q.get("id") or q.get("forUsername") for q in queries} == {"UCBJycsmduvYEL83R_U4JriQ", "marquesbrownlee"}
    assert {r.attempt.outcome for r in results} == {Outcome.NOT_FOUND}  # absent from items: no such channel


def test_youtube_hidden_subscriber_count_is_null_not_zero(tmp_path):
    def handler(request):
        if request.url.path.endswith("/channels"):
            return json_response(fixture_json("youtube", "channels_list_hidden_subscribers.json"))
        return json_response(fixture_json("youtube", "error_playlist_not_found.json"), 404)

    _, [result] = discover(Platform.YOUTUBE, handler, tmp_path, [account(Platform.YOUTUBE, "jawed")], api_key="k")
    assert result.attempt.outcome is Outcome.OK
    assert result.observation.followers is None and result.observation.extra["subscribers_hidden"] is True
    assert result.observation.views == 391_520_331
    assert result.videos == [] and result.attempt.videos_listed == 0


def test_youtube_quota_exceeded_stops_the_remaining_accounts(tmp_path):
    calls = []

    def handler(request):
        calls.append(request)
        return json_response(fixture_json("youtube", "error_quota_exceeded.json"), 403)

    accounts = [account(Platform.YOUTUBE, f"chan{i}") for i in range(3)]
    _, results = discover(Platform.YOUTUBE, handler, tmp_path, accounts, api_key="k", concurrency=1, max_in_flight=1)
    assert [r.attempt.outcome for r in results] == [Outcome.QUOTA_EXHAUSTED] * 3
    assert len(calls) == 1 and results[1].attempt.tries == 0


def test_secrets_never_reach_results_or_logs(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)

    def refused(request):
        return json_response(fixture_json("youtube", "error_key_invalid.json"), 400)

    _, [result] = discover(Platform.YOUTUBE, refused, tmp_path, [account(Platform.YOUTUBE, "a")], api_key=SECRET_KEY)
    assert result.attempt.outcome is Outcome.BLOCKED

    def throttled(request):
        return json_response({"message": "slow down"}, 429)

    _, [ig] = discover(
        Platform.INSTAGRAM, throttled, tmp_path, [account(Platform.INSTAGRAM, "a")], session_id=SECRET_SESSION
    )
    assert ig.attempt.outcome is Outcome.RATE_LIMITED
    for secret in (SECRET_KEY, SECRET_SESSION):
        assert secret not in str(result) + str(ig) and secret not in caplog.text


# -------------------------------------------------------------------------------------------- TikTok
def tiktok_handler(page: str, item_list: httpx.Response | None = None, seen: list | None = None):
    def handler(request):
        if seen is not None:
            seen.append(request)
        if request.url.path.startswith("/api/creator/item_list"):
            return item_list or json_response(fixture_json("tiktok", "item_list_page.json"))
        return httpx.Response(200, text=fixture_text("tiktok", page))

    return handler


def test_tiktok_user_page_and_item_list(tmp_path):
    seen: list[httpx.Request] = []
    handler = tiktok_handler("user_page_ok.html", seen=seen)
    _, [result] = discover(Platform.TIKTOK, handler, tmp_path, [account(Platform.TIKTOK, "scout2015", latest_n=3)])
    assert result.attempt.outcome is Outcome.OK
    obs = result.observation
    # statsV2 (exact strings) wins over the rounded numbers of stats.
    assert (obs.followers, obs.following, obs.likes, obs.video_count) == (1_312_877, 12, 40_147_720, 1412)
    assert obs.platform_account_id == "6719043524302307334"
    assert obs.extra["sec_uid"].startswith("MS4wLjABAAAA") and obs.source == "tiktok_web"
    assert [v.ref.external_id for v in result.videos] == [
        "7443300021912472863",
        "7442900112233445566",
        "7442100099887766554",
    ]
    assert result.videos[0].ref.url == "https://www.tiktok.com/@scout2015/video/7443300021912472863"
    assert result.videos[0].posted_at == datetime(2025, 11, 29, 21, 0, 1)
    query = dict(seen[1].url.params)
    assert query["secUid"] == obs.extra["sec_uid"] and query["type"] == "1" and query["aid"] == "1988"
    assert query["count"] == "15" and query["verifyFp"].startswith("verify_") and len(query["device_id"]) == 19
    assert seen[0].url.path == "/@scout2015"


def test_tiktok_pages_until_latest_n_with_an_older_cursor(tmp_path):
    seen: list[httpx.Request] = []
    handler = tiktok_handler("user_page_ok.html", seen=seen)
    _, [result] = discover(Platform.TIKTOK, handler, tmp_path, [account(Platform.TIKTOK, "scout2015", latest_n=10)])
    cursors = [int(r.url.params["cursor"]) for r in seen if "item_list" in r.url.path]
    assert len(cursors) > 1 and cursors[1] == 1764150003 * 1000  # next page: older than the last item
    assert len(result.videos) == 3  # the same items again are not listed twice


def test_tiktok_unknown_user_is_not_found_and_private_account_gives_metrics_only(tmp_path):
    _, [gone] = discover(
        Platform.TIKTOK,
        tiktok_handler("user_page_not_found_10221.html"),
        tmp_path,
        [account(Platform.TIKTOK, "nobody")],
    )
    assert gone.attempt.outcome is Outcome.NOT_FOUND and "10221" in gone.attempt.detail
    _, [private] = discover(
        Platform.TIKTOK,
        tiktok_handler("user_page_private_10222.html"),
        tmp_path,
        [account(Platform.TIKTOK, "quiet.garden")],
    )
    assert private.attempt.outcome is Outcome.OK and private.observation.followers == 312
    assert private.attempt.videos_listed is None and private.videos == []


def test_tiktok_challenge_and_refused_item_list_are_blocked_never_not_found(tmp_path):
    _, [challenge] = discover(
        Platform.TIKTOK, tiktok_handler("challenge.html"), tmp_path, [account(Platform.TIKTOK, "a")]
    )
    assert challenge.attempt.outcome is Outcome.BLOCKED
    refused = tiktok_handler("user_page_ok.html", httpx.Response(200, content=b""))
    _, [empty] = discover(Platform.TIKTOK, refused, tmp_path, [account(Platform.TIKTOK, "scout2015")])
    assert empty.attempt.outcome is Outcome.BLOCKED and "item_list" in empty.attempt.detail
    assert empty.observation is None


# ----------------------------------------------------------------------------------------- Instagram
def test_instagram_profile_metrics_and_recent_videos(tmp_path):
    seen = []

    def handler(request):
        seen.append(request)
        return json_response(fixture_json("instagram", "web_profile_info_ok.json"))

    _, [result] = discover(Platform.INSTAGRAM, handler, tmp_path, [account(Platform.INSTAGRAM, "natgeo")])
    assert result.attempt.outcome is Outcome.OK
    obs = result.observation
    assert (obs.followers, obs.following, obs.video_count, obs.likes, obs.views) == (
        279_834_211,
        162,
        31245,
        None,
        None,
    )
    assert obs.platform_account_id == "787132" and obs.display_name == "National Geographic"
    # The photo post is left out: only reels and videos are listed.
    assert [v.ref.external_id for v in result.videos] == ["DRm4dQ3kZ1a", "DRiP9mYkQ3c"]
    assert result.videos[0].title == "Snow leopards of the Himalaya" and result.videos[1].title is None
    assert seen[0].headers["x-ig-app-id"] == "936619743392459" and seen[0].url.params["username"] == "natgeo"
    assert "cookie" not in seen[0].headers


def test_instagram_please_wait_and_login_redirect_are_blocked_not_gone(tmp_path):
    def wait(request):
        return json_response(fixture_json("instagram", "web_profile_info_please_wait.json"), 401)

    def login(request):
        return httpx.Response(302, headers={"Location": "/accounts/login/?next=%2Fnatgeo%2F"})

    for handler in (wait, login):
        _, [result] = discover(Platform.INSTAGRAM, handler, tmp_path, [account(Platform.INSTAGRAM, "natgeo")])
        assert result.attempt.outcome is Outcome.BLOCKED


def test_instagram_session_cookie_sent_and_rejection_is_login_required(tmp_path):
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(302, headers={"Location": "https://www.instagram.com/accounts/login/"})

    _, [result] = discover(
        Platform.INSTAGRAM, handler, tmp_path, [account(Platform.INSTAGRAM, "natgeo")], session_id=SECRET_SESSION
    )
    assert seen[0].headers["cookie"] == f"sessionid={SECRET_SESSION}"
    assert result.attempt.outcome is Outcome.LOGIN_REQUIRED and SECRET_SESSION not in str(result)


def test_instagram_missing_user_is_not_found_and_private_is_metrics_only(tmp_path):
    def missing(request):
        return json_response(fixture_json("instagram", "web_profile_info_not_found.json"), 404)

    def private(request):
        return json_response(fixture_json("instagram", "web_profile_info_private.json"))

    _, [gone] = discover(Platform.INSTAGRAM, missing, tmp_path, [account(Platform.INSTAGRAM, "nobody")])
    assert gone.attempt.outcome is Outcome.NOT_FOUND
    _, [closed] = discover(Platform.INSTAGRAM, private, tmp_path, [account(Platform.INSTAGRAM, "quiet.garden")])
    assert closed.attempt.outcome is Outcome.OK and closed.observation.followers == 412
    assert closed.attempt.videos_listed is None


# ------------------------------------------------------------------------------------------------- X
def x_handler(body: str, seen: list | None = None, refuse_first: bool = False):
    state = {"graphql": 0}

    def handler(request):
        if seen is not None:
            seen.append(request)
        if request.url.path.endswith("/guest/activate.json"):
            return json_response(fixture_json("x", "guest_activate.json"))
        state["graphql"] += 1
        if refuse_first and state["graphql"] == 1:
            return json_response({"errors": [{"code": 239, "message": "Bad guest token"}]}, 403)
        return json_response(fixture_json("x", body))

    return handler


@pytest.mark.parametrize("body", ["user_by_screen_name_ok.json", "user_by_screen_name_core.json"])
def test_x_user_metrics_only(tmp_path, body):
    seen: list[httpx.Request] = []
    _, [result] = discover(Platform.X, x_handler(body, seen), tmp_path, [account(Platform.X, "NASA")])
    assert result.attempt.outcome is Outcome.OK
    obs = result.observation
    assert (obs.followers, obs.following, obs.video_count, obs.likes) == (89_512_044, 183, None, None)
    assert obs.extra == {"posts": 74103, "media_posts": 30211, "likes_given": 16380}
    assert obs.platform_account_id == "11348282" and obs.handle == "NASA" and obs.source == "x_graphql"
    assert result.attempt.videos_listed is None and result.videos == []  # no logged-out route for posts
    activate, lookup = seen
    assert activate.method == "POST" and activate.headers["authorization"].startswith("Bearer ")
    assert lookup.url.path.endswith("/UserByScreenName") and lookup.headers["x-guest-token"] == "1863215582649921537"
    assert json.loads(lookup.url.params["variables"])["screen_name"] == "NASA"


def test_x_known_rest_id_survives_a_rename_and_refused_token_is_replaced(tmp_path):
    seen: list[httpx.Request] = []
    handler = x_handler("user_by_screen_name_ok.json", seen, refuse_first=True)
    _, [result] = discover(
        Platform.X, handler, tmp_path, [account(Platform.X, "oldname", platform_account_id="11348282")]
    )
    assert result.attempt.outcome is Outcome.OK and result.observation.handle == "NASA"
    lookups = [r for r in seen if "graphql" in r.url.path]
    assert all(r.url.path.endswith("/UserByRestId") for r in lookups) and len(lookups) == 2
    assert sum(r.url.path.endswith("activate.json") for r in seen) == 2


def test_x_unknown_and_suspended_accounts(tmp_path):
    _, [gone] = discover(Platform.X, x_handler("user_not_found.json"), tmp_path, [account(Platform.X, "nobody")])
    assert gone.attempt.outcome is Outcome.NOT_FOUND
    _, [suspended] = discover(Platform.X, x_handler("user_unavailable.json"), tmp_path, [account(Platform.X, "bad")])
    assert suspended.attempt.outcome is Outcome.PRIVATE and "Suspended" in suspended.attempt.detail


def test_x_account_client_defaults_to_the_api_host():
    client = build_account_client(Platform.X, "real")
    assert client.wire.base_url == ACCOUNT_BASE_URLS[Platform.X]


# ----------------------------------------------------------------------------------------- shared
def test_rate_limits_are_retried_then_rate_limited_and_trip_the_breaker(tmp_path):
    calls = []

    def handler(request):
        calls.append(request)
        return json_response({"message": "slow down"}, 429, headers={"Retry-After": "2"})

    accounts = [account(Platform.INSTAGRAM, f"user{i}") for i in range(4)]
    _, results = discover(
        Platform.INSTAGRAM,
        handler,
        tmp_path,
        accounts,
        max_retries=1,
        breaker_threshold=2,
        concurrency=1,
        max_in_flight=1,
    )
    outcomes = [r.attempt.outcome for r in results]
    assert outcomes == [Outcome.RATE_LIMITED, Outcome.RATE_LIMITED, Outcome.CIRCUIT_OPEN, Outcome.CIRCUIT_OPEN]
    assert results[0].attempt.tries == 2 and len(calls) == 4


def test_a_mixed_batch_is_refused(tmp_path):
    client = build_account_client(Platform.TIKTOK, "real", settings=settings_for(Platform.TIKTOK, lambda r: None))
    with pytest.raises(ValueError, match="only discovers tiktok accounts"):
        list(discover_sync(client, [account(Platform.X, "nasa")]))
