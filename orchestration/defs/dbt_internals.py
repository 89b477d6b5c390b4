"""Every dagster-dbt, dbt-core and dbt-duckdb internal the in-process dbt step relies on, and nothing else.

The in-process step (``orchestration.defs.dbt``) does what ``DbtCliResource.cli(...).stream()`` does without a
dbt subprocess, so it reaches past the public APIs: dagster-dbt's subsetting helpers and its event-to-Dagster
translation, dbt's programmatic runner and event serialisation, and dbt-duckdb's process-wide DuckDB instance.
They live here, each behind one small function, so that an upgrade changing one of them breaks this module only,
and ``tests/test_dbt_internals.py`` names the internal that changed (:data:`INTERNALS`). When an upgrade breaks
one and no fix is at hand, ``VIEWTRAIL_DBT_RUNNER=cli`` runs dbt as a subprocess through ``DbtCliResource``,
which uses none of them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetsDefinition
from dagster_dbt import DagsterDbtTranslator, DbtProject
from dagster_dbt.asset_utils import (
    DAGSTER_DBT_EXCLUDE_METADATA_KEY,
    DAGSTER_DBT_SELECT_METADATA_KEY,
    DAGSTER_DBT_SELECTOR_METADATA_KEY,
    DBT_INDIRECT_SELECTION_ENV,
    get_manifest_and_translator_from_dbt_assets,
    get_subset_selection_for_context,
)
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
from dagster_dbt.dbt_project import DbtProjectPreparer
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt_common.events.functions import msg_to_dict

#: The variable dbt reads its indirect selection mode from (the step passes its value to :func:`selection_args`).
INDIRECT_SELECTION_ENV = DBT_INDIRECT_SELECTION_ENV
#: dagster-dbt's base class of the manifest preparers ``DbtProject`` calls (``prepare_if_dev``, ``prepare``).
ProjectPreparer = DbtProjectPreparer


def manifest_and_translator(
    assets_def: AssetsDefinition,
) -> tuple[Mapping[str, Any], DagsterDbtTranslator, DbtProject | None]:
    """The dbt manifest, translator and project a ``@dbt_assets`` definition was built with."""
    return get_manifest_and_translator_from_dbt_assets([assets_def])


def selection_args(
    context: AssetExecutionContext,
    manifest: Mapping[str, Any],
    translator: DagsterDbtTranslator,
    indirect_selection: str | None,
) -> list[str]:
    """dbt selection for the assets and checks this step materializes: dagster-dbt's own subsetting logic (all
    models with eager test selection, or the Dagster subset by name); ``indirect_selection`` is the value of
    :data:`INDIRECT_SELECTION_ENV` in the environment."""
    op_tags = context.op_execution_context.op.tags
    selection, indirect = get_subset_selection_for_context(
        context=context,
        manifest=manifest,
        select=op_tags.get(DAGSTER_DBT_SELECT_METADATA_KEY),
        exclude=op_tags.get(DAGSTER_DBT_EXCLUDE_METADATA_KEY),
        selector=op_tags.get(DAGSTER_DBT_SELECTOR_METADATA_KEY),
        dagster_dbt_translator=translator,
        current_dbt_indirect_selection_env=indirect_selection,
    )
    return [*selection, *(["--indirect-selection", indirect] if indirect else [])]


def event_as_dict(msg: Any) -> dict[str, Any]:
    """A dbt event as the JSON dict dbt logs (what dagster-dbt reads from a subprocess's stdout)."""
    return msg_to_dict(msg)


def event_name(msg: Any) -> str:
    """The event type of a dbt event (``LogModelResult`` ...)."""
    return msg.info.name


def event_is_error(msg: Any) -> bool:
    return msg.info.level == "error"


def event_text(msg: Any) -> str:
    return msg.info.msg


def event_node_id(msg: Any) -> str:
    """The unique id of the node a dbt node event is about (``model.viewtrail.video_daily``), or ""."""
    node_info = getattr(msg.data, "node_info", None)
    return str(getattr(node_info, "unique_id", "") or "")


def result_status(event: Mapping[str, Any]) -> tuple[str, str]:
    """``(unique_id, status)`` of a node-result event dict."""
    data = event["data"]
    return data["node_info"]["unique_id"], data.get("status", "")


def dagster_events(
    event: dict[str, Any],
    *,
    manifest: Mapping[str, Any],
    translator: DagsterDbtTranslator,
    context: AssetExecutionContext,
    target_path: Path,
    project: DbtProject | None,
) -> Iterator[Any]:
    """The Dagster events dagster-dbt makes of one dbt result event: an Output per model, an AssetCheckResult per
    data test."""
    message = DbtCoreCliEventMessage(raw_event=event, event_history_metadata={})
    yield from message.to_default_asset_events(
        manifest=manifest,
        dagster_dbt_translator=translator,
        context=context,
        target_path=target_path,
        project=project,
    )


def run_dbt(args: Sequence[str], on_event: Callable[[Any], None] | None = None) -> Any:
    """One dbt command in this process (dbt's programmatic runner); returns its ``dbtRunnerResult``."""
    from dbt.cli.main import dbtRunner  # ~0.5 s to import: paid by the dbt step, not by every load of the location

    return dbtRunner(callbacks=[on_event] if on_event else []).invoke(list(args))


def close_duckdb_instance() -> None:
    """dbt-duckdb keeps its DuckDB instance open in the process after a command; close it so the warehouse file
    is free for the next step (and for other processes) as it is after a dbt subprocess exits."""
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            try:
                DuckDBConnectionManager._ENV.close()
            finally:
                DuckDBConnectionManager._ENV = None


# --- what an upgrade must keep (tests/test_dbt_internals.py) ----------------------------------------------------


def _parameters(function: Callable[..., Any]) -> set[str]:
    return set(inspect.signature(function).parameters)


def _has_parameters(function: Callable[..., Any], *names: str) -> None:
    missing = set(names) - _parameters(function)
    assert not missing, f"no parameter(s) {sorted(missing)}; it now takes {sorted(_parameters(function))}"


def _probe_subset_selection() -> None:
    _has_parameters(
        get_subset_selection_for_context,
        "context",
        "manifest",
        "select",
        "exclude",
        "selector",
        "dagster_dbt_translator",
        "current_dbt_indirect_selection_env",
    )
    for constant in (
        DAGSTER_DBT_SELECT_METADATA_KEY,
        DAGSTER_DBT_EXCLUDE_METADATA_KEY,
        DAGSTER_DBT_SELECTOR_METADATA_KEY,
        DBT_INDIRECT_SELECTION_ENV,
    ):
        assert isinstance(constant, str) and constant, f"a selection constant is now {constant!r}"


def _probe_manifest_and_translator() -> None:
    _has_parameters(get_manifest_and_translator_from_dbt_assets, "dbt_assets")


def _probe_event_message() -> None:
    _has_parameters(DbtCoreCliEventMessage, "raw_event", "event_history_metadata")
    _has_parameters(
        DbtCoreCliEventMessage.to_default_asset_events,
        "manifest",
        "dagster_dbt_translator",
        "context",
        "target_path",
        "project",
    )


def _probe_preparer() -> None:
    for method in ("prepare", "prepare_if_dev"):
        assert callable(getattr(DbtProjectPreparer, method, None)), f"no method {method}"
        _has_parameters(getattr(DbtProjectPreparer, method), "project")


def _probe_event_serialisation() -> None:
    _has_parameters(msg_to_dict, "msg")


def _probe_runner() -> None:
    from dbt.cli.main import dbtRunner, dbtRunnerResult

    _has_parameters(dbtRunner, "callbacks")
    _has_parameters(dbtRunner.invoke, "args")
    fields = set(getattr(dbtRunnerResult, "__dataclass_fields__", {}))
    assert {"success", "exception"} <= fields, f"dbtRunnerResult has fields {sorted(fields)}"


def _probe_duckdb_instance() -> None:
    for attribute in ("_LOCK", "_ENV"):
        assert hasattr(DuckDBConnectionManager, attribute), f"no class attribute {attribute}"
    lock = DuckDBConnectionManager._LOCK
    assert hasattr(lock, "__enter__") and hasattr(lock, "__exit__"), f"_LOCK is a {type(lock).__name__}, not a lock"


#: Internal -> a probe raising AssertionError (saying what changed) when an upgrade changed it.
INTERNALS: dict[str, Callable[[], None]] = {
    "dagster_dbt.asset_utils.get_subset_selection_for_context": _probe_subset_selection,
    "dagster_dbt.asset_utils.get_manifest_and_translator_from_dbt_assets": _probe_manifest_and_translator,
    "dagster_dbt.core.dbt_cli_event.DbtCoreCliEventMessage": _probe_event_message,
    "dagster_dbt.dbt_project.DbtProjectPreparer": _probe_preparer,
    "dbt_common.events.functions.msg_to_dict": _probe_event_serialisation,
    "dbt.cli.main.dbtRunner": _probe_runner,
    "dbt.adapters.duckdb.connections.DuckDBConnectionManager._LOCK/_ENV": _probe_duckdb_instance,
}
