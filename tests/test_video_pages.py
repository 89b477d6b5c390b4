"""A page of `viewtrail list` on a built warehouse: dbt's snapshot summary plus the snapshots written since."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from dbt_support import create_warehouse, dbt, insert_snapshots, register_videos

from viewtrail.warehouse.connection import open_warehouse
from viewtrail.warehouse.video_pages import (
    SUMMARY_INDEX,
    VideoFilter,
    drop_snapshot_summary_index,
    index_snapshot_summary,
    paged_query,
    summarised_through,
    video_page,
    video_page_query,
)

BUILT = datetime(2026, 3, 1, 12)
LATER = datetime(2026, 3, 1, 13)


def test_a_page_of_a_built_warehouse_counts_every_snapshot_once(warehouse_path: Path) -> None:
    create_warehouse(warehouse_path)
    register_videos(warehouse_path, [{"video_id": f"youtube:v{i}"} for i in range(4)])
    insert_snapshots(
        warehouse_path,
        [
            ("youtube:v0", datetime(2026, 2, 27, 10), 100, None, None, None, None, None, BUILT),
            ("youtube:v0", datetime(2026, 2, 28, 10), 150, None, None, None, None, None, BUILT),
            ("youtube:v1", datetime(2026, 2, 28, 10), 500, None, None, None, None, None, BUILT),
            ("youtube:v2", datetime(2026, 2, 28, 10), 70, None, None, None, None, None, BUILT),
        ],
    )
    dbt("run", "--select", "+int_video_snapshot_summary", warehouse=warehouse_path)
    # after the build: a newer snapshot (v0), a backfilled older one (v1), the first ones of a new video (v3)
    insert_snapshots(
        warehouse_path,
        [
            ("youtube:v0", datetime(2026, 3, 1, 10), 300, None, None, None, None, None, LATER),
            ("youtube:v1", datetime(2026, 2, 20, 10), 20, None, None, None, None, None, LATER),
            ("youtube:v3", datetime(2026, 3, 1, 11), 9, None, None, None, None, None, LATER),
        ],
    )
    with open_warehouse(warehouse_path, read_only=True) as con:
        assert summarised_through(con) == BUILT
        _, page = video_page(con, limit=10)
        every_snapshot = con.execute(*video_page_query()).fetchall()  # no summary: reads them all
    shown = [(r["video_id"], r["snapshots"], r["last_observed_at"], r["last_views"]) for r in page]
    assert shown == [
        ("youtube:v0", 3, datetime(2026, 3, 1, 10), 300),
        ("youtube:v1", 2, datetime(2026, 2, 28, 10), 500),
        ("youtube:v2", 1, datetime(2026, 2, 28, 10), 70),
        ("youtube:v3", 1, datetime(2026, 3, 1, 11), 9),
    ]
    assert [tuple(r.values()) for r in page] == every_snapshot


def test_a_warehouse_never_built_reads_the_snapshots(warehouse_path: Path) -> None:
    create_warehouse(warehouse_path)
    register_videos(warehouse_path, [{"video_id": "youtube:v0"}])
    insert_snapshots(warehouse_path, [("youtube:v0", datetime(2026, 2, 28, 10), 150)])
    with open_warehouse(warehouse_path, read_only=True) as con:
        assert summarised_through(con) is None
        _, page = video_page(con)
    assert [(r["snapshots"], r["last_views"]) for r in page] == [(1, 150)]


def test_a_video_filter_renders_one_condition_per_field_set() -> None:
    from viewtrail.domain.models import Platform

    assert VideoFilter().clause("v.") == ("", {})
    clause, params = VideoFilter(platform=Platform("youtube"), label="launch", active=False).clause("v.", after="x")
    assert clause == (
        "WHERE v.platform = $platform AND list_contains(v.labels, $label) AND v.is_active = $active"
        " AND v.video_id > $after"
    )
    assert params == {"platform": "youtube", "label": "launch", "active": False, "after": "x"}
    where, params = VideoFilter(account="ana").where()
    assert (where, params) == (["account = $account"], {"account": "ana"})


def test_a_page_reads_its_summary_rows_by_the_index_the_build_keeps(warehouse_path: Path) -> None:
    """The summary has a row per video (1,000,000 at scale): a page of 50 reads its rows through the video_id
    index the build step adds after dbt, which an incremental run keeps up and a full rebuild (the index dropped
    first, as the build step does) gets again."""
    create_warehouse(warehouse_path)
    register_videos(warehouse_path, [{"video_id": f"youtube:v{i:02}"} for i in range(60)])
    insert_snapshots(
        warehouse_path,
        [
            (f"youtube:v{i:02}", datetime(2026, 2, 28, 10), 10 * i, None, None, None, None, None, BUILT)
            for i in range(60)
        ],
    )
    for step, args in enumerate(([], [], ["--full-refresh"])):  # built, run again incrementally, rebuilt
        if args:
            with open_warehouse(warehouse_path) as con:
                drop_snapshot_summary_index(con)
        if step == 1:  # a newer snapshot of the first video: its summary row is replaced under the index
            insert_snapshots(
                warehouse_path, [("youtube:v00", datetime(2026, 3, 1, 10), 5, None, None, None, None, None, LATER)]
            )
        dbt("run", "--select", "+int_video_snapshot_summary", *args, warehouse=warehouse_path)
        with open_warehouse(warehouse_path) as con:
            index_snapshot_summary(con)
        with open_warehouse(warehouse_path, read_only=True) as con:
            indexes = con.execute(
                "SELECT index_name FROM duckdb_indexes() WHERE table_name = 'int_video_snapshot_summary'"
            ).fetchall()
            sql, params = paged_query(con, VideoFilter(), limit=51)
            plan = json.loads(con.execute("EXPLAIN (ANALYZE, FORMAT json) " + sql, params).fetchall()[0][1])
            _, page = video_page(con, limit=51)
        assert indexes == [(SUMMARY_INDEX,)], args
        scanned = {table: rows for node in plan["operator"] for table, rows in _scans(node)}
        assert scanned["warehouse.intermediate.int_video_snapshot_summary"] == 51, (args, scanned)
        assert scanned["warehouse.registry.videos"] == 51, (args, scanned)
        assert len(page) == 51 and page[0]["snapshots"] == (1 if step == 0 else 2)


def _scans(node: dict) -> Iterator[tuple[str, int]]:
    """The tables an analysed plan read and how many rows it scanned in each."""
    if "Table" in node.get("extra_info", {}):
        yield node["extra_info"]["Table"], node["rows_scanned"]
    for child in node.get("children", []):
        yield from _scans(child)
