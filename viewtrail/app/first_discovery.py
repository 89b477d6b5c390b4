"""The first discovery of newly watched accounts, done at once by the process that watched them.

Used by ``viewtrail watch``: the same plan (:func:`viewtrail.planning.discovery.plan_discoveries`, targeted), the
same account clients and the same warehouse write (:func:`viewtrail.warehouse.accounts.record_account_results`)
as the ``discovery/*`` assets, so the result is indistinguishable from a scheduled discovery. The caller then
gives the registered videos their first snapshot (:mod:`viewtrail.app.first_snapshot`). The network I/O runs
with no warehouse connection open; the write is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from viewtrail.clock import last_complete_hour
from viewtrail.domain.models import AccountResult, Outcome, Platform

if TYPE_CHECKING:
    from viewtrail.planning.discovery import Discover
    from viewtrail.platforms.accounts.base import AccountClient
    from viewtrail.warehouse.connection import OpenWarehouse

#: ``run_id`` of the rows an inline first discovery writes (pipeline runs write their Dagster run id).
INLINE_DISCOVERY_RUN_ID = "inline-first-discovery"


@dataclass(frozen=True, slots=True)
class FirstDiscovery:
    account_id: str
    outcome: str  # an Outcome value, or "skipped"
    followers: int | None = None
    videos_listed: int | None = None
    detail: str | None = None

    def describe(self) -> str:
        """One line for the terminal."""
        if self.outcome != Outcome.OK.value:
            reason = f" ({self.detail.rstrip('.')})" if self.detail else ""
            return f"{self.account_id}: not discovered yet, {self.outcome}{reason}; the pipeline retries it"
        followers = f"{self.followers:,} followers" if self.followers is not None else "followers hidden"
        if self.videos_listed is None:
            return f"{self.account_id}: {followers}; this platform lists no recent posts logged out (metrics only)"
        return f"{self.account_id}: {followers}, {self.videos_listed} recent video(s) listed"


@dataclass(frozen=True, slots=True)
class FirstDiscoveries:
    accounts: list[FirstDiscovery]
    new_video_ids: list[str] = field(default_factory=list)  # registered (discovery auto): first snapshot next
    held_in_inbox: int = 0  # discovery review


def _discover_with(client: AccountClient) -> Discover:
    """The plan's discover step, run by one platform's client."""
    from viewtrail.platforms.accounts import discover_sync

    return lambda accounts, run_id, key: discover_sync(client, accounts, run_id=run_id, partition_key=key)


def discover_now(
    account_ids: Iterable[str],
    *,
    open_warehouse: OpenWarehouse,
    build_account_client: Callable[[Platform], AccountClient] | None = None,
) -> FirstDiscoveries:
    """Discover ``account_ids`` once now and store the results; one :class:`FirstDiscovery` per account, in
    order. A platform that fails as a whole (a missing key, offline mode) reports its accounts as skipped
    instead of raising: the accounts stay watched and the pipeline discovers them."""
    from viewtrail.planning.discovery import execute_discoveries, plan_discoveries
    from viewtrail.platforms.accounts import build_account_client as default_build_account_client
    from viewtrail.warehouse.accounts import load_watched_accounts, record_account_results

    make_client = build_account_client or default_build_account_client
    wanted = list(dict.fromkeys(account_ids))
    by_platform: dict[Platform, list[str]] = {}
    for account_id in wanted:
        by_platform.setdefault(Platform(account_id.split(":", 1)[0]), []).append(account_id)
    if not by_platform:
        return FirstDiscoveries(accounts=[])
    hour = last_complete_hour()
    with open_warehouse() as con:
        watched = {p: load_watched_accounts(con, p, ids) for p, ids in by_platform.items()}
    found: dict[str, FirstDiscovery] = {}
    results: list[AccountResult] = []
    for platform, accounts in watched.items():
        try:  # a real client refuses to exist in offline mode (VIEWTRAIL_OFFLINE) unless its host is loopback
            client = make_client(platform)
            plan = plan_discoveries(accounts, [hour], observes_past=client.observes_past, targeted=True)
            outcome = execute_discoveries(
                plan,
                _discover_with(client),
                run_id=INLINE_DISCOVERY_RUN_ID,
            )
        except Exception as error:  # noqa: BLE001 - a misconfigured or offline platform must not undo the watch
            found |= {w.account_id: FirstDiscovery(w.account_id, "skipped", detail=str(error)) for w in accounts}
            continue
        results += outcome.results
    if not results:
        return FirstDiscoveries(
            accounts=[found.get(a, FirstDiscovery(a, "skipped", detail="not watched")) for a in wanted]
        )
    with open_warehouse() as con:
        written = record_account_results(
            con, results, now=max(r.attempt.attempted_at for r in results), run_id=INLINE_DISCOVERY_RUN_ID
        )
    for result in results:
        attempt = result.attempt
        found[attempt.account_id] = FirstDiscovery(
            attempt.account_id,
            str(attempt.outcome),
            followers=result.observation.followers if result.observation is not None else None,
            videos_listed=attempt.videos_listed,
            detail=attempt.detail,
        )
    return FirstDiscoveries(
        accounts=[found.get(a, FirstDiscovery(a, "skipped", detail="not watched")) for a in wanted],
        new_video_ids=list(written.new_video_ids),
        held_in_inbox=written.inbox_added,
    )
