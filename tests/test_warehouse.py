"""Warehouse: migrations, schema contract, lock handling, idempotent scrape writes."""

from __future__ import annotations

import multiprocessing
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from viewtrail.domain.models import (
    NOT_FOUND_STREAK_LIMIT,
    Attempt,
    Observation,
    Outcome,
    Platform,
    ScrapeResult,
)
from viewtrail.warehouse.connection import WarehouseLockedError, WarehouseMissingError, open_warehouse
from viewtrail.warehouse.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    WarehouseSchemaError,
    apply_migrations,
    current_version,
)
from viewtrail.warehouse.snapshots import write_scrape_frames, write_scrape_results

# The public contract documented in docs/schema.md.
CONTRACT_DDL = """
CREATE SCHEMA meta; CREATE SCHEMA registry; CREATE SCHEMA raw;
CREATE TABLE meta.schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL);
CREATE TABLE meta.outcomes (
  outcome TEXT PRIMARY KEY, meaning TEXT NOT NULL, is_transient BOOLEAN NOT NULL,
  counts_toward_unavailable BOOLEAN NOT NULL
);
CREATE TABLE meta.write_clock (last_write_id BIGINT NOT NULL, last_ingested_at TIMESTAMP NOT NULL);
CREATE TABLE meta.deleted_videos (
  video_id TEXT NOT NULL, deleted_through TIMESTAMP NOT NULL, PRIMARY KEY (video_id, deleted_through)
);
CREATE TABLE meta.write_log (
  write_id BIGINT PRIMARY KEY, kind TEXT NOT NULL, run_id TEXT, ingested_at TIMESTAMP NOT NULL,
  started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
  snapshots_inserted BIGINT NOT NULL, attempts_inserted BIGINT NOT NULL
);
CREATE TABLE registry.videos (
  video_id TEXT PRIMARY KEY, platform TEXT NOT NULL, external_id TEXT NOT NULL, url TEXT NOT NULL, account TEXT,
  is_active BOOLEAN NOT NULL, cadence TEXT NOT NULL, track_until TIMESTAMP, labels TEXT[] NOT NULL,
  metadata JSON NOT NULL, availability TEXT NOT NULL, consecutive_not_found INTEGER NOT NULL, posted_at TIMESTAMP,
  account_id TEXT, source TEXT NOT NULL,
  added_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, stopped_at TIMESTAMP
);
CREATE TABLE registry.pending_links (
  url TEXT PRIMARY KEY, platform TEXT NOT NULL, note TEXT NOT NULL,
  cadence TEXT NOT NULL, track_until TIMESTAMP, labels TEXT[] NOT NULL, metadata JSON NOT NULL,
  added_at TIMESTAMP NOT NULL, resolved_video_id TEXT, resolved_at TIMESTAMP
);
CREATE TABLE raw.snapshots (
  video_id TEXT NOT NULL, observed_at TIMESTAMP NOT NULL,
  views BIGINT, likes BIGINT, comments BIGINT, shares BIGINT, saves BIGINT,
  title TEXT, account TEXT, posted_at TIMESTAMP, duration_s DOUBLE, extra JSON,
  source TEXT NOT NULL, run_id TEXT, ingested_at TIMESTAMP NOT NULL,
  PRIMARY KEY (video_id, observed_at)
);
CREATE TABLE raw.scrape_attempts (
  video_id TEXT NOT NULL, platform TEXT NOT NULL, attempted_at TIMESTAMP NOT NULL,
  outcome TEXT NOT NULL, http_status INTEGER, detail TEXT, duration_ms DOUBLE, tries INTEGER NOT NULL,
  source TEXT NOT NULL, run_id TEXT, partition_key TEXT, proxy_index INTEGER, ingested_at TIMESTAMP,
  PRIMARY KEY (video_id, attempted_at)
);
CREATE TABLE registry.alert_rules (
  rule_id INTEGER PRIMARY KEY, kind TEXT NOT NULL, scope_kind TEXT NOT NULL, scope_values TEXT[] NOT NULL,
  params JSON NOT NULL, channels TEXT[] NOT NULL, cooldown_hours DOUBLE NOT NULL, created_at TIMESTAMP NOT NULL
);
CREATE TABLE registry.alert_channels (name TEXT PRIMARY KEY, target TEXT NOT NULL, added_at TIMESTAMP NOT NULL);
CREATE TABLE raw.alert_events (
  event_id TEXT PRIMARY KEY, dedup_key TEXT NOT NULL UNIQUE, rule_id INTEGER NOT NULL, kind TEXT NOT NULL,
  condition TEXT NOT NULL, subject TEXT NOT NULL, video_id TEXT, label TEXT, account TEXT, platform TEXT,
  numbers JSON NOT NULL, message TEXT NOT NULL, occurred_at TIMESTAMP NOT NULL, fired_at TIMESTAMP NOT NULL
);
CREATE TABLE raw.alert_deliveries (
  event_id TEXT NOT NULL, channel TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
  last_attempt_at TIMESTAMP, next_attempt_at TIMESTAMP, delivered_at TIMESTAMP, reason TEXT,
  PRIMARY KEY (event_id, channel)
);
CREATE TABLE registry.accounts (
  account_id TEXT PRIMARY KEY, platform TEXT NOT NULL, handle TEXT, platform_account_id TEXT, url TEXT NOT NULL,
  is_active BOOLEAN NOT NULL, discovery TEXT NOT NULL, latest_n INTEGER NOT NULL, since TIMESTAMP,
  discovery_cadence_hours DOUBLE NOT NULL, video_cadence TEXT NOT NULL, labels TEXT[] NOT NULL,
  metadata JSON NOT NULL, added_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, stopped_at TIMESTAMP
);
CREATE TABLE registry.creators (
  creator_id TEXT PRIMARY KEY, name TEXT NOT NULL, labels TEXT[] NOT NULL, metadata JSON NOT NULL,
  added_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL
);
CREATE TABLE registry.creator_accounts (
  creator_id TEXT NOT NULL, account_id TEXT NOT NULL, added_at TIMESTAMP NOT NULL, PRIMARY KEY (creator_id, account_id)
);
CREATE TABLE registry.inbox (
  video_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, platform TEXT NOT NULL, url TEXT NOT NULL,
  posted_at TIMESTAMP, title TEXT, discovered_at TIMESTAMP NOT NULL, status TEXT NOT NULL, decided_at TIMESTAMP
);
CREATE TABLE raw.account_snapshots (
  account_id TEXT NOT NULL, observed_at TIMESTAMP NOT NULL, followers BIGINT, following BIGINT, likes BIGINT,
  video_count BIGINT, views BIGINT, handle TEXT, display_name TEXT, platform_account_id TEXT, extra JSON,
  source TEXT NOT NULL, run_id TEXT, ingested_at TIMESTAMP NOT NULL, PRIMARY KEY (account_id, observed_at)
);
CREATE TABLE raw.account_attempts (
  account_id TEXT NOT NULL, platform TEXT NOT NULL, attempted_at TIMESTAMP NOT NULL, outcome TEXT NOT NULL,
  http_status INTEGER, detail TEXT, duration_ms DOUBLE, tries INTEGER NOT NULL, source TEXT NOT NULL, run_id TEXT,
  partition_key TEXT, videos_listed INTEGER, videos_new INTEGER, proxy_index INTEGER,
  PRIMARY KEY (account_id, attempted_at)
);
CREATE TABLE registry.share_links (
  link_id TEXT PRIMARY KEY, label TEXT NOT NULL, created_at TIMESTAMP NOT NULL, expires_at TIMESTAMP NOT NULL,
  revoked_at TIMESTAMP
);
CREATE TABLE registry.campaigns (
  campaign_id TEXT PRIMARY KEY, name TEXT NOT NULL, parent_id TEXT, starts_on DATE, ends_on DATE,
  target_views BIGINT, target_by DATE, notes TEXT, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL
);
CREATE TABLE registry.campaign_members (
  campaign_id TEXT NOT NULL, member_kind TEXT NOT NULL, member TEXT NOT NULL, added_at TIMESTAMP NOT NULL,
  PRIMARY KEY (campaign_id, member_kind, member)
);
CREATE TABLE registry.payout_terms (
  terms_id BIGINT PRIMARY KEY, campaign_id TEXT NOT NULL, creator_id TEXT, effective_from TIMESTAMP NOT NULL,
  currency TEXT NOT NULL, tier_from_views BIGINT[] NOT NULL, tier_cpm_minor BIGINT[] NOT NULL, cap_views BIGINT,
  window_hours INTEGER NOT NULL, min_views BIGINT NOT NULL, created_at TIMESTAMP NOT NULL
);
CREATE TABLE registry.creator_goals (
  goal_id BIGINT PRIMARY KEY, creator_id TEXT NOT NULL, metric TEXT NOT NULL, period TEXT NOT NULL,
  target DOUBLE NOT NULL, starts_on DATE NOT NULL, ends_on DATE, created_at TIMESTAMP NOT NULL
);
CREATE TABLE raw.payout_finalizations (
  campaign_id TEXT NOT NULL, video_id TEXT NOT NULL, creator_id TEXT, posted_at TIMESTAMP NOT NULL,
  window_end TIMESTAMP NOT NULL, payable_views BIGINT NOT NULL, views_observed BIGINT NOT NULL,
  views_how TEXT NOT NULL, is_interpolated BOOLEAN NOT NULL, terms_id BIGINT NOT NULL, cpm_minor BIGINT NOT NULL,
  amount_minor BIGINT NOT NULL, currency TEXT NOT NULL, finalized_at TIMESTAMP NOT NULL,
  PRIMARY KEY (campaign_id, video_id)
);
CREATE TABLE raw.payout_entries (
  entry_id BIGINT PRIMARY KEY, entry_kind TEXT NOT NULL, campaign_id TEXT NOT NULL, video_id TEXT, creator_id TEXT,
  amount_minor BIGINT, currency TEXT, reason TEXT, reference TEXT, recorded_at TIMESTAMP NOT NULL
);
CREATE VIEW registry.campaign_tree AS
SELECT NULL::TEXT AS campaign_id, NULL::TEXT AS descendant_id, NULL::INTEGER AS depth;
CREATE VIEW registry.campaign_member_videos AS SELECT NULL::TEXT AS campaign_id, NULL::TEXT AS video_id;
CREATE VIEW registry.campaign_videos AS SELECT NULL::TEXT AS campaign_id, NULL::TEXT AS video_id;
CREATE VIEW registry.campaign_payers AS
SELECT NULL::TEXT AS root_id, NULL::TEXT AS campaign_id, NULL::TEXT AS video_id, NULL::TEXT AS creator_id,
       NULL::TIMESTAMP AS posted_at;
"""

