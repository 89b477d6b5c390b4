"""The production topology on one machine (docs/deploy.md): Dagster on PostgreSQL, the hourly job's steps on
Celery workers (two on the ``scrape`` queue, one ``--concurrency=1`` worker on ``warehouse``), batches staged in
S3 (moto), the writer lock in PostgreSQL. What users rely on: the same rows as a run on one machine, nothing lost
or duplicated when a worker dies, writes that never overlap, and a misconfigured worker saying what it lacks."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.distributed import cluster as topology

VIDEOS = 24
PLATFORMS = "tiktok,youtube"


def _register(warehouse: Path, videos: int = VIDEOS, first_hour=None) -> None:
    topology.register(warehouse, videos, first_hour or topology.window(12)[0])


def _with_workers(cluster: topology.Cluster) -> None:
    cluster.start_worker("scrape1", "scrape")
    cluster.start_worker("scrape2", "scrape")
    cluster.start_worker("warehouse", "warehouse")
    cluster.ready("scrape1", "scrape2", "warehouse")


@pytest.mark.timeout(900)
def test_the_hourly_job_on_two_scrape_workers_and_one_warehouse_worker_lands_the_rows_of_an_in_process_run(
    cluster: topology.Cluster, tmp_path: Path
):
    start, end = topology.window(12)
    _register(cluster.warehouse, first_hour=start)
    _with_workers(cluster)
    launched = time.monotonic()
    ((run_id, status),) = topology.run_lines(cluster.launch(start, end, PLATFORMS))
    elapsed = time.monotonic() - launched
    with cluster.instance() as instance:
        events = topology.step_events(instance, run_id)
    assert status == "success", topology.dump(events)
    succeeded = {key for kind, key in events if kind == "STEP_SUCCESS"}
    assert succeeded == {
        *("plans__tiktok", "scrapes__tiktok", "raw__tiktok_snapshots"),
        *("plans__youtube", "scrapes__youtube", "raw__youtube_snapshots"),
    }
    # the steps ran on the workers of their queues, not in the launcher: both scrapes on the scrape workers, both
    # plans and both loads on the warehouse worker
    scrape_steps = cluster.steps_done("scrape1") + cluster.steps_done("scrape2")
    load_steps = cluster.steps_done("warehouse")
    assert len(scrape_steps) == 2 and len(load_steps) == 4
    landed = topology.rows(cluster.warehouse)
    assert landed["snapshots"] and landed == topology.reference_rows(tmp_path, VIDEOS, start, end, PLATFORMS)
    print(
        f"\nrun of 6 steps on Celery: {elapsed:.1f}s; scrape steps {', '.join(f'{t:.1f}s' for t in scrape_steps)}; "
        f"plans and loads {', '.join(f'{t:.1f}s' for t in load_steps)} (as the workers measured them)"
    )


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    ("stalled", "queue", "where"),
    [("scrape1", "scrape", "scrape"), ("warehouse", "warehouse", "write")],
    ids=["scrape worker killed mid-scrape", "warehouse worker killed mid-write"],
)
def test_a_worker_killed_mid_step_loses_and_duplicates_nothing_once_the_partition_is_re_run(
    cluster: topology.Cluster, tmp_path: Path, stalled: str, queue: str, where: str
):
    start, end = topology.window(12)
    _register(cluster.warehouse, first_hour=start)
    # the stalled worker is the only one on its queue, so the step goes to it; the other queue gets a healthy one
    cluster.start_worker(stalled, queue, env=topology.stalled_env(cluster.env, where))
    other = ("warehouse", "warehouse") if queue == "scrape" else ("scrape1", "scrape")
    cluster.start_worker(*other)
    cluster.ready(stalled, other[0])
    launcher = cluster.launch(start, end, "tiktok")
    topology.until(
        lambda: f"STALLED {where}" in topology.worker_log(cluster, stalled),
        f"the {where} step to reach its stall on worker {stalled}",
        timeout_s=topology.RUN_TIMEOUT_S,
    )
    cluster.kill_worker(stalled)
    killed_run = topology.abandon_run(cluster, launcher)
    if where == "write":
        with cluster.instance() as instance:
            assert ("STEP_START", "raw__tiktok_snapshots") in topology.step_events(instance, killed_run)
    cleared = topology.rows(cluster.warehouse)
    assert cleared == {"snapshots": [], "attempts": []}  # the killed step stored nothing, not half a batch

    cluster.start_worker(f"{stalled}-again", queue)  # the re-run's steps wait in the broker until it is up
    ((_, status),) = topology.run_lines(cluster.launch(start, end, "tiktok"))
    assert status == "success"
    landed = topology.rows(cluster.warehouse)
    assert landed["snapshots"] and landed == topology.reference_rows(tmp_path, VIDEOS, start, end, "tiktok")
    import duckdb

    with duckdb.connect(str(cluster.warehouse), read_only=True) as con:
        writes = con.sql("SELECT count(*) FROM meta.write_log WHERE snapshots_inserted > 0").fetchall()
    assert writes == [(1,)]  # the re-run's write only: the killed one left no trace


PAIRS = 20


@pytest.mark.timeout(1200)
def test_twenty_pairs_of_runs_launched_at_the_same_instant_never_overlap_their_writes(
    cluster: topology.Cluster, tmp_path: Path
):
    start, end = topology.window(2)
    _register(cluster.warehouse, videos=8, first_hour=start)
    _with_workers(cluster)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    launched = time.monotonic()
    fast = dict(cluster.env, VT_TEST_FAST_TICKS="1")
    sides = [
        cluster.launch(start, end, platform, str(PAIRS), str(barrier), side, env=fast)
        for side, platform in (("a", "tiktok"), ("b", "youtube"))
    ]
    runs = [line for side in sides for line in topology.run_lines(side, timeout_s=1100)]
    elapsed = time.monotonic() - launched
    assert len(runs) == 2 * PAIRS and {status for _, status in runs} == {"success"}
    import duckdb

    with duckdb.connect(str(cluster.warehouse), read_only=True) as con:
        writes = con.sql(
            "SELECT epoch(started_at), epoch(finished_at), run_id FROM meta.write_log ORDER BY started_at"
        ).fetchall()
    assert len(writes) == 2 * PAIRS  # one write per run
    overlaps = [(a, b) for a, b in zip(writes, writes[1:], strict=False) if b[0] < a[1]]
    assert overlaps == []
    # re-running a partition changes nothing: the rows of one run of each platform
    landed = topology.rows(cluster.warehouse)
    assert landed["snapshots"] and landed == topology.reference_rows(tmp_path, 8, start, end, PLATFORMS)
    print(f"\n{PAIRS} pairs of runs ({6 * PAIRS} steps) on Celery: {elapsed:.0f}s")


@pytest.mark.timeout(900)
def test_a_worker_without_a_setting_fails_its_step_with_a_sentence_naming_the_variable_and_the_host(
    cluster: topology.Cluster,
):
    start, end = topology.window(1)
    _register(cluster.warehouse, videos=8, first_hour=start)
    # a scrape worker told to scrape YouTube for real through the Data API, without the key; a warehouse worker
    # without the staging URL
    scrape_env = dict(cluster.env, VIEWTRAIL_YOUTUBE_MODE="real", VIEWTRAIL_YOUTUBE_BACKEND="native")
    warehouse_env = {k: v for k, v in cluster.env.items() if k != "VIEWTRAIL_STAGING_URL"}
    cluster.start_worker("scrape1", "scrape", env=scrape_env)
    cluster.start_worker("warehouse", "warehouse", env=warehouse_env)
    cluster.ready("scrape1", "warehouse")
    ((run_id, status),) = topology.run_lines(cluster.launch(start, end, PLATFORMS))
    assert status == "failure"
    with cluster.instance() as instance:
        failures = {
            e.dagster_event.step_key: e.dagster_event.step_failure_data.error.message
            for e in instance.all_logs(run_id)
            if e.dagster_event is not None and e.dagster_event.event_type_value == "STEP_FAILURE"
        }
    host = socket.gethostname()
    youtube = failures["scrapes__youtube"]
    assert f"On host {host}: YOUTUBE_API_KEY is not set" in youtube
    tiktok = failures["scrapes__tiktok"]  # its plan was staged on the warehouse host's disk, not in S3
    assert "VIEWTRAIL_STAGING_URL" in tiktok and f"on host {host}" in tiktok and "s3://" in tiktok
    for message in (youtube, tiktok):
        assert "Traceback" not in message.split("\n", 1)[0]
