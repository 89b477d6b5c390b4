"""Alert rules: the kinds, their parameters and defaults, and scopes. Plain Python, no Dagster, no DuckDB.

A rule is stored in ``registry.alert_rules`` (see :mod:`viewtrail.alerts.store`); this module only knows
what a valid rule is. docs/alerts.md documents every kind and default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from viewtrail.domain.errors import InvalidInputError

KINDS = ("spike", "milestone", "unavailable", "stalled", "goal", "scrape_health")
SCOPE_KINDS = ("all", "label", "account", "platform", "videos")

#: Spike defaults are the momentum sensor's (VIEWTRAIL_MOMENTUM_FACTOR / _MIN_VIEWS_PER_HOUR defaults).
DEFAULT_SPIKE_FACTOR = 3.0
DEFAULT_SPIKE_MIN_VIEWS_PER_HOUR = 100.0
DEFAULT_MILESTONES = (10_000, 100_000, 1_000_000, 10_000_000)
#: ``not_found``/``private`` attempts in a row before a video counts as gone (one can be a platform hiccup).
DEFAULT_UNAVAILABLE_AFTER = 2
DEFAULT_STALLED_VIEWS_PER_DAY = 10.0
DEFAULT_STALLED_DAYS = 3
#: scrape_health: success share over the last N hours (the snapshot check's VIEWTRAIL_MIN_SUCCESS_SHARE default).
DEFAULT_HEALTH_MIN_SHARE = 0.9
DEFAULT_HEALTH_HOURS = 3
DEFAULT_HEALTH_MIN_ATTEMPTS = 10

#: Hours during which the same condition does not fire again (milestone and unavailable fire once anyway).
DEFAULT_COOLDOWN_HOURS = {
    "spike": 24.0,
    "milestone": 0.0,
    "unavailable": 0.0,
    "stalled": 24.0,
    "goal": 24.0,
    "scrape_health": 6.0,
}

_SUFFIXES = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


@dataclass(frozen=True, slots=True)
class Scope:
    kind: str = "all"  # one of SCOPE_KINDS
    values: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "all":
            return "everything"
        if self.kind == "videos":
            return (
                f"{len(self.values)} video(s): "
                + ", ".join(self.values[:3])
                + (", ..." if len(self.values) > 3 else "")
            )
        return f"{self.kind} {', '.join(self.values)}"


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: int
    kind: str
    scope: Scope
    params: dict[str, Any] = field(default_factory=dict)
    channels: tuple[str, ...] = ()
    cooldown_hours: float = 24.0
    created_at: datetime = datetime(1970, 1, 1)

    def describe(self) -> str:
        """One line: kind, parameters, scope."""
        p = self.params
        if self.kind == "spike":
            what = f"views/h >= {p['factor']:g}x baseline and >= {p['min_views_per_hour']:g}/h"
        elif self.kind == "milestone":
            what = "views cross " + ", ".join(human_count(t) for t in p["thresholds"])
        elif self.kind == "unavailable":
            what = f"not_found/private {p['after']} time(s) in a row"
        elif self.kind == "stalled":
            what = f"< {p['max_views_per_day']:g} views/day for {p['days']} day(s)"
        elif self.kind == "goal":
            what = f"{human_count(p['target'])} views by {p['by']}"
        else:
            what = f"success share < {p['min_share']:g} over {p['hours']} h, or quota exhausted"
        return f"{self.kind}: {what} ({self.scope.describe()})"


def human_count(value: float | int | None) -> str:
    """10000 -> 10k, 1500000 -> 1.5M."""
    if value is None:
        return "-"
    for suffix, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            text = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return text + suffix
    return f"{value:g}" if isinstance(value, float) else str(value)


def parse_count(text: str, what: str = "--threshold") -> float:
    """'10k', '1.5M', '2500' -> a number; one-sentence error otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMbB]?)\s*", str(text))
    if not match:
        raise InvalidInputError(f"{what} {text!r} is not a number; use e.g. 2500, 10k or 1.5M.")
    return float(match.group(1)) * _SUFFIXES.get(match.group(2).lower(), 1)


def _positive(value: Any, what: str) -> float:
    number = float(value)
    if not number > 0:
        raise InvalidInputError(f"{what} must be a positive number, not {value!r}.")
    return number


