"""Shared fixtures. Keep this file small and stable: every work stream relies on it."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def warehouse_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh (not yet created) DuckDB warehouse path inside a temp data dir.

    Sets ``VIEWTRAIL_DATA_DIR`` and ``VIEWTRAIL_WAREHOUSE`` so code reading ``viewtrail.config``
    uses the temp locations; also forces offline mode so no test ever reaches the network.
    """
    data = tmp_path / "data"
    data.mkdir()
    path = data / "warehouse.duckdb"
    monkeypatch.setenv("VIEWTRAIL_DATA_DIR", str(data))
    monkeypatch.setenv("VIEWTRAIL_WAREHOUSE", str(path))
    monkeypatch.setenv("VIEWTRAIL_ANALYTICS", str(data / "analytics.duckdb"))
    monkeypatch.setenv("VIEWTRAIL_OFFLINE", "1")
    return path
