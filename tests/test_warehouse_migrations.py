"""Versioned migrations: a warehouse created by an older schema version upgrades in place on open."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from viewtrail import clock
from viewtrail.domain.models import Attempt, Observation, Outcome, Platform, ScrapeResult
from viewtrail.warehouse import (
    LATEST_VERSION,
    WarehouseMissingError,
    WarehouseSchemaError,
    apply_migrations,
    open_warehouse,
    write_scrape_results,
)
from viewtrail.warehouse.migrations import MIGRATIONS

T = datetime(2026, 10, 1, 12)


def test_v1_warehouse_upgrades_in_place_keeping_rows(warehouse_path):
    con = duckdb.connect(str(warehouse_path))
    apply_migrations(con, up_to=1)
    con.execute(
        "INSERT INTO registry.videos VALUES ('youtube:dQw4w9WgXcQ', 'youtube', 'dQw4w9WgXcQ', "
        "'https://www.youtube.com/watch?v=dQw4w9WgXcQ', 'rick', true, '6', NULL, ['launch'], '{\"k\":\"v\"}', ?, ?, NULL)",
        [T, T],
    )
    con.execute(
        "INSERT INTO raw.snapshots (video_id, observed_at, views, source, ingested_at) "
        "VALUES ('youtube:dQw4w9WgXcQ', ?, 42, 'old', ?)",
        [T, T],
    )
    assert con.sql("SELECT max(version) FROM meta.schema_migrations").fetchall() == [(1,)]
    con.close()

    with open_warehouse(warehouse_path) as con:
        assert con.sql("SELECT max(version) FROM meta.schema_migrations").fetchall() == [(LATEST_VERSION,)]
        assert con.sql(
            "SELECT video_id, account, is_active, cadence, labels, availability, consecutive_not_found, posted_at, "
            "added_at FROM registry.videos"
        ).fetchall() == [("youtube:dQw4w9WgXcQ", "rick", True, "6", ["launch"], "available", 0, None, T)]
        assert con.sql("SELECT views FROM raw.snapshots").fetchall() == [(42,)]
        # the contract's column order after the rebuild
        columns = [
            r[0]
            for r in con.sql(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'registry' "
                "AND table_name = 'videos' ORDER BY ordinal_position"
            ).fetchall()
        ]
        assert columns[10:13] == ["availability", "consecutive_not_found", "posted_at"]
    # re-opening applies nothing more and keeps everything
    with open_warehouse(warehouse_path) as con:
        assert con.sql("SELECT count(*) FROM meta.schema_migrations").fetchall() == [(len(MIGRATIONS),)]
        assert con.sql("SELECT count(*) FROM registry.videos").fetchall() == [(1,)]


def test_read_only_open_refuses_unmigrated_or_missing_warehouse(warehouse_path):
    with pytest.raises(WarehouseMissingError):
        with open_warehouse(warehouse_path, read_only=True):
            pass
    con = duckdb.connect(str(warehouse_path))
    apply_migrations(con, up_to=1)
    con.close()
    with pytest.raises(WarehouseSchemaError, match="open it once read-write"):
        with open_warehouse(warehouse_path, read_only=True):
            pass
    with open_warehouse(warehouse_path):
        pass
    with open_warehouse(warehouse_path, read_only=True) as con:
        assert con.sql("SELECT count(*) FROM registry.videos").fetchall() == [(0,)]


def test_warehouse_from_newer_code_is_refused(warehouse_path):
    with open_warehouse(warehouse_path) as con:
        con.execute("INSERT INTO meta.schema_migrations VALUES (?, 'future', ?)", [LATEST_VERSION + 1, T])
    with pytest.raises(WarehouseSchemaError, match="upgrade viewtrail"):
        with open_warehouse(warehouse_path):
            pass


def test_v2_warehouse_gets_a_write_clock_that_starts_after_its_newest_row(warehouse_path):
    """Marts built before the upgrade have a high-water mark at the newest ingested_at: the first write after
    the upgrade must come after it, whatever the wall clock says."""
    newest = datetime(2030, 1, 1)  # ingested by a machine whose clock ran ahead
    con = duckdb.connect(str(warehouse_path))
    apply_migrations(con, up_to=2)
    con.execute(
        "INSERT INTO raw.snapshots (video_id, observed_at, views, source, ingested_at) "
        "VALUES ('youtube:dQw4w9WgXcQ', ?, 42, 'old', ?), ('youtube:dQw4w9WgXcQ', ?, 43, 'old', ?)",
        [T, T, T + timedelta(hours=1), newest],
    )
    con.close()

    with open_warehouse(warehouse_path) as con:
        assert con.sql("SELECT last_write_id, last_ingested_at FROM meta.write_clock").fetchall() == [(0, newest)]
        assert con.sql("SELECT count(*) FROM meta.write_log").fetchall() == [(0,)]
        assert con.sql("SELECT count(*) FROM raw.snapshots").fetchall() == [(2,)]
        at = T + timedelta(hours=2)
        result = ScrapeResult(
            Attempt("youtube:dQw4w9WgXcQ", Platform.YOUTUBE, at, Outcome.OK, source="test", run_id="r"),
            Observation("youtube:dQw4w9WgXcQ", at, 44, None, None, None, None, source="test", run_id="r"),
        )
        with clock.pinned(T):
            write_scrape_results(con, [result])
        assert con.sql("SELECT ingested_at FROM raw.snapshots WHERE views = 44").fetchall() == [
            (newest + timedelta(microseconds=1),)
        ]
        assert con.sql(
            "SELECT write_id, kind, run_id, snapshots_inserted, attempts_inserted FROM meta.write_log"
        ).fetchall() == [(1, "scrape", "r", 1, 1)]


def test_v4_warehouse_gains_accounts_and_keeps_every_row(warehouse_path):
    con = duckdb.connect(str(warehouse_path))
    apply_migrations(con, up_to=4)
    con.execute(
        "INSERT INTO registry.videos VALUES ('tiktok:7234567890123456789', 'tiktok', '7234567890123456789', "
        "'https://www.tiktok.com/@nasa/video/7234567890123456789', 'nasa', true, 'auto', NULL, ['launch'], "
        "'{\"k\":\"v\"}', 'unavailable', 3, ?, ?, ?, NULL), "
        "('youtube:dQw4w9WgXcQ', 'youtube', 'dQw4w9WgXcQ', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', NULL, "
        "false, '6', ?, [], '{}', 'available', 0, NULL, ?, ?, ?)",
        [T - timedelta(days=1), T, T, T + timedelta(days=9), T, T, T],
    )
    con.execute(
        "INSERT INTO registry.pending_links VALUES ('https://vm.tiktok.com/ZMabc123/', 'tiktok', 'offline', 'auto', "
        "NULL, [], '{}', ?, NULL, NULL)",
        [T],
    )
    con.execute(
        "INSERT INTO raw.snapshots (video_id, observed_at, views, source, ingested_at) "
        "VALUES ('tiktok:7234567890123456789', ?, 42, 'old', ?)",
        [T, T],
    )
    con.execute(
        "INSERT INTO raw.scrape_attempts VALUES ('tiktok:7234567890123456789', 'tiktok', ?, 'ok', 200, NULL, 1.0, 1,"
        " 'old', NULL, NULL)",
        [T],
    )
    con.execute("INSERT INTO registry.alert_channels VALUES ('ops', 'https://hooks.example', ?)", [T])
    tables = [
        "registry.videos",
        "registry.pending_links",
        "raw.snapshots",
        "raw.scrape_attempts",
        "registry.alert_channels",
        "meta.write_clock",
    ]
    before = {table: con.sql(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in tables}
    con.close()

    with open_warehouse(warehouse_path) as con:
        assert con.sql("SELECT max(version) FROM meta.schema_migrations").fetchall() == [(LATEST_VERSION,)]
        for table in tables[1:]:
            added = " EXCLUDE (proxy_index, ingested_at)" if table == "raw.scrape_attempts" else ""  # later columns
            assert con.sql(f"SELECT *{added} FROM {table} ORDER BY ALL").fetchall() == before[table], table
        videos = con.sql("SELECT * EXCLUDE (account_id, source) FROM registry.videos ORDER BY ALL").fetchall()
        assert videos == before["registry.videos"]
        assert con.sql("SELECT DISTINCT account_id, source FROM registry.videos").fetchall() == [(None, "manual")]
        columns = [
            r[0]
            for r in con.sql(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'registry' "
                "AND table_name = 'videos' ORDER BY ordinal_position"
            ).fetchall()
        ]
        assert columns[12:] == ["posted_at", "account_id", "source", "added_at", "updated_at", "stopped_at"]
        for table in (
            "registry.accounts",
            "registry.creators",
            "registry.creator_accounts",
            "registry.inbox",
            "raw.account_snapshots",
            "raw.account_attempts",
        ):
            assert con.sql(f"SELECT count(*) FROM {table}").fetchall() == [(0,)]


def test_v6_warehouse_gains_proxy_index_and_keeps_every_attempt(warehouse_path):
    con = duckdb.connect(str(warehouse_path))
    apply_migrations(con, up_to=6)
    con.execute(
        "INSERT INTO raw.scrape_attempts VALUES ('x:20', 'x', ?, 'ok', 200, NULL, 1.0, 1, 'x_syndication', 'r1', 'p'),"
        " ('x:21', 'x', ?, 'blocked', 403, 'HTTP 403', 2.0, 2, 'x_syndication', 'r1', NULL)",
        [T, T + timedelta(minutes=1)],
    )
    before = con.sql("SELECT * FROM raw.scrape_attempts ORDER BY ALL").fetchall()
    con.close()

    with open_warehouse(warehouse_path) as con:
        assert con.sql("SELECT max(version) FROM meta.schema_migrations").fetchall() == [(LATEST_VERSION,)]
        rows = con.sql("SELECT * FROM raw.scrape_attempts ORDER BY ALL").fetchall()
        # old attempts: no proxy; their attempt's instant as ingested_at, so the history export takes them once
        assert rows == [(*row, None, row[2]) for row in before]
        at = T + timedelta(hours=1)
        result = ScrapeResult(Attempt("x:22", Platform.X, at, Outcome.OK, source="test", proxy_index=1))
        with clock.pinned(T):
            write_scrape_results(con, [result])
        assert con.sql("SELECT proxy_index FROM raw.scrape_attempts WHERE video_id = 'x:22'").fetchall() == [(1,)]
