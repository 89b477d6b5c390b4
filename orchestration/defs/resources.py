"""Every resource of the code location, built from the settings (``viewtrail.config``): the warehouse file, the
platform clients, the sensors' knobs and the run-failure notifier (:func:`build_resources` lists them).

Tests swap configuration (a temp warehouse path, the fake server's base URLs), never monkeypatch.
The builders below take a :class:`~viewtrail.config.Settings` (default: ``config.settings()``) and are
called inside the code location's ``@definitions`` function, never at import. Secrets are passed as
``EnvVar``s only when set, and never logged: Dagster masks EnvVar-backed values in the UI's resource view, and
the clients keep them out of ``repr``.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource, EnvVar, InitResourceContext
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from viewtrail import config
from viewtrail.domain.models import Platform
from viewtrail.platforms.accounts import AccountClient, build_account_client
from viewtrail.platforms.base import PlatformClient
from viewtrail.platforms.factory import build_client
from viewtrail.warehouse.connection import open_warehouse
from viewtrail.warehouse.writer_lock import writer_lock


class WarehouseResource(DuckDBResource):
    """The live DuckDB warehouse. Open it briefly; never across network I/O.

    A ``dagster_duckdb.DuckDBResource`` whose ``database`` is the warehouse file (``path`` is accepted as its
    name here and reads it back), opened through :func:`~viewtrail.warehouse.connection.open_warehouse`:
    read-write opens apply pending migrations, and a file locked by another process is waited for up to
    ``lock_timeout_s`` seconds. ``connect()`` and DuckDBResource's ``get_connection()`` are the same open.
    Read-write opens hold the warehouse-write lock across hosts (``VIEWTRAIL_WRITER_LOCK_URL``) under the
    run's id; ``write_lock()`` holds it around a write that opens the file by other means (dbt).
    """

    analytics_path: str  # the published analyst copy
    marts_export_dir: str  # Parquet exports of the marts
    lock_timeout_s: float = config.DEFAULT_LOCK_TIMEOUT_S
    staging_url: str | None = None  # VIEWTRAIL_STAGING_URL: s3://bucket/prefix; None = <data dir>/staging
    _run_id: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._run_id = context.run_id

    def __init__(self, *, path: str | Path | None = None, database: str | Path | None = None, **fields: Any):
        if path is not None and database is not None and str(path) != str(database):
            raise TypeError("WarehouseResource: give the warehouse file as path= or database=, not both")
        target = path if path is not None else database
        if target is None:
            raise TypeError("WarehouseResource needs path= (the warehouse file)")
        super().__init__(database=str(target), **fields)

    @property
    def path(self) -> str:
        """The warehouse file (DuckDBResource's ``database``)."""
        return self.database

    @contextmanager
    def connect(self, *, read_only: bool = False):
        with open_warehouse(
            Path(self.database),
            read_only=read_only,
            lock_timeout_s=self.lock_timeout_s,
            connection_config=self.connection_config,
            run_id=self._run_id,
        ) as con:
            yield con

    @contextmanager
    def write_lock(self):
        """Hold the warehouse-write lock (across hosts, when configured) for the block."""
        with writer_lock(run_id=self._run_id, lock_timeout_s=self.lock_timeout_s):
            yield

    @contextmanager
    def get_connection(self, *, read_only: bool = False):  # DuckDBResource's API, with migrations and lock wait
        with self.connect(read_only=read_only) as con:
            yield con


class PlatformClientsResource(ConfigurableResource):
    """Which client each platform uses (``simulated`` or ``real``) and how to reach it.

    ``modes`` and ``base_urls`` are keyed by platform name (``{"tiktok": "real"}``); a platform not named is
    simulated and uses its default endpoint, so a registered platform needs no field here. Real clients also take
    their tuning from the settings (``VIEWTRAIL_{P}_CONCURRENCY`` ...). The secrets stay fields of their own so
    Dagster masks them as ``EnvVar`` s.
    """

    modes: dict[str, str] = {}
    base_urls: dict[str, str] = {}
    youtube_api_key: str | None = None
    instagram_sessionid: str | None = None
    simulated_seed: int = 0
    simulated_fault_rate: float | None = None

    def mode(self, platform: Platform | str) -> str:
        return self.modes.get(Platform(platform).value, "simulated")

    def base_url(self, platform: Platform | str) -> str | None:
        return self.base_urls.get(Platform(platform).value)

    def build(self, platform: Platform | str) -> PlatformClient:
        platform = Platform(platform)
        mode = self.mode(platform)
        if mode == "simulated":
            return build_client(platform, "simulated", seed=self.simulated_seed, fault_rate=self.simulated_fault_rate)
        return build_client(platform, mode, **self._real_settings(platform))

    def build_accounts(self, platform: Platform | str) -> AccountClient:
        """The account client of ``platform``, in the same mode and with the same settings as its video client."""
        platform = Platform(platform)
        mode = self.mode(platform)
        if mode == "simulated":
            return build_account_client(
                platform, "simulated", seed=self.simulated_seed, fault_rate=self.simulated_fault_rate
            )
        return build_account_client(platform, mode, **self._real_settings(platform))

    def _real_settings(self, platform: Platform) -> dict[str, object]:
        settings: dict[str, object] = {}
        base_url = self.base_url(platform)
        if base_url:
            settings["base_url"] = base_url.rstrip("/")
        if platform is Platform.YOUTUBE and self.youtube_api_key:
            settings["api_key"] = self.youtube_api_key
        if platform is Platform.INSTAGRAM and self.instagram_sessionid:
            settings["session_id"] = self.instagram_sessionid
        return settings


def _secret(settings: config.Settings, name: str) -> EnvVar | None:
    """``EnvVar(name)`` when the secret is set, else ``None`` (an EnvVar of an unset variable fails the run)."""
    return EnvVar(name) if settings.is_set(name) else None


def platform_clients_from_env(settings: config.Settings | None = None) -> PlatformClientsResource:
    """Client modes and base URLs from the settings; the YouTube key and Instagram session as ``EnvVar``s."""
    settings = settings or config.settings()
    kwargs: dict[str, object] = {
        "modes": {p.platform.value: p.mode for p in settings.platforms},
        "base_urls": {p.platform.value: p.base_url for p in settings.platforms if p.base_url},
    }
    for field, var in (
        ("youtube_api_key", config.YOUTUBE_API_KEY),
        ("instagram_sessionid", config.INSTAGRAM_SESSIONID),
    ):
        value = _secret(settings, var)
        if value is not None:
            kwargs[field] = value
    return PlatformClientsResource(**kwargs)


def warehouse_from_env(settings: config.Settings | None = None) -> WarehouseResource:
    """The warehouse, analyst copy and Parquet directory of the settings, with their lock wait."""
    settings = settings or config.settings()
    return WarehouseResource(
        path=str(settings.warehouse_path),
        analytics_path=str(settings.analytics_path),
        marts_export_dir=str(settings.marts_export_dir),
        lock_timeout_s=settings.lock_timeout_s,
        staging_url=settings.staging_url,
    )


class SensorSettings(ConfigurableResource):
    """Knobs of the re-scrape sensors (defaults fit a few thousand videos; the settings may override them)."""

    queue_dir: str
    #: Failures: first retry this long after a transient failure, doubling per consecutive failure, capped.
    retry_base_minutes: float = config.DEFAULT_RETRY_BASE_MINUTES  # 1 h, 2 h, 4 h, ... (VIEWTRAIL_RETRY_BASE_MINUTES)
    retry_cap_minutes: float = config.DEFAULT_RETRY_CAP_MINUTES  # capped at 24 h (VIEWTRAIL_RETRY_CAP_MINUTES)
    #: Momentum: a video whose views/hour (last 24 h) reaches this multiple of its previous rate ...
    momentum_factor: float = config.DEFAULT_MOMENTUM_FACTOR  # VIEWTRAIL_MOMENTUM_FACTOR
    #: ... and at least this many views/hour ...
    momentum_min_views_per_hour: float = (
        config.DEFAULT_MOMENTUM_MIN_VIEWS_PER_HOUR
    )  # VIEWTRAIL_MOMENTUM_MIN_VIEWS_PER_HOUR
    #: ... is re-scraped hourly for this many hours.
    momentum_hours: int = 24


class NotifierResource(ConfigurableResource):
    log_path: str
    webhook_url: str | None = None  # VIEWTRAIL_WEBHOOK_URL (may hold a token: never logged)


def sensor_settings_from_env(settings: config.Settings | None = None) -> SensorSettings:
    """Sensor knobs from the settings (each numeric one overridable by its variable, a positive number)."""
    settings = settings or config.settings()
    return SensorSettings(
        queue_dir=str(settings.queue_dir),
        retry_base_minutes=settings.retry_base_minutes,
        retry_cap_minutes=settings.retry_cap_minutes,
        momentum_factor=settings.momentum_factor,
        momentum_min_views_per_hour=settings.momentum_min_views_per_hour,
    )


def notifier_from_env(settings: config.Settings | None = None) -> NotifierResource:
    """The failure log under the data dir; the webhook as an ``EnvVar`` (it may carry a token) when set."""
    settings = settings or config.settings()
    url = EnvVar(config.WEBHOOK_URL) if settings.is_set(config.WEBHOOK_URL) else None
    return NotifierResource(log_path=str(settings.data_dir / "logs" / "failures.log"), webhook_url=url)


def build_resources(settings: config.Settings | None = None) -> dict[str, Any]:
    """Every resource of the code location, by the name assets and sensors ask for, from ``settings`` (default:
    this process's)."""
    settings = settings or config.settings()
    return {
        "warehouse": warehouse_from_env(settings),
        "platforms": platform_clients_from_env(settings),
        "sensor_settings": sensor_settings_from_env(settings),
        "notifier": notifier_from_env(settings),
    }
