"""What every command prints and opens through, without typer: the consoles, the one-sentence errors, the
read-only warehouse. :mod:`._common` adds typer's side (``typer.Exit``, the shared options); `viewtrail list`
runs on this module alone when its arguments are plain (:mod:`._list_page`), so it starts without typer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

from rich.console import Console, ConsoleDimensions

from viewtrail.domain.errors import ViewtrailError

if TYPE_CHECKING:  # duckdb loads only when a command opens the warehouse: --help stays fast
    import duckdb

#: The width tables get when the output is not a terminal: wide enough that no column is ever squeezed or cut.
PIPED_WIDTH = 100_000

JSON_HELP = "Print a JSON array instead of a table."
CSV_HELP = "Print CSV (a header line, then one line per row) instead of a table."


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


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def say_error(message: str) -> None:
    """One red sentence on stderr."""
    err.print(f"[red]{escape(message)}[/red]")


def say_waiting(message: str) -> None:
    err.print(f"[yellow]{escape(message)}[/yellow]")


def silence_broken_pipe() -> None:
    """The reader of stdout left: point stdout at the null device, so the final flush does not fail again."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError and a ValueError
        pass


def say_interrupted() -> int:
    try:
        err.print("Interrupted.", style="yellow", markup=False)
    except (BrokenPipeError, KeyboardInterrupt):  # a second Ctrl-C, or stderr gone too: still exit 130
        pass
    return 130


def is_interrupt(error: BaseException) -> bool:
    """Ctrl-C while DuckDB runs a statement: DuckDB stops it and raises instead of KeyboardInterrupt, as its
    InterruptException or a RuntimeError saying 'Query interrupted' (depending on where the signal lands)."""
    import duckdb

    return isinstance(error, duckdb.InterruptException) or (
        isinstance(error, RuntimeError) and "interrupted" in str(error).lower()
    )


def error_exit_code(error: BaseException) -> int | None:
    """What a command does with an error a user can act on: says it in one sentence on stderr and returns the
    exit code (1; 130 for Ctrl-C; 0 when the reader of stdout left); None for anything else (a bug: its
    traceback is shown)."""
    if isinstance(error, KeyboardInterrupt):  # an open transaction rolls back on the way out; 130 as shells expect
        return say_interrupted()
    if isinstance(error, BrokenPipeError):  # `viewtrail import big.txt | head -1`: the reader left; stop quietly
        silence_broken_pipe()
        return 0
    if isinstance(error, ViewtrailError):
        say_error(str(error))
        return 1
    if not isinstance(error, Exception):
        return None
    import duckdb

    from viewtrail.domain.urls import InvalidVideoUrl  # here: most commands never parse a URL

    if isinstance(error, InvalidVideoUrl):
        say_error(str(error))
        return 1
    if is_interrupt(error):
        return say_interrupted()
    if not isinstance(error, duckdb.Error):
        return None
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    say_error(f"The warehouse refused the operation ({first_line}); nothing was changed.")
    return 1


@contextmanager
def readable_warehouse() -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened read-only (never created, migrated or written), waiting (with a message) while
    another process holds the lock. A missing file is an error naming the path (``WarehouseMissingError``):
    showing an empty registry would hide a mistyped VIEWTRAIL_WAREHOUSE."""
    from viewtrail.warehouse.connection import lock_timeout_from_env, open_warehouse

    with open_warehouse(read_only=True, lock_timeout_s=lock_timeout_from_env(), on_wait=say_waiting) as con:
        yield con
