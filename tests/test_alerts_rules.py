"""Alert rules on hand-built mart rows: each kind fires, its near miss stays quiet; dedup, cooldown, catch-up."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from viewtrail.alerts.evaluate import FiredBefore, candidates, evaluate, select_new
from viewtrail.alerts.messages import render
from viewtrail.alerts.model import AlertInputs, DayPoint, GoneStreak, HealthHour, Rule, Scope, VideoInfo, parse_count
from viewtrail.alerts.rules import build_params, build_scope, validate_rule
from viewtrail.domain.errors import InvalidInputError

D0 = date(2026, 3, 1)
T0 = datetime(2026, 3, 1)
NOW = datetime(2026, 3, 20, 12)
VID = "youtube:dQw4w9WgXcQ"


EVERYTHING = Scope()


def rule(kind: str, rule_id: int = 1, scope: Scope = EVERYTHING, cooldown: float = 24.0, **options) -> Rule:
    return Rule(rule_id, kind, scope, build_params(kind, **options), ("team",), cooldown, T0)


def video(**fields) -> VideoInfo:
    base = dict(
        video_id=VID,
        platform="youtube",
        account="acme",
        labels=("launch",),
        url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        title="Launch film",
        last_observed_at=datetime(2026, 3, 19, 23),
    )
    return VideoInfo(**{**base, **fields})


def daily(*views: int, start: date = D0) -> list[DayPoint]:
    points, previous = [], None
    for i, v in enumerate(views):
        points.append(DayPoint(start + timedelta(days=i), v, None if previous is None else v - previous))
        previous = v
    return points


def inputs(views: list[int], **video_fields) -> AlertInputs:
    v = video(**video_fields)
    points = daily(*views)
    last = datetime.combine(points[-1].day, datetime.min.time()) + timedelta(hours=23)
    v = video(**{**video_fields, "last_observed_at": video_fields.get("last_observed_at", last)})
    return AlertInputs(videos={v.video_id: v}, daily={v.video_id: points})


# --- spike ----------------------------------------------------------------------------------------------------


def test_spike_fires_when_the_rate_reaches_the_factor_times_the_baseline():
    # 2,400 views/day (100/h) for a week, then 9,000 in a day (375/h, 3.75x)
    views = [10_000 + 2_400 * i for i in range(8)]
    views.append(views[-1] + 9_000)
    found = candidates(rule("spike"), inputs(views), NOW)
    assert [c.numbers["day"] for c in found] == [(D0 + timedelta(days=8)).isoformat()]
    assert found[0].numbers["baseline_views_per_hour"] == pytest.approx(100.0)
    assert found[0].numbers["views_per_hour"] == pytest.approx(9_000 / 23, abs=0.05)  # the last day is unfinished


def test_spike_near_misses_stay_quiet():
    views = [10_000 + 2_400 * i for i in range(8)]
    below_factor = views + [views[-1] + int(2.9 * 2_400)]  # 2.9x the baseline (complete day)
    small = [100 + 24 * i for i in range(8)]
    below_floor = small + [small[-1] + 24 * 50]  # 50x the baseline, but 50 views/h < the 100/h floor
    last_complete = datetime.combine(D0 + timedelta(days=9), datetime.min.time())
    assert candidates(rule("spike"), inputs(below_factor, last_observed_at=last_complete), NOW) == []
    assert candidates(rule("spike"), inputs(below_floor, last_observed_at=last_complete), NOW) == []


def test_a_young_video_taking_off_is_a_spike():
    posted = datetime(2026, 3, 1, 10)
    found = candidates(rule("spike"), inputs([3_000, 8_000], posted_at=posted), NOW)
    assert found and found[0].numbers["baseline_views_per_hour"] == 0
    assert found[0].numbers["views_per_hour"] == pytest.approx(3_000 / 14, abs=0.05)


# --- milestone ------------------------------------------------------------------------------------------------


def test_milestone_fires_once_per_threshold_crossed():
    r = rule("milestone")
    data = inputs([8_000, 9_500, 12_000, 95_000, 130_000])
    found = candidates(r, data, NOW)
    assert [c.numbers["threshold"] for c in found] == [10_000, 100_000]
    fired = select_new(r, found, FiredBefore(), NOW)
    assert len(fired) == 2
    again = select_new(r, candidates(r, data, NOW), FiredBefore(frozenset(c.dedup_key for c in fired)), NOW)
    assert again == []


def test_milestone_near_miss_and_history_before_tracking():
    assert candidates(rule("milestone"), inputs([9_000, 9_999]), NOW) == []
    # a catalogue video first seen above 1M never "crossed" it while tracked
    assert candidates(rule("milestone"), inputs([1_500_000, 1_600_000]), NOW) == []


def test_custom_milestones():
    r = rule("milestone", thresholds=["50k", "250k"])
    assert r.params["thresholds"] == [50_000, 250_000]
    assert [c.numbers["threshold"] for c in candidates(r, inputs([40_000, 60_000]), NOW)] == [50_000]


# --- unavailable ----------------------------------------------------------------------------------------------


def test_unavailable_fires_after_two_not_found_in_a_row_and_once_per_episode():
    since = datetime(2026, 3, 10, 4)
    data = inputs([1_000, 1_100])
    data.gone = {VID: GoneStreak(VID, "not_found", since, 2)}
    r = rule("unavailable")
    found = candidates(r, data, NOW)
    assert [(c.condition, c.occurred_at) for c in found] == [("unavailable", since)]
    data.gone = {VID: GoneStreak(VID, "not_found", since, 5)}  # still the same episode later
    assert candidates(r, data, NOW)[0].dedup_key == found[0].dedup_key


def test_unavailable_near_miss_one_not_found():
    data = inputs([1_000, 1_100])
    data.gone = {VID: GoneStreak(VID, "not_found", datetime(2026, 3, 10), 1)}
    assert candidates(rule("unavailable"), data, NOW) == []


# --- stalled --------------------------------------------------------------------------------------------------


def test_stalled_fires_after_n_low_days_and_its_near_miss():
    r = rule("stalled", thresholds=["10"], days=3)
    stalled = inputs([5_000, 5_100, 5_105, 5_110, 5_112, 5_200])
    found = candidates(r, stalled, NOW)
    assert [c.numbers["views_gained"] for c in found] == [[5, 5, 2]]
    near = inputs([5_000, 5_100, 5_105, 5_110, 5_120, 5_200])  # the third day gains exactly 10
    assert candidates(r, near, NOW) == []


# --- goal -----------------------------------------------------------------------------------------------------


def test_goal_reached_and_behind():
    r = rule("goal", scope=Scope("label", ("launch",)), thresholds=["1M"], by="2026-03-31")
    reached = AlertInputs(label_daily={"launch": daily(800_000, 950_000, 1_050_000)})
    found = candidates(r, reached, NOW)
    assert [(c.condition, c.numbers["on_time"]) for c in found] == [("reached", True)]
    slow = AlertInputs(label_daily={"launch": daily(*[100_000 + 1_000 * i for i in range(10)])})
    behind = candidates(r, slow, NOW)
    assert [c.condition for c in behind] == ["behind"]
    assert behind[0].numbers["projected"] > "2026-03-31"
    on_track = AlertInputs(label_daily={"launch": daily(*[100_000 + 50_000 * i for i in range(10)])})
    assert candidates(r, on_track, NOW) == []


def test_goal_needs_a_label_or_account():
    with pytest.raises(InvalidInputError, match="label"):
        validate_rule("goal", Scope())


# --- scrape_health --------------------------------------------------------------------------------------------


def test_scrape_health_share_and_quota():
    r = rule("scrape_health", thresholds=["0.9"], hours=2)
    h = datetime(2026, 3, 20, 8)
    bad = AlertInputs(
        health=[HealthHour("tiktok", h, 20, 19, 0), HealthHour("tiktok", h + timedelta(hours=1), 20, 15, 0)]
    )
    assert [c.numbers["success_share"] for c in candidates(r, bad, NOW)] == [0.85]
    ok = AlertInputs(
        health=[HealthHour("tiktok", h, 20, 19, 0), HealthHour("tiktok", h + timedelta(hours=1), 20, 18, 0)]
    )
    assert candidates(r, ok, NOW) == []  # 37/40 = 92.5 %
    quota = AlertInputs(health=[HealthHour("youtube", h, 3, 3, 1)])
    assert [c.condition for c in candidates(r, quota, NOW)] == ["quota"]


# --- dedup, cooldown, scope, catch-up -------------------------------------------------------------------------


def test_cooldown_keeps_the_same_condition_quiet():
    h = datetime(2026, 3, 20, 0)
    r = rule("scrape_health", thresholds=["0.9"], hours=1, cooldown=6)
    health = AlertInputs(health=[HealthHour("x", h + timedelta(hours=i), 20, 10, 0) for i in range(10)])
    fired = select_new(r, candidates(r, health, NOW), FiredBefore(), NOW)
    assert [c.occurred_at.hour for c in fired] == [1, 7]  # hours 1..10 failing; every 6 h at most
    later = FiredBefore(frozenset(c.dedup_key for c in fired), {(1, "share", "platform:x"): fired[-1].occurred_at})
    assert select_new(r, candidates(r, health, NOW), later, NOW) == []


def test_rules_only_fire_for_what_happened_after_they_were_created_and_in_scope():
    views = [8_000, 9_500, 12_000]
    late = Rule(1, "milestone", Scope(), build_params("milestone"), (), 0, datetime(2026, 3, 10))
    assert evaluate([late], inputs(views), FiredBefore(), NOW) == []
    other_label = rule("milestone", scope=build_scope(labels=["other"]))
    assert evaluate([other_label], inputs(views), FiredBefore(), NOW) == []
    account = rule("milestone", scope=build_scope(accounts=["youtube:acme"]))
    assert len(evaluate([account], inputs(views), FiredBefore(), NOW)) == 1
    too_old = NOW + timedelta(days=60)
    assert evaluate([rule("milestone")], inputs(views), FiredBefore(), too_old) == []


def test_message_says_what_happened_with_numbers_link_and_label():
    found = candidates(rule("milestone"), inputs([8_000, 12_000]), NOW)[0]
    message = render(found, video())
    assert message.title == "viewtrail: Launch film crossed 10k views"
    assert "12,000 views" in message.body
    assert "https://www.youtube.com/watch?v=dQw4w9WgXcQ" in message.body
    assert "Account @acme, label launch." in message.body


def test_parameters_are_checked_with_one_sentence():
    assert parse_count("1.5M") == 1_500_000
    with pytest.raises(InvalidInputError, match="not a number"):
        build_params("milestone", thresholds=["lots"])
    with pytest.raises(InvalidInputError, match="--by"):
        build_params("goal", thresholds=["1M"])
    with pytest.raises(InvalidInputError, match="one scope"):
        build_scope(labels=["a"], platforms=["x"])
