"""Publish the analyst copy: a read-only DuckDB file and Parquet exports of the marts.

Analysts and BI tools open ``data/analytics.duckdb`` (or the Parquet files), never the live warehouse: DuckDB
lets one process write a file and any open reader blocks the writer. The copy is written to a temporary file
next to the target and renamed over it with ``os.replace`` (atomic on one filesystem). A reader holding the
old file open keeps reading the old snapshot (on POSIX the old inode lives until closed) and is never
blocked; the next time they open the file they see the new one.

``marts.alert_events`` (one row per alert event, its deliveries as a list) is added to the copy and exported like
the dbt marts; it is built from ``raw.alert_events`` + ``raw.alert_deliveries`` here rather than by dbt because the
alert asset runs after the publish. Channel URLs are never in the warehouse (see orchestration/alerts/channels.py),
so nothing secret is copied.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration import config
from orchestration.alerts.store import EVENTS_SQL as ALERT_EVENTS_SQL

MART_SCHEMA = "marts"


@dataclass(frozen=True, slots=True)
class PublishSummary:
    analytics_path: Path
    export_dir: Path
    tables: dict[str, int]  # "schema.table" -> rows copied
    marts_exported: list[str]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def publish(
    con: duckdb.DuckDBPyConnection,
    *,
    analytics_path: Path | None = None,
    export_dir: Path | None = None,
) -> PublishSummary:
    """Copy the warehouse open on ``con`` to the analyst file and export the marts to Parquet."""
    target = (analytics_path or config.analytics_path()).absolute()
    exports = (export_dir or config.marts_export_dir()).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    exports.mkdir(parents=True, exist_ok=True)
    source_db = con.sql("SELECT current_database()").fetchall()[0][0]
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    alias = "analyst_copy"
    try:
        con.execute(f"ATTACH {_sql_str(str(tmp))} AS {alias}")
        try:
            con.execute(f"COPY FROM DATABASE {_quote(source_db)} TO {alias}")
            alerts = _has_alert_tables(con, source_db)
            if alerts:  # marts.alert_events: the alert events with their deliveries (docs/alerts.md)
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {alias}.{MART_SCHEMA}")
                con.execute(f"CREATE TABLE {alias}.{MART_SCHEMA}.alert_events AS {ALERT_EVENTS_SQL}")
            tables = {
                f"{schema}.{table}": 0
                for schema, table in con.sql(
                    "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ?".replace("?", _sql_str(alias))
                ).fetchall()
            }
            for name in list(tables):
                schema, table = name.split(".", 1)
                tables[name] = con.sql(f"SELECT count(*) FROM {alias}.{_quote(schema)}.{_quote(table)}").fetchall()[0][0]
        finally:
            con.execute(f"DETACH {alias}")
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            if leftover.exists():
                leftover.unlink()
    marts = [
        row[0]
        for row in con.sql(
            f"SELECT table_name FROM duckdb_tables() WHERE database_name = {_sql_str(source_db)}"
            f" AND schema_name = {_sql_str(MART_SCHEMA)} ORDER BY 1"
        ).fetchall()
    ]
    marts += [
        row[0]
        for row in con.sql(
            f"SELECT view_name FROM duckdb_views() WHERE database_name = {_sql_str(source_db)}"
            f" AND schema_name = {_sql_str(MART_SCHEMA)} ORDER BY 1"
        ).fetchall()
    ]
    queries = {mart: f"SELECT * FROM {_quote(source_db)}.{MART_SCHEMA}.{_quote(mart)}" for mart in marts}
    if alerts and "alert_events" not in queries:
        queries["alert_events"] = ALERT_EVENTS_SQL
        marts.append("alert_events")
    for mart, query in queries.items():
        final = exports / f"{mart}.parquet"
        part = exports / f".{mart}.parquet.tmp"
        con.execute(f"COPY ({query}) TO {_sql_str(str(part))} (FORMAT parquet)")
        os.replace(part, final)
    return PublishSummary(analytics_path=target, export_dir=exports, tables=tables, marts_exported=marts)


def _has_alert_tables(con: duckdb.DuckDBPyConnection, database: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'raw'"
        " AND table_name IN ('alert_events', 'alert_deliveries')",
        [database],
    ).fetchall()
    return rows[0][0] == 2


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
