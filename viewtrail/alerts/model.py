"""What alert rules are made of and what they read and produce: rules and scopes, the mart rows (inputs), the
events found (candidates), and the number formats every kind shares. Plain data, no kind-specific logic (that is
in :mod:`viewtrail.alerts.kinds`)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from viewtrail.domain.errors import InvalidInputError

if TYPE_CHECKING:
    from viewtrail.warehouse.marts import CampaignTotals, CreatorPayout, GoalStatusRow

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
SCOPE_KINDS = ("all", "label", "account", "platform", "videos")

_SUFFIXES = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


# --------------------------------------------------------------------------------------------------- rules


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
    kind: str  # a name in viewtrail.alerts.kinds.KINDS
    scope: Scope
    params: dict[str, Any] = field(default_factory=dict)
    channels: tuple[str, ...] = ()
    cooldown_hours: float = 24.0
    created_at: datetime = datetime(1970, 1, 1)


# --------------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class VideoInfo:
    video_id: str
    platform: str
    account: str | None = None
    labels: tuple[str, ...] = ()
    url: str | None = None
    title: str | None = None
    is_active: bool = True
    availability: str = "available"
    posted_at: datetime | None = None
    last_observed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DayPoint:
    day: date
    views: int | None
    views_gained: int | None = None
    observations: int = 1


@dataclass(frozen=True, slots=True)
class GoneStreak:
    """The current run of ``not_found``/``private`` attempts of a video (its latest attempts)."""

    video_id: str
    outcome: str  # the latest attempt's
    since: datetime  # the first attempt of the run
    attempts: int  # attempts in the run


@dataclass(frozen=True, slots=True)
class HealthHour:
    platform: str
    hour: datetime  # start of the hour
    attempts: int
    succeeded: int  # ok or a definitive answer about the video (not a transient failure)
    quota_exhausted: int


@dataclass(slots=True)
class AlertInputs:
    """What the rules read, from the marts (and raw.scrape_attempts for scrape health) of the analyst copy.

    ``videos`` (``marts.video_latest``) is always read; a kind names the other fields it reads in
    ``AlertKind.reads`` and :func:`viewtrail.alerts.store.read_inputs` reads only those."""

    videos: dict[str, VideoInfo] = field(default_factory=dict)
    daily: dict[str, list[DayPoint]] = field(default_factory=dict)  # marts.video_daily, per video, sorted by day
    gone: dict[str, GoneStreak] = field(default_factory=dict)  # raw.scrape_attempts
    health: list[HealthHour] = field(default_factory=list)  # raw.scrape_attempts, per platform and hour
    label_daily: dict[str, list[DayPoint]] = field(default_factory=dict)  # marts.label_daily
    account_daily: dict[str, list[DayPoint]] = field(default_factory=dict)  # marts.account_daily, "platform:account"
    goal_status: list[GoalStatusRow] = field(default_factory=list)  # marts.creator_goal_status
    campaigns: list[CampaignTotals] = field(default_factory=list)  # marts.campaign_latest
    payouts: list[CreatorPayout] = field(default_factory=list)  # marts.creator_payouts


# --------------------------------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Candidate:
    rule_id: int
    kind: str
    condition: str  # what exactly: spike, milestone, unavailable, stalled, reached, behind, share, quota
    subject: str  # what it is about: a video id, label:NAME, account:PLATFORM:HANDLE, platform:NAME
    dedup_key: str
    occurred_at: datetime
    numbers: dict[str, Any]
    video_id: str | None = None
    label: str | None = None
    account: str | None = None
    platform: str | None = None

    @property
    def event_id(self) -> str:
        return event_id_of(self.dedup_key)


def event_id_of(dedup_key: str) -> str:
    return hashlib.sha256(dedup_key.encode()).hexdigest()[:12]


def day_start(day: date) -> datetime:
    return datetime.combine(day, time())


# --------------------------------------------------------------------------------------------------- numbers


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


def positive(value: Any, what: str) -> float:
    number = float(value)
    if not number > 0:
        raise InvalidInputError(f"{what} must be a positive number, not {value!r}.")
    return number
