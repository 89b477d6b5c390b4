"""`viewtrail sql`: read-only SQL on the analyst copy (data/analytics.duckdb), as a table, CSV or JSON.

Only the published copy is ever opened, read-only: it is replaced atomically after each build, so a session
here never blocks the pipeline. Nothing else is reachable from a query: DuckDB's own guards (no external access,
no extension installed or loaded, the configuration locked) keep out every file, URL and other database,
including the live warehouse (a handle on it would lock the pipeline out) and its channels file (secret URLs).
Statements that write (INSERT, CREATE, COPY...) or open something else (ATTACH, INSTALL, LOAD) are also refused
by kind before any of the SQL runs.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from viewtrail import config
from viewtrail.cli._common import fail, friendly_errors, out
from viewtrail.cli._values import csv_value, json_value

if TYPE_CHECKING:  # duckdb loads inside the command: `viewtrail --help` stays fast
    import duckdb

    from viewtrail.warehouse.connection import ConnectionConfig

DEFAULT_TABLE_ROWS = 50
_BATCH = 10_000
_HINT_NAMES = 12

# Statement kinds that only read (DuckDB's StatementType names). SHOW, DESCRIBE, SUMMARIZE, FROM and VALUES
# parse as SELECT; MULTI is PIVOT. Everything else (INSERT, CREATE, COPY, ATTACH, LOAD/INSTALL, EXPORT...) is
# refused; the read-only connection stays the backstop for anything that slips through (e.g. nextval()).
_READING_STATEMENTS = frozenset({"SELECT", "EXPLAIN", "PRAGMA", "CALL", "SET", "VARIABLE_SET", "TRANSACTION", "MULTI"})

_SILENT_STATEMENTS = frozenset({"SET", "VARIABLE_SET", "TRANSACTION"})

# Statement kinds that reach outside the copy (another database, an extension): refused as such, not as writes.
_OUTSIDE_STATEMENTS = frozenset({"ATTACH", "DETACH", "LOAD"})

#: Settings a query may still SET: they change how it runs or shows values, never what it can read.
QUERY_SETTINGS = (
    "threads",
    "memory_limit",
    "TimeZone",
    "Calendar",
    "default_order",
    "default_null_order",
    "preserve_insertion_order",
)

# DuckDB's guards, given when the copy is opened: the copy is the only file a query can read (no other file, URL
# or database, so neither the live warehouse, whose lock would shut the pipeline out, nor the secret channel
# URLs beside it), and no extension is installed or loaded (autoloading one would download it, and extensions
# bring their own readers). `lock_configuration` is set once the connection is ready, so a query cannot SET any
# of these back; only QUERY_SETTINGS stay open to it.
_GUARDS: ConnectionConfig = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allowed_configs": list(QUERY_SETTINGS),
}

_OUTSIDE_REFUSAL = (
    "viewtrail sql reads only the analyst copy (no files, URLs, other databases or extensions): query its tables "
    "(marts.*, registry.*) instead; see docs/analysts.md."
)

_NUMERIC_TYPES = frozenset(
    {
        "tinyint",
        "smallint",
        "integer",
        "bigint",
        "hugeint",
        "utinyint",
        "usmallint",
        "uinteger",
        "ubigint",
        "uhugeint",
        "float",
        "double",
        "decimal",
    }
)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@dataclass
class _Rows:
    """A result being read: column names and DuckDB type ids, batches on demand, a count of what is left."""

    columns: list[str]
    types: list[str]
    fetch: Callable[[int], list[tuple]]
    count_rest: Callable[[], int]


class _SqlError(Exception):
    """A DuckDB error while parsing or running the user's SQL (the message is DuckDB's)."""


# ---------------------------------------------------------------------------------------------------- values


def _fmt_float(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0.0"
    if abs(value) < 1e-6:
        return f"{value:.3e}"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = min(10, max(2, 3 - magnitude))  # about 4 significant digits for small numbers, 2 decimals above 10
    text = f"{value:,.{decimals}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _cell(value: Any) -> str:
    """A value as shown in the table: thousands separators, readable times, NULL for null."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return _fmt_float(value)
    if isinstance(value, Decimal):
        return f"{value:,}" if value.is_finite() else str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(json_value(value), ensure_ascii=False)
    return str(json_value(value))


