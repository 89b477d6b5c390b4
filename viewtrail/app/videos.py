"""Video use cases: track (video links, ids and short links), import a file of links, stop, delete, rescrape.

The CLI commands and the API's service call these and only parse their input and present the result. Each use
case owns its warehouse transaction and the queueing that goes with it: the first snapshot of a newly tracked
video is queued inside the transaction registering it (:func:`viewtrail.app.first_snapshot.queue_first_snapshots`),
so whatever stops the process afterwards, every registered video is scraped or queued. Short links are resolved
before the warehouse is opened: a connection is never held across network I/O.

``open_warehouse`` is the caller's way of opening the live warehouse for writing (the CLI's waits on a busy
warehouse and says so; the API's gives up after its lock timeout); ``after_write(con, video_ids)``, when given,
runs on the same connection right after the commit (the API reads the written rows back for its overlay).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viewtrail import config
from viewtrail.app.first_snapshot import FirstSnapshotHandOff, queue_first_snapshots
from viewtrail.domain.models import ShortLink, VideoRef

if TYPE_CHECKING:
    import duckdb

    from viewtrail.warehouse.accounts import WatchResult
    from viewtrail.warehouse.connection import OpenWarehouse
    from viewtrail.warehouse.imports import UrlImport
    from viewtrail.warehouse.registry import TrackResult

AfterWrite = Callable[["duckdb.DuckDBPyConnection", list[str]], None]


# ------------------------------------------------------------------------------------------------ short links


@dataclass(frozen=True, slots=True)
class ShortLinkResolution:
    resolved: list[tuple[ShortLink, VideoRef]] = field(default_factory=list)
    pending: list[tuple[ShortLink, str]] = field(default_factory=list)  # with the reason, stored as the note


def resolve_short_links(links: Sequence[ShortLink]) -> ShortLinkResolution:
    """Resolve short links through their platform's client; those that cannot be resolved come back with a note."""
    if not links:
        return ShortLinkResolution()
    if config.offline():
        note = "offline mode (VIEWTRAIL_OFFLINE) forbids the redirect lookup; track it again when online"
        return ShortLinkResolution(pending=[(link, note) for link in links])
    # Here, not at the top: the platform clients load httpx (slow for --help), and the lookup is looked up on
    # viewtrail.platforms.base at call time (tests replace it there).
    from viewtrail.platforms.base import resolve_short_link_sync
    from viewtrail.platforms.factory import build_client

    resolution = ShortLinkResolution()
    for link in links:
        try:
            resolution.resolved.append((link, resolve_short_link_sync(build_client(link.platform), link.url)))
        except Exception as error:  # noqa: BLE001 - any failure keeps the link pending rather than losing it
            resolution.pending.append((link, f"redirect lookup failed ({error}); track it again later"))
    return resolution


# ------------------------------------------------------------------------------------------------------ track


@dataclass(frozen=True, slots=True)
class TrackOptions:
    """Options of tracked videos, already validated (:func:`viewtrail.warehouse.registry.validate_cadence`...)."""

    cadence: str | None = None
    days: int | None = None
    labels: Sequence[str] = ()
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TrackedVideos:
    results: list[TrackResult]  # one per distinct video, in order
    pending: list[tuple[ShortLink, str]]  # short links stored as pending, with their note
    hand_off: FirstSnapshotHandOff  # the first snapshots queued for the new videos

    @property
    def new_video_ids(self) -> list[str]:
        return _new_video_ids(self.results)


def _new_video_ids(results: Sequence[TrackResult]) -> list[str]:
    """The videos that are new to tracking (created or resumed): those that want a first snapshot."""
    from viewtrail.warehouse.registry import TrackOutcome

    return [r.video_id for r in results if r.outcome is not TrackOutcome.UPDATED]


