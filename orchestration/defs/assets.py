"""Three hourly-partitioned assets per platform: plan (a short read), scrape (no pool slot), then load into the
warehouse (pooled).

* ``plans/{platform}`` reads what the partition needs from the registry (the platform's videos with their last
  attempt before the partition, its pending short links) on the warehouse host and stages it
  (:mod:`viewtrail.pipeline.staging`): the only step of the three that reads the warehouse before the write.
* ``scrapes/{platform}`` reads that staged plan, decides which videos are due, scrapes through the platform client
  and stages the results. It opens no warehouse and holds no ``duckdb`` pool slot, so it runs on any host (with
  staging in object storage), the platforms scrape at the same time and dbt never waits for a slow platform.
* ``raw/{platform}_snapshots`` loads the staged batch of its run in one short write (pool ``duckdb``), then
  runs the asset checks, and removes the batch and the plan. A run killed before the load leaves staged files
  nobody loads: the next run of the partition plans and scrapes afresh (nothing was written, so the videos are
  still due), and the orphans are swept later.

Why one set per platform rather than one asset with a platform dimension: a blocked or out-of-quota
platform then fails or degrades only its own assets and partitions; each platform keeps its own
materialization history and checks; and single-run backfills stay on a plain time partitioning
(multi-partitions + single-run backfills have open bugs in Dagster 1.13).
"""

# No `from __future__ import annotations`: Dagster reads the asset functions' annotations at definition time.
import dataclasses
import socket
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Config,
    DagsterEventType,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from orchestration.defs.checks import snapshot_check_results, snapshot_check_specs
from orchestration.defs.partitions import hourly_partitions
from orchestration.defs.queues import SCRAPE_STEP, WAREHOUSE_STEP
from orchestration.defs.resources import PlatformClientsResource, WarehouseResource
from viewtrail import config as vt_config
from viewtrail.clock import naive_utc, utc_now
from viewtrail.domain.errors import ViewtrailError
from viewtrail.domain.models import Platform, VideoRef
from viewtrail.domain.platforms import platform_spec
from viewtrail.pipeline import staging
from viewtrail.planning.scheduling import VideoSchedule, auto_cadence_from_env, hours_in, load_video_schedules
from viewtrail.planning.scraping import execute_plan, plan_scrapes
from viewtrail.platforms.base import PlatformClient, resolve_short_link_sync
from viewtrail.warehouse.registry import pending_links, resolve_pending_links
from viewtrail.warehouse.snapshots import write_scrape_frames

#: A real client observes "now": partitions whose hour ended longer ago than this are refused.
REAL_CLIENT_MAX_LAG = timedelta(hours=2)
#: Staged batches older than this were left by runs that died before their write: removed by the next write.
STALE_BATCH_AGE = timedelta(days=1)


def snapshot_asset_key(platform: Platform | str) -> AssetKey:
    return AssetKey(["raw", f"{Platform(platform).value}_snapshots"])


def scrape_asset_key(platform: Platform | str) -> AssetKey:
    return AssetKey(["scrapes", Platform(platform).value])


def plan_asset_key(platform: Platform | str) -> AssetKey:
    return AssetKey(["plans", Platform(platform).value])


SNAPSHOT_ASSET_KEYS = [snapshot_asset_key(p) for p in Platform]
SCRAPE_ASSET_KEYS = [scrape_asset_key(p) for p in Platform]
PLAN_ASSET_KEYS = [plan_asset_key(p) for p in Platform]


class SnapshotRunConfig(Config):
    """Targeted runs (sensors, `viewtrail rescrape`) name their videos; scheduled runs leave this empty."""

    video_ids: list[str] = Field(default_factory=list, description="Only these videos, observed now.")


def run_window(context: AssetExecutionContext) -> tuple[datetime, datetime]:
    window = context.partition_time_window
    return naive_utc(window.start), naive_utc(window.end)


def staging_root(warehouse: WarehouseResource) -> staging.Location:
    """Staged batches live beside the warehouse they are loaded into (``<data dir>/staging``), or in object storage
    (``VIEWTRAIL_STAGING_URL``) when scrape workers on other hosts hand them to the warehouse's writer."""
    if warehouse.staging_url:
        return warehouse.staging_url
    return Path(warehouse.path).absolute().parent / "staging"


def run_batch_id(context: AssetExecutionContext) -> str:
    """Every step of a run, and a re-execution of any of them, name the same plan and batch."""
    run = context.run
    key_range = context.partition_key_range
    return f"{key_range.start}..{key_range.end}-{run.root_run_id or run.run_id}"


