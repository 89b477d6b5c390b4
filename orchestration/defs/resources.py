"""Resources configured from the environment: the warehouse file and the platform clients.

Tests swap configuration (a temp warehouse path, the fake server's base URLs), never monkeypatch.
Secrets are read from ``EnvVar``s only when set, and never logged: Dagster masks EnvVar-backed values in
the UI's resource view, and the clients keep them out of ``repr``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from dagster import ConfigurableResource, EnvVar

from orchestration import config
from orchestration.warehouse.connection import open_warehouse
from orchestration.models import Platform
from orchestration.platforms.base import PlatformClient
from orchestration.platforms.factory import build_client


class WarehouseResource(ConfigurableResource):
    """The live DuckDB warehouse. Open it briefly; never across network I/O."""

    path: str
    analytics_path: str  # the published analyst copy
    marts_export_dir: str  # Parquet exports of the marts
    lock_timeout_s: float = 120.0

    @contextmanager
    def connect(self, *, read_only: bool = False):
        with open_warehouse(Path(self.path), read_only=read_only, lock_timeout_s=self.lock_timeout_s) as con:
            yield con


class PlatformClientsResource(ConfigurableResource):
    """Which client each platform uses (``simulated`` or ``real``) and how to reach it.

    Real clients also read their tuning from the environment (``VIEWTRAIL_{P}_CONCURRENCY`` ...).
    """

    tiktok_mode: str = "simulated"
    youtube_mode: str = "simulated"
    instagram_mode: str = "simulated"
    x_mode: str = "simulated"
    tiktok_base_url: str | None = None
    youtube_base_url: str | None = None
    instagram_base_url: str | None = None
    x_base_url: str | None = None
    youtube_api_key: str | None = None
    instagram_sessionid: str | None = None
    simulated_seed: int = 0
    simulated_fault_rate: float | None = None

    def mode(self, platform: Platform | str) -> str:
        return getattr(self, f"{Platform(platform).value}_mode")

    def build(self, platform: Platform | str) -> PlatformClient:
        platform = Platform(platform)
        mode = self.mode(platform)
        if mode == "simulated":
            return build_client(platform, "simulated", seed=self.simulated_seed, fault_rate=self.simulated_fault_rate)
        settings: dict[str, object] = {}
        base_url = getattr(self, f"{platform.value}_base_url")
        if base_url:
            settings["base_url"] = base_url.rstrip("/")
        if platform is Platform.YOUTUBE and self.youtube_api_key:
            settings["api_key"] = self.youtube_api_key
        if platform is Platform.INSTAGRAM and self.instagram_sessionid:
            settings["session_id"] = self.instagram_sessionid
        return build_client(platform, mode, **settings)


def _env(name: str):
    """``EnvVar(name)`` when the variable is set, else ``None`` (EnvVar fails on unset variables)."""
    return EnvVar(name) if os.environ.get(name, "").strip() else None


def platform_clients_from_env() -> PlatformClientsResource:
    kwargs: dict[str, object] = {}
    for platform in Platform:
        upper = platform.value.upper()
        for field, var in (("mode", f"VIEWTRAIL_{upper}_MODE"), ("base_url", f"VIEWTRAIL_{upper}_BASE_URL")):
            value = _env(var)
            if value is not None:
                kwargs[f"{platform.value}_{field}"] = value
    for field, var in (("youtube_api_key", "YOUTUBE_API_KEY"), ("instagram_sessionid", "INSTAGRAM_SESSIONID")):
        value = _env(var)
        if value is not None:
            kwargs[field] = value
    return PlatformClientsResource(**kwargs)


def warehouse_from_env() -> WarehouseResource:
    return WarehouseResource(
        path=str(config.warehouse_path()),
        analytics_path=str(config.analytics_path()),
        marts_export_dir=str(config.marts_export_dir()),
    )
