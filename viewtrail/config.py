"""Every setting of viewtrail, read from the environment and validated in one place.

:func:`settings` returns a frozen :class:`Settings` holding every ``VIEWTRAIL_*`` variable (and the secrets
``YOUTUBE_API_KEY`` and ``INSTAGRAM_SESSIONID``) parsed and checked. A bad value raises
:class:`SettingsError` whose message is one sentence naming the variable (a secret's value is never echoed).
Every setting has an embedded default so that ``make demo`` runs offline on a fresh clone.

No other module reads these variables: they call :func:`settings` (or the small accessors below) when they need
a value, never at import, so importing any module never fails on a bad variable.

Caching: the parsed object is cached per process, keyed by the raw values of the variables it knows (and the
working directory, against which relative paths resolve). An unchanged environment is parsed once; a changed
one (a test's ``monkeypatch.setenv``, a CLI test invoking several commands with different variables) is
re-read on the next call, so tests never have to remember to reset a cache. :meth:`Settings.from_environ`
builds one from any mapping, without touching the process environment or the cache.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from viewtrail.domain.cadence import AUTO_CADENCE_ENV, DEFAULT_AUTO_CADENCE, parse_auto_cadence
from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.instants import parse_instant
from viewtrail.domain.models import Platform
from viewtrail.domain.platforms import platform_spec, platform_specs

__all__ = [
    "DEFAULT_LOCK_TIMEOUT_S",
    "PLATFORM_SUFFIXES",
    "SECRET_VARIABLES",
    "VARIABLES",
    "PlatformSettings",
    "Settings",
    "SettingsError",
    "analytics_path",
    "data_dir",
    "marts_export_dir",
    "offline",
    "platform_variable",
    "queue_dir",
    "settings",
    "warehouse_path",
]


class SettingsError(InvalidInputError):
    """A variable holds a value viewtrail cannot use; ``str(error)`` is one sentence naming it."""


# --- the variables ---------------------------------------------------------------------------------------------

DATA_DIR = "VIEWTRAIL_DATA_DIR"
WAREHOUSE = "VIEWTRAIL_WAREHOUSE"
ANALYTICS = "VIEWTRAIL_ANALYTICS"
OFFLINE = "VIEWTRAIL_OFFLINE"
LOCK_TIMEOUT_S = "VIEWTRAIL_LOCK_TIMEOUT_S"
NOW = "VIEWTRAIL_NOW"
AUTO_CADENCE = AUTO_CADENCE_ENV
MIN_SUCCESS_SHARE = "VIEWTRAIL_MIN_SUCCESS_SHARE"
DBT_RUNNER = "VIEWTRAIL_DBT_RUNNER"
TIMEZONE = "VIEWTRAIL_TIMEZONE"
DUCKDB_MEMORY_LIMIT = "VIEWTRAIL_DUCKDB_MEMORY_LIMIT"
DUCKDB_TEMP_DIR = "VIEWTRAIL_DUCKDB_TEMP_DIR"
RETRY_BASE_MINUTES = "VIEWTRAIL_RETRY_BASE_MINUTES"
RETRY_CAP_MINUTES = "VIEWTRAIL_RETRY_CAP_MINUTES"
MOMENTUM_FACTOR = "VIEWTRAIL_MOMENTUM_FACTOR"
MOMENTUM_MIN_VIEWS_PER_HOUR = "VIEWTRAIL_MOMENTUM_MIN_VIEWS_PER_HOUR"
WEBHOOK_URL = "VIEWTRAIL_WEBHOOK_URL"
API_RATE_PER_MIN = "VIEWTRAIL_API_RATE_PER_MIN"
YOUTUBE_DAILY_UNITS = "VIEWTRAIL_YOUTUBE_DAILY_UNITS"
YOUTUBE_API_KEY = "YOUTUBE_API_KEY"
INSTAGRAM_SESSIONID = "INSTAGRAM_SESSIONID"
X_GRAPHQL = "VIEWTRAIL_X_GRAPHQL"
X_GRAPHQL_BASE_URL = "VIEWTRAIL_X_GRAPHQL_BASE_URL"
X_GRAPHQL_QUERY_ID = "VIEWTRAIL_X_GRAPHQL_QUERY_ID"
X_GRAPHQL_BEARER = "VIEWTRAIL_X_GRAPHQL_BEARER"
WRITER_LOCK_URL = "VIEWTRAIL_WRITER_LOCK_URL"
STAGING_URL = "VIEWTRAIL_STAGING_URL"
RUN_RETENTION_DAYS = "VIEWTRAIL_RUN_RETENTION_DAYS"
CELERY_BROKER = "VIEWTRAIL_CELERY_BROKER"
CELERY_BACKEND = "VIEWTRAIL_CELERY_BACKEND"

#: The variables holding platforms' secrets (each spec's ``secrets``: ``YOUTUBE_API_KEY``...), in registry order.
PLATFORM_SECRETS: tuple[str, ...] = tuple(var for spec in platform_specs() for var in spec.secrets.values())

#: ``VIEWTRAIL_{P}_<suffix>`` exists for each registered platform ``P`` (TIKTOK, YOUTUBE, INSTAGRAM, X...).
PLATFORM_SUFFIXES = (
    "MODE",
    "BASE_URL",
    "CONCURRENCY",
    "RATE_PER_MIN",
    "TIMEOUT_S",
    "MAX_RETRIES",
    "IMPERSONATE",
    "COOKIES_FILE",
    "PROXIES",
    "BACKEND",
)


def platform_variable(platform: Platform | str, suffix: str) -> str:
    """``VIEWTRAIL_TIKTOK_MODE`` for ``(tiktok, "MODE")``."""
    return f"VIEWTRAIL_{Platform(platform).value.upper()}_{suffix}"


#: Every variable the settings read, in the order of the README's configuration table.
VARIABLES: tuple[str, ...] = (
    DATA_DIR,
    WAREHOUSE,
    ANALYTICS,
    OFFLINE,
    LOCK_TIMEOUT_S,
    NOW,
    AUTO_CADENCE,
    MIN_SUCCESS_SHARE,
    DBT_RUNNER,
    DUCKDB_MEMORY_LIMIT,
    DUCKDB_TEMP_DIR,
    RETRY_BASE_MINUTES,
    RETRY_CAP_MINUTES,
    MOMENTUM_FACTOR,
    MOMENTUM_MIN_VIEWS_PER_HOUR,
    WEBHOOK_URL,
    API_RATE_PER_MIN,
    WRITER_LOCK_URL,
    STAGING_URL,
    CELERY_BROKER,
    CELERY_BACKEND,
    RUN_RETENTION_DAYS,
    TIMEZONE,
    *(platform_variable(p, suffix) for p in Platform for suffix in PLATFORM_SUFFIXES),
    YOUTUBE_DAILY_UNITS,
    *PLATFORM_SECRETS,
    X_GRAPHQL,
    X_GRAPHQL_BASE_URL,
    X_GRAPHQL_QUERY_ID,
    X_GRAPHQL_BEARER,
)
#: Values never echoed in errors nor shown in ``repr``; Dagster resources get them as ``EnvVar``s.
#: ``VIEWTRAIL_{P}_PROXIES`` is secret too: proxy URLs carry credentials and addresses.
SECRET_VARIABLES = frozenset(
    {*PLATFORM_SECRETS, WEBHOOK_URL, WRITER_LOCK_URL, *(platform_variable(p, "PROXIES") for p in Platform)}
)

# --- defaults (the README's configuration table lists the same) ------------------------------------------------

DEFAULT_DATA_DIR = "data"
#: How long a writer (CLI command or pipeline step) waits for a busy warehouse file before giving up. One value
#: for both: a pipeline write that gives up loses what its scrape observed, and a CLI command that waits says so.
DEFAULT_LOCK_TIMEOUT_S = 120.0
DEFAULT_MIN_SUCCESS_SHARE = 0.9
DEFAULT_RETRY_BASE_MINUTES = 60.0  # retries after 1 h, 2 h, 4 h, ...
DEFAULT_RETRY_CAP_MINUTES = 24 * 60.0  # ... capped at 24 h
DEFAULT_MOMENTUM_FACTOR = 3.0
DEFAULT_MOMENTUM_MIN_VIEWS_PER_HOUR = 100.0
DEFAULT_RUN_RETENTION_DAYS = 90.0  # finished Dagster runs (and their event logs) kept this long
DEFAULT_API_RATE_PER_MIN = 600  # requests per minute per API key (viewtrail serve)
#: How the pipeline's dbt step runs dbt: "inprocess" (dbt's programmatic API in the run's process, seconds faster per
#: build) or "cli" (a `dbt build` subprocess through dagster-dbt's DbtCliResource, public APIs only: the fallback
#: when an upgrade changes an internal the in-process step relies on, see orchestration/defs/dbt_internals.py).
DBT_RUNNERS = ("inprocess", "cli")
DEFAULT_DBT_RUNNER = "inprocess"
DEFAULT_TIMEZONE = "UTC"
MODES = ("simulated", "real")
#: How a real client reads videos: viewtrail's own parser, yt-dlp's extractors, or the first with the second as
#: the fallback for a video whose page the own parser no longer understands.
BACKENDS = ("native", "ytdlp", "auto")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class PlatformSettings:
    """One platform's client mode and the real client's tuning; ``None`` = the client's polite default."""

    platform: Platform
    mode: str = "simulated"  # VIEWTRAIL_{P}_MODE: 'simulated' or 'real'
    base_url: str | None = None  # VIEWTRAIL_{P}_BASE_URL, without a trailing slash
    concurrency: int | None = None  # VIEWTRAIL_{P}_CONCURRENCY (>= 1)
    rate_per_min: float | None = None  # VIEWTRAIL_{P}_RATE_PER_MIN (>= 0.1)
    timeout_s: float | None = None  # VIEWTRAIL_{P}_TIMEOUT_S (>= 0.1)
    max_retries: int | None = None  # VIEWTRAIL_{P}_MAX_RETRIES (>= 0)
    daily_units: int | None = None  # YouTube only: VIEWTRAIL_YOUTUBE_DAILY_UNITS (>= 1)
    api_key: str | None = field(default=None, repr=False)  # YouTube only: YOUTUBE_API_KEY
    session_id: str | None = field(default=None, repr=False)  # Instagram only: INSTAGRAM_SESSIONID
    x_graphql: bool | None = None  # X only: VIEWTRAIL_X_GRAPHQL (guest-token GraphQL route for views; default on)
    x_graphql_base_url: str | None = None  # X only: VIEWTRAIL_X_GRAPHQL_BASE_URL (one base for both endpoints)
    x_graphql_query_id: str | None = None  # X only: VIEWTRAIL_X_GRAPHQL_QUERY_ID (TweetResultByRestId rotates)
    x_graphql_bearer: str | None = field(default=None, repr=False)  # X only: VIEWTRAIL_X_GRAPHQL_BEARER
    impersonate: str | None = None  # VIEWTRAIL_{P}_IMPERSONATE: a browser curl_cffi impersonates (e.g. chrome)
    cookies_file: Path | None = None  # VIEWTRAIL_{P}_COOKIES_FILE: a Netscape cookies.txt, read at client build
    proxies: tuple[str, ...] | None = field(default=None, repr=False)  # VIEWTRAIL_{P}_PROXIES, comma-separated
    backend: str | None = None  # VIEWTRAIL_{P}_BACKEND: native, ytdlp or auto; None = the platform's default

    def client_overrides(self) -> dict[str, Any]:
        """The ``ClientSettings`` fields these settings set (the unset ones keep the client's defaults)."""
        names = (
            "base_url",
            "concurrency",
            "rate_per_min",
            "timeout_s",
            "max_retries",
            "daily_units",
            "api_key",
            "session_id",
            "x_graphql",
            "x_graphql_base_url",
            "x_graphql_query_id",
            "x_graphql_bearer",
            "impersonate",
            "cookies_file",
            "proxies",
        )
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, validated. Build it with :func:`settings` or :meth:`from_environ`."""

    data_dir: Path  # VIEWTRAIL_DATA_DIR: warehouse, analyst copy, queues, logs
    warehouse_path: Path  # VIEWTRAIL_WAREHOUSE: the live, read-write warehouse
    analytics_path: Path  # VIEWTRAIL_ANALYTICS: the read-only analyst copy
    offline: bool  # VIEWTRAIL_OFFLINE: no network call (short links stay pending)
    lock_timeout_s: float  # VIEWTRAIL_LOCK_TIMEOUT_S: patience with a busy warehouse file
    duckdb_memory_limit: str  # VIEWTRAIL_DUCKDB_MEMORY_LIMIT: DuckDB's memory_limit on the warehouse, e.g. "6GB"
    duckdb_temp_dir: Path  # VIEWTRAIL_DUCKDB_TEMP_DIR: where DuckDB spills what does not fit in the limit
    now: datetime | None  # VIEWTRAIL_NOW: where the clock starts (naive UTC); None = the system clock
    auto_cadence: tuple[tuple[float | None, int], ...]  # VIEWTRAIL_AUTO_CADENCE, parsed
    min_success_share: float  # VIEWTRAIL_MIN_SUCCESS_SHARE: the success-share check's threshold
    retry_base_minutes: float  # VIEWTRAIL_RETRY_BASE_MINUTES
    retry_cap_minutes: float  # VIEWTRAIL_RETRY_CAP_MINUTES
    momentum_factor: float  # VIEWTRAIL_MOMENTUM_FACTOR
    momentum_min_views_per_hour: float  # VIEWTRAIL_MOMENTUM_MIN_VIEWS_PER_HOUR
    api_rate_per_min: int  # VIEWTRAIL_API_RATE_PER_MIN: the HTTP API's requests per minute per API key
    platforms: tuple[PlatformSettings, ...]  # one per Platform, in Platform order
    webhook_url: str | None = field(default=None, repr=False)  # VIEWTRAIL_WEBHOOK_URL (may hold a token)
    dbt_runner: str = DEFAULT_DBT_RUNNER  # VIEWTRAIL_DBT_RUNNER: how the pipeline's dbt step runs dbt
    #: VIEWTRAIL_WRITER_LOCK_URL: PostgreSQL holding the warehouse-write lock across hosts (may hold a password)
    writer_lock_url: str | None = field(default=None, repr=False)
    #: VIEWTRAIL_STAGING_URL: where plans and scrape batches are staged; None = ``<data dir>/staging`` on the local disk
    staging_url: str | None = None
    #: VIEWTRAIL_CELERY_BROKER: the broker the jobs' steps go through to Celery workers; None = local processes or
    #: the run's own (may hold a password)
    celery_broker: str | None = field(default=None, repr=False)
    #: VIEWTRAIL_CELERY_BACKEND: Celery's result backend; None = the broker for Redis, ``rpc://`` otherwise
    celery_backend: str | None = field(default=None, repr=False)
    run_retention_days: float = DEFAULT_RUN_RETENTION_DAYS  # VIEWTRAIL_RUN_RETENTION_DAYS

    @property
    def celery_result_backend(self) -> str | None:
        """The result backend the Celery executor and workers use, when a broker is set."""
        if self.celery_broker is None:
            return None
        if self.celery_backend is not None:
            return self.celery_backend
        return self.celery_broker if self.celery_broker.startswith(("redis://", "rediss://")) else "rpc://"

    timezone: str = DEFAULT_TIMEZONE  # VIEWTRAIL_TIMEZONE: the organisation's calendar (goal periods, posting days)

    @property
    def marts_export_dir(self) -> Path:
        """Parquet exports of the marts, one file per mart."""
        return self.data_dir / "marts"

    @property
    def queue_dir(self) -> Path:
        """File-based request queues read by sensors (sensors never open the live warehouse)."""
        return self.data_dir / "queue"

    def platform(self, platform: Platform | str) -> PlatformSettings:
        wanted = Platform(platform)
        return next(p for p in self.platforms if p.platform is wanted)

    def is_set(self, variable: str) -> bool:
        """Whether a secret (or any variable with no default) was given; for ``EnvVar`` wiring."""
        value = {
            **{
                var: getattr(p, field_name)
                for p in self.platforms
                for field_name, var in platform_spec(p.platform.value).secrets.items()
            },
            WEBHOOK_URL: self.webhook_url,
            WRITER_LOCK_URL: self.writer_lock_url,
            CELERY_BROKER: self.celery_broker,
            CELERY_BACKEND: self.celery_backend,
            **{platform_variable(p.platform, "PROXIES"): p.proxies for p in self.platforms},
        }[variable]
        return value is not None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, cwd: Path | str | None = None) -> Settings:
        """Parse and validate the variables of ``environ`` (relative paths resolve against ``cwd``)."""
        return _parse(_Raw(environ), Path(cwd) if cwd is not None else Path.cwd())


#: Values that replace the environment's for this process while :func:`overridden` is active (None: unset).
_overrides: dict[str, str | None] = {}


def settings() -> Settings:
    """The settings of this process's environment (parsed once per distinct environment, see the module doc)."""
    values = tuple(_overrides[name] if name in _overrides else os.environ.get(name) for name in VARIABLES)
    return _cached(Path.cwd(), values)


