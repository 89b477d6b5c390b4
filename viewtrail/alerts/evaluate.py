"""Rule evaluation: mart rows in, new alert events out. Pure: no Dagster, no DuckDB, no clock of its own.

Every kind turns the mart rows into *candidates*, each with the instant the condition happened
(``occurred_at``) and a dedup key naming the condition (a video's spike on one day, a milestone threshold, one
streak of ``not_found``...). :func:`select_new` keeps a candidate when

- its dedup key never fired (so a milestone fires once per threshold, an unavailability once per episode),
- it happened after the rule was created (a new rule does not flood you with history) and within the catch-up
  window (``MAX_CATCH_UP``: a pipeline down for weeks does not wake up with a month of spikes), and
- for kinds with a cooldown, no event of the same rule, condition and subject happened within the cooldown
  before it.

Because candidates come from the marts' daily history, one evaluation after a long backfill (the demo) finds what
happened during the whole window, with the day it happened; hourly evaluations find the same events one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from viewtrail.alerts.kinds import KINDS
from viewtrail.alerts.model import AlertInputs, Candidate, Rule

MAX_CATCH_UP = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class FiredBefore:
    """What is already stored about past events: their dedup keys and, per cooldown subject, the latest one."""

    dedup_keys: frozenset[str] = frozenset()
    latest: dict[tuple[int, str, str], datetime] = field(default_factory=dict)  # (rule, condition, subject)


def candidates(rule: Rule, inputs: AlertInputs, now: datetime) -> list[Candidate]:
    """Every instant in the inputs where ``rule``'s condition holds (before dedup and cooldown)."""
    kind = KINDS.get(rule.kind)
    if kind is None:
        raise ValueError(f"unknown alert kind {rule.kind!r}")
    return kind.candidates(rule, inputs, now)


def select_new(rule: Rule, found: Sequence[Candidate], before: FiredBefore, now: datetime) -> list[Candidate]:
    """The candidates that fire now (see the module doc), oldest first."""
    latest = dict(before.latest)
    cooldown = timedelta(hours=rule.cooldown_hours)
    fired = []
    seen = set(before.dedup_keys)
    for candidate in sorted(found, key=lambda c: (c.occurred_at, c.dedup_key)):
        if candidate.dedup_key in seen:
            continue
        if candidate.occurred_at < rule.created_at or candidate.occurred_at < now - MAX_CATCH_UP:
            continue
        key = (rule.rule_id, candidate.condition, candidate.subject)
        if KINDS[rule.kind].has_cooldown and key in latest and candidate.occurred_at < latest[key] + cooldown:
            continue
        seen.add(candidate.dedup_key)
        latest[key] = max(latest.get(key, candidate.occurred_at), candidate.occurred_at)
        fired.append(candidate)
    return fired


def evaluate(rules: Sequence[Rule], inputs: AlertInputs, before: FiredBefore, now: datetime) -> list[Candidate]:
    """The events every rule fires now."""
    fired = []
    for rule in rules:
        fired.extend(select_new(rule, candidates(rule, inputs, now), before, now))
    return fired
