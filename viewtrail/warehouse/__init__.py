"""The warehouse: one DuckDB file with the registry of tracked videos and the raw scrape data.

Public API (other packages import from here, not from the submodules).
"""

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
