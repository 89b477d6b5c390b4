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
unreadable.

The raw history (``raw.snapshots``, ``raw.scrape_attempts``) is not copied into the analyst file: it goes out as
append-only Parquet files beside the marts' (``<data dir>/history/<table>/day=YYYY-MM-DD/*.parquet``, by the day
of ``observed_at`` / ``attempted_at``) and the copy holds, under the same names and with the same columns and
types, views over exactly the files of its publish (videos deleted since are left out). Each publish exports
only the rows written since the last one (by ``ingested_at``, the write clock's stamp, which increases in commit
order), so its cost is the new data, not the history. A day's files never change once written; when a day is
closed (older than yesterday of the newest row) its files are merged into one, and the files it replaced are
deleted a day later (a session still open on an older copy keeps reading them). ``history/manifest.json`` lists
the live files and the watermark; it is written after the copy is renamed. Killed anywhere, a publish leaves
the previous copy and its files whole; files written but not in the manifest are never read by a copy made
afterwards (the next publish exports those rows again into new files, then deletes the strays a day later).
The marts of one row per day (a ``day`` column: video_daily, video_engagement, label_daily, account_daily...) grow
with the history too, so they are not copied either: each goes out as Parquet files by month of ``day``
(``<marts dir>/<mart>/month=YYYY-MM/*.parquet``, rows ordered by the mart's first column so a lookup of one video
reads few row groups) and the copy holds, under the same name and with the same columns and types, a view over
exactly the files of its publish. A publish rewrites only the months whose rows changed: for a mart of one row per
video and day, which changes only with new snapshots (video_daily, video_engagement: ``MARK_ONLY_DAY_MARTS``), the
months of the rows newer than the high-water mark (``snapshots_ingested_through``) recorded at the last publish (a build stamps every row it writes with the write clock's newest ingested_at, which only grows),
plus the months whose row count changed (rows deleted); for the others, the months whose
fingerprint (as below) changed. An hourly build changes the last days of the touched videos, so a publish rewrites
a month or two whatever the length of the history. ``<marts dir>/manifest.json`` lists the live files, written
after the copy's rename like the history's; replaced files are deleted a day later.

The rest of the warehouse (registry, staging, intermediate, the other marts, meta, the small raw tables) is copied,
laid out for pages (:data:`viewtrail.warehouse.marts.ORDERED_IN_COPY`): ``registry.videos`` in video-id order
(listed in ``meta.copy_order``, which only the copy has) and the per-video marts indexed by video id, so that the
API's first page of 1,000,000 videos reads its 50 rows, not a million.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from viewtrail import config
from viewtrail.alerts.store import EVENTS_SQL as ALERT_EVENTS_SQL
from viewtrail.warehouse.marts import COPY_ORDER, INDEXED_IN_COPY, ORDERED_IN_COPY

MART_SCHEMA = "marts"
#: Parquet key-value metadata key holding the fingerprint of the content a mart's export was written from.
FINGERPRINT_KEY = "viewtrail_fingerprint"
#: Part of every fingerprint: bump it when the export format changes (options, layout) so every file is rewritten.
EXPORT_FORMAT = "parquet-v1"
#: The raw history published as Parquet files by day instead of copied: table -> the column giving the day.
HISTORY_TABLES = {"raw.snapshots": "observed_at", "raw.scrape_attempts": "attempted_at"}
HISTORY_DIR_NAME = "history"
MANIFEST_NAME = "manifest.json"
#: Files a newer publish replaced (or strays of a killed one) are deleted this long after, not at once: an
#: analyst session opened on an older copy still reads them.
RETAIN_REPLACED = timedelta(days=1)
#: A mart with this column is published by month of it (MartMonths), as views in the copy.
DAY_COLUMN = "day"
#: The column holding the build's high-water mark in the incremental marts (macros/daily_history.sql).
WATERMARK_COLUMN = "snapshots_ingested_through"
#: The day marts whose rows change only when snapshots arrive (or leave with a deleted video), so that the months to
#: rewrite are those of the rows newer than the mark. The roll-ups (label_daily, account_daily) carry the mark too
#: but also change when a video moves between labels or accounts with no new snapshot: they are compared by
#: fingerprint like the marts without a mark (they hold groups x days, not videos x days).
MARK_ONLY_DAY_MARTS = frozenset({"video_daily", "video_engagement"})


@dataclass(frozen=True, slots=True)
class PublishSummary:
    analytics_path: Path
    export_dir: Path
    tables: dict[str, int]  # "schema.table" -> rows copied
    marts_exported: list[str]  # every mart with a Parquet file in export_dir after this publish
    marts_unchanged: list[str] = field(default_factory=list)  # of those, the files left untouched (same content)
    history_rows_exported: dict[str, int] = field(default_factory=dict)  # "raw.snapshots" -> rows new this time
    history_files: dict[str, int] = field(default_factory=dict)  # "raw.snapshots" -> Parquet files read by the copy
    months_rewritten: dict[str, list[str]] = field(default_factory=dict)  # day mart -> months written this time


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
    history = History(exports.parent / HISTORY_DIR_NAME)
    exported = {
        table: history.export(con, source_db, table, day_column) for table, day_column in HISTORY_TABLES.items()
    }
    by_month = MartMonths(exports)
    day_marts = _day_marts(con, source_db)
    rewritten = {mart: by_month.export(con, source_db, mart) for mart in day_marts}
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    alias = "analyst_copy"
    try:
        con.execute(f"ATTACH {_sql_str(str(tmp))} AS {alias}")
        try:
            _copy_all_but_history(con, source_db, alias, history, by_month)
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
            tables |= {table: history.rows(table) for table in HISTORY_TABLES}
            tables |= {f"{MART_SCHEMA}.{mart}": by_month.rows(mart) for mart in day_marts}
        finally:
            con.execute(f"DETACH {alias}")
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            if leftover.exists():
                leftover.unlink()
    history.commit()
    by_month.commit()
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
        if mart in day_marts:  # published by month above
            (exports / f"{mart}.parquet").unlink(missing_ok=True)  # a whole-mart file of an earlier layout
            continue
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
        analytics_path=target,
        export_dir=exports,
        tables=tables,
        marts_exported=marts,
        marts_unchanged=unchanged,
        history_rows_exported=exported,
        history_files={table: len(history.files(table)) for table in HISTORY_TABLES},
        months_rewritten=rewritten,
    )


def _day_marts(con: duckdb.DuckDBPyConnection, source_db: str) -> list[str]:
    """The dbt marts (tables) with a ``day`` column: one row per day, so their size grows with the history."""
    rows = con.execute(
        "SELECT c.table_name FROM duckdb_columns() AS c JOIN duckdb_tables() AS t"
        " ON t.database_name = c.database_name AND t.schema_name = c.schema_name AND t.table_name = c.table_name"
        " WHERE c.database_name = ? AND c.schema_name = ? AND c.column_name = ? ORDER BY 1",
        [source_db, MART_SCHEMA, DAY_COLUMN],
    ).fetchall()
    return [row[0] for row in rows]


def _columns(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> list[tuple[str, str]]:
    return [
        (str(c), str(t))
        for c, t in con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND schema_name = ?"
            " AND table_name = ? ORDER BY column_index",
            [database, schema, table],
        ).fetchall()
    ]


def _parquet_view(
    con: duckdb.DuckDBPyConnection,
    alias: str,
    schema: str,
    table: str,
    columns: list[tuple[str, str]],
    files: list[Path],
    where: str = "",
) -> None:
    """Replace the empty table ``alias.schema.table`` by a view over ``files`` with the same columns and types."""
    select = ", ".join(f"CAST({_quote(c)} AS {t}) AS {_quote(c)}" for c, t in columns)
    paths = ", ".join(_sql_str(str(path)) for path in files)
    con.execute(f"DROP TABLE {alias}.{_quote(schema)}.{_quote(table)}")
    con.execute(
        f"CREATE VIEW {alias}.{_quote(schema)}.{_quote(table)} AS SELECT {select} FROM read_parquet([{paths}]){where}"
    )


def _copy_all_but_history(
    con: duckdb.DuckDBPyConnection, source_db: str, alias: str, history: History, by_month: MartMonths
) -> None:
    """The warehouse's schemas, views and tables into ``alias``; the history tables and the day marts as views
    over their Parquet files."""
    con.execute(f"COPY FROM DATABASE {_quote(source_db)} TO {alias} (SCHEMA)")  # DDL only: empty tables, views
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ? AND NOT internal", [source_db]
    ).fetchall()
    copied: set[str] = set()
    for schema, table in tables:
        name = f"{schema}.{table}"
        if name in HISTORY_TABLES:
            files = history.files(name)
            if files:  # else the empty table stays, with the same columns
                # unqualified registry.videos: bound when an analyst opens the copy, i.e. the copy's registry
                _parquet_view(
                    con,
                    alias,
                    schema,
                    table,
                    _columns(con, source_db, schema, table),
                    files,
                    " WHERE video_id IN (SELECT video_id FROM registry.videos)",
                )
            continue
        if schema == MART_SCHEMA and by_month.published(table):
            files = by_month.files(table)
            if files:
                _parquet_view(con, alias, schema, table, _columns(con, source_db, schema, table), files)
            continue
        qualified = f"{_quote(schema)}.{_quote(table)}"
        order = f" ORDER BY {_quote(ORDERED_IN_COPY[name])}" if name in ORDERED_IN_COPY else ""
        con.execute(f"INSERT INTO {alias}.{qualified} SELECT * FROM {_quote(source_db)}.{qualified}{order}")
        copied.add(name)
    _lay_out_for_pages(con, alias, copied)


def _lay_out_for_pages(con: duckdb.DuckDBPyConnection, alias: str, copied: set[str]) -> None:
    """Index the copy's per-video marts by video id and record which tables it stored in order (see
    :data:`viewtrail.warehouse.marts.ORDERED_IN_COPY`): a page of the API costs a lookup, not a scan of every video."""
    for name, column in INDEXED_IN_COPY.items():
        if name in copied:
            schema, table = name.split(".")
            con.execute(
                f"CREATE INDEX {_quote(f'{table}_by_{column}')} ON {alias}.{_quote(schema)}.{_quote(table)}"
                f" ({_quote(column)})"
            )
    schema, table = COPY_ORDER.split(".")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {alias}.{_quote(schema)}")
    con.execute(f"CREATE TABLE {alias}.{_quote(schema)}.{_quote(table)} (table_name TEXT, ordered_by TEXT)")
    ordered = [(name, column) for name, column in ORDERED_IN_COPY.items() if name in copied]
    if ordered:
        con.executemany(f"INSERT INTO {alias}.{_quote(schema)}.{_quote(table)} VALUES (?, ?)", ordered)


class _PublishedFiles:
    """A folder of Parquet files read by the analyst copy, and its manifest: the live files (what the newest copy
    reads, by subclass) and the files a newer publish replaced, deleted RETAIN_REPLACED after. The manifest is
    written after the copy's rename, so a killed publish leaves the previous one whole."""

    #: The manifest's key holding the live files, and the files' place below the root.
    SECTION = ""
    FILES_GLOB = ""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.manifest_path = root / MANIFEST_NAME
        self.state: dict[str, Any] = {self.SECTION: {}, "replaced": {}}
        if self.manifest_path.exists():
            try:
                self.state = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.state = {}  # unreadable: everything is written again, the copy stays whole
        if not isinstance(self.state, dict):
            self.state = {}
        self.state.setdefault(self.SECTION, {})
        self.state.setdefault("replaced", {})

    def _live_files(self) -> set[str]:
        raise NotImplementedError

    def _retire(self, rel: str) -> None:
        self.state["replaced"][rel] = _now_iso()

    def commit(self) -> None:
        """Record the files the new copy reads (after its rename), then delete files replaced, or left by a killed
        publish, more than RETAIN_REPLACED ago."""
        self.root.mkdir(parents=True, exist_ok=True)
        keep_after = datetime.now(UTC) - RETAIN_REPLACED
        replaced = self.state["replaced"]
        for rel, since in list(replaced.items()):
            if datetime.fromisoformat(since) < keep_after:
                (self.root / rel).unlink(missing_ok=True)
                del replaced[rel]
        part = self.manifest_path.with_name("." + MANIFEST_NAME + ".tmp")
        part.write_text(json.dumps(self.state, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(part, self.manifest_path)
        live = self._live_files() | set(replaced)
        for path in self.root.glob(self.FILES_GLOB):
            rel = str(path.relative_to(self.root))
            if rel not in live and datetime.fromtimestamp(path.stat().st_mtime, UTC) < keep_after:
                path.unlink(missing_ok=True)  # a stray of a publish killed before its manifest, a day ago


class History(_PublishedFiles):
    """The raw history's Parquet files under ``root`` and their manifest (see the module docstring)."""

    SECTION = "tables"
    FILES_GLOB = "*/day=*/*.parquet"

    def _live_files(self) -> set[str]:
        return {rel for t in self.state["tables"].values() for rel in t["files"]}

    def _table(self, table: str) -> dict[str, Any]:
        return self.state["tables"].setdefault(table, {"watermark": None, "files": {}})

    def files(self, table: str) -> list[Path]:
        return [self.root / rel for rel in sorted(self._table(table)["files"])]

    def rows(self, table: str) -> int:
        return sum(int(f["rows"]) for f in self._table(table)["files"].values())

    def export(self, con: duckdb.DuckDBPyConnection, source_db: str, table: str, day_column: str) -> int:
        """Write the rows of ``table`` stored since the last publish as new files, one per day; merge the files
        of days now closed. Returns the rows exported."""
        state = self._table(table)
        source = f"{_quote(source_db)}.{table}"
        watermark = state["watermark"]
        where = "ingested_at > ?::TIMESTAMP" if watermark else "true"
        params = [watermark] if watermark else []
        ((rows, newest),) = con.execute(
            f"SELECT count(*), max(ingested_at)::VARCHAR FROM {source} WHERE {where}", params
        ).fetchall()
        folder = self.root / table.split(".", 1)[1]
        if rows:
            stamp = uuid.uuid4().hex[:12]
            staged = folder / f".tmp-{stamp}"
            folder.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"COPY (SELECT *, CAST({_quote(day_column)} AS DATE) AS day FROM {source} WHERE {where})"
                f" TO {_sql_str(str(staged))} (FORMAT parquet, PARTITION_BY (day))",
                params,
            )
            for part in sorted(staged.glob("day=*/*.parquet")):
                final = folder / part.parent.name / f"{stamp}-{part.stem}.parquet"
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(part, final)
                count = con.execute("SELECT count(*) FROM read_parquet(?)", [str(final)]).fetchall()[0][0]
                state["files"][str(final.relative_to(self.root))] = {"day": part.parent.name[4:], "rows": int(count)}
            shutil.rmtree(staged, ignore_errors=True)
            # rows written by hand without ingested_at go out once, with the first export: a watermark older than
            # any write keeps them from being exported again
            state["watermark"] = newest or watermark or "1970-01-01 00:00:00"
        self._merge_closed_days(con, table, folder, state)
        return int(rows)

    def _merge_closed_days(
        self, con: duckdb.DuckDBPyConnection, table: str, folder: Path, state: dict[str, Any]
    ) -> None:
        by_day: dict[str, list[str]] = {}
        for rel, info in state["files"].items():
            by_day.setdefault(info["day"], []).append(rel)
        if not by_day:
            return
        closed_before = (datetime.fromisoformat(max(by_day)) - timedelta(days=1)).date().isoformat()
        for day, rels in by_day.items():
            if day >= closed_before or len(rels) < 2:
                continue
            final = folder / f"day={day}" / f"{uuid.uuid4().hex[:12]}-merged.parquet"
            paths = ", ".join(_sql_str(str(self.root / rel)) for rel in sorted(rels))
            part = final.with_name("." + final.name + ".tmp")
            con.execute(f"COPY (SELECT * FROM read_parquet([{paths}])) TO {_sql_str(str(part))} (FORMAT parquet)")
            os.replace(part, final)
            rows = sum(int(state["files"][rel]["rows"]) for rel in rels)
            for rel in rels:
                del state["files"][rel]
                self._retire(rel)
            state["files"][str(final.relative_to(self.root))] = {"day": day, "rows": rows}


class MartMonths(_PublishedFiles):
    """The day marts' Parquet files by month under ``root`` and their manifest (see the module docstring)."""

    SECTION = "marts"
    FILES_GLOB = "*/month=*/*.parquet"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self._exported: set[str] = set()

    def _live_files(self) -> set[str]:
        return {m["file"] for mart in self.state["marts"].values() for m in mart["months"].values()}

    def published(self, mart: str) -> bool:
        return mart in self._exported

    def files(self, mart: str) -> list[Path]:
        months = self.state["marts"].get(mart, {}).get("months", {})
        return [self.root / months[month]["file"] for month in sorted(months)]

    def rows(self, mart: str) -> int:
        return sum(int(m["rows"]) for m in self.state["marts"].get(mart, {}).get("months", {}).values())

    def export(self, con: duckdb.DuckDBPyConnection, source_db: str, mart: str) -> list[str]:
        """Write the months of ``mart`` whose rows changed since the last publish; returns those months."""
        self._exported.add(mart)
        source = f"{_quote(source_db)}.{MART_SCHEMA}.{_quote(mart)}"
        columns = _columns(con, source_db, MART_SCHEMA, mart)
        names = [c for c, _ in columns]
        shape = "|".join(f"{c}:{t}" for c, t in columns)
        previous = self.state["marts"].get(mart, {})
        known: dict[str, dict[str, Any]] = previous.get("months", {}) if previous.get("shape") == shape else {}
        month = f"strftime({_quote(DAY_COLUMN)}, '%Y-%m')"
        watermark = None
        counts: dict[str, tuple[int, str | None]]
        if WATERMARK_COLUMN in names and mart in MARK_ONLY_DAY_MARTS:
            # months with rows newer than the mark of the last publish, and the row count of every month
            mark = previous.get("watermark") if known else None
            counts = {
                m: (int(n), None)
                for m, n in con.execute(f"SELECT {month}, count(*) FROM {source} GROUP BY 1").fetchall()
            }
            touched = (
                {
                    m
                    for (m,) in con.execute(
                        f"SELECT DISTINCT {month} FROM {source} WHERE {_quote(WATERMARK_COLUMN)} > ?::TIMESTAMP",
                        [mark],
                    ).fetchall()
                }
                if mark
                else set(counts)
            )
            ((newest,),) = con.execute(f"SELECT max({_quote(WATERMARK_COLUMN)})::VARCHAR FROM {source}").fetchall()
            watermark = newest or mark
            changed = {m for m, (n, _) in counts.items() if m in touched or known.get(m, {}).get("rows") != n}
        else:
            counts = {
                m: (int(n), f"{n}:{h}")
                for m, n, h in con.execute(
                    f"SELECT {month}, count(*), coalesce(sum(hash(*COLUMNS(*))::HUGEINT), 0) FROM {source} GROUP BY 1"
                ).fetchall()
            }
            changed = {m for m, (_, fp) in counts.items() if known.get(m, {}).get("fingerprint") != fp}
        months: dict[str, dict[str, Any]] = {}
        folder = self.root / mart
        order = ", ".join(_quote(c) for c in dict.fromkeys([names[0], DAY_COLUMN]))
        for m, (rows, fingerprint) in sorted(counts.items()):
            if m not in changed and (self.root / known[m]["file"]).exists():
                months[m] = known[m]
                continue
            final = folder / f"month={m}" / f"{uuid.uuid4().hex[:12]}.parquet"
            final.parent.mkdir(parents=True, exist_ok=True)
            part = final.with_name("." + final.name + ".tmp")
            start = datetime.strptime(m, "%Y-%m").date()
            end = (start + timedelta(days=32)).replace(day=1)
            con.execute(
                f"COPY (SELECT * FROM {source} WHERE {_quote(DAY_COLUMN)} >= ?::DATE AND {_quote(DAY_COLUMN)} < ?::DATE"
                f" ORDER BY {order}) TO {_sql_str(str(part))} (FORMAT parquet)",
                [start, end],
            )
            os.replace(part, final)
            months[m] = {"file": str(final.relative_to(self.root)), "rows": rows, "fingerprint": fingerprint}
        live = {info["file"] for info in months.values()}
        for info in previous.get("months", {}).values():
            if info["file"] not in live:
                self._retire(info["file"])
        self.state["marts"][mart] = {"shape": shape, "watermark": watermark, "months": months}
        return sorted(changed)

    def commit(self) -> None:
        """As the base, and the marts no longer built leave the manifest (their files retired)."""
        for mart in [m for m in self.state["marts"] if m not in self._exported]:
            for info in self.state["marts"].pop(mart)["months"].values():
                self._retire(info["file"])
        super().commit()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


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
