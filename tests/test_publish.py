"""The analyst copy: analysts holding data/analytics.duckdb open never block the pipeline, and keep a
consistent (old) snapshot until they reopen it."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from viewtrail.cli import app
from viewtrail.pipeline.publish import publish
from viewtrail.warehouse.connection import open_warehouse


def _set_mart_value(warehouse: Path, value: int) -> None:
    with open_warehouse(warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(
            "CREATE OR REPLACE TABLE marts.video_latest AS SELECT 'youtube:dQw4w9WgXcQ' AS video_id, ? AS views",
            [value],
        )


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
                " NULL, NULL, 'manual', ?, ?, NULL) ON CONFLICT DO NOTHING",
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
    _import_snapshots(
        warehouse_path, [(video, datetime(2026, 11, 20, 10), 100), (video, datetime(2026, 11, 21, 10), 250)]
    )
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


def _set_table(warehouse: Path, name: str, values: list[int]) -> None:
    with open_warehouse(warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(f"CREATE OR REPLACE TABLE marts.{name} (video_id VARCHAR, views BIGINT)")
        con.executemany(f"INSERT INTO marts.{name} VALUES (?, ?)", [[f"youtube:v{i}", v] for i, v in enumerate(values)])


def _publish(warehouse: Path):
    data = warehouse.parent
    with open_warehouse(warehouse) as con:
        return publish(con, analytics_path=data / "analytics.duckdb", export_dir=data / "marts")


def _age(path: Path) -> tuple[int, bytes]:
    """Set ``path``'s mtime to a fixed old instant (no sleeping for the clock to move) and return (mtime, bytes)."""
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    return path.stat().st_mtime_ns, path.read_bytes()


def test_publish_leaves_the_parquet_of_an_unchanged_mart_untouched_and_rewrites_a_changed_one(
    warehouse_path: Path,
) -> None:
    exports = warehouse_path.parent / "marts"
    _set_table(warehouse_path, "video_latest", [1, 2])
    _set_table(warehouse_path, "video_daily", [10, 20])
    first = _publish(warehouse_path)
    assert "video_latest" not in first.marts_unchanged and "video_daily" not in first.marts_unchanged
    latest, daily = exports / "video_latest.parquet", exports / "video_daily.parquet"
    latest_before, daily_before = _age(latest), _age(daily)

    _set_table(warehouse_path, "video_latest", [1, 3])  # changed
    _set_table(warehouse_path, "video_daily", [10, 20])  # rebuilt by dbt, same content
    second = _publish(warehouse_path)

    assert "video_daily" in second.marts_unchanged and "video_latest" not in second.marts_unchanged
    assert {"video_daily", "video_latest"} <= set(second.marts_exported)
    assert (daily.stat().st_mtime_ns, daily.read_bytes()) == daily_before  # not rewritten
    assert latest.stat().st_mtime_ns != latest_before[0]
    assert pl.read_parquet(latest)["views"].to_list() == [1, 3]
    assert pl.read_parquet(daily)["views"].to_list() == [10, 20]
    # the analyst copy is still replaced whole on every publish
    with duckdb.connect(str(warehouse_path.parent / "analytics.duckdb"), read_only=True) as copy:
        assert copy.sql("SELECT views FROM marts.video_latest ORDER BY video_id").fetchall() == [(1,), (3,)]
    assert not [p.name for p in exports.iterdir() if p.name.endswith(".tmp")]


def test_publish_rewrites_on_any_content_or_column_change_and_a_missing_or_unmarked_file(warehouse_path: Path) -> None:
    exports = warehouse_path.parent / "marts"
    path = exports / "video_latest.parquet"
    _set_table(warehouse_path, "video_latest", [5, 5])
    _publish(warehouse_path)

    def rewritten() -> bool:
        before = _age(path)
        _publish(warehouse_path)
        return (path.stat().st_mtime_ns, path.read_bytes()) != before

    assert not rewritten()  # nothing changed
    _set_table(warehouse_path, "video_latest", [5, 5, 5])  # one more (duplicate) row
    assert rewritten()
    _set_table(warehouse_path, "video_latest", [5, 5])
    assert rewritten()
    with open_warehouse(warehouse_path) as con:  # same values, another column type
        con.execute(
            "CREATE OR REPLACE TABLE marts.video_latest AS SELECT video_id, views::DOUBLE AS views FROM marts.video_latest"
        )
    assert rewritten()
    assert pl.read_parquet(path)["views"].dtype == pl.Float64
    path.unlink()  # someone deleted the export
    _publish(warehouse_path)
    assert path.exists()
    with duckdb.connect() as con:  # a file exported before fingerprints existed (or by hand) carries none
        con.execute(f"COPY (SELECT 'youtube:v0' AS video_id, 5.0 AS views) TO '{path}' (FORMAT parquet)")
    assert rewritten()
    assert not rewritten()


