"""The bounded streaming loop both the video scrape and account discovery run their requests through."""

from __future__ import annotations

import asyncio
import contextlib

from viewtrail.platforms.base import stream_bounded


def test_answers_stream_as_they_complete_with_at_most_limit_in_flight() -> None:
    in_flight = 0
    most = 0

    async def run(item: int) -> int:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        # even items wait on a timer, odd ones only yield: 1 answers while 0 is still running
        await asyncio.sleep(0.01 if item % 2 == 0 else 0)
        in_flight -= 1
        return item

    async def main() -> list[int]:
        stream = stream_bounded(iter(range(6)), run, limit=2, short_circuit=lambda item: None)
        async with contextlib.aclosing(stream):
            return [answer async for answer in stream]

    answers = asyncio.run(main())
    assert answers[0] == 1  # as completed, not in the order given
    assert sorted(answers) == list(range(6))
    assert most == 2


def test_a_short_circuit_sees_the_answers_before_it_and_skips_the_request() -> None:
    requested: list[int] = []
    failures = 0

    async def run(item: int) -> str:
        nonlocal failures
        requested.append(item)
        failures += 1  # every request fails: after two, the circuit opens
        return f"failed {item}"

    def short_circuit(item: int) -> str | None:
        return f"skipped {item}" if failures >= 2 else None

    async def main() -> list[str]:
        stream = stream_bounded(iter(range(5)), run, limit=1, short_circuit=short_circuit)
        async with contextlib.aclosing(stream):
            return [answer async for answer in stream]

    assert asyncio.run(main()) == ["failed 0", "failed 1", "skipped 2", "skipped 3", "skipped 4"]
    assert requested == [0, 1]


def test_closing_the_stream_early_cancels_the_requests_still_running() -> None:
    cancelled: list[int] = []

    async def run(item: int) -> int:
        if item == 0:
            return 0
        try:
            await asyncio.Event().wait()  # never answers
        except asyncio.CancelledError:
            cancelled.append(item)
            raise
        return item

    async def main() -> int:
        stream = stream_bounded(iter(range(4)), run, limit=3, short_circuit=lambda item: None)
        async with contextlib.aclosing(stream):
            async for answer in stream:
                return answer
        raise AssertionError("the stream gave nothing")

    assert asyncio.run(main()) == 0
    assert sorted(cancelled) == [1, 2]
