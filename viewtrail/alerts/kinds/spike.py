"""spike: a day's views per hour reach a factor of the video's own recent rate (and a floor)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from viewtrail.alerts.kinds.base import AlertKind, Given, day_end, one_threshold, video_fields, videos_in_scope
from viewtrail.alerts.model import (
    DAY,
    AlertInputs,
    Candidate,
    DayPoint,
    Rule,
    VideoInfo,
    day_start,
    parse_count,
    positive,
)

#: Defaults are the momentum sensor's (VIEWTRAIL_MOMENTUM_FACTOR / _MIN_VIEWS_PER_HOUR defaults).
DEFAULT_FACTOR = 3.0
DEFAULT_MIN_VIEWS_PER_HOUR = 100.0
#: A day's rate is judged only when at least this much of it was observed (a spike on 20 minutes is noise).
MIN_RATE_HOURS = 3.0
#: The baseline: the video's own rate over the (up to) 7 days before the day judged, at least 24 h of it.
BASELINE_DAYS = 7
MIN_BASELINE_HOURS = 24.0


class Spike(AlertKind):
    name = "spike"
    description = "a video's views per hour reach a factor of its own rate over the previous 7 days"
    threshold_help = "spike factor"
    options = {"floor": "at least this many views per hour (default 100)."}
    defaults_help = "spike 3x the video's own rate over the previous 7 days and >= 100 views/h"
    example = "viewtrail alert add spike --label launch --channel team-slack"
    reads = frozenset({"daily"})
    history_days = BASELINE_DAYS + 2
    cooldown_hours = 24.0

    def params(self, given: Given) -> dict[str, Any]:
        one_threshold(self.name, given)
        one = given.threshold
        return {
            "factor": positive(parse_count(one), "--threshold (the spike factor)") if one else DEFAULT_FACTOR,
            "min_views_per_hour": positive(parse_count(given.floor, "--floor"), "--floor")
            if given.floor
            else DEFAULT_MIN_VIEWS_PER_HOUR,
        }

    def describe(self, params: dict[str, Any]) -> str:
        return f"views/h >= {params['factor']:g}x baseline and >= {params['min_views_per_hour']:g}/h"

    def candidates(self, rule: Rule, inputs: AlertInputs, now: datetime) -> list[Candidate]:
        factor, floor = float(rule.params["factor"]), float(rule.params["min_views_per_hour"])
        out = []
        for video in videos_in_scope(rule, inputs):
            points = inputs.daily.get(video.video_id, [])
            by_day = {p.day: p for p in points}
            for point in points:
                if point.views is None or point.observations == 0:
                    continue
                start, end = day_start(point.day), day_end(point, video)
                posted = video.posted_at
                if posted is not None and posted >= start:  # posted that day: it started from 0 at posting
                    from_at, from_views, baseline = posted, 0, 0.0
                else:
                    previous = by_day.get(point.day - DAY)
                    if previous is None or previous.views is None:
                        continue
                    from_at, from_views = start, previous.views
                    found = _baseline(by_day, point.day, video)
                    if found is None:
                        continue
                    baseline = found
                hours = (end - from_at).total_seconds() / 3600
                if hours < MIN_RATE_HOURS:
                    continue
                rate = (point.views - from_views) / hours
                if rate >= floor and rate >= factor * max(baseline, 0.0):
                    out.append(
                        Candidate(
                            rule.rule_id,
                            self.name,
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
                            **video_fields(video),
                        )
                    )
        return out

    def summary(self, event: Candidate) -> str:
        n = event.numbers
        return f"{n['views_per_hour']:,.0f} views/h vs {n['baseline_views_per_hour']:,.0f} baseline"

    def what(self, event: Candidate) -> str:
        return "is taking off"

    def details(self, event: Candidate) -> list[str]:
        return [f"{event.numbers['views']:,} views in total."]


def _baseline(by_day: dict[date, DayPoint], day: date, video: VideoInfo) -> float | None:
    """Views per hour over the up to BASELINE_DAYS days before ``day`` (at least MIN_BASELINE_HOURS of them)."""
    start = day_start(day)
    end_views = by_day[day - DAY].views
    window_start = start - BASELINE_DAYS * DAY
    if video.posted_at is not None and video.posted_at >= window_start:
        ref_at, ref_views = video.posted_at, 0
    else:
        ref_at, ref_views = None, None
        for back in range(BASELINE_DAYS + 1, 1, -1):  # the earliest day end inside the window
            point = by_day.get(day - back * DAY)
            if point is not None and point.views is not None:
                ref_at, ref_views = day_start(point.day) + DAY, point.views
                break
    if ref_at is None or end_views is None or ref_views is None:
        return None
    hours = (start - ref_at).total_seconds() / 3600
    if hours < MIN_BASELINE_HOURS:
        return None
    return (end_views - ref_views) / hours


KIND = Spike()