# --------------------------------------------------------------------------------------------------
# the raw history: append-only Parquet files by day, views in the copy


def _write_history(warehouse: Path, stamp: datetime, hours: list[datetime], videos: int = 3) -> None:
    """One write (one ingested_at) of a snapshot and an attempt per video and hour, videos registered."""
    with open_warehouse(warehouse) as con:
        for i in range(videos):
            con.execute(
                "INSERT INTO registry.videos VALUES (?, 'youtube', ?, ?, NULL, true, 'auto', NULL, [], '{}',"
                " 'available', 0, NULL, NULL, 'manual', ?, ?, NULL) ON CONFLICT DO NOTHING",
                [f"youtube:v{i}", f"v{i}", f"https://www.youtube.com/watch?v=v{i}", stamp, stamp],
            )
            for hour in hours:
                con.execute(
                    "INSERT INTO raw.snapshots (video_id, observed_at, views, extra, source, ingested_at)"
                    " VALUES (?, ?, ?, '{\"k\": 1}', 'simulated', ?)",
                    [f"youtube:v{i}", hour, int(hour.timestamp()) % 1000 + i, stamp],
                )
                con.execute(
                    "INSERT INTO raw.scrape_attempts (video_id, platform, attempted_at, outcome, tries, source,"
                    " ingested_at) VALUES (?, 'youtube', ?, 'ok', 1, 'simulated', ?)",
                    [f"youtube:v{i}", hour, stamp],
                )


def _copy_rows(analytics: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(analytics), read_only=True)
    try:
        return sorted(con.sql(f"SELECT * FROM {table}").fetchall(), key=repr)
    finally:
        con.close()


