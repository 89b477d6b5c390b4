"""Writing scrape results: snapshots, attempts, and what they teach the registry.

Idempotent by construction: rows are keyed on ``(video_id, observed_at)`` / ``(video_id, attempted_at)`` and
inserted with ``ON CONFLICT DO NOTHING``; the registry's not-found streak is recomputed from the stored attempt
history, so writing the same results twice (a retried run) changes nothing. Everything happens in one
transaction: a crash leaves either all of a batch or none of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from orchestration.models import NOT_FOUND_STREAK_LIMIT, Outcome, ScrapeResult

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
}


@dataclass(frozen=True, slots=True)
class WriteSummary:
    snapshots_inserted: int
    snapshots_skipped: int  # already stored at the same (video_id, observed_at)
    attempts_inserted: int
    attempts_skipped: int
    videos_marked_unavailable: int  # crossed the not-found streak limit in this write


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def results_to_frames(results: Iterable[ScrapeResult]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Convert ScrapeResults to the (snapshots, attempts) frames :func:`write_scrape_frames` takes."""
    snapshots: list[dict] = []
    attempts: list[dict] = []
    for result in results:
        a = result.attempt
        attempts.append(
            {
                "video_id": a.video_id,
                "platform": str(a.platform),
                "attempted_at": _naive_utc(a.attempted_at),
                "outcome": str(a.outcome),
                "http_status": a.http_status,
                "detail": a.detail,
                "duration_ms": a.duration_ms,
                "tries": a.tries,
                "source": a.source,
                "run_id": a.run_id,
                "partition_key": a.partition_key,
            }
        )
        o = result.observation
        if o is not None and a.outcome == Outcome.OK:
            snapshots.append(
                {
                    "video_id": o.video_id,
                    "observed_at": _naive_utc(o.observed_at),
                    "views": o.views,
                    "likes": o.likes,
                    "comments": o.comments,
                    "shares": o.shares,
                    "saves": o.saves,
                    "title": o.title,
                    "account": o.account,
                    "posted_at": _naive_utc(o.posted_at),
                    "duration_s": o.duration_s,
                    "extra": json.dumps(o.extra, default=str) if o.extra else None,
                    "source": o.source,
                    "run_id": o.run_id,
                }
            )
    return (
        pl.DataFrame(snapshots, schema=SNAPSHOT_SCHEMA, orient="row") if snapshots else pl.DataFrame(schema=SNAPSHOT_SCHEMA),
        pl.DataFrame(attempts, schema=ATTEMPT_SCHEMA, orient="row") if attempts else pl.DataFrame(schema=ATTEMPT_SCHEMA),
    )


def write_scrape_results(con: duckdb.DuckDBPyConnection, results: Iterable[ScrapeResult]) -> WriteSummary:
    """Store a batch of scrape results in one transaction (see module docstring for the guarantees)."""
    snapshots, attempts = results_to_frames(results)
    return write_scrape_frames(con, snapshots, attempts)


def _as_frame(data: pl.DataFrame | str | Path | None, schema: dict[str, pl.DataType], what: str) -> pl.DataFrame:
    if data is None:
        return pl.DataFrame(schema=schema)
    frame = data if isinstance(data, pl.DataFrame) else pl.read_parquet(data)
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise ValueError(f"The {what} frame lacks the column(s) {', '.join(missing)}; give every column of the table.")
    return frame.select([pl.col(c).cast(t) for c, t in schema.items()])


