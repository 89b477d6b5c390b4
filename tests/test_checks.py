"""Snapshot asset checks: the plain SQL functions on a temp warehouse, and the thin Dagster wrappers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from orchestration.defs import checks
from viewtrail import config
from viewtrail.warehouse import open_warehouse

H = datetime(2026, 11, 20, 10)
KEY = H.strftime("%Y-%m-%d-%H:%M")


def _video(con, vid, *, cadence="24", added=H - timedelta(days=3), active=True, availability="available", until=None):
    platform, ext = vid.split(":")
    con.execute(
        "INSERT INTO registry.videos (video_id, platform, external_id, url, account, is_active, cadence, track_until,"
        " labels, metadata, availability, consecutive_not_found, posted_at, added_at, updated_at, stopped_at)"
        " VALUES (?, ?, ?, ?, NULL, ?, ?, ?, []::TEXT[], '{}', ?, 0, NULL, ?, ?, NULL)",
        [vid, platform, ext, f"https://example.invalid/{ext}", active, cadence, until, availability, added, added],
    )


def _attempt(con, vid, at, outcome, key=KEY):
    con.execute(
        "INSERT INTO raw.scrape_attempts (video_id, platform, attempted_at, outcome, tries, source, partition_key)"
        " VALUES (?, ?, ?, ?, 1, 'test', ?)",
        [vid, vid.split(":")[0], at, outcome, key],
    )
    if outcome == "ok":
        con.execute(
            "INSERT INTO raw.snapshots (video_id, observed_at, views, source, ingested_at) VALUES (?, ?, 1, 'test', ?)",
            [vid, at, at],
        )


@pytest.fixture()
def con(warehouse_path):
    with open_warehouse(warehouse_path) as c:
        yield c


def test_success_share_counts_distinct_due_videos_of_the_partition_and_platform(con):
    for i in range(10):
        _video(con, f"youtube:v{i}")
        _attempt(con, f"youtube:v{i}", H + timedelta(minutes=i), "ok" if i < 8 else "timeout")
    _video(con, "tiktok:t1")
    _attempt(con, "tiktok:t1", H, "timeout")  # other platform: ignored
    _attempt(con, "youtube:v0", H - timedelta(hours=1), "timeout", key="2026-11-20-09:00")  # other partition
    passed, meta = checks.check_success_share(con, "youtube", KEY)
    assert (passed, meta["due"], meta["ok"], meta["share"]) == (False, 10, 8, 0.8)
    assert meta["failed_examples"] == "youtube:v8, youtube:v9"
    assert checks.check_success_share(con, "youtube", KEY, min_share=0.8)[0]
    # a range of keys (single-run backfill) and an empty partition
    passed, meta = checks.check_success_share(con, "youtube", [KEY, "2026-11-20-09:00"])
    assert meta["due"] == 10 and meta["ok"] == 8
    assert checks.check_success_share(con, "youtube", "2026-11-19-00:00") == (
        True,
        {"due": 0, "ok": 0, "share": 1.0, "threshold": 0.9, "failed_examples": ""},
    )


def test_min_success_share_env(monkeypatch):
    monkeypatch.setenv(config.MIN_SUCCESS_SHARE, "0.5")
    assert checks.min_success_share() == 0.5
    monkeypatch.setenv(config.MIN_SUCCESS_SHARE, "lots")
    with pytest.raises(ValueError, match="between 0 and 1"):
        checks.min_success_share()


def test_freshness_flags_videos_without_ok_snapshot_for_twice_their_cadence(con):
    end = H + timedelta(hours=1)
    _video(con, "x:fresh")
    _attempt(con, "x:fresh", end - timedelta(hours=47), "ok", key="x")
    _video(con, "x:stale")
    _attempt(con, "x:stale", end - timedelta(hours=49), "ok", key="x")
    _attempt(con, "x:stale", end - timedelta(hours=2), "timeout", key="x")  # failures don't count as fresh
    _video(con, "x:never", added=end - timedelta(hours=60))
    _video(con, "x:new", added=end - timedelta(hours=5))  # never scraped but within 2x cadence of being added
    _video(con, "x:paused", active=False, added=end - timedelta(days=30))
    _video(con, "x:gone", availability="unavailable", added=end - timedelta(days=30))
    _video(con, "x:expired", until=H, added=end - timedelta(days=30))
    passed, meta = checks.check_freshness(con, "x", KEY)
    assert not passed
    assert meta["tracked_videos"] == 4 and meta["stale_videos"] == 2
    assert meta["stale_examples"] == "x:never, x:stale" and meta["oldest_gap_hours"] == 60.0
    _attempt(con, "x:stale", end - timedelta(hours=1), "ok", key="x")
    _attempt(con, "x:never", end - timedelta(hours=1), "ok", key="x")
    assert checks.check_freshness(con, "x", KEY)[0]


def test_freshness_uses_the_auto_cadence(con):
    end = H + timedelta(hours=1)
    _video(con, "instagram:young", cadence="auto", added=end - timedelta(hours=10))
    _attempt(con, "instagram:young", end - timedelta(hours=3), "ok", key="x")  # hourly while young: 3h > 2h
    assert checks.check_freshness(con, "instagram", KEY)[1]["stale_examples"] == "instagram:young"


def test_no_duplicates_within_the_window(con):
    _video(con, "youtube:a")
    _attempt(con, "youtube:a", H + timedelta(minutes=5), "ok")
    assert checks.check_no_duplicates(con, "youtube", KEY) == (True, {"duplicate_keys": 0, "duplicate_examples": ""})
    # The primary key forbids real duplicates; simulate a table without it to exercise the query.
    con.execute("CREATE SCHEMA dup")
    con.execute("CREATE TABLE dup.snapshots AS SELECT * FROM raw.snapshots")
    con.execute("INSERT INTO dup.snapshots SELECT * FROM dup.snapshots")
    sql_con = _Rewriting(con, "raw.snapshots", "dup.snapshots")
    passed, meta = checks.check_no_duplicates(sql_con, "youtube", KEY)
    assert not passed and meta["duplicate_keys"] == 1
    assert meta["duplicate_examples"] == "youtube:a@2026-11-20 10:05:00"


class _Rewriting:
    def __init__(self, con, old, new):
        self.con, self.old, self.new = con, old, new

    def execute(self, sql, params=None):
        return self.con.execute(sql.replace(self.old, self.new), params)


@pytest.mark.filterwarnings("ignore::dagster.PreviewWarning")
def test_dagster_wrappers(con, warehouse_path):
    from dagster import AssetKey

    _video(con, "youtube:a")
    _attempt(con, "youtube:a", H + timedelta(minutes=5), "ok")
    results = checks.snapshot_check_results(con, "youtube", KEY)
    assert [r.check_name for r in results] == [checks.CHECK_SUCCESS, checks.CHECK_FRESHNESS, checks.CHECK_DUPLICATES]
    assert all(r.passed for r in results)
    specs = checks.snapshot_check_specs(AssetKey(["raw", "youtube_snapshots"]))
    assert {s.name for s in specs} == set(checks.CHECKS)


def test_a_timeout_only_partition_fails_the_success_check_and_passes_the_others(con):
    _video(con, "youtube:a")
    _attempt(con, "youtube:a", H + timedelta(minutes=5), "timeout")
    evaluations = {r.check_name: r for r in checks.snapshot_check_results(con, "youtube", [KEY])}
    assert set(evaluations) == set(checks.CHECKS)
    success = evaluations[checks.CHECK_SUCCESS]
    assert not success.passed and success.metadata["due"].value == 1 and success.metadata["ok"].value == 0
    assert evaluations[checks.CHECK_DUPLICATES].passed
