"""Scrape workers on hosts without the warehouse file (docs/deploy.md): the plan steps read the registry on the
warehouse worker and stage it in S3 (moto), the scrape and discovery steps read that plan on scrape workers whose
VIEWTRAIL_WAREHOUSE names a file that does not exist there. What users rely on: the rows of a run on one machine,
the targeted scrapes (sensors, `viewtrail rescrape`) and the builds on the same workers, and no empty warehouse
made on a scrape host."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.distributed import cluster as topology

VIDEOS = 24
PLATFORMS = "tiktok,youtube"
LAUNCH_JOB = Path(__file__).with_name("launch_job.py")


def _scrape_host(cluster: topology.Cluster) -> tuple[dict[str, str], Path]:
    """A scrape worker's environment on a host that has no warehouse: its data dir does not exist, and it has no
    writer lock to take (it writes nothing but staged files). Returns the environment and that data dir."""
    away = cluster.root / "scrape-host"
    env = {k: v for k, v in cluster.env.items() if k != "VIEWTRAIL_WRITER_LOCK_URL"}
    env.update(VIEWTRAIL_DATA_DIR=str(away / "data"), VIEWTRAIL_WAREHOUSE=str(away / "data" / "warehouse.duckdb"))
    return env, away


def _with_remote_workers(cluster: topology.Cluster) -> Path:
    env, away = _scrape_host(cluster)
    cluster.start_worker("scrape1", "scrape", env=env)
    cluster.start_worker("scrape2", "scrape", env=env)
    cluster.start_worker("warehouse", "warehouse")
    cluster.ready("scrape1", "scrape2", "warehouse")
    return away


def _launch_job(cluster: topology.Cluster, job: str, run_config: dict, tags: dict, *keys: str) -> tuple[str, str]:
    proc = subprocess.Popen(
        [sys.executable, str(LAUNCH_JOB), job, json.dumps(run_config), json.dumps(tags), *keys],
        env=cluster.env,
        cwd=topology.REPO,
        stdout=subprocess.PIPE,
        stderr=open(cluster.root / "launcher.log", "ab"),
        text=True,
        start_new_session=True,
    )
    ((run_id, status),) = topology.run_lines(proc)
    return run_id, status


def _account_rows(warehouse: Path) -> dict[str, list[tuple]]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            "account_snapshots": con.sql(
                "SELECT * EXCLUDE (ingested_at, run_id) FROM raw.account_snapshots ORDER BY ALL"
            ).fetchall(),
            "account_attempts": con.sql(
                "SELECT * EXCLUDE (run_id, duration_ms) FROM raw.account_attempts ORDER BY ALL"
            ).fetchall(),
            "discovered": con.sql(
                "SELECT video_id FROM registry.videos WHERE source <> 'manual' ORDER BY ALL"
            ).fetchall(),
        }


def _watch_demo_accounts(warehouse: Path, first_hour) -> None:
    from datetime import timedelta

    from viewtrail.app import demo
    from viewtrail.warehouse.connection import open_warehouse

    with open_warehouse(warehouse) as con:
        demo.watch_demo_accounts(con, added_at=first_hour - timedelta(days=1))


_DISCOVERY_REFERENCE = """
import sys, warnings
warnings.simplefilter("ignore")
from datetime import datetime
from orchestration.runs import backfill_discovery, dagster_instance, pipeline_resources
with dagster_instance() as instance:
    backfill_discovery(instance, pipeline_resources(simulated=True), datetime.fromisoformat(sys.argv[1]),
                       datetime.fromisoformat(sys.argv[2]), print, platforms=sys.argv[3].split(","))
