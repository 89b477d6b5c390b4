"""The marts, read: the one place product code reads what dbt builds (the analysts' contract, docs/schema.md).

The API, the alert rules, `viewtrail report`, the demo's report and the retry and momentum sensors read the marts
through these functions, which return typed rows, so a renamed or retyped mart column breaks here, in one module,
rather than in every reader. Every function takes an open connection (the live warehouse or the published analyst
copy) and answers empty (no rows, None for one row) before the first build made the mart it reads. The wide per-day
marts of labels, accounts and creators come back as one mapping per day: every column of those marts is part of
the API's wire shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, get_type_hints

import duckdb

from viewtrail.domain.models import Platform


class Mart(StrEnum):
    """The marts product code reads (schema ``marts``)."""

    VIDEO_LATEST = "video_latest"
    VIDEO_DAILY = "video_daily"
    VIDEO_GROWTH = "video_growth"
    VIDEO_ENGAGEMENT = "video_engagement"
    LABEL_DAILY = "label_daily"
    ACCOUNT_DAILY = "account_daily"
    CREATOR_DAILY = "creator_daily"
    ACCOUNT_METRICS_DAILY = "account_metrics_daily"
    ACCOUNT_LATEST = "account_latest"
    CREATOR_LATEST = "creator_latest"
    CAMPAIGN_LATEST = "campaign_latest"
    CAMPAIGN_DAILY = "campaign_daily"
    VIDEO_PAYOUTS = "video_payouts"
    CREATOR_PAYOUTS = "creator_payouts"
    CREATOR_GOAL_STATUS = "creator_goal_status"
    OVERPOSTING_INCIDENTS = "overposting_incidents"


#: How the publish lays out the analyst copy so that a page of 50 rows costs the same at 1,000,000 videos as at
#: 1,000. Tables stored in the order of a column (their ``rowid`` order is that column's order), listed in the
#: copy's :data:`COPY_ORDER` table: a reader takes a page in that order by reading the table from a position and
#: stopping after the page, instead of sorting every row per request (the API's videos, by id).
ORDERED_IN_COPY = {"registry.videos": "video_id"}
#: Per-video tables the copy indexes by video id (DuckDB's ART index): :func:`video_metrics` of a page's videos
#: looks them up instead of scanning every row.
INDEXED_IN_COPY = {f"marts.{Mart.VIDEO_LATEST}": "video_id", f"marts.{Mart.VIDEO_GROWTH}": "video_id"}
#: The copy's table (``table_name``, ``ordered_by``) of :data:`ORDERED_IN_COPY`; absent from the live warehouse
#: and from a copy published by an older version, whose tables are in no particular order.
COPY_ORDER = "meta.copy_order"


def stored_order(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    """The column ``table`` (``schema.name``) is stored in the order of on ``con``, or None when unknown."""
    schema, name = COPY_ORDER.split(".")
    if not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ?"
        " AND table_name = ?",
        [schema, name],
    ).fetchall()[0][0]:
        return None
    rows = con.execute(f"SELECT ordered_by FROM {COPY_ORDER} WHERE table_name = ?", [table]).fetchall()
    return str(rows[0][0]) if rows else None


def built(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The names of the marts a build has made on ``con`` (all of schema ``marts``): tables in the warehouse; in
    the analyst copy the day-grained marts are views over their Parquet files."""
    return {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'"
            " UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = 'marts'"
        ).fetchall()
    }


# ------------------------------------------------------------------------------------------------------ videos


@dataclass(frozen=True, slots=True)
class VideoLatest:
    """A video's row of ``marts.video_latest``: what it is and its last observation."""

    video_id: str
    platform: str
    account: str | None
    labels: tuple[str, ...]
    url: str | None
    title: str | None
    is_active: bool
    availability: str
    posted_at: datetime | None
    last_observed_at: datetime | None


