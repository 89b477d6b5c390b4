"""One alert evaluation, end to end, on plain data: evaluate the rules, render the new events, deliver them and the
retries that are due. The caller reads the inputs before (and closes the connection), and writes the returned
:class:`AlertRun` after, in one short transaction (:func:`viewtrail.alerts.store.write_run`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from viewtrail.alerts import channels as channels_module
from viewtrail.alerts.delivery import DeliveryState, Sender, deliver, due_deliveries
from viewtrail.alerts.evaluate import FiredBefore, evaluate
from viewtrail.alerts.messages import Message, render
from viewtrail.alerts.model import AlertInputs, Candidate, Rule


@dataclass(frozen=True, slots=True)
class StoredEvent:
    event_id: str
    dedup_key: str
    rule_id: int
    kind: str
    condition: str
    subject: str
    video_id: str | None
    label: str | None
    account: str | None
    platform: str | None
    numbers: dict[str, Any]
    message: Message
    occurred_at: datetime
    fired_at: datetime


@dataclass(slots=True)
class AlertState:
    """What is already stored: rules, past events (for dedup/cooldown), deliveries not yet done."""

    rules: list[Rule] = field(default_factory=list)
    before: FiredBefore = field(default_factory=FiredBefore)
    open_deliveries: list[DeliveryState] = field(default_factory=list)  # pending or failed-with-retry
    open_messages: dict[str, Message] = field(default_factory=dict)  # their events' messages


@dataclass(slots=True)
class AlertRun:
    events: list[StoredEvent] = field(default_factory=list)
    deliveries: list[DeliveryState] = field(default_factory=list)  # every state changed or created

    @property
    def delivered(self) -> int:
        return sum(d.status == "delivered" for d in self.deliveries)

    @property
    def failed(self) -> int:
        return sum(d.status == "failed" for d in self.deliveries)


def stored_event(candidate: Candidate, message: Message, now: datetime) -> StoredEvent:
    return StoredEvent(
        candidate.event_id,
        candidate.dedup_key,
        candidate.rule_id,
        candidate.kind,
        candidate.condition,
        candidate.subject,
        candidate.video_id,
        candidate.label,
        candidate.account,
        candidate.platform,
        candidate.numbers,
        message,
        candidate.occurred_at,
        now,
    )


def run_alerts(
    state: AlertState,
    inputs: AlertInputs,
    urls: Mapping[str, str],
    now: datetime,
    send: Sender = channels_module.send,
) -> AlertRun:
    fired = evaluate(state.rules, inputs, state.before, now)
    rules = {r.rule_id: r for r in state.rules}
    events = [stored_event(c, render(c, inputs.videos.get(c.video_id or "")), now) for c in fired]
    new_deliveries = [DeliveryState(e.event_id, channel) for e in events for channel in rules[e.rule_id].channels]
    messages = {**state.open_messages, **{e.event_id: e.message for e in events}}
    due = due_deliveries([*state.open_deliveries, *new_deliveries], now)
    tried = {(d.event_id, d.channel): d for d in deliver(due, messages, urls, now, send)}
    untried = [d for d in new_deliveries if (d.event_id, d.channel) not in tried]
    return AlertRun(events=events, deliveries=[*tried.values(), *untried])


def sent_counts(deliveries: Sequence[DeliveryState]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for d in deliveries:
        counts[d.status] = counts.get(d.status, 0) + 1
    return counts
