"""Opening the warehouse: one DuckDB file, migrated on read-write open, patient with a busy lock.

DuckDB lets one process write a file, or several read it, never both. A pipeline run (or an open read-only
session) therefore blocks everyone else for a while; instead of failing at once we retry until
``lock_timeout_s`` has passed, telling the caller once through ``on_wait``. Both messages name the holder
(DuckDB's lock error gives its PID; its command comes from /proc).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import duckdb

from viewtrail import config
from viewtrail.domain.errors import ViewtrailError
from viewtrail.warehouse.migrations import (
    LATEST_VERSION,
    WarehouseSchemaError,
    apply_migrations,
    current_version,
)

#: Default patience when the file is locked (the one default of the CLI and the pipeline); override with
#: ``VIEWTRAIL_LOCK_TIMEOUT_S``.
DEFAULT_LOCK_TIMEOUT_S = config.DEFAULT_LOCK_TIMEOUT_S
_RETRY_INTERVAL_S = 0.25

#: DuckDB connection settings (``threads``, ``memory_limit`` ...) with the value types ``duckdb.connect`` accepts.
ConnectionConfig = Mapping[str, str | bool | int | float | list[str]]

#: How a use case opens the warehouse: the interface calling it decides how (how long to wait on a busy file,
#: what to say meanwhile), the use case when and for how long.
OpenWarehouse = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]


class WarehouseLockedError(ViewtrailError):
    """Another process kept the warehouse file locked for longer than we were willing to wait."""


class WarehouseMissingError(ViewtrailError):
    """A read-only open of a warehouse file that does not exist yet."""

    def __init__(self, path: Path) -> None:
        # a mistyped VIEWTRAIL_WAREHOUSE looks exactly like this: the sentence names the variable
        super().__init__(
            f"There is no warehouse at {path}: track a video first (viewtrail track URL) or check VIEWTRAIL_WAREHOUSE."
        )


def lock_timeout_from_env() -> float:
    """``VIEWTRAIL_LOCK_TIMEOUT_S`` (seconds, default 120) from ``config.settings()``: how long writers wait for a
    busy warehouse."""
    return config.settings().lock_timeout_s


def _is_lock_error(error: duckdb.Error) -> bool:
    text = str(error)
    return "Could not set lock" in text or "Conflicting lock" in text


_COMMAND_WORD = re.compile(r"[a-z][a-z0-9_-]*")


def _command_name(argv: list[str]) -> str | None:
    """What a user would call the process of ``argv``: its program and sub-command (``viewtrail import``,
    ``dagster dev``), never its other arguments (a `viewtrail channel add` carries a secret URL, a `sql` query
    may be private). Python itself is seen through: ``python -m dagster ...`` is ``dagster``."""
    words = [w for w in argv if w]
    if not words:
        return None
    name = Path(words[0]).name
    rest = words[1:]
    if re.fullmatch(r"python[0-9.]*", name):
        while rest and rest[0].startswith("-") and rest[0] not in ("-m", "-c"):
            rest = rest[1:]
        if rest[:1] == ["-m"] and len(rest) > 1:
            name, rest = rest[1], rest[2:]
        elif rest and not rest[0].startswith("-"):
            name, rest = Path(rest[0]).name, rest[1:]
        else:
            return name
    if rest and _COMMAND_WORD.fullmatch(rest[0]):
        return f"{name} {rest[0]}"
    return name


def _process_command(pid: int) -> str | None:
    """The command of a running process, from /proc (Linux); None where it cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return _command_name(raw.decode(errors="replace").split("\0"))


def lock_holder(error: duckdb.Error | str) -> str:
    """Who holds the warehouse, from DuckDB's lock error (which names the holding PID): "`viewtrail import`
    (pid 123)", or "another process (pid 123)" when its command cannot be read."""
    match = re.search(r"\(PID (\d+)\)", str(error))
    if not match:
        return "another process"
    pid = int(match.group(1))
    command = _process_command(pid)
    return f"`{command}` (pid {pid})" if command else f"another process (pid {pid})"


