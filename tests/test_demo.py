"""`viewtrail demo` end to end (small: 24 videos, 2 days) through Dagster, on a temp data dir."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from orchestration.defs.dbt import mart_names
from viewtrail import clock, config
from viewtrail.app import demo
from viewtrail.cli import app
from viewtrail.domain.models import Platform
from viewtrail.domain.urls import parse_video_url
from viewtrail.warehouse.connection import open_warehouse

MART_NAMES = set(mart_names())


@pytest.fixture
def demo_env(warehouse_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    # the instance `make demo` uses (the committed .dagster_home/dagster.yaml)
    shutil.copy(Path(__file__).resolve().parents[1] / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for platform in Platform:  # the demo is simulated whatever the environment says
        monkeypatch.setenv(f"VIEWTRAIL_{platform.value.upper()}_MODE", "real")
    return home


def test_sample_videos_are_valid_deterministic_and_cover_every_platform() -> None:
    videos = demo.sample_videos(200)
    assert videos == demo.sample_videos(200)
    assert len({v.video_id for v in videos}) == 200
    assert {v.platform for v in videos} == set(Platform)
    for video in videos:
        ref = parse_video_url(video.url)
        assert ref.video_id == video.video_id  # canonical URLs round-trip through the URL parser
    accounts = {(v.platform, v.account) for v in videos}
    assert len(accounts) >= 12  # several accounts per platform


def test_demo_backfills_through_dagster_builds_and_publishes(demo_env: Path, warehouse_path: Path) -> None:
    lines: list[str] = []
    report = demo.run_demo(videos=16, days=8, progress=lines.append)

    discovered = report.videos_tracked - 16  # the sample videos, and those discovered on the watched accounts
    assert discovered >= len(demo.DEMO_ACCOUNTS) // 2 * demo.DEMO_LATEST_N
    assert report.accounts_watched == len(demo.DEMO_ACCOUNTS)
    assert [c.name for c in report.top_creators] and {c.name for c in report.top_creators} == {
        creator for _, creator, _ in demo.DEMO_ACCOUNTS
    }
    assert all(c.followers and c.videos > 0 for c in report.top_creators)
    assert report.discovered_count > 0  # new posts during the window, tracked from their discovery
    assert all(
        report.first_hour <= d.posted_at <= report.last_hour + timedelta(hours=1) for d in report.discovered_in_window
    )
    assert report.inbox_pending > 0  # the review-mode account's videos wait for a decision
    assert report.snapshots_stored > 16 * 8  # every video at least once, young ones hourly
    assert 0 < len(report.top_growth) <= 10
    assert any("backfilling" in line for line in lines)
    # every step says when it starts and ends, as the runs go: no long silence
    for platform in Platform:
        for step in (
            f"plans/{platform.value}_accounts",
            f"discovery/{platform.value}",
            f"raw/{platform.value}_accounts",
            f"plans/{platform.value}",
            f"scrapes/{platform.value}",
        ):
            assert any(line.strip() == f"{step}: started" for line in lines), step
    assert any(line.strip().startswith("viewtrail_dbt: done") for line in lines)
    assert any(line.strip().startswith("analytics_copy: started") for line in lines)
    # the last step of the last run is reported too, though the run ends before the next look at its events
    assert any(line.strip().startswith("analytics_copy: done") for line in lines)
    # lively whatever the date: launches inside the window with hourly history, next to old videos plateauing
    assert 4 <= report.posted_in_window <= 12
    assert report.hourly_history >= report.posted_in_window // 2
    assert any(r.age_days < 8 for r in report.top_growth[:5])  # young videos are among the fastest growers
    assert report.plateauing and all(r.age_days > 30 and (r.increase_7d_pct or 0) < 5 for r in report.plateauing)
    # the demo's creator program: two campaigns paying finalized videos while the youngest are still in their window,
    # and Trail Runner's goal (250 posts a week) out of reach whatever the day of the week
    assert {p.campaign_id for p in report.payouts} == {"spring-program", "trail-series"}
    assert sum(p.videos_finalized for p in report.payouts) > 0 and sum(p.videos_open for p in report.payouts) > 0
    assert sum(p.due_minor for p in report.payouts) > 0
    assert {g.creator_id: g.status for g in report.goals}["trail-runner"] == "At Risk"

    # the demo's alert rules fired on what happened during the window, delivered to its file channel
    assert report.alerts and {a.kind for a in report.alerts} <= {"spike", "milestone", "unavailable"}
    assert "spike" in {a.kind for a in report.alerts}  # young videos taking off
    assert all(report.first_hour <= a.occurred_at <= report.last_hour + timedelta(hours=1) for a in report.alerts)
    assert all(a.delivered for a in report.alerts)
    assert len(report.alerts_log.read_text().splitlines()) == len(report.alerts)

    data = warehouse_path.parent / "demo"  # the demo's own data dir
    assert report.analytics_path == data / "analytics.duckdb"
    # one file per mart, or for the marts of one row per day one file per month
    by_month = set(json.loads((data / "marts" / "manifest.json").read_text())["marts"])
    assert by_month >= {"video_daily", "video_engagement", "label_daily", "account_daily"}
    assert all((data / "marts" / name).is_dir() for name in ("video_daily", "video_engagement"))
    assert {p.stem for p in (data / "marts").glob("*.parquet")} | by_month == MART_NAMES | {"alert_events"}
    con = duckdb.connect(str(report.analytics_path), read_only=True)
    try:
        platforms = dict(con.sql("SELECT platform, count(*) FROM marts.video_latest GROUP BY 1").fetchall())
        observed = con.sql("SELECT min(observed_at), max(observed_at) FROM raw.snapshots").fetchall()[0]
        published_alerts = con.sql("SELECT count(*) FROM marts.alert_events").fetchall()[0][0]
    finally:
        con.close()
    assert set(platforms) == {p.value for p in Platform}
    assert published_alerts == len(report.alerts)  # what the run fired is in the analyst copy it published
    # observations stand for the backfilled hours, not for "now"
    assert report.first_hour <= observed[0] and observed[1] < report.last_hour + timedelta(hours=1)

    # the runs went through Dagster and are recorded in DAGSTER_HOME's instance (visible in `make ui`): one run
    # backfills the accounts' discovery over the whole range (single-run backfill) for every platform, one the
    # scrapes, then one build run
    from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

    with DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert len(runs) == 3 and all(r.status == DagsterRunStatus.SUCCESS for r in runs)
        backfills = [r for r in runs if r.tags.get("dagster/asset_partition_range_start")]
        materialized = []
        for run in backfills:
            assert run.tags["dagster/asset_partition_range_start"] == report.first_hour.strftime("%Y-%m-%d-%H:%M")
            assert run.tags["dagster/asset_partition_range_end"] == report.last_hour.strftime("%Y-%m-%d-%H:%M")
            events = instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
            materialized += [e.dagster_event.asset_key.to_user_string() for e in events]
    hours = 8 * 24  # every hourly partition of the range is planned, scraped and loaded, by one run for every platform
    expected = {f"raw/{p.value}_snapshots": hours for p in Platform} | {f"scrapes/{p.value}": hours for p in Platform}
    expected |= {f"discovery/{p.value}": hours for p in Platform} | {f"raw/{p.value}_accounts": hours for p in Platform}
    expected |= {f"plans/{p.value}": hours for p in Platform} | {f"plans/{p.value}_accounts": hours for p in Platform}
    assert Counter(materialized) == expected


def test_demo_replaces_its_own_warehouse(demo_env: Path, warehouse_path: Path) -> None:
    demo_dir = demo.demo_data_dir()
    with demo.in_demo_data_dir(demo_dir):
        own = config.warehouse_path()
        with open_warehouse(own) as con:
            demo.register_sample_videos(con, demo.sample_videos(8), added_at=clock.last_complete_hour())
        demo.prepare_demo_warehouse(own, demo_dir)
    assert own == demo_dir / "warehouse.duckdb" and not own.exists()


def test_demo_refuses_to_delete_rows_it_did_not_create_even_in_its_own_dir(
    demo_env: Path, warehouse_path: Path
) -> None:
    demo_dir = demo.demo_data_dir()
    with demo.in_demo_data_dir(demo_dir):
        own = config.warehouse_path()
        with open_warehouse(own) as con:
            demo.register_sample_videos(con, demo.sample_videos(8), added_at=clock.last_complete_hour())
            con.execute(
                "INSERT INTO registry.videos (video_id, platform, external_id, url, account, is_active, cadence,"
                " labels, metadata, availability, consecutive_not_found, added_at, updated_at) VALUES"
                " ('youtube:dQw4w9WgXcQ', 'youtube', 'dQw4w9WgXcQ', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ',"
                " NULL, true, 'auto', [], '{}', 'available', 0, now()::TIMESTAMP, now()::TIMESTAMP)"
            )
    with pytest.raises(demo.DemoError, match="1 videos that the demo did not create"):
        demo.run_demo(videos=8, days=1, progress=lambda _: None)
    with open_warehouse(own, read_only=True) as con:
        assert ("youtube:dQw4w9WgXcQ",) in con.sql("SELECT video_id FROM registry.videos").fetchall()


def test_demo_never_deletes_outside_its_own_dir(demo_env: Path, warehouse_path: Path) -> None:
    with open_warehouse(warehouse_path) as con:  # marked by an older demo, at the user's path
        demo.register_sample_videos(con, demo.sample_videos(8), added_at=clock.last_complete_hour())
    with pytest.raises(demo.DemoError, match="only replaces a warehouse inside its own data dir"):
        demo.prepare_demo_warehouse(warehouse_path, demo.demo_data_dir())
    assert warehouse_path.exists()


runner = CliRunner()


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.exit_code, result.output, result.exception)
    return result.output


def _user_rows(warehouse: Path) -> dict[str, int]:
    with open_warehouse(warehouse, read_only=True) as con:
        return {
            table: con.sql(f"SELECT count(*) FROM registry.{table}").fetchall()[0][0]
            for table in ("videos", "accounts", "creators", "alert_rules", "alert_channels")
        }


def _own_videos(tmp_path: Path, count: int) -> Path:
    urls = tmp_path / "mine.txt"
    urls.write_text("".join(f"https://www.youtube.com/watch?v=mine{i:07d}\n" for i in range(count)))
    return urls


def test_demo_then_tracking_own_videos_then_demo_again_keeps_them(
    demo_env: Path, warehouse_path: Path, tmp_path: Path
) -> None:
    """The README's flow with the default data dir: `make demo`, track your own, `make demo` again."""
    first = _cli("demo", "--videos", "4", "--days", "1")
    demo_dir = warehouse_path.parent / "demo"
    assert f"VIEWTRAIL_DATA_DIR={demo_dir} .venv/bin/viewtrail sql" in first.replace("\n", "")
    assert not warehouse_path.exists()  # the user's warehouse is theirs alone
    _cli("import", str(_own_videos(tmp_path, 30)), "--no-scrape")
    _cli("watch", "https://www.tiktok.com/@nasa", "--no-discover")
    _cli("creator", "add", "Jane Doe", "tiktok:nasa")
    _cli("channel", "add", "mine", f"file://{tmp_path / 'mine.jsonl'}")
    _cli("alert", "add", "milestone", "--channel", "mine")
    mine = _user_rows(warehouse_path)
    assert mine == {"videos": 30, "accounts": 1, "creators": 1, "alert_rules": 1, "alert_channels": 1}

    _cli("demo", "--videos", "4", "--days", "1")

    assert _user_rows(warehouse_path) == mine
    with open_warehouse(demo_dir / "warehouse.duckdb", read_only=True) as con:
        assert not con.sql("SELECT * FROM registry.videos WHERE video_id LIKE 'youtube:mine%'").fetchall()


