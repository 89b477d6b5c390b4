"""The API's settings: a view of :func:`viewtrail.config.settings` (``VIEWTRAIL_API_RATE_PER_MIN`` and the
paths and lock wait every command shares) plus where the API keeps its own store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from viewtrail import config

STORE_FILE = "api.sqlite3"


@dataclass(frozen=True, slots=True)
class ApiSettings:
    rate_per_min: int  # requests per minute per API key
    store_path: Path  # the SQLite store (keys, idempotency records, registry overlay)
    analytics_path: Path  # the published analyst copy the API reads
    lock_timeout_s: float  # the warehouse lock wait of writes (VIEWTRAIL_LOCK_TIMEOUT_S)


def api_settings() -> ApiSettings:
    """The API's settings; a bad value raises :class:`config.SettingsError` (one sentence naming it)."""
    base = config.settings()
    return ApiSettings(
        rate_per_min=base.api_rate_per_min,
        store_path=base.data_dir / STORE_FILE,
        analytics_path=base.analytics_path,
        lock_timeout_s=base.lock_timeout_s,
    )
