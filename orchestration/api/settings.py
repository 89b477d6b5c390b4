"""The API's settings.

``VIEWTRAIL_API_RATE_PER_MIN`` is read here, in this one function, because ``orchestration/config.py`` (the one
place every other variable is read) was being reworked by another engineer when the API landed; it moves into
``config.Settings`` once that work is committed. Everything else comes from ``config.settings()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from orchestration import config

RATE_PER_MIN = "VIEWTRAIL_API_RATE_PER_MIN"
DEFAULT_RATE_PER_MIN = 600
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
    text = (os.environ.get(RATE_PER_MIN) or "").strip()
    if not text:
        rate = DEFAULT_RATE_PER_MIN
    else:
        value = config.number(text, int)
        if value is None or value < 1:
            raise config.SettingsError(f"{RATE_PER_MIN}={text!r} must be a whole number of requests per minute, 1 or more.")
        rate = int(value)
    return ApiSettings(
        rate_per_min=rate,
        store_path=base.data_dir / STORE_FILE,
        analytics_path=base.analytics_path,
        lock_timeout_s=base.lock_timeout_s,
    )
