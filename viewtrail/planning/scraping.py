"""What one partition scrapes, as a plan, and carrying it out through a platform client.

No Dagster and no warehouse here: :func:`plan_scrapes` turns registered videos (:class:`VideoSchedule` rows)
and the partition's hours into a :class:`ScrapePlan`; :func:`execute_plan` runs it through a
:class:`~viewtrail.platforms.base.PlatformClient` and returns every result in memory.

Three shapes of plan:

* **targeted** (a request names its videos): each named tracked video once, observed now;
* **present** (a real client, which can only observe the current instant): the videos due in the partition's
  last hour, observed now;
* **replay** (the simulated platform observes any instant): hour by hour, each video at its stable instant
  within the hour; which videos are due in an hour depends on the results of the hours before (a transient
  fault makes a video due again the next hour), so the due list of a replay step is decided while executing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from viewtrail.clock import partition_key, utc_now
from viewtrail.domain.models import Outcome, ScrapeResult, VideoToScrape
from viewtrail.planning.scheduling import (
    DEFAULT_AUTO_CADENCE,
    VideoSchedule,
    advance,
    due_videos,
    is_tracked,
    observe_instant,
)
from viewtrail.platforms.base import PlatformClient, scrape_sync


class ObserveAt(StrEnum):
    NOW = "now"  # the client observes the current instant (real clients, targeted runs)
    REPLAY = "replay"  # the video's stable instant within the step's hour (the simulated platform)


@dataclass(frozen=True, slots=True)
class ScrapeStep:
    """One hour of a plan. ``videos`` is ``None`` when the due videos follow from the earlier steps' results."""

    hour: datetime
    observe: ObserveAt
    videos: tuple[VideoSchedule, ...] | None

    @property
    def partition_key(self) -> str:
        return partition_key(self.hour)


@dataclass(frozen=True, slots=True)
class ScrapePlan:
    videos: tuple[VideoSchedule, ...]  # every candidate, with its schedule state before the first step
    steps: tuple[ScrapeStep, ...]
    cadence_table: tuple[tuple[float | None, int], ...] = DEFAULT_AUTO_CADENCE


def plan_scrapes(
    videos: Sequence[VideoSchedule],
    hours: Sequence[datetime],
    *,
    targeted: bool,
    observes_past: bool,
    cadence_table: Sequence[tuple[float | None, int]] = DEFAULT_AUTO_CADENCE,
) -> ScrapePlan:
    """The plan for a partition range covering ``hours`` (at least one)."""
    if not hours:
        raise ValueError("a scrape plan needs at least one hour")
    table = tuple(cadence_table)
    last = hours[-1]
    steps: tuple[ScrapeStep, ...]
    if targeted:
        steps = (ScrapeStep(last, ObserveAt.NOW, tuple(v for v in videos if is_tracked(v, last))),)
    elif not observes_past:
        steps = (ScrapeStep(last, ObserveAt.NOW, tuple(due_videos(videos, last, table))),)
    else:
        steps = tuple(ScrapeStep(hour, ObserveAt.REPLAY, None) for hour in hours)
    return ScrapePlan(videos=tuple(videos), steps=steps, cadence_table=table)


def _to_scrape(video: VideoSchedule, observe_at: datetime | None) -> VideoToScrape:
    return VideoToScrape(
        video_id=video.video_id,
        platform=video.platform,
        external_id=video.external_id,
        url=video.url,
        account=video.account,
        observe_at=observe_at,
        added_at=video.added_at,
    )


@dataclass(frozen=True, slots=True)
class ScrapeOutcome:
    results: list[ScrapeResult]
    videos_due: int  # video-hours scraped (a video due in three hours of a replay counts three times)

    def outcome_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.results:
            outcome = Outcome(result.attempt.outcome).value
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts


def execute_plan(plan: ScrapePlan, client: PlatformClient, *, run_id: str | None = None) -> ScrapeOutcome:
    """Scrape step by step, carrying each video's schedule state forward (network I/O; no warehouse)."""
    state = {v.video_id: v for v in plan.videos}
    results: list[ScrapeResult] = []
    due_total = 0
    for step in plan.steps:
        due = step.videos if step.videos is not None else due_videos(state.values(), step.hour, plan.cadence_table)
        if not due:
            continue
        due_total += len(due)
        if step.observe is ObserveAt.NOW:  # real clients observe the present whatever they are given
            now = utc_now().replace(microsecond=0)
            batch = [_to_scrape(v, now) for v in due]
        else:
            batch = [_to_scrape(v, observe_instant(v, step.hour)) for v in due]
        for result in scrape_sync(client, batch, run_id=run_id, partition_key=step.partition_key):
            results.append(result)
            video = state.get(result.attempt.video_id)
            if video is not None:
                state[video.video_id] = advance(video, result)
    return ScrapeOutcome(results=results, videos_due=due_total)
