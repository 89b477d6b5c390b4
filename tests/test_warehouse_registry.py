"""Registry API: track_refs insert-or-update, untrack, delete_videos, pending links, validation."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.models import Platform
from viewtrail.domain.urls import parse_video_url
from viewtrail.warehouse import (
    TrackOutcome,
    add_pending_link,
    delete_videos,
    list_videos,
    open_warehouse,
    track_refs,
    untrack,
    validate_cadence,
    validate_metadata,
)

YT = parse_video_url("https://youtu.be/dQw4w9WgXcQ")
TT = parse_video_url("https://www.tiktok.com/@bob/video/7234567890123456789")
NOW = datetime(2026, 11, 1, 12)


def outcomes(results):
    return [(r.video_id, r.outcome) for r in results]


def test_track_refs_created_updated_resumed_never_duplicates(warehouse_path):
    with open_warehouse(warehouse_path) as con:
        assert outcomes(track_refs(con, [YT, TT, YT], now=NOW)) == [
            (YT.video_id, TrackOutcome.CREATED),
            (TT.video_id, TrackOutcome.CREATED),
        ]
        assert outcomes(track_refs(con, [YT], cadence=12, now=NOW)) == [(YT.video_id, TrackOutcome.UPDATED)]
        assert untrack(con, [YT.video_id, "x:1"], now=NOW) == {YT.video_id: "stopped", "x:1": "unknown"}
        assert untrack(con, [YT.video_id], now=NOW) == {YT.video_id: "already stopped"}
        assert outcomes(track_refs(con, [YT, TT], now=NOW)) == [
            (YT.video_id, TrackOutcome.RESUMED),
            (TT.video_id, TrackOutcome.UPDATED),
        ]
        frame = list_videos(con)
        assert frame.height == 2
        assert frame.filter(frame["video_id"] == YT.video_id)["cadence"].to_list() == ["12"]  # kept when not given


def test_resuming_an_expired_video_clears_its_end_date(warehouse_path):
    with open_warehouse(warehouse_path) as con:
        track_refs(con, [YT], days=1, now=NOW)
        untrack(con, [YT.video_id], now=NOW + timedelta(days=3))
        track_refs(con, [YT], now=NOW + timedelta(days=4))
        assert con.sql("SELECT is_active, track_until FROM registry.videos").fetchall() == [(True, None)]
        track_refs(con, [YT], days=2, now=NOW + timedelta(days=4))
        assert con.sql("SELECT track_until FROM registry.videos").fetchall() == [(NOW + timedelta(days=6),)]


def test_delete_removes_video_snapshots_attempts_only_for_that_video(warehouse_path):
    with open_warehouse(warehouse_path) as con:
        track_refs(con, [YT, TT], now=NOW)
        for vid in (YT.video_id, TT.video_id):
            con.execute(
                "INSERT INTO raw.snapshots (video_id, observed_at, views, source, ingested_at) "
                "VALUES (?, ?, 1, 't', ?)",
                [vid, NOW, NOW],
            )
        assert delete_videos(con, [YT.video_id, "x:9"]) == {YT.video_id: 1, "x:9": None}
        assert con.sql("SELECT video_id FROM raw.snapshots").fetchall() == [(TT.video_id,)]
        assert con.sql("SELECT video_id FROM registry.videos").fetchall() == [(TT.video_id,)]


def test_pending_link_is_stored_once_and_updated(warehouse_path):
    with open_warehouse(warehouse_path) as con:
        assert add_pending_link(con, "https://vm.tiktok.com/ZMa/", Platform.TIKTOK, "offline", labels=["a"]) is True
        assert add_pending_link(con, "https://vm.tiktok.com/ZMa/", Platform.TIKTOK, "later", cadence=3) is False
        assert con.sql("SELECT note, cadence, labels FROM registry.pending_links").fetchall() == [("later", "3", [])]


@pytest.mark.parametrize("bad", ["0", "721", "-1", "1.5", "daily", ""])
def test_invalid_cadences(bad):
    with pytest.raises(InvalidInputError, match="auto"):
        validate_cadence(bad)


def test_valid_cadences_and_metadata_limits():
    assert [validate_cadence(v) for v in ("auto", "AUTO", 1, "720", " 24 ")] == ["auto", "auto", "1", "720", "24"]
    assert validate_metadata({f"k{i}": "v" * 255 for i in range(20)})
    with pytest.raises(InvalidInputError, match="at most 20"):
        validate_metadata({f"k{i}": "v" for i in range(21)})
    with pytest.raises(InvalidInputError, match="255"):
        validate_metadata({"k": "v" * 256})


def test_invalid_days_and_metadata_refused_before_writing(warehouse_path):
    with open_warehouse(warehouse_path) as con:
        with pytest.raises(InvalidInputError, match="above 0"):
            track_refs(con, [YT], days=0)
        with pytest.raises(InvalidInputError):
            track_refs(con, [YT], metadata={"k": "x" * 300})
        assert con.sql("SELECT count(*) FROM registry.videos").fetchall() == [(0,)]
