"""The ``alerts/alert_events`` asset: alert rules evaluated after each dbt build (docs/alerts.md).

Thin wiring around :mod:`viewtrail.alerts`. Two steps so that only the write takes the warehouse:

1. ``evaluate_and_deliver_alerts`` (no pool): reads the rules, past events and open deliveries from the warehouse
   (a few small queries, closed at once) and the marts from the published analyst copy (read-only, for a moment,
   closed again), evaluates, and delivers the new events and the retries that are due with no connection open;
2. ``record_alert_events`` (pool ``duckdb``): one short transaction storing the events and delivery states.

It runs after ``analytics_copy`` (it reads what that published) and depends on the marts, so the lineage shows
marts -> alerts. Its events reach the analyst copy (``marts.alert_events``) with the next publish.
"""

from pathlib import Path

import duckdb
from dagster import (
    AssetIn,
    AssetKey,
    In,
    MetadataValue,
    Nothing,
    OpExecutionContext,
    Out,
    Output,
    graph_asset,
    op,
)

from orchestration.defs.dbt import DBT_AUTOMATION
from orchestration.defs.resources import WarehouseResource
from viewtrail.alerts import store
from viewtrail.alerts.channels import channels_file
from viewtrail.alerts.evaluate import AlertInputs
from viewtrail.alerts.service import AlertRun, AlertState, run_alerts, sent_counts
from viewtrail.clock import utc_now

ALERTS_KEY = AssetKey(["alerts", "alert_events"])


@op(
    ins={"after_publish": In(Nothing)},
    out=Out(AlertRun),
    description="Evaluate the alert rules on the analyst copy and deliver, with no warehouse connection open.",
)
def evaluate_and_deliver_alerts(context: OpExecutionContext, warehouse: WarehouseResource) -> AlertRun:
    now = utc_now()
    copy = Path(warehouse.analytics_path)
    # the rules, past events and open deliveries: a few small queries on the warehouse, always current (the copy
    # lags by one evaluation, and a rule just added should count)
    with warehouse.connect() as con:
        state = store.read_state(con, now)
        urls = store.channel_urls(con, channels_file(Path(warehouse.path)))
    if not state.rules and not state.open_deliveries:
        context.log.info("no alert rule: nothing to evaluate")
        return AlertRun()
    if not copy.exists():
        context.log.info("no analyst copy yet: only the due retries are delivered")
        return run_alerts(
            AlertState(before=state.before, open_deliveries=state.open_deliveries, open_messages=state.open_messages),
            AlertInputs(),
            urls,
            now,
        )
    con = duckdb.connect(str(copy), read_only=True)  # the marts, read-only, for a moment
    try:
        inputs = store.read_inputs(con, state.rules, now)
    finally:
        con.close()
    run = run_alerts(state, inputs, urls, now)  # network I/O: the copy is closed, the warehouse never opened
    context.log.info(
        f"{len(state.rules)} rule(s): {len(run.events)} new event(s), deliveries {sent_counts(run.deliveries)}"
    )
    return run


@op(pool="duckdb", description="Store the alert events and delivery states in one short transaction.")
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


@graph_asset(
    key=ALERTS_KEY,
    ins={"analytics_copy": AssetIn(AssetKey("analytics_copy"), dagster_type=Nothing)},
    group_name="published",
    kinds={"duckdb"},
    automation_condition=DBT_AUTOMATION,
    description=(
        "Alert rules evaluated on the marts after each build; events stored in raw.alert_events (+ deliveries per "
        "channel), published as marts.alert_events. See docs/alerts.md."
    ),
)
def alert_events(analytics_copy):
    return record_alert_events(evaluate_and_deliver_alerts(analytics_copy))