def _resolve_links(context: AssetExecutionContext, client: PlatformClient, pending: list[staging.PendingLink]):
    """Resolve pending TikTok short links (network). Returns (resolved pairs, schedules of the new videos)."""
    if not pending or (vt_config.offline() and client.source != "simulated"):
        return [], []  # VIEWTRAIL_OFFLINE: no network, links stay pending
    resolved: list[tuple[str, VideoRef]] = []
    schedules: list[VideoSchedule] = []
    for link in pending:
        try:
            ref = resolve_short_link_sync(client, link.url)
        except Exception as error:  # noqa: BLE001 - a bad link must not stop the partition
            context.log.warning(f"short link {link.url} not resolved yet: {error}")
            continue
        resolved.append((link.url, ref))
        schedules.append(
            VideoSchedule(
                video_id=ref.video_id,
                platform=ref.platform,
                external_id=ref.external_id,
                url=ref.url,
                account=ref.account,
                is_active=True,
                availability="available",
                cadence=link.cadence,
                track_until=link.track_until,
                posted_at=None,
                added_at=link.added_at,
            )
        )
    return resolved, schedules


def plan_step(key: AssetKey, description: str):
    """The shape of every plan step: an hourly asset on the warehouse queue that reads the registry and stages what
    its scrape or discovery step (on any host) needs."""
    return asset(
        key=key,
        partitions_def=hourly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        group_name="raw",
        kinds={"duckdb", "json"},
        op_tags=WAREHOUSE_STEP,
        description=description,
    )


def staged_result(path: Path | str, **counts: int) -> MaterializeResult:
    """A plan step's result: its counts, where the plan was staged and on which host."""
    return MaterializeResult(
        metadata={**counts, "staged": MetadataValue.path(str(path)), "staged_on": socket.gethostname()}
    )


def build_plan_asset(platform: Platform):
    @plan_step(
        plan_asset_key(platform),
        f"Reads what the partition's {platform.value} scrape needs from the registry (the videos with their "
        "last attempt before the partition, the pending short links) on the warehouse host and stages it for "
        f"scrapes/{platform.value}, which then runs on any host.",
    )
    def plan_asset(
        context: AssetExecutionContext, config: SnapshotRunConfig, warehouse: WarehouseResource
    ) -> MaterializeResult:
        start, _end = run_window(context)
        resolves = platform_spec(platform.value).resolves_short_links
        with warehouse.connect() as con:  # a short read (read-write: a fresh warehouse gets created and migrated)
            videos = load_video_schedules(con, platform, start, config.video_ids or None)
            pending = pending_links(con).filter(pl.col("platform") == platform.value) if resolves else None
        links = [
            staging.PendingLink(row["url"], row["cadence"], row["track_until"], row["added_at"])
            for row in (pending.iter_rows(named=True) if pending is not None else ())
        ]
        plan = staging.VideoPlan(targeted=bool(config.video_ids), videos=videos, pending_links=links)
        path = staging.stage_plan(staging_root(warehouse), platform, run_batch_id(context), plan)
        return staged_result(path, videos=len(videos), pending_links=len(links), targeted_videos=len(config.video_ids))

    return plan_asset


def build_scrape_asset(platform: Platform):
    key = scrape_asset_key(platform)

    @asset(
        key=key,
        deps=[plan_asset_key(platform)],
        partitions_def=hourly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        group_name="raw",
        kinds={"python", "parquet"},
        op_tags=SCRAPE_STEP,
        description=(
            f"Scrapes the tracked {platform.value} videos due in the partition, from the plan plans/"
            f"{platform.value} staged, and stages the results (data/staging/{platform.value}/, or object storage) "
            f"for raw/{platform.value}_snapshots to load. Opens no warehouse and holds no pool slot: platforms "
            "scrape in parallel, on any host."
        ),
    )
    def scrape_asset(
        context: AssetExecutionContext,
        warehouse: WarehouseResource,
        platforms: PlatformClientsResource,
    ) -> MaterializeResult:
        start, end = run_window(context)
        hours = hours_in(start, end)
        try:
            client = platforms.build(platform)
        except ViewtrailError as error:  # a setting missing on this worker: say which host lacks it
            raise Failure(description=f"On host {socket.gethostname()}: {error}") from None
        if not client.observes_past and end < utc_now() - REAL_CLIENT_MAX_LAG:
            raise Failure(
                description=(
                    f"The {platform.value} client is in real mode and can only observe the present, but partition "
                    f"{context.partition_key_range.start}..{context.partition_key_range.end} ended at "
                    f"{end:%Y-%m-%d %H:%M} UTC. Backfill old partitions only with the simulated platform; real "
                    "scrapes run for the hour that just ended."
                )
            )
        plan_path = staging.plan_dir(staging_root(warehouse), platform, run_batch_id(context))
        staged_plan = staging.load_plan(plan_path)
        if staged_plan is None:
            raise Failure(description=nothing_staged(context, platform, plan_path, plan_asset_key(platform), "plan"))
        videos = list(staged_plan.videos)
        links, new_videos = _resolve_links(context, client, staged_plan.pending_links)
        known = {v.video_id for v in videos}
        videos += [v for v in new_videos if v.video_id not in known]
        plan = plan_scrapes(
            videos,
            hours,
            targeted=staged_plan.targeted,
            observes_past=client.observes_past,
            cadence_table=auto_cadence_from_env(),
        )
        started = utc_now()
        outcome = execute_plan(plan, client, run_id=context.run.run_id)
        finished = utc_now()
        path = staging.stage(staging_root(warehouse), platform, run_batch_id(context), outcome.results, links)
        counts = outcome.outcome_counts()
        context.log.info(f"{platform.value}: {len(outcome.results)} attempts over {len(hours)} hour(s); {counts}")
        return MaterializeResult(
            metadata={
                "hours": len(hours),
                "videos_due": outcome.videos_due,
                "attempts": len(outcome.results),
                "outcomes": MetadataValue.json(counts),
                "targeted_videos": len(staged_plan.videos) if staged_plan.targeted else 0,
                "short_links_resolved": len(links),
                "client": client.source,
                "scrape_started_at": started.isoformat(sep=" "),
                "scrape_finished_at": finished.isoformat(sep=" "),
                "staged": MetadataValue.path(str(path)),
                "staged_on": socket.gethostname(),
            }
        )

    return scrape_asset


