"""Two runs launched at once both succeed, and their warehouse writes never overlap.

Every warehouse writer is in the pool "duckdb", limited to 1 by the committed .dagster_home/dagster.yaml, so the
second run's steps normally wait for the slot instead of fighting over the DuckDB file lock. What users rely on
is narrower and is what this test measures: no two write transactions overlap, and every write is recorded.
It is measured from the writes themselves (meta.write_log, whose intervals are taken inside each transaction),
not from Dagster's step events: a step spans planning and network I/O with no connection open, and Dagster's
SQLite instance storage can grant a pool's only slot to two steps that claim it at the same instant (its
claim reads the free slot and takes it in two statements). When that happens DuckDB's file lock still keeps
the two processes' writes apart: the second one waits to open the file."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from viewtrail.app import demo
from viewtrail.warehouse.connection import open_warehouse

REPO = Path(__file__).resolve().parents[1]

RUN_ONE = """
import sys, warnings
warnings.simplefilter("ignore")
from dagster import DagsterInstance, materialize
from orchestration.defs.assets import assets_of
from orchestration.runs import QUIET_RUN_CONFIG, pipeline_resources
assets = assets_of(*sys.argv[2].split(","))
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
    from dagster import DagsterInstance, DagsterRunStatus

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
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for platforms in ("tiktok,youtube", "instagram,x")
    ]
    outputs = [p.communicate(timeout=240) for p in runs]
    for process, (_out, err) in zip(runs, outputs, strict=True):
        assert process.returncode == 0, err[-3000:]

    with DagsterInstance.get() as instance:
        finished = instance.get_runs()
        assert len(finished) == 2 and all(r.status == DagsterRunStatus.SUCCESS for r in finished)
        assert instance.event_log_storage.get_concurrency_info("duckdb").slot_count == 1
        run_ids = sorted(r.run_id for r in finished)

    with open_warehouse(warehouse_path, read_only=True) as con:
        platforms = {
            row[0]
            for row in con.sql("SELECT DISTINCT split_part(video_id, ':', 1) FROM raw.scrape_attempts").fetchall()
        }
        writes = con.sql(
            "SELECT write_id, run_id, pid, started_at, finished_at, ingested_at, snapshots_inserted, attempts_inserted"
            " FROM meta.write_log ORDER BY started_at"
        ).fetchall()
        stored = con.sql(
            "SELECT (SELECT count(*) FROM raw.snapshots), (SELECT count(*) FROM raw.scrape_attempts)"
        ).fetchall()[0]
        unlogged_snapshots = con.sql(
            "SELECT count(*) FROM raw.snapshots s ANTI JOIN meta.write_log w USING (ingested_at)"
        ).fetchall()[0][0]
    assert platforms == {"tiktok", "youtube", "instagram", "x"}

    # both runs wrote (one write per snapshot step), each from its own process
    assert sorted(run_id for _, run_id, *_ in writes) == sorted(run_ids * 2)
    assert len({pid for _, _, pid, *_ in writes}) == 2
    # no write started before the previous one had finished
    for first, second in itertools.pairwise(writes):
        assert second[3] >= first[4], (
            f"write {second[0]} (run {second[1]}) began while write {first[0]} (run {first[1]}) was open"
        )
    # every stored row belongs to a logged write, and the log's counts add up to what is stored
    assert unlogged_snapshots == 0
    assert (sum(w[6] for w in writes), sum(w[7] for w in writes)) == stored
    # commit order is ingested_at order
    assert [w[5] for w in writes] == sorted(w[5] for w in writes)