_COLUMNS_SQL = """
SELECT table_schema, table_name, column_name, ordinal_position, data_type, is_nullable
FROM information_schema.columns WHERE table_schema IN ('meta', 'registry', 'raw')
ORDER BY ALL
"""
_KEYS_SQL = """
SELECT schema_name, table_name, constraint_type, constraint_column_names
FROM duckdb_constraints() WHERE schema_name IN ('meta', 'registry', 'raw') AND constraint_type = 'PRIMARY KEY'
ORDER BY ALL
"""

T0 = datetime(2026, 11, 1, 12, 0, 0)


def insert_video(con: duckdb.DuckDBPyConnection, video_id: str = "youtube:dQw4w9WgXcQ") -> None:
    platform, external_id = video_id.split(":", 1)
    con.execute(
        """INSERT INTO registry.videos (video_id, platform, external_id, url, account, is_active, cadence,
               track_until, labels, metadata, availability, consecutive_not_found, posted_at,
               added_at, updated_at, stopped_at)
           VALUES (?, ?, ?, ?, NULL, true, 'auto', NULL, [], '{}', 'available', 0, NULL, ?, ?, NULL)""",
        [video_id, platform, external_id, f"https://example.test/{external_id}", T0, T0],
    )


def result(video_id: str, at: datetime, outcome: Outcome, views: int | None = 100, **obs) -> ScrapeResult:
    platform = Platform(video_id.split(":", 1)[0])
    attempt = Attempt(
        video_id,
        platform,
        at,
        outcome,
        http_status=200 if outcome == Outcome.OK else 404,
        source="simulated",
        run_id="run-1",
    )
    observation = None
    if outcome == Outcome.OK:
        observation = Observation(video_id, at, views, 10, 2, 1, None, source="simulated", run_id="run-1", **obs)
    return ScrapeResult(attempt, observation)


