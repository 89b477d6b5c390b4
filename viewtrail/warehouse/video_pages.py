"""Pages of the video registry with each video's last snapshot: what `viewtrail list` shows.

Imports DuckDB alone (no polars, no planners): a page is 50 rows, and `viewtrail list` is a command people
run by hand, so what it loads is most of what it costs. :func:`viewtrail.warehouse.registry.list_videos` is the
same query as a polars frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

    from viewtrail.domain.models import Platform


@dataclass(frozen=True, slots=True)
class VideoFilter:
    """Which registered videos a listing holds; a field left None does not filter."""

    platform: Platform | str | None = None
    label: str | None = None
    account: str | None = None
    active: bool | None = None

    def where(self, prefix: str = "", *, after: str | None = None) -> tuple[list[str], dict[str, object]]:
        """The conditions on ``registry.videos`` (its columns as ``{prefix}platform``...) and their named
        parameters (``$platform``, ``$label``, ``$account``, ``$active``); ``after``: only the ids after it
        (``$after``)."""
        where: list[str] = []
        params: dict[str, object] = {}
        if self.platform is not None:
            where.append(f"{prefix}platform = $platform")
            params["platform"] = str(self.platform)
        if self.label is not None:
            where.append(f"list_contains({prefix}labels, $label)")
            params["label"] = self.label
        if self.account is not None:
            where.append(f"{prefix}account = $account")
            params["account"] = self.account
        if self.active is not None:
            where.append(f"{prefix}is_active = $active")
            params["active"] = self.active
        if after is not None:
            where.append(f"{prefix}video_id > $after")
            params["after"] = after
        return where, params

    def clause(self, prefix: str = "", *, after: str | None = None) -> tuple[str, dict[str, object]]:
        """:meth:`where` as one ``WHERE ...`` clause ("" when nothing filters) and its parameters."""
        where, params = self.where(prefix, after=after)
        return ("WHERE " + " AND ".join(where)) if where else "", params


#: dbt's per-video summary of the snapshots (count, last observation, its counters) as of the last build, and
#: the newest ``ingested_at`` it holds: a page reads it for its 50 videos instead of every snapshot they have.
SNAPSHOT_SUMMARY = "intermediate.int_video_snapshot_summary"


#: The summary's index on video_id: a page reads its 50 rows by it instead of scanning the table's ids (~0.2 s of
#: CPU at 1,000,000 videos). Built after each dbt build (:func:`index_snapshot_summary`), kept up by the incremental
#: runs' deletes and inserts, dropped before a full rebuild (:func:`drop_snapshot_summary_index`): dbt renames the
#: table aside then, which DuckDB refuses for an indexed table, and an index dropped inside dbt's run broke
#: dbt's other threads' catalog reads (duckdb_indexes() of a table renamed and dropped meanwhile).
SUMMARY_INDEX = "int_video_snapshot_summary_video_id"


def index_snapshot_summary(con: duckdb.DuckDBPyConnection) -> None:
    """Index :data:`SNAPSHOT_SUMMARY` on video_id if dbt has built it and it has no index yet."""
    schema, table = SNAPSHOT_SUMMARY.split(".")
    if _exists(con, schema, table):
        con.execute(f"CREATE INDEX IF NOT EXISTS {SUMMARY_INDEX} ON {SNAPSHOT_SUMMARY} (video_id)")


def drop_snapshot_summary_index(con: duckdb.DuckDBPyConnection) -> None:
    """Drop :data:`SUMMARY_INDEX` (before dbt rebuilds the summary from scratch)."""
    schema = SNAPSHOT_SUMMARY.split(".")[0]
    con.execute(f"DROP INDEX IF EXISTS {schema}.{SUMMARY_INDEX}")


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? AND database_name = "
            "current_database()",
            [schema, table],
        ).fetchall()[0][0]
    )


def summarised_through(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The newest ``ingested_at`` in :data:`SNAPSHOT_SUMMARY`, or None when the warehouse has never been built."""
    schema, table = SNAPSHOT_SUMMARY.split(".")
    if not _exists(con, schema, table):
        return None
    mark = con.execute(f"SELECT max(last_ingested_at) FROM {SNAPSHOT_SUMMARY}").fetchall()[0][0]
    return mark if isinstance(mark, datetime) else None


def page_ids(con: duckdb.DuckDBPyConnection, videos: VideoFilter, *, after: str | None = None, limit: int) -> list[str]:
    """The ids of one page of registered videos in id order (keyset: the ids after ``after``, at most ``limit``):
    a top-N over the id column alone, whose rows are then read by the primary key's index. Sorting whole rows
    read every column of every video: 0.2 s of CPU at 1,000,000 videos, against ~0.03 s for the ids."""
    clause, params = videos.clause("v.", after=after)
    rows = con.execute(
        f"SELECT v.video_id FROM registry.videos v {clause} ORDER BY v.video_id LIMIT {int(limit)}", params
    ).fetchall()
    return [row[0] for row in rows]