@contextmanager
def overridden(values: Mapping[str, str | None]) -> Iterator[None]:
    """Read the settings as if these variables were set (None: unset) until the block ends, without writing
    ``os.environ``: a run worker's threads share one environment, and a subprocess gets what it needs explicitly.
    For a command that works on other files than the user's (the demo in its own data dir)."""
    unknown = set(values) - set(VARIABLES)
    if unknown:
        raise ValueError(f"not viewtrail settings: {', '.join(sorted(unknown))}")
    saved = dict(_overrides)
    _overrides.update(values)
    try:
        yield
    finally:
        _overrides.clear()
        _overrides.update(saved)


@lru_cache(maxsize=8)
def _cached(cwd: Path, values: tuple[str | None, ...]) -> Settings:
    environ = {name: value for name, value in zip(VARIABLES, values, strict=True) if value is not None}
    return _parse(_Raw(environ), cwd)


# --- accessors kept for the many callers that need one path or flag ---------------------------------------------


def data_dir() -> Path:
    """``VIEWTRAIL_DATA_DIR`` (default ``./data``): warehouse, analyst copy, queues, logs."""
    return settings().data_dir


def warehouse_path() -> Path:
    """``VIEWTRAIL_WAREHOUSE`` (default ``<data dir>/warehouse.duckdb``): the live, read-write warehouse."""
    return settings().warehouse_path