def table_counts(con) -> tuple[int, int]:
    return (
        con.sql("SELECT count(*) FROM raw.snapshots").fetchall()[0][0],
        con.sql("SELECT count(*) FROM raw.scrape_attempts").fetchall()[0][0],
    )


def registry_row(con, video_id="youtube:dQw4w9WgXcQ"):
    return con.sql(
        f"SELECT account, posted_at, availability, consecutive_not_found FROM registry.videos WHERE video_id = '{video_id}'"
    ).fetchall()[0]


# --- migrations and schema ---------------------------------------------------------------------------


def test_fresh_warehouse_has_exactly_the_contract_schema(warehouse_path: Path) -> None:
    with open_warehouse() as con:  # default path comes from VIEWTRAIL_WAREHOUSE
        actual_columns = con.sql(_COLUMNS_SQL).fetchall()
        actual_keys = con.sql(_KEYS_SQL).fetchall()
        assert current_version(con) == LATEST_VERSION
    assert warehouse_path.exists()
    reference = duckdb.connect()
    reference.execute(CONTRACT_DDL)
    assert actual_columns == reference.sql(_COLUMNS_SQL).fetchall()
    assert actual_keys == reference.sql(_KEYS_SQL).fetchall()


def test_opens_a_warehouse_created_by_an_older_schema_version(warehouse_path: Path) -> None:
    con = duckdb.connect(str(warehouse_path))
    apply_migrations(con, up_to=1)
    assert current_version(con) == 1
    con.execute(
        """INSERT INTO registry.videos VALUES ('tiktok:7234567890123456789', 'tiktok', '7234567890123456789',
           'https://www.tiktok.com/@someone/video/7234567890123456789', 'someone', true, '6', NULL,
           ['launch'], '{"client": "acme"}', ?, ?, NULL)""",
        [T0, T0],
    )
    con.execute(
        "INSERT INTO raw.snapshots (video_id, observed_at, views, source, ingested_at) VALUES (?, ?, 5, 'import', ?)",
        ["tiktok:7234567890123456789", T0, T0],
    )
    con.close()

    with pytest.raises(WarehouseSchemaError, match="schema version 1"):
        with open_warehouse(warehouse_path, read_only=True):
            pass

    with open_warehouse(warehouse_path) as con:
        assert current_version(con) == LATEST_VERSION
        row = con.sql(
            "SELECT account, cadence, labels, metadata->>'client', availability, consecutive_not_found, posted_at "
            "FROM registry.videos"
        ).fetchall()[0]
        assert row == ("someone", "6", ["launch"], "acme", "available", 0, None)
        assert con.sql("SELECT views FROM raw.snapshots").fetchall() == [(5,)]
        versions = con.sql("SELECT version FROM meta.schema_migrations ORDER BY 1").fetchall()
        assert versions == [(m.version,) for m in MIGRATIONS]

    with open_warehouse(warehouse_path, read_only=True) as con:  # now current: read-only works
        assert con.sql("SELECT count(*) FROM registry.videos").fetchall()[0] == (1,)


