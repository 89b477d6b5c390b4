"""payouts_ready: a creator has finalized payouts due in a campaign, from ``marts.creator_payouts``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from viewtrail.alerts.kinds.program_base import ProgramKind
from viewtrail.alerts.model import AlertInputs, Candidate, Rule
from viewtrail.domain.programs import format_minor


class PayoutsReady(ProgramKind):
    name = "payouts_ready"
    description = "a creator has finalized payouts due (again each time the amount due changes)"
    example = "viewtrail alert add payouts_ready --channel finance"
    reads = frozenset({"payouts"})
    cooldown_hours = 24.0

    def describe(self, params: dict[str, Any]) -> str:
        return "payouts ready to pay"

    def candidates(self, rule: Rule, inputs: AlertInputs, now: datetime) -> list[Candidate]:
        return [
            Candidate(
                rule.rule_id,
                self.name,
                "due",
                f"payouts:{p.campaign_id}:{p.creator_id or '-'}:{p.currency or '-'}",
                f"payouts_ready:{rule.rule_id}:{p.campaign_id}:{p.creator_id or '-'}:{p.currency}:{p.due_minor}",
                now,
                {
                    "campaign_id": p.campaign_id,
                    "creator_id": p.creator_id,
                    "currency": p.currency,
                    "due_minor": p.due_minor,
                    "videos_finalized": p.videos_finalized - p.videos_paid,
                },
            )
            for p in inputs.payouts
            if p.due_minor > 0 and p.currency is not None
        ]

    def summary(self, event: Candidate) -> str:
        n = event.numbers
        return f"{format_minor(n['due_minor'], n['currency'])} due in {n['campaign_id']}"

    def what(self, event: Candidate) -> str:
        return "has payouts ready to pay"

    def who(self, event: Candidate) -> str:
        return f"creator {event.numbers['creator_id'] or '(none)'}"

    def details(self, event: Candidate) -> list[str]:
        return [f"Mark them paid with `viewtrail payouts paid {event.numbers['campaign_id']} --reference REF`."]


KIND = PayoutsReady()
