"""Two hourly-partitioned assets per platform for watched accounts: discover (no pool slot), then record (pooled).

* ``discovery/{platform}`` plans which watched accounts are due in the partition (their discovery cadence since
  the last attempt), lists each one's metrics and recent videos through the platform's account client, and
  stages the results on disk (:mod:`viewtrail.pipeline.staging`). Like the scrapes, it holds no ``duckdb`` pool slot.
* ``raw/{platform}_accounts`` records the staged batch in one short write (pool ``duckdb``), hour by hour: every
  attempt in ``raw.account_attempts``, the metrics in ``raw.account_snapshots``, and the new videos registered
  (``auto``) or put in the inbox (``review``). Discovered videos are then due like any newly tracked video: the
  scrape of the same hour observes them, and the new-videos sensor gives them a first snapshot within seconds.

A run killed between the two leaves a staged batch nobody loads: the accounts are still due and the next run
discovers them afresh; recording the same batch twice changes nothing (keys, and videos registered once).
"""

# No `from __future__ import annotations`: Dagster reads the asset functions' annotations at definition time.
import dataclasses

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
from pydantic import Field

from orchestration.defs.assets import (
    REAL_CLIENT_MAX_LAG,
    STALE_BATCH_AGE,
    paired_by_platform,
    require_warehouse_here,
    run_batch_id,
    run_window,
    staging_root,
)
from orchestration.defs.partitions import hourly_partitions
from orchestration.defs.queues import SCRAPE_STEP, WAREHOUSE_STEP
from orchestration.defs.resources import PlatformClientsResource, WarehouseResource
from viewtrail.clock import utc_now
from viewtrail.domain.models import Platform
from viewtrail.pipeline import queue, staging
from viewtrail.planning.discovery import execute_discoveries, plan_discoveries
from viewtrail.planning.scheduling import hours_in
from viewtrail.platforms.accounts import discover_sync
from viewtrail.warehouse.accounts import load_watched_accounts, record_account_hours


def discovery_asset_key(platform: Platform | str) -> AssetKey:
    return AssetKey(["discovery", Platform(platform).value])


def accounts_asset_key(platform: Platform | str) -> AssetKey:
    return AssetKey(["raw", f"{Platform(platform).value}_accounts"])


DISCOVERY_ASSET_KEYS = [discovery_asset_key(p) for p in Platform]
ACCOUNTS_ASSET_KEYS = [accounts_asset_key(p) for p in Platform]


class DiscoveryRunConfig(Config):
    """Targeted runs (`viewtrail watch`'s first look) name their accounts; scheduled runs leave this empty."""

    account_ids: list[str] = Field(default_factory=list, description="Only these accounts, whatever their cadence.")


def build_discovery_asset(platform: Platform):
    @asset(
        key=discovery_asset_key(platform),
        partitions_def=hourly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        group_name="raw",
        kinds={"python", "json"},
        op_tags=SCRAPE_STEP,
        description=(
            f"Lists the metrics and recent videos of the watched {platform.value} accounts due in the partition "
            f"and stages them on disk for raw/{platform.value}_accounts to record. Holds no warehouse pool slot."
        ),
    )
    def discovery_asset(
        context: AssetExecutionContext,
        config: DiscoveryRunConfig,
        warehouse: WarehouseResource,
        platforms: PlatformClientsResource,
    ) -> MaterializeResult:
        start, end = run_window(context)
        client = platforms.build_accounts(platform)
        if not client.observes_past and end < utc_now() - REAL_CLIENT_MAX_LAG:
            raise Failure(
                description=(
                    f"The {platform.value} account client is in real mode and can only observe the present, but "
                    f"partition {context.partition_key_range.start}..{context.partition_key_range.end} ended at "
                    f"{end:%Y-%m-%d %H:%M} UTC. Backfill old partitions only with the simulated platform."
                )
            )
        require_warehouse_here(warehouse)
        with warehouse.connect() as con:  # a short read
            watched = load_watched_accounts(con, platform, config.account_ids or None)
        plan = plan_discoveries(
            watched, hours_in(start, end), observes_past=client.observes_past, targeted=bool(config.account_ids)
        )
        outcome = execute_discoveries(
            plan,
            lambda accounts, run_id, key: discover_sync(client, accounts, run_id=run_id, partition_key=key),
            run_id=context.run.run_id,
        )
        path = staging.stage_accounts(staging_root(warehouse), platform, run_batch_id(context), outcome.steps)
        counts = outcome.outcome_counts()
        context.log.info(f"{platform.value}: {len(outcome.results)} account discoveries; {counts}")
        return MaterializeResult(
            metadata={
                "accounts_watched": len(watched),
                "discoveries": len(outcome.results),
                "outcomes": MetadataValue.json(counts),
                "videos_listed": outcome.videos_listed,
                "client": client.source,
                "staged": MetadataValue.path(str(path)),
            }
        )

    return discovery_asset


def build_accounts_asset(platform: Platform):
    @asset(
        key=accounts_asset_key(platform),
        deps=[discovery_asset_key(platform)],
        partitions_def=hourly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        pool="duckdb",
        op_tags=WAREHOUSE_STEP,
        group_name="raw",
        kinds={"duckdb", "python"},
        description=(
            f"Watched {platform.value} accounts: every discovery in raw.account_attempts, metrics in "
            "raw.account_snapshots, new videos registered (discovery auto) or held in registry.inbox (review)."
        ),
    )
    def accounts_asset(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        path = staging.account_batch_dir(staging_root(warehouse), platform, run_batch_id(context))
        steps = staging.load_accounts(path)
        if steps is None:
            raise Failure(
                description=(
                    f"No staged {platform.value} account discoveries for this run at {path} (the discovery step "
                    "did not finish); re-run the partition to discover again."
                )
            )
        totals: dict[str, int] = {}
        registered: list[str] = []
        # every hour in one write, each as of its last attempt: a backfill's hours commit once
        hours = [(max(r.attempt.attempted_at for r in results), results) for _hour, results in steps]
        with warehouse.connect() as con:
            for written in record_account_hours(con, hours, run_id=context.run.run_id):
                for name, value in dataclasses.asdict(written).items():
                    if isinstance(value, int):
                        totals[name] = totals.get(name, 0) + value
                registered += written.new_video_ids
        staging.discard(path)
        staging.sweep(staging_root(warehouse), older_than=STALE_BATCH_AGE)
        if registered and len(context.partition_keys) == 1:
            # An hourly run: the new videos get their first snapshot now (sensor), not at the next hour's scrape.
            # A backfill's scrape of the same range observes them from when they were discovered.
            queue.enqueue_new_videos(registered)
        return MaterializeResult(metadata={**totals, "videos_registered": len(registered)})

    return accounts_asset


discovery_assets = [build_discovery_asset(p) for p in Platform]
accounts_assets = [build_accounts_asset(p) for p in Platform]
#: Discovery and record of each platform, in platform order.
account_assets = paired_by_platform(discovery_assets, accounts_assets)


def account_assets_of(*platforms: Platform | str) -> list:
    """The discovery and record assets of ``platforms`` (every platform when none is named), ready to materialize."""
    return paired_by_platform(discovery_assets, accounts_assets, *platforms)