def test_reopening_applies_nothing_twice(warehouse_path: Path) -> None:
    with open_warehouse() as con:
        insert_video(con)
    with open_warehouse() as con:
        assert con.sql("SELECT count(*) FROM meta.schema_migrations").fetchall()[0] == (len(MIGRATIONS),)
        assert con.sql("SELECT count(*) FROM registry.videos").fetchall()[0] == (1,)


def test_read_only_open_of_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WarehouseMissingError, match="no warehouse"):
        with open_warehouse(tmp_path / "nope.duckdb", read_only=True):
            pass


def test_warehouse_from_newer_code_is_refused(warehouse_path: Path) -> None:
    with open_warehouse() as con:
        con.execute("INSERT INTO meta.schema_migrations VALUES (999, 'future', now()::TIMESTAMP)")
    with pytest.raises(WarehouseSchemaError, match="upgrade viewtrail"):
        with open_warehouse():
            pass


# --- lock handling -------------------------------------------------------------------------------------


def _hold_lock(path: str, ready, seconds: float) -> None:
    con = duckdb.connect(path)
    ready.set()
    time.sleep(seconds)
    con.close()


def _start_holder(path: Path, seconds: float) -> multiprocessing.Process:
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    process = ctx.Process(target=_hold_lock, args=(str(path), ready, seconds))
    process.start()
    assert ready.wait(30), "lock holder did not start"
    return process