def _columns(database: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return [row[:2] for row in con.sql(f"DESCRIBE SELECT * FROM {table}").fetchall()]  # names and types
    finally:
        con.close()


def test_history_goes_out_once_as_day_files_and_the_copy_reads_it_under_the_same_names(warehouse_path: Path) -> None:
    data = warehouse_path.parent
    day1 = [datetime(2026, 11, 20, h) for h in (1, 13)]
    day2 = [datetime(2026, 11, 21, h) for h in (2, 14)]
    _write_history(warehouse_path, datetime(2026, 11, 21, 15), day1 + day2)
    first = _publish(warehouse_path)
    assert first.history_rows_exported == {"raw.snapshots": 12, "raw.scrape_attempts": 12}
    days = sorted(p.parent.name for p in (data / "history" / "snapshots").glob("day=*/*.parquet"))
    assert days == ["day=2026-11-20", "day=2026-11-21"]
    written = {p: _age(p) for p in (data / "history").glob("*/day=*/*.parquet")}

    # the copy: the same tables and views, same columns and types, same rows as the warehouse
    analytics = data / "analytics.duckdb"
    for table in ("raw.snapshots", "raw.scrape_attempts"):
        assert _columns(analytics, table) == _columns(warehouse_path, table)
        assert _copy_rows(analytics, table) == _copy_rows(warehouse_path, table)
    assert first.tables["raw.snapshots"] == 12

    # the next publish exports only the new hour, and leaves every file it wrote before as it was
    _write_history(warehouse_path, datetime(2026, 11, 21, 16), [datetime(2026, 11, 21, 15)])
    second = _publish(warehouse_path)
    assert second.history_rows_exported == {"raw.snapshots": 3, "raw.scrape_attempts": 3}
    for path, (mtime, content) in written.items():
        assert (path.stat().st_mtime_ns, path.read_bytes()) == (mtime, content)
    assert _copy_rows(analytics, "raw.snapshots") == _copy_rows(warehouse_path, "raw.snapshots")

    # a publish with nothing new writes no history file
    before = sorted((data / "history").rglob("*.parquet"))
    assert _publish(warehouse_path).history_rows_exported == {"raw.snapshots": 0, "raw.scrape_attempts": 0}
    assert sorted((data / "history").rglob("*.parquet")) == before

    # once a day is closed, its files are merged into one; the copy reads the same rows
    _write_history(warehouse_path, datetime(2026, 11, 23, 5), [datetime(2026, 11, 23, 4)])
    merged = _publish(warehouse_path)
    assert merged.history_files["raw.snapshots"] == 3  # one file for each of the three days
    assert _copy_rows(analytics, "raw.snapshots") == _copy_rows(warehouse_path, "raw.snapshots")
    assert _copy_rows(analytics, "raw.scrape_attempts") == _copy_rows(warehouse_path, "raw.scrape_attempts")


def test_a_deleted_video_leaves_the_copy_though_its_history_files_stay(warehouse_path: Path) -> None:
    _write_history(warehouse_path, datetime(2026, 11, 21, 15), [datetime(2026, 11, 20, 1)])
    _publish(warehouse_path)
    with open_warehouse(warehouse_path) as con:
        for table in ("raw.snapshots", "raw.scrape_attempts", "registry.videos"):
            con.execute(f"DELETE FROM {table} WHERE video_id = 'youtube:v0'")
    _publish(warehouse_path)
    analytics = warehouse_path.parent / "analytics.duckdb"
    assert {r[0] for r in _copy_rows(analytics, "raw.snapshots")} == {"youtube:v1", "youtube:v2"}


def test_a_publish_killed_after_writing_history_files_loses_and_duplicates_nothing(
    warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from viewtrail.pipeline import publish as publishing

    _write_history(warehouse_path, datetime(2026, 11, 21, 15), [datetime(2026, 11, 20, 1)])
    _publish(warehouse_path)
    _write_history(warehouse_path, datetime(2026, 11, 21, 16), [datetime(2026, 11, 21, 15)])

    def killed(*_args: object) -> None:
        raise KeyboardInterrupt  # the process dies after the new rows' files are written, before the copy

    monkeypatch.setattr(publishing, "_copy_all_but_history", killed)
    with pytest.raises(KeyboardInterrupt):
        _publish(warehouse_path)
    analytics = warehouse_path.parent / "analytics.duckdb"
    assert len(_copy_rows(analytics, "raw.snapshots")) == 3  # the previous copy, whole
    monkeypatch.undo()

    again = _publish(warehouse_path)
    assert again.history_rows_exported["raw.snapshots"] == 3  # exported again, into new files
    assert _copy_rows(analytics, "raw.snapshots") == _copy_rows(warehouse_path, "raw.snapshots")
    assert len(_copy_rows(analytics, "raw.snapshots")) == 6


def _set_daily(warehouse: Path, rows: list[tuple[str, str, int, str]]) -> None:
    """marts.video_daily as dbt leaves it: (video_id, day, views, snapshots_ingested_through) rows."""
    with open_warehouse(warehouse) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(
            "CREATE OR REPLACE TABLE marts.video_daily"
            " (video_id VARCHAR, day DATE, views BIGINT, snapshots_ingested_through TIMESTAMP)"
        )
        con.executemany("INSERT INTO marts.video_daily VALUES (?, ?, ?, ?)", [list(r) for r in rows])


def _month_files(exports: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(exports)): (p.stat().st_mtime_ns, p.read_bytes()) for p in exports.rglob("*.parquet")}


def test_a_day_mart_goes_out_by_month_and_a_publish_rewrites_only_the_months_that_changed(
    warehouse_path: Path,
) -> None:
    data, exports = warehouse_path.parent, warehouse_path.parent / "marts"
    analytics = data / "analytics.duckdb"
    old = [("youtube:v0", f"2026-10-{d:02d}", d, "2026-11-01 00:00:00") for d in range(1, 31)]
    _set_daily(warehouse_path, [*old, ("youtube:v0", "2026-11-01", 100, "2026-11-01 00:00:00")])
    first = _publish(warehouse_path)
    assert first.months_rewritten["video_daily"] == ["2026-10", "2026-11"]
    assert not (exports / "video_daily.parquet").exists()
    for p in exports.rglob("*.parquet"):
        _age(p)
    before = _month_files(exports)
    october = {k: v for k, v in before.items() if "month=2026-10" in k}
    assert len(october) == 1

    # an hourly build: the last day rewritten and a new one, both in November (the mark moves on)
    _set_daily(
        warehouse_path,
        [
            *old,
            ("youtube:v0", "2026-11-01", 110, "2026-11-02 00:00:00"),
            ("youtube:v0", "2026-11-02", 120, "2026-11-02 00:00:00"),
        ],
    )
    second = _publish(warehouse_path)
    assert second.months_rewritten["video_daily"] == ["2026-11"]
    after = _month_files(exports)
    assert {k: v for k, v in after.items() if "month=2026-10" in k} == october  # October's file untouched
    # the copy: a view with the warehouse's columns, types and rows
    assert _columns(analytics, "marts.video_daily") == _columns(warehouse_path, "marts.video_daily")
    assert _copy_rows(analytics, "marts.video_daily") == _copy_rows(warehouse_path, "marts.video_daily")
    with duckdb.connect(str(analytics), read_only=True) as copy:
        kinds = copy.sql("SELECT view_name FROM duckdb_views() WHERE schema_name = 'marts'").fetchall()
    assert kinds == [("video_daily",)]
    assert second.tables["marts.video_daily"] == 32

    # rows deleted (a deleted video) rewrite their month though no row is newer than the mark
    _set_daily(warehouse_path, [r for r in old if r[1] != "2026-10-05"])
    third = _publish(warehouse_path)
    assert third.months_rewritten["video_daily"] == ["2026-10"]
    assert _copy_rows(analytics, "marts.video_daily") == _copy_rows(warehouse_path, "marts.video_daily")


def test_a_publish_killed_after_writing_month_files_leaves_the_copy_whole_and_the_next_one_consistent(
    warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from viewtrail.pipeline import publish as publishing

    analytics = warehouse_path.parent / "analytics.duckdb"
    _set_daily(warehouse_path, [("youtube:v0", "2026-11-01", 1, "2026-11-01 00:00:00")])
    _publish(warehouse_path)
    expected_before = _copy_rows(analytics, "marts.video_daily")
    _set_daily(
        warehouse_path,
        [
            ("youtube:v0", "2026-11-01", 2, "2026-11-02 00:00:00"),
            ("youtube:v0", "2026-11-02", 3, "2026-11-02 00:00:00"),
        ],
    )

    def killed(*_args: object) -> None:
        raise KeyboardInterrupt  # the process dies after the month files are written, before the copy

    monkeypatch.setattr(publishing, "_copy_all_but_history", killed)
    with pytest.raises(KeyboardInterrupt):
        _publish(warehouse_path)
    assert _copy_rows(analytics, "marts.video_daily") == expected_before  # the previous copy reads its own files
    monkeypatch.undo()

    again = _publish(warehouse_path)
    assert again.months_rewritten["video_daily"] == ["2026-11"]  # written again, not skipped
    assert _copy_rows(analytics, "marts.video_daily") == _copy_rows(warehouse_path, "marts.video_daily")


@pytest.mark.parametrize("garbled", ["{not json", "[1, 2]"])
def test_an_unreadable_manifest_makes_the_next_publish_write_everything_again(
    warehouse_path: Path, garbled: str
) -> None:
    data = warehouse_path.parent
    analytics = data / "analytics.duckdb"
    _write_history(warehouse_path, datetime(2026, 11, 21, 15), [datetime(2026, 11, 20, 1)])
    _set_daily(warehouse_path, [("youtube:v0", "2026-11-01", 1, "2026-11-01 00:00:00")])
    _publish(warehouse_path)
    for manifest in (data / "history" / "manifest.json", data / "marts" / "manifest.json"):
        manifest.write_text(garbled, encoding="utf-8")  # a disk error, a hand edit

    again = _publish(warehouse_path)
    assert again.history_rows_exported["raw.snapshots"] == 3  # the rows go out again, into new files
    assert again.months_rewritten["video_daily"] == ["2026-11"]
    for table in ("raw.snapshots", "marts.video_daily"):
        assert _copy_rows(analytics, table) == _copy_rows(warehouse_path, table)  # nothing lost or doubled


def test_a_rollup_month_changed_without_a_new_mark_is_published_again(warehouse_path: Path) -> None:
    # a relabel moves a video's views between labels with no new snapshot: the build rewrites label_daily's rows
    # with the same high-water mark, and the copy must show them all the same
    analytics = warehouse_path.parent / "analytics.duckdb"
    mark = "2026-11-02 00:00:00"

    def set_labels(rows: list[tuple[str, str, int]]) -> None:
        with open_warehouse(warehouse_path) as con:
            con.execute("CREATE SCHEMA IF NOT EXISTS marts")
            con.execute(
                "CREATE OR REPLACE TABLE marts.label_daily"
                " (label VARCHAR, day DATE, views BIGINT, snapshots_ingested_through TIMESTAMP)"
            )
            con.executemany("INSERT INTO marts.label_daily VALUES (?, ?, ?, ?)", [[*r, mark] for r in rows])

    set_labels([("launch", "2026-11-01", 100), ("evergreen", "2026-11-01", 50)])
    _publish(warehouse_path)
    set_labels([("launch", "2026-11-01", 60), ("evergreen", "2026-11-01", 90)])
    again = _publish(warehouse_path)
    assert again.months_rewritten["label_daily"] == ["2026-11"]
    assert _copy_rows(analytics, "marts.label_daily") == _copy_rows(warehouse_path, "marts.label_daily")