def track_videos(
    targets: Iterable[VideoRef | ShortLink],
    options: TrackOptions,
    *,
    scrape: bool,
    open_warehouse: OpenWarehouse,
    after_write: AfterWrite | None = None,
) -> TrackedVideos:
    """Track videos (re-tracking updates, an untracked one resumes); short links are resolved first and those
    that cannot be are stored as pending links. The videos, the links and the first-snapshot queue entries land
    together or not at all. ``scrape``: the new videos are held for the caller's inline first snapshot
    (:func:`viewtrail.app.first_snapshot.take_held_first_snapshots`) rather than left to the pipeline."""
    from viewtrail.warehouse.registry import add_pending_link, mark_links_resolved, track_refs
    from viewtrail.warehouse.transactions import transaction

    refs: list[VideoRef] = []
    links: list[ShortLink] = []
    for target in targets:
        if isinstance(target, ShortLink):
            links.append(target)
        else:
            refs.append(target)
    links_found = resolve_short_links(links)
    refs.extend(ref for _, ref in links_found.resolved)
    labels = list(options.labels)
    with open_warehouse() as con:
        with transaction(con):
            results = track_refs(
                con,
                refs,
                cadence=options.cadence,
                days=options.days,
                labels=labels,
                metadata=options.metadata,
                transaction=False,
            )
            mark_links_resolved(con, [(link.url, ref) for link, ref in links_found.resolved])
            for link, note in links_found.pending:
                add_pending_link(
                    con,
                    link.url,
                    link.platform,
                    note,
                    cadence=options.cadence,
                    days=options.days,
                    labels=labels,
                    metadata=options.metadata,
                )
            hand_off = queue_first_snapshots(con, _new_video_ids(results), scrape=scrape)
        if after_write is not None:
            after_write(con, [r.video_id for r in results])
    return TrackedVideos(results, links_found.pending, hand_off)


# ----------------------------------------------------------------------------------------------------- import


@dataclass(frozen=True, slots=True)
class ImportedUrls:
    results: list[TrackResult]
    watched: list[WatchResult]  # account rows of the file, watched
    pending: list[tuple[ShortLink, str]]
    hand_off: FirstSnapshotHandOff


def import_urls(checked: UrlImport, *, scrape: bool, open_warehouse: OpenWarehouse) -> ImportedUrls:
    """Register every valid row of a checked URL file (:func:`viewtrail.warehouse.imports.read_url_file`) in one
    transaction: videos, accounts (watched like ``watch`` does), short links (resolved first, or pending) and
    the first-snapshot queue entries of the new videos."""
    from viewtrail.app.accounts import watch_imported
    from viewtrail.warehouse.imports import UrlImportRow, write_url_import
    from viewtrail.warehouse.registry import add_pending_link, mark_links_resolved
    from viewtrail.warehouse.transactions import transaction

    links_found = resolve_short_links([row.ref for row in checked.short_links if isinstance(row.ref, ShortLink)])
    by_url = {row.ref.url: row for row in checked.short_links}
    rows = list(checked.rows)
    for link, ref in links_found.resolved:
        row = by_url[link.url]
        rows.append(UrlImportRow(row.line, ref, row.cadence, row.days, row.labels))
    with open_warehouse() as con, transaction(con):  # registry rows and pending links land together or not at all
        results = write_url_import(con, rows, transaction=False)
        watched = watch_imported(con, checked.accounts)
        mark_links_resolved(con, [(link.url, ref) for link, ref in links_found.resolved])
        for link, note in links_found.pending:
            row = by_url[link.url]
            add_pending_link(con, link.url, link.platform, note, cadence=row.cadence, days=row.days, labels=row.labels)
        hand_off = queue_first_snapshots(con, _new_video_ids(results), scrape=scrape)
    return ImportedUrls(results, watched, links_found.pending, hand_off)


# ------------------------------------------------------------------------------------ stop, delete, rescrape


def stop_videos(
    video_ids: Sequence[str], *, open_warehouse: OpenWarehouse, after_write: AfterWrite | None = None
) -> dict[str, str]:
    """Stop tracking videos (their snapshots stay); per id ``untracked``, ``already untracked`` or ``unknown``."""
    from viewtrail.warehouse.registry import untrack

    with open_warehouse() as con:
        states = untrack(con, list(video_ids))
        if after_write is not None:
            after_write(con, [v for v in video_ids if states.get(v) != "unknown"])
    return states


def delete_videos(
    video_ids: Sequence[str], *, open_warehouse: OpenWarehouse, after_write: AfterWrite | None = None
) -> dict[str, int | None]:
    """Delete videos with all their snapshots and attempts; per id the snapshots deleted, None when unknown."""
    from viewtrail.warehouse.registry import delete_videos as delete_registered

    with open_warehouse() as con:
        removed = delete_registered(con, list(video_ids))
        if after_write is not None:
            after_write(con, list(video_ids))
    return removed


def request_rescrape(video_ids: Sequence[str]) -> Path | None:
    """Queue a rescrape of videos for the pipeline's rescrape sensor; the request file (None when nothing to
    queue). Raises :class:`OSError` when the queue cannot be written."""
    from viewtrail.pipeline import queue

    return queue.enqueue_rescrape(list(video_ids))


__all__ = [
    "ImportedUrls",
    "ShortLinkResolution",
    "TrackOptions",
    "TrackedVideos",
    "delete_videos",
    "import_urls",
    "request_rescrape",
    "resolve_short_links",
    "stop_videos",
    "track_videos",
]
