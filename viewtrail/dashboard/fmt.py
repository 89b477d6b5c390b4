"""Numbers and times for people: thousands separators, compact 1.2M, percentages, changes, UTC stated.

Every template formats through these (registered as Jinja filters), so a page never shows ``1234567.0`` or a
naive timestamp without its zone.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def thousands(value: Any, digits: int = 0) -> str:
    """``1234567`` -> ``1,234,567``; ``None`` -> an en dash."""
    if _missing(value):
        return "–"
    if digits == 0:
        return f"{round(float(value)):,}"
    return f"{float(value):,.{digits}f}"


def compact(value: Any) -> str:
    """``1234567`` -> ``1.2M``, ``12345`` -> ``12.3K``, ``999`` -> ``999``; for cards and axes."""
    if _missing(value):
        return "–"
    number = float(value)
    for size, unit in _UNITS:
        if abs(number) >= size:
            scaled = number / size
            text = f"{scaled:.1f}" if abs(scaled) < 100 else f"{scaled:.0f}"
            return text.removesuffix(".0") + unit
    return f"{round(number):,}"


def percent(value: Any, digits: int = 1) -> str:
    """A share (0.0123) as ``1.2%``."""
    if _missing(value):
        return "–"
    return f"{float(value) * 100:.{digits}f}%"


def change(current: Any, previous: Any) -> tuple[str, str]:
    """The change from ``previous`` to ``current`` as text and a direction (``up``, ``down``, ``flat``, ``none``)."""
    if _missing(current) or _missing(previous) or float(previous) == 0:
        return "no previous period", "none"
    ratio = float(current) / float(previous) - 1
    if abs(ratio) < 0.0005:
        return "±0.0%", "flat"
    return f"{'+' if ratio > 0 else '−'}{abs(ratio) * 100:.1f}%", "up" if ratio > 0 else "down"


def multiplier(value: Any) -> str:
    if _missing(value):
        return "–"
    return f"{float(value):.1f}×"


def utc(value: Any, seconds: bool = False) -> str:
    """A naive-UTC timestamp as ``2026-12-07 13:05 UTC``; a date as ``2026-12-07``."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def money(minor: Any, currency: Any = "") -> str:
    """An amount in integer minor units as ``1,234.50 USD`` (two decimals, as the payout terms count)."""
    if _missing(minor):
        return "–"
    amount = int(minor)
    sign = "−" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100:,}.{abs(amount) % 100:02d} {currency or ''}".rstrip()


FILTERS = {
    "money": money,
    "thousands": thousands,
    "compact": compact,
    "percent": percent,
    "multiplier": multiplier,
    "utc": utc,
}
