"""The code location's inventory, pinned: asset keys with their groups, dependencies and checks, the jobs and the
assets they run, the schedules, the sensors and the resources' names (as dagster-open-platform's ``test_defs``).

A change to any of them shows here as a diff against tests/snapshots/definitions.json, to be read in review.
When the change is intended, rewrite the snapshot and commit it:

    VIEWTRAIL_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_definitions_snapshot.py
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from dagster import Definitions

from orchestration.definitions import defs as load_defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
UPDATE_VARIABLE = "VIEWTRAIL_UPDATE_SNAPSHOTS"


def inventory(defs: Definitions) -> dict[str, Any]:
    """What the snapshot records, in a stable order (JSON-ready)."""
    graph = defs.resolve_asset_graph()
    checks_by_asset: dict[str, list[str]] = {}
    for check_key in graph.asset_check_keys:
        checks_by_asset.setdefault(check_key.asset_key.to_user_string(), []).append(check_key.name)
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        name = key.to_user_string()
        assets[name] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "checks": sorted(checks_by_asset.get(name, [])),
            "executable": node.is_executable,
            "partitioned": node.is_partitioned,
        }
    jobs = {}
    for job in defs.resolve_all_job_defs():
        if job.name.startswith("__"):  # Dagster's implicit job of every asset
            continue
        jobs[job.name] = sorted(key.to_user_string() for key in job.asset_layer.selected_asset_keys)
    schedules = {}
    for name in sorted(schedule.name for schedule in defs.schedules or []):
        schedule = defs.get_schedule_def(name)  # resolved: a partitioned asset schedule gets its cron here
        schedules[name] = {"cron": schedule.cron_schedule, "job": schedule.job_name}
    sensors = {
        sensor.name: {
            "job": sensor.job_name if sensor.has_jobs else None,
            "interval_s": sensor.minimum_interval_seconds,
        }
        for sensor in sorted(defs.sensors or [], key=lambda s: s.name)
    }
    return {
        "assets": assets,
        "jobs": dict(sorted(jobs.items())),
        "schedules": schedules,
        "sensors": sensors,
        "resources": sorted(defs.resources or {}),
    }


def test_the_definitions_match_the_snapshot() -> None:
    current = json.dumps(inventory(load_defs()), indent=2, sort_keys=True) + "\n"
    if os.environ.get(UPDATE_VARIABLE) == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(current)
        pytest.skip(f"rewrote {SNAPSHOT.name}: review and commit it")
    assert SNAPSHOT.exists(), f"no {SNAPSHOT.name}: run with {UPDATE_VARIABLE}=1 to write it"
    recorded = SNAPSHOT.read_text()
    if current != recorded:
        diff = "".join(
            difflib.unified_diff(
                recorded.splitlines(keepends=True), current.splitlines(keepends=True), "snapshot", "definitions", n=2
            )
        )
        pytest.fail(
            f"the definitions changed; if intended, rerun with {UPDATE_VARIABLE}=1 and commit the snapshot:\n{diff}",
            pytrace=False,
        )
