"""Helpers shared by the CLI commands: consoles, one-sentence errors, warehouse opening, queue hand-off, the
JSON/CSV printer of the listing commands."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console, ConsoleDimensions

from viewtrail.domain.errors import ViewtrailError

if TYPE_CHECKING:  # duckdb and polars load only when a command opens the warehouse: --help stays fast
    import duckdb

#: The width tables get when the output is not a terminal: wide enough that no column is ever squeezed or cut.
PIPED_WIDTH = 100_000


class _Console(Console):
    """A console that, writing into a file or a pipe, lays tables out at their natural width. Rich would fall
    back to 80 columns (or the terminal's width) there and squeeze every column to a few characters."""

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)  # type: ignore[attr-defined]  # rich's size is a property: its getter, reached on the class
        if self._width is None and not self.is_terminal:
            return ConsoleDimensions(PIPED_WIDTH, size.height)
        return size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]  # and its setter

    def on_broken_pipe(self) -> None:
        """The reader left (`viewtrail import big.txt | head -1`): the command carries on silently and exits
        as it would have (rich would exit 1 at once, before the work the output reports on is finished)."""
        self.quiet = True
        if not self.stderr:
            silence_broken_pipe()


def console(*, stderr: bool = False, file: IO[str] | None = None) -> Console:
    """The console every command prints through: soft-wrapped lines, tables at their natural width when piped."""
    return _Console(stderr=stderr, file=file, soft_wrap=True)


out = console()
err = console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> typer.Exit:
    """Print one red sentence on stderr; ``raise fail(...)`` exits 1."""
    err.print(f"[red]{_escape(message)}[/red]")
    return typer.Exit(1)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def friendly_errors(func: F) -> F:
    """User errors become one red sentence on stderr and exit code 1, never a traceback; Ctrl-C one line, 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt:  # Ctrl-C: an open transaction rolls back on the way out; 130 as shells expect
            raise _interrupted() from None
        except BrokenPipeError:  # `viewtrail import big.txt | head -1`: the reader left; stop quietly
            silence_broken_pipe()
            raise typer.Exit(0) from None
        except ViewtrailError as error:
            raise fail(str(error)) from None
        except Exception as error:
            import duckdb

            from viewtrail.domain.urls import InvalidVideoUrl  # here: most commands never parse a URL

            if isinstance(error, InvalidVideoUrl):
                raise fail(str(error)) from None
            if _is_interrupt(error):
                raise _interrupted() from None
            if not isinstance(error, duckdb.Error):
                raise
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise fail(f"The warehouse refused the operation ({first_line}); nothing was changed.") from None

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the command's signature for typer


def _interrupted() -> typer.Exit:
    try:
        err.print("Interrupted.", style="yellow", markup=False)
    except (BrokenPipeError, KeyboardInterrupt):  # a second Ctrl-C, or stderr gone too: still exit 130
        pass
    return typer.Exit(130)


def _is_interrupt(error: BaseException) -> bool:
    """Ctrl-C while DuckDB runs a statement: DuckDB stops it and raises instead of KeyboardInterrupt, as its
    InterruptException or a RuntimeError saying 'Query interrupted' (depending on where the signal lands)."""
    import duckdb

    return isinstance(error, duckdb.InterruptException) or (
        isinstance(error, RuntimeError) and "interrupted" in str(error).lower()
    )


def silence_broken_pipe() -> None:
    """The reader of stdout left: point stdout at the null device, so the final flush does not fail again."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError and a ValueError
        pass


def say_waiting(message: str) -> None:
    err.print(f"[yellow]{_escape(message)}[/yellow]")


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


@contextmanager
def readable_warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened read-only (never created, migrated or written), waiting (with a message) while
    another process holds the lock. A missing file is an error naming the path (``WarehouseMissingError``):
    showing an empty registry would hide a mistyped VIEWTRAIL_WAREHOUSE."""
    from viewtrail.warehouse.connection import lock_timeout_from_env, open_warehouse

    with open_warehouse(read_only=True, lock_timeout_s=lock_timeout_from_env(), on_wait=say_waiting) as con:
        yield con


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


JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON array instead of a table.")]
CsvOption = Annotated[
    bool, typer.Option("--csv", help="Print CSV (a header line, then one line per row) instead of a table.")
]


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
