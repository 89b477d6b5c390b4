"""The dbt project against a real DuckDB warehouse: unit tests, generic tests, and mart values by hand."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from dbt_support import (
    connect,
    create_warehouse,
    dbt,
    insert_snapshots,
    query,
    register_videos,
)

from orchestration.defs.dbt import mart_names
from viewtrail.warehouse.registry import delete_videos

pytestmark = pytest.mark.slow

MARTS = mart_names()  # the public tables; docs/metrics.md documents each (tests/test_docs.py)


def test_unit_tests_pass_on_empty_relations(warehouse_path: Path) -> None:
    create_warehouse(warehouse_path)
    dbt("parse", warehouse=warehouse_path)
    dbt("run", "--empty", warehouse=warehouse_path)
    dbt("test", "--select", "test_type:unit", warehouse=warehouse_path)


def test_marts_land_in_schema_marts(warehouse_path: Path) -> None:
    create_warehouse(warehouse_path)
    dbt("run", "--empty", warehouse=warehouse_path)
    tables = {
        row[0]
        for row in query(
            warehouse_path, "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    }
    assert tables == set(MARTS)


def _attempts(path: Path, rows: list[tuple]) -> None:
    with connect(path) as con:
        con.executemany(
            "INSERT INTO raw.scrape_attempts (video_id, platform, attempted_at, outcome, tries, source) VALUES (?, ?, ?, ?, 1, 'test')",
            rows,
        )


def test_build_computes_marts_by_hand(warehouse_path: Path) -> None:
    create_warehouse(warehouse_path)
    register_videos(
        warehouse_path,
        [
            {"video_id": "tiktok:111", "account": "alice", "labels": ["launch", "summer"]},
            {"video_id": "tiktok:222", "account": "alice", "labels": ["launch"], "is_active": False},
            {"video_id": "youtube:yt1", "account": "bob"},
        ],
    )
    d = datetime
    insert_snapshots(
        warehouse_path,
        [
            # video_id, observed_at, views, likes, comments, shares, saves, account
            ("tiktok:111", d(2024, 1, 1, 12), 100, 10, 1, 1, 0),
            ("tiktok:111", d(2024, 1, 2, 12), 300, 30, 3, 3, 2),
            ("tiktok:222", d(2024, 1, 2, 6), 1000, 50, 5, 5, 5),
            ("tiktok:222", d(2024, 1, 2, 18), 1600, 80, 8, 8, 8),
            ("youtube:yt1", d(2024, 1, 1, 0), 500, 50, 5, None, None),
            ("youtube:yt1", d(2024, 1, 1, 6), 600, 60, 6, None, None),
            # history imported for a video that is not in the registry
            ("instagram:ig9", d(2024, 1, 1, 0), 10, 1, 0, None, None, "carol"),
            # ... whose latest snapshot hides views (Instagram logged out): unknown, not the older 10
            ("instagram:ig9", d(2024, 1, 1, 6), None, 2, 0, None, None, "carol"),
        ],
    )
    _attempts(
        warehouse_path,
        [
            ("youtube:yt1", "youtube", d(2024, 1, 1, 0), "ok"),
            ("youtube:yt1", "youtube", d(2024, 1, 1, 6), "ok"),
            ("youtube:yt1", "youtube", d(2024, 1, 1, 12), "rate_limited"),
            ("youtube:yt1", "youtube", d(2024, 1, 1, 13), "timeout"),
        ],
    )
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)

    daily = query(
        warehouse_path,
        "select video_id, day, views, likes, saves, views_gained, observations, is_interpolated"
        " from marts.video_daily order by video_id, day",
    )
    assert daily == [
        ("instagram:ig9", date(2024, 1, 1), None, 2, None, None, 2, False),
        # Jan 1 ends halfway between 12:00 Jan 1 and 12:00 Jan 2: (100 + 300) / 2
        ("tiktok:111", date(2024, 1, 1), 200, 20, 1, None, 1, False),
        ("tiktok:111", date(2024, 1, 2), 300, 30, 2, 100, 1, False),
        ("tiktok:222", date(2024, 1, 2), 1600, 80, 8, None, 2, False),
        ("youtube:yt1", date(2024, 1, 1), 600, 60, None, None, 2, False),
    ]

    engagement = query(
        warehouse_path,
        "select video_id, day, engagements, engagements_gained, engagement_rate from marts.video_engagement"
        " where video_id = 'tiktok:111' order by day",
    )
    # Jan 1: 20 + 2 + 2 + 1 (interpolated: likes 20, comments 2, shares 2, saves 1); Jan 2: 30 + 3 + 3 + 2
    assert engagement == [
        ("tiktok:111", date(2024, 1, 1), 25, None, 25 / 200),
        ("tiktok:111", date(2024, 1, 2), 38, 13, 38 / 300),
    ]

    account = query(
        warehouse_path,
        "select platform, account, day, videos, views, views_gained, engagements, engagement_rate"
        " from marts.account_daily order by all",
    )
    assert account == [
        ("instagram", "carol", date(2024, 1, 1), 1, None, None, 2, None),
        ("tiktok", "alice", date(2024, 1, 1), 1, 200, None, 25, 25 / 200),
        # the stopped video keeps counting; its first day has no gain
        ("tiktok", "alice", date(2024, 1, 2), 2, 1900, 100, 38 + 104, 142 / 1900),
        # YouTube exposes no shares and no saves: they count as 0, so engagements = 60 likes + 6 comments
        ("youtube", "bob", date(2024, 1, 1), 1, 600, None, 66, 66 / 600),
    ]

    labels = query(warehouse_path, "select label, day, videos, views from marts.label_daily order by all")
    assert labels == [
        ("launch", date(2024, 1, 1), 1, 200),
        ("launch", date(2024, 1, 2), 2, 1900),
        ("summer", date(2024, 1, 1), 1, 200),
        ("summer", date(2024, 1, 2), 1, 300),
    ]

    latest = query(
        warehouse_path,
        "select video_id, account, status, views, snapshot_count, last_outcome, consecutive_failures"
        " from marts.video_latest order by video_id",
    )
    assert latest == [
        ("instagram:ig9", "carol", "untracked", None, 2, None, 0),
        ("tiktok:111", "alice", "active", 300, 2, None, 0),
        ("tiktok:222", "alice", "stopped", 1600, 2, None, 0),
        ("youtube:yt1", "bob", "active", 600, 2, "timeout", 2),
    ]

    growth = query(
        warehouse_path,
        "select video_id, as_of_day, views, views_gained_1d, increase_1d_pct, views_gained_7d, views_per_hour_24h"
        " from marts.video_growth order by video_id",
    )
    assert growth == [
        ("instagram:ig9", date(2024, 1, 1), None, None, None, None, None),
        # exactly 24 h between the two snapshots: (300 - 100) / 24
        ("tiktok:111", date(2024, 1, 2), 300, 100, 50.0, None, pytest.approx(200 / 24)),
        ("tiktok:222", date(2024, 1, 2), 1600, None, None, None, None),
        ("youtube:yt1", date(2024, 1, 1), 600, None, None, None, None),
    ]


# ---------------------------------------------------------------------------------------------------------------
# Incremental runs give the same tables as a full refresh


def _simulated_history(seed: int) -> list[tuple]:
    """Snapshots as the scraper stores them from the simulated platform (viewtrail.platforms.simulated.client):
    irregular times, multi-day gaps, snapshots exactly at midnight, hidden metrics, the platform's ~1% view
    corrections, and failed attempts leaving holes. Times are relative to 2024-03-01 so the two batches below
    split the history the same way whatever the simulated posting dates are."""
    from viewtrail.platforms.simulated.client import simulate

    rng = random.Random(seed)
    start = datetime(2024, 3, 1)
    rows = []
    for n in range(24):
        platform = ["tiktok", "youtube", "instagram", "x"][n % 4]
        video_id = f"{platform}:v{n}"
        t = start + timedelta(hours=rng.randint(0, 72), minutes=rng.randint(0, 59))
        for _ in range(rng.randint(1, 40)):
            # mostly hours apart, sometimes a multi-day gap, sometimes exactly at midnight
            step = rng.choice([1, 2, 3, 6, 6, 12, 24, 60, 100])
            t = t + timedelta(hours=step, minutes=rng.randint(0, 59))
            if rng.random() < 0.1:
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
            # the simulated video lives on its own timeline: observe it as many hours after posting
            state = simulate(video_id, _simulated_instant(video_id, t - start), tracked_at=start)
            if state.outcome != "ok":
                continue  # a failed attempt stores no snapshot
            views = state.views
            if views is not None and rng.random() < 0.05:
                views = max(0, views - rng.randint(1, 500))  # a platform removing invalid views
            rows.append((video_id, t, views, state.likes, state.comments, state.shares, state.saves, state.account))
    # keep one row per (video_id, observed_at), as the primary key demands
    return list({(r[0], r[1]): r for r in rows}.values())


def _simulated_instant(video_id: str, since_start: timedelta) -> datetime:
    from viewtrail.platforms.simulated.client import video_profile

    return video_profile(video_id).posted_at(datetime(2024, 3, 1)) + since_start


def _mart_rows(
    path: Path, table: str, exclude: tuple[str, ...] = ("snapshots_ingested_through",), schema: str = "marts"
) -> list[tuple]:
    cols = [
        r[0]
        for r in query(
            path,
            f"select column_name from information_schema.columns where table_schema = '{schema}'"
            f" and table_name = '{table}' order by ordinal_position",
        )
        if r[0] not in exclude
    ]
    return query(path, f"select {', '.join(cols)} from {schema}.{table} order by all")


#: Incremental relations outside the marts: compared with a full refresh too (last_ingested_at included: it is
#: the video's own max(ingested_at), the same either way).
INCREMENTAL_INTERMEDIATE = ["int_video_snapshot_summary", "int_video_attempt_summary"]


def _intermediate_rows(path: Path) -> dict[str, list[tuple]]:
    return {t: _mart_rows(path, t, exclude=(), schema="intermediate") for t in INCREMENTAL_INTERMEDIATE}


def test_incremental_runs_equal_full_refresh(warehouse_path: Path) -> None:
    history = _simulated_history(seed=4)
    rng = random.Random(7)
    cutoff = datetime(2024, 3, 8)
    before = [r for r in history if r[1] < cutoff]
    after = [r for r in history if r[1] >= cutoff]
    # late snapshots: observed before the cutoff but only loaded with the second batch
    late = rng.sample(before, k=len(before) // 5)
    first_batch = [r for r in before if r not in late]
    create_warehouse(warehouse_path)
    register_videos(
        warehouse_path,
        [
            {"video_id": f"{p}:v{n}", "labels": ["all", p]}
            for n, p in enumerate(["tiktok", "youtube", "instagram", "x"] * 6)
        ],
    )
    insert_snapshots(warehouse_path, first_batch)
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)
    insert_snapshots(warehouse_path, late + after[: len(after) // 2])
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)
    insert_snapshots(warehouse_path, after[len(after) // 2 :])
    # `viewtrail delete` removes a video with its snapshots: it must disappear from the incremental tables too
    with connect(warehouse_path) as con:
        delete_videos(con, ["tiktok:v0"])
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)
    incremental = {table: _mart_rows(warehouse_path, table) for table in MARTS}
    incremental_intermediate = _intermediate_rows(warehouse_path)

    dbt("build", "--full-refresh", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)
    full = {table: _mart_rows(warehouse_path, table) for table in MARTS}
    assert incremental_intermediate == _intermediate_rows(warehouse_path)
    assert not any(r[0] == "tiktok:v0" for r in incremental_intermediate["int_video_snapshot_summary"])

    assert not any(r[0] == "tiktok:v0" for r in incremental["video_daily"] + incremental["video_engagement"])
    assert len(full["video_daily"]) > 300
    assert sum(1 for r in full["video_daily"] if r[-1]) > 50  # interpolated days exist
    for table in MARTS:
        assert incremental[table] == full[table], f"{table}: incremental runs differ from a full refresh"


def _attempt_history(seed: int, videos: list[str]) -> list[tuple]:
    """(video_id, platform, attempted_at, outcome, http_status, detail): hourly to daily attempts over six days,
    failures among them (some videos end on a run of failures, one never succeeds)."""
    rng = random.Random(seed)
    start = datetime(2024, 3, 1)
    rows = []
    for n, video_id in enumerate(videos):
        at = start + timedelta(hours=rng.randrange(24), minutes=rng.choice([0, 7, 30]))
        while at < start + timedelta(days=6):
            outcome = "timeout" if n == 0 else rng.choice(["ok"] * 4 + ["timeout", "upstream_error", "not_found"])
            status = {"ok": 200, "upstream_error": 503, "not_found": 404}.get(outcome)
            rows.append((video_id, video_id.partition(":")[0], at, outcome, status, None if status == 200 else outcome))
            at += timedelta(hours=rng.choice([1, 1, 6, 24]), minutes=rng.choice([0, 17]))
    return rows


def _ingest_attempts(path: Path, rows: list[tuple], ingested_at: datetime) -> None:
    """Attempts stored as the write path stores them: stamped with the write clock, which moves to the stamp."""
    with connect(path) as con:
        con.executemany(
            "INSERT INTO raw.scrape_attempts (video_id, platform, attempted_at, outcome, http_status, detail, tries,"
            " source, ingested_at) VALUES (?, ?, ?, ?, ?, ?, 1, 'test', ?)",
            [(*r, ingested_at) for r in rows],
        )
        con.execute("UPDATE meta.write_clock SET last_ingested_at = ?", [ingested_at])


def test_attempt_summary_built_hour_by_hour_equals_a_full_refresh(warehouse_path: Path) -> None:
    """int_video_attempt_summary is incremental by the attempts' ingested_at: after each build (attempts of the
    hour, late ones of earlier days, a deleted video) it and video_latest equal a full refresh, and a build reads
    only the videos with new attempts. A warehouse that has the earlier version's view gets the table on its next
    hourly build."""
    videos = [f"{p}:v{n}" for n, p in enumerate(["tiktok", "youtube", "instagram", "x"] * 3)]
    history = sorted(_attempt_history(seed=9, videos=videos), key=lambda r: r[2])
    cuts = [datetime(2024, 3, d) for d in (3, 4, 5, 6, 7)]
    late = random.Random(2).sample([r for r in history if r[2] < cuts[0]], k=30)
    create_warehouse(warehouse_path)
    register_videos(warehouse_path, [{"video_id": v} for v in videos])
    selection = ("--select", "+video_latest")
    with connect(warehouse_path) as con:  # the earlier version's view (any columns: it is replaced whole)
        con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
        con.execute("CREATE VIEW intermediate.int_video_attempt_summary AS SELECT 'x' AS video_id")
    stamp = datetime(2024, 3, 10)
    held: list[tuple] = []
    for n, cut in enumerate(cuts):
        lo = cuts[n - 1] if n else datetime.min
        batch = held + [r for r in history if lo <= r[2] < cut and (n == 0 and r not in late or n > 0)]
        batch += late[n - 1 :: len(cuts) - 1] if n else []  # late attempts of the first days, spread over the builds
        batch, held = (batch, []) if n != 2 else ([r for r in batch if r[0] not in videos[2:6]], batch)
        held = [r for r in held if r not in batch]  # four videos' attempts of that hour arrive with the next
        batch = [r for r in batch if n < 4 or r[0] != "youtube:v1"]  # deleted below, not tracked again
        stamp += timedelta(hours=1)
        _ingest_attempts(warehouse_path, batch, stamp)
        if n == 3:  # `viewtrail delete` removes a video with its attempts: gone from the table too
            with connect(warehouse_path) as con:
                delete_videos(con, ["youtube:v1"])
        untouched = sorted(set(videos) - {r[0] for r in batch} - {"youtube:v1"})
        if n == 2:  # a build recomputes only the videos with attempts ingested since the last one: a row marked
            assert untouched  # here is left as it is
            with connect(warehouse_path) as con:
                con.execute(
                    "UPDATE intermediate.int_video_attempt_summary SET attempt_count = -attempt_count"
                    " WHERE video_id = ?",
                    [untouched[0]],
                )
        dbt("run", *selection, warehouse=warehouse_path)
        if n == 2:
            with connect(warehouse_path) as con:
                table = "intermediate.int_video_attempt_summary"
                assert con.execute(
                    f"SELECT attempt_count < 0 FROM {table} WHERE video_id = ?", [untouched[0]]
                ).fetchone()[0]
                assert con.execute(f"SELECT count(*) FROM {table} WHERE attempt_count < 0").fetchone()[0] == 1
                con.execute(f"UPDATE {table} SET attempt_count = -attempt_count WHERE attempt_count < 0")
            dbt("run", "--select", "video_latest", warehouse=warehouse_path)
        hourly = _mart_rows(warehouse_path, "int_video_attempt_summary", exclude=(), schema="intermediate")
        latest = _mart_rows(warehouse_path, "video_latest")
        dbt("run", "--full-refresh", *selection, warehouse=warehouse_path)
        assert hourly == _mart_rows(warehouse_path, "int_video_attempt_summary", exclude=(), schema="intermediate")
        assert latest == _mart_rows(warehouse_path, "video_latest")
    assert {r[0] for r in hourly} == set(videos) - {"youtube:v1"}
    by_video = {r[0]: r for r in hourly}
    assert by_video["tiktok:v0"][1] == by_video["tiktok:v0"][-2]  # never ok: every attempt a failure in a row
    assert by_video["tiktok:v0"][-1] == stamp  # the high-water mark: the newest ingested_at


def test_a_full_build_in_buckets_of_videos_equals_one_query(warehouse_path: Path) -> None:
    # a full rebuild computes video_daily bucket by bucket (bounded memory on a large warehouse): same rows
    create_warehouse(warehouse_path)
    register_videos(
        warehouse_path,
        [{"video_id": f"{p}:v{n}"} for n, p in enumerate(["tiktok", "youtube", "instagram", "x"] * 6)],
    )
    insert_snapshots(warehouse_path, _simulated_history(seed=5))
    selection = ("--select", "+video_daily", "+video_engagement")
    dbt("run", "--full-refresh", *selection, warehouse=warehouse_path, extra_vars={"video_daily_buckets": 1})
    one_query = {table: _mart_rows(warehouse_path, table) for table in ("video_daily", "video_engagement")}
    dbt("run", "--full-refresh", *selection, warehouse=warehouse_path, extra_vars={"video_daily_buckets": 5})
    assert len({r[0] for r in one_query["video_daily"]}) == 24
    for table, rows in one_query.items():
        assert _mart_rows(warehouse_path, table) == rows, table
    with connect(warehouse_path) as con:  # the scratch table of the buckets is gone
        assert not con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%by_bucket%'"
        ).fetchone()[0]


def test_every_mart_column_is_documented(warehouse_path: Path) -> None:
    """The marts are the analysts' contract: each built column has a description, and no documented column is
    missing from the built table (a rename would show up here)."""
    import json

    from dbt_support import target_path

    create_warehouse(warehouse_path)
    dbt("run", "--empty", warehouse=warehouse_path)
    dbt("docs", "generate", warehouse=warehouse_path)
    catalog = json.loads((target_path(warehouse_path) / "catalog.json").read_text())
    manifest = json.loads((target_path(warehouse_path) / "manifest.json").read_text())
    marts = {k: n for k, n in manifest["nodes"].items() if n["resource_type"] == "model" and n["schema"] == "marts"}
    assert sorted(n["name"] for n in marts.values()) == sorted(MARTS)
    problems = []
    for key, node in marts.items():
        built = set(catalog["nodes"][key]["columns"])
        documented = {name for name, col in node["columns"].items() if col.get("description")}
        problems += [f"{node['name']}.{c} is not documented" for c in sorted(built - documented)]
        problems += [f"{node['name']}.{c} is documented but not built" for c in sorted(set(node["columns"]) - built)]
    assert problems == []


def test_hour_after_hour_builds_equal_full_refresh(warehouse_path: Path) -> None:
    """The hourly pipeline: one build after each hour's snapshots land (some hours also bring late snapshots of
    earlier days, as a backfill does). After every build the incremental marts equal a full refresh."""
    history = sorted(_simulated_history(seed=11), key=lambda r: r[1])
    hours = sorted({r[1].replace(minute=0, second=0, microsecond=0) for r in history})[-8:]
    before = [r for r in history if r[1] < hours[0]]
    rng = random.Random(3)
    late = rng.sample(before, k=len(before) // 8)
    create_warehouse(warehouse_path)
    register_videos(
        warehouse_path,
        [
            {"video_id": f"{p}:v{n}", "account": f"acct{n % 3}", "labels": [p]}
            for n, p in enumerate(["tiktok", "youtube", "instagram", "x"] * 6)
        ],
    )
    insert_snapshots(warehouse_path, [r for r in before if r not in late])
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)
    for n, hour in enumerate(hours):
        batch = [r for r in history if hour <= r[1] < hour + timedelta(hours=1)]
        batch += late[n :: len(hours)]  # late snapshots arrive spread over the hours
        insert_snapshots(warehouse_path, batch)
        dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)
    incremental = {table: _mart_rows(warehouse_path, table) for table in MARTS}
    incremental_intermediate = _intermediate_rows(warehouse_path)
    dbt("build", "--full-refresh", "--exclude-resource-type", "unit_test", warehouse=warehouse_path, tests="all")
    full = {table: _mart_rows(warehouse_path, table) for table in MARTS}
    assert incremental_intermediate == _intermediate_rows(warehouse_path)
    assert len(full["video_daily"]) > 300
    for table in MARTS:
        assert incremental[table] == full[table], f"{table}: hour-by-hour builds differ from a full refresh"


def test_a_warehouse_built_by_an_earlier_version_upgrades_on_open_and_builds_hourly(
    warehouse_path: Path,
) -> None:
    """Earlier versions built label_daily, account_daily and video_growth as plain tables without the build's
    mark, and video_daily without engagements: opening the warehouse drops them (migrations 13 and 14) and the next
    hourly build (no --full-refresh) succeeds, equal to a full refresh."""
    from viewtrail.warehouse import open_warehouse

    history = sorted(_simulated_history(seed=5), key=lambda r: r[1])
    cutoff = history[len(history) // 2][1]
    create_warehouse(warehouse_path)
    register_videos(
        warehouse_path,
        [
            {"video_id": f"{p}:v{n}", "account": f"acct{n % 3}", "labels": [p]}
            for n, p in enumerate(["tiktok", "youtube", "instagram", "x"] * 3)
        ],
    )
    insert_snapshots(warehouse_path, [r for r in history if r[1] < cutoff])
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)
    with connect(warehouse_path) as con:  # as the earlier version left it
        for table in ("label_daily", "account_daily", "video_growth"):
            con.execute(f"ALTER TABLE marts.{table} DROP COLUMN snapshots_ingested_through")
        for column in ("engagements", "engagements_gained"):
            con.execute(f"ALTER TABLE marts.video_daily DROP COLUMN {column}")
        con.execute("DELETE FROM meta.schema_migrations WHERE version IN (13, 14)")
    with open_warehouse(warehouse_path):
        pass  # any read-write open applies the pending migrations
    insert_snapshots(warehouse_path, [r for r in history if r[1] >= cutoff])
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)
    hourly = {table: _mart_rows(warehouse_path, table) for table in MARTS}
    dbt("build", "--full-refresh", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)
    for table in MARTS:
        assert hourly[table] == _mart_rows(warehouse_path, table), table


def test_hourly_data_tests_read_the_rewritten_videos_and_the_daily_run_every_row(warehouse_path: Path) -> None:
    """Hourly builds test all rows of the videos the build rewrote; VIEWTRAIL_DBT_TESTS=all tests every row."""
    create_warehouse(warehouse_path)
    d = datetime
    insert_snapshots(
        warehouse_path,
        [
            ("tiktok:a", d(2024, 1, 1, 12), 100),
            ("tiktok:a", d(2024, 1, 4, 12), 400),
            ("tiktok:b", d(2024, 1, 1, 12), 100),
            ("tiktok:b", d(2024, 1, 4, 12), 400),
        ],
    )
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)
    # a hole in b's history, then a new snapshot of a only: the next build rewrites a's last days, not b
    with connect(warehouse_path) as con:
        con.execute("delete from marts.video_daily where video_id = 'tiktok:b' and day = date '2024-01-02'")
    insert_snapshots(warehouse_path, [("tiktok:a", d(2024, 1, 5, 12), 500)])
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)  # b is not read: passes
    with pytest.raises(AssertionError, match="no_day_gaps_video_daily"):
        dbt("test", "--select", "video_daily", warehouse=warehouse_path, tests="all")
    # a hole in a day of a that the build did not recompute: a was rewritten, so all of a's rows are tested
    with connect(warehouse_path) as con:
        con.execute("delete from marts.video_daily where video_id = 'tiktok:a' and day = date '2024-01-02'")
    with pytest.raises(AssertionError, match="no_day_gaps_video_daily"):
        dbt("test", "--select", "video_daily", warehouse=warehouse_path)


def test_the_dagster_dbt_step_runs_dbt_in_process_and_frees_the_warehouse(warehouse_path: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    from dagster import DagsterInstance, materialize

    from orchestration.defs.dbt import DBT_TESTS_TAG, dbt_target_path, viewtrail_dbt_assets
    from orchestration.defs.resources import WarehouseResource

    create_warehouse(warehouse_path)
    register_videos(
        warehouse_path,
        [
            {"video_id": "tiktok:a", "account": "alice", "labels": ["launch"]},
            {"video_id": "tiktok:b", "account": "alice"},
        ],
    )
    insert_snapshots(
        warehouse_path,
        [
            (v, datetime(2024, 1, day, 12), 100 * day, 10 * day, day, day, 0)
            for v in ("tiktok:a", "tiktok:b")
            for day in (1, 3)
        ],
    )
    resources = {
        "warehouse": WarehouseResource(
            path=str(warehouse_path),
            analytics_path=str(tmp_path / "a.duckdb"),
            marts_export_dir=str(tmp_path / "marts"),
        ),
    }

    def free_for_another_process() -> bool:
        probe = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"
        return subprocess.run([sys.executable, "-c", probe, str(warehouse_path)], capture_output=True).returncode == 0

    with DagsterInstance.ephemeral() as instance:
        hourly = materialize([viewtrail_dbt_assets()], resources=resources, instance=instance)
        assert hourly.success
        built = {e.asset_key.path[-1] for e in hourly.get_asset_materialization_events()}
        assert set(MARTS) <= built
        checks = hourly.get_asset_check_evaluations()
        # every data test the definitions declare (tests/snapshots/definitions.json lists them) ran, and passed
        declared = {(key.asset_key, key.name) for key in viewtrail_dbt_assets().check_keys}
        assert {(c.asset_key, c.check_name) for c in checks} == declared and all(c.passed for c in checks)
        assert free_for_another_process()  # dbt-duckdb's in-process DuckDB instance was closed
        # one dbt target dir per warehouse, reused: the next build parses partially
        assert (dbt_target_path(warehouse_path) / "partial_parse.msgpack").exists()

        # a new snapshot of a only; then a hole in b's history, which no hourly build reads
        insert_snapshots(warehouse_path, [("tiktok:a", datetime(2024, 1, 4, 12), 400, 40, 4, 4, 0)])
        assert materialize([viewtrail_dbt_assets()], resources=resources, instance=instance).success
        with connect(warehouse_path) as con:
            con.execute("delete from marts.video_daily where video_id = 'tiktok:b' and day = date '2024-01-02'")
        assert materialize([viewtrail_dbt_assets()], resources=resources, instance=instance).success
        # the daily run tests every row: the hole fails its check, and the step
        daily = materialize(
            [viewtrail_dbt_assets()],
            resources=resources,
            instance=instance,
            tags={DBT_TESTS_TAG: "all"},
            raise_on_error=False,
        )
        assert not daily.success
        failed = {c.check_name for c in daily.get_asset_check_evaluations() if not c.passed}
        assert failed == {"no_day_gaps_video_daily_"}
        assert free_for_another_process()

        unknown = materialize(
            [viewtrail_dbt_assets()],
            resources=resources,
            instance=instance,
            tags={DBT_TESTS_TAG: "some"},
            raise_on_error=False,
        )
        assert not unknown.success


def test_the_dbt_step_builds_the_marts_with_the_cli_runner_too(
    warehouse_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VIEWTRAIL_DBT_RUNNER=cli: the fallback when an upgrade breaks the in-process step runs `dbt build` as a
    subprocess (dagster-dbt's DbtCliResource) with the same results: every mart, every data test."""
    from dagster import DagsterInstance, materialize

    from orchestration.defs.dbt import dbt_target_path, viewtrail_dbt_assets
    from orchestration.defs.resources import WarehouseResource

    create_warehouse(warehouse_path)
    register_videos(warehouse_path, [{"video_id": "tiktok:a", "account": "alice", "labels": ["launch"]}])
    insert_snapshots(
        warehouse_path, [("tiktok:a", datetime(2024, 1, day, 12), 100 * day, 10, 1, 1, 0) for day in (1, 3)]
    )
    monkeypatch.setenv("VIEWTRAIL_DBT_RUNNER", "cli")
    warehouse = WarehouseResource(
        path=str(warehouse_path), analytics_path=str(tmp_path / "a.duckdb"), marts_export_dir=str(tmp_path / "marts")
    )
    with DagsterInstance.ephemeral() as instance:
        result = materialize([viewtrail_dbt_assets()], resources={"warehouse": warehouse}, instance=instance)
    assert result.success
    # the subprocess wrote its run results where the in-process runner keeps its partial parse state
    assert (dbt_target_path(warehouse_path) / "run_results.json").exists()
    built = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert set(MARTS) <= built
    checks = result.get_asset_check_evaluations()
    declared = {(key.asset_key, key.name) for key in viewtrail_dbt_assets().check_keys}
    assert {(c.asset_key, c.check_name) for c in checks} == declared and all(c.passed for c in checks)
    # the day between the two snapshots is filled in, as the in-process build does
    assert query(warehouse_path, "select day from marts.video_daily order by day") == [
        (date(2024, 1, day),) for day in (1, 2, 3)
    ]