def wait_message(lock_timeout_s: float, holder: str = "another process") -> str:
    return f"warehouse is busy: in use by {holder}; waiting up to {lock_timeout_s:g}s…"


def _connect_with_retry(
    path: Path,
    *,
    read_only: bool,
    lock_timeout_s: float,
    on_wait: Callable[[str], None] | None,
    connection_config: ConnectionConfig | None = None,
) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + lock_timeout_s
    told = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=dict(connection_config or {}))
        except duckdb.IOException as error:
            if not _is_lock_error(error):
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"The warehouse {path} is still locked by {lock_holder(error)} after waiting "
                    f"{lock_timeout_s:g}s; retry when it finishes, or wait longer by setting "
                    f"VIEWTRAIL_LOCK_TIMEOUT_S."
                ) from None
            if not told and on_wait is not None:
                on_wait(wait_message(lock_timeout_s, lock_holder(error)))
                told = True
            time.sleep(min(_RETRY_INTERVAL_S, max(0.0, deadline - time.monotonic())))


@contextmanager
def open_warehouse(
    path: Path | str | None = None,
    *,
    read_only: bool = False,
    lock_timeout_s: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    connection_config: ConnectionConfig | None = None,
    run_id: str | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (default ``config.warehouse_path()``) and close it on exit.

    Read-write opens create the file if needed and apply pending migrations. Read-only opens require an
    existing, fully migrated warehouse. While the file is locked by another process, retries for
    ``lock_timeout_s`` seconds (default: ``VIEWTRAIL_LOCK_TIMEOUT_S`` or 120), calling ``on_wait(message)``
    once, then raises :class:`WarehouseLockedError`. ``connection_config`` is DuckDB's connection
    configuration (``threads``, ``memory_limit`` ...). Never hold the connection across network I/O.

    Every read-write open holds the warehouse-write lock across hosts
    (:func:`~viewtrail.warehouse.writer_lock.writer_lock`, when ``VIEWTRAIL_WRITER_LOCK_URL`` is set) from
    before DuckDB opens the file until it is closed; ``run_id`` names the holder for those who wait.
    """
    target = Path(path).expanduser().absolute() if path is not None else config.warehouse_path()
    timeout = lock_timeout_from_env() if lock_timeout_s is None else float(lock_timeout_s)
    if read_only and not target.exists():
        raise WarehouseMissingError(target)
    if not read_only:
        target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if not read_only:
            from viewtrail.warehouse.writer_lock import writer_lock  # writers only: a read starts without it

            stack.enter_context(writer_lock(run_id=run_id, lock_timeout_s=timeout, on_wait=on_wait))
        yield stack.enter_context(
            _opened(target, read_only=read_only, timeout=timeout, on_wait=on_wait, connection_config=connection_config)
        )


@contextmanager
def _opened(
    target: Path,
    *,
    read_only: bool,
    timeout: float,
    on_wait: Callable[[str], None] | None,
    connection_config: ConnectionConfig | None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    settings = config.settings()
    # bounded memory, spilling to disk beyond it: the full rebuild of a large warehouse fits on the machine
    limits: ConnectionConfig = {
        "memory_limit": settings.duckdb_memory_limit,
        "temp_directory": str(settings.duckdb_temp_dir),
    }
    con = _connect_with_retry(
        target,
        read_only=read_only,
        lock_timeout_s=timeout,
        on_wait=on_wait,
        connection_config={**limits, **(connection_config or {})},
    )
    try:
        if read_only:
            version = current_version(con)
            if version < LATEST_VERSION:
                raise WarehouseSchemaError(
                    f"The warehouse {target} is at schema version {version} and needs migrating to "
                    f"{LATEST_VERSION}; open it once read-write (any viewtrail write command or pipeline run) "
                    f"to upgrade it."
                )
            if version > LATEST_VERSION:
                raise WarehouseSchemaError(
                    f"The warehouse {target} is at schema version {version} but this viewtrail only knows up "
                    f"to {LATEST_VERSION}; upgrade viewtrail before opening it."
                )
        else:
            apply_migrations(con)
        yield con
    finally:
        con.close()
