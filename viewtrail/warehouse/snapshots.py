"""Writing scrape results into the warehouse: snapshots, attempts, and what they tell the registry.

Everything one call writes happens in one write transaction (``transactions.run_write``: write clock, write
log), as bulk ``INSERT ... SELECT`` from a polars frame (never row by row), with ``ON CONFLICT DO NOTHING``
on both primary keys: writing the same results twice (a retried run, a re-materialized partition) inserts
nothing the second time and moves no registry counter.

:func:`insert_snapshots` is the only code that inserts into ``raw.snapshots``; imports use it too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from viewtrail.clock import naive_utc
from viewtrail.domain.models import NOT_FOUND_STREAK_LIMIT, Outcome, ScrapeResult
from viewtrail.warehouse.registry import link_videos_to_accounts
from viewtrail.warehouse.transactions import Write, run_write

#: Column order and types of ``raw.snapshots`` minus ``ingested_at`` (set when written).
SNAPSHOT_SCHEMA: dict[str, pl.DataType] = {
    "video_id": pl.String(),
    "observed_at": pl.Datetime("us"),
    "views": pl.Int64(),
    "likes": pl.Int64(),
    "comments": pl.Int64(),
    "shares": pl.Int64(),
    "saves": pl.Int64(),
    "title": pl.String(),
    "account": pl.String(),
    "posted_at": pl.Datetime("us"),
    "duration_s": pl.Float64(),
    "extra": pl.String(),  # JSON text
    "source": pl.String(),
    "run_id": pl.String(),
}

#: Column order and types of ``raw.scrape_attempts``.
ATTEMPT_SCHEMA: dict[str, pl.DataType] = {
    "video_id": pl.String(),
    "platform": pl.String(),
    "attempted_at": pl.Datetime("us"),
    "outcome": pl.String(),
    "http_status": pl.Int32(),
    "detail": pl.String(),
    "duration_ms": pl.Float64(),
    "tries": pl.Int32(),
    "source": pl.String(),
    "run_id": pl.String(),
    "partition_key": pl.String(),
    "proxy_index": pl.Int32(),
}
#: Attempt columns added after the first release: frames staged before them load with NULLs.
_LATER_ATTEMPT_COLUMNS = frozenset({"proxy_index"})


@dataclass(frozen=True, slots=True)
class WriteSummary:
    """What one write did. ``*_duplicate`` counts input rows already stored (or repeated within the input)."""

    snapshots_inserted: int = 0
    snapshots_duplicate: int = 0
    attempts_inserted: int = 0
    attempts_duplicate: int = 0
    videos_marked_unavailable: int = 0


def _naive_utc(value: datetime | None) -> datetime | None:
    return None if value is None else naive_utc(value)


def results_to_frames(results: Iterable[ScrapeResult]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(snapshots, attempts)`` frames with exactly the tables' columns (snapshots without ``ingested_at``).

    Orchestration stages these to Parquet and writes them later with :func:`write_scrape_frames`.
    """
    snapshots: dict[str, list] = {name: [] for name in SNAPSHOT_SCHEMA}
    attempts: dict[str, list] = {name: [] for name in ATTEMPT_SCHEMA}
    for result in results:
        a = result.attempt
        for name, value in (
            ("video_id", a.video_id),
            ("platform", str(a.platform)),
            ("attempted_at", _naive_utc(a.attempted_at)),
            ("outcome", str(a.outcome)),
            ("http_status", a.http_status),
            ("detail", a.detail),
            ("duration_ms", a.duration_ms),
            ("tries", a.tries),
            ("source", a.source),
            ("run_id", a.run_id),
            ("partition_key", a.partition_key),
            ("proxy_index", a.proxy_index),
        ):
            attempts[name].append(value)
        o = result.observation
        if o is None:
            continue
        for name, value in (
            ("video_id", o.video_id),
            ("observed_at", _naive_utc(o.observed_at)),
            ("views", o.views),
            ("likes", o.likes),
            ("comments", o.comments),
            ("shares", o.shares),
            ("saves", o.saves),
            ("title", o.title),
            ("account", o.account),
            ("posted_at", _naive_utc(o.posted_at)),
            ("duration_s", o.duration_s),
            ("extra", json.dumps(o.extra, sort_keys=True, default=str) if o.extra else None),
            ("source", o.source),
            ("run_id", o.run_id),
        ):
            snapshots[name].append(value)
    return (
        pl.DataFrame(snapshots, schema=SNAPSHOT_SCHEMA),
        pl.DataFrame(attempts, schema=ATTEMPT_SCHEMA),
    )


def _conform(
    frame: pl.DataFrame, schema: dict[str, pl.DataType], what: str, later: frozenset[str] = frozenset()
) -> pl.DataFrame:
    """Select the table's columns in order with the table's types; tz-aware instants become naive UTC;
    missing ``later`` columns (added after the frame was staged) become NULL."""
    frame = frame.with_columns(pl.lit(None, dtype=schema[name]).alias(name) for name in later - set(frame.columns))
    missing = [name for name in schema if name not in frame.columns]
    if missing:
        raise ValueError(f"The {what} frame lacks columns {missing}; build it with results_to_frames().")
    columns = []
    for name, dtype in schema.items():
        column = pl.col(name)
        current = frame.schema[name]
        if isinstance(current, pl.Datetime) and current.time_zone is not None:
            column = column.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        if name == "extra" and current != pl.String():
            column = column.cast(pl.String())
        columns.append(column.cast(dtype).alias(name))
    return frame.select(columns)


