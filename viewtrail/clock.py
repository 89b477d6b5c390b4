"""The one clock: every "now" in viewtrail comes from :func:`utc_now`.

All instants are naive and mean UTC, like the warehouse's ``TIMESTAMP`` columns. The clock follows the
system clock unless it is shifted: ``VIEWTRAIL_NOW`` (an ISO instant, taken from ``config.settings()`` at the
process's first call, which measures the offset once) or :func:`pinned` (tests) make it start at a chosen
instant and run on from there, so a scenario can be replayed at any date and nothing depends on the day it runs.

:func:`parse_instant` (the grammar of ``VIEWTRAIL_NOW`` and ``--since``) lives in :mod:`viewtrail.domain.instants`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from viewtrail import config

NOW_ENV = config.NOW
HOUR = timedelta(hours=1)
PARTITION_KEY_FORMAT = "%Y-%m-%d-%H:%M"

_UNSET = object()
_offset: object | timedelta = _UNSET


def system_now() -> datetime:
    """The machine's clock, naive UTC (what the shifted clock is measured against)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _current_offset() -> timedelta:
    global _offset
    if _offset is _UNSET:
        start = config.settings().now  # validated there with parse_instant's sentence
        _offset = start - system_now() if start is not None else timedelta(0)
    assert isinstance(_offset, timedelta)
    return _offset


def utc_now() -> datetime:
    """Now, naive UTC, from the system clock shifted by ``VIEWTRAIL_NOW`` or :func:`pinned`."""
    return system_now() + _current_offset()


@contextmanager
def pinned(at: datetime) -> Iterator[None]:
    """Within the block the clock starts at ``at`` (naive UTC) and runs on from there."""
    global _offset
    previous = _offset
    _offset = at - system_now()
    try:
        yield
    finally:
        _offset = previous


def naive_utc(at: datetime) -> datetime:
    """``at`` as naive UTC (an aware instant converted; a naive one is taken as UTC already)."""
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo is not None else at


def hour_start(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def last_complete_hour(now: datetime | None = None) -> datetime:
    """The start of the last hour that has fully ended (the newest hourly partition)."""
    return hour_start(now or utc_now()) - HOUR


def partition_key(hour: datetime) -> str:
    """The hourly partition key of the hour starting at ``hour``, e.g. ``2026-11-20-13:00``."""
    return hour_start(hour).strftime(PARTITION_KEY_FORMAT)
