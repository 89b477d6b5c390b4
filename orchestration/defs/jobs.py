"""Jobs: scrape the four platforms for an hour range; rebuild dbt + the analyst copy."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from orchestration.defs.alerting import alert_events
from orchestration.defs.assets import PLAN_ASSET_KEYS, SCRAPE_ASSET_KEYS, SNAPSHOT_ASSET_KEYS
from orchestration.defs.dbt import DBT_GROUPS
from orchestration.defs.discovery import ACCOUNT_PLAN_ASSET_KEYS, ACCOUNTS_ASSET_KEYS, DISCOVERY_ASSET_KEYS
from orchestration.defs.executors import fanned_out_executor, one_process_executor
from orchestration.defs.programs import payout_finalizations
from orchestration.defs.publishing import analytics_copy

#: Each platform's plan, scrape and load; a failing platform fails only its own steps. Steps run in their own
#: processes so the four scrapes (network-bound, no pool slot) run at once; the loads take turns on the
#: "duckdb" pool. With a Celery broker set, the steps go to the scrape and warehouse workers instead.
scrape_job = define_asset_job(
    "scrape_snapshots",
    selection=AssetSelection.assets(*PLAN_ASSET_KEYS, *SCRAPE_ASSET_KEYS, *SNAPSHOT_ASSET_KEYS),
    executor_def=fanned_out_executor.configured({"max_concurrent": 2 * len(SCRAPE_ASSET_KEYS)}),
    description="Scrape the videos due in the selected hour(s) on every platform, then load them.",
)

#: The same steps for a few named videos (sensors, `viewtrail rescrape`): in one process on one machine, since
#: starting a process per step would cost more than the scrape itself (the first snapshot arrives seconds sooner);
#: on the scrape and warehouse workers when a Celery broker is set.
scrape_videos_job = define_asset_job(
    "scrape_videos_now",
    selection=AssetSelection.assets(*PLAN_ASSET_KEYS, *SCRAPE_ASSET_KEYS, *SNAPSHOT_ASSET_KEYS),
    executor_def=one_process_executor,
    description="Scrape the videos a request names (config video_ids), now, then load them.",
)

#: Each platform's account discovery and its record; like the scrapes, discoveries run at once and the records
#: take turns on the "duckdb" pool.
discovery_job = define_asset_job(
    "discover_accounts",
    selection=AssetSelection.assets(*ACCOUNT_PLAN_ASSET_KEYS, *DISCOVERY_ASSET_KEYS, *ACCOUNTS_ASSET_KEYS),
    executor_def=fanned_out_executor.configured({"max_concurrent": 2 * len(DISCOVERY_ASSET_KEYS)}),
    description="List the watched accounts due in the selected hour(s): metrics, and new videos registered.",
)

#: Every dbt model (including those fed only by the registry), the payout finalizations the program marts read,
#: and the analyst copy.
BUILD_SELECTION = AssetSelection.groups(*DBT_GROUPS) | AssetSelection.assets(
    payout_finalizations, analytics_copy, alert_events
)

#: dbt build (models + data tests as asset checks) then the analyst copy: in one process on one machine, on the
#: warehouse worker when a Celery broker is set.
build_job = define_asset_job(
    "build_marts",
    selection=BUILD_SELECTION,
    executor_def=one_process_executor,
    description="Finalize due payouts, dbt build of staging, intermediate and marts, then publish data/analytics.duckdb and Parquet.",
)
