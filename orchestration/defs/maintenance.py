"""Unattended for months: a daily clean-up of Dagster's run history and of orphaned staged batches.

Dagster prunes schedule and sensor ticks itself (``retention`` in dagster.yaml) but keeps every run and its event
log forever: an hourly scrape and discovery, their builds and the sensors' runs add some ten thousand runs a month
to the instance's database. ``dagster_retention`` deletes finished runs (their event logs, and the captured
stdout/stderr the compute log manager keeps on this host) created more than ``VIEWTRAIL_RUN_RETENTION_DAYS`` days
ago through the instance API, and sweeps staged batches that no load step picked up (a load step sweeps too, but
only when one runs)."""

from datetime import timedelta

from dagster import (
    DagsterRunStatus,
    DefaultScheduleStatus,
    OpExecutionContext,
    RunsFilter,
    ScheduleDefinition,
    in_process_executor,
    job,
    op,
)

from orchestration.defs.assets import STALE_BATCH_AGE, staging_root
from orchestration.defs.queues import WAREHOUSE_STEP
from orchestration.defs.resources import WarehouseResource
from viewtrail import config
from viewtrail.clock import utc_now
from viewtrail.pipeline import staging

_FINISHED = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
_BATCH = 200  # runs deleted per query: a first clean-up of a long history goes in bounded steps


def delete_old_runs(instance, older_than: timedelta) -> int:
    """Delete finished runs created before now - ``older_than`` (with their event logs and compute logs); returns
    how many."""
    cutoff = utc_now() - older_than
    deleted = 0
    while True:
        records = instance.get_run_records(
            RunsFilter(statuses=_FINISHED, created_before=cutoff.replace(tzinfo=None)), limit=_BATCH
        )
        if not records:
            return deleted
        for record in records:
            run_id = record.dagster_run.run_id
            instance.delete_run(run_id)
            # Deleting a run leaves its captured stdout/stderr behind; every log key of a run starts with its id.
            # Celery workers capture theirs on their own hosts (docs/deploy.md: a find from cron there).
            instance.compute_log_manager.delete_logs(prefix=[run_id])
            deleted += 1


@op(tags=WAREHOUSE_STEP, description="Delete old finished runs and their event logs; sweep orphaned staged batches.")
def clean_up_history(context: OpExecutionContext, warehouse: WarehouseResource) -> None:
    days = config.settings().run_retention_days
    deleted = delete_old_runs(context.instance, timedelta(days=days))
    swept = staging.sweep(staging_root(warehouse), older_than=STALE_BATCH_AGE)
    context.log.info(f"deleted {deleted} run(s) older than {days:g} days; swept {len(swept)} staged batch(es)")


@job(executor_def=in_process_executor, description="Dagster run retention and the staging sweep (daily).")
def dagster_retention():
    clean_up_history()


dagster_retention_schedule = ScheduleDefinition(
    name="daily_dagster_retention",
    job=dagster_retention,
    cron_schedule="15 4 * * *",  # away from the hour's scrape and the 03:30 full dbt tests
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Deletes finished runs older than VIEWTRAIL_RUN_RETENTION_DAYS and sweeps orphaned staged batches.",
)
