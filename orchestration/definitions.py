"""The viewtrail code location (loaded by workspace.yaml, ``[tool.dagster]``, ``dagster dev``, ``dagster job
execute -m orchestration.definitions``).

Nothing is assembled at import: :func:`defs`, decorated with Dagster's ``@definitions``, reads the settings,
builds the resources and returns the one ``Definitions`` when Dagster loads the location (or a test calls
``defs()``). A bad variable therefore fails the load with its one sentence (``config.SettingsError``), never an
import-time traceback. The ``orchestration.defs`` modules are imported inside the function for the same reason:
``orchestration.defs.alerting`` and ``orchestration.defs.publishing`` read dbt's manifest (the marts,
``mart_keys()``) when they are imported.
"""

from __future__ import annotations

import warnings

from dagster import (
    BetaWarning,
    Definitions,
    PreviewWarning,
    definitions,
)

from viewtrail import config

warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)


@definitions
def defs() -> Definitions:
    """The code location's assets, jobs, schedules, sensors and resources."""
    settings = config.settings()  # first: a bad variable stops the load here, with its sentence

    from orchestration.defs import schedules
    from orchestration.defs.alerting import alert_events, alert_events_mart
    from orchestration.defs.assets import platform_assets
    from orchestration.defs.dbt import viewtrail_dbt_assets
    from orchestration.defs.discovery import account_assets
    from orchestration.defs.executors import one_process_executor
    from orchestration.defs.jobs import build_job, discovery_job, scrape_job, scrape_videos_job
    from orchestration.defs.maintenance import dagster_retention, dagster_retention_schedule
    from orchestration.defs.programs import payout_finalizations
    from orchestration.defs.publishing import analytics_copy
    from orchestration.defs.resources import build_resources
    from orchestration.defs.sensors import all_sensors

    return Definitions(
        assets=[
            *platform_assets,
            *account_assets,
            viewtrail_dbt_assets(),
            payout_finalizations,
            analytics_copy,
            alert_events,
            alert_events_mart,
        ],
        jobs=[scrape_job, scrape_videos_job, discovery_job, build_job, dagster_retention],
        schedules=[
            schedules.hourly_scrape_schedule,
            schedules.hourly_discovery_schedule,
            schedules.daily_full_dbt_tests_schedule,
            dagster_retention_schedule,
        ],
        sensors=all_sensors,
        resources=build_resources(settings),
        # Every step of a run writes the warehouse and waits for the one "duckdb" pool slot anyway: run steps in
        # one process instead of paying a subprocess start (and a definitions load) per step; with a Celery broker,
        # on the workers of each step's queue (runs the automation sensor or the UI launch included).
        executor=one_process_executor,
    )
