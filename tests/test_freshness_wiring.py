"""The code location's wiring that keeps the analyst copy fresh (the numbers themselves: bench/freshness.py)."""

from __future__ import annotations

from dagster import AutomationConditionSensorDefinition, DefaultSensorStatus

from orchestration.definitions import defs
from orchestration.defs.dbt import viewtrail_dbt_assets
from orchestration.defs.publishing import analytics_copy
from orchestration.defs.sensors import BUILD_AUTOMATION_INTERVAL_S


def test_one_automation_sensor_evaluates_the_build_and_publish_often_and_starts_running() -> None:
    definitions = defs()
    automation = [s for s in definitions.sensors if isinstance(s, AutomationConditionSensorDefinition)]
    assert [s.name for s in automation] == ["build_after_new_snapshots"]
    sensor = automation[0]
    assert sensor.minimum_interval_seconds == BUILD_AUTOMATION_INTERVAL_S < 30
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    targeted = sensor.asset_selection.resolve(definitions.resolve_asset_graph())
    assert analytics_copy.key in targeted and set(viewtrail_dbt_assets().keys) <= targeted
