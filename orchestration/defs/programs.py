"""The ``raw/payout_finalizations`` asset: creator programs' payable views frozen after each scrape load.

Thin wiring around :func:`viewtrail.warehouse.programs.finalize_payouts` (rules in ``viewtrail/domain/programs.py``):
one short write in the ``duckdb`` pool, after the snapshot assets and before the dbt marts that read the ledger
(dbt's source ``raw.payout_finalizations`` is this asset's key, so the lineage reads snapshots -> finalizations
-> video_payouts / creator_payouts). Idempotent: a finalized video is never written again, so a re-run after a
crash, or a second run at once, stores each finalization exactly once.
"""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.defs.assets import SNAPSHOT_ASSET_KEYS
from orchestration.defs.dbt import DBT_AUTOMATION
from orchestration.defs.queues import WAREHOUSE_STEP
from orchestration.defs.resources import WarehouseResource
from viewtrail.clock import utc_now
from viewtrail.warehouse.programs import finalize_payouts

PAYOUT_FINALIZATIONS_KEY = AssetKey(["raw", "payout_finalizations"])


@asset(
    key=PAYOUT_FINALIZATIONS_KEY,
    deps=list(SNAPSHOT_ASSET_KEYS),
    pool="duckdb",
    op_tags=WAREHOUSE_STEP,
    group_name="programs",
    kinds={"python", "duckdb"},
    automation_condition=DBT_AUTOMATION,
    description=(
        "Creator programs: for every campaign video whose counting window has ended, the payable views at the "
        "window's end (interpolated between snapshots when none sits there, and flagged) and the amount under the "
        "terms in force, frozen once in raw.payout_finalizations (auto-rejections below the minimum in "
        "raw.payout_entries). See docs/metrics.md, Creator programs."
    ),
)
def payout_finalizations(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    with warehouse.connect() as con:
        summary = finalize_payouts(con, now=utc_now(), run_id=context.run_id)
    context.log.info(
        f"{summary.finalized} video payout(s) finalized ({summary.interpolated} interpolated), "
        f"{summary.auto_rejected} rejected below the minimum"
    )
    return MaterializeResult(
        metadata={
            "finalized": MetadataValue.int(summary.finalized),
            "interpolated": MetadataValue.int(summary.interpolated),
            "auto_rejected": MetadataValue.int(summary.auto_rejected),
        }
    )
