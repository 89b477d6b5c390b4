"""Planning and executing a partition's scrape without Dagster, and staging the results between the steps."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from viewtrail import clock
from viewtrail.domain.models import Attempt, Outcome, Platform, ScrapeResult, VideoRef
from viewtrail.pipeline import staging
from viewtrail.planning.scheduling import VideoSchedule, hours_in
from viewtrail.planning.scraping import ObserveAt, execute_plan, plan_scrapes
from viewtrail.platforms.simulated.client import SimulatedClient

H0 = datetime(2026, 11, 10, 0)


def video(n: int, *, added_at: datetime = H0 - timedelta(days=30), last_outcome: str | None = None) -> VideoSchedule:
    return VideoSchedule(
        video_id=f"x:18{n:017d}",
        platform=Platform.X,
        external_id=f"18{n:017d}",
        url=f"https://x.com/i/status/{n}",
        account=None,
        is_active=True,
        availability="available",
        cadence="auto",
        track_until=None,
        posted_at=None,
        added_at=added_at,
        last_attempt_at=None if last_outcome is None else H0 - timedelta(hours=1),
        last_outcome=last_outcome,
    )


def test_a_replay_plan_has_one_step_per_hour_decided_while_executing():
    hours = hours_in(H0, H0 + timedelta(hours=6))
    plan = plan_scrapes([video(1)], hours, targeted=False, observes_past=True)
    assert [s.hour for s in plan.steps] == hours
    assert all(s.observe is ObserveAt.REPLAY and s.videos is None for s in plan.steps)
    assert plan.steps[2].partition_key == "2026-11-10-02:00"


def test_a_real_client_plan_scrapes_the_last_hours_due_videos_now_and_a_targeted_plan_its_named_videos():
    hours = hours_in(H0, H0 + timedelta(hours=3))
    fresh, done, inactive = video(1), video(2, last_outcome="ok"), video(3)
    inactive = VideoSchedule(**{**{f: getattr(inactive, f) for f in inactive.__slots__}, "is_active": False})
    present = plan_scrapes([fresh, inactive], hours, targeted=False, observes_past=False)
    assert [(s.hour, s.observe) for s in present.steps] == [(hours[-1], ObserveAt.NOW)]
    assert [v.video_id for v in present.steps[0].videos] == [fresh.video_id]  # never attempted: due
    targeted = plan_scrapes([done, inactive], hours, targeted=True, observes_past=True)
    assert [v.video_id for v in targeted.steps[0].videos] == [done.video_id]  # named and tracked, due or not


def test_executing_a_replay_retries_a_transient_fault_the_next_hour_and_never_observes_before_registration():
    hours = hours_in(H0, H0 + timedelta(hours=4))
    late = video(7, added_at=H0 + timedelta(hours=2, minutes=40))
    client = SimulatedClient(Platform.X, fault_rate=1.0)  # every scrape fails transiently
    outcome = execute_plan(plan_scrapes([video(1), late], hours, targeted=False, observes_past=True), client)
    by_video: dict[str, list[ScrapeResult]] = {}
    for result in outcome.results:
        by_video.setdefault(result.attempt.video_id, []).append(result)
    assert len(by_video[video(1).video_id]) == 4  # due again every hour after a transient fault
    late_attempts = [r.attempt.attempted_at for r in by_video[late.video_id]]
    assert len(late_attempts) == 2 and min(late_attempts) > late.added_at  # from the hour it was registered in
    assert outcome.videos_due == 6 and set(outcome.outcome_counts()) <= {o.value for o in Outcome}


def test_a_targeted_plan_observes_the_clocks_now():
    at = datetime(2031, 3, 4, 5, 6, 7)
    with clock.pinned(at):
        outcome = execute_plan(
            plan_scrapes([video(1)], [H0], targeted=True, observes_past=True), SimulatedClient(Platform.X, fault_rate=0)
        )
    (result,) = outcome.results
    assert at <= result.attempt.attempted_at < at + timedelta(minutes=1)


def _result(n: int) -> ScrapeResult:
    return ScrapeResult(Attempt(f"x:{n}", Platform.X, H0 + timedelta(minutes=n), Outcome.TIMEOUT, source="test"))


def test_a_staged_batch_round_trips_and_is_replaced_whole(tmp_path: Path):
    link = ("https://vm.tiktok.com/ZMabc/", VideoRef(Platform.TIKTOK, "7300000000000000001", "https://t/1", "a"))
    path = staging.stage(tmp_path, Platform.X, "2026-11-10-00:00..2026-11-10-05:00-run1", [_result(1)], [link])
    batch = staging.load(path)
    assert batch is not None and batch.attempts["video_id"].to_list() == ["x:1"] and batch.links == [link]
    assert batch.snapshots.height == 0
    staging.stage(tmp_path, Platform.X, "2026-11-10-00:00..2026-11-10-05:00-run1", [_result(2), _result(3)])
    again = staging.load(path)
    assert again.attempts["video_id"].to_list() == ["x:2", "x:3"] and again.links == []


def test_an_interrupted_staging_is_no_batch_and_old_leftovers_are_swept(tmp_path: Path):
    path = staging.batch_dir(tmp_path, Platform.X, "run-killed")
    interrupted = path.with_name(path.name + ".staging-4242")
    interrupted.mkdir(parents=True)
    (interrupted / "attempts.parquet").write_bytes(b"half a file")
    assert staging.load(path) is None  # nothing to load: the write step asks for a re-scrape
    kept = staging.stage(tmp_path, Platform.X, "run-fresh", [_result(1)])
    day_ago = os.path.getmtime(kept) - 2 * 86400
    os.utime(interrupted, (day_ago, day_ago))  # killed before it recorded when: its file time counts
    assert staging.sweep(tmp_path, older_than=timedelta(days=1)) == [interrupted]
    assert staging.load(kept) is not None


def test_sweeping_uses_the_time_a_batch_was_staged_not_file_times(tmp_path: Path):
    batch = staging.stage(tmp_path, Platform.X, "run-fresh", [_result(1)])
    week_ago = os.path.getmtime(batch) - 7 * 86400
    os.utime(batch, (week_ago, week_ago))  # e.g. restored from a backup, or a clock moved: still fresh
    assert staging.sweep(tmp_path, older_than=timedelta(days=1)) == []
    assert staging.load(batch) is not None


def test_a_staged_plan_gives_the_scrape_step_the_registry_as_the_plan_step_read_it(tmp_path: Path):
    # what the scrape step on another host plans from: every field of each video, the pending short links
    videos = [
        video(1),
        video(2, last_outcome=Outcome.TIMEOUT.value),
        replace(video(3), track_until=H0 + timedelta(days=3), posted_at=H0, cadence="6", consecutive_not_found=2),
    ]
    link = staging.PendingLink("https://vm.tiktok.com/ZMabc/", "auto", None, H0 - timedelta(hours=2))
    plan = staging.VideoPlan(targeted=False, videos=videos, pending_links=[link])
    batch = "2026-11-10-00:00..2026-11-10-05:00-run1"
    assert staging.load_plan(staging.plan_dir(tmp_path, Platform.X, batch)) is None  # no plan yet: no scrape
    path = staging.stage_plan(tmp_path, Platform.X, batch, plan)
    assert path == staging.plan_dir(tmp_path, Platform.X, batch)
    assert staging.load_plan(path) == plan
    hours = hours_in(H0, H0 + timedelta(hours=6))
    staged = staging.load_plan(path)
    assert plan_scrapes(staged.videos, hours, targeted=False, observes_past=True) == plan_scrapes(
        videos, hours, targeted=False, observes_past=True
    )
    # a plan beside the batches is swept with them once old, like a batch no load took
    (Path(path) / "staged_at").write_text(repr(time.time() - 2 * 86400))
    assert staging.sweep(tmp_path, older_than=timedelta(days=1)) == [path]


def test_a_staged_discovery_plan_round_trips(tmp_path: Path):
    from viewtrail.domain.models import AccountToDiscover
    from viewtrail.planning.discovery import WatchedAccount

    account = AccountToDiscover("tiktok:nasa", Platform.TIKTOK, "nasa", "https://www.tiktok.com/@nasa", since=H0)
    plan = staging.AccountPlan(
        targeted=True,
        accounts=[WatchedAccount(account, 24.0, H0 - timedelta(days=1), H0 - timedelta(hours=3))],
    )
    path = staging.stage_account_plan(tmp_path, Platform.TIKTOK, "run1", plan)
    assert staging.load_account_plan(path) == plan
    assert staging.load_account_plan(staging.account_plan_dir(tmp_path, Platform.TIKTOK, "run2")) is None
