"""History imported with `viewtrail import-snapshots` (W-foundation's CLI) builds into hand-computed marts.

End to end through the real command: CSV -> raw.snapshots/registry -> dbt build -> marts.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from dbt_support import dbt, query
from typer.testing import CliRunner

pytestmark = pytest.mark.slow

HISTORY_CSV = """url,observed_at,views,likes,comments,shares,saves,account
https://www.youtube.com/watch?v=dQw4w9WgXcQ,2024-05-01T06:00:00,1000,100,10,,,
https://www.youtube.com/watch?v=dQw4w9WgXcQ,2024-05-03T06:00:00,1480,148,14,,,
https://www.tiktok.com/@scout2015/video/6718335390845095173,2024-05-01T14:00:00+02:00,500,50,5,5,5,scout2015
https://www.tiktok.com/@scout2015/video/6718335390845095173,2024-05-02T00:00:00,800,80,8,8,,scout2015
https://www.tiktok.com/@scout2015/video/6718335390845095173,2024-05-02T12:00:00,600,90,9,9,9,scout2015
"""


def test_imported_history_builds_hand_computed_marts(warehouse_path: Path, tmp_path: Path) -> None:
    from viewtrail.cli import app

    csv = tmp_path / "history.csv"
    csv.write_text(HISTORY_CSV)
    result = CliRunner().invoke(app, ["import-snapshots", str(csv)])
    assert result.exit_code == 0, result.output
    # (the TikTok row at 14:00+02:00 is 12:00 UTC: the expectations below rely on the import converting it)

    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)

    daily = query(
        warehouse_path,
        "select video_id, day, views, likes, saves, views_gained, observations, is_interpolated"
        " from marts.video_daily order by video_id, day",
    )
    assert daily == [
        # 00:00 on May 2 is exactly May 1's end; saves hidden in that snapshot -> unknown that day
        ("tiktok:6718335390845095173", date(2024, 5, 1), 800, 80, None, None, 1, False),
        # the platform removed 200 views: a negative gain, kept
        ("tiktok:6718335390845095173", date(2024, 5, 2), 600, 90, 9, -200, 2, False),
        # 1000 -> 1480 over 48 h = 10 views/hour: May 1 ends 18 h in, May 2 42 h in
        ("youtube:dQw4w9WgXcQ", date(2024, 5, 1), 1180, 118, None, None, 1, False),
        ("youtube:dQw4w9WgXcQ", date(2024, 5, 2), 1420, 142, None, 240, 0, True),
        ("youtube:dQw4w9WgXcQ", date(2024, 5, 3), 1480, 148, None, 60, 1, False),
    ]

    engagement = query(
        warehouse_path,
        "select video_id, day, engagements, engagement_rate from marts.video_engagement order by video_id, day",
    )
    assert engagement == [
        ("tiktok:6718335390845095173", date(2024, 5, 1), 80 + 8 + 8, (80 + 8 + 8) / 800),
        ("tiktok:6718335390845095173", date(2024, 5, 2), 90 + 9 + 9 + 9, 117 / 600),
        # YouTube has no shares or saves: likes + comments
        ("youtube:dQw4w9WgXcQ", date(2024, 5, 1), 118 + 12, (118 + 12) / 1180),
        ("youtube:dQw4w9WgXcQ", date(2024, 5, 2), 142 + 14, (142 + 14) / 1420),
        ("youtube:dQw4w9WgXcQ", date(2024, 5, 3), 148 + 14, (148 + 14) / 1480),
    ]

    latest = query(
        warehouse_path,
        "select video_id, platform, account, is_registered, status, views, snapshot_count, first_observed_at"
        " from marts.video_latest order by video_id",
    )
    # imported videos are registered but not tracked (no --track): not scraped, history kept
    assert latest == [
        ("tiktok:6718335390845095173", "tiktok", "scout2015", True, "stopped", 600, 3, datetime(2024, 5, 1, 12)),
        ("youtube:dQw4w9WgXcQ", "youtube", None, True, "stopped", 1480, 2, datetime(2024, 5, 1, 6)),
    ]
