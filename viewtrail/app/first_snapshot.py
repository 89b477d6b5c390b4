"""The first snapshot of newly tracked videos, taken at once by the process that tracked them.

Used by the track and import use cases (:mod:`viewtrail.app.videos`), which queue it inside the transaction
registering the videos (:func:`queue_first_snapshots`) and then take it: the same plan
(:func:`viewtrail.planning.scraping.plan_scrapes`, targeted), the same clients and the same warehouse write as a
pipeline run, so the result is indistinguishable from a sensor-launched first scrape. The network I/O runs with
no warehouse connection open; the write is one transaction through
:func:`viewtrail.warehouse.write_scrape_results`, which takes the warehouse's write clock: it waits while
a pipeline run writes (the file admits one writing process) and is recorded in ``meta.write_log`` like every
write, so it can never interleave with a pipeline write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from viewtrail.clock import last_complete_hour
from viewtrail.domain.models import Outcome, Platform
from viewtrail.platforms.base import PlatformClient

if TYPE_CHECKING:
    import duckdb

    from viewtrail.warehouse.connection import OpenWarehouse

#: ``run_id`` of the rows an inline first scrape writes (pipeline runs write their Dagster run id).
INLINE_RUN_ID = "inline-first-snapshot"
#: At most this many videos are scraped inline per command (at TikTok's polite 60 requests a minute, 100
#: videos take under two minutes); the rest are queued for the pipeline.
INLINE_LIMIT = 100


@dataclass(frozen=True, slots=True)
class FirstSnapshot:
    video_id: str
    outcome: str  # an Outcome value, or "skipped"
    views: int | None = None
    detail: str | None = None

    def describe(self) -> str:
        """One line for the terminal, e.g. ``youtube:dQw4w9WgXcQ: 1,234 views`` or why there is none yet."""
        if self.outcome == Outcome.OK.value:
            shown = f"{self.views:,} views" if self.views is not None else "views hidden by the platform"
            return f"{self.video_id}: {shown}"
        reason = f" ({self.detail.rstrip('.')})" if self.detail else ""
        return f"{self.video_id}: no first snapshot yet, {self.outcome}{reason}; the pipeline retries it"


def take_first_snapshots(
    video_ids: Iterable[str],
    *,
    open_warehouse: OpenWarehouse,
    build_client: Callable[[Platform], PlatformClient] | None = None,
) -> list[FirstSnapshot]:
    """Scrape ``video_ids`` once now and store the results; one :class:`FirstSnapshot` per video, in order.

    ``open_warehouse()`` returns the context manager the caller writes with (the CLI's waits on a busy
    warehouse and says so). A platform that fails as a whole (e.g. a missing API key) reports each of its
    videos as not scraped instead of raising: the videos stay tracked and the pipeline scrapes them.
    """
    from viewtrail.planning.scheduling import load_video_schedules
    from viewtrail.planning.scraping import execute_plan, plan_scrapes
    from viewtrail.platforms.factory import build_client as default_build_client
    from viewtrail.warehouse import write_scrape_results

    make_client = build_client or default_build_client
    wanted = list(dict.fromkeys(video_ids))
    if not wanted:
        return []
    by_platform: dict[Platform, list[str]] = {}
    for video_id in wanted:
        by_platform.setdefault(Platform(video_id.split(":", 1)[0]), []).append(video_id)
    hour = last_complete_hour()
    with open_warehouse() as con:
        schedules = {p: load_video_schedules(con, p, hour, ids) for p, ids in by_platform.items()}
    first: dict[str, FirstSnapshot] = {}
    results = []
    for platform, videos in schedules.items():
        try:  # a real client refuses to exist in offline mode (VIEWTRAIL_OFFLINE) unless its host is loopback
            client = make_client(platform)
        except Exception as error:  # noqa: BLE001 - a misconfigured or offline platform must not undo the tracking
            first |= {v.video_id: FirstSnapshot(v.video_id, "skipped", detail=str(error)) for v in videos}
            continue
        plan = plan_scrapes(videos, [hour], targeted=True, observes_past=client.observes_past)
        try:
            outcome = execute_plan(plan, client, run_id=INLINE_RUN_ID)
        except Exception as error:  # noqa: BLE001 - same: report, keep the videos tracked
            first |= {v.video_id: FirstSnapshot(v.video_id, "skipped", detail=str(error)) for v in videos}
            continue
        results += outcome.results
        for result in outcome.results:
            observation = result.observation
            first[result.attempt.video_id] = FirstSnapshot(
                result.attempt.video_id,
                str(result.attempt.outcome),
                views=observation.views if observation is not None else None,
                detail=result.attempt.detail,
            )
    if results:
        with open_warehouse() as con:
            write_scrape_results(con, results, run_id=INLINE_RUN_ID)
    return [first.get(v, FirstSnapshot(v, "skipped", detail="not tracked")) for v in wanted]


# ------------------------------------------------------------------------------------ queueing the first snapshot


@dataclass(slots=True)
class FirstSnapshotHandOff:
    """Newly registered videos, already queued: those the registering process scrapes itself (held from the
    pipeline, see :mod:`viewtrail.pipeline.queue`) and those left to the pipeline at once."""

    inline: list[str] = field(default_factory=list)
    held: Path | None = None  # the held request naming ``inline``
    later: list[str] = field(default_factory=list)  # over the inline limit, or not scraped inline at all
    repaired: int = 0  # videos an interrupted earlier command left unqueued, queued now
    queue_problem: str | None = None  # why nothing could be queued (the schedule still scrapes them)


def queue_first_snapshots(
    con: duckdb.DuckDBPyConnection | None, video_ids: list[str], *, scrape: bool
) -> FirstSnapshotHandOff:
    """Queue the first snapshot of newly registered videos, inside the transaction registering them and before
    it commits: whatever stops the process afterwards (Ctrl-C, a closed pipe, a kill), every registered video
    is scraped or queued. Registered videos never scraped and not queued (left by a command interrupted before
    this was so) are queued too; ``con`` None skips that repair (the videos were committed elsewhere)."""
    from viewtrail.pipeline import queue
    from viewtrail.warehouse.registry import unscraped_videos

    ids = list(dict.fromkeys(video_ids))
    hand_off = FirstSnapshotHandOff()
    try:
        queued = queue.queued_video_ids()
        fresh = set(ids)
        repaired = [v for v in unscraped_videos(con) if v not in fresh and v not in queued] if con else []
        if scrape:
            hand_off.inline, hand_off.later = ids[:INLINE_LIMIT], ids[INLINE_LIMIT:]
        else:
            hand_off.later = ids
        queue.enqueue_new_videos(hand_off.later + repaired)
        hand_off.repaired = len(repaired)
        hand_off.held = queue.enqueue_new_videos(hand_off.inline, hold=queue.HOLD)
    except OSError as error:  # the schedule still scrapes them; the queue only makes it sooner
        hand_off.queue_problem = f"Could not queue a first scrape ({error}); the next scheduled run picks them up."
    return hand_off


@dataclass(frozen=True, slots=True)
class HeldFirstSnapshots:
    """What :func:`take_held_first_snapshots` did, in the order a caller reports it."""

    repaired: int
    taken: list[FirstSnapshot]
    release_problem: str | None  # why the held request could not be released (it falls due on its own)
    left_to_pipeline: int  # new videos over the inline limit, when some were taken inline


def take_held_first_snapshots(hand_off: FirstSnapshotHandOff, *, open_warehouse: OpenWarehouse) -> HeldFirstSnapshots:
    """Take the first snapshot of the videos held for this process; whatever is not ok is released to the
    pipeline's new-videos sensor at once, and the orchestrator learns of the partitions that landed."""
    from viewtrail.pipeline import queue

    still_wanted = list(hand_off.inline)
    taken: list[FirstSnapshot] = []
    if hand_off.inline:
        taken = take_first_snapshots(hand_off.inline, open_warehouse=open_warehouse)
        still_wanted = [f.video_id for f in taken if f.outcome != "ok"]
        stored = [f.video_id.split(":", 1)[0] for f in taken if f.outcome != "skipped"]
        if stored:
            from viewtrail.app.orchestrator import open_orchestrator  # loads Dagster: only when something landed

            with open_orchestrator() as orchestrator:
                orchestrator.report_inline_snapshots(stored)
    release_problem = None
    if hand_off.held is not None:
        try:
            queue.release(hand_off.held, still_wanted)
        except OSError as error:  # the held request stays and falls due on its own
            release_problem = f"Could not release the first-scrape request ({error}); the pipeline takes it up shortly."
    return HeldFirstSnapshots(
        repaired=hand_off.repaired,
        taken=taken,
        release_problem=release_problem,
        left_to_pipeline=len(hand_off.later) if hand_off.inline else 0,
    )
