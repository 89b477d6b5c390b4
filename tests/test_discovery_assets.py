"""The discovery assets: watched accounts discovered hour by hour, their metrics recorded, new videos registered
or held in the inbox, through Dagster in-process, with the simulated platform and with the real clients against
the fake platform server."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from dagster import DagsterInstance, materialize

from orchestration.defs.assets import assets_of
from orchestration.defs.discovery import account_assets_of
from orchestration.defs.resources import PlatformClientsResource, WarehouseResource
from viewtrail.clock import last_complete_hour, partition_key, pinned
from viewtrail.domain.models import Platform
from viewtrail.domain.urls import parse_account_url
from viewtrail.testing.fake_platform import FakePlatformServer
from viewtrail.warehouse import open_warehouse, watch_accounts

WATCHED_AT = datetime(2026, 11, 10, 6, 20)
ACCOUNTS = {
    "https://www.tiktok.com/@ana.cooks": "auto",
    "https://www.youtube.com/@techtinker": "auto",
    "https://www.instagram.com/ana.cooks/": "review",
    "https://x.com/techtinker": "auto",
}


@pytest.fixture
def warehouse(tmp_path) -> WarehouseResource:
    resource = WarehouseResource(
        path=str(tmp_path / "warehouse.duckdb"),
        analytics_path=str(tmp_path / "analytics.duckdb"),
        marts_export_dir=str(tmp_path / "marts"),
    )
    return resource


def _watch(warehouse: WarehouseResource, at: datetime) -> None:
    with open_warehouse(warehouse.path) as con:
        for url, mode in ACCOUNTS.items():
            watch_accounts(con, [parse_account_url(url)], discovery=mode, latest_n=5, labels=["brand"], now=at)


def _range_tags(first: datetime, last: datetime) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": partition_key(first),
        "dagster/asset_partition_range_end": partition_key(last),
    }


def _counts(warehouse: WarehouseResource) -> dict[str, object]:
    with open_warehouse(warehouse.path, read_only=True) as con:

        def one(sql: str):
            return con.sql(sql).fetchall()[0][0]

        return {
            "attempts": one("SELECT count(*) FROM raw.account_attempts"),
            "snapshots": one("SELECT count(*) FROM raw.account_snapshots"),
            "discovered": one("SELECT count(*) FROM registry.videos WHERE source = 'discovered'"),
            "inbox": one("SELECT count(*) FROM registry.inbox WHERE status = 'pending'"),
            "per_account": con.sql(
                "SELECT account_id, count(*) FROM raw.account_attempts GROUP BY ALL ORDER BY ALL"
            ).fetchall(),
        }


def test_a_day_of_discovery_records_each_account_on_its_cadence_and_a_rerun_changes_nothing(warehouse):
    _watch(warehouse, WATCHED_AT)
    first, last = datetime(2026, 11, 10, 6), datetime(2026, 11, 11, 5)
    resources = {"warehouse": warehouse, "platforms": PlatformClientsResource(simulated_fault_rate=0.0)}
    instance = DagsterInstance.ephemeral()
    result = materialize(account_assets_of(), instance=instance, resources=resources, tags=_range_tags(first, last))
    assert result.success
    counts = _counts(warehouse)
    # every 6 hours from 06:20 over a day: 06, 12, 18, 00 -> 4 discoveries per account
    assert counts["per_account"] == [
        ("instagram:ana.cooks", 4),
        ("tiktok:ana.cooks", 4),
        ("x:techtinker", 4),
        ("youtube:techtinker", 4),
    ]
    assert counts["snapshots"] == 16
    assert counts["inbox"] > 0  # the review account's videos wait for a decision
    with open_warehouse(warehouse.path, read_only=True) as con:
        discovered = con.sql(
            "SELECT DISTINCT account_id, labels, added_at >= ? FROM registry.videos WHERE source = 'discovered'",
            params=[WATCHED_AT],
        ).fetchall()
        x_listed = con.sql("SELECT DISTINCT videos_listed FROM raw.account_attempts WHERE platform = 'x'").fetchall()
    assert {row[0] for row in discovered} == {"tiktok:ana.cooks", "youtube:techtinker"}
    assert all(labels == ["brand"] and after for _, labels, after in discovered)
    assert x_listed == [(None,)]  # X: no logged-out list of recent posts, metrics only

    again = materialize(account_assets_of(), instance=instance, resources=resources, tags=_range_tags(first, last))
    assert again.success
    assert _counts(warehouse) == counts


def test_discovered_videos_are_scraped_from_when_they_were_discovered(warehouse):
    _watch(warehouse, WATCHED_AT)
    first, last = datetime(2026, 11, 10, 6), datetime(2026, 11, 10, 9)
    resources = {"warehouse": warehouse, "platforms": PlatformClientsResource(simulated_fault_rate=0.0)}
    tags = _range_tags(first, last)
    assert materialize(account_assets_of(Platform.TIKTOK), resources=resources, tags=tags).success
    assert materialize(assets_of(Platform.TIKTOK), resources=resources, tags=tags).success
    with open_warehouse(warehouse.path, read_only=True) as con:
        rows = con.sql(
            "SELECT v.video_id, min(s.observed_at) >= min(v.added_at), count(s.video_id) FROM registry.videos v"
            " LEFT JOIN raw.snapshots s USING (video_id) WHERE v.source = 'discovered' GROUP BY ALL"
        ).fetchall()
    assert rows and all(not_before and n >= 1 for _, not_before, n in rows)


def test_the_real_clients_discover_through_the_fake_server(warehouse, tmp_path, monkeypatch):
    now = last_complete_hour() + timedelta(hours=1, minutes=3)
    hour = last_complete_hour()
    _watch(warehouse, hour)
    with pinned(now), FakePlatformServer(at=now, tracked_at=hour - timedelta(days=3)) as fake:
        platforms = PlatformClientsResource(
            modes={p.value: "real" for p in Platform},
            base_urls={p.value: fake.base_url(p) for p in Platform},
            youtube_api_key="fake-key",
        )
        result = materialize(
            account_assets_of(),
            resources={"warehouse": warehouse, "platforms": platforms},
            partition_key=partition_key(hour),
        )
    assert result.success
    counts = _counts(warehouse)
    assert [n for _, n in counts["per_account"]] == [1, 1, 1, 1]
    assert counts["snapshots"] == 4
    assert counts["discovered"] > 0
    with open_warehouse(warehouse.path, read_only=True) as con:
        outcomes = con.sql("SELECT DISTINCT outcome, source <> 'simulated' FROM raw.account_attempts").fetchall()
    assert outcomes == [("ok", True)]
