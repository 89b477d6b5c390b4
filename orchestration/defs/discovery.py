"""Three hourly-partitioned assets per platform for watched accounts: plan (a short read), discover (no pool slot),
then record (pooled).

* ``plans/{platform}_accounts`` reads the platform's watched accounts with their last attempt on the warehouse
  host and stages them (:mod:`viewtrail.pipeline.staging`), so the discovery runs on any host.
* ``discovery/{platform}`` decides from that plan which accounts are due in the partition (their discovery
  cadence since the last attempt), lists each one's metrics and recent videos through the platform's account
  client, and stages the results. Like the scrapes, it opens no warehouse and holds no ``duckdb`` pool slot.
* ``raw/{platform}_accounts`` records the staged batch in one short write (pool ``duckdb``), hour by hour: every
  attempt in ``raw.account_attempts``, the metrics in ``raw.account_snapshots``, and the new videos registered
  (``auto``) or put in the inbox (``review``). Discovered videos are then due like any newly tracked video: the
  scrape of the same hour observes them, and the new-videos sensor gives them a first snapshot within seconds.

A run killed before the record leaves staged files nobody loads: the accounts are still due and the next run
discovers them afresh; recording the same batch twice changes nothing (keys, and videos registered once).
"""

# No `from __future__ import annotations`: Dagster reads the asset functions' annotations at definition time.
import dataclasses
import socket

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
    by_platform,
    nothing_staged,
    plan_step,
    run_batch_id,
    run_window,
    staged_result,
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


def account_plan_asset_key(platform: Platform | str) -> AssetKey:
    return AssetKey(["plans", f"{Platform(platform).value}_accounts"])


ACCOUNT_PLAN_ASSET_KEYS = [account_plan_asset_key(p) for p in Platform]
DISCOVERY_ASSET_KEYS = [discovery_asset_key(p) for p in Platform]
ACCOUNTS_ASSET_KEYS = [accounts_asset_key(p) for p in Platform]


class DiscoveryRunConfig(Config):
    """Targeted runs (`viewtrail watch`'s first look) name their accounts; scheduled runs leave this empty."""

    account_ids: list[str] = Field(default_factory=list, description="Only these accounts, whatever their cadence.")


def build_account_plan_asset(platform: Platform):
    @plan_step(
        account_plan_asset_key(platform),
        f"Reads the watched {platform.value} accounts and when each was last discovered on the warehouse host "
        f"and stages them for discovery/{platform.value}, which then runs on any host.",
    )
    def account_plan_asset(
        context: AssetExecutionContext, config: DiscoveryRunConfig, warehouse: WarehouseResource
    ) -> MaterializeResult:
        with warehouse.connect() as con:  # a short read (read-write: a fresh warehouse gets created and migrated)
            watched = load_watched_accounts(con, platform, config.account_ids or None)
        plan = staging.AccountPlan(targeted=bool(config.account_ids), accounts=watched)
        path = staging.stage_account_plan(staging_root(warehouse), platform, run_batch_id(context), plan)
        return staged_result(path, accounts_watched=len(watched))

    return account_plan_asset


def build_discovery_asset(platform: Platform):
    @asset(
        key=discovery_asset_key(platform),
        deps=[account_plan_asset_key(platform)],
        partitions_def=hourly_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        group_name="raw",
        kinds={"python", "json"},
        op_tags=SCRAPE_STEP,
        description=(
            f"Lists the metrics and recent videos of the watched {platform.value} accounts due in the partition "
            f"from the plan plans/{platform.value}_accounts staged, and stages them for raw/{platform.value}_accounts "
            "to record. Opens no warehouse and holds no pool slot: runs on any host."
        ),
    )
    def discovery_asset(
        context: AssetExecutionContext,
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
        plan_path = staging.account_plan_dir(staging_root(warehouse), platform, run_batch_id(context))
        staged_plan = staging.load_account_plan(plan_path)
        if staged_plan is None:
            raise Failure(
                description=nothing_staged(context, platform, plan_path, account_plan_asset_key(platform), "plan")
            )
        watched = staged_plan.accounts
        plan = plan_discoveries(
            watched, hours_in(start, end), observes_past=client.observes_past, targeted=staged_plan.targeted
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
                "staged_on": socket.gethostname(),
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
            raise Failure(description=nothing_staged(context, platform, path, discovery_asset_key(platform), "batch"))
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
        staging.discard(staging.account_plan_dir(staging_root(warehouse), platform, run_batch_id(context)))
        staging.sweep(staging_root(warehouse), older_than=STALE_BATCH_AGE)
        if registered and len(context.partition_keys) == 1:
            # An hourly run: the new videos get their first snapshot now (sensor), not at the next hour's scrape.
            # A backfill's scrape of the same range observes them from when they were discovered.
            queue.enqueue_new_videos(registered)
        return MaterializeResult(metadata={**totals, "videos_registered": len(registered)})

    return accounts_asset


account_plan_assets = [build_account_plan_asset(p) for p in Platform]
discovery_assets = [build_discovery_asset(p) for p in Platform]
accounts_assets = [build_accounts_asset(p) for p in Platform]
#: Plan, discovery and record of each platform, in platform order.
account_assets = by_platform([account_plan_assets, discovery_assets, accounts_assets])


def account_assets_of(*platforms: Platform | str) -> list:
    """The plan, discovery and record assets of ``platforms`` (every platform when none is named), ready to
    materialize."""
    return by_platform([account_plan_assets, discovery_assets, accounts_assets], *platforms)