def write_scrape_results(
    con: duckdb.DuckDBPyConnection, results: Iterable[ScrapeResult], *, run_id: str | None = None
) -> WriteSummary:
    """Store scrape results (see :func:`write_scrape_frames`)."""
    snapshots, attempts = results_to_frames(results)
    return write_scrape_frames(con, snapshots, attempts, run_id=run_id)


def write_scrape_frames(
    con: duckdb.DuckDBPyConnection,
    snapshots: pl.DataFrame | str | os.PathLike[str],
    attempts: pl.DataFrame | str | os.PathLike[str],
    *,
    run_id: str | None = None,
) -> WriteSummary:
    """Store snapshots and attempts in one write transaction and update ``registry.videos`` from them.

    ``snapshots``/``attempts`` are frames as built by :func:`results_to_frames`, or paths of Parquet files
    holding them (staged by an earlier step). ``run_id`` names the run in ``meta.write_log``; by default the
    run the rows themselves name, when they all name the same one.

    - snapshots: ``ON CONFLICT (video_id, observed_at) DO NOTHING``; ``ingested_at`` from the write clock.
    - attempts: ``ON CONFLICT (video_id, attempted_at) DO NOTHING``.
    - registry, from newly stored rows only (so a repeated write changes nothing): account and posted_at
      filled from the latest ok observation that knows them; ``consecutive_not_found`` = not_found attempts after the
      latest ok one (by attempted_at, so out-of-order backfills agree); ``availability='unavailable'`` once the streak reaches ``NOT_FOUND_STREAK_LIMIT``
      (an ok makes it available again). Transient outcomes (and private/login/parse errors) only add attempts.
    """
    if not isinstance(snapshots, pl.DataFrame):
        snapshots = pl.read_parquet(Path(snapshots))
    if not isinstance(attempts, pl.DataFrame):
        attempts = pl.read_parquet(Path(attempts))
    snaps = _conform(snapshots, SNAPSHOT_SCHEMA, "snapshots")
    atts = _conform(attempts, ATTEMPT_SCHEMA, "attempts", _LATER_ATTEMPT_COLUMNS)
    if run_id is None:
        run_id = _single_run_id(snaps, atts)

    def store(write: Write) -> WriteSummary:
        snapshots_inserted = insert_snapshots(con, write, snaps, keep_new_rows=True)
        attempts_inserted = _insert_attempts(con, write, atts)
        marked = _update_registry(con, write.ingested_at)
        con.execute("DROP TABLE IF EXISTS _vt_new_snaps")
        con.execute("DROP TABLE IF EXISTS _vt_new_atts")
        return WriteSummary(
            snapshots_inserted=snapshots_inserted,
            snapshots_duplicate=snaps.height - snapshots_inserted,
            attempts_inserted=attempts_inserted,
            attempts_duplicate=atts.height - attempts_inserted,
            videos_marked_unavailable=marked,
        )

    return run_write(con, store, kind="scrape", run_id=run_id)


def _single_run_id(*frames: pl.DataFrame) -> str | None:
    run_ids = {value for frame in frames for value in frame["run_id"].unique().to_list() if value is not None}
    return run_ids.pop() if len(run_ids) == 1 else None


