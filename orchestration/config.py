"""Where things live and how viewtrail is configured, read from the environment.

Every setting has an embedded default so that ``make demo`` runs offline on a fresh clone.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """``VIEWTRAIL_DATA_DIR`` (default ``./data``): warehouse, analyst copy, queues, logs."""
    return Path(os.environ.get("VIEWTRAIL_DATA_DIR", "data")).expanduser().absolute()


def warehouse_path() -> Path:
    """``VIEWTRAIL_WAREHOUSE`` (default ``<data dir>/warehouse.duckdb``): the live, read-write warehouse."""
    override = os.environ.get("VIEWTRAIL_WAREHOUSE")
    return Path(override).expanduser().absolute() if override else data_dir() / "warehouse.duckdb"


def analytics_path() -> Path:
    """``VIEWTRAIL_ANALYTICS`` (default ``<data dir>/analytics.duckdb``): the read-only analyst copy."""
    override = os.environ.get("VIEWTRAIL_ANALYTICS")
    return Path(override).expanduser().absolute() if override else data_dir() / "analytics.duckdb"


def marts_export_dir() -> Path:
    """Parquet exports of the marts, one file per mart."""
    return data_dir() / "marts"


def queue_dir() -> Path:
    """File-based request queues read by sensors (sensors never open the live warehouse)."""
    return data_dir() / "queue"


def offline() -> bool:
    """``VIEWTRAIL_OFFLINE=1`` forbids any network call (short links stay pending)."""
    return os.environ.get("VIEWTRAIL_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}
