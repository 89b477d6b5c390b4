"""Opening the warehouse: one DuckDB file, migrated on read-write open, patient with a busy lock.

DuckDB lets one process write a file, or several read it, never both. A pipeline run (or an open read-only
session) therefore blocks everyone else for a while; instead of failing at once we retry until
``lock_timeout_s`` has passed, telling the caller once through ``on_wait``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration import config
from orchestration.errors import ViewtrailError
from orchestration.warehouse.migrations import (
    LATEST_VERSION,
    WarehouseSchemaError,
    apply_migrations,
    current_version,
)

#: Default patience when the file is locked (the one default of the CLI and the pipeline); override with
#: ``VIEWTRAIL_LOCK_TIMEOUT_S``.
DEFAULT_LOCK_TIMEOUT_S = config.DEFAULT_LOCK_TIMEOUT_S
_RETRY_INTERVAL_S = 0.25


class WarehouseLockedError(ViewtrailError):
    """Another process kept the warehouse file locked for longer than we were willing to wait."""


class WarehouseMissingError(ViewtrailError):
    """A read-only open of a warehouse file that does not exist yet."""


def lock_timeout_from_env() -> float:
    """``VIEWTRAIL_LOCK_TIMEOUT_S`` (seconds, default 120) from ``config.settings()``: how long writers wait for a
    busy warehouse."""
    return config.settings().lock_timeout_s


def _is_lock_error(error: duckdb.Error) -> bool:
    text = str(error)
    return "Could not set lock" in text or "Conflicting lock" in text


def _lock_holder(error: duckdb.Error) -> str:
    match = re.search(r"\(PID (\d+)\)", str(error))
    return f"process {match.group(1)}" if match else "another process"


def wait_message(lock_timeout_s: float) -> str:
    return f"warehouse is busy (a pipeline run is writing); waiting up to {lock_timeout_s:g}s…"


def _connect_with_retry(
    path: Path,
    *,
    read_only: bool,
    lock_timeout_s: float,
    on_wait: Callable[[str], None] | None,
    connection_config: Mapping[str, object] | None = None,
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
                    f"The warehouse {path} is still locked by {_lock_holder(error)} after waiting "
                    f"{lock_timeout_s:g}s; retry when the pipeline run finishes, or wait longer by "
                    f"setting VIEWTRAIL_LOCK_TIMEOUT_S."
                ) from None
            if not told and on_wait is not None:
                on_wait(wait_message(lock_timeout_s))
                told = True
            time.sleep(min(_RETRY_INTERVAL_S, max(0.0, deadline - time.monotonic())))


@contextmanager
def open_warehouse(
    path: Path | str | None = None,
    *,
    read_only: bool = False,
    lock_timeout_s: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    connection_config: Mapping[str, object] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (default ``config.warehouse_path()``) and close it on exit.

    Read-write opens create the file if needed and apply pending migrations. Read-only opens require an
    existing, fully migrated warehouse. While the file is locked by another process, retries for
    ``lock_timeout_s`` seconds (default: ``VIEWTRAIL_LOCK_TIMEOUT_S`` or 120), calling ``on_wait(message)``
    once, then raises :class:`WarehouseLockedError`. ``connection_config`` is DuckDB's connection
    configuration (``threads``, ``memory_limit`` ...). Never hold the connection across network I/O.
    """
    target = Path(path).expanduser().absolute() if path is not None else config.warehouse_path()
    timeout = lock_timeout_from_env() if lock_timeout_s is None else float(lock_timeout_s)
    if read_only and not target.exists():
        raise WarehouseMissingError(
            f"There is no warehouse at {target} yet; track a video first (viewtrail track URL) "
            f"or point VIEWTRAIL_WAREHOUSE at an existing one."
        )
    if not read_only:
        target.parent.mkdir(parents=True, exist_ok=True)
    con = _connect_with_retry(
        target, read_only=read_only, lock_timeout_s=timeout, on_wait=on_wait, connection_config=connection_config
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