def test_the_daily_schedule_runs_the_build_with_every_test() -> None:
    from dagster import build_schedule_context

    from orchestration.defs.dbt import DBT_TESTS_TAG
    from orchestration.defs.schedules import daily_full_dbt_tests_schedule

    assert daily_full_dbt_tests_schedule.job_name == "build_marts"
    (request,) = daily_full_dbt_tests_schedule.evaluate_tick(build_schedule_context()).run_requests
    assert request.tags[DBT_TESTS_TAG] == "all"


#: The marts rebuilt from the rows an hour touched rather than from all of video_daily.
ROLLUPS = ("label_daily", "account_daily", "video_growth")


def _equals_full_refresh(path: Path, tmp_path: Path, step: str) -> None:
    """The rollups (and video_daily) of `path` equal a full refresh of a copy of it, row for row."""
    import shutil

    copy = tmp_path / f"full-{step}" / "warehouse.duckdb"
    copy.parent.mkdir()
    shutil.copy(path, copy)
    dbt("run", "--full-refresh", "--select", *(f"+{m}" for m in ROLLUPS), warehouse=copy)
    for table in ("video_daily", *ROLLUPS):
        incremental, full = _mart_rows(path, table), _mart_rows(copy, table)
        assert incremental == full, f"after {step}: incremental {table} differs from a full refresh"


