"""Rule evaluation: mart rows in, new alert events out. Pure: no Dagster, no DuckDB, no clock of its own.

Every kind turns the mart rows into *candidates*, each with the instant the condition happened
(``occurred_at``) and a dedup key naming the condition (a video's spike on one day, a milestone threshold, one
streak of ``not_found``...). :func:`select_new` keeps a candidate when

- its dedup key never fired (so a milestone fires once per threshold, an unavailability once per episode),
- it happened after the rule was created (a new rule does not flood you with history) and within the catch-up
  window (``MAX_CATCH_UP``: a pipeline down for weeks does not wake up with a month of spikes), and
- for kinds with a cooldown, no event of the same rule, condition and subject happened within the cooldown
  before it.

Because candidates come from the marts' daily history, one evaluation after a long backfill (the demo) finds what
happened during the whole window, with the day it happened; hourly evaluations find the same events one at a time.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from viewtrail.alerts.rules import Rule, human_count

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MAX_CATCH_UP = timedelta(days=30)
#: A day's rate is judged only when at least this much of it was observed (a spike on 20 minutes is noise).
MIN_RATE_HOURS = 3.0
#: The spike baseline: the video's own rate over the (up to) 7 days before the day judged, at least 24 h of it.
BASELINE_DAYS = 7
MIN_BASELINE_HOURS = 24.0
GOAL_RATE_DAYS = 7
#: Outcomes that mean the video is gone or hidden (``geo_restricted`` is neither: the post exists elsewhere).
GONE_OUTCOMES = frozenset({"not_found", "private"})
KINDS_WITH_COOLDOWN = frozenset({"spike", "stalled", "goal", "scrape_health"})


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
    """What the rules read, from the marts (and raw.scrape_attempts for scrape health) of the analyst copy."""

    videos: dict[str, VideoInfo] = field(default_factory=dict)
    daily: dict[str, list[DayPoint]] = field(default_factory=dict)  # per video, sorted by day
    gone: dict[str, GoneStreak] = field(default_factory=dict)
    health: list[HealthHour] = field(default_factory=list)
    label_daily: dict[str, list[DayPoint]] = field(default_factory=dict)
    account_daily: dict[str, list[DayPoint]] = field(default_factory=dict)  # key "platform:account"


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


@dataclass(frozen=True, slots=True)
class FiredBefore:
    """What is already stored about past events: their dedup keys and, per cooldown subject, the latest one."""

    dedup_keys: frozenset[str] = frozenset()
    latest: dict[tuple[int, str, str], datetime] = field(default_factory=dict)  # (rule, condition, subject)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time())


# --------------------------------------------------------------------------------------------------- scopes


def _in_scope(rule: Rule, video: VideoInfo) -> bool:
    kind, values = rule.scope.kind, rule.scope.values
    if kind == "all":
        return True
    if kind == "label":
        return any(v in video.labels for v in values)
    if kind == "account":
        return any(
            (v.split(":", 1)[1] if ":" in v else v).lstrip("@") == (video.account or "")
            and (":" not in v or v.split(":", 1)[0] == video.platform)
            for v in values
        )
    if kind == "platform":
        return video.platform in values
    return video.video_id in values


def _videos(rule: Rule, inputs: AlertInputs) -> Iterable[VideoInfo]:
    return (v for v in inputs.videos.values() if _in_scope(rule, v))


def _video_fields(video: VideoInfo) -> dict[str, Any]:
    return {
        "video_id": video.video_id,
        "platform": video.platform,
        "account": video.account,
        "label": ",".join(video.labels) or None,
    }


# --------------------------------------------------------------------------------------------------- kinds


def _day_end(point: DayPoint, video: VideoInfo) -> datetime:
    """The instant a day's value holds for: 24:00, or the last snapshot on the video's last (unfinished) day."""
    end = _day_start(point.day) + DAY
    last = video.last_observed_at
    return last if last is not None and _day_start(point.day) <= last < end else end


def _spike(rule: Rule, inputs: AlertInputs) -> list[Candidate]:
    factor, floor = float(rule.params["factor"]), float(rule.params["min_views_per_hour"])
    out = []
    for video in _videos(rule, inputs):
        points = inputs.daily.get(video.video_id, [])
        by_day = {p.day: p for p in points}
        for point in points:
            if point.views is None or point.observations == 0:
                continue
            start, end = _day_start(point.day), _day_end(point, video)
            posted = video.posted_at
            if posted is not None and posted >= start:  # posted that day: it started from 0 at posting
                from_at, from_views, baseline = posted, 0, 0.0
            else:
                previous = by_day.get(point.day - DAY)
                if previous is None or previous.views is None:
                    continue
                from_at, from_views = start, previous.views
                baseline = _baseline(by_day, point.day, video)
                if baseline is None:
                    continue
            hours = (end - from_at).total_seconds() / 3600
            if hours < MIN_RATE_HOURS:
                continue
            rate = (point.views - from_views) / hours
            if rate >= floor and rate >= factor * max(baseline, 0.0):
                out.append(
                    Candidate(
                        rule.rule_id,
                        "spike",
                        "spike",
                        video.video_id,
                        f"spike:{rule.rule_id}:{video.video_id}:{point.day.isoformat()}",
                        end,
                        {
                            "views_per_hour": round(rate, 1),
                            "baseline_views_per_hour": round(max(baseline, 0.0), 1),
                            "factor": factor,
                            "views": point.views,
                            "day": point.day.isoformat(),
                        },
                        **_video_fields(video),
                    )
                )
    return out


def _baseline(by_day: dict[date, DayPoint], day: date, video: VideoInfo) -> float | None:
    """Views per hour over the up to BASELINE_DAYS days before ``day`` (at least MIN_BASELINE_HOURS of them)."""
    start = _day_start(day)
    end_views = by_day[day - DAY].views
    window_start = start - BASELINE_DAYS * DAY
    if video.posted_at is not None and video.posted_at >= window_start:
        ref_at, ref_views = video.posted_at, 0
    else:
        ref_at, ref_views = None, None
        for back in range(BASELINE_DAYS + 1, 1, -1):  # the earliest day end inside the window
            point = by_day.get(day - back * DAY)
            if point is not None and point.views is not None:
                ref_at, ref_views = _day_start(point.day) + DAY, point.views
                break
    if ref_at is None or end_views is None or ref_views is None:
        return None
    hours = (start - ref_at).total_seconds() / 3600
    if hours < MIN_BASELINE_HOURS:
        return None
    return (end_views - ref_views) / hours


def _milestone(rule: Rule, inputs: AlertInputs) -> list[Candidate]:
    thresholds = [int(t) for t in rule.params["thresholds"]]
    out = []
    for video in _videos(rule, inputs):
        previous: int | None = None
        for index, point in enumerate(inputs.daily.get(video.video_id, [])):
            if index == 0:
                posted = video.posted_at
                previous = 0 if posted is not None and posted >= _day_start(point.day) else None
            if point.views is None:
                continue
            if previous is not None:
                for threshold in thresholds:
                    if previous < threshold <= point.views:
                        out.append(
                            Candidate(
                                rule.rule_id,
                                "milestone",
                                "milestone",
                                video.video_id,
                                f"milestone:{rule.rule_id}:{video.video_id}:{threshold}",
                                _day_end(point, video),
                                {"threshold": threshold, "views": point.views, "day": point.day.isoformat()},
                                **_video_fields(video),
                            )
                        )
            previous = point.views
    return out


def _unavailable(rule: Rule, inputs: AlertInputs) -> list[Candidate]:
    after = int(rule.params["after"])
    out = []
    for video in _videos(rule, inputs):
        streak = inputs.gone.get(video.video_id)
        if streak is None or streak.attempts < after or streak.outcome not in GONE_OUTCOMES:
            continue
        out.append(
            Candidate(
                rule.rule_id,
                "unavailable",
                "unavailable",
                video.video_id,
                f"unavailable:{rule.rule_id}:{video.video_id}:{streak.since.isoformat()}",
                streak.since,
                {"outcome": streak.outcome, "attempts": streak.attempts, "since": streak.since.isoformat()},
                **_video_fields(video),
            )
        )
    return out


def _stalled(rule: Rule, inputs: AlertInputs) -> list[Candidate]:
    limit, days = float(rule.params["max_views_per_day"]), int(rule.params["days"])
    out = []
    for video in _videos(rule, inputs):
        if not video.is_active or video.availability != "available":
            continue
        run: list[DayPoint] = []
        for point in inputs.daily.get(video.video_id, []):
            complete = video.last_observed_at is not None and _day_start(point.day) + DAY <= video.last_observed_at
            if not complete:
                break
            if point.views_gained is None or point.views_gained >= limit:
                run = []
                continue
            if run and run[-1].day != point.day - DAY:
                run = []
            run.append(point)
            if len(run) == days:
                out.append(
                    Candidate(
                        rule.rule_id,
                        "stalled",
                        "stalled",
                        video.video_id,
                        f"stalled:{rule.rule_id}:{video.video_id}:{run[0].day.isoformat()}",
                        _day_start(point.day) + DAY,
                        {
                            "days": days,
                            "views_gained": [p.views_gained for p in run],
                            "max_views_per_day": limit,
                            "views": point.views,
                            "since": run[0].day.isoformat(),
                        },
                        **_video_fields(video),
                    )
                )
    return out


def _goal(rule: Rule, inputs: AlertInputs, now: datetime) -> list[Candidate]:
    target, deadline = int(rule.params["target"]), date.fromisoformat(rule.params["by"])
    name = rule.scope.values[0]
    if rule.scope.kind == "label":
        points, subject, extra = inputs.label_daily.get(name, []), f"label:{name}", {"label": name}
    else:
        key = (
            name
            if ":" in name
            else next((k for k in inputs.account_daily if k.split(":", 1)[1] == name.lstrip("@")), name)
        )
        points, subject = inputs.account_daily.get(key, []), f"account:{key}"
        platform, _, handle = key.partition(":")
        extra = {"account": handle or key, "platform": platform if handle else None}
    points = [p for p in points if p.views is not None]
    if not points:
        return []
    out = []
    previous = None
    for point in points:
        if previous is not None and previous < target <= point.views:  # type: ignore[operator]
            out.append(
                Candidate(
                    rule.rule_id,
                    "goal",
                    "reached",
                    subject,
                    f"goal:{rule.rule_id}:reached",
                    min(_day_start(point.day) + DAY, now),
                    {
                        "target": target,
                        "by": deadline.isoformat(),
                        "views": point.views,
                        "day": point.day.isoformat(),
                        "on_time": point.day <= deadline,
                    },
                    **extra,
                )
            )
            return out
        previous = point.views
    last = points[-1]
    if last.views >= target or last.day > deadline:  # type: ignore[operator]
        return out
    earlier = [p for p in points if p.day <= last.day - GOAL_RATE_DAYS * DAY] or points[:1]
    ref = earlier[-1]
    span = (last.day - ref.day).days
    rate = (last.views - ref.views) / span if span > 0 else 0.0  # type: ignore[operator]
    projected = last.day + timedelta(days=(target - last.views) / rate) if rate > 0 else None  # type: ignore[operator]
    if projected is None or projected > deadline:
        out.append(
            Candidate(
                rule.rule_id,
                "goal",
                "behind",
                subject,
                f"goal:{rule.rule_id}:behind:{last.day.isoformat()}",
                min(_day_start(last.day) + DAY, now),
                {
                    "target": target,
                    "by": deadline.isoformat(),
                    "views": last.views,
                    "views_per_day": round(rate, 1),
                    "projected": projected.isoformat() if projected else None,
                },
                **extra,
            )
        )
    return out


def _scrape_health(rule: Rule, inputs: AlertInputs) -> list[Candidate]:
    min_share, hours = float(rule.params["min_share"]), int(rule.params["hours"])
    min_attempts = int(rule.params.get("min_attempts", 1))
    by_platform: dict[str, dict[datetime, HealthHour]] = defaultdict(dict)
    for row in inputs.health:
        if rule.scope.kind == "all" or row.platform in rule.scope.values:
            by_platform[row.platform][row.hour] = row
    out = []
    for platform, hours_seen in sorted(by_platform.items()):
        for hour in sorted(hours_seen):
            row = hours_seen[hour]
            end = hour + HOUR
            if row.quota_exhausted:
                out.append(
                    Candidate(
                        rule.rule_id,
                        "scrape_health",
                        "quota",
                        f"platform:{platform}",
                        f"scrape_health:{rule.rule_id}:{platform}:quota:{hour.isoformat()}",
                        end,
                        {"quota_exhausted_attempts": row.quota_exhausted, "hour": hour.isoformat()},
                        platform=platform,
                    )
                )
            window = [hours_seen[h] for h in (hour - i * HOUR for i in range(hours)) if h in hours_seen]
            attempts = sum(r.attempts for r in window)
            if attempts < min_attempts:
                continue
            share = sum(r.succeeded for r in window) / attempts
            if share < min_share:
                out.append(
                    Candidate(
                        rule.rule_id,
                        "scrape_health",
                        "share",
                        f"platform:{platform}",
                        f"scrape_health:{rule.rule_id}:{platform}:share:{hour.isoformat()}",
                        end,
                        {
                            "success_share": round(share, 3),
                            "min_share": min_share,
                            "attempts": attempts,
                            "hours": hours,
                            "until": end.isoformat(),
                        },
                        platform=platform,
                    )
                )
    return out


def candidates(rule: Rule, inputs: AlertInputs, now: datetime) -> list[Candidate]:
    """Every instant in the inputs where ``rule``'s condition holds (before dedup and cooldown)."""
    if rule.kind == "spike":
        return _spike(rule, inputs)
    if rule.kind == "milestone":
        return _milestone(rule, inputs)
    if rule.kind == "unavailable":
        return _unavailable(rule, inputs)
    if rule.kind == "stalled":
        return _stalled(rule, inputs)
    if rule.kind == "goal":
        return _goal(rule, inputs, now)
    if rule.kind == "scrape_health":
        return _scrape_health(rule, inputs)
    raise ValueError(f"unknown alert kind {rule.kind!r}")


