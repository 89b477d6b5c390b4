"""TikTok video-page client against recorded pages (httpx.MockTransport, no network)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
import pytest
from fixtures.platform_support import client_for, fixture_text, run, video

from viewtrail.domain.models import Outcome, Platform
from viewtrail.platforms import resolve_short_link_sync
from viewtrail.platforms.tiktok.client import ShortLinkError, parse_video_page

VID = "7106594312292453675"


def page(name, status=200):
    body = fixture_text("tiktok", name)
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(status, text=body, headers={"Content-Type": "text/html; charset=utf-8"})

    return handler, calls


def one(handler, external_id=VID, account="chef.lin", **overrides):
    [result] = run(client_for("tiktok", handler, **overrides), [video("tiktok", external_id, account)])
    return result


def test_ok_page_reads_statsv2_strings_and_content_fields():
    handler, calls = page("video_ok.html")
    result = one(handler)
    assert calls[0].url.path == f"/@chef.lin/video/{VID}"
    assert calls[0].headers["User-Agent"].startswith("Mozilla/5.0")
    assert result.attempt.outcome is Outcome.OK and result.attempt.tries == 1
    obs = result.observation
    # statsV2 (strings, exact) wins over the rounded integer stats.
    assert (obs.views, obs.likes, obs.comments, obs.shares, obs.saves) == (3912447, 248312, 1874, 5211, 40312)
    assert obs.account == "chef.lin"
    assert obs.title.startswith("Making crispy chilli oil at home")
    assert obs.posted_at == datetime(2022, 6, 6, 15, 53, 30)
    assert obs.duration_s == 58.0
    assert obs.extra == {"reposts": 0}
    assert obs.source == "tiktok_web"


def test_unknown_account_uses_placeholder_handle_and_follows_redirect():
    body = fixture_text("tiktok", "video_ok.html")
    paths = []

    def handler(request):
        paths.append(request.url.path)
        if request.url.path.startswith("/@_/"):
            return httpx.Response(301, headers={"Location": f"https://www.tiktok.com/@chef.lin/video/{VID}"})
        return httpx.Response(200, text=body)

    result = one(handler, account=None)
    assert paths == [f"/@_/video/{VID}", f"/@chef.lin/video/{VID}"]
    assert result.attempt.outcome is Outcome.OK and result.attempt.tries == 2  # the redirect is a request too


def test_photo_post_with_only_statsv2_and_integer_create_time():
    handler, _ = page("photo_ok_statsv2_only.html")
    result = one(handler, external_id="7301234567890123456")
    obs = result.observation
    assert result.attempt.outcome is Outcome.OK
    assert (obs.views, obs.likes, obs.comments, obs.shares, obs.saves) == (20544, 1203, 31, 14, 87)
    assert obs.duration_s is None and obs.extra["photo_post"] is True
    assert obs.posted_at == datetime(2023, 11, 14, 22, 13, 20)


@pytest.mark.parametrize(
    ("name", "outcome", "detail"),
    [
        ("video_private_10216.html", Outcome.PRIVATE, "10216"),
        ("video_private_account_10222.html", Outcome.PRIVATE, "10222"),
        ("video_unavailable_10204.html", Outcome.BLOCKED, "10204"),
        ("video_age_restricted.html", Outcome.LOGIN_REQUIRED, "isContentClassified"),
        ("challenge.html", Outcome.BLOCKED, "challenge"),
        ("video_changed_shape.html", Outcome.PARSE_ERROR, "webapp.video-detail"),
    ],
)
def test_recorded_pages_map_to_outcomes(name, outcome, detail):
    handler, _ = page(name)
    result = one(handler)
    assert result.attempt.outcome is outcome
    assert detail in result.attempt.detail
    assert result.observation is None


def test_10204_becomes_not_found_only_after_this_client_read_a_page_in_the_run():
    ok = fixture_text("tiktok", "video_ok.html")
    gone = fixture_text("tiktok", "video_unavailable_10204.html")

    def handler(request):
        return httpx.Response(200, text=ok if request.url.path.endswith(VID) else gone)

    client = client_for("tiktok", handler, concurrency=1, max_in_flight=1)
    results = run(client, [video("tiktok", VID, "chef.lin"), video("tiktok", "7000000000000000001", "chef.lin")])
    assert [r.attempt.outcome for r in results] == [Outcome.OK, Outcome.NOT_FOUND]


def test_login_redirect_is_login_required_never_not_found():
    def handler(request):
        if request.url.path.startswith("/login"):
            return httpx.Response(200, text="<html><title>Log in | TikTok</title></html>")
        return httpx.Response(302, headers={"Location": "/login?redirect_url=https%3A%2F%2Fwww.tiktok.com%2F"})

    result = one(handler)
    assert result.attempt.outcome is Outcome.LOGIN_REQUIRED


def test_page_without_data_script_is_blocked():
    result = one(lambda r: httpx.Response(200, text="<html><body>Something else</body></html>"))
    assert result.attempt.outcome is Outcome.BLOCKED


def test_http_404_is_not_found():
    assert one(lambda r: httpx.Response(404, text="Not found")).attempt.outcome is Outcome.NOT_FOUND


def test_mismatched_item_id_is_parse_error():
    handler, _ = page("video_ok.html")
    assert one(handler, external_id="7000000000000000009").attempt.outcome is Outcome.PARSE_ERROR


def test_non_numeric_count_is_parse_error_naming_the_field():
    html = fixture_text("tiktok", "video_ok.html").replace('"playCount":"3912447"', '"playCount":"3.9M"')
    result = one(lambda r: httpx.Response(200, text=html))
    assert result.attempt.outcome is Outcome.PARSE_ERROR and "playCount" in result.attempt.detail


def test_parse_video_page_is_usable_without_a_client():
    outcome, detail, item, status = parse_video_page(fixture_text("tiktok", "video_ok.html"))
    assert outcome is Outcome.OK and item["id"] == VID and status == 0


# ------------------------------------------------------------------------------------ short links
def resolve(handler, url):
    return resolve_short_link_sync(client_for("tiktok", handler), url)


def test_short_link_resolves_with_head_redirects():
    methods = []

    def handler(request):
        methods.append((request.method, request.url.host))
        if request.url.host == "vm.tiktok.com":
            return httpx.Response(301, headers={"Location": f"https://www.tiktok.com/@chef.lin/video/{VID}?_r=1&_t=ZT"})
        return httpx.Response(200)

    ref = resolve(handler, "https://vm.tiktok.com/ZMabc123/")
    assert ref.platform is Platform.TIKTOK and ref.external_id == VID and ref.account == "chef.lin"
    assert methods == [("HEAD", "vm.tiktok.com"), ("HEAD", "www.tiktok.com")]


def test_short_link_falls_back_to_get_when_head_is_refused():
    def handler(request):
        if request.method == "HEAD":
            return httpx.Response(405)
        if request.url.host == "vt.tiktok.com":
            return httpx.Response(302, headers={"Location": f"https://www.tiktok.com/@_/video/{VID}"})
        return httpx.Response(200, text="<html></html>")

    ref = resolve(handler, "https://vt.tiktok.com/ZSxyz789/")
    assert ref.external_id == VID


def test_short_link_to_a_non_video_page_is_a_clear_error():
    def handler(request):
        if request.url.host == "vm.tiktok.com":
            return httpx.Response(301, headers={"Location": "https://www.tiktok.com/explore"})
        return httpx.Response(200)

    with pytest.raises(ShortLinkError, match="not a video"):
        resolve(handler, "https://vm.tiktok.com/ZMnope00/")


def test_short_link_network_failure_is_a_clear_error():
    def handler(request):
        raise httpx.ConnectError("connection refused")

    with pytest.raises(ShortLinkError, match="Could not follow"):
        resolve(handler, "https://vm.tiktok.com/ZMdown00/")


def test_short_link_resolves_from_inside_a_running_loop_and_async():
    def handler(request):
        if request.url.host == "www.tiktok.com" and request.url.path.startswith("/t/"):
            return httpx.Response(301, headers={"Location": f"https://www.tiktok.com/@chef.lin/video/{VID}"})
        return httpx.Response(200)

    async def inside():
        sync_ref = resolve_short_link_sync(client_for("tiktok", handler), "https://www.tiktok.com/t/ZTabc/")
        async with client_for("tiktok", handler) as client:
            async_ref = await client.resolve_short_link("https://www.tiktok.com/t/ZTabc/")
        return sync_ref, async_ref

    sync_ref, async_ref = asyncio.run(inside())
    assert sync_ref == async_ref and sync_ref.external_id == VID


def test_other_platforms_have_no_short_links():
    with pytest.raises(NotImplementedError):
        resolve_short_link_sync(client_for("x", lambda r: httpx.Response(200)), "https://t.co/abc")