def build_params(
    kind: str,
    *,
    thresholds: list[str] | None = None,
    floor: str | None = None,
    days: int | None = None,
    hours: int | None = None,
    by: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """The stored parameters of a rule of ``kind`` from the CLI's options, defaults filled in. Adding a rule passes
    ``today`` (the project's clock): a goal's ``--by`` before it is refused."""
    thresholds = thresholds or []
    if kind not in KINDS:
        raise InvalidInputError(f"{kind!r} is not an alert kind; use one of {', '.join(KINDS)}.")
    one = None
    if kind not in ("milestone",) and len(thresholds) > 1:
        raise InvalidInputError(f"A {kind} rule takes one --threshold, not {len(thresholds)}.")
    if thresholds and kind != "milestone":
        one = thresholds[0]
    if kind == "spike":
        return {
            "factor": _positive(parse_count(one), "--threshold (the spike factor)") if one else DEFAULT_SPIKE_FACTOR,
            "min_views_per_hour": _positive(parse_count(floor, "--floor"), "--floor")
            if floor
            else DEFAULT_SPIKE_MIN_VIEWS_PER_HOUR,
        }
    if kind == "milestone":
        values = sorted({int(parse_count(t)) for t in thresholds}) if thresholds else list(DEFAULT_MILESTONES)
        if any(v <= 0 for v in values):
            raise InvalidInputError("Milestone thresholds must be positive view counts, e.g. --threshold 50k.")
        return {"thresholds": values}
    if kind == "unavailable":
        after = int(one and parse_count(one) or DEFAULT_UNAVAILABLE_AFTER)
        if after < 1:
            raise InvalidInputError("--threshold for unavailable is how many not_found attempts in a row, at least 1.")
        return {"after": after}
    if kind == "stalled":
        max_per_day = parse_count(one) if one else DEFAULT_STALLED_VIEWS_PER_DAY
        n = days if days is not None else DEFAULT_STALLED_DAYS
        if n < 1:
            raise InvalidInputError("--days must be at least 1.")
        return {"max_views_per_day": max_per_day, "days": int(n)}
    if kind == "goal":
        if not one:
            raise InvalidInputError("A goal needs --threshold, the total views to reach (e.g. --threshold 1M).")
        if not by:
            raise InvalidInputError("A goal needs --by, the date to reach it by (e.g. --by 2027-03-31).")
        try:
            deadline = date.fromisoformat(by.strip())
        except ValueError:
            raise InvalidInputError(f"--by {by!r} is not a date; use YYYY-MM-DD, e.g. 2027-03-31.") from None
        if today is not None and deadline < today:  # a goal already past can only ever be missed
            raise InvalidInputError(
                f"--by {deadline.isoformat()} is in the past (today is {today.isoformat()} UTC); give a date from "
                f"today on."
            )
        return {"target": int(_positive(parse_count(one), "--threshold")), "by": deadline.isoformat()}
    # scrape_health
    share = float(one) if one else DEFAULT_HEALTH_MIN_SHARE
    if not 0 < share <= 1:
        raise InvalidInputError(f"--threshold for scrape_health is a success share between 0 and 1, not {one!r}.")
    n_hours = hours if hours is not None else DEFAULT_HEALTH_HOURS
    if n_hours < 1:
        raise InvalidInputError("--hours must be at least 1.")
    return {"min_share": share, "hours": int(n_hours), "min_attempts": DEFAULT_HEALTH_MIN_ATTEMPTS}


def build_scope(
    *,
    labels: list[str] | None = None,
    accounts: list[str] | None = None,
    platforms: list[str] | None = None,
    videos: list[str] | None = None,
) -> Scope:
    given = [
        (k, v) for k, v in (("label", labels), ("account", accounts), ("platform", platforms), ("videos", videos)) if v
    ]
    if len(given) > 1:
        raise InvalidInputError("Give one scope: --label, --account, --platform or --video (repeatable), not several.")
    if not given:
        return Scope()
    kind, values = given[0]
    return Scope(kind, tuple(dict.fromkeys(v.strip() for v in values if v.strip())))


def validate_rule(kind: str, scope: Scope) -> None:
    if kind == "goal" and scope.kind not in ("label", "account"):
        raise InvalidInputError("A goal is about a label's or an account's total views: give --label or --account.")
    if kind == "goal" and len(scope.values) != 1:
        raise InvalidInputError("A goal takes exactly one --label or --account.")
    if kind == "scrape_health" and scope.kind not in ("all", "platform"):
        raise InvalidInputError("scrape_health watches platforms: give --platform or no scope.")


def default_cooldown(kind: str) -> float:
    return DEFAULT_COOLDOWN_HOURS[kind]
