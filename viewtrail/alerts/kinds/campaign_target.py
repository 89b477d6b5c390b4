"""campaign_target: a campaign's views (sub-campaigns included) reach its target, from ``marts.campaign_latest``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from viewtrail.alerts.kinds.program_base import ProgramKind
from viewtrail.alerts.model import DAY, AlertInputs, Candidate, Rule, day_start, human_count


class CampaignTarget(ProgramKind):
    name = "campaign_target"
    description = "a campaign's views, sub-campaigns included, reach its target"
    example = "viewtrail alert add campaign_target --channel team-slack"
    reads = frozenset({"campaigns"})
    cooldown_hours = 0.0
    has_cooldown = False

    def describe(self, params: dict[str, Any]) -> str:
        return "a campaign reaching its target"

    def candidates(self, rule: Rule, inputs: AlertInputs, now: datetime) -> list[Candidate]:
        return [
            Candidate(
                rule.rule_id,
                self.name,
                "reached",
                f"campaign:{c.campaign_id}",
                f"campaign_target:{rule.rule_id}:{c.campaign_id}",
                min(day_start(c.target_reached_on) + DAY, now),
                {
                    "campaign_id": c.campaign_id,
                    "name": c.name,
                    "target": c.target_views,
                    "views": c.views,
                    "day": c.target_reached_on.isoformat(),
                    "by": c.target_by.isoformat() if c.target_by else None,
                    "on_time": c.target_met,
                },
            )
            for c in inputs.campaigns
            if c.target_reached_on is not None
        ]

    def summary(self, event: Candidate) -> str:
        n = event.numbers
        due = f" (due {n['by']}, {'on time' if n['on_time'] else 'late'})" if n["by"] else ""
        return f"reached {human_count(n['target'])} views on {n['day']}{due}"

    def what(self, event: Candidate) -> str:
        return "reached its target"

    def who(self, event: Candidate) -> str:
        return f"campaign {event.numbers['name']}"


KIND = CampaignTarget()
