"""The viewtrail code location: one `Definitions` (loaded by workspace.yaml and `dagster dev`)."""

from __future__ import annotations

import warnings

from dagster import BetaWarning, Definitions, PreviewWarning, in_process_executor

warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)

from orchestration.defs.assets import platform_assets  # noqa: E402
from orchestration.defs.dbt import dbt_resource, viewtrail_dbt_assets  # noqa: E402
from orchestration.defs.jobs import build_job, scrape_job  # noqa: E402
from orchestration.defs.publishing import analytics_copy  # noqa: E402
from orchestration.defs.resources import platform_clients_from_env, warehouse_from_env  # noqa: E402
from orchestration.defs.schedules import hourly_scrape_schedule  # noqa: E402

from orchestration.defs.sensors import all_sensors, notifier_from_env, sensor_settings_from_env  # noqa: E402


def build_resources() -> dict[str, object]:
    return {
        "warehouse": warehouse_from_env(),
        "platforms": platform_clients_from_env(),
        "dbt": dbt_resource(),
        "sensor_settings": sensor_settings_from_env(),
        "notifier": notifier_from_env(),
    }


defs = Definitions(
    assets=[*platform_assets, viewtrail_dbt_assets, analytics_copy],
    jobs=[scrape_job, build_job],
    schedules=[hourly_scrape_schedule],
    sensors=all_sensors,
    resources=build_resources(),
    # Every step of a run writes the warehouse and waits for the one "duckdb" pool slot anyway: run steps in
    # one process instead of paying a subprocess start (and a definitions load) per step.
    executor=in_process_executor,
)
