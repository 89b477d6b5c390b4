"""Before the first build: every read of the marts answers empty, so the API, the reports and the sensors run on a
warehouse or analyst copy that dbt has not built yet (the sensors then skip; the report says to run a build)."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from viewtrail.warehouse import marts

READS = {
    "video_heading": lambda con: marts.video_heading(con, "tiktok:1"),
    "last_video_days": lambda con: marts.last_video_days(con, "tiktok:1", 14),
    "count_videos_observed": lambda con: marts.count_videos_observed(con, at_least=24),
    "growing_videos": lambda con: marts.growing_videos(
        con, as_of=datetime(2026, 1, 1), ranking=marts.GrowthRanking.FASTEST, limit=10
    ),
    "failing_videos": lambda con: marts.failing_videos(con, ["timeout"]),
    "active_growth_rates": marts.active_growth_rates,
    "account_latest": lambda con: marts.account_latest(con, ["tiktok:nasa"]),
    "creator_latest": lambda con: marts.creator_latest(con, ["space-agency"]),
    "top_creators": lambda con: marts.top_creators(con, 5),
    "totals_days": lambda con: marts.totals_days(con, start=date(2026, 1, 1), end=date(2026, 1, 31)),
    "top_videos": lambda con: marts.top_videos(con, start=date(2026, 1, 1), end=date(2026, 1, 31), limit=10),
    "video_table": lambda con: marts.video_table(con, marts.VideoFilter(search="x"))[0],
    "search_videos": lambda con: marts.search_videos(con, "x"),
    "campaign_totals": marts.campaign_totals,
    "video_payouts": lambda con: marts.video_payouts(con, campaign_id="spring"),
    "creator_payouts": lambda con: marts.creator_payouts(con, creator_id="ana"),
    "goal_statuses": marts.goal_statuses,
    "overposting_days": marts.overposting_days,
}


@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_every_read_answers_empty_before_the_first_build(read) -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    assert not read(con)


def test_the_report_shows_days_without_a_rate_when_the_engagement_mart_is_missing() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.video_daily AS SELECT 'tiktok:1' AS video_id, DATE '2026-01-02' - i::INTEGER AS day, 10 * i AS views,"
        " 1 AS views_gained, 0 AS likes, 0 AS comments, 0 AS shares, 0 AS saves, 2 AS observations,"
        " false AS is_interpolated FROM range(5) t(i)"
    )
    days = marts.last_video_days(con, "tiktok:1", 3)
    assert [d.day.isoformat() for d in days] == ["2025-12-31", "2026-01-01", "2026-01-02"]
    assert [d.engagement_rate for d in days] == [None, None, None]


def test_failing_videos_come_by_video_id_whatever_the_table_order() -> None:
    # the retry sensor's run key digests them in this order: the same failures must give the same key
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.video_latest (video_id TEXT, is_active BOOLEAN, availability TEXT, last_outcome TEXT,"
        " last_attempt_at TIMESTAMP, consecutive_failures INTEGER)"
    )
    for video_id in ("x:3", "tiktok:2", "youtube:1", "instagram:4"):
        con.execute(
            "INSERT INTO marts.video_latest VALUES (?, true, 'available', 'timeout', TIMESTAMP '2026-01-01', 1)",
            [video_id],
        )
    assert [v.video_id for v in marts.failing_videos(con, ["timeout"])] == [
        "instagram:4",
        "tiktok:2",
        "x:3",
        "youtube:1",
    ]


def test_tracking_counts_are_zero_before_the_first_build() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    assert marts.tracking_counts(con) == marts.TrackingCounts(0, 0, 0)
    assert marts.video_table(con, marts.VideoFilter()) == ([], 0)
    assert marts.posting_activity(con, start=date(2026, 1, 1), end=date(2026, 1, 31)) == marts.PostingActivity([], {})
