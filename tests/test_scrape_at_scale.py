"""2,000 videos across the four platforms through the fake platform server with 5% injected faults, real clients.

Every video ends each pass in exactly one outcome; successes are stored once; failed videos are scraped again
in later passes until only ``ok`` and ``not_found`` (videos the simulation made disappear) remain; re-writing
a pass's results (a retried run) stores nothing twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from fixtures.platform_support import SleepRecorder

from viewtrail.domain.models import Outcome, Platform, ScrapeResult, VideoToScrape
from viewtrail.platforms.factory import build_client
from viewtrail.platforms.simulated.client import video_profile
from viewtrail.testing.fake_platform import FakePlatformServer

PER_PLATFORM = 500
AT = datetime(2026, 11, 22, 12)  # the simulated instant the fake platform answers for
TRACKED = AT - timedelta(days=90)  # the simulated videos count as tracked since (they were posted before it)
EXTERNAL_ID = {
    Platform.YOUTUBE: lambda i: f"sc{i:09d}",
    Platform.TIKTOK: lambda i: f"73{i:017d}",
    Platform.INSTAGRAM: lambda i: f"D{i:010d}",
    Platform.X: lambda i: f"19{i:017d}",
}


def all_videos() -> dict[Platform, list[VideoToScrape]]:
    return {
        p: [
            VideoToScrape(f"{p.value}:{make(i)}", p, make(i), f"https://example.invalid/{make(i)}")
            for i in range(PER_PLATFORM)
        ]
        for p, make in EXTERNAL_ID.items()
    }


async def _scrape_pass(
    server: FakePlatformServer, todo: dict[Platform, list[VideoToScrape]], run_id: str, state_dir: Path
) -> list[ScrapeResult]:
    async def one(platform: Platform) -> list[ScrapeResult]:
        client = build_client(
            platform,
            "real",
            base_url=server.base_url(platform),
            api_key="test-key",
            rate_per_min=1_000_000.0,
            concurrency=16,
            max_retries=2,
            sleep=SleepRecorder(),
            timeout_s=2.0,
            state_dir=state_dir,
        )
        try:
            return [r async for r in client.scrape(todo[platform], run_id=run_id)]
        finally:
            await client.aclose()

    chunks = await asyncio.gather(*(one(p) for p in todo if todo[p]))
    return [r for chunk in chunks for r in chunk]


def _check_one_result_each(todo: dict[Platform, list[VideoToScrape]], results: list[ScrapeResult]) -> None:
    counts = Counter(r.attempt.video_id for r in results)
    assert counts == Counter(v.video_id for vs in todo.values() for v in vs)  # exactly one result per video
    for result in results:
        assert (result.observation is not None) == (result.attempt.outcome is Outcome.OK)


def test_two_thousand_videos_with_faults_end_in_one_outcome_each_and_are_stored_once(warehouse_path, tmp_path):
    from viewtrail.warehouse import open_warehouse, write_scrape_results

    videos = all_videos()
    gone = {
        v.video_id
        for vs in videos.values()
        for v in vs
        if (when := video_profile(v.video_id).disappears_at(TRACKED)) is not None and when <= AT
    }
    state_dir = tmp_path / "state"
    first_by_video: dict[str, Outcome] = {}
    attempts_written = 0
    ok_written = 0
    with FakePlatformServer(fault_rate=0.05, hang_s=5.0, retry_after_s=0.01, at=AT, tracked_at=TRACKED) as server:
        todo = videos
        # Two passes with faults, then passes without (a loaded machine may still time a request out).
        for number, fault_rate in enumerate((0.05, 0.05, 0.0, 0.0, 0.0), start=1):
            if not any(todo.values()):
                break
            server.configure(fault_rate=fault_rate)
            results = asyncio.run(_scrape_pass(server, todo, f"pass-{number}", state_dir))
            _check_one_result_each(todo, results)
            with open_warehouse(warehouse_path) as con:
                summary = write_scrape_results(con, results)
                assert summary.snapshots_inserted == sum(r.observation is not None for r in results)
                assert summary.attempts_inserted == len(results)
                if number == 1:
                    again = write_scrape_results(con, results)  # a retried run writes the same results again
                    assert (again.snapshots_inserted, again.attempts_inserted) == (0, 0)
                    assert again.attempts_duplicate == len(results)
            attempts_written += len(results)
            ok_written += sum(r.attempt.outcome is Outcome.OK for r in results)
            if number == 1:
                first_by_video = {r.attempt.video_id: r.attempt.outcome for r in results}
                faulted = [o for o in first_by_video.values() if o not in (Outcome.OK, Outcome.NOT_FOUND)]
                assert 0.02 * len(results) < len(faulted) < 0.10 * len(results)  # the injected faults happened
            failed = {r.attempt.video_id for r in results if r.attempt.outcome not in (Outcome.OK, Outcome.NOT_FOUND)}
            todo = {p: [v for v in vs if v.video_id in failed] for p, vs in todo.items()}
        assert not any(todo.values())  # with faults off the last passes leave nothing unfinished
        assert server.faults_served.total() > 0

    with open_warehouse(warehouse_path, read_only=True) as con:
        snapshots = con.sql("SELECT video_id, count(*) FROM raw.snapshots GROUP BY ALL").fetchall()
        ((attempt_rows, distinct_attempts),) = con.sql(
            "SELECT count(*), count(DISTINCT (video_id, attempted_at)) FROM raw.scrape_attempts"
        ).fetchall()
        final = dict(
            con.sql("SELECT video_id, arg_max(outcome, attempted_at) FROM raw.scrape_attempts GROUP BY ALL").fetchall()
        )
    per_video = dict(snapshots)
    assert set(per_video.values()) == {1}  # every success stored exactly once: nothing scraped or written twice
    assert len(per_video) == ok_written
    assert attempt_rows == distinct_attempts == attempts_written
    all_ids = {v.video_id for vs in videos.values() for v in vs}
    assert set(final) == all_ids
    assert {v for v, o in final.items() if o == Outcome.NOT_FOUND} == gone
    assert {v for v, o in final.items() if o == Outcome.OK} == all_ids - gone
    assert set(per_video) == all_ids - gone