def latest_videos(con: duckdb.DuckDBPyConnection) -> list[VideoLatest]:
    """Every video of ``marts.video_latest``."""
    if Mart.VIDEO_LATEST not in built(con):
        return []
    rows = con.execute(
        "SELECT video_id, platform, account, labels, url, title, is_active, availability, posted_at, last_observed_at"
        " FROM marts.video_latest"
    ).fetchall()
    return [
        VideoLatest(
            row[0], row[1], row[2], tuple(row[3] or ()), row[4], row[5], bool(row[6]), row[7] or "available", *row[8:]
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class VideoHeading:
    """What a report shows above a video's days: its title, account, URL and tracking status
    (``marts.video_latest``)."""

    title: str | None
    account: str | None
    url: str | None
    status: str | None


def video_heading(con: duckdb.DuckDBPyConnection, video_id: str) -> VideoHeading | None:
    """The heading of one video; None when ``marts.video_latest`` has no row for it (or is not built yet)."""
    if Mart.VIDEO_LATEST not in built(con):
        return None
    row = con.execute(
        "SELECT title, account, url, status FROM marts.video_latest WHERE video_id = ?", [video_id]
    ).fetchone()
    return VideoHeading(*row) if row is not None else None


def count_videos_observed(con: duckdb.DuckDBPyConnection, *, at_least: int) -> int:
    """How many videos of ``marts.video_latest`` have ``at_least`` snapshots."""
    if Mart.VIDEO_LATEST not in built(con):
        return 0
    row = con.execute("SELECT count(*) FROM marts.video_latest WHERE snapshot_count >= ?", [at_least]).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True, slots=True)
class GrowingVideo:
    """A video of ``marts.video_growth`` with a views-per-hour rate, its title and age (``marts.video_latest``)."""

    video_id: str
    title: str | None
    age_days: float | None  # days between posting and ``as_of``; None when the posting time is unknown
    views: int | None
    views_per_hour_24h: float | None
    views_gained_7d: int | None
    increase_7d_pct: float | None  # None while the video is younger than 7 days


class GrowthRanking(StrEnum):
    """How :func:`growing_videos` ranks (ties go to the smaller video id); the value is the SQL order."""

    FASTEST = "g.views_per_hour_24h DESC"  # most views per hour over the last 24 hours first
    OLDEST = "age_days DESC NULLS LAST"  # posted longest ago first


def growing_videos(
    con: duckdb.DuckDBPyConnection, *, as_of: datetime, ranking: GrowthRanking, limit: int
) -> list[GrowingVideo]:
    """The first ``limit`` videos with a views-per-hour rate, ranked by ``ranking``, aged as of ``as_of``."""
    if not {Mart.VIDEO_GROWTH, Mart.VIDEO_LATEST} <= built(con):
        return []
    rows = con.execute(
        "SELECT g.video_id, l.title, date_diff('second', l.posted_at, $as_of) / 86400.0 AS age_days,"
        " g.views, g.views_per_hour_24h, g.views_gained_7d, g.increase_7d_pct"
        " FROM marts.video_growth g LEFT JOIN marts.video_latest l USING (video_id)"
        f" WHERE g.views_per_hour_24h IS NOT NULL ORDER BY {ranking.value}, g.video_id LIMIT {int(limit)}",
        {"as_of": as_of},
    ).fetchall()
    return [GrowingVideo(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class FailingVideo:
    """A tracked, available video whose last scrape attempt failed (``marts.video_latest``)."""

    video_id: str
    last_attempt_at: datetime | None
    consecutive_failures: int  # failures in a row; 1 when the mart has no count for it


def failing_videos(con: duckdb.DuckDBPyConnection, outcomes: Sequence[str]) -> list[FailingVideo]:
    """The active, available videos whose last attempt's outcome is one of ``outcomes``, by video id."""
    if not outcomes or Mart.VIDEO_LATEST not in built(con):
        return []
    rows = con.execute(
        "SELECT video_id, last_attempt_at, coalesce(consecutive_failures, 1) FROM marts.video_latest"
        f" WHERE is_active AND availability = 'available' AND last_outcome IN ({', '.join('?' for _ in outcomes)})"
        " ORDER BY video_id",  # the retry sensor's run key digests them in this order: the same set, the same key
        list(outcomes),
    ).fetchall()
    return [FailingVideo(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class GrowthRate:
    """An active, available video's views per hour over the last 24 hours (``marts.video_growth``)."""

    video_id: str
    views_per_hour_24h: float


def active_growth_rates(con: duckdb.DuckDBPyConnection) -> list[GrowthRate]:
    """The views-per-hour rate of every active, available video that has one."""
    if not {Mart.VIDEO_GROWTH, Mart.VIDEO_LATEST} <= built(con):
        return []
    rows = con.execute(
        "SELECT g.video_id, g.views_per_hour_24h FROM marts.video_growth g JOIN marts.video_latest l USING (video_id)"
        " WHERE l.is_active AND l.availability = 'available' AND g.views_per_hour_24h IS NOT NULL"
    ).fetchall()
    return [GrowthRate(video_id, float(rate)) for video_id, rate in rows]


@dataclass(frozen=True, slots=True)
class VideoMetrics:
    """A video's latest counts (``marts.video_latest``), growth (``marts.video_growth``) and last engagement
    rate (``marts.video_engagement``); None where a mart has no row for it or is not built yet."""

    observed_at: datetime | None = None
    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    views_gained_1d: int | None = None
    views_gained_7d: int | None = None
    views_gained_14d: int | None = None
    views_gained_30d: int | None = None
    outlier_multiplier: float | None = None
    engagement_rate: float | None = None


def video_metrics(con: duckdb.DuckDBPyConnection, video_ids: Sequence[str]) -> dict[str, VideoMetrics]:
    """The metrics of ``video_ids`` that any mart has (a video no mart knows is absent)."""
    marts = built(con)
    ids = list(dict.fromkeys(video_ids))
    found: dict[str, dict[str, Any]] = {}
    if not ids:
        return {}

    def merge(sql: str, params: list[object]) -> None:
        frame = con.execute(sql, params).fetchall()
        names = [d[0] for d in con.description or ()]
        for row in frame:
            found.setdefault(row[0], {}).update(zip(names[1:], row[1:], strict=True))

    # video_latest and video_growth: looked up by the analyst copy's index on video_id (INDEXED_IN_COPY)
    if Mart.VIDEO_LATEST in marts:
        merge(
            "SELECT video_id, last_observed_at AS observed_at, views, likes, comments, shares, saves"
            " FROM marts.video_latest WHERE list_contains(?, video_id)",
            [ids],
        )
    if Mart.VIDEO_GROWTH in marts:
        merge(
            "SELECT video_id, views_gained_1d, views_gained_7d, views_gained_14d, views_gained_30d, outlier_multiplier"
            " FROM marts.video_growth WHERE list_contains(?, video_id)",
            [ids],
        )
    if Mart.VIDEO_ENGAGEMENT in marts:
        # in the copy, Parquet files by month with rows in video-id order: the range lets DuckDB skip the row
        # groups holding none of the ids by their min/max (a page's ids are neighbours), which list_contains cannot
        merge(
            "SELECT video_id, arg_max(engagement_rate, day) AS engagement_rate FROM marts.video_engagement"
            " WHERE video_id BETWEEN ? AND ? AND list_contains(?, video_id) GROUP BY video_id",
            [min(ids), max(ids), ids],
        )
    return {video_id: VideoMetrics(**values) for video_id, values in found.items()}


@dataclass(frozen=True, slots=True)
class VideoDay:
    """A video's day of ``marts.video_daily``: counts at the end of the day and what the day gained."""

    video_id: str
    day: date
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    views_gained: int | None
    likes_gained: int | None
    comments_gained: int | None
    shares_gained: int | None
    saves_gained: int | None
    observations: int | None
    is_interpolated: bool | None

    def series(self) -> dict[str, Any]:
        """The day's values without the video id, in the mart's column order."""
        return {name: getattr(self, name) for name in _VIDEO_DAY_COLUMNS[1:]}


_VIDEO_DAY_COLUMNS = tuple(VideoDay.__dataclass_fields__)


def video_days(
    con: duckdb.DuckDBPyConnection,
    *,
    video_id: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[VideoDay]:
    """Days of ``marts.video_daily`` from ``start`` to ``end`` (inclusive, open when None), of one video or all,
    ordered by video and day."""
    if Mart.VIDEO_DAILY not in built(con):
        return []
    rows = con.execute(
        f"SELECT {', '.join(_VIDEO_DAY_COLUMNS)} FROM marts.video_daily"
        " WHERE ($id IS NULL OR video_id = $id) AND ($start IS NULL OR day >= $start)"
        " AND ($end IS NULL OR day <= $end) ORDER BY video_id, day",
        {"id": video_id, "start": start, "end": end},
    ).fetchall()
    return [VideoDay(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class EngagedVideoDay:
    """A video's day of ``marts.video_daily`` with that day's engagement rate (``marts.video_engagement``)."""

    day: date
    views: int | None
    views_gained: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    engagement_rate: float | None  # None when the day has no engagement row (or the mart is not built yet)
    observations: int
    is_interpolated: bool


def last_video_days(con: duckdb.DuckDBPyConnection, video_id: str, days: int) -> list[EngagedVideoDay]:
    """The last ``days`` days of one video, counted back from its latest day in ``marts.video_daily`` (not from
    today: a video no longer scraped still shows its last days), ordered by day."""
    marts = built(con)
    if Mart.VIDEO_DAILY not in marts:
        return []
    if Mart.VIDEO_ENGAGEMENT in marts:
        engagement, rate = "LEFT JOIN marts.video_engagement AS e USING (video_id, day)", "e.engagement_rate"
    else:
        engagement, rate = "", "NULL::DOUBLE"
    rows = con.execute(
        "WITH last AS (SELECT max(day) AS last_day FROM marts.video_daily WHERE video_id = $video_id)"
        f" SELECT d.day, d.views, d.views_gained, d.likes, d.comments, d.shares, d.saves, {rate},"
        " d.observations, d.is_interpolated"
        f" FROM marts.video_daily AS d {engagement}"
        " WHERE d.video_id = $video_id AND d.day > (SELECT last_day FROM last) - $days ORDER BY d.day",
        {"video_id": video_id, "days": days},
    ).fetchall()
    return [EngagedVideoDay(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class VideoViewsDay:
    """A video's views at the end of a day of ``marts.video_daily``, what the day gained and how often it was
    observed: what the alert rules on views read."""

    video_id: str
    day: date
    views: int | None
    views_gained: int | None
    observations: int | None


def video_views(con: duckdb.DuckDBPyConnection, *, start: date | None = None) -> list[VideoViewsDay]:
    """The views of every video per day from ``start`` on (all days when None), ordered by video and day."""
    if Mart.VIDEO_DAILY not in built(con):
        return []
    rows = con.execute(
        "SELECT video_id, day, views, views_gained, observations FROM marts.video_daily"
        " WHERE $start IS NULL OR day >= $start ORDER BY video_id, day",
        {"start": start},
    ).fetchall()
    return [VideoViewsDay(*row) for row in rows]


# ------------------------------------------------------------------------------ the dashboard's video reads


@dataclass(frozen=True, slots=True)
class TotalsDay:
    """All videos of ``marts.video_daily`` summed over one day: views at the end of the day, what the day gained,
    how many of the day's video rows were interpolated rather than observed, and the engagement rate of all
    videos as the label and account marts define it (``marts.video_engagement``: sum of engagements / sum of
    views over the videos where both are known; None when that is 0 or the mart is not built)."""

    day: date
    views: int
    views_gained: int
    videos: int
    interpolated: int
    engagement_rate: float | None


def totals_days(con: duckdb.DuckDBPyConnection, *, start: date, end: date) -> list[TotalsDay]:
    """Every day from ``start`` to ``end`` (inclusive) that ``marts.video_daily`` has rows for, summed over all
    videos, ordered by day. Grouped scans: the database adds up the rows, not Python."""
    marts = built(con)
    if Mart.VIDEO_DAILY not in marts:
        return []
    if Mart.VIDEO_ENGAGEMENT in marts:
        rates = (
            "SELECT day, sum(engagements) / nullif(sum(views), 0) AS engagement_rate FROM marts.video_engagement"
            " WHERE day BETWEEN $start AND $end AND engagements IS NOT NULL AND views IS NOT NULL GROUP BY day"
        )
    else:
        rates = "SELECT NULL::DATE AS day, NULL::DOUBLE AS engagement_rate"
    rows = con.execute(
        f"WITH rates AS ({rates}), totals AS ("
        " SELECT day, coalesce(sum(views), 0)::BIGINT AS views, coalesce(sum(views_gained), 0)::BIGINT AS gained,"
        " count(*) AS videos, count(*) FILTER (WHERE is_interpolated) AS interpolated"
        " FROM marts.video_daily WHERE day BETWEEN $start AND $end GROUP BY day)"
        " SELECT t.day, t.views, t.gained, t.videos, t.interpolated, r.engagement_rate::DOUBLE"
        " FROM totals t LEFT JOIN rates r USING (day) ORDER BY t.day",
        {"start": start, "end": end},
    ).fetchall()
    return [TotalsDay(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class TrackingCounts:
    """How much ``marts.video_latest`` holds: videos, those still tracked, and the distinct accounts they come
    from (``platform:account``)."""

    videos: int = 0
    active_videos: int = 0
    accounts: int = 0


def tracking_counts(con: duckdb.DuckDBPyConnection) -> TrackingCounts:
    if Mart.VIDEO_LATEST not in built(con):
        return TrackingCounts()
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE is_active),"
        " count(DISTINCT platform || ':' || account) FILTER (WHERE account IS NOT NULL) FROM marts.video_latest"
    ).fetchone()
    return TrackingCounts(*row) if row else TrackingCounts()


@dataclass(frozen=True, slots=True)
class VideoGain:
    """A video and the views it gained over a window of days (``marts.video_daily``, ``marts.video_latest``)."""

    video_id: str
    platform: str
    title: str | None
    account: str | None
    views: int | None  # its latest views
    views_gained: int


def top_videos(con: duckdb.DuckDBPyConnection, *, start: date, end: date, limit: int) -> list[VideoGain]:
    """The ``limit`` videos that gained the most views from ``start`` to ``end`` (ties: smaller video id)."""
    if not {Mart.VIDEO_DAILY, Mart.VIDEO_LATEST} <= built(con):
        return []
    rows = con.execute(
        "SELECT d.video_id, l.platform, l.title, l.account, l.views, d.gained FROM"
        " (SELECT video_id, sum(views_gained)::BIGINT AS gained FROM marts.video_daily"
        "  WHERE day BETWEEN $start AND $end GROUP BY video_id ORDER BY gained DESC NULLS LAST, video_id"
        f"  LIMIT {int(limit)}) d"
        " JOIN marts.video_latest l USING (video_id) ORDER BY d.gained DESC NULLS LAST, d.video_id",
        {"start": start, "end": end},
    ).fetchall()
    return [VideoGain(row[0], row[1], row[2], row[3], row[4], row[5] or 0) for row in rows]


@dataclass(frozen=True, slots=True)
class VideoFilter:
    """What a table of videos is narrowed to; None (or empty) = no condition. ``search`` matches the title, the
    video id, the URL and the account, case-insensitively."""

    platform: str | None = None
    label: str | None = None
    account: str | None = None
    account_id: str | None = None
    creator_id: str | None = None
    status: str | None = None
    posted_from: date | None = None
    posted_to: date | None = None
    search: str | None = None
    video_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VideoRow:
    """A row of the videos table: ``marts.video_latest`` with the growth of ``marts.video_growth``."""

    video_id: str
    platform: str
    title: str | None
    account: str | None
    url: str | None
    labels: tuple[str, ...]
    status: str | None
    is_active: bool
    availability: str | None
    posted_at: datetime | None
    last_observed_at: datetime | None
    last_outcome: str | None
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    views_gained_1d: int | None
    views_gained_7d: int | None
    views_gained_14d: int | None
    views_gained_30d: int | None
    outlier_multiplier: float | None


#: The orders the videos table offers: name -> SQL expression (ties always go to the smaller video id).
VIDEO_SORTS: dict[str, str] = {
    "views": "l.views",
    "gained_1d": "g.views_gained_1d",
    "gained_7d": "g.views_gained_7d",
    "gained_14d": "g.views_gained_14d",
    "gained_30d": "g.views_gained_30d",
    "outlier": "g.outlier_multiplier",
    "posted": "l.posted_at",
    "observed": "l.last_observed_at",
    "title": "lower(l.title)",
    "account": "lower(l.account)",
    "video": "l.video_id",
}


def _video_where(filters: VideoFilter) -> tuple[str, dict[str, Any]]:
    conditions: list[str] = []
    params: dict[str, Any] = {}

    def add(condition: str, **values: Any) -> None:
        conditions.append(condition)
        params.update(values)

    if filters.platform:
        add("l.platform = $platform", platform=filters.platform)
    if filters.label:
        add("list_contains(l.labels, $label)", label=filters.label)
    if filters.account:
        add("lower(l.account) = lower($account)", account=filters.account.removeprefix("@"))
    if filters.account_id:
        add("l.account_id = $account_id", account_id=filters.account_id)
    if filters.creator_id:
        add(
            "l.account_id IN (SELECT account_id FROM registry.creator_accounts WHERE creator_id = $creator_id)",
            creator_id=filters.creator_id,
        )
    if filters.status:
        add("l.status = $status", status=filters.status)
    if filters.posted_from:
        add("l.posted_at >= $posted_from", posted_from=filters.posted_from)
    if filters.posted_to:
        add("l.posted_at < $posted_to::DATE + 1", posted_to=filters.posted_to)
    if filters.video_ids:
        add("list_contains($video_ids, l.video_id)", video_ids=list(filters.video_ids))
    if filters.search:
        add(
            "(contains(lower(l.title), $search) OR contains(lower(l.video_id), $search)"
            " OR contains(lower(l.url), $search) OR contains(lower(l.account), $search))",
            search=filters.search.lower(),
        )
    return (" WHERE " + " AND ".join(conditions)) if conditions else "", params


_VIDEO_ROW_SELECT = (
    "SELECT l.video_id, l.platform, l.title, l.account, l.url, l.labels, l.status, l.is_active, l.availability,"
    " l.posted_at, l.last_observed_at, l.last_outcome, l.views, l.likes, l.comments, l.shares, l.saves,"
    " g.views_gained_1d, g.views_gained_7d, g.views_gained_14d, g.views_gained_30d, g.outlier_multiplier"
    " FROM marts.video_latest l LEFT JOIN marts.video_growth g USING (video_id)"
)


def video_table(
    con: duckdb.DuckDBPyConnection,
    filters: VideoFilter,
    *,
    sort: str = "views",
    descending: bool = True,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[VideoRow], int]:
    """One page of the videos matching ``filters`` in ``sort`` order (a key of :data:`VIDEO_SORTS`; missing values
    last), and how many match in all. The page is cut in SQL: only its rows reach Python."""
    if Mart.VIDEO_LATEST not in built(con):
        return [], 0
    if sort not in VIDEO_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    where, params = _video_where(filters)
    growth = Mart.VIDEO_GROWTH in built(con)
    if not growth and VIDEO_SORTS[sort].startswith("g."):
        sort = "views"
    total_row = con.execute(f"SELECT count(*) FROM marts.video_latest l{where}", params).fetchone()
    order = f"{VIDEO_SORTS[sort]} {'DESC' if descending else 'ASC'} NULLS LAST, l.video_id"
    page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    if VIDEO_SORTS[sort].startswith("g."):  # ordered by growth: join first
        sql = f"{_VIDEO_ROW_SELECT}{where} ORDER BY {order}{page}"
    else:  # ordered by the video's own columns: cut the page first, then join the growth of its rows only
        select = _VIDEO_ROW_SELECT.replace(
            "FROM marts.video_latest l",
            f"FROM (SELECT * FROM marts.video_latest l{where} ORDER BY {order}{page}) l",
        )
        sql = f"{select} ORDER BY {order}"
    if not growth:
        sql = sql.replace("LEFT JOIN marts.video_growth g USING (video_id)", "").replace(
            "g.views_gained_1d, g.views_gained_7d, g.views_gained_14d, g.views_gained_30d, g.outlier_multiplier",
            "NULL::BIGINT, NULL::BIGINT, NULL::BIGINT, NULL::BIGINT, NULL::DOUBLE",
        )
    rows = con.execute(sql, params).fetchall()
    videos = []
    for row in rows:
        values = list(row)
        values[5], values[7] = tuple(values[5] or ()), bool(values[7])
        videos.append(VideoRow(*values))
    return videos, int(total_row[0]) if total_row else 0


def search_videos(con: duckdb.DuckDBPyConnection, text: str, limit: int = 8) -> list[VideoRow]:
    """The videos whose title, id, URL or account contain ``text``, most viewed first (the search box)."""
    rows, _ = video_table(con, VideoFilter(search=text), sort="views", limit=limit)
    return rows


@dataclass(frozen=True, slots=True)
class PostingActivity:
    """When the videos of ``marts.video_latest`` were posted: how many per day, and per weekday (0 = Monday) and
    hour of the day (UTC), for a content calendar and a posting-time heatmap."""

    per_day: list[tuple[date, int]]
    per_weekday_hour: dict[tuple[int, int], int]


def posting_activity(
    con: duckdb.DuckDBPyConnection, *, start: date, end: date, filters: VideoFilter | None = None
) -> PostingActivity:
    """The videos matching ``filters`` posted from ``start`` to ``end`` (inclusive), counted in SQL."""
    if Mart.VIDEO_LATEST not in built(con):
        return PostingActivity([], {})
    where, params = _video_where(replace(filters or VideoFilter(), posted_from=start, posted_to=end))
    per_day = con.execute(
        f"SELECT l.posted_at::DATE AS day, count(*) FROM marts.video_latest l{where} GROUP BY day ORDER BY day",
        params,
    ).fetchall()
    cells = con.execute(
        f"SELECT isodow(l.posted_at) - 1, hour(l.posted_at), count(*) FROM marts.video_latest l{where} GROUP BY ALL",
        params,
    ).fetchall()
    return PostingActivity([(d, int(n)) for d, n in per_day], {(int(w), int(h)): int(n) for w, h, n in cells})


# ------------------------------------------------------------------------------- labels, accounts, creators


@dataclass(frozen=True, slots=True)
class ViewsDay:
    """The views of a label's or an account's videos at the end of a day."""

    key: str  # the label, or ``platform:account``
    day: date
    views: int | None


def label_views(con: duckdb.DuckDBPyConnection) -> list[ViewsDay]:
    """``marts.label_daily``'s views per label and day, ordered by label and day."""
    if Mart.LABEL_DAILY not in built(con):
        return []
    rows = con.execute("SELECT label, day, views FROM marts.label_daily ORDER BY 1, 2").fetchall()
    return [ViewsDay(*row) for row in rows]


def account_views(con: duckdb.DuckDBPyConnection) -> list[ViewsDay]:
    """``marts.account_daily``'s views per ``platform:account`` and day, ordered by account and day."""
    if Mart.ACCOUNT_DAILY not in built(con):
        return []
    rows = con.execute(
        "SELECT platform, account, day, views FROM marts.account_daily ORDER BY platform, account, day"
    ).fetchall()
    return [ViewsDay(f"{platform}:{account}", day, views) for platform, account, day, views in rows]


@dataclass(frozen=True, slots=True)
class AccountLatest:
    """A watched account's row of ``marts.account_latest``: its profile's last observation, what its tracked
    videos add up to and its scrape attempts in brief. Counts are whole numbers (BIGINT)."""

    display_name: str | None
    first_observed_at: datetime | None
    last_observed_at: datetime | None
    median_video_views: float | None
    posts_per_week: float | None
    last_posted_at: datetime | None
    as_of_at: datetime | None
    last_attempt_at: datetime | None
    last_outcome: str | None
    followers: int | None
    following: int | None
    likes: int | None
    video_count: int | None
    views: int | None
    followers_gained_7d: int | None
    followers_gained_30d: int | None
    tracked_videos: int | None
    tracked_video_views: int | None
    tracked_video_engagements: int | None
    snapshot_count: int | None
    consecutive_failures: int | None


def _latest_columns(row_type: type, skip: str = "") -> list[str]:
    """The select list of a ``*_latest`` mart read into ``row_type`` (its fields but ``skip``): counts (the fields
    typed ``int | None``) as BIGINT, since the marts' sums are HUGEINT."""
    hints = get_type_hints(row_type)
    return [f"{name}::BIGINT AS {name}" if hints[name] == int | None else name for name in hints if name != skip]


def account_latest(con: duckdb.DuckDBPyConnection, account_ids: Sequence[str]) -> dict[str, AccountLatest]:
    """The ``marts.account_latest`` rows of ``account_ids`` (an account the mart has no row for is absent)."""
    ids = list(dict.fromkeys(account_ids))
    if not ids or Mart.ACCOUNT_LATEST not in built(con):
        return {}
    rows = con.execute(
        f"SELECT account_id, {', '.join(_latest_columns(AccountLatest))} FROM marts.account_latest WHERE list_contains(?, account_id)",
        [ids],
    ).fetchall()
    return {row[0]: AccountLatest(*row[1:]) for row in rows}


#: ``marts.creator_latest`` has one share column per metric and registered platform (``views_share_tiktok``, ...).
SHARE_METRICS = ("views", "engagements", "followers")
_SHARE_COLUMNS = tuple((metric, p.value) for metric in SHARE_METRICS for p in Platform)


@dataclass(frozen=True, slots=True)
class CreatorLatest:
    """A creator's row of ``marts.creator_latest``: the latest of its accounts summed across platforms. Counts
    are whole numbers (BIGINT); ``shares`` is each platform's share of a metric, by metric then platform."""

    name: str
    platforms: tuple[str, ...]
    accounts: int | None
    videos: int | None
    views: int | None
    engagements: int | None
    followers: int | None
    engagement_rate_by_followers: float | None
    posts_per_week: float | None
    as_of_at: datetime | None
    shares: dict[str, dict[str, float | None]]


_CREATOR_FIELDS = [name for name in CreatorLatest.__dataclass_fields__ if name != "shares"]
_CREATOR_SELECT = (
    f"SELECT creator_id, {', '.join(_latest_columns(CreatorLatest, skip='shares'))}, "
    + ", ".join(f"{metric}_share_{platform}" for metric, platform in _SHARE_COLUMNS)
    + " FROM marts.creator_latest"
)


def _creator_latest(row: tuple[Any, ...]) -> CreatorLatest:
    values = dict(zip(_CREATOR_FIELDS, row[1:], strict=False))
    shares: dict[str, dict[str, float | None]] = {metric: {} for metric in SHARE_METRICS}
    for (metric, platform), share in zip(_SHARE_COLUMNS, row[1 + len(_CREATOR_FIELDS) :], strict=True):
        shares[metric][platform] = share
    return CreatorLatest(**{**values, "platforms": tuple(values["platforms"] or ())}, shares=shares)


def creator_latest(con: duckdb.DuckDBPyConnection, creator_ids: Sequence[str]) -> dict[str, CreatorLatest]:
    """The ``marts.creator_latest`` rows of ``creator_ids`` (a creator the mart has no row for is absent)."""
    ids = list(dict.fromkeys(creator_ids))
    if not ids or Mart.CREATOR_LATEST not in built(con):
        return {}
    rows = con.execute(f"{_CREATOR_SELECT} WHERE list_contains(?, creator_id)", [ids]).fetchall()
    return {row[0]: _creator_latest(row) for row in rows}


def top_creators(con: duckdb.DuckDBPyConnection, limit: int) -> list[CreatorLatest]:
    """The ``limit`` creators with the most views of their accounts' videos (ties: smaller creator id first)."""
    if Mart.CREATOR_LATEST not in built(con):
        return []
    rows = con.execute(f"{_CREATOR_SELECT} ORDER BY views DESC NULLS LAST, creator_id LIMIT {int(limit)}").fetchall()
    return [_creator_latest(row) for row in rows]


#: The per-day marts read whole (every column is in the API's answers), and the columns they are filtered by.
DAILY_KEYS: dict[Mart, tuple[str, ...]] = {
    Mart.LABEL_DAILY: ("label",),
    Mart.ACCOUNT_DAILY: ("account", "platform"),
    Mart.CREATOR_DAILY: ("creator_id",),
    Mart.ACCOUNT_METRICS_DAILY: ("account_id",),
    Mart.CAMPAIGN_DAILY: ("campaign_id",),
}


def daily_rows(
    con: duckdb.DuckDBPyConnection,
    mart: Mart,
    filters: dict[str, Any],
    *,
    start: date | None = None,
    end: date | None = None,
    exclude: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The days of one of the :data:`DAILY_KEYS` marts matching ``filters`` (column = value, columns of its
    keys), from ``start`` to ``end``, ordered by day; every column but ``exclude``."""
    keys = DAILY_KEYS[mart]
    unknown = set(filters) - set(keys)
    if unknown:
        raise ValueError(f"marts.{mart} is not filtered by {', '.join(sorted(unknown))}")
    if mart not in built(con):
        return []
    skipped = list(exclude)
    columns = f"* EXCLUDE ({', '.join(skipped)})" if skipped else "*"
    where = "".join(f" AND {column} = ${column}" for column in filters)
    cursor = con.execute(
        f"SELECT {columns} FROM marts.{mart} WHERE ($start IS NULL OR day >= $start)"
        f" AND ($end IS NULL OR day <= $end){where} ORDER BY day",
        {**filters, "start": start, "end": end},
    )
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


__all__ = [
    "VIDEO_SORTS",
    "AccountLatest",
    "CreatorLatest",
    "DAILY_KEYS",
    "EngagedVideoDay",
    "FailingVideo",
    "GrowingVideo",
    "GrowthRanking",
    "GrowthRate",
    "Mart",
    "PostingActivity",
    "SHARE_METRICS",
    "VideoDay",
    "VideoHeading",
    "VideoLatest",
    "VideoMetrics",
    "TotalsDay",
    "TrackingCounts",
    "VideoFilter",
    "VideoGain",
    "VideoRow",
    "VideoViewsDay",
    "ViewsDay",
    "account_latest",
    "account_views",
    "active_growth_rates",
    "built",
    "count_videos_observed",
    "creator_latest",
    "daily_rows",
    "failing_videos",
    "growing_videos",
    "label_views",
    "last_video_days",
    "latest_videos",
    "top_creators",
    "video_days",
    "video_heading",
    "video_metrics",
    "video_views",
    "posting_activity",
    "search_videos",
    "top_videos",
    "totals_days",
    "tracking_counts",
    "video_table",
]


# --------------------------------------------------------------------------------------------- creator programs


@dataclass(frozen=True, slots=True)
class CampaignTotals:
    """A campaign's row of ``marts.campaign_latest`` (sub-campaigns included, each video once)."""

    campaign_id: str
    name: str
    parent_id: str | None
    sub_campaigns: int
    videos: int
    views: int
    target_views: int | None
    target_by: date | None
    target_share: float | None
    target_reached_on: date | None
    target_met: bool | None


@dataclass(frozen=True, slots=True)
class VideoPayout:
    """A row of ``marts.video_payouts``: one video's payout in the campaign paying it."""

    campaign_id: str
    video_id: str
    creator_id: str | None
    posted_at: datetime | None
    state: str
    window_end: datetime | None
    views_observed: int | None
    payable_views: int | None
    views_how: str | None
    is_interpolated: bool | None
    terms_id: int | None
    cpm_minor: int | None
    amount_minor: int | None
    currency: str | None
    rejection_reason: str | None
    paid_reference: str | None


@dataclass(frozen=True, slots=True)
class CreatorPayout:
    """A row of ``marts.creator_payouts``: a creator's balance in one campaign and currency (minor units)."""

    campaign_id: str
    creator_id: str | None
    currency: str | None
    videos: int
    videos_open: int
    videos_pending_terms: int
    videos_finalized: int
    videos_paid: int
    videos_rejected: int
    accrued_minor: int
    adjustments_minor: int
    paid_minor: int
    due_minor: int


@dataclass(frozen=True, slots=True)
class GoalStatusRow:
    """A row of ``marts.creator_goal_status``: one goal in one period."""

    goal_id: int
    creator_id: str
    metric: str
    period: str
    period_start: date
    period_end: date
    target: float
    actual: float
    pace: float | None
    status: str
    not_yet_started: bool
    period_in_progress: bool
    period_recently_ended: bool
    scrape_stale: bool


@dataclass(frozen=True, slots=True)
class OverpostingDay:
    """A row of ``marts.overposting_incidents``."""

    creator_id: str
    day: date
    videos: int
    low_view_videos: int
    video_ids: tuple[str, ...]
    is_amber: bool


def _program_rows(
    con: duckdb.DuckDBPyConnection, mart: Mart, row_type: Any, filters: dict[str, str | None], order: str
) -> list[Any]:
    """Rows of a creator-program mart as ``row_type`` (its fields are the columns), filtered by equality."""
    if mart not in built(con):
        return []
    given = {column: value for column, value in filters.items() if value is not None}
    where = " AND ".join(f"{column} = ?" for column in given) or "true"
    names = list(get_type_hints(row_type))
    rows = con.execute(
        f"SELECT {', '.join(names)} FROM marts.{mart.value} WHERE {where} ORDER BY {order}", list(given.values())
    ).fetchall()
    return [row_type(*(tuple(v) if isinstance(v, list) else v for v in row)) for row in rows]


def campaign_totals(con: duckdb.DuckDBPyConnection, campaign_id: str | None = None) -> list[CampaignTotals]:
    return _program_rows(con, Mart.CAMPAIGN_LATEST, CampaignTotals, {"campaign_id": campaign_id}, "campaign_id")


def video_payouts(
    con: duckdb.DuckDBPyConnection,
    *,
    campaign_id: str | None = None,
    creator_id: str | None = None,
    state: str | None = None,
) -> list[VideoPayout]:
    filters = {"campaign_id": campaign_id, "creator_id": creator_id, "state": state}
    return _program_rows(con, Mart.VIDEO_PAYOUTS, VideoPayout, filters, "campaign_id, creator_id, video_id")


def creator_payouts(
    con: duckdb.DuckDBPyConnection, *, campaign_id: str | None = None, creator_id: str | None = None
) -> list[CreatorPayout]:
    filters = {"campaign_id": campaign_id, "creator_id": creator_id}
    return _program_rows(con, Mart.CREATOR_PAYOUTS, CreatorPayout, filters, "campaign_id, creator_id, currency")


def goal_statuses(con: duckdb.DuckDBPyConnection, *, creator_id: str | None = None) -> list[GoalStatusRow]:
    """Every goal's every period, oldest period first."""
    return _program_rows(
        con, Mart.CREATOR_GOAL_STATUS, GoalStatusRow, {"creator_id": creator_id}, "creator_id, goal_id, period_start"
    )


def overposting_days(con: duckdb.DuckDBPyConnection, *, creator_id: str | None = None) -> list[OverpostingDay]:
    return _program_rows(
        con, Mart.OVERPOSTING_INCIDENTS, OverpostingDay, {"creator_id": creator_id}, "day DESC, creator_id"
    )
