"""write_scrape_results / write_scrape_frames: idempotent bulk writes and what they tell the registry."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

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
from viewtrail.warehouse import open_warehouse, results_to_frames, write_scrape_frames, write_scrape_results

T0 = datetime(2026, 11, 1, 12, 0)
VID = "youtube:dQw4w9WgXcQ"


def _register(con, video_id: str = VID) -> None:
    con.execute(
        "INSERT INTO registry.videos VALUES (?, 'youtube', ?, 'https://www.youtube.com/watch?v=x', NULL, true,"
        " 'auto', NULL, [], '{}', 'available', 0, NULL, NULL, 'manual', ?, ?, NULL)",
        [video_id, video_id.split(":", 1)[1], T0, T0],
    )


def _ok(at: datetime, views: int = 100, **extra) -> ScrapeResult:
    return ScrapeResult(
        attempt=Attempt(VID, Platform.YOUTUBE, at, Outcome.OK, http_status=200, source="test", run_id="r1"),
        observation=Observation(
            VID,
            at,
            views,
            10,
            2,
            None,
            None,
            title="t",
            account="rick",
            posted_at=T0 - timedelta(days=3),
            duration_s=212.0,
            extra=extra,
            source="test",
            run_id="r1",
        ),
    )


def _failed(at: datetime, outcome: Outcome) -> ScrapeResult:
    return ScrapeResult(attempt=Attempt(VID, Platform.YOUTUBE, at, outcome, detail=str(outcome), source="test"))


def _video(con) -> tuple:
    return con.sql(
        "SELECT account, posted_at, consecutive_not_found, availability FROM registry.videos WHERE video_id = ?",
        params=[VID],
    ).fetchall()[0]


def test_double_write_is_idempotent_and_counted(warehouse_path):
    results = [_ok(T0), _ok(T0 + timedelta(hours=1), 150), _failed(T0 + timedelta(hours=2), Outcome.TIMEOUT)]
    with open_warehouse(warehouse_path) as con:
        _register(con)
        first = write_scrape_results(con, results)
        second = write_scrape_results(con, results)
        assert (first.snapshots_inserted, first.attempts_inserted) == (2, 3)
        assert (first.snapshots_duplicate, first.attempts_duplicate) == (0, 0)
        assert (second.snapshots_inserted, second.attempts_inserted) == (0, 0)
        assert (second.snapshots_duplicate, second.attempts_duplicate) == (2, 3)
        assert con.sql("SELECT count(*) FROM raw.snapshots").fetchall()[0][0] == 2
        assert con.sql("SELECT count(*) FROM raw.scrape_attempts").fetchall()[0][0] == 3
        # the account/posted_at fill and the registry counters came from the first write only
        assert _video(con) == ("rick", T0 - timedelta(days=3), 0, "available")
        ingested = con.sql("SELECT DISTINCT ingested_at FROM raw.snapshots").fetchall()
        assert len(ingested) == 1 and ingested[0][0] is not None


def test_repeated_rows_inside_one_batch_collapse(warehouse_path):
    with open_warehouse(warehouse_path) as con:
        _register(con)
        summary = write_scrape_results(con, [_ok(T0), _ok(T0)])
        assert summary.snapshots_inserted == 1 and summary.snapshots_duplicate == 1
        assert summary.attempts_inserted == 1 and summary.attempts_duplicate == 1


def test_not_found_streak_marks_unavailable_and_not_twice(warehouse_path):
    with open_warehouse(warehouse_path) as con:
        _register(con)
        for i in range(NOT_FOUND_STREAK_LIMIT - 1):
            write_scrape_results(con, [_failed(T0 + timedelta(hours=i), Outcome.NOT_FOUND)])
        assert _video(con)[2:] == (NOT_FOUND_STREAK_LIMIT - 1, "available")
        # re-writing an already stored not_found does not move the streak
        write_scrape_results(con, [_failed(T0, Outcome.NOT_FOUND)])
        assert _video(con)[2] == NOT_FOUND_STREAK_LIMIT - 1
        summary = write_scrape_results(con, [_failed(T0 + timedelta(hours=10), Outcome.NOT_FOUND)])
        assert summary.videos_marked_unavailable == 1
        assert _video(con)[2:] == (NOT_FOUND_STREAK_LIMIT, "unavailable")


def test_streak_within_one_batch_and_ok_resets(warehouse_path):
    with open_warehouse(warehouse_path) as con:
        _register(con)
        write_scrape_results(con, [_failed(T0 + timedelta(hours=i), Outcome.NOT_FOUND) for i in range(2)])
        assert _video(con)[2] == 2
        # ok then one not_found in the same batch: streak is what came after the ok
        write_scrape_results(con, [_ok(T0 + timedelta(hours=5)), _failed(T0 + timedelta(hours=6), Outcome.NOT_FOUND)])
        assert _video(con)[2:] == (1, "available")
        write_scrape_results(con, [_ok(T0 + timedelta(hours=7))])
        assert _video(con)[2:] == (0, "available")


def test_transient_outcomes_only_add_attempts(warehouse_path):
    with open_warehouse(warehouse_path) as con:
        _register(con)
        write_scrape_results(con, [_failed(T0, Outcome.NOT_FOUND)])
        before = con.sql("SELECT * FROM registry.videos").fetchall()
        transient = [
            Outcome.RATE_LIMITED,
            Outcome.TIMEOUT,
            Outcome.UPSTREAM_ERROR,
            Outcome.BLOCKED,
            Outcome.QUOTA_EXHAUSTED,
            Outcome.CIRCUIT_OPEN,
        ]
        summary = write_scrape_results(
            con, [_failed(T0 + timedelta(hours=i + 1), outcome) for i, outcome in enumerate(transient)]
        )
        assert summary.attempts_inserted == len(transient) and summary.snapshots_inserted == 0
        assert con.sql("SELECT * FROM registry.videos").fetchall() == before
        assert con.sql("SELECT count(*) FROM raw.snapshots").fetchall()[0][0] == 0


def test_extra_json_and_nulls_are_stored(warehouse_path):
    with open_warehouse(warehouse_path) as con:
        _register(con)
        write_scrape_results(con, [_ok(T0, reposts=7, lang="en")])
        extra, shares, saves = con.sql("SELECT extra, shares, saves FROM raw.snapshots").fetchall()[0]
        assert json.loads(extra) == {"lang": "en", "reposts": 7}
        assert con.sql("SELECT extra->>'$.reposts' FROM raw.snapshots").fetchall()[0][0] == "7"
        assert (shares, saves) == (None, None)  # hidden metrics stay NULL, never 0


def test_frames_round_trip_through_parquet_and_aware_times_become_utc(warehouse_path, tmp_path):
    snapshots, attempts = results_to_frames([_ok(T0), _failed(T0 + timedelta(hours=1), Outcome.NOT_FOUND)])
    assert snapshots.columns[:2] == ["video_id", "observed_at"] and "ingested_at" not in snapshots.columns
    snapshots.write_parquet(tmp_path / "s.parquet")
    attempts.write_parquet(tmp_path / "a.parquet")
    # a writer in another time zone: 14:00+02:00 is 12:00 UTC, the same instant as T0
    aware = pl.read_parquet(tmp_path / "s.parquet").with_columns(
        pl.col("observed_at").dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Berlin")
    )
    with open_warehouse(warehouse_path) as con:
        _register(con)
        first = write_scrape_frames(con, aware, pl.read_parquet(tmp_path / "a.parquet"))
        assert (first.snapshots_inserted, first.attempts_inserted) == (1, 2)
        again = write_scrape_results(con, [_ok(T0)])
        assert again.snapshots_inserted == 0
        assert con.sql("SELECT observed_at FROM raw.snapshots").fetchall()[0][0] == T0
        assert _video(con)[2] == 1


def test_failed_write_leaves_nothing(warehouse_path):
    snapshots, attempts = results_to_frames([_ok(T0)])
    broken = attempts.with_columns(pl.lit(None, dtype=pl.String).alias("outcome"))  # NOT NULL violated
    with open_warehouse(warehouse_path) as con:
        _register(con)
        with pytest.raises(duckdb.Error):  # a NULL outcome is refused
            write_scrape_frames(con, snapshots, broken)
        assert con.sql("SELECT count(*) FROM raw.snapshots").fetchall()[0][0] == 0
        assert _video(con)[0] is None


def test_unregistered_video_results_are_stored_without_registry_row(warehouse_path):
    with open_warehouse(warehouse_path) as con:
        summary = write_scrape_results(con, [_ok(T0)])
        assert summary.snapshots_inserted == 1
        assert con.sql("SELECT count(*) FROM registry.videos").fetchall()[0][0] == 0


def test_parquet_paths_are_accepted(warehouse_path, tmp_path):
    snapshots, attempts = results_to_frames([_ok(T0), _failed(T0 + timedelta(hours=1), Outcome.TIMEOUT)])
    snapshots.write_parquet(tmp_path / "s.parquet")
    attempts.write_parquet(tmp_path / "a.parquet")
    with open_warehouse(warehouse_path) as con:
        _register(con)
        summary = write_scrape_frames(con, tmp_path / "s.parquet", str(tmp_path / "a.parquet"))
        assert (summary.snapshots_inserted, summary.attempts_inserted) == (1, 2)
        assert _video(con)[0] == "rick"