def test_open_waits_for_a_busy_warehouse_then_succeeds(warehouse_path: Path) -> None:
    with open_warehouse():
        pass
    holder = _start_holder(warehouse_path, seconds=1.5)
    messages: list[str] = []
    try:
        with open_warehouse(lock_timeout_s=30, on_wait=messages.append) as con:
            insert_video(con)
    finally:
        holder.join(30)
    assert len(messages) == 1 and "waiting up to 30s" in messages[0]


def test_open_gives_up_with_a_clear_error_after_the_timeout(warehouse_path: Path) -> None:
    with open_warehouse():
        pass
    holder = _start_holder(warehouse_path, seconds=5)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseLockedError, match="still locked .* after waiting 0.5s"):
            with open_warehouse(lock_timeout_s=0.5):
                pass
        assert time.monotonic() - started < 4
    finally:
        holder.terminate()
        holder.join(30)


# --- scrape writes ---------------------------------------------------------------------------------------


def test_writing_the_same_results_twice_changes_nothing(warehouse_path: Path) -> None:
    results = [
        result("youtube:dQw4w9WgXcQ", T0, Outcome.OK, account="rick", posted_at=T0 - timedelta(days=3)),
        result("youtube:dQw4w9WgXcQ", T0 + timedelta(hours=1), Outcome.RATE_LIMITED),
        result("youtube:dQw4w9WgXcQ", T0 + timedelta(hours=2), Outcome.NOT_FOUND),
    ]
    with open_warehouse() as con:
        insert_video(con)
        first = write_scrape_results(con, results)
        state = (
            table_counts(con),
            registry_row(con),
            con.sql("SELECT * EXCLUDE (ingested_at) FROM raw.snapshots").fetchall(),
        )
        second = write_scrape_results(con, results)
        assert (
            table_counts(con),
            registry_row(con),
            con.sql("SELECT * EXCLUDE (ingested_at) FROM raw.snapshots").fetchall(),
        ) == state
    assert (first.snapshots_inserted, first.attempts_inserted) == (1, 3)
    assert (second.snapshots_inserted, second.attempts_inserted) == (0, 0)
    assert state[1] == ("rick", T0 - timedelta(days=3), "available", 1)


def test_not_found_streak_marks_unavailable_and_ok_resets(warehouse_path: Path) -> None:
    vid = "youtube:dQw4w9WgXcQ"
    with open_warehouse() as con:
        insert_video(con)
        for i in range(NOT_FOUND_STREAK_LIMIT - 1):
            write_scrape_results(con, [result(vid, T0 + timedelta(hours=i), Outcome.NOT_FOUND)])
        assert registry_row(con)[2:] == ("available", NOT_FOUND_STREAK_LIMIT - 1)
        # A transient failure neither counts nor breaks the streak.
        write_scrape_results(con, [result(vid, T0 + timedelta(hours=20), Outcome.TIMEOUT)])
        assert registry_row(con)[2:] == ("available", NOT_FOUND_STREAK_LIMIT - 1)
        summary = write_scrape_results(con, [result(vid, T0 + timedelta(hours=21), Outcome.NOT_FOUND)])
        assert summary.videos_marked_unavailable == 1
        assert registry_row(con)[2:] == ("unavailable", NOT_FOUND_STREAK_LIMIT)
        write_scrape_results(con, [result(vid, T0 + timedelta(hours=22), Outcome.OK)])
        assert registry_row(con)[2:] == ("available", 0)


