"""Helpers shared by the CLI commands: consoles, one-sentence errors, warehouse opening, queue hand-off."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console

from orchestration import queue
from orchestration.errors import ViewtrailError
from orchestration.urls import InvalidVideoUrl

if TYPE_CHECKING:  # duckdb and polars load only when a command opens the warehouse: --help stays fast
    import duckdb

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> typer.Exit:
    """Print one red sentence on stderr; ``raise fail(...)`` exits 1."""
    err.print(f"[red]{_escape(message)}[/red]")
    return typer.Exit(1)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def friendly_errors(func: F) -> F:
    """User errors become one red sentence on stderr and exit code 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ViewtrailError, InvalidVideoUrl) as error:
            raise fail(str(error)) from None
        except Exception as error:
            import duckdb

            if not isinstance(error, duckdb.Error):
                raise
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise fail(f"The warehouse refused the operation ({first_line}); nothing was changed.") from None

    return wrapper  # type: ignore[return-value]


def say_waiting(message: str) -> None:
    err.print(f"[yellow]{_escape(message)}[/yellow]")


@contextmanager
def writable_warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened read-write, waiting (with a message) while a pipeline run holds the lock."""
    from orchestration.warehouse.connection import lock_timeout_from_env, open_warehouse

    with open_warehouse(lock_timeout_s=lock_timeout_from_env(), on_wait=say_waiting) as con:
        yield con


@contextmanager
def readable_warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened read-only (never created, migrated or written), waiting (with a message) while a
    pipeline run holds the lock. Before anything was tracked there is no file yet: an empty in-memory warehouse
    of the current schema stands in, so read commands show an empty registry without creating one."""
    from orchestration import config
    from orchestration.warehouse.connection import lock_timeout_from_env, open_warehouse

    if config.warehouse_path().exists():
        with open_warehouse(read_only=True, lock_timeout_s=lock_timeout_from_env(), on_wait=say_waiting) as con:
            yield con
        return
    import duckdb

    from orchestration.warehouse.migrations import apply_migrations

    con = duckdb.connect(":memory:")
    try:
        apply_migrations(con)
        yield con
    finally:
        con.close()


def enqueue_new_videos(video_ids: Iterable[str]) -> bool:
    """Ask the pipeline (the new-videos sensor) for a first scrape of these videos."""
    ids = list(video_ids)
    if not ids:
        return False
    try:
        queue.enqueue_new_videos(ids)
    except OSError as error:
        err.print(f"[yellow]Could not queue a first scrape ({error}); the next scheduled run picks them up.[/yellow]")
        return False
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
