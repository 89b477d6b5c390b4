"""The warehouse-write lock across hosts: a PostgreSQL advisory lock, when ``VIEWTRAIL_WRITER_LOCK_URL`` is set.

On one machine DuckDB's file lock keeps writers apart (:mod:`viewtrail.warehouse.connection` waits for it). Once
steps run on several hosts nothing on the file itself is shared, and Dagster's ``duckdb`` pool only schedules (two
claims at the same instant can both be granted). So every read-write open of the warehouse, and the dbt build that
opens the file itself, first takes :func:`writer_lock`: a session-level ``pg_advisory_lock`` held on a connection
of its own for as long as the write lasts. PostgreSQL grants it to one session at a time, atomically, and releases
it when the holder's connection ends, so a writer killed mid-write (SIGKILL, a lost host) never blocks the next.

The lock is re-entrant within a process (a dbt step that holds it and opens the warehouse to migrate takes it once).
While it waits, the waiting process says who holds it: the holder's ``application_name`` carries its host, pid and
run, read from ``pg_stat_activity``; after 2 s, then every 30 s, with how long it has waited.

Without ``VIEWTRAIL_WRITER_LOCK_URL`` this module does nothing: the single-machine default is unchanged.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from viewtrail import config
from viewtrail.domain.errors import ViewtrailError

#: One key for the warehouse writer of a PostgreSQL database (deployments sharing a server use their own database).
LOCK_KEY = 0x76745F77  # "vt_w"; below 2**31, so pg_locks shows it as objid with classid 0
#: Say who holds the lock after this long, then every REPORT_EVERY_S.
FIRST_REPORT_S = 2.0
REPORT_EVERY_S = 30.0
_MIN_WAIT_S = 0.05  # the shortest wait asked of PostgreSQL (a timeout of 0 would mean "wait forever")

_log = logging.getLogger(__name__)


class WriterLockError(ViewtrailError):
    """The writer lock could not be taken (PostgreSQL unreachable, or held longer than the lock wait)."""


class _Held:
    """This process's hold on the lock: one PostgreSQL connection, shared by nested and concurrent users."""

    def __init__(self) -> None:
        self.guard = threading.Lock()  # taken while acquiring or releasing: one PostgreSQL session per process
        self.connection: Any = None
        self.depth = 0
        self.url: str | None = None


_held = _Held()


def application_name(run_id: str | None = None) -> str:
    """What ``pg_stat_activity`` shows for a holder: ``viewtrail writer host=... pid=... run=...`` (at most 63
    characters, PostgreSQL's limit; the run id is shortened to 8 characters as Dagster's UI shows it)."""
    host = socket.gethostname()[:24]
    text = f"viewtrail writer host={host} pid={os.getpid()}"
    if run_id:
        text += f" run={run_id[:8]}"
    return text[:63]


def _driver_url(url: str) -> str:
    """libpq takes ``postgresql://`` URIs; SQLAlchemy-style ``postgresql+psycopg2://`` is accepted too."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


def _connect(url: str, run_id: str | None) -> Any:
    try:
        # the [deploy] extra: only a deployment that sets the lock URL needs it (imported by name: no type stubs)
        psycopg2: Any = importlib.import_module("psycopg2")
    except ImportError:
        raise WriterLockError(
            f"{config.WRITER_LOCK_URL} is set but psycopg2 is not installed on {socket.gethostname()}; install "
            "viewtrail with its deploy extra (pip install 'viewtrail[deploy]') or unset the variable."
        ) from None
    try:
        # keepalives: a holder whose host vanishes is noticed by PostgreSQL within about a minute, freeing the lock
        con = psycopg2.connect(
            _driver_url(url),
            application_name=application_name(run_id),
            connect_timeout=10,
            keepalives=1,
            keepalives_idle=20,
            keepalives_interval=5,
            keepalives_count=4,
        )
    except psycopg2.Error as error:
        # the URL may hold a password: name the variable, never its value
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise WriterLockError(
            f"Could not reach the writer lock's PostgreSQL ({config.WRITER_LOCK_URL}) from {socket.gethostname()}: "
            f"{first_line}; check the server and the variable."
        ) from None
    con.autocommit = True
    return con


def _lock_within(con: Any, seconds: float) -> bool:
    """Wait up to ``seconds`` for the lock, blocked in PostgreSQL (it wakes the waiter the moment the holder lets
    go, no polling); False when it is still held then."""
    errors: Any = importlib.import_module("psycopg2.errors")
    with con.cursor() as cur:
        cur.execute("SELECT set_config('lock_timeout', %s, false)", (f"{max(1, int(seconds * 1000))}ms",))
        try:
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        except errors.LockNotAvailable:
            return False
        return True


def current_holder(con: Any) -> str | None:
    """The ``application_name`` (or, when empty, the client address and pid) of the session holding the lock."""
    with con.cursor() as cur:
        cur.execute(
            """
            SELECT coalesce(nullif(a.application_name, ''), 'pid ' || a.pid || ' from ' || coalesce(a.client_addr::text, 'local')),
                   now() - a.state_change
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid::bigint = %s
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            LIMIT 1
            """,
            (LOCK_KEY,),
        )
        row = cur.fetchone()
    return str(row[0]) if row else None


def _say(on_wait: Callable[[str], None] | None, message: str) -> None:
    _log.warning(message)
    if on_wait is not None:
        on_wait(message)


def _acquire(url: str, timeout_s: float, run_id: str | None, on_wait: Callable[[str], None] | None) -> Any:
    con = _connect(url, run_id)
    started = time.monotonic()
    next_report = started + FIRST_REPORT_S
    try:
        while not _lock_within(con, max(_MIN_WAIT_S, min(next_report, started + timeout_s) - time.monotonic())):
            now = time.monotonic()
            waited = now - started
            if waited >= timeout_s:
                holder = current_holder(con) or "a session that has just let go"
                raise WriterLockError(
                    f"The warehouse writer lock is still held by {holder} after waiting {timeout_s:g}s; retry when "
                    f"it finishes, or wait longer by setting {config.LOCK_TIMEOUT_S}."
                )
            if now >= next_report:
                holder = current_holder(con) or "a session that has just let go"
                _say(on_wait, f"Waiting for the warehouse writer lock held by {holder}: waited {waited:.0f}s so far.")
                next_report = now + REPORT_EVERY_S
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def writer_lock(
    *,
    run_id: str | None = None,
    lock_timeout_s: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the warehouse-write lock for the block when ``VIEWTRAIL_WRITER_LOCK_URL`` is set (else do nothing).

    Waits up to ``lock_timeout_s`` (default ``VIEWTRAIL_LOCK_TIMEOUT_S``), saying who holds it meanwhile, then
    raises :class:`WriterLockError`. Nested and concurrent uses in one process share one hold.
    """
    settings = config.settings()
    url = settings.writer_lock_url
    if url is None:
        yield
        return
    timeout = settings.lock_timeout_s if lock_timeout_s is None else float(lock_timeout_s)
    with _held.guard:
        if _held.depth == 0:
            _held.connection = _acquire(url, timeout, run_id, on_wait)
            _held.url = url
        _held.depth += 1
    try:
        yield
    finally:
        with _held.guard:
            _held.depth -= 1
            if _held.depth == 0:
                connection, _held.connection = _held.connection, None
                try:
                    # closing the session releases its advisory locks; unlocking first frees it without waiting
                    # for the server to notice the disconnect
                    with connection.cursor() as cur:
                        cur.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
                except Exception:  # noqa: BLE001 - a dead connection has released the lock already
                    pass
                finally:
                    connection.close()