def write_scrape_frames(
    con: duckdb.DuckDBPyConnection,
    snapshots: pl.DataFrame | str | Path | None,
    attempts: pl.DataFrame | str | Path | None,
) -> WriteSummary:
    """Store snapshot and attempt rows (polars frames or Parquet paths, columns as the tables minus
    ``ingested_at``) in one transaction, then update ``registry.videos``.

    Registry updates (only for videos whose attempts were new in this write):
    - ``account``/``posted_at`` filled from the latest ok observation that knows them;
    - ``consecutive_not_found`` = number of ``not_found`` attempts after the latest ``ok`` one
      (other outcomes neither count nor break the streak; transient outcomes change nothing);
    - ``availability`` = 'unavailable' once that streak reaches NOT_FOUND_STREAK_LIMIT, 'available' otherwise.
    """
    snap = _as_frame(snapshots, SNAPSHOT_SCHEMA, "snapshots")
    att = _as_frame(attempts, ATTEMPT_SCHEMA, "attempts")
    now = _utc_now()
    con.register("_vt_stage_snapshots", snap)
    con.register("_vt_stage_attempts", att)
    con.begin()
    try:
        # Only new rows matter below (for counts and registry updates); dedupe the batch itself too.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _vt_new_attempts AS
            SELECT s.* FROM (SELECT DISTINCT ON (video_id, attempted_at) * FROM _vt_stage_attempts
                             ORDER BY video_id, attempted_at) s
            ANTI JOIN raw.scrape_attempts t USING (video_id, attempted_at)
            """
        )
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _vt_new_snapshots AS
            SELECT s.* FROM (SELECT DISTINCT ON (video_id, observed_at) * FROM _vt_stage_snapshots
                             ORDER BY video_id, observed_at) s
            ANTI JOIN raw.snapshots t USING (video_id, observed_at)
            """
        )
        (new_attempts,) = con.sql("SELECT count(*) FROM _vt_new_attempts").fetchall()[0]
        (new_snapshots,) = con.sql("SELECT count(*) FROM _vt_new_snapshots").fetchall()[0]
        con.execute(
            """
            INSERT INTO raw.snapshots
            SELECT video_id, observed_at, views, likes, comments, shares, saves, title, account, posted_at,
                   duration_s, extra::JSON, source, run_id, ? AS ingested_at
            FROM _vt_new_snapshots
            ON CONFLICT DO NOTHING
            """,
            [now],
        ).fetchall()
        con.execute(
            """
            INSERT INTO raw.scrape_attempts
            SELECT video_id, platform, attempted_at, outcome, http_status, detail, duration_ms, tries,
                   source, run_id, partition_key
            FROM _vt_new_attempts
            ON CONFLICT DO NOTHING
            """
        ).fetchall()
        # Content fields from the latest new observation of each video that knows them.
        con.execute(
            """
            UPDATE registry.videos AS v
            SET account = coalesce(n.account, v.account), posted_at = coalesce(n.posted_at, v.posted_at)
            FROM (
              SELECT video_id,
                     arg_max(account, observed_at) FILTER (WHERE account IS NOT NULL) AS account,
                     arg_max(posted_at, observed_at) FILTER (WHERE posted_at IS NOT NULL) AS posted_at
              FROM _vt_new_snapshots GROUP BY video_id
            ) n
            WHERE v.video_id = n.video_id
              AND (n.account IS NOT NULL OR n.posted_at IS NOT NULL)
            """
        ).fetchall()
        (marked_before,) = con.sql(
            """
            SELECT count(*) FROM registry.videos
            WHERE availability = 'unavailable'
              AND video_id IN (SELECT video_id FROM _vt_new_attempts)
            """
        ).fetchall()[0]
        con.execute(
            """
            UPDATE registry.videos AS v
            SET consecutive_not_found = s.streak,
                availability = CASE WHEN s.streak >= ? THEN 'unavailable' ELSE 'available' END
            FROM (
              SELECT a.video_id,
                     count(*) FILTER (WHERE a.outcome = 'not_found'
                                      AND (l.last_ok IS NULL OR a.attempted_at > l.last_ok)) AS streak
              FROM raw.scrape_attempts a
              JOIN (
                SELECT video_id, max(attempted_at) FILTER (WHERE outcome = 'ok') AS last_ok
                FROM raw.scrape_attempts
                WHERE video_id IN (SELECT video_id FROM _vt_new_attempts WHERE outcome IN ('ok', 'not_found'))
                GROUP BY video_id
              ) l USING (video_id)
              GROUP BY a.video_id
            ) s
            WHERE v.video_id = s.video_id
            """,
            [NOT_FOUND_STREAK_LIMIT],
        ).fetchall()
        (marked_after,) = con.sql(
            """
            SELECT count(*) FROM registry.videos
            WHERE availability = 'unavailable'
              AND video_id IN (SELECT video_id FROM _vt_new_attempts)
            """
        ).fetchall()[0]
        con.execute("DROP TABLE _vt_new_attempts; DROP TABLE _vt_new_snapshots")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.unregister("_vt_stage_snapshots")
        con.unregister("_vt_stage_attempts")
    return WriteSummary(
        snapshots_inserted=int(new_snapshots),
        snapshots_skipped=snap.height - int(new_snapshots),
        attempts_inserted=int(new_attempts),
        attempts_skipped=att.height - int(new_attempts),
        videos_marked_unavailable=max(0, int(marked_after) - int(marked_before)),
    )