def select_new(rule: Rule, found: Sequence[Candidate], before: FiredBefore, now: datetime) -> list[Candidate]:
    """The candidates that fire now (see the module doc), oldest first."""
    latest = dict(before.latest)
    cooldown = timedelta(hours=rule.cooldown_hours)
    fired = []
    seen = set(before.dedup_keys)
    for candidate in sorted(found, key=lambda c: (c.occurred_at, c.dedup_key)):
        if candidate.dedup_key in seen:
            continue
        if candidate.occurred_at < rule.created_at or candidate.occurred_at < now - MAX_CATCH_UP:
            continue
        key = (rule.rule_id, candidate.condition, candidate.subject)
        if rule.kind in KINDS_WITH_COOLDOWN and key in latest and candidate.occurred_at < latest[key] + cooldown:
            continue
        seen.add(candidate.dedup_key)
        latest[key] = max(latest.get(key, candidate.occurred_at), candidate.occurred_at)
        fired.append(candidate)
    return fired


def evaluate(rules: Sequence[Rule], inputs: AlertInputs, before: FiredBefore, now: datetime) -> list[Candidate]:
    """The events every rule fires now."""
    fired = []
    for rule in rules:
        fired.extend(select_new(rule, candidates(rule, inputs, now), before, now))
    return fired


def summary_numbers(candidate: Candidate) -> str:
    """The numbers of an event on one line (for the CLI and the demo report)."""
    n = candidate.numbers
    if candidate.kind == "spike":
        return f"{n['views_per_hour']:,.0f} views/h vs {n['baseline_views_per_hour']:,.0f} baseline"
    if candidate.kind == "milestone":
        return f"crossed {human_count(n['threshold'])} ({n['views']:,} views)"
    if candidate.kind == "unavailable":
        return f"{n['outcome']} since {n['since'][:16].replace('T', ' ')}"
    if candidate.kind == "stalled":
        return f"< {n['max_views_per_day']:g} views/day for {n['days']} days"
    if candidate.kind == "goal":
        if candidate.condition == "reached":
            return f"reached {human_count(n['target'])} on {n['day']}"
        return f"{human_count(n['views'])} of {human_count(n['target'])}, projected {n['projected'] or 'never'}"
    if candidate.condition == "quota":
        return "quota exhausted"
    return f"success share {n['success_share']:.0%} < {n['min_share']:.0%} over {n['hours']} h"
