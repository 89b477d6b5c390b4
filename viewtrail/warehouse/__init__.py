"""The warehouse: one DuckDB file with the registry of tracked videos and the raw scrape data.

Public API (other packages import from here, not from the submodules). Each name loads its submodule on first
use (PEP 562), so a command that only opens the warehouse does not import polars, the planners and the platform
clients that the writers need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from viewtrail.warehouse.accounts import (
        DiscoveryWrite,
        WatchResult,
        accounts_due_for_discovery,
        list_accounts,
        load_watched_accounts,
        record_account_hours,
        record_account_results,
        unwatch_accounts,
        watch_accounts,
    )
    from viewtrail.warehouse.connection import (
        WarehouseLockedError,
        WarehouseMissingError,
        lock_timeout_from_env,
        open_warehouse,
    )
    from viewtrail.warehouse.migrations import LATEST_VERSION, WarehouseSchemaError, apply_migrations
    from viewtrail.warehouse.registry import (
        StatusSummary,
        TrackOutcome,
        TrackResult,
        add_pending_link,
        delete_videos,
        list_videos,
        parse_meta_pairs,
        status_summary,
        track_frame,
        track_refs,
        untrack,
        validate_cadence,
        validate_days,
        validate_metadata,
    )
    from viewtrail.warehouse.snapshots import (
        ATTEMPT_SCHEMA,
        SNAPSHOT_SCHEMA,
        WriteSummary,
        results_to_frames,
        write_scrape_frames,
        write_scrape_results,
    )
    from viewtrail.warehouse.transactions import WriteConflictError, transaction

#: Each public name -> the submodule that defines it.
_SUBMODULE = {
    "DiscoveryWrite": "accounts",
    "WatchResult": "accounts",
    "accounts_due_for_discovery": "accounts",
    "list_accounts": "accounts",
    "load_watched_accounts": "accounts",
    "record_account_hours": "accounts",
    "record_account_results": "accounts",
    "unwatch_accounts": "accounts",
    "watch_accounts": "accounts",
    "WarehouseLockedError": "connection",
    "WarehouseMissingError": "connection",
    "lock_timeout_from_env": "connection",
    "open_warehouse": "connection",
    "LATEST_VERSION": "migrations",
    "WarehouseSchemaError": "migrations",
    "apply_migrations": "migrations",
    "StatusSummary": "registry",
    "TrackOutcome": "registry",
    "TrackResult": "registry",
    "add_pending_link": "registry",
    "delete_videos": "registry",
    "list_videos": "registry",
    "parse_meta_pairs": "registry",
    "status_summary": "registry",
    "track_frame": "registry",
    "track_refs": "registry",
    "untrack": "registry",
    "validate_cadence": "registry",
    "validate_days": "registry",
    "validate_metadata": "registry",
    "ATTEMPT_SCHEMA": "snapshots",
    "SNAPSHOT_SCHEMA": "snapshots",
    "WriteSummary": "snapshots",
    "results_to_frames": "snapshots",
    "write_scrape_frames": "snapshots",
    "write_scrape_results": "snapshots",
    "WriteConflictError": "transactions",
    "transaction": "transactions",
}

__all__ = [
    "DiscoveryWrite",
    "WatchResult",
    "accounts_due_for_discovery",
    "load_watched_accounts",
    "list_accounts",
    "record_account_hours",
    "record_account_results",
    "unwatch_accounts",
    "watch_accounts",
    "ATTEMPT_SCHEMA",
    "StatusSummary",
    "TrackOutcome",
    "TrackResult",
    "add_pending_link",
    "delete_videos",
    "list_videos",
    "parse_meta_pairs",
    "status_summary",
    "track_frame",
    "track_refs",
    "untrack",
    "validate_cadence",
    "validate_days",
    "validate_metadata",
    "LATEST_VERSION",
    "SNAPSHOT_SCHEMA",
    "WarehouseLockedError",
    "WarehouseMissingError",
    "WarehouseSchemaError",
    "WriteConflictError",
    "WriteSummary",
    "apply_migrations",
    "lock_timeout_from_env",
    "open_warehouse",
    "results_to_frames",
    "transaction",
    "write_scrape_frames",
    "write_scrape_results",
]


def __getattr__(name: str) -> Any:
    submodule = _SUBMODULE.get(name)
    if submodule is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{submodule}"), name)
    globals()[name] = value  # once loaded, a plain module attribute
    return value
