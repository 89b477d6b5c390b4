"""creator_goal: a creator goal's period turns At Risk (``at_risk``) or ends Missed (``missed``), from
``marts.creator_goal_status``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from viewtrail.alerts.kinds.program_base import ProgramKind
from viewtrail.alerts.model import AlertInputs, Candidate, Rule

CONDITIONS = {"At Risk": "at_risk", "Missed": "missed"}


class CreatorGoal(ProgramKind):
    name = "creator_goal"
    description = "a creator goal's period turns At Risk (under 70 % of the pace) or ends Missed"
    example = "viewtrail alert add creator_goal --channel team-slack"
    reads = frozenset({"goal_status"})
    cooldown_hours = 0.0
    has_cooldown = False

    def describe(self, params: dict[str, Any]) -> str:
        return "a goal At Risk or Missed"

    def candidates(self, rule: Rule, inputs: AlertInputs, now: datetime) -> list[Candidate]:
        return [
            Candidate(
                rule.rule_id,
                self.name,
                CONDITIONS[row.status],
                f"creator:{row.creator_id}",
                f"creator_goal:{rule.rule_id}:{row.goal_id}:{row.period_start.isoformat()}:{CONDITIONS[row.status]}",
                now,
                {
                    "goal_id": row.goal_id,
                    "creator_id": row.creator_id,
                    "metric": row.metric,
                    "period": row.period,
                    "period_start": row.period_start.isoformat(),
                    "target": row.target,
                    "actual": row.actual,
                    "pace": None if row.pace is None else round(row.pace, 3),
                },
            )
            for row in inputs.goal_status
            if row.status in CONDITIONS
        ]

    def summary(self, event: Candidate) -> str:
        n = event.numbers
        pace = "" if n["pace"] is None else f", {n['pace']:.0%} of the pace"
        return f"{n['actual']:g} of {n['target']:g} {n['metric']} in the {n['period']} of {n['period_start']}{pace}"

    def what(self, event: Candidate) -> str:
        return "is at risk of missing a goal" if event.condition == "at_risk" else "missed a goal"

    def who(self, event: Candidate) -> str:
        return f"creator {event.numbers['creator_id']}"


KIND = CreatorGoal()
