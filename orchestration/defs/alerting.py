"""The ``alerts/alert_events`` asset: alert rules evaluated after each dbt build (docs/alerts.md).

Thin wiring around :mod:`viewtrail.alerts`. Two steps so that only the write takes the warehouse:

1. ``evaluate_and_deliver_alerts`` (no pool): reads the rules, past events, open deliveries and the marts from the
   warehouse (closed at once), evaluates, and delivers the new events and the retries that are due with no
   connection open;
2. ``record_alert_events`` (pool ``duckdb``): one short transaction storing the events and delivery states.

It runs after the dbt marts and before ``analytics_copy`` (which depends on it), so the events a build fired are in
the analyst copy (``marts.alert_events``) when the build's run ends, not one build later.
"""

from pathlib import Path

from dagster import (
    AssetIn,
    AssetKey,
    AssetSpec,
    In,
    MetadataValue,
    Nothing,
    OpExecutionContext,
    Out,
    Output,
    graph_asset,
    op,
)

from orchestration.defs.dbt import DBT_AUTOMATION, MARTS_GROUP, mart_keys
from orchestration.defs.queues import WAREHOUSE_STEP
from orchestration.defs.resources import WarehouseResource
from viewtrail.alerts import store
from viewtrail.alerts.channels import channels_file
from viewtrail.alerts.evaluate import AlertInputs
from viewtrail.alerts.service import AlertRun, run_alerts, sent_counts
from viewtrail.clock import utc_now

ALERTS_KEY = AssetKey(["alerts", "alert_events"])
#: ``marts.alert_events``: the one mart built in Python rather than by dbt (viewtrail.pipeline.publish).
ALERT_EVENTS_MART_KEY = AssetKey([MARTS_GROUP, "alert_events"])


#: One Nothing input per mart: the alerts read them, and the lineage shows marts -> alerts -> analytics_copy.
_MART_INPUTS = ["_".join(key.path) for key in mart_keys()]


@op(
    ins={name: In(Nothing) for name in _MART_INPUTS},
    out=Out(AlertRun),
    tags=WAREHOUSE_STEP,  # reads the warehouse, and hands its result to the next op through the local disk
    description="Evaluate the alert rules on the marts and deliver, with no warehouse connection open.",
)
def evaluate_and_deliver_alerts(context: OpExecutionContext, warehouse: WarehouseResource) -> AlertRun:
    now = utc_now()
    # the rules, past events, open deliveries and the marts just built, in one short visit to the warehouse: the
    # analyst copy is published after this asset, so that what it fires is in the copy when the run ends
    with warehouse.connect() as con:
        state = store.read_state(con, now)
        urls = store.channel_urls(con, channels_file(Path(warehouse.path)))
        inputs = store.read_inputs(con, state.rules, now) if state.rules else None
    if inputs is None and not state.open_deliveries:
        context.log.info("no alert rule: nothing to evaluate")
        return AlertRun()
    run = run_alerts(state, inputs or AlertInputs(), urls, now)  # network I/O with no connection open
    context.log.info(
        f"{len(state.rules)} rule(s): {len(run.events)} new event(s), deliveries {sent_counts(run.deliveries)}"
    )
    return run


@op(
    pool="duckdb",
    tags=WAREHOUSE_STEP,
    description="Store the alert events and delivery states in one short transaction.",
)
def record_alert_events(context: OpExecutionContext, warehouse: WarehouseResource, run: AlertRun):
    stored = 0
    if run.events or run.deliveries:
        with warehouse.connect() as con:
            stored = store.write_run(con, run)
    by_kind: dict[str, int] = {}
    for event in run.events:
        by_kind[event.kind] = by_kind.get(event.kind, 0) + 1
    # metadata: counts only (no channel URL, no message text)
    yield Output(
        None,
        metadata={
            "events": MetadataValue.int(stored),
            "events_by_kind": MetadataValue.json(by_kind),
            "deliveries": MetadataValue.json(sent_counts(run.deliveries)),
        },
    )


def _alert_events(**marts):
    return record_alert_events(evaluate_and_deliver_alerts(**marts))


alert_events = graph_asset(
    key=ALERTS_KEY,
    ins={name: AssetIn(key, dagster_type=Nothing) for name, key in zip(_MART_INPUTS, mart_keys(), strict=True)},
    group_name="published",
    kinds={"duckdb"},
    automation_condition=DBT_AUTOMATION,
    description=(
        "Alert rules evaluated on the marts after each build, before the analyst copy is published; events stored "
        "in raw.alert_events (+ deliveries per channel), published as marts.alert_events. See docs/alerts.md."
    ),
)(_alert_events)


#: ``marts.alert_events`` in the asset graph, next to the dbt marts (group ``marts``), downstream of the alerts.
#: Declared, not materialized by a step of its own: the analyst copy's publish builds it in the copy and in
#: data/marts/alert_events.parquet from ``raw.alert_events`` + ``raw.alert_deliveries`` (ALERT_EVENTS_SQL in
#: viewtrail.alerts.store), since the alerts run after dbt and a dbt model could not see what the build fired.
alert_events_mart = AssetSpec(
    key=ALERT_EVENTS_MART_KEY,
    deps=[ALERTS_KEY],
    group_name=MARTS_GROUP,
    kinds={"python", "duckdb", "parquet"},
    description=(
        "The one mart built in Python, not by dbt: one row per alert event with its deliveries, written into the "
        "analyst copy (data/analytics.duckdb) and data/marts/alert_events.parquet when analytics_copy publishes. "
        "See docs/schema.md and docs/alerts.md."
    ),
)
