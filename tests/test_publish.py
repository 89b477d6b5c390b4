"""The analyst copy: analysts holding data/analytics.duckdb open never block the pipeline, and keep a
consistent (old) snapshot until they reopen it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.publish import publish
from orchestration.warehouse.connection import open_warehouse


def _set_mart_value(warehouse: Path, value: int) -> None:
    with open_warehouse(warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute("CREATE OR REPLACE TABLE marts.video_latest AS SELECT 'youtube:dQw4w9WgXcQ' AS video_id, ? AS views", [value])


def test_publish_twice_while_an_analyst_holds_the_copy_open(warehouse_path: Path) -> None:
    data = warehouse_path.parent
    analytics, exports = data / "analytics.duckdb", data / "marts"
    _set_mart_value(warehouse_path, 1)
    with open_warehouse(warehouse_path) as con:
        publish(con, analytics_path=analytics, export_dir=exports)

    analyst = duckdb.connect(str(analytics), read_only=True)  # e.g. a notebook left open for hours
    try:
        assert analyst.sql("SELECT views FROM marts.video_latest").fetchall() == [(1,)]
        for value in (2, 3):
            _set_mart_value(warehouse_path, value)
            with open_warehouse(warehouse_path) as con:  # the pipeline is not blocked by the analyst
                publish(con, analytics_path=analytics, export_dir=exports)
        # the analyst's session keeps working, on the snapshot it opened
        assert analyst.sql("SELECT views FROM marts.video_latest").fetchall() == [(1,)]
    finally:
        analyst.close()

    fresh = duckdb.connect(str(analytics), read_only=True)
    try:
        assert fresh.sql("SELECT views FROM marts.video_latest").fetchall() == [(3,)]
        assert fresh.sql("SELECT count(*) FROM registry.videos").fetchall() == [(0,)]  # registry copied too
    finally:
        fresh.close()
    assert pl.read_parquet(exports / "video_latest.parquet")["views"].to_list() == [3]
    assert not [p.name for p in data.iterdir() if p.name.endswith(".tmp")]  # no temp files left behind


def _import_snapshots(warehouse: Path, rows: list[tuple[str, datetime, int]]) -> None:
    """A warehouse filled like `viewtrail import-snapshots` would: registry rows + raw snapshots, no scrapes."""
    now = datetime(2026, 11, 22, 12)
    with open_warehouse(warehouse) as con:
        for video_id in sorted({r[0] for r in rows}):
            platform, external_id = video_id.split(":")
            con.execute(
                "INSERT INTO registry.videos VALUES (?, ?, ?, ?, NULL, true, 'auto', NULL, [], '{}', 'available', 0,"
                " NULL, ?, ?, NULL) ON CONFLICT DO NOTHING",
                [video_id, platform, external_id, f"https://www.youtube.com/watch?v={external_id}", now, now],
            )
        for video_id, observed_at, views in rows:
            con.execute(
                "INSERT INTO raw.snapshots (video_id, observed_at, views, likes, comments, shares, saves, source,"
                " ingested_at) VALUES (?, ?, ?, 1, 1, NULL, NULL, 'import', now()::TIMESTAMP)",
                [video_id, observed_at, views],
            )


@pytest.mark.timeout(300)
def test_build_on_an_import_only_warehouse_while_an_analyst_reads_the_copy(warehouse_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    runner = CliRunner()
    video = "youtube:dQw4w9WgXcQ"
    _import_snapshots(warehouse_path, [(video, datetime(2026, 11, 20, 10), 100), (video, datetime(2026, 11, 21, 10), 250)])
    first = runner.invoke(app, ["build"])
    assert first.exit_code == 0, first.output

    analytics = warehouse_path.parent / "analytics.duckdb"
    analyst = duckdb.connect(str(analytics), read_only=True)
    try:
        assert analyst.sql("SELECT views FROM marts.video_latest").fetchall() == [(250,)]
        _import_snapshots(warehouse_path, [(video, datetime(2026, 11, 22, 10), 400)])
        second = runner.invoke(app, ["build"])  # a full dbt build + publish with the analyst still connected
        assert second.exit_code == 0, second.output
        assert analyst.sql("SELECT views FROM marts.video_latest").fetchall() == [(250,)]
    finally:
        analyst.close()
    reopened = duckdb.connect(str(analytics), read_only=True)
    try:
        assert reopened.sql("SELECT views FROM marts.video_latest").fetchall() == [(400,)]
    finally:
        reopened.close()
