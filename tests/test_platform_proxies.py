"""Proxies per platform: the real clients spread their requests over VIEWTRAIL_{P}_PROXIES (least recently used),
rest a proxy that drew a 429 or a block while the others carry on, record which proxy served each attempt (by
index, down to the warehouse), and never let a proxy URL or its credentials out. Everything runs on 127.0.0.1:
the fake platform server behind one or two fake forward proxies."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import httpx
import polars as pl
import pytest
from fixtures.platform_support import SleepRecorder

from viewtrail.domain.models import AccountToDiscover, Outcome, Platform, VideoToScrape
from viewtrail.platforms import trace
from viewtrail.platforms.accounts import build_account_client, discover_sync
from viewtrail.platforms.base import scrape_sync
from viewtrail.platforms.factory import build_client
from viewtrail.platforms.proxies import PROXY_EXTENSION, ProxyPool
from viewtrail.platforms.simulated.client import video_profile
from viewtrail.testing.fake_platform import FakePlatformServer
from viewtrail.testing.fake_proxy import FakeForwardProxy
from viewtrail.warehouse import open_warehouse, results_to_frames, write_scrape_frames, write_scrape_results

AT = datetime(2026, 11, 22, 12, 30)
TRACKED = AT - timedelta(days=90)
EXTERNAL_ID = {Platform.TIKTOK: lambda i: f"72{i:017d}", Platform.X: lambda i: f"18{i:017d}"}
SECRET = "s3cretPASS"


class FakeTime:
    """The client's clock and sleep in one: sleeping moves the clock, nothing waits for real."""

    def __init__(self) -> None:
        self.at = AT
        self.waits: list[float] = []

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.at += timedelta(seconds=seconds)


def alive(platform: Platform, n: int) -> list[VideoToScrape]:
    out = []
    for i in range(4 * n):
        ext = EXTERNAL_ID[platform](i)
        gone = video_profile(f"{platform.value}:{ext}").disappears_at(TRACKED)
        if gone is None or gone > AT + timedelta(days=1):
            out.append(VideoToScrape(f"{platform.value}:{ext}", platform, ext, f"https://example.invalid/{ext}"))
    return out[:n]


def client(server: FakePlatformServer, platform: Platform, through: list[FakeForwardProxy], **overrides):
    settings = {
        "base_url": server.base_url(platform),
        "proxies": tuple(p.url for p in through),
        "rate_per_min": 1_000_000.0,
        "sleep": SleepRecorder(),
        "backoff_base_s": 0.01,
        "breaker_threshold": 10_000,
        "concurrency": 1,
        "max_in_flight": 1,  # one video at a time: the rotation order is deterministic
        "x_graphql": False,
    } | overrides
    return build_client(platform, "real", **settings)


@pytest.fixture
def platform_server():
    with FakePlatformServer(at=AT, tracked_at=TRACKED) as server:
        yield server


@pytest.fixture
def proxies():
    with FakeForwardProxy(credentials=f"alice:{SECRET}") as first, FakeForwardProxy() as second:
        yield [first, second]


@pytest.mark.parametrize("platform", [Platform.TIKTOK, Platform.X])
def test_requests_spread_over_the_proxies_least_recently_used_first(platform_server, proxies, platform):
    with trace.capture() as captured:
        results = list(scrape_sync(client(platform_server, platform, proxies), alive(platform, 4)))
    assert [r.attempt.outcome for r in results] == [Outcome.OK] * 4
    assert [r.attempt.proxy_index for r in results] == [0, 1, 0, 1]
    assert [p.forwarded for p in proxies] == [2, 2]
    assert [r.proxy_index for r in captured.requests] == [0, 1, 0, 1]
    # The credentials reach the proxy (as Proxy-Authorization), and only the proxy.
    assert proxies[0].seen_authorizations[0] is not None and proxies[1].seen_authorizations == [None, None]


def test_an_impersonating_client_goes_through_the_proxies_too(platform_server, proxies):
    plain = list(scrape_sync(client(platform_server, Platform.TIKTOK, proxies), alive(Platform.TIKTOK, 2)))
    forwarded = [p.forwarded for p in proxies]
    chrome = client(platform_server, Platform.TIKTOK, proxies, impersonate="chrome")
    results = list(scrape_sync(chrome, alive(Platform.TIKTOK, 2)))
    assert [r.attempt.proxy_index for r in results] == [0, 1]
    assert [p.forwarded - before for p, before in zip(proxies, forwarded, strict=True)] == [1, 1]
    assert [(r.attempt.outcome, r.observation.views) for r in results] == [
        (r.attempt.outcome, r.observation.views) for r in plain
    ]


