"""dbt models as Dagster assets, keyed so the dbt sources are the platform snapshot assets.

Lineage choice: dbt's ``raw.snapshots`` (and ``raw.scrape_attempts``) is ONE table written by four platform
assets, but a dbt source maps to one asset key. Instead of inventing a combined "raw/snapshots" asset, the
translator rewrites the dependencies of every model that reads those sources to the four
``raw/{platform}_snapshots`` assets. The graph then reads: platform snapshot assets -> staging ->
intermediate -> marts -> analytics_copy. ``registry.videos`` and the account tables stay external source assets
(written by the CLI and account discovery).
"""

import functools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    AutomationCondition,
    Failure,
    get_dagster_logger,
)
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration.defs import dbt_internals
from orchestration.defs.assets import SNAPSHOT_ASSET_KEYS
from orchestration.defs.discovery import ACCOUNTS_ASSET_KEYS
from orchestration.defs.progress import DBT_PROGRESS_PREFIX
from orchestration.defs.queues import WAREHOUSE_STEP
from orchestration.defs.resources import WarehouseResource
from viewtrail import config
from viewtrail.warehouse.video_pages import drop_snapshot_summary_index, index_snapshot_summary

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
RAW_SOURCE_KEYS = {AssetKey(["raw", "snapshots"]), AssetKey(["raw", "scrape_attempts"])}
#: raw.account_snapshots and raw.account_attempts are written only by the platforms' raw/{platform}_accounts assets.
RAW_ACCOUNT_SOURCE_KEYS = {AssetKey(["raw", "account_snapshots"]), AssetKey(["raw", "account_attempts"])}
#: registry.videos is written by the CLI (track) and ALSO by every scrape load (account, posted_at,
#: availability), so models reading it depend on the platform assets as well as on the external registry.
REGISTRY_SOURCE_KEY = AssetKey(["registry", "videos"])
#: The account tables, written by the CLI (watch, creators) and by account discovery. Models reading them are
#: rebuilt with the build after new snapshots, as those reading registry.videos are, so the account and creator
#: marts are never older than the video marts they join.
ACCOUNT_SOURCE_KEYS = {
    AssetKey(["registry", "accounts"]),
    AssetKey(["registry", "creators"]),
    AssetKey(["registry", "creator_accounts"]),
    AssetKey(["raw", "account_snapshots"]),
    AssetKey(["raw", "account_attempts"]),
}
#: Creator programs' tables (campaigns, terms, goals and the ledger's entries, written by the CLI and the API; the
#: views resolving campaigns; the write clock the program marts read as "now"). Models reading them are rebuilt with
#: the build after new snapshots, like those reading the account tables. raw.payout_finalizations is not here: it is
#: the ``raw/payout_finalizations`` asset itself, a real upstream of the models reading it.
PROGRAM_SOURCE_KEYS = {
    *(
        AssetKey(["registry", name])
        for name in (
            "campaigns",
            "campaign_tree",
            "campaign_videos",
            "campaign_payers",
            "payout_terms",
            "creator_goals",
        )
    ),
    AssetKey(["raw", "payout_entries"]),
    AssetKey(["meta", "write_clock"]),
}

#: dbt runs after new snapshots land: whenever any upstream snapshot partition was updated since the last
#: dbt run, and nothing upstream is in progress. ``eager()`` also waits for *missing* upstream partitions,
#: which never happens with hourly history going back weeks, so that clause is dropped.
DBT_AUTOMATION = (
    AutomationCondition.any_deps_updated().since_last_handled()
    & ~AutomationCondition.any_deps_in_progress()
    & ~AutomationCondition.in_progress()
).with_label("after new snapshots")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """The venv's dbt, whether or not the venv is activated (make runs .venv/bin/... without activating, and
    `dagster dev` starts its code server with a bare PATH)."""
    for candidate in (Path(sys.prefix) / "bin" / "dbt", Path(sys.executable).with_name("dbt")):
        if candidate.exists():
            return str(candidate)
    return shutil.which("dbt") or "dbt"


#: What `dbt parse` reads besides profiles.yml: a manifest older than any of these (or than a directory whose
#: entries changed) is stale.
_DBT_SOURCE_DIRS = ("models", "macros", "tests", "seeds", "snapshots", "analyses")
_DBT_SOURCE_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml", "selectors.yml")