def analytics_path() -> Path:
    """``VIEWTRAIL_ANALYTICS`` (default ``<data dir>/analytics.duckdb``): the read-only analyst copy."""
    return settings().analytics_path


def marts_export_dir() -> Path:
    """Parquet exports of the marts, one file per mart."""
    return settings().marts_export_dir


def queue_dir() -> Path:
    """File-based request queues read by sensors (sensors never open the live warehouse)."""
    return settings().queue_dir


def offline() -> bool:
    """``VIEWTRAIL_OFFLINE=1`` forbids any network call (short links stay pending)."""
    return settings().offline


# --- parsing ----------------------------------------------------------------------------------------------------


class _Raw:
    """The raw text of the known variables: stripped, empty meaning unset."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def text(self, name: str) -> str:
        assert name in VARIABLES, f"{name} is not a known setting: add it to config.VARIABLES"
        return (self._environ.get(name) or "").strip()

    def original(self, name: str) -> str:
        return self._environ.get(name) or ""


def number(text: str, kind: type[int | float]) -> int | float | None:
    """``text`` as a finite ``int``/``float``, or ``None`` when it is not one (the only number parser)."""
    try:
        value = kind(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _path(raw: _Raw, name: str, default: Path, cwd: Path) -> Path:
    text = raw.text(name)
    if not text:
        return default
    try:
        path = Path(text).expanduser()
    except RuntimeError:
        raise SettingsError(f"{name}={text!r} names a home directory that does not exist; use a full path.") from None
    return path if path.is_absolute() else cwd / path


def _flag(raw: _Raw, name: str) -> bool:
    text = raw.text(name).lower()
    if text in _TRUE:
        return True
    if not text or text in _FALSE:
        return False
    raise SettingsError(f"{name}={raw.text(name)!r} is not a yes/no value; set it to 1 or 0, or unset it.")


def _positive(raw: _Raw, name: str, default: float) -> float:
    text = raw.text(name)
    if not text:
        return default
    value = number(text, float)
    if value is None or value <= 0:
        raise SettingsError(f"{name}={text!r} must be a positive number.")
    return float(value)


#: DuckDB's memory limit on the warehouse: DuckDB spills beyond it to VIEWTRAIL_DUCKDB_TEMP_DIR, so a full rebuild
#: of any size stays within it. The process around DuckDB (Python, Dagster, dbt) needs some 0.2-0.7 GB more
#: (measured: peak RSS 0.7 GB at a 512MB limit), so 6GB keeps the rebuild's peak under 8 GB.
DEFAULT_DUCKDB_MEMORY_LIMIT = "6GB"
_MEMORY = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)", re.IGNORECASE)


def _memory_limit(raw: _Raw) -> str:
    text = raw.text(DUCKDB_MEMORY_LIMIT)
    if not text:
        return DEFAULT_DUCKDB_MEMORY_LIMIT
    if not _MEMORY.fullmatch(text.strip()):
        raise SettingsError(
            f"{DUCKDB_MEMORY_LIMIT}={text!r} is not an amount of memory; set it to e.g. "
            f"{DEFAULT_DUCKDB_MEMORY_LIMIT} or 512MB, or unset it."
        )
    return text.strip().replace(" ", "")


def _lock_timeout(raw: _Raw) -> float:
    text = raw.text(LOCK_TIMEOUT_S)
    if not text:
        return DEFAULT_LOCK_TIMEOUT_S
    value = number(text, float)
    if value is None:
        raise SettingsError(
            f"{LOCK_TIMEOUT_S}={text!r} is not a number of seconds; set it to e.g. {DEFAULT_LOCK_TIMEOUT_S:g} or unset it."
        )
    if value < 0:
        raise SettingsError(f"{LOCK_TIMEOUT_S}={text!r} is negative; set it to 0 or more seconds.")
    return float(value)


def _share(raw: _Raw) -> float:
    text = raw.text(MIN_SUCCESS_SHARE)
    if not text:
        return DEFAULT_MIN_SUCCESS_SHARE
    value = number(text, float)
    if value is None or not 0.0 <= value <= 1.0:
        raise SettingsError(f"{MIN_SUCCESS_SHARE}={text!r} must be a number between 0 and 1, e.g. 0.9.")
    return float(value)


def _dbt_runner(raw: _Raw) -> str:
    text = raw.text(DBT_RUNNER).lower()
    if not text:
        return DEFAULT_DBT_RUNNER
    if text not in DBT_RUNNERS:
        raise SettingsError(f"{DBT_RUNNER}={raw.text(DBT_RUNNER)!r} must be one of {', '.join(DBT_RUNNERS)}.")
    return text


def _timezone(raw: _Raw) -> str:
    text = raw.text(TIMEZONE)
    if not text:
        return DEFAULT_TIMEZONE
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # here: finding the zone database costs every command ~10 ms

    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"{TIMEZONE}={text!r} is not an IANA time zone; use a name such as Europe/Berlin or America/New_York."
        ) from None
    return text


def _api_rate(raw: _Raw) -> int:
    text = raw.text(API_RATE_PER_MIN)
    if not text:
        return DEFAULT_API_RATE_PER_MIN
    value = number(text, int)
    if value is None or value < 1:
        raise SettingsError(f"{API_RATE_PER_MIN}={text!r} must be a whole number of requests per minute, 1 or more.")
    return int(value)


def _client_number(raw: _Raw, name: str, kind: type[int | float], minimum: float) -> Any:
    if not raw.text(name):
        return None
    value = number(raw.text(name), kind)
    shown = raw.original(name)
    if value is None:
        raise SettingsError(f"{name}={shown!r} is not a number: set it to a {kind.__name__} >= {minimum}.")
    if value < minimum:
        raise SettingsError(f"{name}={shown!r} is too small: set it to a {kind.__name__} >= {minimum}.")
    return value


def impersonation_targets() -> tuple[str, ...]:
    """Every browser curl_cffi can impersonate: the aliases (``chrome``, ``safari``...) then the versions."""
    from curl_cffi import requests as curl_requests  # here: only a setting that asks for it loads curl_cffi
    from curl_cffi.requests.impersonate import REAL_TARGET_MAP

    versions = sorted({browser.value for browser in curl_requests.BrowserType} - set(REAL_TARGET_MAP))
    return (*REAL_TARGET_MAP, *versions)


def _impersonate(raw: _Raw, platform: Platform) -> str | None:
    name = platform_variable(platform, "IMPERSONATE")
    text = raw.text(name).lower()
    if not text:
        return None
    targets = impersonation_targets()
    if text not in targets:
        raise SettingsError(
            f"{name}={raw.text(name)!r} is not a browser curl_cffi can impersonate: use one of {', '.join(targets)}, "
            "or unset it."
        )
    return text


def _platform(raw: _Raw, platform: Platform, cwd: Path) -> PlatformSettings:
    var = platform_variable(platform, "MODE")
    mode = (raw.text(var) or "simulated").lower()
    if mode not in MODES:
        raise SettingsError(f"{var}={mode!r} is not a client mode: use 'simulated' or 'real'.")
    base_url = raw.text(platform_variable(platform, "BASE_URL")).rstrip("/") or None
    tuning = {
        field_name: _client_number(raw, platform_variable(platform, suffix), kind, minimum)
        for field_name, suffix, kind, minimum in (
            ("concurrency", "CONCURRENCY", int, 1),
            ("rate_per_min", "RATE_PER_MIN", float, 0.1),
            ("timeout_s", "TIMEOUT_S", float, 0.1),
            ("max_retries", "MAX_RETRIES", int, 0),
        )
    }
    tuning["impersonate"] = _impersonate(raw, platform)
    cookies_var = platform_variable(platform, "COOKIES_FILE")
    tuning["cookies_file"] = _path(raw, cookies_var, cwd, cwd) if raw.text(cookies_var) else None
    if platform is Platform.YOUTUBE:
        tuning["daily_units"] = _client_number(raw, YOUTUBE_DAILY_UNITS, int, 1)
    for field_name, var in platform_spec(platform.value).secrets.items():
        tuning[field_name] = raw.text(var) or None
    if platform is Platform.X:
        tuning["x_graphql"] = _flag(raw, X_GRAPHQL) if raw.text(X_GRAPHQL) else None
        tuning["x_graphql_base_url"] = raw.text(X_GRAPHQL_BASE_URL).rstrip("/") or None
        tuning["x_graphql_query_id"] = raw.text(X_GRAPHQL_QUERY_ID) or None
        tuning["x_graphql_bearer"] = raw.text(X_GRAPHQL_BEARER) or None
    tuning["proxies"] = _proxies(raw, platform_variable(platform, "PROXIES"))
    tuning["backend"] = _backend(raw, platform_variable(platform, "BACKEND"))
    return PlatformSettings(platform, mode, base_url, **tuning)


def _backend(raw: _Raw, name: str) -> str | None:
    text = raw.text(name).lower()
    if not text:
        return None
    if text not in BACKENDS:
        raise SettingsError(f"{name}={raw.text(name)!r} is not a backend: use {', '.join(BACKENDS)}, or unset it.")
    return text


def _proxies(raw: _Raw, name: str) -> tuple[str, ...] | None:
    """Comma-separated ``http://[user:pass@]host:port`` URLs; an error names the item by position only, as
    proxy URLs carry credentials."""
    items = [item.strip() for item in raw.text(name).split(",")]
    if items == [""]:
        return None
    for position, item in enumerate(items, start=1):
        parts = urlsplit(item)
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme not in ("http", "https") or not parts.hostname or port is None or parts.path not in ("", "/"):
            raise SettingsError(
                f"{name} item {position} of {len(items)} is not a proxy URL; write comma-separated "
                "http://[user:pass@]host:port URLs."
            )
    return tuple(item.rstrip("/") for item in items)


@dataclass(frozen=True, slots=True)
class _UrlSetting:
    """What a deployment URL setting accepts, and the sentence that names it when the value does not fit."""

    schemes: tuple[str, ...] | None  # None: any scheme
    located: Callable[[SplitResult], bool]  # what it must have besides its scheme (a host, a bucket...)
    problem: str  # follows the variable's name; {schemes} lists the schemes
    drivers: bool = False  # the scheme may name a driver after a "+" (postgresql+psycopg2://)
    secret: bool = True  # the value may hold a token or password: the sentence names the variable only
    trailing_slash: bool = True  # False: a trailing "/" is dropped


#: The deployment URLs, one rule each: a new one is a row here and a field of :class:`Settings`.
_URL_SETTINGS: dict[str, _UrlSetting] = {
    WEBHOOK_URL: _UrlSetting(
        None,
        lambda parts: bool(parts.netloc or parts.path),
        "is not a URL; set it to an https:// webhook or any alert channel URL (e.g. slack://..., mailto://..., see "
        "docs/alerts.md), or unset it.",
    ),
    WRITER_LOCK_URL: _UrlSetting(
        ("postgresql", "postgres"),
        lambda parts: bool(parts.netloc or parts.query),
        "is not a PostgreSQL URL; set it to postgresql://user@host:5432/database, or unset it to rely on the "
        "warehouse file's own lock (one machine).",
        drivers=True,
    ),
    STAGING_URL: _UrlSetting(
        ("s3",),
        lambda parts: bool(parts.netloc),
        "is not an s3://bucket/prefix URL; set one (the endpoint and credentials come from the AWS_* variables), "
        "or unset it to stage batches under the data dir.",
        secret=False,
        trailing_slash=False,
    ),
    CELERY_BROKER: _UrlSetting(
        ("redis", "rediss", "amqp", "amqps", "pyamqp"),
        lambda parts: True,
        "is not a URL Celery can use here; start it with one of {schemes}, or unset it.",
    ),
    CELERY_BACKEND: _UrlSetting(
        ("redis", "rediss", "rpc", "db+postgresql", "db+sqlite"),
        lambda parts: True,
        "is not a URL Celery can use here; start it with one of {schemes}, or unset it.",
    ),
}


def _url(raw: _Raw, name: str) -> str | None:
    """The URL setting ``name`` (None when unset), checked against its rule in ``_URL_SETTINGS``."""
    rule = _URL_SETTINGS[name]
    text = raw.text(name)
    if not text:
        return None
    parts = urlsplit(text)
    scheme = parts.scheme.split("+", 1)[0] if rule.drivers else parts.scheme
    fits = bool(scheme) if rule.schemes is None else scheme in rule.schemes
    if not fits or not rule.located(parts):
        shown = name if rule.secret else f"{name}={text!r}"
        schemes = ", ".join(s + "://" for s in rule.schemes or ())
        raise SettingsError(f"{shown} {rule.problem.format(schemes=schemes)}")
    return text if rule.trailing_slash else text.rstrip("/")


def _parse(raw: _Raw, cwd: Path) -> Settings:
    data = _path(raw, DATA_DIR, cwd / DEFAULT_DATA_DIR, cwd)
    now_text = raw.text(NOW)
    cadence_text = raw.text(AUTO_CADENCE)
    try:
        now = parse_instant(now_text, NOW) if now_text else None
        cadence = parse_auto_cadence(cadence_text) if cadence_text else DEFAULT_AUTO_CADENCE
    except ValueError as error:
        raise SettingsError(str(error)) from None
    return Settings(
        data_dir=data,
        warehouse_path=_path(raw, WAREHOUSE, data / "warehouse.duckdb", cwd),
        analytics_path=_path(raw, ANALYTICS, data / "analytics.duckdb", cwd),
        offline=_flag(raw, OFFLINE),
        lock_timeout_s=_lock_timeout(raw),
        duckdb_memory_limit=_memory_limit(raw),
        duckdb_temp_dir=_path(raw, DUCKDB_TEMP_DIR, data / "duckdb_tmp", cwd),
        now=now,
        auto_cadence=cadence,
        min_success_share=_share(raw),
        retry_base_minutes=_positive(raw, RETRY_BASE_MINUTES, DEFAULT_RETRY_BASE_MINUTES),
        retry_cap_minutes=_positive(raw, RETRY_CAP_MINUTES, DEFAULT_RETRY_CAP_MINUTES),
        momentum_factor=_positive(raw, MOMENTUM_FACTOR, DEFAULT_MOMENTUM_FACTOR),
        momentum_min_views_per_hour=_positive(raw, MOMENTUM_MIN_VIEWS_PER_HOUR, DEFAULT_MOMENTUM_MIN_VIEWS_PER_HOUR),
        api_rate_per_min=_api_rate(raw),
        platforms=tuple(_platform(raw, p, cwd) for p in Platform),
        webhook_url=_url(raw, WEBHOOK_URL),
        dbt_runner=_dbt_runner(raw),
        writer_lock_url=_url(raw, WRITER_LOCK_URL),
        staging_url=_url(raw, STAGING_URL),
        celery_broker=_url(raw, CELERY_BROKER),
        run_retention_days=_positive(raw, RUN_RETENTION_DAYS, DEFAULT_RUN_RETENTION_DAYS),
        celery_backend=_url(raw, CELERY_BACKEND),
        timezone=_timezone(raw),
    )
