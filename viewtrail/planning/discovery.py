"""Which watched accounts a partition discovers, and carrying it out through an account client.

No Dagster and no warehouse here, the same split as :mod:`viewtrail.planning.scraping`: :func:`plan_discoveries`
turns watched accounts (:class:`WatchedAccount` rows, each with when it was last attempted) and the partition's
hours into a :class:`DiscoveryPlan`; :func:`execute_discoveries` runs it through an account client and returns
every result in memory, grouped by the hour it stands for.

An account is due in an hour when it was watched before the hour ended and its last attempt (ok or not) is at
least ``discovery_cadence_hours`` old at the hour's end. A real client observes the present, so only the range's
last hour is planned; the simulated platform replays each hour, each account at its stable instant within it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from viewtrail.clock import partition_key, utc_now
from viewtrail.domain.hashing import STABLE
from viewtrail.domain.models import AccountResult, AccountToDiscover

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class WatchedAccount:
    """A watched account's discovery schedule: what a plan needs to know about it."""

    account: AccountToDiscover
    cadence_hours: float
    added_at: datetime
    last_attempted_at: datetime | None = None

    @property
    def account_id(self) -> str:
        return self.account.account_id


@dataclass(frozen=True, slots=True)
class DiscoveryStep:
    hour: datetime
    accounts: tuple[AccountToDiscover, ...]  # each with the instant it stands for in ``observe_at``

    @property
    def partition_key(self) -> str:
        return partition_key(self.hour)


@dataclass(frozen=True, slots=True)
class DiscoveryPlan:
    steps: tuple[DiscoveryStep, ...]

    @property
    def account_hours(self) -> int:
        return sum(len(step.accounts) for step in self.steps)


def observe_offset(account_id: str) -> timedelta:
    """Stable offset of an account's discovery within its hour (whole seconds): a re-run observes the same
    instant, so its rows are the ones already stored."""
    return timedelta(seconds=STABLE.integer("account-offset", account_id) % 3600)


def _instant(watched: WatchedAccount, hour: datetime) -> datetime:
    at = hour + observe_offset(watched.account_id)
    if watched.added_at > at:
        at = min(watched.added_at.replace(microsecond=0) + timedelta(seconds=1), hour + HOUR - timedelta(seconds=1))
    return at


def _cadence_passed(watched: WatchedAccount, at: datetime) -> bool:
    last = watched.last_attempted_at
    return last is None or last + timedelta(hours=watched.cadence_hours) <= at


def is_due_at(watched: WatchedAccount, at: datetime) -> bool:
    """Whether ``watched`` is due for discovery at the instant ``at``."""
    return watched.added_at <= at and _cadence_passed(watched, at)


def is_due(watched: WatchedAccount, hour: datetime) -> bool:
    """Whether ``watched`` is discovered in the hour starting at ``hour`` (watched before the hour ended, and
    its cadence passed by the hour's end)."""
    end = hour + HOUR
    return watched.added_at < end and _cadence_passed(watched, end)


def plan_discoveries(
    accounts: Sequence[WatchedAccount], hours: Sequence[datetime], *, observes_past: bool, targeted: bool = False
) -> DiscoveryPlan:
    """The plan for a partition range covering ``hours`` (at least one).

    ``targeted`` (a request names its accounts, e.g. `viewtrail watch` asking for a first look): each named
    account once in the last hour, whatever its cadence.
    """
    if not hours:
        raise ValueError("a discovery plan needs at least one hour")
    if targeted or not observes_past:
        last = hours[-1]
        due = [w for w in accounts if targeted or is_due(w, last)]
        now = None if observes_past else utc_now().replace(microsecond=0)
        picked = tuple(replace(w.account, observe_at=now or _instant(w, last)) for w in due)
        return DiscoveryPlan(steps=(DiscoveryStep(last, picked),) if picked else ())
    state = {w.account_id: w for w in accounts}
    steps = []
    for hour in hours:
        due_this_hour: list[AccountToDiscover] = []
        for account_id, watched in state.items():
            if is_due(watched, hour):
                at = _instant(watched, hour)
                due_this_hour.append(replace(watched.account, observe_at=at))
                state[account_id] = replace(watched, last_attempted_at=at)
        if due_this_hour:
            steps.append(DiscoveryStep(hour, tuple(due_this_hour)))
    return DiscoveryPlan(steps=tuple(steps))


@dataclass(frozen=True, slots=True)
class DiscoveryOutcome:
    #: (hour, results of that hour) in hour order.
    steps: list[tuple[datetime, list[AccountResult]]]

    @property
    def results(self) -> list[AccountResult]:
        return [r for _, results in self.steps for r in results]

    def outcome_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.results:
            outcome = str(result.attempt.outcome)
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    @property
    def videos_listed(self) -> int:
        return sum(len(r.videos) for r in self.results)


#: ``discover(accounts, run_id, partition_key)`` -> results: an account client's sync driver.
Discover = Callable[[list[AccountToDiscover], str | None, str], Iterable[AccountResult]]


def execute_discoveries(plan: DiscoveryPlan, discover: Discover, *, run_id: str | None = None) -> DiscoveryOutcome:
    """Discover step by step (network I/O; no warehouse)."""
    steps = []
    for step in plan.steps:
        results = list(discover(list(step.accounts), run_id, step.partition_key))
        steps.append((step.hour, results))
    return DiscoveryOutcome(steps=steps)