@pytest.mark.parametrize("platform", [Platform.TIKTOK, Platform.X])
def test_a_proxy_drawing_429_rests_and_the_other_carries_the_load(platform_server, proxies, platform, caplog):
    proxies[0].set_mode("rate_limit")
    with caplog.at_level(logging.INFO):
        results = list(scrape_sync(client(platform_server, platform, proxies, max_retries=1), alive(platform, 4)))
    assert [r.attempt.outcome for r in results] == [Outcome.OK] * 4
    assert [r.attempt.proxy_index for r in results] == [1, 1, 1, 1]  # the first video's retry moved over
    assert results[0].attempt.tries == 2
    assert (proxies[0].answered, proxies[1].forwarded) == (1, 4)
    assert "proxy 0 rests 60s after rate_limited (1 of 2 proxies resting)" in caplog.text


@pytest.mark.parametrize("platform", [Platform.TIKTOK, Platform.X])
def test_a_proxy_drawing_a_block_rests_and_the_attempt_says_which(platform_server, proxies, platform):
    proxies[0].set_mode("challenge")
    results = list(scrape_sync(client(platform_server, platform, proxies), alive(platform, 3)))
    assert [(r.attempt.outcome, r.attempt.proxy_index) for r in results] == [
        (Outcome.BLOCKED, 0),
        (Outcome.OK, 1),
        (Outcome.OK, 1),
    ]
    assert (proxies[0].answered, proxies[1].forwarded) == (1, 2)


def test_when_every_proxy_rests_beyond_the_backoff_cap_the_attempt_ends_rate_limited(platform_server, proxies, caplog):
    for proxy in proxies:
        proxy.set_mode("rate_limit")
    time = FakeTime()
    scraper = client(
        platform_server,
        Platform.X,
        proxies,
        max_retries=0,
        proxy_rest_base_s=120.0,
        backoff_cap_s=60.0,
        clock=time.now,
        sleep=time.sleep,
    )
    with caplog.at_level(logging.INFO):
        results = list(scrape_sync(scraper, alive(Platform.X, 3)))
    assert [(r.attempt.outcome, r.attempt.proxy_index) for r in results] == [
        (Outcome.RATE_LIMITED, 0),
        (Outcome.RATE_LIMITED, 1),
        (Outcome.RATE_LIMITED, None),
    ]
    last = results[2].attempt
    assert last.detail == "all 2 proxies rest (the first is back in 120s)" and last.tries == 0
    assert [p.answered for p in proxies] == [1, 1] and time.waits == []
    assert "all 2 proxies rest (the first is back in 120s, beyond the 60s backoff cap)" in caplog.text


def test_when_every_proxy_rests_within_the_backoff_cap_the_client_waits_for_the_first(platform_server, proxies):
    proxies[0].set_mode("challenge")
    proxies[1].set_mode("challenge")
    time = FakeTime()
    scraper = client(
        platform_server,
        Platform.TIKTOK,
        proxies,
        proxy_rest_base_s=10.0,
        backoff_cap_s=60.0,
        clock=time.now,
        sleep=time.sleep,
    )
    videos = alive(Platform.TIKTOK, 3)
    first = list(scrape_sync(scraper, videos[:2]))
    assert [(r.attempt.outcome, r.attempt.proxy_index) for r in first] == [(Outcome.BLOCKED, 0), (Outcome.BLOCKED, 1)]
    proxies[0].set_mode("forward")
    [third] = list(scrape_sync(scraper, videos[2:]))
    assert time.waits == [10.0]  # proxy 0 came back first, after its 10 s rest
    assert (third.attempt.outcome, third.attempt.proxy_index) == (Outcome.OK, 0)


def test_resting_doubles_does_not_stack_and_an_ok_resets_it():
    time = FakeTime()
    pool = ProxyPool(2, base_s=10.0, cap_s=25.0, now=time.now, name="x")
    assert [pool.acquire(), pool.acquire(), pool.acquire()] == [0, 1, 0]
    pool.rest(0, Outcome.RATE_LIMITED)
    pool.rest(0, Outcome.BLOCKED)  # already resting: nothing changes
    assert pool.seconds_until_one_is_back() == 0.0 and pool.acquire() == 1 and pool.acquire() == 1
    pool.rest(1, Outcome.BLOCKED)
    assert pool.acquire() is None and pool.seconds_until_one_is_back() == 10.0
    assert pool.resting_outcome() is Outcome.RATE_LIMITED
    time.at += timedelta(seconds=10)
    assert pool.acquire() in (0, 1)
    pool.rest(0, Outcome.RATE_LIMITED)  # second rest in a row: 20 s
    time.at += timedelta(seconds=19)
    assert pool.resting(0)
    time.at += timedelta(seconds=1)
    pool.rest(0, Outcome.RATE_LIMITED)  # third: 40 s, capped at 25 s
    time.at += timedelta(seconds=25)
    assert not pool.resting(0)
    pool.served(0)
    pool.rest(0, Outcome.RATE_LIMITED)  # after an ok: back to 10 s
    time.at += timedelta(seconds=10)
    assert not pool.resting(0)