def _unique_keys(columns: list[str]) -> list[str]:
    """JSON object keys: a repeated column name gets a suffix (id, id_2) instead of overwriting the first."""
    seen: dict[str, int] = {}
    keys = []
    for name in columns:
        count = seen.get(name, 0) + 1
        seen[name] = count
        key = name if count == 1 else f"{name}_{count}"
        while count > 1 and key in columns:
            count += 1
            key = f"{name}_{count}"
        keys.append(key)
    return keys


# ---------------------------------------------------------------------------------------------------- output


def _batches(rows: _Rows, limit: int | None) -> Iterator[list[tuple]]:
    left = limit
    while left is None or left > 0:
        batch = rows.fetch(_BATCH if left is None else min(_BATCH, left))
        if not batch:
            return
        if left is not None:
            left -= len(batch)
        yield batch


def _write_csv(rows: _Rows, limit: int | None) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(rows.columns)
    for batch in _batches(rows, limit):
        writer.writerows([csv_value(v) for v in row] for row in batch)


def _write_json(rows: _Rows, limit: int | None) -> None:
    keys = _unique_keys(rows.columns)
    first = True
    sys.stdout.write("[")
    for batch in _batches(rows, limit):
        for row in batch:
            item = json.dumps(dict(zip(keys, (json_value(v) for v in row), strict=False)), ensure_ascii=False)
            sys.stdout.write(("\n" if first else ",\n") + item)
            first = False
    sys.stdout.write("]\n" if first else "\n]\n")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


_FIRM_WIDTH = 26  # values up to this long are never folded while the terminal is wide enough
_FOLDED_WIDTH = 10  # below this many characters per column, folding stops being readable: columns are hidden


def _print_table(rows: _Rows, limit: int | None) -> None:
    shown = rows.fetch(limit) if limit else [row for batch in _batches(rows, None) for row in batch]
    total = len(shown) + (rows.count_rest() if limit else 0)
    cells = [[_cell(v) for v in row] for row in shown]
    widest = [max((len(row[i]) for row in cells), default=0) for i in range(len(rows.columns))]

    def build(indices: list[int], firm: bool) -> Table:
        table = Table()
        for i in indices:
            # long values fold onto the next line rather than being cut off with an ellipsis
            table.add_column(
                Text(rows.columns[i], overflow="fold"),
                overflow="fold",
                justify="right" if rows.types[i] in _NUMERIC_TYPES else "left",
                min_width=min(widest[i], _FIRM_WIDTH) if firm else None,
            )
        for row, values in zip(cells, shown, strict=False):
            table.add_row(*(Text(row[i], style="dim") if values[i] is None else Text(row[i]) for i in indices))
        return table

    indices = list(range(len(rows.columns)))
    table = build(indices, firm=True)
    needed = Measurement.get(out, out.options.update_width(100_000), table)
    hidden: list[str] = []
    if not out.is_terminal:  # into a file or a pager: rows at their natural width, never squeezed into 80 columns
        Console(file=out.file, width=max(out.width, needed.maximum), highlight=False).print(table)
    else:
        if needed.minimum > out.width:  # too wide for the terminal: fold values, and hide the last columns
            budget = out.width - 1  # when even folded they cannot fit
            kept: list[int] = []
            for i in indices:
                budget -= min(max(widest[i], len(rows.columns[i])), _FOLDED_WIDTH) + 3
                if budget < 0 and kept:
                    break
                kept.append(i)
            hidden = [rows.columns[i] for i in indices[len(kept) :]]
            table = build(kept, firm=False)
        out.print(table)
    if total > len(shown):
        footer = (
            f"{len(shown):,} of {_plural(total, 'row')} shown; --limit N shows more (0 for all), "
            "--format csv exports them all."
        )
    else:
        footer = _plural(total, "row") + "."
    if hidden:
        names = ", ".join(hidden[:5]) + (", ..." if len(hidden) > 5 else "")
        footer += (
            f" {_plural(len(hidden), 'more column')} did not fit the terminal ({names}): "
            "select fewer columns, widen the window or use --format csv."
        )
    out.print(Text(footer, style="dim"))