def build_snapshot_asset(platform: Platform):
    key = snapshot_asset_key(platform)

    @asset(
        key=key,
        deps=[scrape_asset_key(platform)],
        partitions_def=hourly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        pool="duckdb",
        op_tags=WAREHOUSE_STEP,
        group_name="raw",
        kinds={"duckdb", "python"},
        description=(
            f"Hourly snapshots of tracked {platform.value} videos in raw.snapshots (and every attempt in "
            f"raw.scrape_attempts), loaded from the batch scrapes/{platform.value} staged in the same run."
        ),
        check_specs=snapshot_check_specs(key),
    )
    def snapshot_asset(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        path = staging.batch_dir(staging_root(warehouse), platform, run_batch_id(context))
        batch = staging.load(path)
        if batch is None:
            raise Failure(description=nothing_staged(context, platform, path, scrape_asset_key(platform), "batch"))
        with warehouse.connect() as con:
            resolved = resolve_pending_links(con, batch.links)
            summary = write_scrape_frames(con, batch.snapshots, batch.attempts)
            checks = snapshot_check_results(con, platform, context.partition_keys)
        staging.discard(path)
        staging.discard(staging.plan_dir(staging_root(warehouse), platform, run_batch_id(context)))
        swept = staging.sweep(staging_root(warehouse), older_than=STALE_BATCH_AGE)
        if swept:
            context.log.warning(f"removed {len(swept)} staged batch(es) left by runs that died before loading")
        return MaterializeResult(
            metadata={
                "attempts": batch.attempts.height,
                "snapshots": batch.snapshots.height,
                "short_links_registered": len(resolved),
                **{f"write_{k}": v for k, v in dataclasses.asdict(summary).items()},
            },
            check_results=checks,
        )

    return snapshot_asset


def _staged_by(context: AssetExecutionContext, key: AssetKey) -> tuple[str, str] | None:
    """Where and on which host this run's step of ``key`` staged its output (its metadata)."""
    for run_id in dict.fromkeys([context.run.run_id, context.run.parent_run_id, context.run.root_run_id]):
        if not run_id:
            continue
        for entry in context.instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
            materialization = entry.asset_materialization
            if materialization is not None and materialization.asset_key == key:
                metadata = materialization.metadata
                if "staged" in metadata and "staged_on" in metadata:
                    return str(metadata["staged"].value), str(metadata["staged_on"].value)
    return None


def nothing_staged(
    context: AssetExecutionContext, platform: Platform, path: staging.Location, upstream: AssetKey, what: str
) -> str:
    """Why there is no staged ``what`` (batch, plan) to read, in one sentence: the ``upstream`` step died, or it
    staged somewhere this host does not look (a worker whose VIEWTRAIL_STAGING_URL differs)."""
    here = socket.gethostname()
    step = upstream.to_user_string()
    staged = _staged_by(context, upstream)
    if staged is not None and staged[0] != str(path):
        where, host = staged
        return (
            f"The {step} step staged this run's {what} at {where} on host {host}, but this step on "
            f"host {here} looks for it at {path}: set {vt_config.STAGING_URL} to the same s3:// location in the "
            "environment of every scrape and warehouse worker, restart them, and re-run the partition."
        )
    return (
        f"No staged {platform.value} {what} for this run at {path} (the {step} step did not finish); "
        "re-run the partition."
    )


def by_platform(asset_lists: list[list], *platforms: Platform | str) -> list:
    """Each platform's assets, one from each of ``asset_lists`` in that order (every platform when none is
    named), in platform order: what one run of those platforms materializes."""
    wanted = [Platform(p) for p in platforms] or list(Platform)
    index = list(Platform).index
    return [assets[index(p)] for p in wanted for assets in asset_lists]


plan_assets = [build_plan_asset(p) for p in Platform]
scrape_assets = [build_scrape_asset(p) for p in Platform]
snapshot_assets = [build_snapshot_asset(p) for p in Platform]
#: Plan, scrape and load of each platform, in platform order: [plan tiktok, scrape tiktok, load tiktok, ...].
platform_assets = by_platform([plan_assets, scrape_assets, snapshot_assets])


def assets_of(*platforms: Platform | str) -> list:
    """The plan, scrape and load assets of ``platforms`` (every platform when none is named), ready to materialize."""
    return by_platform([plan_assets, scrape_assets, snapshot_assets], *platforms)
