"""Every hour, scrape the hour that just ended (the last complete hourly partition)."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, build_schedule_from_partitioned_job

from orchestration.defs.jobs import scrape_job

hourly_scrape_schedule = build_schedule_from_partitioned_job(
    scrape_job,
    name="hourly_scrape",
    minute_of_hour=2,  # a couple of minutes after the hour: the partition for the hour that just ended exists
    default_status=DefaultScheduleStatus.RUNNING,
    description="Materializes the snapshot assets for the hour that just ended.",
)