def video_page_query(
    videos: VideoFilter | None = None,
    *,
    after: str | None = None,
    ids: list[str] | None = None,
    summarised: datetime | None = None,
) -> tuple[str, dict[str, object]]:
    """The SQL and parameters of registered videos with their last snapshot, ordered by video id: the videos
    ``ids`` (a page of :func:`page_ids`), or when None every video matching the filters whose id sorts after
    ``after``.

    Only the listed videos' snapshots are read, and with ``ids`` their summary rows by its index. ``summarised`` (:func:`summarised_through`): the videos are read
    from dbt's snapshot summary, plus only the snapshots ingested after it (a constant bound on the
    append-ordered ``ingested_at``, so DuckDB skips the older row groups by their min/max): without it, finding
    a page's snapshots scans the video ids of the whole history (0.2 s at 2.5M snapshots, seconds at 100M).
    Snapshots are never rewritten (ON CONFLICT DO NOTHING), so the two parts never count one twice.
    """
    params: dict[str, object]
    if ids is not None:
        clause, params = "WHERE list_contains($ids, v.video_id)", {"ids": ids}
    else:
        clause, params = (videos or VideoFilter()).clause("v.", after=after)
    newer = f"AND ingested_at > TIMESTAMP '{summarised.isoformat(sep=' ')}'" if summarised is not None else ""
    # a page's ids as a constant list: DuckDB reads their rows by the summary's index (SUMMARY_INDEX);
    # `IN (SELECT ...)` would scan the whole table's ids, ~0.2 s of CPU at 1,000,000 videos
    in_page = "list_contains($ids, video_id)" if ids is not None else "video_id IN (SELECT video_id FROM page)"
    summary = (
        f"""LEFT JOIN (SELECT video_id, snapshot_count, last_observed_at, views FROM {SNAPSHOT_SUMMARY}
                       WHERE {in_page}) b USING (video_id)"""
        if summarised is not None
        else "LEFT JOIN (SELECT NULL::TEXT AS video_id, 0 AS snapshot_count, NULL::TIMESTAMP AS last_observed_at,"
        " NULL::BIGINT AS views WHERE false) b USING (video_id)"
    )
    sql = f"""
        WITH page AS (SELECT * FROM registry.videos v {clause})
        SELECT v.video_id, v.platform, v.external_id, v.url, v.account, v.is_active, v.cadence, v.track_until,
               v.labels, v.metadata, v.availability, v.consecutive_not_found, v.posted_at, v.account_id,
               v.source, v.added_at,
               v.updated_at, v.stopped_at,
               coalesce(b.snapshot_count, 0) + coalesce(s.snapshots, 0) AS snapshots,
               greatest(b.last_observed_at, s.last_observed_at) AS last_observed_at,
               CASE WHEN b.last_observed_at IS NULL OR s.last_observed_at > b.last_observed_at THEN s.last_views
                    ELSE b.views END AS last_views
        FROM page v
        {summary}
        LEFT JOIN (SELECT video_id, count(*) AS snapshots, max(observed_at) AS last_observed_at,
                          arg_max(views, observed_at) AS last_views
                   FROM raw.snapshots WHERE video_id IN (SELECT video_id FROM page) {newer} GROUP BY video_id) s
             USING (video_id)
        ORDER BY v.video_id
        """
    return sql, params


def paged_query(
    con: duckdb.DuckDBPyConnection,
    videos: VideoFilter,
    *,
    after: str | None = None,
    limit: int | None = None,
) -> tuple[str, dict[str, object]]:
    """:func:`video_page_query` of one page (``after`` and ``limit`` page through the videos in id order; every
    video after ``after`` when ``limit`` is None), the page's ids cut first (:func:`page_ids`)."""
    summarised = summarised_through(con)
    if limit is None:
        return video_page_query(videos, after=after, summarised=summarised)
    ids = page_ids(con, videos, after=after, limit=limit)
    return video_page_query(ids=ids, summarised=summarised)


def video_page(
    con: duckdb.DuckDBPyConnection,
    *,
    platform: Platform | str | None = None,
    label: str | None = None,
    active: bool | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> tuple[list[str], list[dict[str, Any]]]:
    """One page of registered videos with their last snapshot (:func:`paged_query`): its column names, and its
    rows as dicts (column name -> value) in video id order."""
    videos = VideoFilter(platform=platform, label=label, active=active)
    sql, params = paged_query(con, videos, after=after, limit=limit)
    cursor = con.execute(sql, params)
    names = [column[0] for column in cursor.description or ()]
    return names, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def count_videos(
    con: duckdb.DuckDBPyConnection,
    *,
    platform: Platform | str | None = None,
    label: str | None = None,
    active: bool | None = None,
) -> int:
    """How many registered videos the pages of :func:`video_page` hold with these filters, all pages together."""
    clause, params = VideoFilter(platform=platform, label=label, active=active).clause("v.")
    ((count,),) = con.execute(f"SELECT count(*) FROM registry.videos v {clause}", params).fetchall()
    return int(count)
