"""The ytdlp and auto backends end to end: yt-dlp's real extractors for TikTok, YouTube, Instagram and X run
against the fake platform server on 127.0.0.1, their requests going through viewtrail's own HTTP machinery."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

import pytest

from viewtrail.domain.models import Outcome, Platform, VideoToScrape
from viewtrail.platforms import trace
from viewtrail.platforms.base import scrape_sync
from viewtrail.platforms.factory import build_client
from viewtrail.platforms.simulated.client import simulate, video_profile
from viewtrail.platforms.ytdlp.client import AutoClient, YtDlpClient, ytdlp_version
from viewtrail.platforms.ytdlp.routing import Routes, UnroutedHost
from viewtrail.testing.fake_platform import FakePlatformServer
from viewtrail.testing.fake_proxy import FakeForwardProxy

AT = datetime(2026, 11, 22, 12, 30)
TRACKED = AT - timedelta(days=90)
EXTERNAL_ID = {
    Platform.TIKTOK: lambda i: f"72{i:017d}",
    Platform.YOUTUBE: lambda i: f"sim{i:08d}",
    Platform.INSTAGRAM: lambda i: f"C{i:010d}",
    Platform.X: lambda i: f"18{i:017d}",
}
#: What yt-dlp reads per platform, logged out (the rest stays null): docs/platforms.md has the same table.
YTDLP_METRICS = {
    Platform.TIKTOK: ("views", "likes", "comments", "shares", "saves"),
    Platform.YOUTUBE: ("views", "likes", "comments"),
    Platform.INSTAGRAM: ("likes", "comments"),
    Platform.X: ("views", "likes", "comments", "shares"),
}
METRICS = ("views", "likes", "comments", "shares", "saves")


class NoSleep:
    async def __call__(self, seconds: float) -> None:
        return None


def videos(platform: Platform, n: int, *, alive: bool = True) -> list[VideoToScrape]:
    out = []
    for i in range(400 * n):
        ext = EXTERNAL_ID[platform](i)
        gone = video_profile(f"{platform.value}:{ext}").disappears_at(TRACKED)
        if (gone is None or gone > AT + timedelta(days=1)) if alive else (gone is not None and gone < AT):
            out.append(VideoToScrape(f"{platform.value}:{ext}", platform, ext, f"https://example.invalid/{ext}"))
    return out[:n]


def settings(server: FakePlatformServer, platform: Platform, **overrides):
    base = {
        "base_url": server.base_url(platform),
        "x_graphql_base_url": server.base_url(Platform.X) + "/gql",
        "api_key": "test-key",
        "rate_per_min": 1_000_000.0,
        "concurrency": 4,
        "sleep": NoSleep(),
        "backoff_base_s": 0.01,
        "breaker_threshold": 10_000,
    }
    return base | overrides


def client(server, platform, backend="ytdlp", **overrides):
    return build_client(platform, "real", backend=backend, **settings(server, platform, **overrides))


@pytest.fixture
def server():
    with FakePlatformServer(at=AT, tracked_at=TRACKED) as running:
        yield running


@pytest.mark.parametrize("platform", list(Platform))
def test_yt_dlp_reads_each_platform_through_the_fake_server_with_the_native_clients_numbers(server, platform, tmp_path):
    chosen = videos(platform, 4)
    ytdlp = client(server, platform)
    assert isinstance(ytdlp, YtDlpClient)
    with trace.capture() as captured:
        read = {r.attempt.video_id: r for r in scrape_sync(ytdlp, chosen)}
    native = {
        r.attempt.video_id: r
        for r in scrape_sync(client(server, platform, "native", state_dir=tmp_path / "state"), chosen)
    }
    assert captured.requests and all(r.url.startswith("http://127.0.0.1:") for r in captured.requests)
    for video in chosen:
        result, reference = read[video.video_id], native[video.video_id]
        assert result.attempt.outcome is Outcome.OK, result.attempt.detail
        assert result.attempt.source == result.observation.source == "ytdlp"
        assert result.observation.extra["ytdlp_version"] == ytdlp_version()
        assert result.attempt.tries >= 1 and result.attempt.http_status == 200
        state = simulate(video.video_id, AT, tracked_at=TRACKED, fault_rate=0)
        for metric in METRICS:
            expected = getattr(state, metric) if metric in YTDLP_METRICS[platform] else None
            assert getattr(result.observation, metric) == expected, (video.video_id, metric)
            if metric in YTDLP_METRICS[platform]:
                assert getattr(reference.observation, metric) == expected  # the two backends agree
        assert result.observation.posted_at == state.posted_at
        assert result.observation.account == state.account


@pytest.mark.parametrize(
    ("platform", "switch", "outcome"),
    [
        (Platform.TIKTOK, "private_video_ids", Outcome.PRIVATE),
        (Platform.YOUTUBE, "private_video_ids", Outcome.PRIVATE),
        (Platform.X, "private_video_ids", Outcome.PRIVATE),
        (Platform.X, "deleted_video_ids", Outcome.NOT_FOUND),
        # yt-dlp words every TikTok 10204 "Your IP address is blocked": the native parser tells these apart
        (Platform.TIKTOK, "deleted_video_ids", Outcome.BLOCKED),
    ],
)
def test_what_yt_dlp_says_of_an_unreadable_video_becomes_its_outcome(server, platform, switch, outcome):
    [video] = videos(platform, 1)
    server.configure(**{switch: {video.video_id}})
    [result] = scrape_sync(client(server, platform), [video])
    assert result.attempt.outcome is outcome, result.attempt.detail
    assert result.observation is None and result.attempt.detail.startswith("yt-dlp: ")


@pytest.mark.parametrize("platform", [Platform.YOUTUBE, Platform.INSTAGRAM])
def test_a_video_the_platform_no_longer_has_is_not_found(server, platform):
    gone = videos(platform, 1, alive=False)
    [result] = scrape_sync(client(server, platform), gone)
    assert result.attempt.outcome is Outcome.NOT_FOUND, result.attempt.detail


def test_rate_limits_are_retried_by_viewtrail_then_the_breaker_stops_the_platform(server):
    server.configure(fault_rate=1.0, faults=("429",))
    chosen = videos(Platform.TIKTOK, 4)
    results = list(scrape_sync(client(server, Platform.TIKTOK, max_retries=2, breaker_threshold=2, concurrency=1,
                                      max_in_flight=1), chosen))  # fmt: skip
    assert [r.attempt.outcome for r in results] == [Outcome.RATE_LIMITED] * 2 + [Outcome.CIRCUIT_OPEN] * 2
    assert [r.attempt.tries for r in results] == [3, 3, 0, 0]  # yt-dlp's own retries are off: ours count
    assert server.requests["tiktok"] == 6


def test_a_timeout_is_the_requests_own_outcome(server):
    server.configure(fault_rate=1.0, faults=("timeout",), hang_s=5.0)
    [result] = scrape_sync(client(server, Platform.X, timeout_s=0.3, max_retries=0), videos(Platform.X, 1))
    assert result.attempt.outcome is Outcome.TIMEOUT


def test_requests_rotate_over_the_proxies_and_the_attempt_names_the_last(server):
    with FakeForwardProxy() as first, FakeForwardProxy() as second:
        results = list(
            scrape_sync(
                client(server, Platform.TIKTOK, proxies=(first.url, second.url), concurrency=1, max_in_flight=1),
                videos(Platform.TIKTOK, 4),
            )
        )
    assert [r.attempt.outcome for r in results] == [Outcome.OK] * 4
    assert [r.attempt.proxy_index for r in results] == [0, 1, 0, 1]
    assert (first.forwarded, second.forwarded) == (2, 2)


def test_the_cookies_file_goes_with_the_requests_and_is_never_written(server, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(
        "# Netscape HTTP Cookie File\n.tiktok.com\tTRUE\t/\tTRUE\t2000000000\tsid_tt\tcookie-value-0123456789\n"
    )
    os.chmod(cookies, 0o444)  # yt-dlp would fail to save into it; it must not even try
    before = (cookies.read_bytes(), cookies.stat().st_mtime_ns)
    server.configure(record_requests=True)
    [result] = scrape_sync(client(server, Platform.TIKTOK, cookies_file=cookies), videos(Platform.TIKTOK, 1))
    assert result.attempt.outcome is Outcome.OK
    assert "sid_tt=cookie-value-0123456789" in server.received[-1].headers["cookie"]
    assert (cookies.read_bytes(), cookies.stat().st_mtime_ns) == before
    assert list(home.rglob("*")) == []  # no cache, no cookie jar, nothing


def test_instagram_with_a_session_reads_the_logged_in_media_api(server):
    server.configure(record_requests=True)
    [result] = scrape_sync(client(server, Platform.INSTAGRAM, session_id="session-0123456789"),
                           videos(Platform.INSTAGRAM, 1))  # fmt: skip
    assert result.attempt.outcome is Outcome.OK, result.attempt.detail
    assert [r.path.split("/instagram", 1)[1].split("/")[1:4] for r in server.received] == [["api", "v1", "media"]]
    assert "session-0123456789" not in (result.attempt.detail or "")


def test_a_configured_endpoint_confines_yt_dlp_to_it():
    routes = Routes.for_settings(Platform.TIKTOK, settings_for_routes())
    assert (
        routes.outbound("https://www.tiktok.com/@a/video/1?lang=en") == "http://127.0.0.1:9/tiktok/@a/video/1?lang=en"
    )
    assert routes.inbound("http://127.0.0.1:9/tiktok/login?x=1", "https://www.tiktok.com/@a/video/1") == (
        "https://www.tiktok.com/login?x=1"
    )
    with pytest.raises(UnroutedHost):
        routes.outbound("https://api16-normal-c-useast1a.tiktokv.com/aweme/v1/feed/")
    production = Routes.for_settings(Platform.TIKTOK, build_client_settings(Platform.TIKTOK))
    assert production.outbound("https://anything.example/x") == "https://anything.example/x"


def settings_for_routes():
    return build_client_settings(Platform.TIKTOK, base_url="http://127.0.0.1:9/tiktok")


def build_client_settings(platform: Platform, **overrides):
    from viewtrail.platforms.base import default_settings

    return default_settings(platform, **overrides)


def test_youtube_without_an_api_key_is_read_from_its_watch_page(server, monkeypatch):
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    monkeypatch.delenv("VIEWTRAIL_YOUTUBE_BACKEND", raising=False)
    chosen = videos(Platform.YOUTUBE, 2)
    youtube = build_client("youtube", "real", **(settings(server, Platform.YOUTUBE) | {"api_key": None}))
    assert isinstance(youtube, YtDlpClient)
    server.configure(record_requests=True)
    results = list(scrape_sync(youtube, chosen))
    assert [r.attempt.outcome for r in results] == [Outcome.OK] * 2
    paths = [r.path for r in server.received]
    assert "/youtube/videos" not in paths  # the Data API is not asked
    assert sorted(paths) == sorted(["/youtube/watch", "/youtube/youtubei/v1/player"] * 2)  # 2 requests per video
    assert not any("x-goog-api-key" in r.headers for r in server.received)


def test_auto_falls_back_to_yt_dlp_for_a_video_whose_page_changed(server):
    changed, unchanged = videos(Platform.TIKTOK, 2)
    server.configure(changed_page_ids={changed.video_id})
    [native] = scrape_sync(client(server, Platform.TIKTOK, "native"), [changed])
    assert native.attempt.outcome is Outcome.PARSE_ERROR  # viewtrail's parser refuses the new format
    auto = client(server, Platform.TIKTOK, "auto")
    assert isinstance(auto, AutoClient)
    with trace.capture() as captured:
        results = {r.attempt.video_id: r for r in scrape_sync(auto, [changed, unchanged])}
    fell_back, kept = results[changed.video_id], results[unchanged.video_id]
    assert fell_back.attempt.outcome is Outcome.OK
    assert fell_back.attempt.source == fell_back.observation.source == "ytdlp"
    assert fell_back.attempt.detail.startswith("read by yt-dlp after the native parser failed (itemStruct.stats")
    assert fell_back.attempt.tries == 2  # the native page, then yt-dlp's
    state = simulate(changed.video_id, AT, tracked_at=TRACKED, fault_rate=0)
    assert (fell_back.observation.views, fell_back.observation.saves) == (state.views, state.saves)
    assert (kept.attempt.outcome, kept.attempt.source, kept.attempt.detail) == (Outcome.OK, "tiktok_web", None)
    assert captured.events == ["fallback:ytdlp"]


def test_auto_says_what_both_found_when_yt_dlp_fails_too(server):
    [video] = videos(Platform.TIKTOK, 1)
    server.configure(fault_rate=1.0, faults=("malformed",))  # a page neither parser can read
    [result] = scrape_sync(client(server, Platform.TIKTOK, "auto"), [video])
    assert result.attempt.outcome is Outcome.PARSE_ERROR
    assert result.attempt.detail.startswith("native parser: __UNIVERSAL_DATA_FOR_REHYDRATION__ is not valid JSON")
    assert "; yt-dlp: " in result.attempt.detail and result.attempt.source == "ytdlp"
    assert server.requests["tiktok"] == 2


def test_an_abandoned_scrape_leaves_no_extraction_running(server):
    stream = scrape_sync(client(server, Platform.X, concurrency=2), videos(Platform.X, 6))
    first = next(iter(stream))
    stream.close()  # the client's loop closes: pending extractions stop at their next request
    assert first.attempt.outcome is Outcome.OK
    for thread in threading.enumerate():
        if thread.name.startswith("ytdlp-"):
            thread.join()  # a worker left waiting for an answer would hang here (pytest-timeout fails it)


def test_the_warehouse_records_source_ytdlp_and_no_secret(server, warehouse_path):
    from viewtrail.warehouse import open_warehouse, write_scrape_results

    secret = "session-SECRET-0123456789"
    chosen = videos(Platform.INSTAGRAM, 2)
    results = list(scrape_sync(client(server, Platform.INSTAGRAM, session_id=secret), chosen, run_id="r1"))
    with open_warehouse() as con:
        write_scrape_results(con, results, run_id="r1")
        snapshots = con.sql("SELECT video_id, source FROM raw.snapshots").fetchall()
        attempts = con.sql("SELECT video_id, outcome, source, detail FROM raw.scrape_attempts ORDER BY 1").fetchall()
    assert sorted(snapshots) == [(v.video_id, "ytdlp") for v in chosen]
    assert [(video_id, outcome, source) for video_id, outcome, source, _ in attempts] == [
        (v.video_id, "ok", "ytdlp") for v in chosen
    ]
    assert secret not in repr(attempts) + repr(results)


def test_an_impersonating_client_sends_yt_dlps_requests_with_the_browsers_fingerprint(server):
    server.configure(record_requests=True)
    chrome = client(server, Platform.TIKTOK, impersonate="chrome")
    with trace.capture():
        [result] = scrape_sync(chrome, videos(Platform.TIKTOK, 1))
    assert result.attempt.outcome is Outcome.OK, result.attempt.detail
    agent = server.received[-1].headers["user-agent"]
    assert "Chrome/" in agent and "Chrome/131" not in agent  # curl_cffi's profile, not httpx's nor yt-dlp's
    reading = chrome.reader  # the extractor's impersonate=True request was claimed: no "no target" warning
    ydl = reading.extractions._idle.get_nowait()
    assert not any("impersonat" in w for w in ydl.viewtrail_logger.warnings)


def test_yt_dlp_solves_tiktoks_challenge_page_through_viewtrails_requests(server):
    server.configure(tiktok_challenge="cookieless")
    [result] = scrape_sync(client(server, Platform.TIKTOK), videos(Platform.TIKTOK, 1))
    assert result.attempt.outcome is Outcome.OK, result.attempt.detail
    assert result.attempt.tries == 2  # the challenge page, then the page with yt-dlp's answer in its cookies
    assert server.faults_served["tiktok_challenge"] == 1


def test_the_pipeline_reads_a_keyless_youtube_through_yt_dlp(tmp_path, monkeypatch):
    from dagster import materialize

    from orchestration.defs.assets import assets_of
    from orchestration.defs.resources import PlatformClientsResource, WarehouseResource
    from viewtrail.domain.urls import parse_video_url
    from viewtrail.warehouse import open_warehouse, track_refs

    for name in ("YOUTUBE_API_KEY", "VIEWTRAIL_YOUTUBE_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    warehouse = WarehouseResource(
        path=str(tmp_path / "warehouse.duckdb"),
        analytics_path=str(tmp_path / "analytics.duckdb"),
        marts_export_dir=str(tmp_path / "marts"),
    )
    ref = parse_video_url("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    now = datetime.now(UTC).replace(tzinfo=None)
    with open_warehouse(warehouse.path) as con:
        track_refs(con, [ref], now=now - timedelta(days=1))
    with FakePlatformServer() as running:
        platforms = PlatformClientsResource(
            modes={"youtube": "real"}, base_urls={"youtube": running.base_url("youtube")}
        )
        result = materialize(
            assets_of(Platform.YOUTUBE),
            partition_key=(now - timedelta(hours=1)).strftime("%Y-%m-%d-%H:00"),
            resources={"warehouse": warehouse, "platforms": platforms},
            run_config={"ops": {"plans__youtube": {"config": {"video_ids": [ref.video_id]}}}},
        )
    assert result.success
    with open_warehouse(warehouse.path, read_only=True) as con:
        stored = con.sql("SELECT video_id, source, views IS NOT NULL FROM raw.snapshots").fetchall()
    assert stored == [(ref.video_id, "ytdlp", True)]


def test_x_rate_limiting_its_graphql_route_sends_yt_dlp_to_syndication_with_fewer_counts(server):
    server.configure(x_graphql_rate_limited=True)
    [video] = videos(Platform.X, 1)
    [result] = scrape_sync(client(server, Platform.X, max_retries=1), [video])
    assert result.attempt.outcome is Outcome.OK, result.attempt.detail
    state = simulate(video.video_id, AT, tracked_at=TRACKED, fault_rate=0)
    observation = result.observation
    # yt-dlp reads likes and reposts from syndication; its views are under video.viewCount, which yt-dlp skips
    assert (observation.likes, observation.shares) == (state.likes, state.shares)
    assert (observation.views, observation.comments) == (None, None)
    assert result.attempt.tries == 1 + 2 + 1  # guest token, GraphQL and its retry, syndication
