"""unavailable: a video's latest scrape attempts say not_found or private, that many times in a row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from viewtrail.alerts.kinds.base import AlertKind, Given, one_threshold, video_fields, videos_in_scope
from viewtrail.alerts.model import AlertInputs, Candidate, Rule, parse_count
from viewtrail.domain.errors import InvalidInputError

#: ``not_found``/``private`` attempts in a row before a video counts as gone (one can be a platform hiccup).
DEFAULT_AFTER = 2
#: Outcomes that mean the video is gone or hidden (``geo_restricted`` is neither: the post exists elsewhere).
GONE_OUTCOMES = frozenset({"not_found", "private"})


class Unavailable(AlertKind):
    name = "unavailable"
    description = "a video's latest scrape attempts say not_found or private that many times in a row"
    threshold_help = "not_found attempts"
    defaults_help = "unavailable after 2 not_found/private attempts in a row"
    example = "viewtrail alert add unavailable --channel oncall-mail"
    reads = frozenset({"gone"})
    cooldown_hours = 0.0
    has_cooldown = False  # once per streak, by its dedup key

    def params(self, given: Given) -> dict[str, Any]:
        one_threshold(self.name, given)
        one = given.threshold
        after = int(one and parse_count(one) or DEFAULT_AFTER)
        if after < 1:
            raise InvalidInputError("--threshold for unavailable is how many not_found attempts in a row, at least 1.")
        return {"after": after}

    def describe(self, params: dict[str, Any]) -> str:
        return f"not_found/private {params['after']} time(s) in a row"

    def candidates(self, rule: Rule, inputs: AlertInputs, now: datetime) -> list[Candidate]:
        after = int(rule.params["after"])
        out = []
        for video in videos_in_scope(rule, inputs):
            streak = inputs.gone.get(video.video_id)
            if streak is None or streak.attempts < after or streak.outcome not in GONE_OUTCOMES:
                continue
            out.append(
                Candidate(
                    rule.rule_id,
                    self.name,
                    "unavailable",
                    video.video_id,
                    f"unavailable:{rule.rule_id}:{video.video_id}:{streak.since.isoformat()}",
                    streak.since,
                    {"outcome": streak.outcome, "attempts": streak.attempts, "since": streak.since.isoformat()},
                    **video_fields(video),
                )
            )
        return out

    def summary(self, event: Candidate) -> str:
        n = event.numbers
        return f"{n['outcome']} since {n['since'][:16].replace('T', ' ')}"

    def what(self, event: Candidate) -> str:
        return {"not_found": "disappeared (not found)", "private": "became private"}.get(
            event.numbers["outcome"], "became unavailable"
        )


KIND = Unavailable()
