"""The schedule and the run-failure sensor, driven with Dagster's own test contexts."""

from __future__ import annotations

from datetime import datetime

from dagster import (
    DagsterEventType,
    DagsterInstance,
    build_run_status_sensor_context,
    build_schedule_context,
    materialize,
)

from orchestration.definitions import defs as load_defs
from orchestration.defs.assets import assets_of
from orchestration.defs.resources import NotifierResource, PlatformClientsResource, WarehouseResource
from orchestration.defs.sensors import notify_run_failures
from viewtrail.domain.models import Platform
from viewtrail.pipeline.queue import QueueKind, enqueue_rescrape, pending_requests

#: The code location, loaded once for this module (`orchestration.definitions.defs` is a lazy `@definitions` loader).
defs = load_defs()


def test_hourly_schedule_materializes_the_hour_that_just_ended():
    schedule = defs.get_schedule_def("hourly_scrape")
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 11, 20, 14, 2))
        requests = list(schedule.evaluate_tick(context).run_requests)
    assert [r.partition_key for r in requests] == ["2026-11-20-13:00"]
    assert defs.resolve_job_def(schedule.job_name).name == "scrape_snapshots"


def test_run_failure_sensor_logs_the_failed_run(tmp_path):
    warehouse = WarehouseResource(
        path=str(tmp_path / "w.duckdb"),
        analytics_path=str(tmp_path / "a.duckdb"),
        marts_export_dir=str(tmp_path / "marts"),
    )
    platforms = PlatformClientsResource(modes={"x": "real"}, base_urls={"x": "http://127.0.0.1:9"})
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            assets_of(Platform.X),
            partition_key="2026-10-02-00:00",
            instance=instance,
            resources={"warehouse": warehouse, "platforms": platforms},
            raise_on_error=False,
        )
        assert not result.success
        failure = next(e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE)
        context = build_run_status_sensor_context(
            sensor_name="notify_run_failures",
            dagster_event=failure,
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            resources={"notifier": NotifierResource(log_path=str(tmp_path / "logs" / "failures.log"))},
        ).for_run_failure()
        notify_run_failures(context)
    line = (tmp_path / "logs" / "failures.log").read_text()
    assert f"run {result.run_id}" in line and "FAILED" in line and line.count("\n") == 1


def test_queue_files_are_complete_json_and_bad_files_are_skipped(tmp_path):
    path = enqueue_rescrape(["youtube:abcdefghijk", " ", "youtube:abcdefghijk"], root=tmp_path)
    assert path is not None and not list(tmp_path.rglob("*.tmp"))
    (tmp_path / "rescrape" / "0-garbage.json").write_text("{not json")
    requests = pending_requests(QueueKind.RESCRAPE, root=tmp_path)
    assert [r.video_ids for r in requests] == [("youtube:abcdefghijk",)]
    assert enqueue_rescrape([], root=tmp_path) is None
