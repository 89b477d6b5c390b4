"""Helpers shared by the CLI commands: consoles, one-sentence errors, warehouse opening, queue hand-off, the
JSON/CSV printer of the listing commands."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from viewtrail.cli._base import (
    CSV_HELP,
    JSON_HELP,
    PIPED_WIDTH,
    console,
    err,
    error_exit_code,
    out,
    readable_warehouse,
    say_error,
    say_waiting,
    silence_broken_pipe,
)

if TYPE_CHECKING:  # duckdb and polars load only when a command opens the warehouse: --help stays fast
    import duckdb

__all__ = [
    "PIPED_WIDTH",
    "CsvOption",
    "JsonOption",
    "console",
    "enqueue_new_videos",
    "err",
    "fail",
    "friendly_errors",
    "json_rows",
    "out",
    "print_rows",
    "readable_warehouse",
    "say_waiting",
    "silence_broken_pipe",
    "writable_warehouse",
]

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> typer.Exit:
    """Print one red sentence on stderr; ``raise fail(...)`` exits 1."""
    say_error(message)
    return typer.Exit(1)


def friendly_errors(func: F) -> F:
    """User errors become one red sentence on stderr and exit code 1, never a traceback; Ctrl-C one line, 130
    (:func:`viewtrail.cli._base.error_exit_code`)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (KeyboardInterrupt, Exception) as error:
            code = error_exit_code(error)
            if code is None:
                raise
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the command's signature for typer


@contextmanager
def writable_warehouse(*, create: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened read-write, waiting (with a message) while another process holds the lock. A write
    that creates the file says so on stderr: a mistyped VIEWTRAIL_WAREHOUSE shows at once, not weeks later.
    Commands that only change what is already there (untrack, delete ...) pass ``create=False``: a missing
    warehouse is then the one-sentence ``WarehouseMissingError``, not a new empty file."""
    from viewtrail import config
    from viewtrail.warehouse.connection import WarehouseMissingError, lock_timeout_from_env, open_warehouse

    path = config.warehouse_path()
    existed = path.exists()
    if not existed and not create:
        raise WarehouseMissingError(path)
    with open_warehouse(lock_timeout_s=lock_timeout_from_env(), on_wait=say_waiting) as con:
        yield con
    if not existed:  # after the write: a refused one keeps its error the one sentence on stderr
        err.print(f"created a new warehouse at {path}", markup=False, highlight=False)


def enqueue_new_videos(video_ids: Iterable[str]) -> bool:
    """Ask the pipeline (the new-videos sensor) for a first scrape of these videos."""
    from viewtrail.pipeline import queue

    ids = list(video_ids)
    if not ids:
        return False
    try:
        queue.enqueue_new_videos(ids)
    except OSError as error:
        err.print(f"[yellow]Could not queue a first scrape ({error}); the next scheduled run picks them up.[/yellow]")
        return False
    return True


JsonOption = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
CsvOption = Annotated[bool, typer.Option("--csv", help=CSV_HELP)]


def print_rows(rows: Any, *, as_json: bool = False, as_csv: bool = False, columns: Sequence[str] | None = None) -> bool:
    """Print ``rows`` (a polars frame, or a list of dicts) as JSON or CSV on stdout alone, when asked; returns
    whether it did, so the caller prints its table otherwise. CSV cells are written like `viewtrail sql`'s:
    empty for null, ISO 8601 times, JSON for lists and objects. ``columns`` are the CSV header of an empty list."""
    if as_json and as_csv:
        raise fail("--json and --csv are two output formats; pick one.")
    if not (as_json or as_csv):
        return False
    if as_json:
        import json

        from viewtrail.cli._values import json_value

        typer.echo(json_rows(rows) if hasattr(rows, "iter_rows") else json.dumps(json_value(list(rows)), indent=2))
        return True
    import csv
    import sys

    from viewtrail.cli._values import csv_value

    records = list(rows.iter_rows(named=True)) if hasattr(rows, "iter_rows") else list(rows)
    header = list(rows.columns) if hasattr(rows, "columns") else list(records[0] if records else columns or [])
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([csv_value(record.get(name)) for name in header] for record in records)
    return True


def json_rows(frame: Any) -> str:
    """A polars frame as the JSON array the list commands print with ``--json``: timestamps in ISO 8601, a
    ``metadata`` column parsed from its JSON text."""
    import json
    from datetime import datetime

    rows = []
    for row in frame.iter_rows(named=True):
        if "metadata" in row:
            row["metadata"] = json.loads(row["metadata"]) if row["metadata"] else {}
        rows.append({k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()})
    return json.dumps(rows, indent=2)
