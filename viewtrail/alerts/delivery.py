"""Delivery bookkeeping: which (event, channel) pairs are due, sending them, back-off. No Dagster, no DuckDB.

Each event is delivered to every channel of its rule; each pair has a state (``raw.alert_deliveries``):
``pending`` (not tried yet), ``delivered``, or ``failed`` (the last try failed; ``reason`` says why in one
sentence and ``next_attempt_at`` when it is tried again). Retries back off: 15 min after the first failure,
doubling, at most 24 h apart, and never stop while the channel exists, so a dead channel loses nothing. A pair
whose channel was removed is failed for good (``next_attempt_at`` null). After one failure in a run, the other
deliveries to the same channel wait for the next run, so a dead channel costs one timeout per run, not one per
event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from viewtrail.alerts.channels import Delivered
from viewtrail.alerts.messages import Message

BACKOFF_BASE = timedelta(minutes=15)
BACKOFF_CAP = timedelta(hours=24)
#: Deliveries tried in one run at most (the rest stay due for the next run).
MAX_DELIVERIES_PER_RUN = 500

Sender = Callable[[str, Message], Delivered]


@dataclass(frozen=True, slots=True)
class DeliveryState:
    event_id: str
    channel: str
    status: str = "pending"  # pending | delivered | failed
    attempts: int = 0
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    reason: str | None = None

    def is_due(self, now: datetime) -> bool:
        if self.status == "pending":
            return True
        return self.status == "failed" and self.next_attempt_at is not None and self.next_attempt_at <= now


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try (1, 2, ...)."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))


def deliver(
    due: Iterable[DeliveryState],
    messages: Mapping[str, Message],
    urls: Mapping[str, str],
    now: datetime,
    send: Sender,
) -> list[DeliveryState]:
    """Try every due delivery (no warehouse connection may be open: this is network I/O); returns new states."""
    results: list[DeliveryState] = []
    failed_channels: set[str] = set()
    for state in list(due)[:MAX_DELIVERIES_PER_RUN]:
        if state.channel in failed_channels:
            continue
        url = urls.get(state.channel)
        if url is None:
            results.append(
                replace(
                    state,
                    status="failed",
                    last_attempt_at=now,
                    next_attempt_at=None,
                    reason=f"the channel {state.channel} no longer exists.",
                )
            )
            continue
        outcome = send(url, messages[state.event_id])
        attempts = state.attempts + 1
        if outcome.ok:
            results.append(
                replace(
                    state,
                    status="delivered",
                    attempts=attempts,
                    last_attempt_at=now,
                    next_attempt_at=None,
                    delivered_at=now,
                    reason=None,
                )
            )
        else:
            failed_channels.add(state.channel)
            results.append(
                replace(
                    state,
                    status="failed",
                    attempts=attempts,
                    last_attempt_at=now,
                    next_attempt_at=now + backoff(attempts),
                    reason=outcome.reason,
                )
            )
    return results


def due_deliveries(states: Sequence[DeliveryState], now: datetime) -> list[DeliveryState]:
    return sorted((s for s in states if s.is_due(now)), key=lambda s: (s.next_attempt_at or datetime.min, s.event_id))
