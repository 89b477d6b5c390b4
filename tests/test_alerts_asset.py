"""The alerts/alert_events asset: reads the marts, delivers with no connection open, writes once, before the analyst
copy is published (marts.alert_events); no channel URL in run metadata, logs or the analyst copy."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
from dagster import AssetKey, DagsterInstance, materialize

from orchestration.defs.alerting import ALERTS_KEY, alert_events
from orchestration.defs.resources import warehouse_from_env
from tests.test_alerts_delivery import SECRET, T0, _marts
from viewtrail import clock
from viewtrail.alerts import store
from viewtrail.alerts.channels import channels_file
from viewtrail.alerts.model import Scope
from viewtrail.alerts.rules import build_params
from viewtrail.pipeline.publish import publish
from viewtrail.warehouse.connection import open_warehouse

NOW = datetime(2026, 3, 5, 12)


def test_alert_asset_fires_delivers_records_and_publishes(warehouse_path: Path, tmp_path: Path, capsys) -> None:
    log = tmp_path / f"alerts-{SECRET}.jsonl"
    with open_warehouse() as con:
        _marts(con, [4_000, 8_000, 12_000])
        store.add_channel(con, "log", f"file://{log}", secrets_file=channels_file(warehouse_path), now=T0)
        store.add_rule(con, "milestone", Scope(), build_params("milestone"), channels=["log"], created_at=T0)
        publish(con)
    resources = {"warehouse": warehouse_from_env()}
    with clock.pinned(NOW), DagsterInstance.ephemeral() as instance:
        result = materialize([alert_events], instance=instance, resources=resources)
        assert result.success
        again = materialize([alert_events], instance=instance, resources=resources)  # same copy: nothing new
        assert again.success
        records = instance.fetch_materializations(ALERTS_KEY, limit=10, ascending=True).records
        metadata = [r.asset_materialization.metadata for r in records]
        all_logs = [str(entry) for run in (result, again) for entry in instance.all_logs(run.run_id)]
    assert [m["events"].value for m in metadata] == [1, 0]
    assert metadata[0]["deliveries"].value == {"delivered": 1}
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["title"] for line in lines] == ["viewtrail: Dance crossed 10k views"]
    assert not any(SECRET in text for text in all_logs + [str(metadata)] + list(capsys.readouterr()))
    with open_warehouse() as con:
        publish(con)
    copy = duckdb.connect(str(warehouse_path.parent / "analytics.duckdb"), read_only=True)
    try:
        rows = copy.execute("SELECT kind, video_id, deliveries FROM marts.alert_events").fetchall()
        assert rows == [
            (
                "milestone",
                "tiktok:7300000000000000001",
                [
                    {
                        "channel": "log",
                        "status": "delivered",
                        "attempts": 1,
                        "delivered_at": rows[0][2][0]["delivered_at"],
                        "reason": None,
                    }
                ],
            )
        ]
        assert copy.execute("SELECT target FROM registry.alert_channels").fetchall() == [("file://.../" + log.name,)]
    finally:
        copy.close()
    assert SECRET.encode() not in (warehouse_path.parent / "analytics.duckdb").read_bytes().replace(
        log.name.encode(), b""
    )
    assert (warehouse_path.parent / "marts" / "alert_events.parquet").exists()


def test_alert_asset_runs_between_the_marts_and_the_analyst_copy() -> None:
    from orchestration.defs.dbt import mart_keys
    from orchestration.defs.publishing import analytics_copy

    assert alert_events.asset_deps[ALERTS_KEY] == set(mart_keys())
    assert ALERTS_KEY in analytics_copy.asset_deps[AssetKey("analytics_copy")]


def test_a_build_publishes_the_alerts_it_fired(warehouse_path: Path, tmp_path: Path) -> None:
    """What a run fired is in the analyst copy when the run ends, not one publish later."""
    from orchestration.defs.publishing import analytics_copy

    log = tmp_path / "alerts.jsonl"
    with open_warehouse() as con:
        _marts(con, [4_000, 8_000, 12_000])
        store.add_channel(con, "log", f"file://{log}", secrets_file=channels_file(warehouse_path), now=T0)
        store.add_rule(con, "milestone", Scope(), build_params("milestone"), channels=["log"], created_at=T0)
    with clock.pinned(NOW), DagsterInstance.ephemeral() as instance:
        result = materialize(
            [alert_events, analytics_copy], instance=instance, resources={"warehouse": warehouse_from_env()}
        )
        assert result.success
    copy = duckdb.connect(str(warehouse_path.parent / "analytics.duckdb"), read_only=True)
    try:
        assert copy.execute("SELECT kind, video_id FROM marts.alert_events").fetchall() == [
            ("milestone", "tiktok:7300000000000000001")
        ]
    finally:
        copy.close()
