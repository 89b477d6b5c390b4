"""The real clients against the fake platform server: values equal the simulation; each fault maps to its outcome."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fixtures.platform_support import SleepRecorder

from viewtrail.domain.models import Outcome, Platform, ScrapeResult, VideoToScrape
from viewtrail.platforms.base import scrape_sync
from viewtrail.platforms.factory import build_client
from viewtrail.platforms.instagram.client import shortcode_to_pk
from viewtrail.platforms.simulated.client import simulate, video_profile
from viewtrail.testing.fake_platform import FAULTS, FakePlatformServer

AT = datetime(2026, 11, 22, 12, 30)
#: The simulated videos count as tracked since (they were posted before it).
TRACKED = AT - timedelta(days=90)
METRICS = ("views", "likes", "comments", "shares", "saves", "account", "posted_at", "duration_s", "title")


def external_ids(platform: Platform, n: int, start: int = 0) -> list[str]:
    make = {
        Platform.YOUTUBE: lambda i: f"sim{i:08d}",
        Platform.TIKTOK: lambda i: f"72{i:017d}",
        Platform.INSTAGRAM: lambda i: f"C{i:010d}",
        Platform.X: lambda i: f"18{i:017d}",
    }[platform]
    return [make(i) for i in range(start, start + n)]


def videos(platform: Platform, exts: list[str]) -> list[VideoToScrape]:
    return [VideoToScrape(f"{platform.value}:{e}", platform, e, f"https://example.invalid/{e}") for e in exts]


def real_client(server: FakePlatformServer, platform: Platform, tmp_path: Path, **overrides):
    settings = {
        "base_url": server.base_url(platform),
        "api_key": "test-key",
        "rate_per_min": 1_000_000.0,
        "concurrency": 16,
        "sleep": SleepRecorder(),
        "backoff_base_s": 0.01,
        "state_dir": tmp_path / "state",
        "breaker_threshold": 10_000,
    }
    settings.update(overrides)
    return build_client(platform, "real", **settings)


def scrape(server, platform, exts, tmp_path, **overrides) -> list[ScrapeResult]:
    return list(scrape_sync(real_client(server, platform, tmp_path, **overrides), videos(platform, exts)))


def alive(platform: Platform, n: int) -> list[str]:
    return [
        e
        for e in external_ids(platform, 4 * n)
        if video_profile(f"{platform.value}:{e}").disappears_at(TRACKED) is None
        or video_profile(f"{platform.value}:{e}").disappears_at(TRACKED) > AT + timedelta(days=1)
    ][:n]


@pytest.mark.parametrize("platform", list(Platform))
def test_real_client_reads_exactly_the_simulated_values(platform, tmp_path):
    exts = alive(platform, 12)
    with FakePlatformServer(at=AT, tracked_at=TRACKED) as server:
        results = scrape(server, platform, exts, tmp_path)
    assert sorted(r.attempt.video_id for r in results) == sorted(f"{platform.value}:{e}" for e in exts)
    for result in results:
        assert result.attempt.outcome is Outcome.OK, result.attempt.detail
        state = simulate(result.attempt.video_id, AT, tracked_at=TRACKED, fault_rate=0)
        observation = result.observation
        assert {m: getattr(observation, m) for m in METRICS} == {m: getattr(state, m) for m in METRICS}


def test_wall_clock_answers_match_the_simulation_within_the_elapsed_time(tmp_path):
    exts = alive(Platform.TIKTOK, 10)
    with FakePlatformServer() as server:
        results = scrape(server, Platform.TIKTOK, exts, tmp_path)
    for result in results:
        assert result.attempt.outcome is Outcome.OK
        earlier = simulate(
            result.attempt.video_id,
            result.attempt.attempted_at - timedelta(seconds=2),
            tracked_at=server.tracked_at,
            fault_rate=0,
        )
        later = simulate(
            result.attempt.video_id,
            result.observation.observed_at + timedelta(seconds=2),
            tracked_at=server.tracked_at,
            fault_rate=0,
        )
        # Views may be ~1% low in a correction hour; engagement follows the uncorrected curve.
        assert min(earlier.views, later.views) * 0.98 <= result.observation.views <= max(earlier.views, later.views)
        assert earlier.likes <= result.observation.likes <= later.likes


@pytest.mark.parametrize("platform", list(Platform))
def test_disappeared_videos_are_not_found(platform, tmp_path):
    gone = [
        e
        for e in external_ids(platform, 3000)
        if (when := video_profile(f"{platform.value}:{e}").disappears_at(TRACKED)) is not None and when < AT
    ][:3]
    assert gone
    with FakePlatformServer(at=AT, tracked_at=TRACKED) as server:
        results = scrape(server, platform, gone + alive(platform, 2), tmp_path)
    outcomes = {r.attempt.video_id.split(":", 1)[1]: r.attempt.outcome for r in results}
    assert [outcomes[e] for e in gone] == [Outcome.NOT_FOUND] * len(gone)
    assert list(outcomes.values()).count(Outcome.OK) == 2


EXPECTED = {
    "429": dict.fromkeys(Platform, Outcome.RATE_LIMITED),
    "5xx": dict.fromkeys(Platform, Outcome.UPSTREAM_ERROR),
    "timeout": dict.fromkeys(Platform, Outcome.TIMEOUT),
    "malformed": dict.fromkeys(Platform, Outcome.PARSE_ERROR),
    "challenge": {
        Platform.TIKTOK: Outcome.BLOCKED,
        Platform.INSTAGRAM: Outcome.BLOCKED,
        Platform.X: Outcome.BLOCKED,
        Platform.YOUTUBE: Outcome.UPSTREAM_ERROR,
    },
    "login": {
        Platform.TIKTOK: Outcome.LOGIN_REQUIRED,
        Platform.INSTAGRAM: Outcome.BLOCKED,
        Platform.X: Outcome.BLOCKED,
        Platform.YOUTUBE: Outcome.UPSTREAM_ERROR,
    },
}


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_switch_maps_to_its_outcome(fault, tmp_path):
    with FakePlatformServer(at=AT, tracked_at=TRACKED, fault_rate=1.0, faults=(fault,), hang_s=3.0) as server:
        for platform in Platform:
            # Only the timeout fault gets a short client timeout: a slow machine must not turn 429s into timeouts.
            timeout_s = 0.3 if fault == "timeout" else 20.0
            results = scrape(server, platform, alive(platform, 3), tmp_path, max_retries=0, timeout_s=timeout_s)
            assert {r.attempt.outcome for r in results} == {EXPECTED[fault][platform]}, (platform, results[0])
            assert all(r.observation is None for r in results)
        server.configure(fault_rate=0.0)  # switches change at runtime: the same server now answers
        assert {r.attempt.outcome for r in scrape(server, Platform.X, alive(Platform.X, 2), tmp_path)} == {Outcome.OK}


def test_429_retry_after_is_honoured_and_retries_recover(tmp_path):
    sleep = SleepRecorder()
    with FakePlatformServer(at=AT, tracked_at=TRACKED, fault_rate=0.5, faults=("429",), retry_after_s=2) as server:
        results = scrape(server, Platform.TIKTOK, alive(Platform.TIKTOK, 20), tmp_path, max_retries=8, sleep=sleep)
        served = server.faults_served["429"]
    assert served > 0 and sleep.waits == [2.0] * served  # every 429 was retried after exactly Retry-After
    assert {r.attempt.outcome for r in results} == {Outcome.OK}
    assert sum(r.attempt.tries for r in results) == 20 + served


def test_youtube_quota_switch_stops_youtube(tmp_path):
    with FakePlatformServer(at=AT, tracked_at=TRACKED) as server:
        server.configure(youtube_quota_exceeded=True)
        results = scrape(
            server,
            Platform.YOUTUBE,
            alive(Platform.YOUTUBE, 120),
            tmp_path,
            batch_size=50,
            concurrency=1,
            max_in_flight=1,
        )
        assert {r.attempt.outcome for r in results} == {Outcome.QUOTA_EXHAUSTED}
        assert server.requests["youtube"] == 1  # later batches never reached the server


def test_youtube_needs_the_api_key_header(tmp_path):
    with FakePlatformServer(at=AT, tracked_at=TRACKED) as server:
        response = httpx.get(server.base_url("youtube") + "/videos", params={"id": "sim00000001", "part": "id"})
    assert response.status_code == 400 and response.json()["error"]["errors"][0]["reason"] == "keyInvalid"


def test_instagram_session_uses_the_media_api(tmp_path):
    exts = alive(Platform.INSTAGRAM, 4)
    with FakePlatformServer(at=AT, tracked_at=TRACKED) as server:
        results = scrape(server, Platform.INSTAGRAM, exts, tmp_path, session_id="fake-session")
        assert server.requests["instagram"] == len(exts)  # one API call each, no page fallback
    for result in results:
        state = simulate(result.attempt.video_id, AT, tracked_at=TRACKED, fault_rate=0)
        assert result.attempt.outcome is Outcome.OK
        assert (result.observation.views, result.observation.likes) == (state.views, state.likes)
        assert result.observation.extra["pk"] == str(shortcode_to_pk(result.attempt.video_id.split(":")[1]))


def test_private_videos_answer_each_platforms_private_shape(tmp_path):
    expected = {
        Platform.TIKTOK: Outcome.PRIVATE,
        Platform.X: Outcome.PRIVATE,
        Platform.INSTAGRAM: Outcome.LOGIN_REQUIRED,
        Platform.YOUTUBE: Outcome.NOT_FOUND,
    }
    with FakePlatformServer(at=AT, tracked_at=TRACKED) as server:
        for platform, outcome in expected.items():
            exts = alive(platform, 2)
            server.configure(private_video_ids=frozenset({f"{platform.value}:{exts[0]}"}))
            results = {r.attempt.video_id: r.attempt.outcome for r in scrape(server, platform, exts, tmp_path)}
            assert results == {f"{platform.value}:{exts[0]}": outcome, f"{platform.value}:{exts[1]}": Outcome.OK}


def test_bad_switches_are_refused():
    with pytest.raises(ValueError, match="unknown fault kinds"):
        FakePlatformServer(faults=("429", "meteor"))
    server = FakePlatformServer()
    with pytest.raises(TypeError, match="unknown fake platform switches"):
        server.configure(latency=3)
    with pytest.raises(RuntimeError, match="not running"):
        server.base_url("x")


def test_standalone_server_serves_tiktok_pages():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "viewtrail.testing.fake_platform", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        ext = alive(Platform.TIKTOK, 1)[0]
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/tiktok/@_/video/{ext}", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        assert response.status_code == 200
        assert "__UNIVERSAL_DATA_FOR_REHYDRATION__" in response.text
        assert video_profile(f"tiktok:{ext}").account in response.text
    finally:
        process.terminate()
        process.wait(timeout=10)
