"""Which videos a partition scrapes: cadence table, even spread, transient retries, tracking limits."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from viewtrail.domain.models import Attempt, Observation, Outcome, Platform, ScrapeResult
from viewtrail.planning.scheduling import (
    DEFAULT_AUTO_CADENCE,
    VideoSchedule,
    advance,
    auto_cadence_hours,
    cadence_hours,
    due_videos,
    hours_in,
    is_due,
    observe_offset,
    parse_cadence,
)

H0 = datetime(2026, 11, 2, 0, 0)


def video(n: int = 0, **kw) -> VideoSchedule:
    base = dict(
        video_id=f"youtube:vid{n:05d}",
        platform=Platform.YOUTUBE,
        external_id=f"vid{n:05d}",
        url=f"https://www.youtube.com/watch?v=vid{n:05d}",
        account=None,
        is_active=True,
        availability="available",
        cadence="auto",
        track_until=None,
        posted_at=H0 - timedelta(days=60),
        added_at=H0 - timedelta(days=60),
        last_attempt_at=H0 - timedelta(days=1),
        last_outcome="ok",
    )
    base.update(kw)
    return VideoSchedule(**base)


def due_hours(v: VideoSchedule, hours: int) -> list[datetime]:
    return [h for h in hours_in(H0, H0 + timedelta(hours=hours)) if is_due(v, h)]


@pytest.mark.parametrize(
    ("age_hours", "every"),
    [(0, 1), (47.9, 1), (48, 6), (7 * 24 - 1, 6), (7 * 24, 24), (30 * 24 - 1, 24), (30 * 24, 168), (5000, 168)],
)
def test_auto_cadence_table(age_hours, every):
    assert auto_cadence_hours(age_hours) == every


def test_auto_cadence_table_is_configurable():
    table = ((24, 2), (None, 12))
    assert auto_cadence_hours(3, table) == 2 and auto_cadence_hours(30, table) == 12
    assert cadence_hours(video(posted_at=H0 - timedelta(hours=30)), H0, table) == 12


def test_unknown_posted_at_counts_age_from_when_tracking_started():
    fresh = video(posted_at=None, added_at=H0 - timedelta(hours=3))
    assert cadence_hours(fresh, H0) == 1
    old = video(posted_at=None, added_at=H0 - timedelta(days=10))
    assert cadence_hours(old, H0) == 24


def test_new_video_is_due_every_hour_then_every_six_hours():
    young = video(posted_at=H0 - timedelta(hours=1))
    assert len(due_hours(young, 24)) == 24
    four_days = video(posted_at=H0 - timedelta(days=4))
    hits = due_hours(four_days, 48)
    assert len(hits) == 8
    assert all((b - a) == timedelta(hours=6) for a, b in zip(hits, hits[1:], strict=False))


def test_weekly_video_scraped_once_a_week():
    assert len(due_hours(video(), 24 * 14)) == 2


def test_fixed_cadence():
    v = video(cadence="12")
    hits = due_hours(v, 48)
    assert len(hits) == 4 and hits[1] - hits[0] == timedelta(hours=12)


def test_daily_videos_are_spread_over_the_hours_not_all_at_midnight():
    videos = [video(n, posted_at=H0 - timedelta(days=10)) for n in range(2400)]
    per_hour = Counter()
    for h in hours_in(H0, H0 + timedelta(hours=24)):
        per_hour[h.hour] = len(due_videos(videos, h))
    assert sum(per_hour.values()) == 2400  # each daily video exactly once a day
    assert max(per_hour.values()) < 2 * (2400 / 24)  # no thundering herd
    assert min(per_hour.values()) > 0.5 * (2400 / 24)


def test_never_scraped_video_is_due_now():
    v = video(last_attempt_at=None, last_outcome=None)
    assert is_due(v, H0 + timedelta(hours=5))


@pytest.mark.parametrize("outcome", ["rate_limited", "timeout", "upstream_error", "blocked", "quota_exhausted"])
def test_transient_failure_is_due_next_hour(outcome):
    v = video(last_attempt_at=H0 - timedelta(minutes=20), last_outcome=outcome)
    assert is_due(v, H0)


def test_permanent_outcome_waits_for_its_slot():
    v = video(last_attempt_at=H0 - timedelta(minutes=20), last_outcome="private")
    assert len(due_hours(v, 24 * 7)) == 1


@pytest.mark.parametrize(
    "change",
    [
        dict(is_active=False),
        dict(availability="unavailable"),
        dict(track_until=H0),
        dict(track_until=H0 - timedelta(days=1)),
    ],
)
def test_untracked_videos_are_never_due(change):
    v = video(last_attempt_at=None, last_outcome=None, **change)
    assert not due_hours(v, 48)


def test_track_until_later_keeps_scraping():
    v = video(last_attempt_at=None, last_outcome=None, track_until=H0 + timedelta(hours=2))
    assert is_due(v, H0) and not is_due(v, H0 + timedelta(hours=2))


def test_bad_cadence_values_are_rejected_with_the_value_named():
    assert parse_cadence("auto") is None and parse_cadence("24") == 24
    for bad in ("0", "721", "daily"):
        with pytest.raises(ValueError, match=bad):
            parse_cadence(bad)


def test_observe_offset_is_stable_and_within_the_hour():
    offsets = {observe_offset(f"x:{n}") for n in range(500)}
    assert all(timedelta(0) <= o < timedelta(hours=1) for o in offsets)
    assert len(offsets) > 400
    assert observe_offset("x:1") == observe_offset("x:1")


def _result(v: VideoSchedule, outcome: Outcome, at: datetime) -> ScrapeResult:
    attempt = Attempt(video_id=v.video_id, platform=v.platform, attempted_at=at, outcome=outcome)
    obs = None
    if outcome is Outcome.OK:
        obs = Observation(v.video_id, at, 1, 1, 1, None, None, posted_at=at - timedelta(hours=2), account="someone")
    return ScrapeResult(attempt=attempt, observation=obs)


def test_advance_mirrors_the_warehouse_write():
    v = video(posted_at=None, last_attempt_at=None, last_outcome=None)
    ok = advance(v, _result(v, Outcome.OK, H0))
    assert ok.last_attempt_at == H0 and ok.posted_at == H0 - timedelta(hours=2) and ok.account == "someone"
    gone = v
    for i in range(3):
        gone = advance(gone, _result(gone, Outcome.NOT_FOUND, H0 + timedelta(hours=i)))
    assert gone.availability == "unavailable" and not is_due(gone, H0 + timedelta(hours=5))
    failed = advance(v, _result(v, Outcome.TIMEOUT, H0 + timedelta(minutes=5)))
    assert is_due(failed, H0 + timedelta(hours=1))


def test_default_table_is_documented_order():
    bounds = [b for b, _ in DEFAULT_AUTO_CADENCE if b is not None]
    assert bounds == sorted(bounds)


def test_auto_cadence_table_from_the_environment():
    from viewtrail.domain.cadence import parse_auto_cadence

    assert parse_auto_cadence("24:1,*:12") == ((24.0, 1), (None, 12))
    for bad in ("24:1", "48:1,24:2,*:3", "x:1,*:2", "24:0,*:1"):
        with pytest.raises(ValueError, match="VIEWTRAIL_AUTO_CADENCE"):
            parse_auto_cadence(bad)


def test_geo_restricted_neither_counts_toward_unavailable_nor_resets_the_streak():
    v = video(posted_at=None, last_attempt_at=None, last_outcome=None)
    streak = advance(v, _result(v, Outcome.NOT_FOUND, H0))
    geo = advance(streak, _result(streak, Outcome.GEO_RESTRICTED, H0 + timedelta(hours=1)))
    assert geo.consecutive_not_found == 1 and geo.availability == "available"
    again = advance(geo, _result(geo, Outcome.GEO_RESTRICTED, H0 + timedelta(hours=2)))
    assert again.consecutive_not_found == 1 and again.availability == "available"