def _emit(rows: _Rows | None, fmt: OutputFormat, limit: int | None) -> None:
    if rows is None:  # the last statement returns no result (SET, a PRAGMA that only changes a setting...)
        if fmt is OutputFormat.json:
            sys.stdout.write("[]\n")
        elif fmt is OutputFormat.table:
            out.print("OK (the statement returns no rows).", markup=False)
        return
    if fmt is OutputFormat.csv:
        _write_csv(rows, limit)
    elif fmt is OutputFormat.json:
        _write_json(rows, limit)
    else:
        _print_table(rows, DEFAULT_TABLE_ROWS if limit is None else (limit or None))


# ---------------------------------------------------------------------------------------------------- duckdb


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines()]
    if not lines or not lines[0]:
        return type(error).__name__
    first = lines[0]
    # keep DuckDB's own suggestion (Did you mean "marts.video_daily"? / Candidate bindings: ...) unless it points
    # at a system catalog, which only confuses
    if (
        len(lines) > 1
        and lines[1].startswith(("Did you mean", "Candidate bindings"))
        and not any(word in lines[1] for word in ('"pg_', '"information_schema', '"duckdb_', '"sqlite_'))
    ):
        first += " " + lines[1]
    return first


def _relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(schema, name, kind) of the copy's tables and views, marts first."""
    return con.execute(
        """
        SELECT schema_name, table_name, 'table' FROM duckdb_tables()
        WHERE database_name = current_database() AND NOT internal
        UNION ALL
        SELECT schema_name, view_name, 'view' FROM duckdb_views()
        WHERE database_name = current_database() AND NOT internal
          AND schema_name NOT IN ('information_schema', 'pg_catalog')
        ORDER BY schema_name <> 'marts', schema_name, 2
        """
    ).fetchall()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _available_hint(con: duckdb.DuckDBPyConnection) -> str:
    """What there is to query: the marts by name, the other schemas by name, on one line."""
    try:
        relations = _relations(con.cursor())
    except Exception:  # noqa: BLE001 - the hint is a courtesy: never let it hide the real error
        return ""
    if not relations:
        return " (the analyst copy has no tables; run `viewtrail build`)"
    marts = [f"{schema}.{name}" for schema, name, _ in relations if schema == "marts"]
    others = sorted({schema for schema, _, _ in relations if schema != "marts"})
    parts = []
    if marts:
        parts.append(", ".join(marts[:_HINT_NAMES]) + (", ..." if len(marts) > _HINT_NAMES else ""))
    if others:
        parts.append(("other schemas: " if marts else "schemas: ") + ", ".join(others))
    return f" (tables: {'; '.join(parts)}; `viewtrail sql --tables` lists all {len(relations)} with row counts)"


def _sql_failure(con: duckdb.DuckDBPyConnection, error: BaseException) -> typer.Exit:
    import duckdb

    message = _first_line(error)
    if "read-only mode" in message or "read only mode" in message:
        return _read_only_failure(None)
    # DuckDB's own refusals get viewtrail's sentence: theirs name the file asked for, and suggest INSTALL / SET
    if isinstance(error, duckdb.PermissionException) or re.search(r"but it exists in the \w+ extension", message):
        return fail(_OUTSIDE_REFUSAL)
    locked = re.search(r'Cannot change configuration option "([^"]+)" - the configuration has been locked', message)
    if locked:
        return fail(
            f"viewtrail sql cannot change the setting {locked.group(1)} (its settings keep queries on the analyst "
            f"copy): a query may SET only {', '.join(QUERY_SETTINGS)}; see docs/cli.md#sql."
        )
    return fail(f"The query failed: {message}{_available_hint(con)}.")


def _read_only_failure(kind: str | None) -> typer.Exit:
    what = f"{kind} statements are" if kind else "the statement was"
    if kind in _OUTSIDE_STATEMENTS:
        return fail(_OUTSIDE_REFUSAL)
    return fail(
        f"The analyst copy is read-only: `viewtrail sql` only runs queries (SELECT, WITH, SHOW, DESCRIBE, "
        f"SUMMARIZE, EXPLAIN, PRAGMA, SET) and {what} refused; nothing was changed."
    )


