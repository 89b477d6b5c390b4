"""Printing what the first snapshots and first discoveries of newly tracked videos and watched accounts found.

Shared by the registry commands (`track`, `import`) and the account commands (`watch`, `import`'s accounts,
`inbox accept`); the work itself is in :mod:`viewtrail.app.first_snapshot` and :mod:`viewtrail.app.accounts`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from viewtrail.cli._common import err, out, writable_warehouse

if TYPE_CHECKING:
    from viewtrail.app.first_snapshot import FirstSnapshotHandOff
    from viewtrail.warehouse.accounts import WatchResult


def say_queue_problem(hand_off: FirstSnapshotHandOff) -> None:
    """The warning of a first-snapshot queueing that failed (the schedule still scrapes the videos)."""
    if hand_off.queue_problem:
        err.print(hand_off.queue_problem, style="yellow", markup=False)


def first_snapshots(hand_off: FirstSnapshotHandOff) -> None:
    """Take the first snapshot of the videos held for this command, one line each."""
    from viewtrail.app.first_snapshot import take_held_first_snapshots

    held = take_held_first_snapshots(hand_off, open_warehouse=writable_warehouse)
    if held.repaired:
        out.print(
            f"{held.repaired} video(s) an interrupted earlier command left without a first snapshot were queued.",
            markup=False,
        )
    for first in held.taken:
        out.print(first.describe(), markup=False)
    if held.release_problem:
        err.print(held.release_problem, style="yellow", markup=False)
    if held.left_to_pipeline:
        out.print(
            f"{held.left_to_pipeline} more new video(s) get their first snapshot from the pipeline.", markup=False
        )


def first_snapshots_of(video_ids: list[str], *, scrape: bool) -> None:
    """Queue and take the first snapshot of videos registered (and committed) elsewhere, e.g. discovered."""
    from viewtrail.app.accounts import first_snapshots_of as queue_first_snapshots_of

    hand_off = queue_first_snapshots_of(video_ids, scrape=scrape)
    say_queue_problem(hand_off)
    first_snapshots(hand_off)


def first_discoveries(watched: list[WatchResult]) -> list[str]:
    """Discover the newly watched (or resumed) accounts now, one line each; returns the videos that registered,
    for their first snapshot."""
    from viewtrail.app.accounts import discover_new_accounts

    found = discover_new_accounts(watched, open_warehouse=writable_warehouse)
    for first in found.accounts:
        out.print(first.describe(), markup=False)
    if found.held_in_inbox:
        out.print(f"{found.held_in_inbox} video(s) wait in the inbox: see `viewtrail inbox`.", markup=False)
    return found.new_video_ids
