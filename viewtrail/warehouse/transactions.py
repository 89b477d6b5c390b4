"""Transactions on the warehouse, and the one path every write of raw data takes.

:func:`transaction` is the begin/commit/rollback helper. :func:`run_write` wraps a write of raw data
(scrape results, imported history) in a transaction that first ticks the write clock and last records itself
in the write log:

- ``meta.write_clock`` is a single row. Each write sets it to ``greatest(now, previous + 1 µs)`` as the first
  statement of its transaction and stamps every row it stores with that value (``raw.snapshots.ingested_at``).
  Two transactions that overlap both update that row, and DuckDB refuses the second update ("Conflict on
  update!", raised by the statement itself, whether the first transaction is still open or committed after
  the second one began). The loser is rolled back and retried from the start, so a write that commits always
  began after the previous one committed: ``ingested_at`` increases strictly in commit order, even when the
  clock steps back. dbt's incremental marts rely on that (their high-water mark is ``max(ingested_at)``).
- ``meta.write_log`` gets one row per committed write: its interval measured inside the transaction, the
  process and host, the run, and how many rows it stored.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import duckdb

from viewtrail import clock
from viewtrail.domain.errors import ViewtrailError

#: How often a write that keeps conflicting with concurrent writes is tried before giving up.
MAX_WRITE_ATTEMPTS = 30
_FIRST_RETRY_PAUSE_S = 0.01
_LONGEST_RETRY_PAUSE_S = 0.5

T = TypeVar("T")


class WriteConflictError(ViewtrailError):
    """A write kept conflicting with concurrent writes in the same process and was given up."""


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Commit on a normal exit, roll back on any exception."""
    con.begin()
    try:
        yield con
    except BaseException:
        try:
            con.rollback()
        except duckdb.Error:  # an interrupted statement (Ctrl-C) may have ended the transaction already
            pass
        raise
    # Outside the try: a failed COMMIT has already ended the transaction, and a ROLLBACK would fail too.
    con.commit()


@dataclass(slots=True)
class Write:
    """A write in progress. Its rows carry ``ingested_at``; the insert functions add to the counters."""

    write_id: int
    kind: str
    run_id: str | None
    ingested_at: datetime
    started_at: datetime
    snapshots_inserted: int = 0
    attempts_inserted: int = 0


def run_write(
    con: duckdb.DuckDBPyConnection,
    body: Callable[[Write], T],
    *,
    kind: str,
    run_id: str | None = None,
) -> T:
    """Run ``body(write)`` as one write transaction (write clock first, write log last) and return its result.

    ``body`` may run more than once: when a concurrent write in this process conflicts, the transaction is
    rolled back and ``body`` is called again on a fresh :class:`Write`, up to ``MAX_WRITE_ATTEMPTS`` times.
    It must therefore do nothing outside the transaction that it cannot repeat. ``con`` must not be inside a
    transaction already.
    """
    for attempt in range(1, MAX_WRITE_ATTEMPTS + 1):
        try:
            with transaction(con):
                write = _start_write(con, kind, run_id)
                result = body(write)
                _log_write(con, write)
            return result
        except duckdb.TransactionException as error:
            if not _is_write_conflict(error):
                raise
            if attempt == MAX_WRITE_ATTEMPTS:
                raise WriteConflictError(
                    f"The {kind} write conflicted with other writes to the warehouse {attempt} times in a row "
                    f"and was not stored; run it again once the other writers have finished."
                ) from error
        _pause_before_retry(attempt)
    raise AssertionError("unreachable")  # the loop either returns or raises


def _is_write_conflict(error: duckdb.TransactionException) -> bool:
    # "Conflict on update!" / "Conflict on tuple deletion!" / "write-write conflict"; other transaction
    # errors (a constraint violated at commit, an aborted transaction) are not cured by trying again.
    return "conflict" in str(error).lower()


def _pause_before_retry(attempt: int) -> None:
    time.sleep(min(_LONGEST_RETRY_PAUSE_S, _FIRST_RETRY_PAUSE_S * 2 ** (attempt - 1)))


def _start_write(con: duckdb.DuckDBPyConnection, kind: str, run_id: str | None) -> Write:
    """Tick the write clock: the first statement of the transaction, so the transaction's snapshot begins
    here and a conflicting write is refused before anything else was done."""
    reading = clock.utc_now()
    # fetchall, not fetchone: a result left unfinished would block the connection for the next statement
    rows = con.execute(
        """
        UPDATE meta.write_clock
        SET last_write_id = last_write_id + 1,
            last_ingested_at = greatest(?::TIMESTAMP, last_ingested_at + INTERVAL 1 microsecond)
        RETURNING last_write_id, last_ingested_at
        """,
        [reading],
    ).fetchall()
    if not rows:
        raise ViewtrailError(
            "The warehouse's write clock meta.write_clock has lost its row; restore it with INSERT INTO "
            "meta.write_clock SELECT (SELECT coalesce(max(write_id), 0) FROM meta.write_log), "
            "(SELECT coalesce(max(ingested_at), TIMESTAMP '1970-01-01') FROM raw.snapshots)."
        )
    write_id, ingested_at = rows[0]
    # The machine's clock, not the shifted one: intervals from different processes must be comparable, and
    # VIEWTRAIL_NOW shifts each process's clock by an offset measured when that process read it.
    return Write(int(write_id), kind, run_id, ingested_at, clock.system_now())


def _log_write(con: duckdb.DuckDBPyConnection, write: Write) -> None:
    """The last statement before COMMIT, so ``finished_at`` is taken after every row was written."""
    con.execute(
        "INSERT INTO meta.write_log (write_id, kind, run_id, ingested_at, started_at, finished_at, pid, host,"
        " snapshots_inserted, attempts_inserted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            write.write_id,
            write.kind,
            write.run_id,
            write.ingested_at,
            write.started_at,
            clock.system_now(),
            os.getpid(),
            socket.gethostname(),
            write.snapshots_inserted,
            write.attempts_inserted,
        ],
    )