def insert_snapshots(
    con: duckdb.DuckDBPyConnection, write: Write, snapshots: pl.DataFrame, *, keep_new_rows: bool = False
) -> int:
    """Insert the snapshots not stored yet, stamped with the write's ``ingested_at``; return how many.

    The only INSERT into ``raw.snapshots``: call it inside :func:`run_write`. ``snapshots`` has the
    ``SNAPSHOT_SCHEMA`` columns; rows repeated within it collapse to the first. With ``keep_new_rows`` the
    inserted rows stay in the temp table ``_vt_new_snaps`` for the caller's follow-up in the same
    transaction (the caller drops it).
    """
    rows = _conform(snapshots, SNAPSHOT_SCHEMA, "snapshots").unique(
        subset=["video_id", "observed_at"], keep="first", maintain_order=True
    )
    # Registered inside the write's transaction: a failure rolls the registration back with everything else
    # (an unregister in a `finally` would fail in the aborted transaction and hide the real error).
    con.register("_vt_snaps_in", rows)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _vt_new_snaps AS
        SELECT s.* FROM _vt_snaps_in s
        WHERE NOT EXISTS (SELECT 1 FROM raw.snapshots r
                          WHERE r.video_id = s.video_id AND r.observed_at = s.observed_at)
        """
    )
    con.execute(
        """
        INSERT INTO raw.snapshots
        SELECT video_id, observed_at, views, likes, comments, shares, saves, title, account, posted_at,
               duration_s, CAST(extra AS JSON), source, run_id, ?::TIMESTAMP
        FROM _vt_new_snaps
        ON CONFLICT DO NOTHING
        """,
        [write.ingested_at],
    )
    inserted = int(con.execute("SELECT count(*) FROM _vt_new_snaps").fetchall()[0][0])
    con.unregister("_vt_snaps_in")
    if not keep_new_rows:
        con.execute("DROP TABLE _vt_new_snaps")
    write.snapshots_inserted += inserted
    return inserted


def _insert_attempts(con: duckdb.DuckDBPyConnection, write: Write, attempts: pl.DataFrame) -> int:
    """Insert the attempts not stored yet; they stay in the temp table ``_vt_new_atts`` for the registry."""
    rows = attempts.unique(subset=["video_id", "attempted_at"], keep="first", maintain_order=True)
    con.register("_vt_atts_in", rows)  # inside the transaction, as in insert_snapshots
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _vt_new_atts AS
        SELECT a.* FROM _vt_atts_in a
        WHERE NOT EXISTS (SELECT 1 FROM raw.scrape_attempts r
                          WHERE r.video_id = a.video_id AND r.attempted_at = a.attempted_at)
        """
    )
    con.execute(
        """
        INSERT INTO raw.scrape_attempts
        SELECT video_id, platform, attempted_at, outcome, http_status, detail, duration_ms, tries,
               source, run_id, partition_key, proxy_index, ?::TIMESTAMP
        FROM _vt_new_atts
        ON CONFLICT DO NOTHING
        """,
        [write.ingested_at],
    )
    inserted = int(con.execute("SELECT count(*) FROM _vt_new_atts").fetchall()[0][0])
    con.unregister("_vt_atts_in")
    write.attempts_inserted += inserted
    return inserted


def _update_registry(con: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Apply the newly stored rows (temp tables ``_vt_new_snaps``/``_vt_new_atts``) to registry.videos."""
    con.execute(
        """
        UPDATE registry.videos v
        SET account = coalesce(s.account, v.account),
            posted_at = coalesce(s.posted_at, v.posted_at),
            updated_at = ?::TIMESTAMP
        FROM (
            SELECT video_id,
                   arg_max(account, observed_at) FILTER (WHERE account IS NOT NULL) AS account,
                   arg_max(posted_at, observed_at) FILTER (WHERE posted_at IS NOT NULL) AS posted_at
            FROM _vt_new_snaps GROUP BY video_id
        ) s
        WHERE v.video_id = s.video_id
          AND ((s.account IS NOT NULL AND s.account IS DISTINCT FROM v.account)
               OR (s.posted_at IS NOT NULL AND s.posted_at IS DISTINCT FROM v.posted_at))
        """,
        [now],
    )
    named = [
        row[0] for row in con.sql("SELECT DISTINCT video_id FROM _vt_new_snaps WHERE account IS NOT NULL").fetchall()
    ]
    if named:  # a handle learned from a scrape links the video to its watched account
        link_videos_to_accounts(con, video_ids=named, now=now)
    # The streak is recomputed from the stored attempt history (not from arrival order): a backfill may
    # write an older partition after a newer one, and the streak must follow attempted_at.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _vt_streaks AS
        WITH touched AS (
            SELECT DISTINCT video_id FROM _vt_new_atts
            WHERE outcome IN ('{Outcome.OK}', '{Outcome.NOT_FOUND}')
        ), last_ok AS (
            SELECT a.video_id, max(a.attempted_at) FILTER (WHERE a.outcome = '{Outcome.OK}') AS last_ok_at
            FROM raw.scrape_attempts a JOIN touched USING (video_id)
            GROUP BY a.video_id
        )
        SELECT l.video_id,
               count(*) FILTER (WHERE a.outcome = '{Outcome.NOT_FOUND}'
                                  AND (l.last_ok_at IS NULL OR a.attempted_at > l.last_ok_at)) AS streak
        FROM last_ok l JOIN raw.scrape_attempts a USING (video_id)
        GROUP BY l.video_id
        """
    )
    newly_unavailable = con.sql(
        f"""
        SELECT count(*) FROM registry.videos v JOIN _vt_streaks s USING (video_id)
        WHERE v.availability <> 'unavailable' AND s.streak >= {NOT_FOUND_STREAK_LIMIT}
        """
    ).fetchall()[0][0]
    con.execute(
        f"""
        UPDATE registry.videos v
        SET consecutive_not_found = s.streak,
            availability = CASE WHEN s.streak >= {NOT_FOUND_STREAK_LIMIT} THEN 'unavailable' ELSE 'available' END,
            updated_at = ?::TIMESTAMP
        FROM _vt_streaks s
        WHERE v.video_id = s.video_id
          AND (v.consecutive_not_found <> s.streak
               OR v.availability <> CASE WHEN s.streak >= {NOT_FOUND_STREAK_LIMIT} THEN 'unavailable' ELSE 'available' END)
        """,
        [now],
    )
    con.execute("DROP TABLE IF EXISTS _vt_streaks")
    return int(newly_unavailable)
