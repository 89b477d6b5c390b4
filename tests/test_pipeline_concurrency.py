"""Two runs launched at once both succeed: every warehouse writer is in the pool "duckdb", limited to 1 by the
committed .dagster_home/dagster.yaml, so the second run's steps wait for the slot instead of fighting over the
DuckDB file lock."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration import demo
from orchestration.warehouse.connection import open_warehouse

REPO = Path(__file__).resolve().parents[1]

RUN_ONE = """
import sys, warnings
warnings.simplefilter("ignore")
from dagster import DagsterInstance, materialize
from orchestration.defs.assets import snapshot_assets
from orchestration.runs import QUIET_RUN_CONFIG, pipeline_resources
wanted = {f"{p}_snapshots" for p in sys.argv[2].split(",")}
assets = [a for a in snapshot_assets if next(iter(a.keys)).path[-1] in wanted]
with DagsterInstance.get() as instance:
    result = materialize(assets, instance=instance, resources=pipeline_resources(simulated=True),
                         partition_key=sys.argv[1], run_config=QUIET_RUN_CONFIG, raise_on_error=False)
print(result.run_id, result.success)
sys.exit(0 if result.success else 1)
"""


@pytest.mark.timeout(300)
def test_two_runs_launched_at_once_both_succeed_one_writer_at_a_time(
    warehouse_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with DagsterInstance.get():
        pass  # create the instance's storage once (two processes migrating it at once would race)
    hour = demo.last_complete_hour() - demo.timedelta(hours=3)
    with open_warehouse(warehouse_path) as con:
        demo.register_sample_videos(con, demo.sample_videos(40), added_at=hour - demo.timedelta(days=1))
    partition = hour.strftime("%Y-%m-%d-%H:%M")
    env = dict(os.environ)
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN_ONE, partition, platforms],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for platforms in ("tiktok,youtube", "instagram,x")
    ]
    outputs = [p.communicate(timeout=240) for p in runs]
    for process, (out, err) in zip(runs, outputs, strict=True):
        assert process.returncode == 0, err[-3000:]

    with DagsterInstance.get() as instance:
        finished = instance.get_runs()
        assert len(finished) == 2 and all(r.status == DagsterRunStatus.SUCCESS for r in finished)
        assert instance.event_log_storage.get_concurrency_info("duckdb").slot_count == 1
        intervals = []
        for run in finished:
            starts, ends = {}, {}
            for entry in instance.all_logs(run.run_id, of_type={DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}):
                target = starts if entry.dagster_event.event_type == DagsterEventType.STEP_START else ends
                target[entry.step_key] = entry.timestamp
            intervals += [(starts[k], ends[k], k) for k in starts]
    assert len(intervals) == 4
    intervals.sort()
    for (_, end, first), (start, _, second) in zip(intervals, intervals[1:]):
        assert start >= end, f"{second} started while {first} was still writing"

    with open_warehouse(warehouse_path, read_only=True) as con:
        platforms = {row[0] for row in con.sql("SELECT DISTINCT split_part(video_id, ':', 1) FROM raw.scrape_attempts").fetchall()}
    assert platforms == {"tiktok", "youtube", "instagram", "x"}
