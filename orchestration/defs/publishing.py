"""The `analytics_copy` asset: the analyst-facing copy published after each dbt build."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.defs.alerting import ALERTS_KEY
from orchestration.defs.dbt import DBT_AUTOMATION, mart_keys
from orchestration.defs.queues import WAREHOUSE_STEP
from orchestration.defs.resources import WarehouseResource
from viewtrail.pipeline.publish import publish


@asset(
    key=AssetKey("analytics_copy"),
    deps=[*mart_keys(), ALERTS_KEY],  # after the alerts, so the copy holds what this build fired
    pool="duckdb",
    op_tags=WAREHOUSE_STEP,
    group_name="published",
    kinds={"duckdb", "parquet"},
    automation_condition=DBT_AUTOMATION,
    description=(
        "Read-only analyst copy data/analytics.duckdb (written to a temp file, atomically renamed) and Parquet "
        "exports of the marts under data/marts/ (a mart whose content did not change keeps its file). Open these, "
        "never the live warehouse."
    ),
)
def analytics_copy(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    with warehouse.connect() as con:
        summary = publish(
            con, analytics_path=Path(warehouse.analytics_path), export_dir=Path(warehouse.marts_export_dir)
        )
    rewritten = len(summary.marts_exported) - len(summary.marts_unchanged)
    context.log.info(
        f"published {summary.analytics_path}; Parquet marts: {rewritten} rewritten, "
        f"{len(summary.marts_unchanged)} unchanged and left as they were"
    )
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(summary.analytics_path)),
            "parquet_dir": MetadataValue.path(str(summary.export_dir)),
            "tables": MetadataValue.json(summary.tables),
            "parquet_unchanged": MetadataValue.json(summary.marts_unchanged),
        }
    )
