"""Crash safety without a daemon: a run killed while its step holds the only slot of the pool "duckdb" does not
block the next launch from the CLI helpers (orchestration.runs), and a launch that waits for a live holder says
who holds the warehouse instead of hanging silently."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestration import runs
from viewtrail.app import demo
from viewtrail.clock import last_complete_hour, partition_key
from viewtrail.warehouse.connection import open_warehouse

REPO = Path(__file__).resolve().parents[1]
PLATFORM = "youtube"
STEP = f"raw__{PLATFORM}_snapshots"
VIDEOS = 24

# The backfill as `viewtrail demo` runs it, except that the load stalls (a write that never ends) while its
# step holds the warehouse slot, so the parent can kill it there.
STALLED_BACKFILL = """
import sys, time, warnings
warnings.simplefilter("ignore")
from datetime import datetime
import orchestration.defs.assets as assets
from orchestration.runs import backfill_snapshots, dagster_instance, pipeline_resources

def stalled_write(*args, **kwargs):
    time.sleep(3600)

assets.write_scrape_frames = stalled_write
with dagster_instance() as instance:
    backfill_snapshots(instance, pipeline_resources(simulated=True), datetime.fromisoformat(sys.argv[1]),
                       datetime.fromisoformat(sys.argv[2]), print, platforms=[sys.argv[3]])
"""


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DAGSTER_HOME with the committed instance config (pool "duckdb" limited to 1), storage created once."""
    from dagster import DagsterInstance

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with DagsterInstance.get():
        pass  # two processes migrating a new storage at once would race
    return home


def _hours() -> tuple[datetime, datetime]:
    last = last_complete_hour() - timedelta(hours=3)
    return last - timedelta(hours=11), last


def _register_videos(warehouse: Path, first_hour: datetime) -> None:
    with open_warehouse(warehouse) as con:
        demo.register_sample_videos(con, demo.sample_videos(VIDEOS), added_at=first_hour - timedelta(days=1))


def _rows(warehouse: Path) -> dict[str, list[tuple]]:
    with open_warehouse(warehouse, read_only=True) as con:
        return {
            "snapshots": con.sql("SELECT * EXCLUDE (ingested_at, run_id) FROM raw.snapshots ORDER BY ALL").fetchall(),
            "attempts": con.sql(
                "SELECT * EXCLUDE (ingested_at, run_id) FROM raw.scrape_attempts ORDER BY ALL"
            ).fetchall(),
        }