def test_transient_outcomes_only_touch_the_attempts_table(warehouse_path: Path) -> None:
    vid = "youtube:dQw4w9WgXcQ"
    with open_warehouse() as con:
        insert_video(con)
        before = con.sql("SELECT * FROM registry.videos").fetchall()
        transient = [
            Outcome.RATE_LIMITED,
            Outcome.TIMEOUT,
            Outcome.UPSTREAM_ERROR,
            Outcome.BLOCKED,
            Outcome.QUOTA_EXHAUSTED,
            Outcome.CIRCUIT_OPEN,
        ]
        write_scrape_results(con, [result(vid, T0 + timedelta(minutes=i), o) for i, o in enumerate(transient)])
        assert table_counts(con) == (0, len(transient))
        assert con.sql("SELECT * FROM registry.videos").fetchall() == before


def test_results_arriving_out_of_order_give_the_same_streak(warehouse_path: Path) -> None:
    vid = "youtube:dQw4w9WgXcQ"
    with open_warehouse() as con:
        insert_video(con)
        # A backfill writes the later partition first: the newest attempt is ok, so no streak.
        write_scrape_results(con, [result(vid, T0 + timedelta(hours=5), Outcome.OK)])
        write_scrape_results(con, [result(vid, T0 + timedelta(hours=h), Outcome.NOT_FOUND) for h in range(3)])
        assert registry_row(con)[2:] == ("available", 0)


def test_write_scrape_frames_accepts_frames_and_parquet(warehouse_path: Path, tmp_path: Path) -> None:
    from viewtrail.warehouse import results_to_frames

    vid = "youtube:dQw4w9WgXcQ"
    snapshots, attempts = results_to_frames([result(vid, T0, Outcome.OK, views=None)])
    snapshots.write_parquet(tmp_path / "s.parquet")
    attempts.write_parquet(tmp_path / "a.parquet")
    with open_warehouse() as con:
        insert_video(con)
        summary = write_scrape_frames(con, tmp_path / "s.parquet", tmp_path / "a.parquet")
        assert (summary.snapshots_inserted, summary.attempts_inserted) == (1, 1)
        # An unknown metric stays NULL, never 0.
        assert con.sql("SELECT views, likes FROM raw.snapshots").fetchall()[0] == (None, 10)
        again = write_scrape_frames(con, snapshots, attempts)
        assert (again.snapshots_inserted, again.attempts_inserted) == (0, 0)
        with pytest.raises(ValueError, match="lacks"):
            write_scrape_frames(con, snapshots.drop("views"), attempts)


def test_a_failed_write_leaves_nothing_behind(warehouse_path: Path) -> None:
    vid = "youtube:dQw4w9WgXcQ"
    snapshots = pl.DataFrame(
        {
            "video_id": [vid],
            "observed_at": [T0],
            "views": [1],
            "likes": [1],
            "comments": [1],
            "shares": [1],
            "saves": [None],
            "title": [None],
            "account": [None],
            "posted_at": [None],
            "duration_s": [None],
            "extra": ["not json"],
            "source": ["x"],
            "run_id": [None],
        }
    )
    _, attempts = (
        None,
        pl.DataFrame(
            {
                "video_id": [vid],
                "platform": ["youtube"],
                "attempted_at": [T0],
                "outcome": ["ok"],
                "http_status": [200],
                "detail": [None],
                "duration_ms": [None],
                "tries": [1],
                "source": ["x"],
                "run_id": [None],
                "partition_key": [None],
            }
        ),
    )
    with open_warehouse() as con:
        insert_video(con)
        with pytest.raises(duckdb.Error):
            write_scrape_frames(con, snapshots, attempts)
        assert table_counts(con) == (0, 0)
