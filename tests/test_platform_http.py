"""Politeness and robustness shared by the real clients: retries, Retry-After, budgets, breaker, streaming."""

from __future__ import annotations

import asyncio
import email.utils
import threading
import time

import httpx
import pytest
from fixtures.platform_support import SleepRecorder, client_for, fixture_json, fixture_text, run, video

from viewtrail.domain.models import Outcome
from viewtrail.platforms.base import scrape_sync
from viewtrail.platforms.http import parse_retry_after, scrub_url

TWEET = fixture_json("x", "tweet_video.json")
TWEET_ID = "1703436713362870723"


def scripted(*answers):
    """Handler replaying ``answers`` in order (the last one repeats); counts requests."""
    calls = []

    def handler(request):
        calls.append(request)
        answer = answers[min(len(calls), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, calls


def ok():
    return httpx.Response(200, json=TWEET)


def test_429_retry_after_seconds_is_honoured_then_succeeds():
    handler, calls = scripted(
        httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(429, headers={"Retry-After": "2"}), ok()
    )
    sleeper = SleepRecorder()
    [result] = run(client_for("x", handler, sleep=sleeper), [video("x", TWEET_ID)])
    assert result.attempt.outcome is Outcome.OK
    assert result.attempt.tries == 3 == len(calls)
    assert sleeper.waits == [1.0, 2.0]


def test_retry_after_http_date_is_honoured():
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    handler, _ = scripted(httpx.Response(503, headers={"Retry-After": when}), ok())
    sleeper = SleepRecorder()
    [result] = run(client_for("x", handler, sleep=sleeper), [video("x", TWEET_ID)])
    assert result.attempt.outcome is Outcome.OK
    assert len(sleeper.waits) == 1 and 3.0 <= sleeper.waits[0] <= 5.0


def test_retry_after_beyond_the_cap_gives_up_at_once_as_rate_limited():
    handler, calls = scripted(httpx.Response(429, headers={"Retry-After": "3600"}))
    sleeper = SleepRecorder()
    [result] = run(client_for("x", handler, sleep=sleeper, backoff_cap_s=60), [video("x", TWEET_ID)])
    assert result.attempt.outcome is Outcome.RATE_LIMITED
    assert len(calls) == 1 and sleeper.waits == []
    assert "Retry-After: 3600" in result.attempt.detail


def test_5xx_backs_off_exponentially_with_jitter_and_gives_up_after_max_retries():
    handler, calls = scripted(httpx.Response(503))
    sleeper = SleepRecorder()
    client = client_for("x", handler, sleep=sleeper, max_retries=3, backoff_base_s=0.5, backoff_cap_s=60)
    [result] = run(client, [video("x", TWEET_ID)])
    assert result.attempt.outcome is Outcome.UPSTREAM_ERROR and result.attempt.http_status == 503
    assert result.attempt.tries == 4 == len(calls)
    assert len(sleeper.waits) == 3
    for n, wait in enumerate(sleeper.waits):
        assert 0.5 * 2**n <= wait <= 0.5 * 2**n + 0.5


def test_backoff_never_exceeds_the_cap():
    handler, _ = scripted(httpx.Response(502))
    sleeper = SleepRecorder()
    run(
        client_for("x", handler, sleep=sleeper, max_retries=6, backoff_base_s=1, backoff_cap_s=5),
        [video("x", TWEET_ID)],
    )
    assert max(sleeper.waits) <= 5


def test_run_wide_retry_budget_bounds_the_total_requests():
    handler, calls = scripted(httpx.Response(500))
    client = client_for(
        "x", handler, max_retries=2, retry_budget=3, breaker_threshold=100, concurrency=1, max_in_flight=1
    )
    results = run(client, [video("x", str(1000 + i)) for i in range(5)])
    assert [r.attempt.outcome for r in results] == [Outcome.UPSTREAM_ERROR] * 5
    assert len(calls) == 5 + 3  # one try each plus the three retries the budget allowed
    assert sum(r.attempt.tries for r in results) == len(calls)


def test_timeouts_are_retried_then_reported_as_timeout():
    handler, calls = scripted(httpx.ReadTimeout("read timed out"))
    [result] = run(client_for("x", handler, max_retries=2), [video("x", TWEET_ID)])
    assert result.attempt.outcome is Outcome.TIMEOUT and result.attempt.http_status is None
    assert result.attempt.tries == 3 == len(calls)


def test_connection_errors_are_upstream_errors():
    handler, _ = scripted(httpx.ConnectError("connection refused"))
    [result] = run(client_for("x", handler, max_retries=1), [video("x", TWEET_ID)])
    assert result.attempt.outcome is Outcome.UPSTREAM_ERROR and "ConnectError" in result.attempt.detail


def test_breaker_opens_after_consecutive_blocked_and_stops_all_http():
    challenge = fixture_text("tiktok", "challenge.html")
    handler, calls = scripted(httpx.Response(200, text=challenge))
    client = client_for("tiktok", handler, breaker_threshold=3, concurrency=1, max_in_flight=1)
    results = run(client, [video("tiktok", str(7000000000000000000 + i), "a") for i in range(10)])
    assert len(results) == 10
    assert [r.attempt.outcome for r in results] == [Outcome.BLOCKED] * 3 + [Outcome.CIRCUIT_OPEN] * 7
    assert len(calls) == 3
    assert all(r.attempt.tries == 0 for r in results[3:])
    assert client.breaker_open


def test_breaker_counts_rate_limited_too_and_resets_on_success():
    # blocked, 429, ok, blocked, 429, ok ... never 3 in a row: the breaker stays closed.
    challenge = fixture_text("tiktok", "challenge.html")
    good = fixture_text("tiktok", "video_ok.html")
    answers = [httpx.Response(200, text=challenge), httpx.Response(429), httpx.Response(200, text=good)]
    calls = []

    def handler(request):
        calls.append(request)
        return answers[(len(calls) - 1) % 3]

    client = client_for("tiktok", handler, breaker_threshold=3, concurrency=1, max_in_flight=1, max_retries=0)
    vid = "7106594312292453675"
    results = run(client, [video("tiktok", vid, "chef.lin") for _ in range(9)])
    assert [r.attempt.outcome for r in results] == [Outcome.BLOCKED, Outcome.RATE_LIMITED, Outcome.OK] * 3
    assert not client.breaker_open


def test_concurrency_cap_is_respected():
    state = {"now": 0, "max": 0}

    async def handler(request):
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        await asyncio.sleep(0.005)
        state["now"] -= 1
        return httpx.Response(200, json=TWEET)

    client = client_for("x", handler, concurrency=3, max_in_flight=20)
    results = run(client, [video("x", TWEET_ID) for _ in range(30)])
    assert len(results) == 30
    assert state["max"] == 3


def test_rate_limit_spaces_requests():
    handler, calls = scripted(ok())
    client = client_for("x", handler, concurrency=1, rate_per_min=600)  # one request per 0.1 s
    start = time.monotonic()
    run(client, [video("x", TWEET_ID) for _ in range(5)])
    assert time.monotonic() - start >= 0.35
    assert len(calls) == 5


def test_scrape_streams_lazily_with_bounded_in_flight_work():
    pulled = []

    def videos():
        for i in range(10_000):
            pulled.append(i)
            yield video("x", str(10_000 + i))

    handler, _ = scripted(ok())
    client = client_for("x", handler, concurrency=4, max_in_flight=8)
    stream = scrape_sync(client, videos())
    first = next(stream)
    assert first.attempt.outcome in (Outcome.OK, Outcome.PARSE_ERROR)
    assert len(pulled) <= 9  # only the in-flight window was read from the input
    stream.close()  # abandoning the stream cancels the in-flight work cleanly


def test_every_input_yields_exactly_one_result_under_mixed_faults():
    counter = {"n": 0}

    def handler(request):
        counter["n"] += 1
        n = int(request.url.params["id"])
        if n % 7 == 0:
            return httpx.Response(404)
        if n % 11 == 0 and counter["n"] % 2:
            return httpx.Response(503)
        return httpx.Response(200, json=dict(TWEET, id_str=str(n)))

    client = client_for("x", handler, concurrency=8, breaker_threshold=10_000)
    ids = [str(100 + i) for i in range(2000)]
    results = run(client, [video("x", i) for i in ids])
    assert sorted(r.attempt.video_id for r in results) == sorted(f"x:{i}" for i in ids)
    for r in results:
        assert (r.observation is not None) == (r.attempt.outcome is Outcome.OK)
    assert {r.attempt.outcome for r in results} <= {Outcome.OK, Outcome.NOT_FOUND, Outcome.UPSTREAM_ERROR}


def test_scrape_sync_works_inside_a_running_event_loop():
    handler, _ = scripted(ok())
    client = client_for("x", handler)

    async def inside():
        return list(scrape_sync(client, [video("x", TWEET_ID)] * 3))

    results = asyncio.run(inside())
    assert [r.attempt.outcome for r in results] == [Outcome.OK] * 3


def test_abandoning_scrape_sync_inside_a_running_loop_cancels_the_waiting_requests_and_ends_its_thread():
    async def handler(request):
        if request.url.params["id"] != "100":
            await asyncio.Event().wait()  # never answers: only a cancellation ends these requests
        return httpx.Response(200, json=dict(TWEET, id_str="100"))

    client = client_for("x", handler, concurrency=4)

    async def inside():
        stream = scrape_sync(client, [video("x", str(100 + i)) for i in range(4)])
        first = next(stream)
        stream.close()
        return first

    first = asyncio.run(inside())
    assert first.attempt.video_id == "x:100" and first.attempt.outcome is Outcome.OK
    assert not [t for t in threading.enumerate() if t.name == "scrape-x"]  # joined, not left waiting
    assert run(client, [video("x", "100")])[0].attempt.outcome is Outcome.OK  # and the client still works


def test_client_is_reusable_across_scrape_sync_calls():
    handler, calls = scripted(ok())
    client = client_for("x", handler)
    assert run(client, [video("x", TWEET_ID)])[0].attempt.outcome is Outcome.OK
    assert run(client, [video("x", TWEET_ID)])[0].attempt.outcome is Outcome.OK
    assert len(calls) == 2


def test_async_scrape_with_context_manager():
    handler, _ = scripted(ok())

    async def go():
        async with client_for("x", handler) as client:
            return [r async for r in client.scrape([video("x", TWEET_ID)], run_id="r9")]

    [result] = asyncio.run(go())
    assert result.attempt.run_id == "r9" and result.observation.run_id == "r9"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", 1.0), ("0", 0.0), (" 120 ", 120.0), ("", None), (None, None), ("soon", None), ("-5", 0.0)],
)
def test_parse_retry_after_seconds(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


def test_scrub_url_removes_secret_query_params():
    text = "GET https://www.googleapis.com/youtube/v3/videos?part=snippet&key=AIzaSECRET&id=x failed"
    assert "AIzaSECRET" not in scrub_url(text) and "id=x" in scrub_url(text)


def test_videos_of_another_platform_are_refused():
    handler, calls = scripted(ok())
    with pytest.raises(ValueError, match="only scrapes x videos"):
        run(client_for("x", handler), [video("tiktok", "7106594312292453675")])
    assert calls == []
