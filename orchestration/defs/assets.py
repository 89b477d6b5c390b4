"""Two hourly-partitioned assets per platform: scrape (no pool slot), then load into the warehouse (pooled).

* ``scrapes/{platform}`` plans the partition from the registry (a short read), scrapes through the platform
  client and stages the results on disk (:mod:`viewtrail.pipeline.staging`). It holds no ``duckdb`` pool slot, so
  the platforms scrape at the same time and dbt never waits for a slow platform's network I/O.
* ``raw/{platform}_snapshots`` loads the staged batch of its run in one short write (pool ``duckdb``), then
  runs the asset checks. A run killed between the two leaves a staged batch nobody loads: the next run of the
  partition scrapes afresh (nothing was written, so the videos are still due), and the orphan is swept later.

Why one pair per platform rather than one asset with a platform dimension: a blocked or out-of-quota
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


SNAPSHOT_ASSET_KEYS = [snapshot_asset_key(p) for p in Platform]
SCRAPE_ASSET_KEYS = [scrape_asset_key(p) for p in Platform]


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


def require_warehouse_here(warehouse: WarehouseResource) -> None:
    """A scrape or discovery step plans with a short read of the warehouse. With staging in object storage (steps
    on several hosts) a worker without the warehouse file must say so, not create an empty warehouse of its own
    and scrape nothing."""
    if warehouse.staging_url and not Path(warehouse.path).exists():
        raise Failure(
            description=(
                f"On host {socket.gethostname()} there is no warehouse at {warehouse.path}: scrape workers plan from "
                "the warehouse, so run them on the warehouse host (docs/deploy.md), or check VIEWTRAIL_WAREHOUSE."
            )
        )


def run_batch_id(context: AssetExecutionContext) -> str:
    """Both steps of a run, and a re-execution of its write step, name the same batch."""
    run = context.run
    key_range = context.partition_key_range
    return f"{key_range.start}..{key_range.end}-{run.root_run_id or run.run_id}"


def _resolve_links(context: AssetExecutionContext, client: PlatformClient, pending: pl.DataFrame):
    """Resolve pending TikTok short links (network). Returns (resolved pairs, schedules of the new videos)."""
    if pending.height == 0 or (vt_config.offline() and client.source != "simulated"):
        return [], []  # VIEWTRAIL_OFFLINE: no network, links stay pending
    resolved: list[tuple[str, VideoRef]] = []
    schedules: list[VideoSchedule] = []
    for row in pending.iter_rows(named=True):
        try:
            ref = resolve_short_link_sync(client, row["url"])
        except Exception as error:  # noqa: BLE001 - a bad link must not stop the partition
            context.log.warning(f"short link {row['url']} not resolved yet: {error}")
            continue
        resolved.append((row["url"], ref))
        schedules.append(
            VideoSchedule(
                video_id=ref.video_id,
                platform=ref.platform,
                external_id=ref.external_id,
                url=ref.url,
                account=ref.account,
                is_active=True,
                availability="available",
                cadence=row["cadence"],
                track_until=row["track_until"],
                posted_at=None,
                added_at=row["added_at"],
            )
        )
    return resolved, schedules


def build_scrape_asset(platform: Platform):
    key = scrape_asset_key(platform)

    @asset(
        key=key,
        partitions_def=hourly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        group_name="raw",
        kinds={"python", "parquet"},
        op_tags=SCRAPE_STEP,
        description=(
            f"Scrapes the tracked {platform.value} videos due in the partition and stages the results on disk "
            f"(data/staging/{platform.value}/) for raw/{platform.value}_snapshots to load. Holds no warehouse "
            "pool slot: platforms scrape in parallel."
        ),
    )
    def scrape_asset(
        context: AssetExecutionContext,
        config: SnapshotRunConfig,
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
        require_warehouse_here(warehouse)
        with warehouse.connect() as con:  # a short read (read-write: a fresh warehouse gets created and migrated)
            videos = load_video_schedules(con, platform, start, config.video_ids or None)
            pending = pending_links(con).filter(pl.col("platform") == platform.value)
        resolves = platform_spec(platform.value).resolves_short_links
        links, new_videos = _resolve_links(context, client, pending) if resolves else ([], [])
        known = {v.video_id for v in videos}
        videos += [v for v in new_videos if v.video_id not in known]
        plan = plan_scrapes(
            videos,
            hours,
            targeted=bool(config.video_ids),
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
                "targeted_videos": len(config.video_ids),
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
            raise Failure(description=_no_batch(context, platform, path))
        with warehouse.connect() as con:
            resolved = resolve_pending_links(con, batch.links)
            summary = write_scrape_frames(con, batch.snapshots, batch.attempts)
            checks = snapshot_check_results(con, platform, context.partition_keys)
        staging.discard(path)
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


def _staged_by_scrape_step(context: AssetExecutionContext, platform: Platform) -> tuple[str, str] | None:
    """Where and on which host this run's scrape step of ``platform`` staged its batch (its metadata)."""
    key = scrape_asset_key(platform)
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


def _no_batch(context: AssetExecutionContext, platform: Platform, path: staging.Location) -> str:
    """Why there is no batch to load, in one sentence: the scrape step died, or it staged somewhere this host does
    not look (a worker whose VIEWTRAIL_STAGING_URL differs)."""
    here = socket.gethostname()
    staged = _staged_by_scrape_step(context, platform)
    if staged is not None and staged[0] != str(path):
        where, host = staged
        return (
            f"The {platform.value} scrape step staged this run's batch at {where} on host {host}, but this step on "
            f"host {here} looks for it at {path}: set {vt_config.STAGING_URL} to the same s3:// location in the "
            "environment of every scrape and warehouse worker, restart them, and re-run the partition."
        )
    return (
        f"No staged {platform.value} scrape results for this run at {path} (the scrape step did not finish); "
        "re-run the partition to scrape again."
    )


def paired_by_platform(network_assets: list, write_assets: list, *platforms: Platform | str) -> list:
    """Each platform's network asset then its pooled write (every platform when none is named), in
    platform order: what one run of those platforms materializes."""
    wanted = [Platform(p) for p in platforms] or list(Platform)
    index = list(Platform).index
    return [a for p in wanted for a in (network_assets[index(p)], write_assets[index(p)])]


scrape_assets = [build_scrape_asset(p) for p in Platform]
snapshot_assets = [build_snapshot_asset(p) for p in Platform]
#: Scrape and load of each platform, in platform order: [scrape tiktok, load tiktok, scrape youtube, ...].
platform_assets = paired_by_platform(scrape_assets, snapshot_assets)


def assets_of(*platforms: Platform | str) -> list:
    """The scrape and load assets of ``platforms`` (every platform when none is named), ready to materialize."""
    return paired_by_platform(scrape_assets, snapshot_assets, *platforms)
