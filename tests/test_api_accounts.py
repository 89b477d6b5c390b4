"""The API's watched-account and creator reads, against marts built by dbt from accounts watched and discovered
through the registry functions, published as the analyst copy."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from api_support import api_env, problem, publish_watched_accounts, running_api

NASA = {
    "account_id": "tiktok:nasa",
    "platform": "tiktok",
    "handle": "nasa",
    "platform_account_id": None,
    "url": "https://www.tiktok.com/@nasa",
    "is_active": True,
    "discovery": "auto",
    "latest_n": 30,
    "since": None,
    "discovery_cadence_hours": 6.0,
    "video_cadence": "auto",
    "labels": ["space"],
    "metadata": {},
    "creators": ["space-agency"],
    "added_at": "2026-10-31T00:00:00Z",
    "updated_at": "2026-10-31T00:00:00Z",
    "stopped_at": None,
    "latest": {
        "display_name": "NASA",
        "first_observed_at": "2026-11-01T12:00:00Z",
        "last_observed_at": "2026-11-03T12:00:00Z",
        "median_video_views": None,
        "posts_per_week": 0.0,
        "last_posted_at": None,
        "as_of_at": "2026-11-03T12:00:00Z",
        "last_attempt_at": "2026-11-03T12:00:00Z",
        "last_outcome": "ok",
        "followers": 1480,
        "following": 10,
        "likes": None,
        "video_count": 42,
        "views": None,
        "followers_gained_7d": None,
        "followers_gained_30d": None,
        "tracked_videos": 0,
        "tracked_video_views": None,
        "tracked_video_engagements": None,
        "snapshot_count": 2,
        "consecutive_failures": 0,
    },
}
NONE_SHARED = {"tiktok": None, "youtube": None, "instagram": None, "x": None}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    with api_env(tmp_path_factory.mktemp("accounts"), VIEWTRAIL_API_RATE_PER_MIN="100000") as data:
        publish_watched_accounts(data)
        with running_api() as server:
            server.read_key = server.key("read")
            yield server


def test_watched_accounts_list_one_and_filters(api):
    with api.client(api.read_key) as c:
        listed = c.get("/v1/watched-accounts").json()
        assert [a["account_id"] for a in listed["data"]] == ["instagram:solo", "tiktok:nasa", "youtube:esa"]
        assert listed["data"][1] == NASA
        esa = listed["data"][2]
        assert (esa["latest"]["followers"], esa["latest"]["views"], esa["creators"]) == (500, 9000, ["space-agency"])
        assert listed["pagination"] == {"next_cursor": None, "has_next": False, "limit": 50}
        assert c.get("/v1/watched-accounts/tiktok:nasa").json() == {"data": NASA}
        by_url = c.get("/v1/watched-accounts/" + quote("https://www.tiktok.com/@NASA", safe=""))
        assert by_url.json()["data"]["account_id"] == "tiktok:nasa"

        def ids(**params):
            return [a["account_id"] for a in c.get("/v1/watched-accounts", params=params).json()["data"]]

        assert ids(platform="youtube") == ["youtube:esa"]
        assert ids(creator="Space Agency") == ids(creator="space-agency") == ["tiktok:nasa", "youtube:esa"]
        assert ids(label="space", platform="tiktok") == ["tiktok:nasa"]
        assert ids(active="false") == [] and ids(creator="nobody") == []
        problem(c.get("/v1/watched-accounts", params={"platform": "myspace"}), 422, "VALIDATION_ERROR")
        body = problem(c.get("/v1/watched-accounts", params={"creator": "!!!"}), 422, "VALIDATION_ERROR")
        assert body["errors"][0]["field"] == "creator" and "no letters or digits" in body["detail"]
        assert "tiktok:nobody" in problem(c.get("/v1/watched-accounts/tiktok:nobody"), 404, "NOT_FOUND")["detail"]
        problem(c.get("/v1/watched-accounts/not an account"), 404, "NOT_FOUND")
        problem(c.get("/v1/watched-accounts/tiktok:nobody/metrics"), 404, "NOT_FOUND")
    with api.client() as c:
        problem(c.get("/v1/watched-accounts"), 401, "UNAUTHORIZED")


def test_watched_accounts_cursor_pagination_is_bound_to_filters(api):
    with api.client(api.read_key) as c:
        seen, cursor, first_cursor = [], None, None
        for _ in range(3):
            params = {"limit": 1, "include_total": "true"} | ({"cursor": cursor} if cursor else {})
            r = c.get("/v1/watched-accounts", params=params)
            body = r.json()
            assert body["pagination"]["total_count"] == 3 and len(body["data"]) == 1
            seen += [a["account_id"] for a in body["data"]]
            cursor = body["pagination"]["next_cursor"]
            first_cursor = first_cursor or cursor
            assert ('rel="next"' in r.headers.get("link", "")) is (cursor is not None)
        assert seen == ["instagram:solo", "tiktok:nasa", "youtube:esa"] and cursor is None
        body = problem(
            c.get("/v1/watched-accounts", params={"cursor": first_cursor, "label": "space"}), 422, "VALIDATION_ERROR"
        )
        assert body["errors"][0]["field"] == "cursor"
        problem(c.get("/v1/watched-accounts", params={"cursor": "garbage"}), 422, "VALIDATION_ERROR")


def test_watched_account_metrics_are_the_daily_follower_history(api):
    with api.client(api.read_key) as c:
        days = c.get("/v1/watched-accounts/tiktok:nasa/metrics").json()["data"]
        # 480 followers over 48 h: 1000 + 120 by the end of Nov 1, + 240 by the end of Nov 2 (interpolated)
        assert [
            (d["day"], d["followers"], d["followers_gained"], d["observations"], d["is_interpolated"]) for d in days
        ] == [
            ("2026-11-01", 1120, None, 1, False),
            ("2026-11-02", 1360, 240, 0, True),
            ("2026-11-03", 1480, 120, 1, False),
        ]
        assert days[0] == {
            "account_id": "tiktok:nasa",
            "day": "2026-11-01",
            "followers": 1120,
            "following": 10,
            "likes": None,
            "video_count": 42,
            "views": None,
            "followers_gained": None,
            "following_gained": None,
            "likes_gained": None,
            "video_count_gained": None,
            "views_gained": None,
            "observations": 1,
            "is_interpolated": False,
        }
        window = c.get(
            "/v1/watched-accounts/tiktok:nasa/metrics", params={"start_date": "2026-11-02", "end_date": "2026-11-02"}
        )
        assert [d["day"] for d in window.json()["data"]] == ["2026-11-02"]
        body = problem(
            c.get(
                "/v1/watched-accounts/tiktok:nasa/metrics",
                params={"start_date": "2026-11-03", "end_date": "2026-11-01"},
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert body["errors"][0]["field"] == "start_date"
        problem(
            c.get("/v1/watched-accounts/tiktok:nasa/metrics", params={"start_date": "soon"}), 422, "VALIDATION_ERROR"
        )


def test_creators_list_one_and_daily(api):
    with api.client(api.read_key) as c:
        listed = c.get("/v1/creators", params={"include_total": "true"}).json()
        assert [x["creator_id"] for x in listed["data"]] == ["later-crew", "space-agency"]
        assert listed["pagination"]["total_count"] == 2
        later, space = listed["data"]
        assert later["account_ids"] == [] and later["labels"] == ["tbd"] and later["latest"]["accounts"] == 0
        assert (
            space
            == c.get("/v1/creators/space-agency").json()["data"]
            == c.get("/v1/creators/Space Agency").json()["data"]
        )
        assert space == {
            "creator_id": "space-agency",
            "name": "Space Agency",
            "labels": [],
            "metadata": {},
            "account_ids": ["tiktok:nasa", "youtube:esa"],
            "platforms": ["tiktok", "youtube"],
            "added_at": "2026-10-31T00:00:00Z",
            "updated_at": "2026-10-31T00:00:00Z",
            "latest": {
                "accounts": 2,
                "videos": 0,
                "views": None,
                "engagements": None,
                "followers": 1980,
                "engagement_rate_by_followers": None,
                "posts_per_week": 0.0,
                "as_of_at": "2026-11-03T12:00:00Z",
                "shares": {
                    "views": NONE_SHARED,
                    "engagements": NONE_SHARED,
                    "followers": {"tiktok": 1480 / 1980, "youtube": 500 / 1980, "instagram": None, "x": None},
                },
            },
        }
        first = c.get("/v1/creators", params={"limit": 1}).json()
        assert [x["creator_id"] for x in first["data"]] == ["later-crew"] and first["pagination"]["has_next"]
        rest = c.get("/v1/creators", params={"limit": 1, "cursor": first["pagination"]["next_cursor"]}).json()
        assert [x["creator_id"] for x in rest["data"]] == ["space-agency"] and not rest["pagination"]["has_next"]
        assert [x["creator_id"] for x in c.get("/v1/creators", params={"platform": "youtube"}).json()["data"]] == [
            "space-agency"
        ]
        assert [x["creator_id"] for x in c.get("/v1/creators", params={"label": "tbd"}).json()["data"]] == [
            "later-crew"
        ]
        problem(
            c.get("/v1/creators", params={"cursor": first["pagination"]["next_cursor"], "label": "tbd"}),
            422,
            "VALIDATION_ERROR",
        )
        problem(c.get("/v1/creators", params={"platform": "vine"}), 422, "VALIDATION_ERROR")
        days = c.get("/v1/creators/space-agency/daily").json()["data"]
        # the sums of tiktok:nasa's and youtube:esa's followers on the days each has
        assert [(d["day"], d["accounts"], d["followers"], d["followers_share_tiktok"]) for d in days] == [
            ("2026-11-01", 1, 1120, 1.0),
            ("2026-11-02", 2, 1860, 1360 / 1860),
            ("2026-11-03", 1, 1480, 1.0),
        ]
        assert c.get("/v1/creators/later-crew/daily").json() == {"data": []}
        assert "nobody" in problem(c.get("/v1/creators/nobody"), 404, "NOT_FOUND")["detail"]
        problem(c.get("/v1/creators/nobody/daily"), 404, "NOT_FOUND")
        problem(c.get("/v1/creators/%21%21"), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/watched-accounts",
        "/v1/watched-accounts/tiktok:nasa",
        "/v1/watched-accounts/tiktok:nasa/metrics",
        "/v1/creators",
        "/v1/creators/space-agency",
        "/v1/creators/space-agency/daily",
    ],
)
def test_etag_gives_304(api, path):
    with api.client(api.read_key) as c:
        r = c.get(path)
        assert r.status_code == 200 and r.headers["cache-control"] == "private, no-cache"
        again = c.get(path, headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == r.headers["etag"]


def test_before_the_first_build_the_lists_are_empty(tmp_path):
    with api_env(tmp_path), running_api() as api, api.client(api.key("read")) as c:
        assert c.get("/v1/watched-accounts").json()["data"] == []
        assert c.get("/v1/creators").json()["data"] == []
        problem(c.get("/v1/watched-accounts/tiktok:nasa"), 404, "NOT_FOUND")
        problem(c.get("/v1/creators/space-agency/daily"), 404, "NOT_FOUND")
