"""dbt models as Dagster assets, keyed so the dbt sources are the platform snapshot assets.

Lineage choice: dbt's ``raw.snapshots`` (and ``raw.scrape_attempts``) is ONE table written by four platform
assets, but a dbt source maps to one asset key. Instead of inventing a combined "raw/snapshots" asset, the
translator rewrites the dependencies of every model that reads those sources to the four
``raw/{platform}_snapshots`` assets. The graph then reads: platform snapshot assets -> staging ->
intermediate -> marts -> analytics_copy. ``registry.videos`` stays an external source asset (written by the CLI).
"""



import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster import AssetDep, AssetExecutionContext, AssetKey, AssetSpec, AutomationCondition
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from orchestration import config
from orchestration.defs.assets import SNAPSHOT_ASSET_KEYS
from orchestration.defs.resources import WarehouseResource

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
RAW_SOURCE_KEYS = {AssetKey(["raw", "snapshots"]), AssetKey(["raw", "scrape_attempts"])}
#: registry.videos is written by the CLI (track) and ALSO by every scrape load (account, posted_at,
#: availability), so models reading it depend on the platform assets as well as on the external registry.
REGISTRY_SOURCE_KEY = AssetKey(["registry", "videos"])

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


def ensure_manifest() -> Path:
    """Make sure dbt's manifest exists so loading the definitions never fails.

    Runs `dbt parse` with the venv's dbt (not whatever "dbt" is on PATH: `dagster dev` starts its code server
    with a bare PATH) when the manifest is missing, and under `dagster dev` on every load so model edits show
    up, which is what ``DbtProject.prepare_if_dev`` would do.
    """
    manifest = dbt_project.manifest_path
    if dbt_project.preparer.using_dagster_dev() or not manifest.exists():
        env = {**os.environ, "VIEWTRAIL_WAREHOUSE": os.environ.get("VIEWTRAIL_WAREHOUSE") or str(config.warehouse_path())}
        subprocess.run(
            [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR)],
            check=True,
            env=env,
            capture_output=True,
        )
    return manifest


class ViewtrailDbtTranslator(DagsterDbtTranslator):
    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        dep_keys = {dep.asset_key for dep in spec.deps}
        if not dep_keys & (RAW_SOURCE_KEYS | {REGISTRY_SOURCE_KEY}):
            return spec
        deps = [dep for dep in spec.deps if dep.asset_key not in RAW_SOURCE_KEYS]
        deps += [AssetDep(key) for key in SNAPSHOT_ASSET_KEYS]
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
        return fqn[1] if len(fqn) > 2 else "dbt"  # staging / intermediate / marts


translator = ViewtrailDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@contextmanager
def _warehouse_env(path: str) -> Iterator[None]:
    """dbt's profile reads VIEWTRAIL_WAREHOUSE; the dbt subprocess inherits this process's environment."""
    previous = os.environ.get("VIEWTRAIL_WAREHOUSE")
    os.environ["VIEWTRAIL_WAREHOUSE"] = str(Path(path).absolute())
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("VIEWTRAIL_WAREHOUSE", None)
        else:
            os.environ["VIEWTRAIL_WAREHOUSE"] = previous


def build_dbt_assets():
    manifest = ensure_manifest()

    @dbt_assets(
        manifest=manifest,
        project=dbt_project,
        dagster_dbt_translator=translator,
        pool="duckdb",
        name="viewtrail_dbt",
    )
    def viewtrail_dbt(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        # Make sure the warehouse exists and is migrated before dbt reads its sources.
        with warehouse.connect():
            pass
        with _warehouse_env(warehouse.path):
            yield from dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context).stream()

    return viewtrail_dbt


viewtrail_dbt_assets = build_dbt_assets()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())
