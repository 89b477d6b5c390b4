"""milestone: a video's views cross a threshold while tracked (once per threshold)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from viewtrail.alerts.kinds.base import AlertKind, Given, day_end, video_fields, videos_in_scope
from viewtrail.alerts.model import AlertInputs, Candidate, Rule, day_start, human_count, parse_count
from viewtrail.domain.errors import InvalidInputError

DEFAULT_THRESHOLDS = (10_000, 100_000, 1_000_000, 10_000_000)


class Milestone(AlertKind):
    name = "milestone"
    description = "a video's views cross a threshold between two days (or since posting) while tracked"
    threshold_help = "milestone views (repeatable; 10k, 1M)"
    many_thresholds = True
    defaults_help = "milestones 10k, 100k, 1M, 10M (once each)"
    example = "viewtrail alert add milestone --threshold 50k --threshold 250k --account tiktok:scout2015"
    reads = frozenset({"daily"})
    cooldown_hours = 0.0
    has_cooldown = False  # once per threshold and video, by its dedup key

    def params(self, given: Given) -> dict[str, Any]:
        values = (
            sorted({int(parse_count(t)) for t in given.thresholds}) if given.thresholds else list(DEFAULT_THRESHOLDS)
        )
        if any(v <= 0 for v in values):
            raise InvalidInputError("Milestone thresholds must be positive view counts, e.g. --threshold 50k.")
        return {"thresholds": values}

    def describe(self, params: dict[str, Any]) -> str:
        return "views cross " + ", ".join(human_count(t) for t in params["thresholds"])

    def candidates(self, rule: Rule, inputs: AlertInputs, now: datetime) -> list[Candidate]:
        thresholds = [int(t) for t in rule.params["thresholds"]]
        out = []
        for video in videos_in_scope(rule, inputs):
            previous: int | None = None
            for index, point in enumerate(inputs.daily.get(video.video_id, [])):
                if index == 0:
                    posted = video.posted_at
                    previous = 0 if posted is not None and posted >= day_start(point.day) else None
                if point.views is None:
                    continue
                if previous is not None:
                    for threshold in thresholds:
                        if previous < threshold <= point.views:
                            out.append(
                                Candidate(
                                    rule.rule_id,
                                    self.name,
                                    "milestone",
                                    video.video_id,
                                    f"milestone:{rule.rule_id}:{video.video_id}:{threshold}",
                                    day_end(point, video),
                                    {"threshold": threshold, "views": point.views, "day": point.day.isoformat()},
                                    **video_fields(video),
                                )
                            )
                previous = point.views
        return out

    def summary(self, event: Candidate) -> str:
        n = event.numbers
        return f"crossed {human_count(n['threshold'])} ({n['views']:,} views)"

    def what(self, event: Candidate) -> str:
        return f"crossed {human_count(event.numbers['threshold'])} views"


KIND = Milestone()
