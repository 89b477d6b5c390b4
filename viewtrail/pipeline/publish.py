"""Publish the analyst copy: a read-only DuckDB file and Parquet exports of the marts.

Analysts and BI tools open ``data/analytics.duckdb`` (or the Parquet files), never the live warehouse: DuckDB
lets one process write a file and any open reader blocks the writer. The copy is written to a temporary file
next to the target and renamed over it with ``os.replace`` (atomic on one filesystem). A reader holding the
old file open keeps reading the old snapshot (on POSIX the old inode lives until closed) and is never
blocked; the next time they open the file they see the new one.

``marts.alert_events`` (one row per alert event, its deliveries as a list) is added to the copy and exported like
the dbt marts; it is built from ``raw.alert_events`` + ``raw.alert_deliveries`` here rather than by dbt because the
alert asset runs after the publish. Channel URLs are never in the warehouse (see viewtrail/alerts/channels.py),
so nothing secret is copied.

A mart whose content did not change since its last export keeps its Parquet file as is (same bytes, same mtime:
sync tools and BI extracts watching the directory see nothing to reload). Each file carries, in its Parquet key-value
metadata, a fingerprint of what it holds: the columns with their types, the row count and the sum of the rows'
hashes (order-independent; a duplicated row counts twice). The publish computes the fingerprint of each mart (one
scan, no sort, no write) and rewrites only the files whose recorded fingerprint differs, or that are missing or
unreadable. The analyst DuckDB copy is still written whole and renamed atomically on every publish.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from viewtrail import config
from viewtrail.alerts.store import EVENTS_SQL as ALERT_EVENTS_SQL

MART_SCHEMA = "marts"
#: Parquet key-value metadata key holding the fingerprint of the content a mart's export was written from.
FINGERPRINT_KEY = "viewtrail_fingerprint"
#: Part of every fingerprint: bump it when the export format changes (options, layout) so every file is rewritten.
EXPORT_FORMAT = "parquet-v1"


@dataclass(frozen=True, slots=True)
class PublishSummary:
    analytics_path: Path
    export_dir: Path
    tables: dict[str, int]  # "schema.table" -> rows copied
    marts_exported: list[str]  # every mart with a Parquet file in export_dir after this publish
    marts_unchanged: list[str] = field(default_factory=list)  # of those, the files left untouched (same content)


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
                    "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ?".replace(
                        "?", _sql_str(alias)
                    )
                ).fetchall()
            }
            for name in list(tables):
                schema, table = name.split(".", 1)
                tables[name] = con.sql(f"SELECT count(*) FROM {alias}.{_quote(schema)}.{_quote(table)}").fetchall()[0][
                    0
                ]
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
    unchanged = []
    for mart, query in queries.items():
        final = exports / f"{mart}.parquet"
        fingerprint = content_fingerprint(con, query)
        if final.exists() and recorded_fingerprint(con, final) == fingerprint:
            unchanged.append(mart)
            continue
        part = exports / f".{mart}.parquet.tmp"
        con.execute(
            f"COPY ({query}) TO {_sql_str(str(part))}"
            f" (FORMAT parquet, KV_METADATA {{{FINGERPRINT_KEY}: {_sql_str(fingerprint)}}})"
        )
        os.replace(part, final)
    return PublishSummary(
        analytics_path=target, export_dir=exports, tables=tables, marts_exported=marts, marts_unchanged=unchanged
    )


def content_fingerprint(con: duckdb.DuckDBPyConnection, query: str) -> str:
    """A cheap fingerprint of what ``query`` returns: its columns and types, its row count and the sum of its
    rows' hashes (independent of row order). One scan, nothing sorted or written."""
    columns = con.sql(f"DESCRIBE SELECT * FROM ({query}) AS described").fetchall()
    ((rows, hash_sum),) = con.execute(
        f"SELECT count(*), coalesce(sum(hash(*COLUMNS(*))::HUGEINT), 0) FROM ({query}) AS fingerprinted"
    ).fetchall()
    shape = "|".join(f"{column[0]}:{column[1]}" for column in columns)
    return hashlib.sha256(f"{EXPORT_FORMAT}\n{shape}\n{rows}\n{hash_sum}".encode()).hexdigest()


def recorded_fingerprint(con: duckdb.DuckDBPyConnection, parquet: Path) -> str | None:
    """The fingerprint recorded in ``parquet`` when it was exported; None when absent or the file is unreadable."""
    try:
        rows = con.execute(
            "SELECT value::VARCHAR FROM parquet_kv_metadata(?) WHERE key::VARCHAR = ?", [str(parquet), FINGERPRINT_KEY]
        ).fetchall()
    except duckdb.Error:
        return None
    return rows[0][0] if rows else None


def _has_alert_tables(con: duckdb.DuckDBPyConnection, database: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'raw'"
        " AND table_name IN ('alert_events', 'alert_deliveries')",
        [database],
    ).fetchall()
    return rows[0][0] == 2


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
