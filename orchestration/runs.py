"""Launching pipeline runs from a process (the CLI, the demo): in-process Dagster runs on the instance of
``DAGSTER_HOME`` (so they show in ``make ui``), with the resources read from the environment.

``viewtrail build``, ``viewtrail demo`` and the tests launch runs only through these helpers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from orchestration import config
from orchestration.clock import partition_key
from orchestration.errors import ViewtrailError

Progress = Callable[[str], None]

#: In-process runs log to the Dagster event log (visible in the UI); the terminal only shows warnings.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class RunFailedError(ViewtrailError):
    """A pipeline run launched from this process failed."""


@contextmanager
def dagster_instance() -> Iterator[Any]:
    """The instance of ``DAGSTER_HOME`` when set (runs show in the UI), else an ephemeral one."""
    from dagster import DagsterInstance

    home = os.environ.get("DAGSTER_HOME", "").strip()
    if home:
        Path(home).mkdir(parents=True, exist_ok=True)
        with DagsterInstance.get() as instance:
            yield instance
    else:
        with DagsterInstance.ephemeral() as instance:
            yield instance


def pipeline_resources(*, simulated: bool = False) -> dict[str, Any]:
    """Resources for in-process runs, read from the environment now (tests and the CLI set it before)."""
    from orchestration.defs.dbt import dbt_resource
    from orchestration.defs.resources import PlatformClientsResource, WarehouseResource, platform_clients_from_env

    warehouse = WarehouseResource(
        path=str(config.warehouse_path()),
        analytics_path=str(config.analytics_path()),
        marts_export_dir=str(config.marts_export_dir()),
    )
    platforms = PlatformClientsResource() if simulated else platform_clients_from_env()
    return {"warehouse": warehouse, "platforms": platforms, "dbt": dbt_resource()}


def materialize_in_process(assets: list[Any], instance: Any, resources: dict[str, Any], **kwargs: Any) -> Any:
    """``dagster.materialize`` for runs launched from this process (quiet console, errors kept in the result)."""
    from dagster import materialize

    kwargs.setdefault("run_config", QUIET_RUN_CONFIG)
    return materialize(assets, instance=instance, resources=resources, raise_on_error=False, **kwargs)


def backfill_snapshots(
    instance: Any, resources: dict[str, Any], first_hour: datetime, last_hour: datetime, progress: Progress,
    *, origin: str = "demo",
) -> dict[str, dict[str, Any]]:
    """Materialize each platform's snapshot asset for [first_hour, last_hour]: one run per platform covering the
    whole range (single-run backfill). Returns the materialization metadata per asset key.

    One run per platform rather than one run with four steps: the four steps share the pool "duckdb" (limit 1),
    and an in-process run polls a blocked step's slot with a back-off of up to 15 s, which would add minutes
    of idle waiting; four one-step runs each get the slot at once. A failing platform fails only its own run.
    """
    from orchestration.defs.assets import snapshot_assets

    tags = {
        "dagster/asset_partition_range_start": partition_key(first_hour),
        "dagster/asset_partition_range_end": partition_key(last_hour),
        "viewtrail/origin": origin,
    }
    per_asset: dict[str, dict[str, Any]] = {}
    failures = []
    for asset_def in snapshot_assets:
        key = next(iter(asset_def.keys)).to_user_string()
        started = time.monotonic()
        result = materialize_in_process([asset_def], instance, resources, tags=tags)
        if not result.success:
            failures.append(f"{key} (run {result.run_id})")
            progress(f"  {key}: FAILED (run {result.run_id})")
            continue
        for event in result.get_asset_materialization_events():
            per_asset[key] = {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}
        metadata = per_asset.get(key, {})
        progress(
            f"  {key}: {metadata.get('attempts', '?')} attempts, outcomes {metadata.get('outcomes', {})} "
            f"({time.monotonic() - started:.1f}s, one run)"
        )
    if failures:
        raise RunFailedError(f"The backfill failed for {', '.join(failures)}; open `make ui` (Runs) for the logs.")
    return per_asset


def build_and_publish(instance: Any, resources: dict[str, Any]) -> Any:
    """One Dagster run: dbt build (models + data tests as asset checks), then the analyst copy."""
    from orchestration.defs.dbt import viewtrail_dbt_assets
    from orchestration.defs.publishing import analytics_copy

    result = materialize_in_process(
        [viewtrail_dbt_assets, analytics_copy], instance, resources, tags={"viewtrail/origin": "build"}
    )
    if not result.success:
        failed = [event.step_key or "?" for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
        raise RunFailedError(
            f"The dbt build / publish run {result.run_id} failed in {', '.join(failed) or 'a step'}; "
            f"open `make ui` (Runs) for the dbt log."
        )
    return result