"""


def _discovery_reference(root: Path, start, end, platforms: str) -> dict[str, list[tuple]]:
    """The account rows an in-process discovery (one machine: local staging, no Celery) lands for the same range."""
    import os

    data = root / "discovery-reference"
    (data / "dagster_home").mkdir(parents=True)
    shutil.copy(topology.REPO / ".dagster_home" / "dagster.yaml", data / "dagster_home" / "dagster.yaml")
    topology.register(data / "warehouse.duckdb", VIDEOS, start)  # the same registry as the cluster's
    _watch_demo_accounts(data / "warehouse.duckdb", start)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIEWTRAIL_", "DAGSTER_", "AWS_"))}
    env.update(
        DAGSTER_HOME=str(data / "dagster_home"),
        VIEWTRAIL_DATA_DIR=str(data),
        VIEWTRAIL_WAREHOUSE=str(data / "warehouse.duckdb"),
        VIEWTRAIL_OFFLINE="1",
        PYTHONPATH=str(topology.REPO),
    )
    subprocess.run(
        [sys.executable, "-c", _DISCOVERY_REFERENCE, start.isoformat(), end.isoformat(), platforms],
        env=env,
        cwd=topology.REPO,
        check=True,
        capture_output=True,
        timeout=topology.RUN_TIMEOUT_S,
    )
    return _account_rows(data / "warehouse.duckdb")


@pytest.mark.timeout(1200)
def test_scrape_workers_without_the_warehouse_file_land_the_rows_of_an_in_process_run(
    cluster: topology.Cluster, tmp_path: Path
):
    from viewtrail.app import demo

    start, end = topology.window(6)
    topology.register(cluster.warehouse, VIDEOS, start)
    _watch_demo_accounts(cluster.warehouse, start)
    away = _with_remote_workers(cluster)

    # discovery first, as the hourly schedules order them: the videos it registers are scraped too
    ((discovery_run, status),) = topology.run_lines(
        subprocess.Popen(
            [sys.executable, str(topology.LAUNCHER), "discover_accounts", topology.partition(start)]
            + [topology.partition(end), PLATFORMS],
            env=cluster.env,
            cwd=topology.REPO,
            stdout=subprocess.PIPE,
            stderr=open(cluster.root / "launcher.log", "ab"),
            text=True,
            start_new_session=True,
        )
    )
    with cluster.instance() as instance:
        events = topology.step_events(instance, discovery_run)
    assert status == "success", topology.dump(events)
    discovered = _account_rows(cluster.warehouse)
    assert discovered["account_attempts"] and discovered == _discovery_reference(tmp_path, start, end, PLATFORMS)

    ((scrape_run, status),) = topology.run_lines(cluster.launch(start, end, PLATFORMS))
    with cluster.instance() as instance:
        events = topology.step_events(instance, scrape_run)
    assert status == "success", topology.dump(events)
    succeeded = {key for kind, key in events if kind == "STEP_SUCCESS"}
    assert {"plans__tiktok", "scrapes__tiktok", "raw__tiktok_snapshots"} <= succeeded
    # the scrapes and discoveries ran on the scrape workers (4), the plans and loads on the warehouse worker (8)
    assert len(cluster.steps_done("scrape1") + cluster.steps_done("scrape2")) == 4
    assert len(cluster.steps_done("warehouse")) == 8
    landed = topology.rows(cluster.warehouse)
    reference = topology.reference_rows(tmp_path, VIDEOS, start, end, PLATFORMS)
    # the discovered videos were scraped too (the reference has the sample videos only): compare the sample's rows
    sample = {video.video_id for video in demo.sample_videos(VIDEOS)}
    landed = {table: [r for r in rows if r[0] in sample] for table, rows in landed.items()}
    assert landed["snapshots"] and landed == reference
    assert not away.exists()  # nothing of its own on a scrape host: no empty warehouse, no data dir


@pytest.mark.timeout(1200)
def test_a_targeted_scrape_and_a_build_run_on_the_workers_with_a_celery_broker(cluster: topology.Cluster):
    from viewtrail.clock import last_complete_hour

    hour = last_complete_hour()
    topology.register(cluster.warehouse, 8, hour)
    import duckdb

    with duckdb.connect(str(cluster.warehouse), read_only=True) as con:
        ((target,),) = con.sql("SELECT min(video_id) FROM registry.videos WHERE platform = 'tiktok'").fetchall()
    away = _with_remote_workers(cluster)

    # what the rescrape and new-videos sensors request: the named video, observed now, in the last complete hour
    from orchestration.defs.sensors import targeted_run_request

    request = targeted_run_request([target], run_key="test", reason="test")
    assert request is not None
    run_id, status = _launch_job(
        cluster,
        "scrape_videos_now",
        request.run_config,
        {**request.tags, "dagster/partition": request.partition_key},
        *(k.to_user_string() for k in request.asset_selection),
    )
    with cluster.instance() as instance:
        events = topology.step_events(instance, run_id)
    assert status == "success", topology.dump(events)
    assert len(cluster.steps_done("scrape1") + cluster.steps_done("scrape2")) == 1  # the scrape, on a scrape worker
    assert len(cluster.steps_done("warehouse")) == 2  # its plan and its load
    with duckdb.connect(str(cluster.warehouse), read_only=True) as con:
        scraped = con.sql("SELECT DISTINCT video_id FROM raw.scrape_attempts").fetchall()
    assert scraped == [(target,)]
    assert not away.exists()

    # the build: dbt, the alerts and the analyst copy, all on the warehouse worker
    run_id, status = _launch_job(cluster, "build_marts", {}, {})
    with cluster.instance() as instance:
        events = topology.step_events(instance, run_id)
    assert status == "success", topology.dump(events)
    built = {key for kind, key in events if kind == "STEP_SUCCESS"}
    assert {"viewtrail_dbt", "analytics_copy"} <= built
    assert len(cluster.steps_done("warehouse")) == 2 + len(built)
    analytics = Path(cluster.env["VIEWTRAIL_DATA_DIR"]) / "analytics.duckdb"
    with duckdb.connect(str(analytics), read_only=True) as con:
        latest = con.sql("SELECT video_id FROM marts.video_latest WHERE views IS NOT NULL").fetchall()
    assert latest == [(target,)]


def test_a_plan_staged_in_the_bucket_reaches_the_scrape_host_whole_and_is_removed_with_its_batch(s3_bucket: str):
    from datetime import datetime, timedelta

    from viewtrail.domain.models import Platform
    from viewtrail.pipeline import staging
    from viewtrail.planning.scheduling import VideoSchedule

    root = f"s3://{s3_bucket}/staging"
    hour = datetime(2026, 11, 10, 3)
    video = VideoSchedule(
        "x:1800000000000000001", Platform.X, "1800000000000000001", "https://x.com/i/status/1", None, True,
        "available", "auto", None, None, hour - timedelta(days=2), hour - timedelta(hours=1), "timeout", 0,
    )  # fmt: skip
    plan = staging.VideoPlan(targeted=True, videos=[video], pending_links=[])
    assert staging.load_plan(staging.plan_dir(root, Platform.X, "run1")) is None  # nothing staged: no scrape
    path = staging.stage_plan(root, Platform.X, "run1", plan)
    assert path == f"{root}/x/plan-run1"
    assert staging.load_plan(path) == plan
    staging.discard(path)
    assert staging.load_plan(path) is None