def manifest_is_stale(manifest: Path) -> bool:
    """True when the manifest is missing or older than a dbt source file or directory (mtimes; ~1 ms)."""
    try:
        built = manifest.stat().st_mtime
    except FileNotFoundError:
        return True
    paths = [DBT_PROJECT_DIR / name for name in _DBT_SOURCE_FILES]
    for name in _DBT_SOURCE_DIRS:
        directory = DBT_PROJECT_DIR / name
        if directory.exists():
            paths += [directory, *directory.rglob("*")]
    return any(path.exists() and path.stat().st_mtime > built for path in paths)


class VenvDbtPreparer(dbt_internals.ProjectPreparer):
    """Keeps dbt's manifest describing the project's files, so loading the definitions never fails.

    Runs `dbt parse` with the venv's dbt (not whatever "dbt" is on PATH: `dagster dev` starts its code server
    with a bare PATH) only when the manifest is missing or older than the dbt sources, so model edits show up
    under `dagster dev` as with dagster-dbt's own preparer, without its cost: that parses on every load of the
    code location, and `dagster dev`'s run workers inherit DAGSTER_IS_DEV_CLI, so every run paid a ~5 s
    `dbt parse` before its first step. Outside `dagster dev` the same check runs: a fresh clone has no manifest
    (``make install`` builds one, but the tests and the CLI must not depend on it). The new manifest replaces
    the old one atomically (a concurrent load never reads half a file).
    """

    def prepare_if_dev(self, project: DbtProject) -> None:
        if manifest_is_stale(project.manifest_path):
            self.prepare(project)

    def prepare(self, project: DbtProject) -> None:
        manifest = project.manifest_path
        env = {
            **os.environ,
            "VIEWTRAIL_WAREHOUSE": str(config.warehouse_path()),  # the settings' (the demo overrides its own)
        }
        scratch = manifest.parent / f".parse-{os.getpid()}"
        scratch.mkdir(parents=True, exist_ok=True)
        try:
            state = manifest.parent / "partial_parse.msgpack"
            if state.exists():
                shutil.copy(state, scratch / state.name)  # partial parsing when the profile matches
            subprocess.run(
                [
                    dbt_executable(),
                    "parse",
                    "--quiet",
                    "--no-send-anonymous-usage-stats",
                    "--project-dir",
                    str(project.project_dir),
                    "--profiles-dir",
                    str(project.profiles_dir),
                    "--target-path",
                    str(scratch),
                    "--log-path",
                    str(scratch),
                ],
                check=True,
                env=env,
                capture_output=True,
            )
            os.replace(scratch / "manifest.json", manifest)
            if (scratch / state.name).exists():
                os.replace(scratch / state.name, state)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


#: dagster-dbt's ``DbtProject`` always installs its own preparer (dbt from PATH, a parse on every `dagster dev`
#: load); the builder below calls this one instead.
dbt_preparer = VenvDbtPreparer()


class ViewtrailDbtTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        dep_keys = {dep.asset_key for dep in spec.deps}
        if not dep_keys & (RAW_SOURCE_KEYS | {REGISTRY_SOURCE_KEY} | ACCOUNT_SOURCE_KEYS | PROGRAM_SOURCE_KEYS):
            return spec
        # The raw tables are written by the platform assets: depend on those. Discovery writes the registry too
        # (discovered videos, account handles), so everything fed by the registry follows both families.
        raw = RAW_SOURCE_KEYS | RAW_ACCOUNT_SOURCE_KEYS
        deps = [dep for dep in spec.deps if dep.asset_key not in raw]
        deps += [AssetDep(key) for key in SNAPSHOT_ASSET_KEYS]
        if dep_keys & ({REGISTRY_SOURCE_KEY} | ACCOUNT_SOURCE_KEYS):
            deps += [AssetDep(key) for key in ACCOUNTS_ASSET_KEYS]
        return spec.replace_attributes(deps=deps)

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        # Keys name where a relation lives: ["marts", "video_daily"], ["raw", "snapshots"], ["registry", "videos"].
        if dbt_resource_props.get("resource_type") == "source":
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        if dbt_resource_props.get("resource_type") in {"model", "seed", "snapshot"}:
            schema = (dbt_resource_props.get("config") or {}).get("schema") or dbt_resource_props.get("schema")
            return AssetKey([schema, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> AutomationCondition | None:
        return DBT_AUTOMATION

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn") or []
        folder = fqn[1] if len(fqn) > 2 else None
        return folder if folder in DBT_GROUPS else "dbt"


#: The Dagster group of the marts (the dbt models under models/marts/, schema ``marts``).
MARTS_GROUP = "marts"
#: The Dagster groups of the dbt assets: the model's folder, else "dbt". Jobs select the dbt assets by these
#: groups, so that defining a job never has to build the dbt assets (and maybe parse the project).
DBT_GROUPS = ("staging", "intermediate", MARTS_GROUP, "dbt")

translator = ViewtrailDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@functools.cache
def mart_keys() -> tuple[AssetKey, ...]:
    """The marts dbt builds, as Dagster asset keys (what the alerts and the analyst copy depend on), sorted.

    Read from dbt's manifest: the models the translator puts in the group ``marts`` (the models/marts/ folder),
    so adding a model there is the one step that makes it a mart everywhere. Reading the manifest (~10 ms) may
    first run `dbt parse`, when the manifest is older than the dbt sources, as :func:`viewtrail_dbt_assets` does.
    """
    dbt_preparer.prepare_if_dev(dbt_project)
    nodes = json.loads(dbt_project.manifest_path.read_text())["nodes"].values()
    models = [node for node in nodes if node.get("resource_type") == "model"]
    keys = {translator.get_asset_key(node) for node in models if translator.get_group_name(node) == MARTS_GROUP}
    return tuple(sorted(keys, key=lambda key: key.to_user_string()))


def mart_names() -> list[str]:
    """The names of the dbt marts (``video_daily`` ...), sorted: the tables dbt builds in the schema ``marts``."""
    return [key.path[-1] for key in mart_keys()]


#: Run tag choosing the data tests' scope. "touched" (default): the tests of the incremental marts (video_daily,
#: video_engagement) read only the videos the latest run rewrote; "all": every row (the daily schedule
#: ``daily_full_dbt_tests`` sets it). dbt sees it as the var ``viewtrail_dbt_tests``; a changed var invalidates
#: dbt's whole partial parse, so each scope keeps its own target dir (:func:`dbt_target_path`).
DBT_TESTS_TAG = "viewtrail/dbt_tests"
#: A run tagged with it ("true") rebuilds every incremental model from scratch (`viewtrail build --full-refresh`).
DBT_FULL_REFRESH_TAG = "viewtrail/dbt_full_refresh"
DBT_TEST_SCOPES = ("touched", "all")
#: The dbt command of every build; the selection (all models, or the subset Dagster asks for) is appended.
#: --no-write-json: manifest.json and run_results.json are not written (Dagster gets the results from dbt's events;
#: dbt.log in the target path has the details): writing and validating them costs ~0.5 s in a fresh process.
#: dbt's partial parse state is still saved.
DBT_BUILD_ARGS = ("build", "--exclude-resource-type", "unit_test", "--no-write-json")
#: The same build as a dbt subprocess (``VIEWTRAIL_DBT_RUNNER=cli``): dagster-dbt reads the run's artefacts
#: (run_results.json) after the process exits, so they are written.
DBT_CLI_BUILD_ARGS = tuple(arg for arg in DBT_BUILD_ARGS if arg != "--no-write-json")
#: dbt events that carry a node's result: they become Dagster materializations and check evaluations.
_RESULT_EVENTS = frozenset({"LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult"})


def dbt_target_path(warehouse_path: str | Path, test_scope: str = "touched") -> Path:
    """Where dbt keeps its artefacts (partial parse state, run_results.json, dbt.log) for builds on one warehouse
    with one data-test scope: ``<warehouse>.dbt/<scope>/`` beside the warehouse file (``data/warehouse.dbt/``).

    One directory per warehouse and scope, reused by every such build: dbt's partial parse state is only valid
    for the vars it was made with (the warehouse path and the scope are vars, see :func:`dbt_vars`), so a
    directory per run (dagster-dbt's default) or one shared by several warehouses or scopes would make dbt
    re-parse the whole project on every build. Beside the warehouse, a warehouse's artefacts go where it goes (a
    test's temporary warehouse takes them along). Builds on one warehouse never overlap (pool "duckdb").
    """
    resolved = Path(warehouse_path).expanduser().absolute()
    return resolved.with_name(f"{resolved.stem}.dbt") / test_scope


def dbt_vars(warehouse_path: str | Path, test_scope: str = "touched") -> str:
    """dbt's ``--vars``: the warehouse (profiles.yml reads ``viewtrail_warehouse`` before VIEWTRAIL_WAREHOUSE), the
    data tests' scope (``viewtrail_dbt_tests``) and the organisation's time zone (``viewtrail_timezone``, the
    calendar of the goal and over-posting marts). Vars rather than environment variables, so a build in this
    process never touches ``os.environ`` (shared by every thread of the run worker)."""
    if test_scope not in DBT_TEST_SCOPES:
        raise ValueError(f"dbt test scope must be one of {DBT_TEST_SCOPES}, not {test_scope!r}")
    warehouse = str(Path(warehouse_path).expanduser().absolute())
    settings = config.settings()
    return json.dumps(
        {
            "viewtrail_warehouse": warehouse,
            "viewtrail_dbt_tests": test_scope,
            "viewtrail_timezone": settings.timezone,
            "viewtrail_memory_limit": settings.duckdb_memory_limit,
            "viewtrail_temp_dir": str(settings.duckdb_temp_dir),
        }
    )


def invoke_dbt(
    args: Sequence[str],
    *,
    warehouse_path: str | Path,
    test_scope: str = "touched",
    on_event=None,
    target_path: Path | None = None,
) -> Any:
    """Run one dbt command in this process (dbt's programmatic API) against ``warehouse_path``.

    In process, not as a dbt subprocess (``DbtCliResource.cli``, :func:`dbt_cli_build_events`, chosen by
    ``VIEWTRAIL_DBT_RUNNER=cli``): the Dagster run has already imported dbt
    (dagster-dbt does), and the subprocess path paid, before dbt ran a model, dagster-dbt's `dbt --version` probe
    (~1.3 s), its in-process adapter set-up (~0.8 s) and dbt's import in the subprocess (~1.5 s). At 10k videos the
    hourly step went from 7.3 s to 2.7 s (docs/benchmarks.md). dbt's programmatic API runs one command at a time
    per process: the step runs in the in-process executor and the pool "duckdb" admits one step.
    ``on_event`` receives every dbt event (from dbt's threads). Returns dbt's ``dbtRunnerResult``; a run
    termination (Dagster's interrupt in the step) comes back as its exception, and closing dbt-duckdb's DuckDB
    instance afterwards stops the queries still running (their transactions roll back).

    When dbt failed or was interrupted, DuckDB may refuse that close (a model's query is still running: "connection
    is busy with another call"); the refusal is then logged and dbt's outcome (or the exception in flight) is what
    the caller gets, never the refusal in its place. After a successful command, a refused close is raised.
    """
    variables = dbt_vars(warehouse_path, test_scope)
    target = target_path or dbt_target_path(warehouse_path, test_scope)
    try:
        outcome = dbt_internals.run_dbt(
            [
                *args,
                "--vars",
                variables,
                "--no-send-anonymous-usage-stats",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(target),
                "--log-path",
                str(target),
            ],
            on_event,
        )
    except BaseException:
        _close_duckdb_instance_after_failure()
        raise
    if outcome.success:
        dbt_internals.close_duckdb_instance()
    else:
        _close_duckdb_instance_after_failure()
    return outcome


def _close_duckdb_instance_after_failure() -> None:
    """Close dbt-duckdb's instance after a failed or interrupted dbt command; a refusal is logged, not raised, so
    it never replaces the failure or the interruption being reported."""
    import duckdb

    try:
        dbt_internals.close_duckdb_instance()
    except (duckdb.Error, RuntimeError) as error:  # DuckDB's own errors, or a RuntimeError from its Python layer
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        get_dagster_logger().warning(
            f"dbt-duckdb's DuckDB instance could not be closed after dbt stopped: {first_line}"
        )


def dbt_build_events(context: AssetExecutionContext, warehouse_path: str, test_scope: str) -> Iterator[Any]:
    """`dbt build` of the step's selection; yields the Dagster events dagster-dbt would (an Output per model, an
    AssetCheckResult per data test), then fails the step if dbt did."""
    manifest, dagster_dbt_translator, project = dbt_internals.manifest_and_translator(context.assets_def)
    results: list[dict[str, Any]] = []
    errors: list[str] = []

    models = sum(1 for key in context.selected_asset_keys)
    built = [0]
    started = [0]
    full_refresh = context.run.tags.get(DBT_FULL_REFRESH_TAG) == "true"

    def on_event(msg: Any) -> None:
        name = dbt_internals.event_name(msg)
        if full_refresh and name == "LogStartLine" and dbt_internals.event_node_id(msg).startswith("model."):
            # a full rebuild of a large warehouse spends minutes in one model (video_daily): say which one runs
            started[0] += 1
            context.log.info(f"{DBT_PROGRESS_PREFIX}model {started[0]} of {models} started: {msg.data.description}")
        elif name in _RESULT_EVENTS:
            results.append(dbt_internals.event_as_dict(msg))
            if name == "LogModelResult":  # said as it happens: a full rebuild of a large warehouse takes minutes
                built[0] += 1
                context.log.info(
                    f"{DBT_PROGRESS_PREFIX}model {built[0]} of {models} done: {dbt_internals.event_text(msg)[:100]}"
                )
        elif dbt_internals.event_is_error(msg):
            errors.append(dbt_internals.event_text(msg))

    target = dbt_target_path(warehouse_path, test_scope)
    indirect = os.getenv(dbt_internals.INDIRECT_SELECTION_ENV)
    args = [*DBT_BUILD_ARGS, *dbt_internals.selection_args(context, manifest, dagster_dbt_translator, indirect)]
    if context.run.tags.get(DBT_FULL_REFRESH_TAG) == "true":
        args.append("--full-refresh")
    context.log.info(f"dbt {' '.join(args)} (tests: {test_scope}, in process, target {target})")
    outcome = invoke_dbt(
        args, warehouse_path=warehouse_path, test_scope=test_scope, on_event=on_event, target_path=target
    )
    for raw_event in results:
        yield from dbt_internals.dagster_events(
            raw_event,
            manifest=manifest,
            translator=dagster_dbt_translator,
            context=context,
            target_path=target,
            project=project,
        )
    if not outcome.success:
        if isinstance(outcome.exception, BaseException) and not isinstance(outcome.exception, Exception):
            raise outcome.exception  # KeyboardInterrupt / run termination: not a dbt failure
        statuses = [dbt_internals.result_status(r) for r in results]
        failed = [f"{node}: {status}" for node, status in statuses if status not in ("success", "pass", "warn")]
        raise Failure(
            description=f"dbt {' '.join(args)} failed"
            + (f": {outcome.exception}" if outcome.exception else "")
            + (f"; {', '.join(failed)}" if failed else ""),
            metadata={"errors": "\n".join(errors[-20:]) or "-", "dbt log": str(target / "dbt.log")},
        )


def dbt_cli_build_events(context: AssetExecutionContext, warehouse_path: str, test_scope: str) -> Iterator[Any]:
    """`dbt build` of the step's selection as a dbt subprocess, through dagster-dbt's ``DbtCliResource`` (public
    APIs only): the fallback of :func:`dbt_build_events` (``VIEWTRAIL_DBT_RUNNER=cli``), seconds slower per build.
    Same warehouse, vars and target directory, so both runners share dbt's partial parse state."""
    target = dbt_target_path(warehouse_path, test_scope)
    args = [*DBT_CLI_BUILD_ARGS, "--vars", dbt_vars(warehouse_path, test_scope)]
    if context.run.tags.get(DBT_FULL_REFRESH_TAG) == "true":
        args.append("--full-refresh")
    context.log.info(f"dbt {' '.join(args)} (tests: {test_scope}, subprocess, target {target})")
    cli = DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
    yield from cli.cli(args, context=context, target_path=target).stream()


#: How the step runs dbt, by ``VIEWTRAIL_DBT_RUNNER`` (one entry per ``config.DBT_RUNNERS``).
BUILD_BY_RUNNER = {"inprocess": dbt_build_events, "cli": dbt_cli_build_events}


@functools.cache
def viewtrail_dbt_assets() -> AssetsDefinition:
    """The dbt models and their data tests as one Dagster multi-asset, built on first use rather than at import:
    building it may run `dbt parse` (when the manifest is older than the dbt sources), and reads the manifest."""
    dbt_preparer.prepare_if_dev(dbt_project)

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        project=dbt_project,
        dagster_dbt_translator=translator,
        pool="duckdb",
        op_tags=WAREHOUSE_STEP,
        name="viewtrail_dbt",
    )
    def viewtrail_dbt(context: AssetExecutionContext, warehouse: WarehouseResource):
        test_scope = context.run.tags.get(DBT_TESTS_TAG, "touched")
        dbt_vars(warehouse.path, test_scope)  # an unknown scope fails here, whichever runner
        # dbt opens the file itself: the writer lock (across hosts) is held for the whole build
        with warehouse.write_lock():
            # Make sure the warehouse exists and is migrated before dbt reads its sources.
            with warehouse.connect() as con:
                if context.run.tags.get(DBT_FULL_REFRESH_TAG) == "true":
                    drop_snapshot_summary_index(con)  # dbt renames the summary aside: not while it has an index
            yield from BUILD_BY_RUNNER[config.settings().dbt_runner](context, warehouse.path, test_scope)
            with warehouse.connect() as con:
                index_snapshot_summary(con)  # what a page of `viewtrail list` reads its rows by

    return viewtrail_dbt
