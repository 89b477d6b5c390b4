"""The hourly partitioning shared by the snapshot assets, their job and schedule."""

from __future__ import annotations

from dagster import HourlyPartitionsDefinition

#: First hour a snapshot partition exists for (backfills cannot go earlier).
PARTITIONS_START = "2025-01-01-00:00"

#: Partition key = the UTC hour the scrape stands for; the last partition is the last complete hour.
hourly_partitions = HourlyPartitionsDefinition(start_date=PARTITIONS_START, timezone="UTC")