def _cursor_rows(cursor: duckdb.DuckDBPyConnection) -> _Rows | None:
    description = cursor.description
    if description is None:
        return None

    def count_rest() -> int:
        try:  # Arrow batches count the rest without building Python objects (a million rows in ~0.1 s)
            with warnings.catch_warnings():  # the extra copy DuckDB warns about is what counting needs
                warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)
                reader = cursor.to_arrow_reader(100_000)
            if reader is not None:  # None only when there is no result, which a described cursor has
                return sum(batch.num_rows for batch in reader)
        except Exception:  # noqa: BLE001 - a type Arrow cannot carry: count the Python rows instead
            pass
        total = 0
        while batch := cursor.fetchmany(_BATCH):
            total += len(batch)
        return total

    return _Rows(
        columns=[d[0] for d in description],
        types=[str(getattr(d[1], "id", d[1])).lower() for d in description],
        fetch=cursor.fetchmany,
        count_rest=count_rest,
    )


def _list_rows(columns: list[str], types: list[str], data: list[tuple]) -> _Rows:
    position = 0

    def fetch(n: int) -> list[tuple]:
        nonlocal position
        batch = data[position : position + n]
        position += len(batch)
        return batch

    return _Rows(columns, types, fetch, lambda: len(data) - position)


def _tables_listing(con: duckdb.DuckDBPyConnection) -> _Rows:
    import duckdb

    column_counts = {
        (schema, name): n
        for schema, name, n in con.execute(
            "SELECT schema_name, table_name, count(*) FROM duckdb_columns() "
            "WHERE database_name = current_database() GROUP BY ALL"
        ).fetchall()
    }
    data = []
    for schema, name, kind in _relations(con):
        try:
            [(count,)] = con.execute(f"SELECT count(*) FROM {_quote(schema)}.{_quote(name)}").fetchall()
        except duckdb.Error:  # a view that no longer binds: list it, without a count
            count = None
        data.append((f"{schema}.{name}", kind, column_counts.get((schema, name)), count))
    return _list_rows(["name", "kind", "columns", "rows"], ["varchar", "varchar", "bigint", "bigint"], data)


def _open_copy(path: Path) -> duckdb.DuckDBPyConnection:
    import duckdb

    if not path.exists():
        raise fail(f"There is no analyst copy at {path} yet: run `viewtrail build` or `make demo` first.")
    try:
        from viewtrail.pipeline.publish import HISTORY_DIR_NAME

        # the one place outside the copy it reads: the raw history's Parquet files its views name
        history = config.marts_export_dir().parent / HISTORY_DIR_NAME
        guards = {k: v for k, v in _GUARDS.items() if k != "enable_external_access"}
        con = duckdb.connect(str(path), read_only=True, config=guards)
        con.execute("SET allowed_directories = ?", [[str(history.absolute()) + os.sep]])
        con.execute("SET enable_external_access = false")  # after the one allowed directory, which it then keeps
    except duckdb.Error as error:
        raise fail(
            f"Cannot open the analyst copy {path} ({_first_line(error)}); rebuild it with `viewtrail build`."
        ) from None
    try:  # all days and times in viewtrail are UTC: TIMESTAMPTZ values and now() are shown in UTC too
        con.execute("SET TimeZone = 'UTC'")
    except duckdb.Error:
        pass
    try:  # last: from here on no setting outside QUERY_SETTINGS can change, the guards above included
        con.execute("SET lock_configuration = true")
    except duckdb.Error as error:
        con.close()
        raise fail(f"Cannot lock the settings of the analyst copy's connection ({_first_line(error)}).") from None
    return con


def _read_sql(query: str | None, file: Path | None) -> str:
    if file is not None:
        if query is not None:
            raise fail("Give the SQL either as an argument or with --file, not both.")
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise fail(f"Cannot read {file} ({getattr(error, 'strerror', None) or error}).") from None
    if query is not None and query != "-":
        return query
    if query is None and sys.stdin.isatty():
        raise fail('Give a query: viewtrail sql "SELECT ...", --file query.sql, or pipe the SQL on stdin.')
    return sys.stdin.read()


