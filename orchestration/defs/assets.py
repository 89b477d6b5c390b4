"""One hourly-partitioned snapshot asset per platform: plan, scrape (no warehouse held), write, check.

Why one asset per platform rather than one asset with a platform dimension: a blocked or out-of-quota
platform then fails or degrades only its own asset and partitions; each platform keeps its own
materialization history and checks; and single-run backfills stay on a plain time partitioning
(multi-partitions + single-run backfills have open bugs in Dagster 1.13).
"""


# No `from __future__ import annotations`: Dagster reads the asset function's annotations at definition time.
import dataclasses
from datetime import UTC, datetime, timedelta

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
import polars as pl
from pydantic import Field

from orchestration import config as vt_config
from orchestration.clock import partition_key, utc_now
from orchestration.defs.checks import snapshot_check_results, snapshot_check_specs
from orchestration.defs.partitions import hourly_partitions
from orchestration.defs.resources import PlatformClientsResource, WarehouseResource
from orchestration.models import Outcome, Platform, ScrapeResult, VideoToScrape
from orchestration.platforms.base import scrape_sync
from orchestration.scheduling import (
    VideoSchedule,
    advance,
    auto_cadence_from_env,
    due_videos,
    hours_in,
    is_tracked,
    load_video_schedules,
    observe_instant,
)
from orchestration.warehouse.registry import pending_links, resolve_pending_links
from orchestration.warehouse.snapshots import write_scrape_results

#: A real client observes "now": partitions whose hour ended longer ago than this are refused.
REAL_CLIENT_MAX_LAG = timedelta(hours=2)


def snapshot_asset_key(platform: Platform | str) -> AssetKey:
    return AssetKey(["raw", f"{Platform(platform).value}_snapshots"])


SNAPSHOT_ASSET_KEYS = [snapshot_asset_key(p) for p in Platform]


class SnapshotRunConfig(Config):
    """Targeted runs (sensors, `viewtrail rescrape`) name their videos; scheduled runs leave this empty."""

    video_ids: list[str] = Field(default_factory=list, description="Only these videos, observed now.")


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def _to_scrape(video: VideoSchedule, observe_at: datetime) -> VideoToScrape:
    return VideoToScrape(
        video_id=video.video_id,
        platform=video.platform,
        external_id=video.external_id,
        url=video.url,
        account=video.account,
        observe_at=observe_at,
        added_at=video.added_at,
    )


def _resolve_pending_links(context, warehouse: WarehouseResource, client) -> int:
    """TikTok short links added by `track` wait in registry.pending_links: resolve them before planning."""
    if vt_config.offline() and client.source != "simulated":  # VIEWTRAIL_OFFLINE: no network, links stay pending
        return 0
    from orchestration.platforms.base import resolve_short_link_sync

    with warehouse.connect() as con:
        pending = pending_links(con).filter(pl.col("platform") == "tiktok")["url"].to_list()
    resolved = []
    for url in pending:  # network: no connection held
        try:
            resolved.append((url, resolve_short_link_sync(client, url)))
        except Exception as error:  # noqa: BLE001 - a bad link must not stop the partition
            context.log.warning(f"short link {url} not resolved yet: {error}")
    if not resolved:
        return 0
    with warehouse.connect() as con:
        return len(resolve_pending_links(con, resolved))


def _plan_and_scrape(
    context, client, videos: list[VideoSchedule], hours: list[datetime], targeted: bool, observes_past: bool
) -> tuple[list[ScrapeResult], int]:
    """Scrape hour by hour, carrying each video's state forward (so a transient fault is retried next hour)."""
    table = auto_cadence_from_env()
    state = {v.video_id: v for v in videos}
    results: list[ScrapeResult] = []
    due_total = 0
    if targeted:
        # A request names its videos: scrape each once, as of now (a rescrape means "fresh numbers").
        now = utc_now().replace(microsecond=0)
        due = [v for v in videos if is_tracked(v, hours[-1])]
        plan = [(hours[-1], due, lambda v: now)]
    elif not observes_past:
        last = hours[-1]
        due = due_videos(state.values(), last, table)
        plan = [(last, due, lambda v: None)]  # the client observes the current instant
    else:
        plan = None
    steps = plan if plan is not None else [(h, None, lambda v, h=h: observe_instant(v, h)) for h in hours]
    for hour, due, observe in steps:
        if due is None:
            due = due_videos(state.values(), hour, table)
        if not due:
            continue
        due_total += len(due)
        key = partition_key(hour)
        batch = [_to_scrape(v, observe(v)) for v in due]
        for result in scrape_sync(client, batch, run_id=context.run.run_id, partition_key=key):
            results.append(result)
            video = state.get(result.attempt.video_id)
            if video is not None:
                state[video.video_id] = advance(video, result)
    return results, due_total


def build_snapshot_asset(platform: Platform):
    key = snapshot_asset_key(platform)

    @asset(
        key=key,
        partitions_def=hourly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        pool="duckdb",
        group_name="raw",
        kinds={"duckdb", "python"},
        description=(
            f"Hourly snapshots of tracked {platform.value} videos in raw.snapshots (and every attempt in "
            "raw.scrape_attempts). A partition scrapes the videos due in that hour."
        ),
        check_specs=snapshot_check_specs(key),
    )
    def snapshot_asset(
        context: AssetExecutionContext,
        config: SnapshotRunConfig,
        warehouse: WarehouseResource,
        platforms: PlatformClientsResource,
    ) -> MaterializeResult:
        window = context.partition_time_window
        start, end = _naive(window.start), _naive(window.end)
        hours = hours_in(start, end)
        client = platforms.build(platform)
        now = utc_now()
        if not client.observes_past and end < now - REAL_CLIENT_MAX_LAG:
            raise Failure(
                description=(
                    f"The {platform.value} client is in real mode and can only observe the present, but partition "
                    f"{context.partition_key_range.start}..{context.partition_key_range.end} ended at {end:%Y-%m-%d %H:%M} UTC. "
                    "Backfill old partitions only with the simulated platform; real scrapes run for the hour that just ended."
                )
            )
        resolved = _resolve_pending_links(context, warehouse, client) if platform is Platform.TIKTOK else 0
        targeted = bool(config.video_ids)
        with warehouse.connect() as con:
            videos = load_video_schedules(con, platform, start, config.video_ids or None)
        # Network I/O: no warehouse connection is open here; results stay in memory until the write.
        results, due_total = _plan_and_scrape(context, client, videos, hours, targeted, client.observes_past)
        with warehouse.connect() as con:
            summary = write_scrape_results(con, results)
            checks = snapshot_check_results(con, platform, context.partition_keys)
        outcomes: dict[str, int] = {}
        for r in results:
            outcomes[Outcome(r.attempt.outcome).value] = outcomes.get(Outcome(r.attempt.outcome).value, 0) + 1
        context.log.info(f"{platform.value}: {len(results)} attempts over {len(hours)} hour(s); outcomes {outcomes}")
        return MaterializeResult(
            metadata={
                "hours": len(hours),
                "videos_due": due_total,
                "attempts": len(results),
                "outcomes": MetadataValue.json(outcomes),
                "targeted_videos": len(config.video_ids),
                "short_links_resolved": resolved,
                "client": client.source,
                **{f"write_{k}": v for k, v in dataclasses.asdict(summary).items()},
            },
            check_results=checks,
        )

    return snapshot_asset


snapshot_assets = [build_snapshot_asset(p) for p in Platform]
