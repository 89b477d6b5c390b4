"""The creator-program alert kinds: a goal turning At Risk or Missed fires once per goal, period and condition; a
campaign reaching its target fires once; payouts ready fire again when the amount due changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from viewtrail.alerts.evaluate import FiredBefore, evaluate
from viewtrail.alerts.kinds import KINDS, Given
from viewtrail.alerts.messages import render
from viewtrail.alerts.model import AlertInputs, Rule, Scope
from viewtrail.domain.errors import InvalidInputError
from viewtrail.warehouse.marts import CampaignTotals, CreatorPayout, GoalStatusRow

NOW = datetime(2027, 3, 10, 12)


def goal_row(status: str, period_start: date = date(2027, 3, 8), goal_id: int = 1) -> GoalStatusRow:
    return GoalStatusRow(
        goal_id, "ana", "posts", "week", period_start, period_start + timedelta(days=7), 10, 1, 0.4, status,
        False, True, False, False,
    )  # fmt: skip


def rule(kind: str) -> Rule:
    return Rule(1, kind, Scope(), created_at=NOW - timedelta(days=1))


def fire(kind: str, inputs: AlertInputs, before: FiredBefore | None = None):
    return evaluate([rule(kind)], inputs, before or FiredBefore(), NOW)


def test_a_goal_fires_when_at_risk_or_missed_once_per_period_and_condition():
    inputs = AlertInputs(
        goal_status=[
            goal_row("Missed", date(2027, 3, 1)),
            goal_row("At Risk"),
            goal_row("Behind Pace", goal_id=2),
            goal_row("On Track", goal_id=3),
        ]
    )
    fired = fire("creator_goal", inputs)
    assert [(e.condition, e.numbers["period_start"]) for e in fired] == [
        ("missed", "2027-03-01"),
        ("at_risk", "2027-03-08"),
    ]
    again = fire("creator_goal", inputs, FiredBefore(frozenset(e.dedup_key for e in fired)))
    assert again == []
    message = render(fired[1])
    assert "creator ana is at risk of missing a goal" in message.title
    assert "1 of 10 posts in the week of 2027-03-08, 40% of the pace" in message.body


def test_a_campaign_reaching_its_target_fires_once():
    reached = CampaignTotals(
        "spring", "Spring", None, 0, 3, 1_200_000, 1_000_000, date(2027, 3, 31), 1.2, date(2027, 3, 9), True
    )
    pending = CampaignTotals("fall", "Fall", None, 0, 3, 10, 1_000_000, None, 0.0, None, False)
    (event,) = fire("campaign_target", AlertInputs(campaigns=[reached, pending]))
    assert event.occurred_at == datetime(2027, 3, 10)
    assert "reached 1M views on 2027-03-09 (due 2027-03-31, on time)" in render(event).body
    assert fire("campaign_target", AlertInputs(campaigns=[reached]), FiredBefore(frozenset({event.dedup_key}))) == []


def test_payouts_ready_fire_again_when_the_amount_due_changes():
    def due(amount: int) -> CreatorPayout:
        return CreatorPayout("spring", "ana", "USD", 3, 0, 0, 3, 0, 0, amount, 0, 0, amount)

    (first,) = fire("payouts_ready", AlertInputs(payouts=[due(16_000), due(0)]))
    assert "160.00 USD due in spring" in render(first).body
    fired = FiredBefore(frozenset({first.dedup_key}), {(1, "due", first.subject): NOW - timedelta(hours=25)})
    assert fire("payouts_ready", AlertInputs(payouts=[due(16_000)]), fired) == []
    (second,) = fire("payouts_ready", AlertInputs(payouts=[due(41_000)]), fired)
    assert second.numbers["due_minor"] == 41_000


@pytest.mark.parametrize("kind", ["creator_goal", "campaign_target", "payouts_ready"])
def test_the_program_kinds_take_no_threshold_and_no_scope(kind):
    with pytest.raises(InvalidInputError, match="takes no --threshold"):
        KINDS[kind].params(Given(thresholds=["3"]))
    with pytest.raises(InvalidInputError, match="watches every creator"):
        KINDS[kind].validate_scope(Scope("label", ("launch",)))
