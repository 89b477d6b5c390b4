"""Reads of the raw scrape tables (``raw.snapshots``, ``raw.scrape_attempts``) the dashboard shows: scrape health
per platform, a video's latest snapshots and attempts, and whether data is simulated. Each takes an open
connection (the analyst copy) and answers empty when the table is absent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from viewtrail.domain.models import Platform


def _has(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    # the analyst copy holds the raw history as views over its Parquet files, the warehouse as tables
    found = con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE schema_name = $schema AND table_name = $table"
        " UNION ALL SELECT 1 FROM duckdb_views() WHERE schema_name = $schema AND view_name = $table",
        {"schema": schema, "table": table},
    ).fetchone()
    return found is not None


@dataclass(frozen=True, slots=True)
class PlatformHealth:
    """A platform's scrape attempts since a moment: how many, how many ok, the blocked, rate-limited, quota and
    circuit-breaker outcomes, the attempts whose detail mentions a challenge, the last success, the last outcome and
    the last failure with its detail."""

    platform: str
    attempts: int = 0
    ok: int = 0
    blocked: int = 0
    rate_limited: int = 0
    quota_exhausted: int = 0
    circuit_open: int = 0
    challenges: int = 0
    last_ok_at: datetime | None = None
    last_outcome: str | None = None
    last_failure: str | None = None  # the outcome of the latest attempt that was not ok
    last_failure_detail: str | None = None

    @property
    def ok_share(self) -> float | None:
        return self.ok / self.attempts if self.attempts else None

    @property
    def blocked_share(self) -> float | None:
        return self.blocked / self.attempts if self.attempts else None


def platform_health(con: duckdb.DuckDBPyConnection, since: datetime) -> list[PlatformHealth]:
    """One row per registered platform (in registry order), counting attempts at or after ``since``; the last
    success is the latest ever."""
    if not _has(con, "raw", "scrape_attempts"):
        return [PlatformHealth(p.value) for p in Platform]
    rows = con.execute(
        """
        SELECT platform, count(*) AS attempts, count(*) FILTER (WHERE outcome = 'ok') AS ok,
               count(*) FILTER (WHERE outcome = 'blocked') AS blocked,
               count(*) FILTER (WHERE outcome = 'rate_limited') AS rate_limited,
               count(*) FILTER (WHERE outcome = 'quota_exhausted') AS quota_exhausted,
               count(*) FILTER (WHERE outcome = 'circuit_open') AS circuit_open,
               count(*) FILTER (WHERE detail ILIKE '%challenge%') AS challenges,
               max(attempted_at) FILTER (WHERE outcome = 'ok') AS last_ok_at,
               arg_max(outcome, attempted_at) AS last_outcome,
               arg_max(outcome, attempted_at) FILTER (WHERE outcome <> 'ok') AS last_failure,
               arg_max(detail, attempted_at) FILTER (WHERE outcome <> 'ok') AS last_failure_detail
        FROM raw.scrape_attempts WHERE attempted_at >= $since GROUP BY platform
        """,
        {"since": since},
    ).fetchall()
    # the last success of a platform with none in the window: looked up before it (usually no platform needs it)
    without = [p.value for p in Platform if p.value not in {row[0] for row in rows if row[8] is not None}]
    earlier = dict(
        con.execute(
            "SELECT platform, max(attempted_at) FROM raw.scrape_attempts"
            " WHERE outcome = 'ok' AND list_contains($platforms, platform) GROUP BY platform",
            {"platforms": without},
        ).fetchall()
    )
    rows = [(*row[:8], row[8] or earlier.get(row[0]), *row[9:]) for row in rows]
    rows += [
        (p, 0, 0, 0, 0, 0, 0, 0, at, None, None, None) for p, at in earlier.items() if p not in {r[0] for r in rows}
    ]
    found = {row[0]: PlatformHealth(*row) for row in rows}
    return [found.get(p.value, PlatformHealth(p.value)) for p in Platform]


@dataclass(frozen=True, slots=True)
class Snapshot:
    observed_at: datetime
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    source: str


def recent_snapshots(con: duckdb.DuckDBPyConnection, video_id: str, limit: int = 48) -> list[Snapshot]:
    """A video's latest ``limit`` snapshots, newest first."""
    if not _has(con, "raw", "snapshots"):
        return []
    rows = con.execute(
        "SELECT observed_at, views, likes, comments, shares, saves, source FROM raw.snapshots WHERE video_id = ?"
        f" ORDER BY observed_at DESC LIMIT {int(limit)}",
        [video_id],
    ).fetchall()
    return [Snapshot(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class Attempt:
    attempted_at: datetime
    outcome: str
    http_status: int | None
    detail: str | None
    source: str  # the route the client took (the platform's API, page, embed, syndication ...)
    tries: int
    duration_ms: float | None


def recent_attempts(con: duckdb.DuckDBPyConnection, video_id: str, limit: int = 20) -> list[Attempt]:
    """A video's latest ``limit`` scrape attempts, newest first."""
    if not _has(con, "raw", "scrape_attempts"):
        return []
    rows = con.execute(
        "SELECT attempted_at, outcome, http_status, detail, source, tries, duration_ms FROM raw.scrape_attempts"
        f" WHERE video_id = ? ORDER BY attempted_at DESC LIMIT {int(limit)}",
        [video_id],
    ).fetchall()
    return [Attempt(*row) for row in rows]


def has_simulated(con: duckdb.DuckDBPyConnection, video_id: str | None = None) -> bool:
    """Whether any snapshot (of one video, or of any) came from the simulated platform."""
    if not _has(con, "raw", "snapshots"):
        return False
    row = con.execute(
        "SELECT 1 FROM raw.snapshots WHERE source = 'simulated' AND ($id IS NULL OR video_id = $id) LIMIT 1",
        {"id": video_id},
    ).fetchone()
    return row is not None
