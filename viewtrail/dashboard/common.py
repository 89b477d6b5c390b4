"""What every page handler shares: the services it reads and writes through, the reporting period, query
parsing with a sentence per bad value, and the translation of the layers' errors into pages."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

import duckdb
from fastapi import Request

from viewtrail.api.service import ApiProblem, Service
from viewtrail.clock import utc_now
from viewtrail.domain.errors import ViewtrailError

from .auth import PageError

T = TypeVar("T")
PRESETS = (7, 30, 90)
CACHE_ENTRIES = 64
MAX_RANGE_DAYS = 3 * 366


def service(request: Request) -> Service:
    found: Service = request.app.state.service
    return found


_cache: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
_cache_lock = threading.Lock()


def copy_version(svc: Service) -> tuple[int, int, int] | None:
    """Which analyst copy is published: a build replaces the file (a new inode and mtime), never edits it."""
    try:
        stat = os.stat(svc.settings.analytics_path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def cached(svc: Service, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """``compute()``, remembered for this copy of the marts and ``key``: a page's aggregates over every video are
    computed once per build, not once per view. The result must not be changed by the caller."""
    full = (str(svc.settings.analytics_path), copy_version(svc), *key)
    with _cache_lock:
        if full in _cache:
            _cache.move_to_end(full)
            found: T = _cache[full]
            return found
    value = compute()
    with _cache_lock:
        _cache[full] = value
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
    return value


@contextmanager
def mart_reader(svc: Service) -> Iterator[duckdb.DuckDBPyConnection]:
    """The published analyst copy, read-only, opened for this request as the API's reads open it. Not kept open
    across requests: DuckDB shares one database instance per path within a process, so a kept connection would
    hand the replaced file to every later open of the path, the API's included, after a build publishes."""
    with svc.reader() as con:
        yield con


def shows_simulated(svc: Service) -> bool:
    """Whether the published copy holds simulated snapshots (kept per copy: on real data the check reads every
    snapshot to find none)."""
    from viewtrail.warehouse.activity import has_simulated

    def read() -> bool:
        with mart_reader(svc) as con:
            return has_simulated(con)

    return cached(svc, ("simulated",), read)


def label_choices(svc: Service) -> list[dict[str, Any]]:
    """The labels a filter offers, kept per published copy (a label first used since the last build joins the
    list with the next one)."""
    return cached(svc, ("labels",), svc.labels)


@contextmanager
def user_errors() -> Iterator[None]:
    """The use cases' and the service's one-sentence errors, as a page with the matching status."""
    try:
        yield
    except ApiProblem as error:
        raise PageError(error.status, str(error)) from None
    except ViewtrailError as error:
        raise PageError(400, str(error)) from None


def parse_date(value: str | None, name: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise PageError(400, f"{name} must be a date like 2026-01-31; {value!r} is not.") from None


def parse_int(value: str | None, name: str, *, default: int, low: int, high: int) -> int:
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip())
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        raise PageError(400, f"{name} must be a whole number from {low} to {high}; {value!r} is not.")
    return number


@dataclass(frozen=True, slots=True)
class Period:
    """Days ``start`` to ``end`` (inclusive, UTC); ``preset`` is 7, 30 or 90 when chosen that way."""

    start: date
    end: date
    preset: int | None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1), None)

    @property
    def today(self) -> date:
        return utc_now().date()

    @property
    def partial(self) -> date | None:
        """The running day, when the period includes it."""
        today = self.today
        return today if self.start <= today <= self.end else None


def period(days: str | None, start: str | None, end: str | None, *, default: int = 30) -> Period:
    """The period of ``?days=7|30|90`` or ``?start=&end=`` (a custom range; a missing end is today)."""
    today = utc_now().date()
    first, last = parse_date(start, "start"), parse_date(end, "end")
    if first is not None or last is not None:
        if first is None:
            raise PageError(400, "A custom range needs a start date as well as an end date.")
        last = last or today
        if first > last:
            raise PageError(400, f"The range starts ({first}) after it ends ({last}); swap the dates.")
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise PageError(400, f"A range covers at most {MAX_RANGE_DAYS} days; pick a shorter one.")
        return Period(first, last, None)
    chosen = parse_int(days, "days", default=default, low=1, high=MAX_RANGE_DAYS)
    if chosen not in PRESETS:
        raise PageError(
            400, f"days must be one of {', '.join(map(str, PRESETS))}; for another range use start and end."
        )
    return Period(today - timedelta(days=chosen - 1), today, chosen)
