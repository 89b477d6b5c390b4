"""ingested_at follows commit order (the write clock), so the incremental marts' high-water mark misses no row.

The marts' watermark `snapshots_ingested_through` is max(ingested_at) of what the last build saw. A write that
commits after a build must therefore carry a larger ingested_at than anything that build saw, even if its
clock reading is older (the wall clock stepped back, or a second writer in the process read the clock first
and committed last).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from dbt_support import dbt, query, register_videos

from viewtrail import clock
from viewtrail.warehouse import open_warehouse, transactions, write_scrape_frames
from viewtrail.warehouse.imports import read_snapshot_file, write_snapshot_import
from viewtrail.warehouse.snapshots import ATTEMPT_SCHEMA, SNAPSHOT_SCHEMA

T0 = datetime(2026, 11, 1, 12, 0)
MICROSECOND = timedelta(microseconds=1)
VIDEOS = [f"tiktok:{n}" for n in range(1, 5)]


def _snapshots(rows: list[tuple[str, datetime, int]]) -> pl.DataFrame:
    """``raw.snapshots`` rows (video_id, observed_at, views) as the scrape loader receives them."""
    return pl.DataFrame(
        {
            "video_id": [r[0] for r in rows],
            "observed_at": [r[1] for r in rows],
            "views": [r[2] for r in rows],
            "likes": [r[2] // 10 for r in rows],
            "comments": [r[2] // 100 for r in rows],
            "shares": [r[2] // 200 for r in rows],
            "saves": [r[2] // 300 for r in rows],
            "title": [None] * len(rows),
            "account": ["someone"] * len(rows),
            "posted_at": [None] * len(rows),
            "duration_s": [None] * len(rows),
            "extra": [None] * len(rows),
            "source": ["test"] * len(rows),
            "run_id": [None] * len(rows),
        },
        schema=SNAPSHOT_SCHEMA,
    )


NO_ATTEMPTS = pl.DataFrame(schema=ATTEMPT_SCHEMA)


def _write(path: Path, rows: list[tuple[str, datetime, int]]) -> None:
    with open_warehouse(path) as con:
        write_scrape_frames(con, _snapshots(rows), NO_ATTEMPTS)


def _history(video_id: str, start: datetime, hours: list[int], views_per_hour: int) -> list[tuple[str, datetime, int]]:
    return [(video_id, start + timedelta(hours=h, minutes=7), 1000 + views_per_hour * h) for h in hours]


def _marts(path: Path) -> dict[str, list[tuple]]:
    return {
        "video_daily": query(path, "select * exclude (snapshots_ingested_through) from marts.video_daily order by all"),
        "video_engagement": query(
            path, "select * exclude (snapshots_ingested_through) from marts.video_engagement order by all"
        ),
    }


def _build(path: Path, *flags: str) -> None:
    dbt("run", "--select", "+video_engagement", *flags, warehouse=path)


def _readings(monkeypatch: pytest.MonkeyPatch, by_thread: dict[str, Callable[[], datetime]]) -> None:
    """The clock as each thread reads it (threads not named read the main thread's clock)."""
    main = by_thread["MainThread"]
    monkeypatch.setattr(clock, "utc_now", lambda: by_thread.get(threading.current_thread().name, main)())


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_incremental_marts_miss_nothing_when_the_older_clock_reading_commits_last(
    warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_videos(warehouse_path, [{"video_id": v} for v in VIDEOS])
    a_has_read_the_clock, release_a = threading.Event(), threading.Event()

    def writer_a_reading() -> datetime:
        # A reads the clock first, then is held up before its write clock tick (a slow batch, a GIL switch)
        a_has_read_the_clock.set()
        assert release_a.wait(60), "writer A was never released"
        return T0 + timedelta(hours=1)

    readings = {"MainThread": lambda: T0, "writer-a": writer_a_reading}
    _readings(monkeypatch, readings)

    day1 = T0.replace(hour=0) - timedelta(days=3)
    _write(warehouse_path, [r for v in VIDEOS for r in _history(v, day1, list(range(0, 60, 5)), 40)])
    _build(warehouse_path)

    # Writer A: late snapshots inside the already built days (they change interpolated values and gains),
    # and a new day for another video.
    batch_a = _history(VIDEOS[0], day1, [2, 13, 22, 31], 55) + _history(VIDEOS[1], day1, [70, 75], 40)
    failures: list[BaseException] = []

    def run_a() -> None:
        try:
            _write(warehouse_path, batch_a)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    writer_a = threading.Thread(target=run_a, name="writer-a")
    writer_a.start()
    assert a_has_read_the_clock.wait(30)
    # Writer B reads a later clock and commits first; a build runs while A is still on its way.
    readings["MainThread"] = lambda: T0 + timedelta(hours=2)
    _write(warehouse_path, _history(VIDEOS[2], day1, [66, 71], 40))
    _build(warehouse_path)
    release_a.set()
    writer_a.join(60)
    assert not writer_a.is_alive() and not failures, failures
    _build(warehouse_path)
    incremental = _marts(warehouse_path)

    writes = query(warehouse_path, "select write_id, ingested_at from meta.write_log order by write_id")
    assert [w[0] for w in writes] == [1, 2, 3]
    # A committed last with the oldest reading, yet its rows carry the newest ingested_at
    assert writes[2][1] == T0 + timedelta(hours=2) + MICROSECOND
    late_rows = query(
        warehouse_path,
        f"select count(*) from raw.snapshots where ingested_at = timestamp '{writes[2][1]}'",
    )
    assert late_rows == [(len(batch_a),)]

    _build(warehouse_path, "--full-refresh")
    full = _marts(warehouse_path)
    assert len(full["video_daily"]) > 10
    assert incremental == full


def test_ingested_at_increases_in_commit_order_even_when_the_clock_goes_back(
    warehouse_path: Path, tmp_path: Path
) -> None:
    history = tmp_path / "history.csv"
    history.write_text("video_id,observed_at,views,likes,comments,shares\ntiktok:9,2026-10-01T00:00:00,5,1,0,0\n")
    checked = read_snapshot_file(history)
    with open_warehouse(warehouse_path) as con:
        with clock.pinned(T0):
            write_scrape_frames(con, _snapshots([("tiktok:1", T0, 1)]), NO_ATTEMPTS)
        with clock.pinned(T0 - timedelta(hours=1)):  # the wall clock stepped back an hour
            write_scrape_frames(con, _snapshots([("tiktok:1", T0 + timedelta(hours=1), 2)]), NO_ATTEMPTS)
            # imports take the same write clock
            write_snapshot_import(con, checked, run_id="import:history.csv")
        with clock.pinned(T0 + timedelta(days=1)):
            write_scrape_frames(con, _snapshots([("tiktok:1", T0 + timedelta(hours=2), 3)]), NO_ATTEMPTS)
        log = con.sql(
            "SELECT write_id, kind, ingested_at, snapshots_inserted FROM meta.write_log ORDER BY write_id"
        ).fetchall()
        stamped = con.sql(
            "SELECT ingested_at, count(*) FROM raw.snapshots GROUP BY ingested_at ORDER BY ingested_at"
        ).fetchall()

    assert [(write_id, kind, inserted) for write_id, kind, _, inserted in log] == [
        (1, "scrape", 1),
        (2, "scrape", 1),
        (3, "import", 1),
        (4, "scrape", 1),
    ]
    first, second, third, fourth = (ingested_at for _, _, ingested_at, _ in log)
    assert T0 <= first < T0 + timedelta(minutes=1)
    assert (second, third) == (first + MICROSECOND, first + 2 * MICROSECOND)
    assert T0 + timedelta(days=1) <= fourth < T0 + timedelta(days=1, minutes=1)
    # every row carries its write's ingested_at
    assert stamped == [(first, 1), (second, 1), (third, 1), (fourth, 1)]


@pytest.mark.timeout(60)
def test_a_conflicting_concurrent_write_is_retried_and_both_land(
    warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_holds_the_clock, a_committed = threading.Event(), threading.Event()
    release_a = threading.Event()
    original_start = transactions._start_write
    retries: list[int] = []

    def start_write(con, kind, run_id):
        write = original_start(con, kind, run_id)
        if threading.current_thread().name == "writer-a":
            # A has ticked the clock and keeps its transaction open
            a_holds_the_clock.set()
            assert release_a.wait(30), "writer A was never released"
        return write

    def pause_before_retry(attempt: int) -> None:
        # B conflicted with A: let A finish, then B tries again
        retries.append(attempt)
        release_a.set()
        assert a_committed.wait(30), "writer A did not commit"

    monkeypatch.setattr(transactions, "_start_write", start_write)
    monkeypatch.setattr(transactions, "_pause_before_retry", pause_before_retry)
    with open_warehouse(warehouse_path):
        pass
    failures: list[BaseException] = []

    def run_a() -> None:
        try:
            _write(warehouse_path, [("tiktok:1", T0, 1)])
            a_committed.set()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)
            release_a.set()

    writer_a = threading.Thread(target=run_a, name="writer-a")
    writer_a.start()
    assert a_holds_the_clock.wait(30)
    _write(warehouse_path, [("tiktok:2", T0, 2)])  # writer B, on its own connection
    writer_a.join(30)
    assert not failures, failures

    assert retries == [1]
    rows = query(
        warehouse_path,
        "SELECT s.video_id, w.write_id FROM raw.snapshots s JOIN meta.write_log w USING (ingested_at) ORDER BY 2",
    )
    assert rows == [("tiktok:1", 1), ("tiktok:2", 2)]


def test_the_write_clock_refuses_a_stale_transaction_instead_of_losing_an_update(warehouse_path: Path) -> None:
    """The retry above relies on DuckDB raising a conflict. It does for meta.write_clock because that table has
    no index: with a primary key, DuckDB 2.0 lets the stale update overwrite the newer committed row."""
    with open_warehouse(warehouse_path) as first:
        second = first.cursor()  # another connection to the same database
        second.begin()
        second.execute("SELECT count(*) FROM raw.snapshots").fetchall()  # its snapshot starts here
        transactions.run_write(first, lambda write: None, kind="scrape")
        with pytest.raises(duckdb.TransactionException, match="Conflict"):
            transactions._start_write(second, "scrape", None)
        second.rollback()
        second.close()
        assert first.sql("SELECT last_write_id FROM meta.write_clock").fetchall() == [(1,)]
