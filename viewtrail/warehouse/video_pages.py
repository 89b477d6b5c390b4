"""Pages of the video registry with each video's last snapshot: what `viewtrail list` shows.

Imports DuckDB alone (no polars, no planners): a page is 50 rows, and `viewtrail list` is a command people
run by hand, so what it loads is most of what it costs. :func:`viewtrail.warehouse.registry.list_videos` is the
same query as a polars frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

    from viewtrail.domain.models import Platform


def _video_filters(
    platform: Platform | str | None, label: str | None, active: bool | None
) -> tuple[list[str], list[object]]:
    where: list[str] = []
    params: list[object] = []
    if platform is not None:
        where.append("v.platform = ?")
        params.append(str(platform))
    if label is not None:
        where.append("list_contains(v.labels, ?)")
        params.append(label)
    if active is not None:
        where.append("v.is_active = ?")
        params.append(active)
    return where, params


def video_page_query(
    *,
    platform: Platform | str | None = None,
    label: str | None = None,
    active: bool | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> tuple[str, list[object]]:
    """The SQL and parameters of one page of registered videos with their last snapshot, ordered by video id.

    ``after`` and ``limit`` page through them (keyset: the videos whose id sorts after ``after``, at most
    ``limit``). The page is cut in SQL (ORDER BY + LIMIT: a top-N over the registry) before the snapshots are
    summarised, and only its own videos' snapshots are read, so a page costs the same whatever the size of the
    registry and of the history.
    """
    where, params = _video_filters(platform, label, active)
    if after is not None:
        where.append("v.video_id > ?")
        params.append(after)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    page = f"LIMIT {int(limit)}" if limit is not None else ""
    sql = f"""
        WITH page AS (SELECT * FROM registry.videos v {clause} ORDER BY v.video_id {page})
        SELECT v.video_id, v.platform, v.external_id, v.url, v.account, v.is_active, v.cadence, v.track_until,
               v.labels, v.metadata, v.availability, v.consecutive_not_found, v.posted_at, v.account_id,
               v.source, v.added_at,
               v.updated_at, v.stopped_at,
               coalesce(s.snapshots, 0) AS snapshots, s.last_observed_at, s.last_views
        FROM page v
        LEFT JOIN (SELECT video_id, count(*) AS snapshots, max(observed_at) AS last_observed_at,
                          arg_max(views, observed_at) AS last_views
                   FROM raw.snapshots WHERE video_id IN (SELECT video_id FROM page) GROUP BY video_id) s
             USING (video_id)
        ORDER BY v.video_id
        """
    return sql, params


def video_page(
    con: duckdb.DuckDBPyConnection,
    *,
    platform: Platform | str | None = None,
    label: str | None = None,
    active: bool | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> tuple[list[str], list[dict[str, Any]]]:
    """One page of :func:`video_page_query`: its column names, and its rows as dicts (column name -> value) in
    video id order."""
    sql, params = video_page_query(platform=platform, label=label, active=active, after=after, limit=limit)
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
    where, params = _video_filters(platform, label, active)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    ((count,),) = con.execute(f"SELECT count(*) FROM registry.videos v {clause}", params).fetchall()
    return int(count)
