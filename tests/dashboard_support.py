"""Helpers for the dashboard tests (no tests here): a published warehouse of a few videos with known numbers."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from dbt_support import connect, create_warehouse, dbt, insert_snapshots, register_videos

#: The tests' "now": the pages compute their periods from it (the clock is pinned to it).
NOW = datetime(2026, 11, 10, 14, 30)
RICK = "youtube:dQw4w9WgXcQ"
LAUNCH = "tiktok:7300000000000000042"
QUIET = "x:1790000000000000000"
INBOX = "tiktok:7300000000000000099"


def publish_videos(data: Path) -> None:
    """Three videos: RICK (label launch) observed daily at noon for 20 days, +1,000 views a day from 10,000, two
    of those days missing (interpolated); LAUNCH (label launch) hourly over its last 2 days up to now, the running
    day partial; QUIET (no label) twice, long ago. Built with dbt and published as the analyst copy."""
    from viewtrail.pipeline.publish import publish
    from viewtrail.warehouse import open_warehouse

    warehouse = data / "warehouse.duckdb"
    create_warehouse(warehouse)
    register_videos(
        warehouse,
        [
            {"video_id": RICK, "account": "rick", "labels": ["launch"], "posted_at": NOW - timedelta(days=30)},
            {
                "video_id": LAUNCH,
                "account": "ana.cooks",
                "labels": ["launch", "food"],
                "posted_at": NOW - timedelta(days=2),
            },
            {"video_id": QUIET, "account": "bob", "posted_at": NOW - timedelta(days=200)},
        ],
    )
    start = (NOW - timedelta(days=19)).replace(hour=12, minute=0)
    rows = []
    for n in range(20):
        if n in (5, 6):
            continue
        views = 10_000 + 1_000 * n
        rows.append((RICK, start + timedelta(days=n), views, views // 10, views // 100, 5, 1, "rick"))
    first = (NOW - timedelta(days=2)).replace(minute=0)
    for hour in range(1, 49):
        at = first + timedelta(hours=hour)
        if at > NOW:
            break
        rows.append((LAUNCH, at, 500 * hour, 25 * hour, 2 * hour, hour, 0, "ana.cooks"))
    rows += [
        (QUIET, NOW - timedelta(days=200), 100, 1, 0, 0, 0, "bob"),
        (QUIET, NOW - timedelta(days=199), 150, 2, 0, 0, 0, "bob"),
    ]
    insert_snapshots(warehouse, rows)
    # scrape attempts: TikTok 3 ok and 1 blocked (a challenge page) in the last 24 h; YouTube's last one 30 h ago
    attempts = [(LAUNCH, "tiktok", NOW - timedelta(hours=h), "ok", 200, None, "tiktok_web") for h in (3, 2, 1)] + [
        (LAUNCH, "tiktok", NOW - timedelta(minutes=90), "blocked", 403, "challenge page not solved", "tiktok_web"),
        (RICK, "youtube", NOW - timedelta(hours=30), "ok", 200, None, "youtube_api"),
    ]
    with connect(warehouse) as con:
        con.executemany(
            "INSERT INTO raw.scrape_attempts (video_id, platform, attempted_at, outcome, http_status, detail,"
            " duration_ms, tries, source) VALUES (?, ?, ?, ?, ?, ?, 120.0, 1, ?)",
            attempts,
        )
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse)
    with open_warehouse(warehouse) as con:
        publish(con, analytics_path=data / "analytics.duckdb", export_dir=data / "marts")


SLACK_SECRET = "T000SECRET/B000SECRET/XXXXSECRETXXXX"
#: When the fixture's alert happened: hours before the evaluation that fired it (NOW - 2 days).
ALERT_OCCURRED = NOW - timedelta(days=2, hours=5)


def publish_everything(data: Path) -> None:
    """:func:`publish_videos`, plus an alert channel whose URL holds a secret, a milestone rule on the label launch
    and one fired event for RICK, then the watched accounts and creators of ``publish_watched_accounts``
    (which builds their marts and publishes the analyst copy again)."""
    from functools import partial

    from api_support import publish_watched_accounts

    from viewtrail.app.alert_rules import RuleRequest, add_channel, add_rule
    from viewtrail.warehouse import open_warehouse

    publish_videos(data)
    warehouse = data / "warehouse.duckdb"
    opener = partial(open_warehouse, warehouse)
    add_channel("team", f"slack://{SLACK_SECRET}", open_warehouse=opener)
    rule = add_rule(
        RuleRequest(kind="milestone", labels=["launch"], thresholds=["20k"], channels=["team"]),
        open_warehouse=opener,
        today=NOW.date(),
    )
    with connect(warehouse) as con:
        con.execute(
            "INSERT INTO raw.alert_events VALUES ('ev1', 'milestone:rick:20000', ?, 'milestone', '20000', ?, ?, NULL,"
            " NULL, 'youtube', '{}', ?, ?, ?)",
            [
                rule.rule_id,
                RICK,
                RICK,
                "Rick passed 20,000 views\nmore details",
                ALERT_OCCURRED,
                NOW - timedelta(days=2),
            ],
        )
        con.execute(
            "INSERT INTO raw.alert_deliveries VALUES ('ev1', 'team', 'delivered', 1, ?, NULL, ?, NULL)",
            [NOW - timedelta(days=2), NOW - timedelta(days=2)],
        )
    publish_watched_accounts(data)
    # a video discovered on tiktok:nasa (watched with review) waiting in the inbox
    from viewtrail.pipeline.publish import publish

    with open_warehouse(warehouse) as con:
        con.execute(
            "INSERT INTO registry.inbox VALUES (?, 'tiktok:nasa', 'tiktok', ?, ?, 'Moon walk', ?, 'pending', NULL)",
            [INBOX, f"https://www.tiktok.com/@nasa/video/{INBOX.split(':')[1]}", NOW - timedelta(days=1), NOW],
        )
        publish(con, analytics_path=data / "analytics.duckdb", export_dir=data / "marts")