def test_redirects_stay_on_their_proxy():
    seen: list[tuple[str, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.extensions[PROXY_EXTENSION]))
        if request.url.path == "/start":
            return httpx.Response(302, headers={"Location": "/end"})
        return httpx.Response(200, json={})

    scraper = build_client(
        "x",
        "real",
        base_url="http://127.0.0.1:9",
        transport=httpx.MockTransport(handler),
        proxies=("http://a:1", "http://b:2"),
        x_graphql=False,
    )

    async def twice() -> list[int | None]:
        try:
            return [(await scraper.fetch("/start", follow_redirects=True)).proxy_index for _ in range(2)]
        finally:
            await scraper.aclose()

    assert asyncio.run(twice()) == [0, 1]
    assert seen == [("/start", 0), ("/end", 0), ("/start", 1), ("/end", 1)]


def test_proxy_index_reaches_the_warehouse_and_no_proxy_detail_goes_anywhere(
    platform_server, proxies, warehouse_path, caplog
):
    dead = FakeForwardProxy(credentials=f"bob:{SECRET}")
    dead_url = dead.url
    dead.stop()  # its port refuses connections: the attempt's detail is a connection error
    proxy_urls = (proxies[0].url, dead_url, proxies[1].url)
    scraper = client(platform_server, Platform.X, [], proxies=proxy_urls, max_retries=0)
    with caplog.at_level(logging.DEBUG), trace.capture() as captured:
        results = list(scrape_sync(scraper, alive(Platform.X, 3), run_id="r1"))
    assert [(r.attempt.outcome, r.attempt.proxy_index) for r in results] == [
        (Outcome.OK, 0),
        (Outcome.UPSTREAM_ERROR, 1),
        (Outcome.OK, 2),
    ]
    with open_warehouse() as con:
        write_scrape_results(con, results, run_id="r1")
        rows = con.sql("SELECT video_id, proxy_index, * FROM raw.scrape_attempts ORDER BY proxy_index").fetchall()
        stored = con.sql("SELECT * FROM raw.snapshots").fetchall() + con.sql("SELECT * FROM meta.write_log").fetchall()
    assert [(video_id, index) for video_id, index, *_ in rows] == [
        (r.attempt.video_id, i) for i, r in enumerate(results)
    ]
    texts = [repr(rows), repr(stored), caplog.text, repr(captured), repr(results), repr(scraper.settings)]
    for proxy_url in proxy_urls:
        host_port = proxy_url.rpartition("@")[2].removeprefix("http://")
        for text in texts:
            assert SECRET not in text and host_port not in text


def test_account_discoveries_go_through_the_proxies_and_the_warehouse_says_which(
    platform_server, proxies, warehouse_path
):
    from viewtrail.domain.urls import parse_account_url
    from viewtrail.warehouse.accounts import record_account_results, watch_accounts

    handles = ["ana.cooks", "techtinker", "ana.cooks.2"]
    accounts = [
        AccountToDiscover(f"tiktok:{h}", Platform.TIKTOK, h, f"https://www.tiktok.com/@{h}", observe_at=AT)
        for h in handles
    ]
    settings = {
        "base_url": platform_server.base_url(Platform.TIKTOK),
        "rate_per_min": 1e6,
        "concurrency": 1,
        "max_in_flight": 1,
        "proxies": tuple(p.url for p in proxies),
        "breaker_threshold": 10_000,
    }
    proxies[0].set_mode("challenge")  # the first proxy is blocked: it rests, the second carries the rest
    results = list(discover_sync(build_account_client(Platform.TIKTOK, "real", **settings), accounts))
    assert [(r.attempt.outcome, r.attempt.proxy_index) for r in results] == [
        (Outcome.BLOCKED, 0),
        (Outcome.OK, 1),
        (Outcome.OK, 1),
    ]
    with open_warehouse() as con:
        watch_accounts(con, [parse_account_url(f"https://www.tiktok.com/@{h}") for h in handles], now=AT)
        record_account_results(con, results, now=AT)
        stored = con.sql("SELECT account_id, outcome, proxy_index FROM raw.account_attempts ORDER BY account_id")
        assert stored.fetchall() == [
            ("tiktok:ana.cooks", "blocked", 0),
            ("tiktok:ana.cooks.2", "ok", 1),
            ("tiktok:techtinker", "ok", 1),
        ]
        assert SECRET not in repr(con.sql("SELECT * FROM raw.account_attempts").fetchall())


def test_attempts_staged_before_proxy_index_load_with_null(warehouse_path):
    from viewtrail.domain.models import Attempt, ScrapeResult

    result = ScrapeResult(Attempt("x:1", Platform.X, AT, Outcome.TIMEOUT, source="test"))
    snapshots, attempts = results_to_frames([result])
    with open_warehouse() as con:
        write_scrape_frames(con, snapshots, attempts.drop("proxy_index"))
        assert con.sql("SELECT video_id, proxy_index FROM raw.scrape_attempts").fetchall() == [("x:1", None)]
    assert attempts.schema["proxy_index"] == pl.Int32()
