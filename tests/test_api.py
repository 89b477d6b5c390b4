"""The HTTP API, served for real by uvicorn on 127.0.0.1 and exercised with httpx."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import duckdb
import pytest
from api_support import api_env, problem, running_api

RICK = "https://youtu.be/dQw4w9WgXcQ"
RICK_ID = "youtube:dQw4w9WgXcQ"


@pytest.fixture
def api(tmp_path):
    with api_env(tmp_path, VIEWTRAIL_API_RATE_PER_MIN="100000") as data, running_api() as server:
        server.data = data
        yield server


def test_health_openapi_and_docs_need_no_key(api):
    with api.client() as c:
        assert c.get("/v1/health").json() == {"status": "ok", "analytics_copy": False}
        schema = c.get("/v1/openapi.json").json()
        assert schema["openapi"].startswith("3.1")
        assert {
            "/v1/videos",
            "/v1/videos/{video_id}",
            "/v1/videos/bulk",
            "/v1/videos/bulk-stop",
            "/v1/labels",
            "/v1/status",
            "/v1/health",
            "/v1/videos/{video_id}/history",
            "/v1/accounts/{account}/daily",
            "/v1/watched-accounts",
            "/v1/watched-accounts/{account_id}",
            "/v1/watched-accounts/{account_id}/metrics",
            "/v1/creators",
            "/v1/creators/{creator_id}",
            "/v1/creators/{creator_id}/daily",
        } <= set(schema["paths"])
        assert c.get("/docs").status_code == 200


def test_auth_scopes_request_id_and_rate_headers(api):
    read, write = api.key("read"), api.key("write")
    with api.client() as c:
        problem(c.get("/v1/videos"), 401, "UNAUTHORIZED")
        problem(c.get("/v1/videos", headers={"Authorization": "Bearer vt_nope"}), 401, "UNAUTHORIZED")
        r = c.get("/v1/videos", headers={"Authorization": f"Bearer {read}", "X-Request-ID": "abc-123"})
        assert r.status_code == 200 and r.headers["x-request-id"] == "abc-123"
        assert r.headers["x-ratelimit-limit"] == "100000" and int(r.headers["x-ratelimit-remaining"]) < 100000
        assert "x-ratelimit-reset" in r.headers
        body = problem(
            c.post("/v1/videos", json={"url": RICK}, headers={"Authorization": f"Bearer {read}"}),
            403,
            "INSUFFICIENT_SCOPE",
        )
        assert read not in json.dumps(body)
        assert c.post("/v1/videos", json={"url": RICK}, headers={"Authorization": f"Bearer {write}"}).status_code == 201
    [record] = [k for k in api.store.list_keys() if k.scope.value == "read"]
    api.store.revoke_key(record.id)
    with api.client(read) as c:
        assert "revoked" in problem(c.get("/v1/videos"), 401, "UNAUTHORIZED")["detail"]


def test_create_get_list_and_validation(api):
    with api.client(api.key()) as c:
        r = c.post("/v1/videos", json={"url": RICK, "labels": ["launch"], "metadata": {"client": "acme"}})
        assert r.status_code == 201 and r.headers["location"] == f"/v1/videos/{RICK_ID}"
        video = r.json()["data"]
        assert (
            video["video_id"] == RICK_ID and video["labels"] == ["launch"] and video["metadata"] == {"client": "acme"}
        )
        assert video["latest"] is None and video["growth"] is None and video["added_at"].endswith("Z")
        again = c.post("/v1/videos", json={"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=3"})
        assert again.status_code == 200 and again.json()["data"]["video_id"] == RICK_ID
        assert c.get(f"/v1/videos/{RICK_ID}").json()["data"]["video_id"] == RICK_ID
        assert c.get("/v1/videos/" + quote(RICK, safe="")).json()["data"]["video_id"] == RICK_ID
        assert [v["video_id"] for v in c.get("/v1/videos").json()["data"]] == [RICK_ID]
        body = problem(c.post("/v1/videos", json={"url": "https://example.com/video/1"}), 422, "VALIDATION_ERROR")
        assert body["errors"][0]["field"] == "url" and "unsupported host" in body["errors"][0]["message"]
        body = problem(c.post("/v1/videos", json={"url": RICK, "cadence": "0"}), 422, "VALIDATION_ERROR")
        assert body["errors"][0]["field"] == "cadence"
        problem(
            c.post("/v1/videos", content=b"{not json", headers={"content-type": "application/json"}), 400, "BAD_REQUEST"
        )
        problem(c.get("/v1/videos/youtube:aaaaaaaaaaa"), 404, "NOT_FOUND")
        problem(c.get("/v1/nowhere"), 404, "NOT_FOUND")


def test_cursor_pagination_total_and_link(api):
    with api.client(api.key()) as c:
        urls = [f"x:{1000 + i}" for i in range(7)]
        results = c.post("/v1/videos/bulk", json={"urls": [*urls, "not a url"], "labels": ["b"]}).json()["data"]
        assert [r["status"] for r in results] == ["created"] * 7 + ["invalid"] and results[7]["index"] == 7
        seen, cursor, pages = [], None, 0
        while True:
            params = {"limit": 3, "include_total": "true", "label": "b"} | ({"cursor": cursor} if cursor else {})
            r = c.get("/v1/videos", params=params)
            body = r.json()
            assert body["pagination"]["total_count"] == 7 and body["pagination"]["limit"] == 3
            seen += [v["video_id"] for v in body["data"]]
            pages += 1
            cursor = body["pagination"]["next_cursor"]
            assert body["pagination"]["has_next"] is (cursor is not None)
            if cursor is None:
                assert "link" not in r.headers
                break
            assert 'rel="next"' in r.headers["link"]
            if pages == 1:
                first_cursor = cursor
        assert seen == sorted(urls) and pages == 3
        body = problem(c.get("/v1/videos", params={"cursor": first_cursor, "platform": "x"}), 422, "VALIDATION_ERROR")
        assert body["errors"][0]["field"] == "cursor"
        problem(c.get("/v1/videos", params={"limit": 0}), 422, "VALIDATION_ERROR")


def test_pages_of_a_published_copy_walk_the_registry_in_id_order_with_the_overlay(api):
    """The copy's registry is stored in id order and a page is read from the cursor's row on: every walk through
    the pages, filtered or not, gives each matching video once in id order, with the writes since the publish
    (a video created between the copy's ids, one relabelled, one deleted), as a copy without that order does."""
    from viewtrail.pipeline.publish import publish
    from viewtrail.warehouse.connection import open_warehouse

    def walk(c, **filters: str) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            body = c.get("/v1/videos", params={"limit": 2, **filters, **({"cursor": cursor} if cursor else {})}).json()
            seen += [v["video_id"] for v in body["data"]]
            cursor = body["pagination"]["next_cursor"]
            if cursor is None:
                return seen

    # registered in no id order, over three platforms, every third labelled
    ids = [f"x:{1009 - i}" for i in range(5)] + [f"tiktok:72345678901234567{i:02d}" for i in (7, 3, 5, 1)]
    ids += [f"youtube:aaaaaaaaa{i:02d}" for i in (4, 2, 9)]
    with api.client(api.key()) as c:
        for i, video_id in enumerate(ids):
            c.post("/v1/videos", json={"url": video_id, "labels": ["b"] if i % 3 == 0 else []})
        with open_warehouse(api.data / "warehouse.duckdb") as con:
            publish(con)
        with duckdb.connect(str(api.data / "analytics.duckdb"), read_only=True) as con:
            stored = [r[0] for r in con.execute("SELECT video_id FROM registry.videos ORDER BY rowid").fetchall()]
        assert stored == sorted(ids)
        # after the publish: a video between the copy's ids (in the overlay only), a relabel, a delete
        c.post("/v1/videos", json={"url": "tiktok:7234567890123456704", "labels": ["b"]})
        c.patch("/v1/videos/x:1006", json={"labels": ["b"]})
        c.delete("/v1/videos/tiktok:7234567890123456703")
        live = sorted({*ids, "tiktok:7234567890123456704"} - {"tiktok:7234567890123456703"})
        labelled = sorted(
            ({ids[i] for i in range(0, len(ids), 3)} | {"tiktok:7234567890123456704", "x:1006"})
            - {"tiktok:7234567890123456703"}
        )
        walks = {
            "all": walk(c),
            "tiktok": walk(c, platform="tiktok"),
            "b": walk(c, label="b"),
        }
        assert walks == {"all": live, "tiktok": [v for v in live if v.startswith("tiktok:")], "b": labelled}
        with duckdb.connect(str(api.data / "analytics.duckdb")) as con:
            con.execute("DROP TABLE meta.copy_order")  # as a copy published before its registry was ordered
        assert {"all": walk(c), "tiktok": walk(c, platform="tiktok"), "b": walk(c, label="b")} == walks


def test_etag_and_304(api):
    with api.client(api.key()) as c:
        c.post("/v1/videos", json={"url": RICK})
        r = c.get(f"/v1/videos/{RICK_ID}")
        etag = r.headers["etag"]
        assert etag.startswith('"') and r.headers["cache-control"] == "private, no-cache"
        again = c.get(f"/v1/videos/{RICK_ID}", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        c.patch(f"/v1/videos/{RICK_ID}", json={"labels": ["new"]})
        assert c.get(f"/v1/videos/{RICK_ID}", headers={"If-None-Match": etag}).status_code == 200


def test_patch_stop_bulk_stop_scrape_delete_labels_status(api):
    with api.client(api.key()) as c:
        c.post("/v1/videos/bulk", json={"urls": [RICK, "x:1", "x:2"], "labels": ["l1"]})
        v = c.patch(
            f"/v1/videos/{RICK_ID}",
            json={
                "labels": ["a", "b"],
                "metadata": {"k": "v"},
                "cadence": 6,
                "track_until": "2030-01-01T00:00:00+02:00",
            },
        ).json()["data"]
        assert v["labels"] == ["a", "b"] and v["metadata"] == {"k": "v"} and v["cadence"] == "6"
        assert v["track_until"] == "2029-12-31T22:00:00Z"
        v = c.patch(f"/v1/videos/{RICK_ID}", json={"metadata": {"k": None, "j": 1}, "track_until": None}).json()["data"]
        assert v["metadata"] == {"j": 1} and v["track_until"] is None
        problem(c.patch(f"/v1/videos/{RICK_ID}", json={"colour": "red"}), 422, "VALIDATION_ERROR")
        stopped = c.post("/v1/videos/x:1/stop").json()["data"]
        assert stopped["is_active"] is False and stopped["stopped_at"]
        assert c.patch("/v1/videos/x:1", json={"is_active": True}).json()["data"]["is_active"] is True
        results = c.post("/v1/videos/bulk-stop", json={"ids": ["x:1", "x:2", "x:2", "x:999", "nonsense"]}).json()[
            "data"
        ]
        assert [r["status"] for r in results] == ["stopped", "stopped", "stopped", "unknown", "unknown"]
        assert [r["video_id"] for r in results] == ["x:1", "x:2", "x:2", "x:999", None]
        r = c.post(f"/v1/videos/{RICK_ID}/scrape")
        assert r.status_code == 202 and r.json()["data"]["video_ids"] == [RICK_ID]
        assert list((api.data / "queue" / "rescrape").glob("*.json"))
        labels = {row["label"]: row for row in c.get("/v1/labels").json()["data"]}
        assert labels["l1"]["videos"] == 2 and labels["a"]["videos"] == 1
        problem(c.get("/v1/labels/nolabel/daily"), 404, "NOT_FOUND")
        assert c.get("/v1/labels/a/daily").json() == {"data": []}  # no marts before the first build
        platforms = {p["platform"]: p for p in c.get("/v1/status").json()["data"]["platforms"]}
        assert set(platforms) == {"tiktok", "youtube", "instagram", "x"}
        assert c.delete("/v1/videos/x:2").json()["data"] == {"video_id": "x:2", "deleted": True, "snapshots_deleted": 0}
        problem(c.get("/v1/videos/x:2"), 404, "NOT_FOUND")
        assert c.get(f"/v1/videos/{RICK_ID}/history").json() == {"data": []}
        assert c.get(f"/v1/videos/{RICK_ID}/snapshots").json()["data"] == []


def test_reads_follow_the_published_copy_and_the_overlay_gives_way(api):
    with api.client(api.key()) as c:
        c.post("/v1/videos", json={"url": RICK, "labels": ["x"]})
        assert api.store.overlay()
        # publish: the analyst copy becomes a copy of the warehouse, with a mart the API reads
        analytics = api.data / "analytics.duckdb"
        con = duckdb.connect(str(analytics))
        con.execute(f"ATTACH '{api.data / 'warehouse.duckdb'}' AS w (READ_ONLY); COPY FROM DATABASE w TO analytics")
        con.execute("DETACH w; CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE marts.video_daily AS SELECT 'youtube:dQw4w9WgXcQ' AS video_id, DATE '2025-01-01' AS day,"
            " 10::BIGINT AS views, 1::BIGINT AS likes, 0::BIGINT AS comments, NULL::BIGINT AS shares,"
            " NULL::BIGINT AS saves, NULL::BIGINT AS views_gained, NULL::BIGINT AS likes_gained,"
            " NULL::BIGINT AS comments_gained, NULL::BIGINT AS shares_gained, NULL::BIGINT AS saves_gained,"
            " 2 AS observations, false AS is_interpolated"
        )
        con.close()
        assert c.get(f"/v1/videos/{RICK_ID}").json()["data"]["labels"] == ["x"]
        assert api.store.overlay() == {}  # the copy caught up: the overlay entry is gone
        assert c.get(f"/v1/videos/{RICK_ID}/history").json()["data"][0] == {
            "day": "2025-01-01",
            "views": 10,
            "likes": 1,
            "comments": 0,
            "shares": None,
            "saves": None,
            "views_gained": None,
            "likes_gained": None,
            "comments_gained": None,
            "shares_gained": None,
            "saves_gained": None,
            "observations": 2,
            "is_interpolated": False,
        }
        # a write after the publish is visible at once again, a delete hides the copy's row
        assert c.patch(f"/v1/videos/{RICK_ID}", json={"labels": ["y"]}).json()["data"]["labels"] == ["y"]
        assert c.get("/v1/videos", params={"label": "y"}).json()["data"][0]["video_id"] == RICK_ID
        assert c.get("/v1/videos", params={"label": "x"}).json()["data"] == []
        c.delete(f"/v1/videos/{RICK_ID}")
        assert c.get("/v1/videos").json()["data"] == []


def test_idempotency_50_concurrent_posts_create_one_video(api):
    key = api.key()
    body = {"url": "https://www.tiktok.com/@scout2015/video/6718335390845095173", "labels": ["once"]}

    def post(_: int):
        with api.client(key) as c:
            r = c.post("/v1/videos", json=body, headers={"Idempotency-Key": "k-1"})
            return r.status_code, r.content

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(post, range(50)))
    assert {status for status, _ in responses} == {201}
    assert len({content for _, content in responses}) == 1
    with duckdb.connect(str(api.data / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM registry.videos").fetchall() == [(1,)]
    with api.client(key) as c:
        problem(
            c.post("/v1/videos", json={**body, "labels": ["other"]}, headers={"Idempotency-Key": "k-1"}),
            409,
            "CONFLICT",
        )
    api.stop()
    with running_api() as restarted, restarted.client(key) as c:  # another process would read the same store
        r = c.post("/v1/videos", json=body, headers={"Idempotency-Key": "k-1"})
        assert (r.status_code, r.content) == responses[0] and r.headers["idempotent-replayed"] == "true"
        assert c.post("/v1/videos", json=body, headers={"Idempotency-Key": "k-2"}).status_code == 200


def test_rate_limit(tmp_path):
    with api_env(tmp_path, VIEWTRAIL_API_RATE_PER_MIN="3"), running_api() as api, api.client(api.key()) as c:
        statuses = [c.get("/v1/videos") for _ in range(4)]
        assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
        body = problem(statuses[3], 429, "RATE_LIMITED")
        assert int(statuses[3].headers["retry-after"]) >= 1 and statuses[3].headers["x-ratelimit-remaining"] == "0"
        assert "3 requests" in body["detail"]


def test_busy_warehouse_is_503_with_retry_after(tmp_path):
    with api_env(tmp_path, VIEWTRAIL_LOCK_TIMEOUT_S="0.5") as data, running_api() as api:
        warehouse = data / "warehouse.duckdb"
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                textwrap.dedent(f"""
                import duckdb, sys, time
                con = duckdb.connect({str(warehouse)!r})
                print("locked", flush=True)
                sys.stdin.readline()
            """),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "locked"
            with api.client(api.key()) as c:
                r = c.post("/v1/videos", json={"url": RICK})
                problem(r, 503, "SERVICE_UNAVAILABLE")
                assert int(r.headers["retry-after"]) >= 1
                assert c.get("/v1/videos").status_code == 200  # reads never wait for the warehouse
        finally:
            holder.communicate("\n", timeout=30)
        with api.client(api.key()) as c:
            assert c.post("/v1/videos", json={"url": RICK}).status_code == 201


def test_a_key_never_appears_in_plain(api, caplog):
    key = api.key()
    caplog.set_level(logging.DEBUG)
    with api.client(key) as c:
        c.post("/v1/videos", json={"url": RICK})
        texts = [
            c.get("/v1/videos").text,
            c.post("/v1/videos", json={"url": "nope"}).text,
            c.get("/v1/videos/nope").text,
            c.get("/v1/nowhere").text,
        ]
    api.stop()
    assert all(key not in text for text in texts)
    assert key not in caplog.text
    for path in api.data.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_a_500_leaks_no_traceback(api, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(api.app.state.service, "labels", boom)
    with api.client(api.key()) as c:
        r = c.get("/v1/labels")
    body = problem(r, 500, "INTERNAL_ERROR")
    assert "secret internals" not in r.text and "Traceback" not in r.text and body["request_id"] in body["detail"]


def test_days_and_labels_out_of_bounds_are_422_problem_details_not_500(api):
    with api.client(api.key()) as c:
        body = problem(c.post("/v1/videos", json={"url": RICK, "days": 10000000}), 422, "VALIDATION_ERROR")
        assert body["errors"][0]["field"] == "days" and "3650" in body["errors"][0]["message"]
        problem(c.post("/v1/videos", json={"url": RICK, "days": 0}), 422, "VALIDATION_ERROR")
        problem(c.post("/v1/videos/bulk", json={"urls": [RICK], "days": 3651}), 422, "VALIDATION_ERROR")
        body = problem(c.post("/v1/videos", json={"url": RICK, "labels": ["x" * 101]}), 422, "VALIDATION_ERROR")
        assert body["errors"][0]["field"] == "labels.0"
        problem(c.post("/v1/videos", json={"url": RICK, "labels": ["a\nb"]}), 422, "VALIDATION_ERROR")
        assert c.post("/v1/videos", json={"url": RICK, "days": 3650, "labels": ["y" * 100]}).status_code == 201
