"""Account use cases: watch (with the first discovery), unwatch, and the inbox (accept or reject discovered videos).

The CLI commands call these and only parse their input and present the result; each use case owns its warehouse
transaction. ``open_warehouse`` is the caller's way of opening the live warehouse for writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from viewtrail import config
from viewtrail.app.first_discovery import FirstDiscoveries
from viewtrail.app.first_snapshot import FirstSnapshotHandOff, queue_first_snapshots
from viewtrail.domain.models import AccountRef, Platform

if TYPE_CHECKING:
    import duckdb

    from viewtrail.warehouse.accounts import WatchResult
    from viewtrail.warehouse.connection import OpenWarehouse
    from viewtrail.warehouse.imports import AccountImportRow


def platform_note(platform: Platform) -> str | None:
    """What a user must know before relying on discovery of this platform's accounts (None when nothing)."""
    if platform is Platform.X:
        return (
            "X shows no recent posts to logged-out visitors, so with the real X client only the account's "
            "metrics are recorded; track its posts with `viewtrail track`"
        )
    instagram = config.settings().platform(Platform.INSTAGRAM)
    if platform is Platform.INSTAGRAM and not (instagram.session_id or instagram.cookies_file):
        return (
            f"Instagram rarely lists recent posts to logged-out visitors; set {config.INSTAGRAM_SESSIONID} "
            f"(a logged-in session cookie) or {config.platform_variable(Platform.INSTAGRAM, 'COOKIES_FILE')} "
            f"for the real Instagram client to discover new posts"
        )
    return None


# ------------------------------------------------------------------------------------------------------ watch


@dataclass(frozen=True, slots=True)
class WatchOptions:
    latest_n: int | None = None
    since: datetime | None = None
    discovery: str | None = None
    labels: Sequence[str] = ()
    cadence: str | None = None  # of the account's discovered videos
    every_hours: float | None = None  # between two discoveries
    creator: str | None = None


@dataclass(frozen=True, slots=True)
class WatchedAccount:
    result: WatchResult
    discovery: str  # the account's discovery mode now
    latest_n: int  # videos its first discovery takes
    every_hours: float  # hours between two discoveries


def watch_accounts(
    refs: Sequence[AccountRef], options: WatchOptions, *, open_warehouse: OpenWarehouse
) -> list[WatchedAccount]:
    """Watch accounts (re-watching updates their options, an unwatched one resumes), in one transaction."""
    from viewtrail.warehouse import accounts

    with open_warehouse() as con:
        results = accounts.watch_accounts(
            con,
            refs,
            latest_n=options.latest_n,
            since=options.since,
            discovery=options.discovery,
            labels=list(options.labels),
            cadence=options.cadence,
            cadence_hours=options.every_hours,
            creator=options.creator,
        )
        settings = {
            row[0]: row[1:]
            for row in con.execute(
                "SELECT account_id, discovery, latest_n, discovery_cadence_hours FROM registry.accounts"
                " WHERE list_contains(?, account_id)",
                [[r.account_id for r in results]],
            ).fetchall()
        }
    return [WatchedAccount(r, *settings[r.account_id]) for r in results]


def watch_imported(con: duckdb.DuckDBPyConnection, rows: Sequence[AccountImportRow]) -> list[WatchResult]:
    """Watch the account rows of a URL import (label and cadence columns apply), in the caller's transaction."""
    from viewtrail.warehouse.accounts import watch_accounts as watch_registered

    results: list[WatchResult] = []
    for row in rows:
        results.extend(watch_registered(con, [row.ref], labels=row.labels, cadence=row.cadence, transaction=False))
    return results


def discover_new_accounts(watched: Sequence[WatchResult], *, open_warehouse: OpenWarehouse) -> FirstDiscoveries:
    """Discover the newly watched (or resumed) accounts of ``watched`` now; its ``new_video_ids`` want their first
    snapshot (:func:`first_snapshots_of`). Accounts already watched wait for their cadence."""
    from viewtrail.app import first_discovery
    from viewtrail.warehouse.registry import TrackOutcome

    fresh = [w.account_id for w in watched if w.outcome is not TrackOutcome.UPDATED]
    if not fresh:
        return FirstDiscoveries(accounts=[])
    return first_discovery.discover_now(fresh, open_warehouse=open_warehouse)


def first_snapshots_of(video_ids: list[str], *, scrape: bool) -> FirstSnapshotHandOff:
    """Queue the first snapshot of videos registered (and committed) elsewhere, e.g. discovered or accepted;
    take it with :func:`viewtrail.app.first_snapshot.take_held_first_snapshots`."""
    return queue_first_snapshots(None, video_ids, scrape=scrape)


@dataclass(frozen=True, slots=True)
class UnwatchedAccounts:
    states: dict[str, str]  # per account id: unwatched, already unwatched
    unknown: list[str]  # references naming no watched account: then nothing was unwatched


def unwatch_accounts(references: Sequence[str], *, open_warehouse: OpenWarehouse) -> UnwatchedAccounts:
    """Stop discovering accounts named by id or link (their history and videos stay), all or none."""
    from viewtrail.warehouse import accounts

    with open_warehouse() as con:
        ids = {text: accounts.resolve_account(con, text) for text in references}
        unknown = [text for text, account_id in ids.items() if account_id is None]
        if unknown:
            return UnwatchedAccounts({}, unknown)
        wanted = list(dict.fromkeys(i for i in ids.values() if i is not None))
        return UnwatchedAccounts(accounts.unwatch_accounts(con, wanted), [])


# ------------------------------------------------------------------------------------------------------ inbox


@dataclass(frozen=True, slots=True)
class AcceptedInbox:
    states: dict[str, str]  # per video: accepted, already accepted, rejected, unknown...
    hand_off: FirstSnapshotHandOff  # the first snapshots of the videos now tracked


def accept_inbox(video_ids: Sequence[str] | None, *, scrape: bool, open_warehouse: OpenWarehouse) -> AcceptedInbox:
    """Accept discovered videos (None: all pending): tracked like the account's other videos, first snapshot
    queued."""
    from viewtrail.warehouse import accounts

    with open_warehouse() as con:
        states, tracked = accounts.accept_inbox(con, video_ids)
    return AcceptedInbox(states, first_snapshots_of([t.video_id for t in tracked], scrape=scrape))


def reject_inbox(video_ids: Sequence[str], *, open_warehouse: OpenWarehouse) -> dict[str, str]:
    """Reject discovered videos: never tracked, never offered again; per video its state."""
    from viewtrail.warehouse import accounts

    with open_warehouse() as con:
        return accounts.reject_inbox(con, video_ids)


__all__ = [
    "AcceptedInbox",
    "UnwatchedAccounts",
    "WatchOptions",
    "WatchedAccount",
    "accept_inbox",
    "discover_new_accounts",
    "first_snapshots_of",
    "platform_note",
    "reject_inbox",
    "unwatch_accounts",
    "watch_accounts",
    "watch_imported",
]