def _insert_and_tick(path: Path, rows: list[tuple]) -> None:
    """Snapshots as a write stores them: the write clock moves to their ingested_at (the rollups' mark)."""
    insert_snapshots(path, rows)
    with connect(path) as con:
        con.execute("update meta.write_clock set last_ingested_at = (select max(ingested_at) from raw.snapshots)")


def test_incremental_rollups_follow_gaps_relabels_account_moves_and_deletes(
    warehouse_path: Path, tmp_path: Path
) -> None:
    """label_daily, account_daily and video_growth rewrite only what an hour touched; after each kind of change
    (a snapshot after a gap re-interpolating past days, a relabel, a move to another account, a delete) the
    incremental build equals a full refresh of the same data."""
    d = datetime
    create_warehouse(warehouse_path)
    register_videos(
        warehouse_path,
        [
            {"video_id": "tiktok:a", "account": "alice", "labels": ["spring", "all"]},
            {"video_id": "tiktok:b", "account": "alice", "labels": ["all"]},
            {"video_id": "tiktok:c", "account": "bob", "labels": ["spring"]},
            {"video_id": "tiktok:d", "account": "bob", "labels": ["all"]},
        ],
    )
    history = [
        (v, d(2024, 1, 1, 6) + timedelta(hours=h), 100 * (n + 1) * (h + 1))
        for n, v in enumerate(["tiktok:a", "tiktok:b", "tiktok:c", "tiktok:d"])
        for h in range(0, 96, 7)
    ]
    _insert_and_tick(warehouse_path, history)
    build = ("run", "--select", *(f"+{m}" for m in ROLLUPS))
    dbt(*build, warehouse=warehouse_path)

    # (a) new snapshots of a (the next hour) and of c after a five-day gap: c's past days are re-interpolated
    _insert_and_tick(warehouse_path, [("tiktok:a", d(2024, 1, 5, 7), 99_000), ("tiktok:c", d(2024, 1, 9, 12), 88_000)])
    dbt(*build, warehouse=warehouse_path)
    # the hour rewrote the days of a and c only: b's and d's rows were not touched
    assert (
        query(
            warehouse_path,
            "select count(*) from marts.account_daily where account = 'alice'"
            " and snapshots_ingested_through = (select max(snapshots_ingested_through) from marts.account_daily)",
        )[0][0]
        < query(warehouse_path, "select count(*) from marts.account_daily where account = 'alice'")[0][0]
    )
    _equals_full_refresh(warehouse_path, tmp_path, "new snapshots")

    # (b) b loses its label "all" and gains "autumn", without a new snapshot
    with connect(warehouse_path) as con:
        con.execute("update registry.videos set labels = ['autumn'] where video_id = 'tiktok:b'")
    dbt(*build, warehouse=warehouse_path)
    assert query(warehouse_path, "select count(*) from marts.label_daily where label = 'autumn'")[0][0] > 0
    _equals_full_refresh(warehouse_path, tmp_path, "a relabel")

    # (c) d moves from bob to alice, without a new snapshot
    with connect(warehouse_path) as con:
        con.execute("update registry.videos set account = 'alice' where video_id = 'tiktok:d'")
    dbt(*build, warehouse=warehouse_path)
    _equals_full_refresh(warehouse_path, tmp_path, "an account change")

    # (d) c is deleted: bob has no video left, "spring" keeps only a
    with connect(warehouse_path) as con:
        delete_videos(con, ["tiktok:c"])
    dbt(*build, warehouse=warehouse_path)
    assert query(warehouse_path, "select count(*) from marts.account_daily where account = 'bob'") == [(0,)]
    _equals_full_refresh(warehouse_path, tmp_path, "a delete")
