"""The warehouse: one DuckDB file with the registry, raw snapshots and scrape attempts (docs/schema.md).

No Dagster here: orchestration/defs wires these functions into assets.
"""

from orchestration.warehouse.connection import (
    DEFAULT_LOCK_TIMEOUT_S,
    WarehouseLockedError,
    WarehouseMissingError,
    lock_timeout_from_env,
    open_warehouse,
)
from orchestration.warehouse.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    Migration,
    WarehouseSchemaError,
    apply_migrations,
    current_version,
)
from orchestration.warehouse.snapshots import (
    ATTEMPT_SCHEMA,
    SNAPSHOT_SCHEMA,
    WriteSummary,
    results_to_frames,
    write_scrape_frames,
    write_scrape_results,
)

__all__ = [
    "ATTEMPT_SCHEMA",
    "DEFAULT_LOCK_TIMEOUT_S",
    "LATEST_VERSION",
    "MIGRATIONS",
    "Migration",
    "SNAPSHOT_SCHEMA",
    "WarehouseLockedError",
    "WarehouseMissingError",
    "WarehouseSchemaError",
    "WriteSummary",
    "apply_migrations",
    "current_version",
    "lock_timeout_from_env",
    "open_warehouse",
    "results_to_frames",
    "write_scrape_frames",
    "write_scrape_results",
]
