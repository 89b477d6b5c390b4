"""Schedules: every hour, scrape the hour that just ended; once a day, a dbt build with every data test on every row."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, ScheduleDefinition, build_schedule_from_partitioned_job

from orchestration.defs.dbt import DBT_TESTS_TAG
from orchestration.defs.jobs import build_job, discovery_job, scrape_job

hourly_scrape_schedule = build_schedule_from_partitioned_job(
    scrape_job,
    name="hourly_scrape",
    minute_of_hour=2,  # a couple of minutes after the hour: the partition for the hour that just ended exists
    default_status=DefaultScheduleStatus.RUNNING,
    description="Materializes the snapshot assets for the hour that just ended.",
)

hourly_discovery_schedule = build_schedule_from_partitioned_job(
    discovery_job,
    name="hourly_discovery",
    minute_of_hour=1,  # just before the scrape: videos discovered now are due in the scrape of the same hour
    default_status=DefaultScheduleStatus.RUNNING,
    description="Discovers the watched accounts due in the hour that just ended (each on its own cadence).",
)

#: The builds after each scrape test only the videos they rewrote (see orchestration.defs.dbt.DBT_TESTS_TAG);
#: once a day the same job runs with every data test over every row. 03:30 UTC: away from the hour's scrape.
daily_full_dbt_tests_schedule = ScheduleDefinition(
    name="daily_full_dbt_tests",
    job=build_job,
    cron_schedule="30 3 * * *",
    execution_timezone="UTC",
    tags={DBT_TESTS_TAG: "all"},
    default_status=DefaultScheduleStatus.RUNNING,
    description="dbt build (and the analyst copy) with every data test over every row, not only the videos "
    "the hourly builds rewrote.",
)
