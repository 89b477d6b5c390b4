"""The code location: definitions load with one lineage graph, and the platform snapshot assets behave.

Partitions run in-process (``dagster.materialize``) against a temp warehouse with the simulated platform.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dagster import AssetKey, AssetsDefinition, DagsterInstance, OpDefinition, materialize

from orchestration.definitions import defs as load_defs
from orchestration.defs.assets import PLAN_ASSET_KEYS, SCRAPE_ASSET_KEYS, SNAPSHOT_ASSET_KEYS, assets_of
from orchestration.defs.dbt import mart_keys
from orchestration.defs.discovery import (
    ACCOUNT_PLAN_ASSET_KEYS,
    ACCOUNTS_ASSET_KEYS,
    DISCOVERY_ASSET_KEYS,
    account_plan_asset_key,
    accounts_asset_key,
    discovery_asset_key,
)
from orchestration.defs.resources import PlatformClientsResource, WarehouseResource
from viewtrail.domain.models import Platform, VideoRef
from viewtrail.domain.urls import canonical_url
from viewtrail.warehouse import open_warehouse, track_refs

#: The code location, loaded once for this module (`orchestration.definitions.defs` is a lazy `@definitions` loader).
defs = load_defs()

PAST_HOUR = "2026-11-10-13:00"


def refs(n: int = 12) -> list[VideoRef]:
    out = []
    for i in range(n):
        platform = list(Platform)[i % 4]
        external_id = str(7_310_000_000_000_000_000 + i) if platform in (Platform.TIKTOK, Platform.X) else f"Abc{i:08d}"
        account = "someone" if platform in (Platform.TIKTOK, Platform.X) else None
        out.append(VideoRef(platform, external_id, canonical_url(platform, external_id, account), account))
    return out


@pytest.fixture
def warehouse(tmp_path) -> WarehouseResource:
    resource = WarehouseResource(
        path=str(tmp_path / "warehouse.duckdb"),
        analytics_path=str(tmp_path / "analytics.duckdb"),
        marts_export_dir=str(tmp_path / "marts"),
    )
    with open_warehouse(resource.path) as con:
        track_refs(
            con, refs(), now=datetime(2026, 11, 10)
        )  # simulated removals come a day after tracking at the earliest
    return resource


def resources(warehouse, **platform_config):
    return {"warehouse": warehouse, "platforms": PlatformClientsResource(simulated_fault_rate=0.0, **platform_config)}


def table(warehouse, sql):
    with open_warehouse(warehouse.path, read_only=True) as con:
        return con.sql(sql).fetchall()


def test_definitions_load_with_lineage_from_platform_assets_to_published_copy():
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    assert set(SNAPSHOT_ASSET_KEYS) <= keys
    stg = graph.get(AssetKey(["staging", "stg_snapshots"]))
    assert set(SNAPSHOT_ASSET_KEYS) == set(stg.parent_keys)
    videos = graph.get(AssetKey(["staging", "stg_videos"]))
    # registry.videos is written by track, by every scrape load and by discovery (the videos it registers)
    assert set(videos.parent_keys) == {*SNAPSHOT_ASSET_KEYS, *ACCOUNTS_ASSET_KEYS, AssetKey(["registry", "videos"])}
    assert AssetKey(["raw", "snapshots"]) not in keys  # no invented combined asset
    for mart in ("video_daily", "video_engagement", "video_growth", "video_latest", "account_daily", "label_daily"):
        assert AssetKey(["marts", mart]) in graph.get(AssetKey("analytics_copy")).parent_keys
    # every step that writes the warehouse is in the one-writer pool; plans (a short read) and scrapes and
    # discoveries (network I/O) hold no slot
    scrapes = {*PLAN_ASSET_KEYS, *ACCOUNT_PLAN_ASSET_KEYS, *SCRAPE_ASSET_KEYS, *DISCOVERY_ASSET_KEYS}
    steps = [a for a in defs.assets if isinstance(a, AssetsDefinition)]  # marts/alert_events: declared, no step
    for assets_def in steps:
        if isinstance(assets_def.node_def, OpDefinition):
            expected = None if set(assets_def.keys) <= scrapes else "duckdb"
            assert assets_def.op.pool == expected, assets_def
    # the alerts asset: evaluation and delivery (network I/O) hold no slot, only its write does
    alerts = next(a for a in steps if AssetKey(["alerts", "alert_events"]) in a.keys)
    assert {n.name: n.pool for n in alerts.node_def.node_defs} == {
        "evaluate_and_deliver_alerts": None,
        "record_alert_events": "duckdb",
    }
    # marts -> alerts -> analytics_copy: the copy a build publishes holds what that build's rules fired
    assert graph.get(AssetKey(["alerts", "alert_events"])).parent_keys == {*mart_keys()}
    assert AssetKey(["alerts", "alert_events"]) in graph.get(AssetKey("analytics_copy")).parent_keys
    # marts.alert_events, the mart built in Python, shows next to the dbt marts, downstream of the alerts
    python_mart = graph.get(AssetKey(["marts", "alert_events"]))
    assert python_mart.group_name == "marts" and python_mart.parent_keys == {AssetKey(["alerts", "alert_events"])}
    assert not python_mart.is_executable  # built by the publish, not by a step of its own
    for platform in Platform:  # each platform's load reads its own scrape's staged batch, the scrape its plan
        assert graph.get(AssetKey(["raw", f"{platform.value}_snapshots"])).parent_keys == {
            AssetKey(["scrapes", platform.value])
        }
        assert graph.get(AssetKey(["scrapes", platform.value])).parent_keys == {AssetKey(["plans", platform.value])}
    assert {s.name for s in defs.sensors} >= {
        "new_videos_sensor",
        "rescrape_sensor",
        "failed_scrapes_sensor",
        "momentum_sensor",
        "notify_run_failures",
    }
    schedule = defs.get_schedule_def("hourly_scrape")
    assert schedule.cron_schedule.startswith("2 ")
    for platform in Platform:  # each platform's account record reads its own discovery's staged batch
        assert graph.get(accounts_asset_key(platform)).parent_keys == {discovery_asset_key(platform)}
        assert graph.get(discovery_asset_key(platform)).parent_keys == {account_plan_asset_key(platform)}
    assert defs.get_schedule_def("hourly_discovery").cron_schedule.startswith("1 ")  # before the scrape


def test_a_past_partition_materializes_with_the_simulated_platform_and_reruns_change_nothing(warehouse):
    result = materialize(assets_of(), partition_key=PAST_HOUR, resources=resources(warehouse))
    assert result.success
    rows = table(warehouse, "SELECT * EXCLUDE (ingested_at, run_id) FROM raw.snapshots ORDER BY ALL")
    attempts = table(
        warehouse, "SELECT video_id, attempted_at, outcome, partition_key FROM raw.scrape_attempts ORDER BY ALL"
    )
    assert len(attempts) == 12  # never-scraped videos are all due
    assert {a[3] for a in attempts} == {PAST_HOUR}
    hour = datetime(2026, 11, 10, 13)
    assert all(hour <= r[1] < hour + timedelta(hours=1) for r in rows)  # observed as of the partition's hour
    assert len(rows) == sum(1 for a in attempts if a[2] == "ok") > 0

    again = materialize(assets_of(), partition_key=PAST_HOUR, resources=resources(warehouse))
    assert again.success
    assert table(warehouse, "SELECT * EXCLUDE (ingested_at, run_id) FROM raw.snapshots ORDER BY ALL") == rows
    assert table(warehouse, "SELECT count(*) FROM raw.scrape_attempts") == [(12,)]
    checks = {e.check_name: e.passed for e in again.get_asset_check_evaluations()}
    assert checks["no_duplicate_observations"] and checks["due_videos_scraped"]


def test_a_range_backfill_is_one_run_observing_each_hour(warehouse):
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            assets_of(Platform.YOUTUBE),
            resources=resources(warehouse),
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": "2026-11-10-00:00",
                "dagster/asset_partition_range_end": "2026-11-10-05:00",
            },
        )
        assert result.success
        assert len(instance.get_runs()) == 1
    observed = table(warehouse, "SELECT DISTINCT date_trunc('hour', observed_at) FROM raw.snapshots ORDER BY 1")
    # the simulated videos are a few days old or older: new videos hourly, older ones on their slots
    assert observed[0][0] == datetime(2026, 11, 10, 0)
    hours = table(warehouse, "SELECT DISTINCT partition_key FROM raw.scrape_attempts")
    assert {h[0] for h in hours} <= {f"2026-11-10-0{h}:00" for h in range(6)}


def test_a_real_client_refuses_an_old_partition_and_only_its_platform_fails(warehouse):
    result = materialize(
        assets_of(),
        partition_key=PAST_HOUR,
        resources=resources(
            warehouse,
            modes={"youtube": "real"},
            base_urls={"youtube": "http://127.0.0.1:9"},
            youtube_api_key="SECRET-KEY-123",
        ),
        raise_on_error=False,
    )
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failures] == ["scrapes__youtube"]  # its load step is skipped
    message = failures[0].event_specific_data.error.message
    assert "can only observe the present" in message and "simulated" in message
    assert "SECRET-KEY-123" not in str(result.all_events)
    platforms = {r[0] for r in table(warehouse, "SELECT DISTINCT platform FROM raw.scrape_attempts")}
    assert platforms == {"tiktok", "instagram", "x"}


def test_a_targeted_run_scrapes_exactly_the_named_videos_now(warehouse):
    target = refs()[1].video_id  # a youtube video
    hour = (datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)).strftime("%Y-%m-%d-%H:00")
    result = materialize(
        assets_of(Platform.YOUTUBE),
        partition_key=hour,
        resources=resources(warehouse),
        run_config={"ops": {"plans__youtube": {"config": {"video_ids": [target]}}}},
    )
    assert result.success
    rows = table(warehouse, "SELECT video_id, observed_at FROM raw.snapshots")
    assert [r[0] for r in rows] == [target]
    assert datetime.now(UTC).replace(tzinfo=None) - rows[0][1] < timedelta(minutes=5)


def test_dbt_and_the_published_copy_are_requested_after_new_snapshots(warehouse):
    from dagster import AssetMaterialization, evaluate_automation_conditions

    from orchestration.defs.dbt import ACCOUNT_SOURCE_KEYS

    external = {
        *SNAPSHOT_ASSET_KEYS,
        *PLAN_ASSET_KEYS,
        *ACCOUNT_PLAN_ASSET_KEYS,
        *SCRAPE_ASSET_KEYS,
        AssetKey(["registry", "videos"]),
        *ACCOUNT_SOURCE_KEYS,
        *DISCOVERY_ASSET_KEYS,
        *ACCOUNTS_ASSET_KEYS,
    }
    graph = defs.resolve_asset_graph()
    # what a build runs (marts/alert_events is built inside analytics_copy's step)
    build_keys = [k for k in graph.get_all_asset_keys() if k not in external and graph.get(k).is_executable]

    def requested(evaluation) -> set[str]:
        return {k.to_user_string() for k in build_keys if evaluation.get_num_requested(k)}

    with DagsterInstance.ephemeral() as instance:
        quiet = evaluate_automation_conditions(defs=defs, instance=instance)
        assert requested(quiet) == set()  # no snapshots landed: nothing to build

        result = materialize(
            assets_of(Platform.TIKTOK), partition_key=PAST_HOUR, resources=resources(warehouse), instance=instance
        )
        assert result.success
        after = evaluate_automation_conditions(defs=defs, instance=instance, cursor=quiet.cursor)
        # the whole build, stg_videos included (scrape loads update registry columns too)
        assert requested(after) == set(map(lambda k: k.to_user_string(), build_keys))
        for key in build_keys:
            instance.report_runless_asset_event(AssetMaterialization(key))
        handled = evaluate_automation_conditions(defs=defs, instance=instance, cursor=after.cursor)
        assert requested(handled) == set()  # built: not requested again until new snapshots land


def test_pending_tiktok_short_links_are_resolved_and_scraped_by_the_tiktok_asset(warehouse):
    from viewtrail.warehouse.registry import add_pending_link, pending_links

    with open_warehouse(warehouse.path) as con:
        add_pending_link(
            con, "https://vm.tiktok.com/ZMabc123/", "tiktok", "short link", labels=["promo"], now=datetime(2026, 11, 1)
        )
    result = materialize(assets_of(Platform.TIKTOK), partition_key=PAST_HOUR, resources=resources(warehouse))
    assert result.success
    with open_warehouse(warehouse.path, read_only=True) as con:
        assert pending_links(con).height == 0  # nothing left unresolved
        (resolved,) = con.sql("SELECT resolved_video_id FROM registry.pending_links").fetchall()[0]
        labels = con.execute("SELECT labels FROM registry.videos WHERE video_id = ?", [resolved]).fetchall()[0][0]
        scraped = con.execute("SELECT count(*) FROM raw.scrape_attempts WHERE video_id = ?", [resolved]).fetchall()[0][
            0
        ]
    assert resolved.startswith("tiktok:") and labels == ["promo"] and scraped == 1


def test_the_last_hour_materializes_with_real_clients_against_the_fake_platform_server(
    warehouse, tmp_path, monkeypatch
):
    from viewtrail.testing.fake_platform import FakePlatformServer

    monkeypatch.setenv("VIEWTRAIL_DATA_DIR", str(tmp_path))  # YouTube quota bookkeeping goes under the data dir
    hour = (datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)).strftime("%Y-%m-%d-%H:00")
    with FakePlatformServer(fault_rate=0.0) as server:
        platforms = {
            "modes": {p.value: "real" for p in Platform},
            "base_urls": {p.value: server.base_url(p) for p in Platform},
        }
        result = materialize(
            assets_of(), partition_key=hour, resources=resources(warehouse, youtube_api_key="test-key", **platforms)
        )
    assert result.success
    attempts = table(warehouse, "SELECT platform, outcome, source FROM raw.scrape_attempts ORDER BY ALL")
    assert len(attempts) == 12 and {a[0] for a in attempts} == {p.value for p in Platform}
    assert all(a[2] != "simulated" for a in attempts)  # the real clients' sources, over HTTP
    snapshots = table(warehouse, "SELECT video_id, observed_at, views FROM raw.snapshots")
    assert len(snapshots) == sum(1 for a in attempts if a[1] == "ok") >= 8
    now = datetime.now(UTC).replace(tzinfo=None)
    assert all(now - s[1] < timedelta(minutes=5) for s in snapshots)  # real clients observe the present


def test_a_scrape_reads_only_its_staged_plan_and_the_load_removes_both(warehouse, tmp_path):
    from orchestration.defs.assets import scrape_assets

    # without its plan (the plan step died, or staged where this host does not look) a scrape scrapes nothing
    # and says what to do; it never opens the warehouse to plan by itself
    alone = materialize(
        [scrape_assets[list(Platform).index(Platform.TIKTOK)]],
        partition_key=PAST_HOUR,
        resources=resources(warehouse),
        raise_on_error=False,
    )
    (failure,) = [e for e in alone.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.message
    assert "No staged tiktok plan for this run" in message and "plans/tiktok" in message
    assert "re-run the partition" in message

    result = materialize(assets_of(Platform.TIKTOK), partition_key=PAST_HOUR, resources=resources(warehouse))
    assert result.success
    plan = result.asset_materializations_for_node("plans__tiktok")[0].metadata
    assert plan["videos"].value == 3 and plan["targeted_videos"].value == 0  # every tiktok video of refs()
    assert table(warehouse, "SELECT count(*) FROM raw.scrape_attempts")[0][0] >= 1
    staged = tmp_path / "staging" / "tiktok"
    assert not staged.exists() or list(staged.iterdir()) == []  # plan and batch removed after the load