def test_an_interrupted_demo_leaves_the_users_warehouse_and_analyst_copy_alone(
    demo_env: Path, warehouse_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration import runs
    from viewtrail.pipeline.publish import publish

    # a warehouse an older demo created at the user's path, where they then tracked their own videos
    with open_warehouse(warehouse_path) as con:
        demo.register_sample_videos(con, demo.sample_videos(8), added_at=clock.last_complete_hour())
    _cli("import", str(_own_videos(tmp_path, 12)), "--no-scrape")
    with open_warehouse(warehouse_path) as con:
        publish(con)
    analyst_copy = warehouse_path.parent / "analytics.duckdb"
    published = analyst_copy.read_bytes()
    mine = _user_rows(warehouse_path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(runs, "backfill_snapshots", interrupted)
        with pytest.raises(KeyboardInterrupt):
            demo.run_demo(videos=4, days=1, progress=lambda _: None)
    assert config.warehouse_path() == warehouse_path  # the settings are the user's again
    assert analyst_copy.read_bytes() == published and _user_rows(warehouse_path) == mine

    report = demo.run_demo(videos=4, days=1, progress=lambda _: None)  # re-run: replaces its own interrupted one
    assert report.analytics_path == warehouse_path.parent / "demo" / "analytics.duckdb"
    assert analyst_copy.read_bytes() == published and _user_rows(warehouse_path) == mine


def _demo_rows(analytics: Path, shift: timedelta) -> dict[str, list[tuple]]:
    """The stored rows with their instants moved back by ``shift`` (to compare runs at different dates)."""
    con = duckdb.connect(str(analytics), read_only=True)
    try:
        tables = {
            "snapshots": con.execute(
                "SELECT video_id, observed_at - ?::INTERVAL, views, likes, comments, shares, saves, posted_at - ?::INTERVAL"
                " FROM raw.snapshots ORDER BY ALL",
                [shift, shift],
            ).fetchall(),
            "attempts": con.execute(
                "SELECT video_id, attempted_at - ?::INTERVAL, outcome FROM raw.scrape_attempts ORDER BY ALL", [shift]
            ).fetchall(),
            "growth": con.sql(
                "SELECT video_id, views, views_gained_1d, views_gained_7d, increase_7d_pct"
                " FROM marts.video_growth ORDER BY ALL"
            ).fetchall(),
            "registry": con.sql("SELECT video_id, availability FROM registry.videos ORDER BY ALL").fetchall(),
            "accounts": con.execute(
                "SELECT account_id, observed_at - ?::INTERVAL, followers, following, likes, video_count, views"
                " FROM raw.account_snapshots ORDER BY ALL",
                [shift],
            ).fetchall(),
            "account_attempts": con.execute(
                "SELECT account_id, attempted_at - ?::INTERVAL, outcome, videos_listed, videos_new"
                " FROM raw.account_attempts ORDER BY ALL",
                [shift],
            ).fetchall(),
            "inbox": con.execute(
                "SELECT video_id, account_id, posted_at - ?::INTERVAL, status FROM registry.inbox ORDER BY ALL",
                [shift],
            ).fetchall(),
        }
        # A discovered post's id carries its posting time (as real ids do): name it by account and posting time.
        names = dict(
            con.execute(
                "SELECT video_id, account_id || '@' || strftime(posted_at - ?::INTERVAL, '%Y-%m-%dT%H:%M:%S')"
                " FROM (SELECT video_id, account_id, posted_at FROM registry.videos WHERE source = 'discovered'"
                " UNION ALL SELECT video_id, account_id, posted_at FROM registry.inbox)",
                [shift],
            ).fetchall()
        )
        return {
            table: sorted((tuple([names.get(r[0], r[0]), *r[1:]]) for r in rows), key=repr)
            for table, rows in tables.items()
        }
    finally:
        con.close()


def test_the_same_demo_a_year_apart_gives_the_same_results_shifted_in_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing depends on the calendar: 52 weeks apart (weekday-aligned, so weekly cadence slots line up) the
    demo stores the same snapshots, outcomes and growth, shifted by exactly that much."""
    year = timedelta(weeks=52)
    earlier = clock.utc_now() - timedelta(days=400)
    runs = {}
    for name, now in (("earlier", earlier), ("later", earlier + year)):
        data = tmp_path / name
        data.mkdir()
        monkeypatch.setenv("VIEWTRAIL_DATA_DIR", str(data))
        monkeypatch.setenv("VIEWTRAIL_WAREHOUSE", str(data / "warehouse.duckdb"))
        monkeypatch.setenv("VIEWTRAIL_ANALYTICS", str(data / "analytics.duckdb"))
        monkeypatch.delenv("DAGSTER_HOME", raising=False)
        runs[name] = demo.run_demo(videos=24, days=4, progress=lambda _: None, now=now)

    first, second = runs["earlier"], runs["later"]
    assert second.first_hour == first.first_hour + year
    assert (second.snapshots_stored, second.attempts_stored, second.posted_in_window, second.hourly_history) == (
        first.snapshots_stored,
        first.attempts_stored,
        first.posted_in_window,
        first.hourly_history,
    )
    assert first.posted_in_window > 0 and first.hourly_history > 0
    assert _demo_rows(second.analytics_path, year) == _demo_rows(first.analytics_path, timedelta(0))


def test_demo_report_says_simulated_and_separates_thousands(tmp_path: Path) -> None:
    from rich.console import Console

    from viewtrail.cli.demo_report import render_report

    hour = clock.last_complete_hour()
    report = demo.DemoReport(
        videos_tracked=1_234,
        snapshots_stored=1_234_567,
        attempts_stored=1_250_000,
        first_hour=hour,
        last_hour=hour,
        posted_in_window=12,
        hourly_history=1_050,
        disappeared=2,
        top_growth=[],
        plateauing=[],
        analytics_path=tmp_path / "demo" / "analytics.duckdb",
        marts_dir=tmp_path / "demo" / "marts",
        seconds=3.0,
        data_dir=tmp_path / "demo",
    )
    console = Console(record=True, width=400)
    render_report(report, console)
    text = console.export_text()
    assert "simulated data" in text
    assert "1,234 videos tracked" in text and "1,234,567 snapshots" in text and "1,050 videos have hourly" in text
    assert f"VIEWTRAIL_DATA_DIR={tmp_path / 'demo'} .venv/bin/viewtrail sql" in text