def _until(condition: Callable[[], Any], what: str, timeout_s: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _started_run(instance: Any, tags: dict[str, str]) -> str:
    from dagster import DagsterRun, DagsterRunStatus

    run_id = str(uuid.uuid4())
    instance.add_run(DagsterRun(job_name="__ASSET_JOB", run_id=run_id, status=DagsterRunStatus.STARTED, tags=tags))
    return run_id


def _fake_holder(instance: Any, tags: dict[str, str]) -> str:
    """A STARTED run holding the warehouse slot, as a run of another process would."""
    run_id = _started_run(instance, tags)
    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default(runs.WAREHOUSE_POOL)
    assert storage.claim_concurrency_slot(runs.WAREHOUSE_POOL, run_id, STEP).is_claimed
    return run_id


def _launch_in_thread(lines: list[str]) -> tuple[threading.Thread, dict[str, Any]]:
    """One partition of the snapshot asset, launched through orchestration.runs in a thread."""
    from dagster import DagsterInstance

    from orchestration.defs.assets import assets_of

    outcome: dict[str, Any] = {}

    def launch() -> None:
        with DagsterInstance.get() as instance:
            outcome["result"] = runs.materialize_in_process(
                assets_of(PLATFORM),
                instance,
                runs.pipeline_resources(simulated=True),
                progress=lines.append,
                partition_key=partition_key(_hours()[1]),
            )

    thread = threading.Thread(target=launch, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.timeout(300)
def test_a_backfill_killed_while_holding_the_warehouse_slot_does_not_block_the_rerun(
    dagster_home: Path, warehouse_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import DagsterInstance, DagsterRunStatus

    first, last = _hours()
    _register_videos(warehouse_path, first)
    with (tmp_path / "killed.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", STALLED_BACKFILL, first.isoformat(), last.isoformat(), PLATFORM],
            cwd=REPO,
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        with DagsterInstance.get() as instance:
            storage = instance.event_log_storage

            def slot_claimed() -> list[Any]:
                assert process.poll() is None, (tmp_path / "killed.log").read_text()[-3000:]
                return storage.get_concurrency_info(runs.WAREHOUSE_POOL).claimed_slots

            (slot,) = _until(slot_claimed, "the backfill's step to hold the warehouse slot")
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()  # reaped: an unreaped child would still exist as a zombie

    with DagsterInstance.get() as instance:
        dead = instance.get_run_by_id(slot.run_id)
        assert dead.tags[runs.PID_TAG] == str(process.pid)
        assert dead.status == DagsterRunStatus.STARTED  # nothing else would ever end it without a daemon

        lines: list[str] = []
        runs.backfill_snapshots(
            instance, runs.pipeline_resources(simulated=True), first, last, lines.append, platforms=[PLATFORM]
        )

        notices = [line for line in lines if "warehouse" in line]
        assert notices == [
            f"Freed the warehouse slot held by run {slot.run_id[:8]} (process {process.pid} on this host is gone); "
            f"it is marked failed."
        ]
        assert instance.get_run_by_id(slot.run_id).status == DagsterRunStatus.FAILURE
        info = instance.event_log_storage.get_concurrency_info(runs.WAREHOUSE_POOL)
        assert info.claimed_slots == [] and info.pending_steps == []
        rerun = [r for r in instance.get_runs() if r.run_id != slot.run_id]
        assert [r.status for r in rerun] == [DagsterRunStatus.SUCCESS]
    recovered = _rows(warehouse_path)

    # the same backfill, never interrupted, on a second fresh warehouse
    other = tmp_path / "uninterrupted" / "warehouse.duckdb"
    other.parent.mkdir()
    monkeypatch.setenv("VIEWTRAIL_WAREHOUSE", str(other))
    _register_videos(other, first)
    with DagsterInstance.get() as instance:
        runs.backfill_snapshots(
            instance, runs.pipeline_resources(simulated=True), first, last, lambda _: None, platforms=[PLATFORM]
        )
    expected = _rows(other)
    assert len(expected["snapshots"]) > VIDEOS // 4 and len(expected["attempts"]) >= len(expected["snapshots"])
    assert recovered == expected  # no loss, no duplicates


@pytest.mark.timeout(300)
def test_a_launch_waiting_for_a_live_holder_names_it_and_runs_once_the_slot_is_released(
    dagster_home: Path, warehouse_path: Path
) -> None:
    from dagster import DagsterInstance, DagsterRunStatus

    _register_videos(warehouse_path, _hours()[0])
    with DagsterInstance.get() as instance:
        holder = _fake_holder(instance, runs.process_tags())  # this very process: alive
        lines: list[str] = []
        thread, outcome = _launch_in_thread(lines)
        try:
            waiting = _until(
                lambda: [line for line in lines if line.startswith("Waiting for the warehouse")], "the waiting line"
            )
            assert waiting[0].startswith(
                f"Waiting for the warehouse: run {holder[:8]} ({STEP}, pid {os.getpid()} on {socket.gethostname()}) "
                f"has held it for "
            )
            assert not [line for line in lines if line.startswith("Freed")]  # a live holder is never freed
        finally:
            instance.event_log_storage.free_concurrency_slots_for_run(holder)
            thread.join(timeout=180)
        assert not thread.is_alive()
        assert outcome["result"].success
        assert instance.get_run_by_id(holder).status == DagsterRunStatus.STARTED
        assert instance.event_log_storage.get_concurrency_info(runs.WAREHOUSE_POOL).claimed_slots == []


@pytest.mark.timeout(300)
def test_a_holder_that_dies_while_a_launch_waits_is_freed_and_the_launch_proceeds(
    dagster_home: Path, warehouse_path: Path
) -> None:
    from dagster import DagsterInstance, DagsterRunStatus

    _register_videos(warehouse_path, _hours()[0])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        with DagsterInstance.get() as instance:
            tags = {
                runs.HOST_TAG: socket.gethostname(),
                runs.PID_TAG: str(other.pid),
                runs.PROCESS_START_TAG: runs.process_start(other.pid) or "",
            }
            holder = _fake_holder(instance, tags)
            lines: list[str] = []
            thread, outcome = _launch_in_thread(lines)
            try:
                _until(
                    lambda: [line for line in lines if line.startswith("Waiting for the warehouse")], "the waiting line"
                )
                other.kill()
                other.wait()
                freed = _until(lambda: [line for line in lines if line.startswith("Freed")], "the freed line")
            finally:
                instance.event_log_storage.free_concurrency_slots_for_run(holder)  # no-op unless the test failed
                thread.join(timeout=180)
            assert freed == [
                f"Freed the warehouse slot held by run {holder[:8]} (process {other.pid} on this host is gone); "
                f"it is marked failed."
            ]
            assert outcome["result"].success
            assert instance.get_run_by_id(holder).status == DagsterRunStatus.FAILURE
    finally:
        other.kill()
        other.wait()


def test_only_holders_provably_gone_are_freed(dagster_home: Path) -> None:
    from dagster import DagsterInstance, DagsterRunStatus

    with DagsterInstance.get() as instance:
        reused_pid = _fake_holder(instance, {**runs.process_tags(), runs.PROCESS_START_TAG: "1"})
        storage = instance.event_log_storage
        others = {}
        for name, tags in {
            "another host": {**runs.process_tags(), runs.HOST_TAG: "elsewhere.invalid"},
            "not launched by viewtrail": {},
        }.items():
            run_id = _started_run(instance, tags)
            assert not storage.claim_concurrency_slot(runs.WAREHOUSE_POOL, run_id, STEP).is_claimed  # queued
            others[name] = run_id

        lines: list[str] = []
        assert runs.free_dead_holders(instance, lines.append) == [reused_pid]
        assert len(lines) == 1 and lines[0].startswith(f"Freed the warehouse slot held by run {reused_pid[:8]}")
        assert instance.get_run_by_id(reused_pid).status == DagsterRunStatus.FAILURE
        info = storage.get_concurrency_info(runs.WAREHOUSE_POOL)
        assert {s.run_id for s in info.pending_steps} == set(others.values())
        assert all(instance.get_run_by_id(r).status == DagsterRunStatus.STARTED for r in others.values())


#: The demo's command, with its second load of snapshots held open: the test kills it there, after one platform's
#: batch was written and before the build, however fast the machine runs the small demo.
HOLD_THE_SECOND_LOAD = """
import time
import orchestration.defs.assets as assets
from viewtrail.cli import app

write = assets.write_scrape_frames
calls = []

def held(*args, **kwargs):
    calls.append(1)
    if len(calls) > 1:
        time.sleep(600)
    return write(*args, **kwargs)

assets.write_scrape_frames = held
app()
"""


@pytest.mark.timeout(600)
def test_a_demo_killed_mid_backfill_then_run_again_stores_what_an_uninterrupted_demo_stores(
    dagster_home: Path, warehouse_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_demo import _demo_rows

    now = last_complete_hour() - timedelta(days=3)  # the demo run again and the uninterrupted one see one window
    args = ["demo", "--videos", "8", "--days", "2"]
    output = tmp_path / "killed.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLD_THE_SECOND_LOAD, *args],
            cwd=REPO,
            env=dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def loading() -> bool:
        text = output.read_text()
        assert process.poll() is None, text[-3000:]
        return text.count("_snapshots: started") >= 2

    try:  # killed while the scrape run loads the platforms one after the other (one loaded), before any build
        _until(loading, "the demo's scrape run to be loading", timeout_s=400)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    killed_at = output.read_text()
    assert "4/4" not in killed_at and killed_at.count("_snapshots: done") == 1  # one platform loaded, no build

    again = demo.run_demo(videos=8, days=2, progress=lambda _: None, now=now)

    monkeypatch.setenv("VIEWTRAIL_DATA_DIR", str(tmp_path / "uninterrupted"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "uninterrupted_home"))  # an instance of its own, empty
    (tmp_path / "uninterrupted_home").mkdir()
    shutil.copy(REPO / ".dagster_home" / "dagster.yaml", tmp_path / "uninterrupted_home" / "dagster.yaml")
    expected = demo.run_demo(videos=8, days=2, progress=lambda _: None, now=now)

    counted = ("videos_tracked", "snapshots_stored", "attempts_stored", "discovered_count", "inbox_pending")
    assert {name: getattr(again, name) for name in counted} == {name: getattr(expected, name) for name in counted}
    assert len(again.alerts) == len(expected.alerts) > 0
    assert again.payouts == expected.payouts
    assert _demo_rows(again.analytics_path, timedelta(0)) == _demo_rows(expected.analytics_path, timedelta(0))


@pytest.mark.timeout(300)
def test_a_platform_failing_in_the_backfill_run_fails_it_by_name_and_the_others_are_loaded(
    dagster_home: Path, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import polars as pl
    from dagster import DagsterInstance

    import orchestration.defs.assets as assets

    first, last = _hours()
    _register_videos(warehouse_path, first)
    write = assets.write_scrape_frames

    def youtube_write_fails(con: Any, snapshots: pl.DataFrame, attempts: pl.DataFrame) -> Any:
        if attempts["video_id"].str.starts_with("youtube:").any():
            raise RuntimeError("the disk is full")
        return write(con, snapshots, attempts)

    monkeypatch.setattr(assets, "write_scrape_frames", youtube_write_fails)
    lines: list[str] = []
    with DagsterInstance.get() as instance, pytest.raises(runs.RunFailedError, match="raw/youtube_snapshots"):
        runs.backfill_snapshots(instance, runs.pipeline_resources(simulated=True), first, last, lines.append)
    assert any(line.strip().startswith("raw/youtube_snapshots: FAILED") for line in lines)
    with open_warehouse(warehouse_path, read_only=True) as con:
        loaded = dict(con.sql("SELECT split_part(video_id, ':', 1), count(*) FROM raw.snapshots GROUP BY 1").fetchall())
    assert set(loaded) == {"tiktok", "instagram", "x"}  # every other platform's hours, in the same run
