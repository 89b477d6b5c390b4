"""stalled: an active, available video gains fewer than X views a day for N complete days in a row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from viewtrail.alerts.kinds.base import AlertKind, Given, one_threshold, video_fields, videos_in_scope
from viewtrail.alerts.model import DAY, AlertInputs, Candidate, DayPoint, Rule, day_start, parse_count
from viewtrail.domain.errors import InvalidInputError

DEFAULT_VIEWS_PER_DAY = 10.0
DEFAULT_DAYS = 3


class Stalled(AlertKind):
    name = "stalled"
    description = "an active, available video gains fewer than X views a day for N complete days in a row"
    threshold_help = "stalled views/day"
    options = {"days": "for this many days in a row (default 3)."}
    defaults_help = "stalled < 10 views/day for 3 days"
    example = "viewtrail alert add stalled --threshold 20 --days 5 --platform youtube"
    reads = frozenset({"daily"})
    cooldown_hours = 24.0

    def params(self, given: Given) -> dict[str, Any]:
        one_threshold(self.name, given)
        one = given.threshold
        max_per_day = parse_count(one) if one else DEFAULT_VIEWS_PER_DAY
        n = given.days if given.days is not None else DEFAULT_DAYS
        if n < 1:
            raise InvalidInputError("--days must be at least 1.")
        return {"max_views_per_day": max_per_day, "days": int(n)}

    def describe(self, params: dict[str, Any]) -> str:
        return f"< {params['max_views_per_day']:g} views/day for {params['days']} day(s)"

    def candidates(self, rule: Rule, inputs: AlertInputs, now: datetime) -> list[Candidate]:
        limit, days = float(rule.params["max_views_per_day"]), int(rule.params["days"])
        out = []
        for video in videos_in_scope(rule, inputs):
            if not video.is_active or video.availability != "available":
                continue
            run: list[DayPoint] = []
            for point in inputs.daily.get(video.video_id, []):
                complete = video.last_observed_at is not None and day_start(point.day) + DAY <= video.last_observed_at
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
                            self.name,
                            "stalled",
                            video.video_id,
                            f"stalled:{rule.rule_id}:{video.video_id}:{run[0].day.isoformat()}",
                            day_start(point.day) + DAY,
                            {
                                "days": days,
                                "views_gained": [p.views_gained for p in run],
                                "max_views_per_day": limit,
                                "views": point.views,
                                "since": run[0].day.isoformat(),
                            },
                            **video_fields(video),
                        )
                    )
        return out

    def summary(self, event: Candidate) -> str:
        n = event.numbers
        return f"< {n['max_views_per_day']:g} views/day for {n['days']} days"

    def what(self, event: Candidate) -> str:
        return f"stalled for {event.numbers['days']} days"


KIND = Stalled()