def _kind(statement: Any) -> str | None:
    """DuckDB's StatementType name, or None for a kind the Python package has no name for (UPDATE EXTENSIONS)."""
    try:
        kind = statement.type
    except ValueError:
        return None
    return getattr(kind, "name", str(kind)).upper()


def _run(con: duckdb.DuckDBPyConnection, text: str) -> _Rows | None:
    """Run every statement (refusing any that is not a read); the last one's result is shown."""
    import duckdb

    try:
        statements = con.extract_statements(text)
    except duckdb.Error as error:
        raise _SqlError(error) from None
    if not statements:
        raise fail("The SQL is empty (only comments or whitespace); give a query such as SELECT 1.")
    kinds = [_kind(statement) for statement in statements]
    for kind in kinds:
        if kind not in _READING_STATEMENTS:
            raise _read_only_failure(kind.replace("_", " ") if kind else None)
    for statement in statements:
        try:
            con.execute(statement)
        except duckdb.Error as error:
            raise _SqlError(error) from None
    if kinds[-1] in _SILENT_STATEMENTS:  # DuckDB answers these with an empty "Success" column: nothing to show
        return None
    return _cursor_rows(con)


def _silence_broken_pipe() -> None:
    """`viewtrail sql ... | head`: the reader left; stop writing quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError and a ValueError
        pass


@friendly_errors
def sql(
    query: Annotated[
        str | None,
        typer.Argument(
            help="The SQL. Omit it (with piped input) or give `-` to read it from stdin.", show_default=False
        ),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Read the SQL from this file.", dir_okay=False, show_default=False)
    ] = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option(
            "--format", help="table (readable), csv (with a header) or json (a list of objects).", case_sensitive=False
        ),
    ] = OutputFormat.table,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=0,
            show_default=False,
            help=f"Rows to show: the table shows {DEFAULT_TABLE_ROWS} by default (0 = all); csv and json "
            "write every row unless a limit is given.",
        ),
    ] = None,
    tables: Annotated[
        bool, typer.Option("--tables", help="List the tables and views of the analyst copy with their row counts.")
    ] = False,
) -> None:
    """Run read-only SQL on the analyst copy (data/analytics.duckdb, or VIEWTRAIL_ANALYTICS).

    The copy is published after every build and replaced atomically, so queries here never block the pipeline.
    Queries read the copy's tables and nothing else: files, URLs, other databases (the live warehouse included)
    and extensions are out of reach, and statements that write (INSERT, CREATE, COPY...) are refused. With
    several statements separated by `;`, the last one's result is shown.
    csv and json go to stdout alone, ready for a pipe; times are UTC, in ISO 8601 in json and csv.

    Examples:

      viewtrail sql --tables

      viewtrail sql "SELECT video_id, views, views_per_hour_24h FROM marts.video_growth ORDER BY views_per_hour_24h DESC NULLS LAST LIMIT 10"

      viewtrail sql "FROM marts.video_daily WHERE video_id = 'youtube:dQw4w9WgXcQ'" --format csv > daily.csv

      echo "SELECT label, sum(views) AS views FROM marts.label_daily GROUP BY label" | viewtrail sql --format json

      viewtrail sql --file weekly.sql --limit 0
    """
    import duckdb

    if tables and (query is not None or file is not None):
        raise fail("--tables lists the tables on its own; run the query without --tables.")
    path = config.analytics_path()
    con = _open_copy(path)
    rows: _Rows | None
    try:
        if tables:
            rows = _tables_listing(con)
            limit = 0 if limit is None else limit  # the whole listing unless a limit is given
        else:
            try:
                rows = _run(con, _read_sql(query, file))
            except _SqlError as error:
                raise _sql_failure(con, error.args[0]) from None
        if fmt is not OutputFormat.table and limit == 0:
            limit = None  # 0 means "all" everywhere
        try:
            _emit(rows, fmt, limit)
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_broken_pipe()
            return
        except duckdb.Error as error:  # an error raised while the rows stream out (e.g. a failing cast)
            raise _sql_failure(con, error) from None
    finally:
        con.close()


def register(app: typer.Typer) -> None:
    app.command(
        "sql",
        epilog="The analyst copy is data/analytics.duckdb (VIEWTRAIL_ANALYTICS overrides it); see docs/analysts.md.",
    )(sql)
