"""The account and creator marts on a small hand-made warehouse: every number below is computed by hand."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from dbt_support import (
    connect,
    create_warehouse,
    dbt,
    insert_account_snapshots,
    insert_snapshots,
    query,
    register_accounts,
    register_creator,
    register_videos,
)

pytestmark = pytest.mark.slow

d = datetime
BUILD = ("build", "--exclude-resource-type", "unit_test")
ACCOUNT_MARTS = ["account_metrics_daily", "account_daily", "account_latest", "creator_daily", "creator_latest"]


def _scenario(path: Path) -> None:
    """Creator ana: a TikTok account (3 videos, one of them tracked by hand under the handle "Ana") and a YouTube
    channel watched by its channel id (handle unknown, followers hidden on the first observation). An Instagram
    account with 0 followers belongs to no creator."""
    create_warehouse(path)
    register_accounts(
        path,
        [
            {"account_id": "tiktok:ana", "handle": "ana"},
            {"account_id": "youtube:ucana", "handle": None, "platform_account_id": "UCana"},
            {"account_id": "instagram:solo", "handle": "solo", "discovery": "off"},
        ],
    )
    register_creator(path, "ana", "Ana", ["tiktok:ana", "youtube:ucana"])
    register_videos(
        path,
        [
            {
                "video_id": "tiktok:t1",
                "account": "ana",
                "account_id": "tiktok:ana",
                "source": "discovered",
                "posted_at": d(2024, 1, 1, 8),
            },
            # tracked by hand: no account_id, the handle matches the watched account (case-insensitively)
            {"video_id": "tiktok:t2", "account": "Ana", "posted_at": d(2024, 1, 2, 6)},
            {
                "video_id": "tiktok:t3",
                "account": "ana",
                "account_id": "tiktok:ana",
                "source": "discovered",
                "posted_at": d(2024, 1, 3, 1),
            },
            {
                "video_id": "youtube:y1",
                "account": "AnaTube",
                "account_id": "youtube:ucana",
                "source": "discovered",
                "posted_at": d(2023, 12, 31, 20),
            },
            {"video_id": "instagram:i1", "account": "solo", "posted_at": d(2024, 1, 3, 0)},
        ],
    )
    insert_snapshots(
        path,
        [
            # video_id, observed_at, views, likes, comments, shares, saves: engagements = likes (+ comments)
            ("tiktok:t1", d(2024, 1, 1, 12), 100, 10, 0, 0, 0),
            ("tiktok:t1", d(2024, 1, 2, 12), 300, 30, 0, 0, 0),
            ("tiktok:t1", d(2024, 1, 3, 12), 500, 50, 0, 0, 0),
            ("tiktok:t2", d(2024, 1, 2, 12), 1000, 100, 0, 0, 0),
            ("tiktok:t2", d(2024, 1, 3, 12), 1000, 100, 0, 0, 0),
            ("tiktok:t3", d(2024, 1, 3, 12), 2000, 200, 0, 0, 0),
            ("youtube:y1", d(2024, 1, 2, 12), 4000, 40, 10, None, None),
            ("youtube:y1", d(2024, 1, 3, 12), 6000, 60, 20, None, None),
            ("instagram:i1", d(2024, 1, 3, 6), 50, 5, 0, None, None),
        ],
    )
    insert_account_snapshots(
        path,
        [
            # account_id, observed_at, followers, following, likes, video_count, views
            ("tiktok:ana", d(2024, 1, 1, 12), 1000, 10, 5000, 40),
            # two days without an account snapshot: Jan 1 and Jan 2 end 12 h and 36 h into the 48 h gap
            ("tiktok:ana", d(2024, 1, 3, 12), 1480, 10, 5480, 42),
            ("youtube:ucana", d(2024, 1, 2, 12), None, None, None, 12, 90000),
            ("youtube:ucana", d(2024, 1, 3, 12), 800, None, None, 13, 96000),
            ("instagram:solo", d(2024, 1, 3, 0), 0, 3, None, 1),
        ],
        ingested_at=d(2024, 1, 3, 13),
    )
    with connect(path) as con:
        con.execute(
            "INSERT INTO raw.account_attempts (account_id, platform, attempted_at, outcome, tries, source,"
            " videos_listed, videos_new) VALUES ('tiktok:ana', 'tiktok', ?, 'ok', 1, 'test', 3, 1),"
            " ('tiktok:ana', 'tiktok', ?, 'rate_limited', 3, 'test', NULL, NULL)",
            [d(2024, 1, 3, 12), d(2024, 1, 3, 18)],
        )


def test_account_and_creator_marts_by_hand(warehouse_path: Path) -> None:
    _scenario(warehouse_path)
    dbt(*BUILD, warehouse=warehouse_path, tests="all")

    metrics = query(
        warehouse_path,
        "select account_id, day, followers, followers_gained, video_count, views, observations, is_interpolated"
        " from marts.account_metrics_daily order by all",
    )
    assert metrics == [
        ("instagram:solo", date(2024, 1, 3), 0, None, 1, None, 1, False),
        # 480 followers over 48 h: 1000 + 120 at the end of Jan 1, + 240 more by the end of Jan 2
        ("tiktok:ana", date(2024, 1, 1), 1120, None, 41, None, 1, False),
        ("tiktok:ana", date(2024, 1, 2), 1360, 240, 42, None, 0, True),
        ("tiktok:ana", date(2024, 1, 3), 1480, 120, 42, None, 1, False),
        # hidden followers bracket Jan 2: unknown, not 0
        ("youtube:ucana", date(2024, 1, 2), None, None, 13, 93000, 1, False),
        ("youtube:ucana", date(2024, 1, 3), 800, None, 13, 96000, 1, False),
    ]

    account_daily = query(
        warehouse_path,
        "select account_id, platform, account, day, videos, views, engagements, followers,"
        " engagement_rate_by_followers from marts.account_daily order by all",
    )
    assert account_daily == [
        # 0 followers: the rate is null, not infinite
        ("instagram:solo", "instagram", "solo", date(2024, 1, 3), 1, 50, 5, 0, None),
        ("tiktok:ana", "tiktok", "ana", date(2024, 1, 1), 1, 200, 20, 1120, 20 / 1120),
        # t2's handle "Ana" is the same account
        ("tiktok:ana", "tiktok", "ana", date(2024, 1, 2), 2, 1400, 140, 1360, 140 / 1360),
        ("tiktok:ana", "tiktok", "ana", date(2024, 1, 3), 3, 3500, 350, 1480, 350 / 1480),
        # the channel's handle is not known yet: its videos' handle names it; YouTube engagements = likes + comments
        ("youtube:ucana", "youtube", "AnaTube", date(2024, 1, 2), 1, 5000, 65, None, None),
        ("youtube:ucana", "youtube", "AnaTube", date(2024, 1, 3), 1, 6000, 80, 800, 0.1),
    ]

    creator_daily = query(
        warehouse_path,
        "select creator_id, day, accounts, videos, videos_posted, views, engagements, followers,"
        " engagement_rate_by_followers, views_share_tiktok, views_share_youtube, views_share_instagram,"
        " followers_share_tiktok, followers_share_youtube from marts.creator_daily order by all",
    )
    assert creator_daily == [
        # only y1's posting day
        ("ana", date(2023, 12, 31), 1, 0, 1, None, None, None, None, None, None, None, None, None),
        ("ana", date(2024, 1, 1), 1, 1, 1, 200, 20, 1120, 20 / 1120, 1.0, None, None, 1.0, None),
        # the rate only over accounts with known followers: TikTok's 140 / 1360
        ("ana", date(2024, 1, 2), 2, 3, 1, 6400, 205, 1360, 140 / 1360, 1400 / 6400, 5000 / 6400, None, 1.0, None),
        (
            "ana",
            date(2024, 1, 3),
            2,
            4,
            1,
            9500,
            430,
            2280,
            430 / 2280,
            3500 / 9500,
            6000 / 9500,
            None,
            1480 / 2280,
            800 / 2280,
        ),
    ]

    creator_latest = query(
        warehouse_path,
        "select creator_id, name, accounts, platforms, videos, views, engagements, followers, posts_per_week,"
        " views_share_tiktok, followers_share_youtube from marts.creator_latest",
    )
    assert creator_latest == [
        ("ana", "Ana", 2, ["tiktok", "youtube"], 4, 9500, 430, 2280, 1.0, 3500 / 9500, 800 / 2280),
    ]

    account_latest = query(
        warehouse_path,
        "select account_id, account, is_watched, creator_ids, followers, video_count, tracked_videos,"
        " tracked_video_views, videos_with_views, median_video_views, posts_per_week, last_outcome,"
        " consecutive_failures from marts.account_latest order by account_id",
    )
    assert account_latest == [
        # linked to no creator
        ("instagram:solo", "solo", True, [], 0, 1, 1, 50, 1, None, 0.25, None, 0),
        # 3 videos posted in the 28 days up to Jan 3 12:00; median(500, 1000, 2000)
        ("tiktok:ana", "ana", True, ["ana"], 1480, 42, 3, 3500, 3, 1000.0, 0.75, "rate_limited", 1),
        ("youtube:ucana", "AnaTube", True, ["ana"], 800, 13, 1, 6000, 1, None, 0.25, None, 0),
    ]

    # video_growth's outlier_multiplier is views / account_latest.median_video_views
    outliers = query(
        warehouse_path,
        "select g.video_id, g.outlier_multiplier, g.views / a.median_video_views from marts.video_growth as g"
        " join marts.account_latest as a using (account_id) where g.account_id = 'tiktok:ana' order by all",
    )
    assert outliers == [("tiktok:t1", 0.5, 0.5), ("tiktok:t2", 1.0, 1.0), ("tiktok:t3", 2.0, 2.0)]


def _mart_rows(path: Path, table: str) -> list[tuple]:
    exclude = " exclude (snapshots_ingested_through)" if table == "account_metrics_daily" else ""
    return query(path, f"select *{exclude} from marts.{table} order by all")


def test_account_metrics_daily_incremental_builds_equal_a_full_refresh(warehouse_path: Path) -> None:
    _scenario(warehouse_path)
    dbt(*BUILD, warehouse=warehouse_path)
    # a late snapshot inside the gap (re-interpolates Jan 1 and 2), a new latest one, and a new account
    insert_account_snapshots(
        warehouse_path,
        [
            ("tiktok:ana", d(2024, 1, 2, 12), 1100, 10, 5100, 41),
            ("tiktok:ana", d(2024, 1, 5, 12), 1600, 11, 6000, 43),
            ("x:new", d(2024, 1, 4, 6), 70),
        ],
        ingested_at=d(2024, 1, 5, 13),
    )
    dbt(*BUILD, warehouse=warehouse_path)
    incremental = {table: _mart_rows(warehouse_path, table) for table in ACCOUNT_MARTS}
    followers = query(
        warehouse_path,
        "select day, followers, is_interpolated from marts.account_metrics_daily"
        " where account_id = 'tiktok:ana' order by day",
    )
    assert followers == [
        (date(2024, 1, 1), 1050, False),
        (date(2024, 1, 2), 1290, False),
        (date(2024, 1, 3), 1510, False),
        (date(2024, 1, 4), 1570, True),
        (date(2024, 1, 5), 1600, False),
    ]
    dbt(*BUILD, "--full-refresh", warehouse=warehouse_path)
    assert incremental == {table: _mart_rows(warehouse_path, table) for table in ACCOUNT_MARTS}
