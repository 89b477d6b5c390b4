"""The creator-program marts against raw data: payout amounts recomputed here from the raw snapshots (own
interpolation and rounding, sharing neither the marts' SQL nor the finalization's code), the balances, goal
statuses and over-posting checked against the rules of viewtrail/domain/programs.py."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

from dbt_support import dbt
from programs_support import add_creator, add_video

from viewtrail import clock
from viewtrail.domain.programs import (
    GoalMetric,
    GoalPeriod,
    PayoutTerms,
    PostedVideo,
    evaluate_goal,
    is_low_views,
    overposting_incidents,
    parse_tiers,
    single_cpm,
)
from viewtrail.warehouse import open_warehouse
from viewtrail.warehouse import programs as wp
from viewtrail.warehouse.programs import Campaign

START = datetime(2027, 3, 1)
NOW = datetime(2027, 3, 20, 6, 30)
H = timedelta(hours=1)


def history(rng: random.Random, posted_at: datetime) -> list[tuple[datetime, int]]:
    """Irregular snapshots from 1 h after posting to NOW: the views grow by a random amount each time."""
    points, at, views = [], posted_at + H, 0
    while at <= NOW:
        views += rng.randrange(0, 40_000)
        points.append((at, views))
        at += timedelta(hours=rng.choice([1, 5, 13, 29]), minutes=rng.choice([0, 17]))
    return points


def frozen_views(posted_at: datetime, points: list[tuple[datetime, int]], end: datetime) -> int | None:
    """The views at ``end`` by hand: a snapshot exactly there, else linear in time between the snapshots around it
    (the posting as 0 views), rounded half away from zero; None while no snapshot at or after ``end`` exists."""
    before = [(posted_at, 0), *[p for p in points if p[0] <= end]]
    after = [p for p in points if p[0] >= end]
    if not after:
        return None
    (t0, v0), (t1, v1) = before[-1], after[0]
    if t1 == end:
        return v1
    us = timedelta(microseconds=1)
    views = v0 + (v1 - v0) * Fraction((end - t0) // us, (t1 - t0) // us)
    return int((Decimal(views.numerator) / Decimal(views.denominator)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def amount_minor(views: int, cap: int, tiers: list[tuple[int, int]]) -> int:
    """min(views, cap) x the reached tier's rate / 1000, half up to the cent."""
    payable = min(views, cap)
    rate = max(cpm for start, cpm in tiers if payable >= start)
    return int((Decimal(payable) * rate / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_payouts_balances_goals_and_overposting_from_raw_data(warehouse_path: Path) -> None:
    rng = random.Random(22)
    posted: dict[str, tuple[datetime, list[tuple[datetime, int]], str]] = {}  # the campaign's videos
    everything = dict(posted)  # and the over-posting day's
    with open_warehouse(warehouse_path) as con:
        add_creator(con, "ana", "tiktok:ana")
        add_creator(con, "ben", "youtube:ben")
        for n in range(24):
            creator, account = (("ana", "tiktok:ana"), ("ben", "youtube:ben"))[n % 2]
            posted_at = START + timedelta(hours=rng.randrange(0, 14 * 24), minutes=rng.randrange(60))
            points = history(rng, posted_at)
            video_id = f"{account.split(':')[0]}:{n}"
            add_video(con, video_id, account_id=account, posted_at=posted_at, snapshots=points)
            posted[video_id] = everything[video_id] = (posted_at, points, creator)
        # over-posting: ana posts 7 on 2027-03-18, two of them stuck under 100 views 3 h later
        for n in range(7):
            at = datetime(2027, 3, 18, 8 + n)
            add_video(con, f"tiktok:op{n}", account_id="tiktok:ana", posted_at=at, snapshots=[(at + 3 * H, 98 + n)])
            everything[f"tiktok:op{n}"] = (at, [(at + 3 * H, 98 + n)], "ana")
        for campaign_id, parent in (("spring", None), ("spring-tiktok", "spring")):
            wp.create_campaign(
                con, Campaign(campaign_id, campaign_id, parent, None, None, 10**7, None, None), now=START
            )
        wp.add_members(con, "spring", "creator", ["ben"], now=START)
        wp.add_members(con, "spring-tiktok", "account", ["tiktok:ana"], now=START)
        base = PayoutTerms("USD", parse_tiers("0:20,100000:40,500000:60"), 1_000_000)
        wp.add_terms(con, "spring", base, creator_id=None, effective_from=START, now=START)
        override = PayoutTerms("USD", single_cpm(50), 500_000, window_hours=72)
        wp.add_terms(con, "spring-tiktok", override, creator_id="ana", effective_from=START, now=START)
        wp.add_goal(
            con, "ana", GoalMetric.POSTS, GoalPeriod.WEEK, 6, starts_on=date(2027, 3, 1), ends_on=None, now=START
        )
        wp.add_goal(
            con, "ben", GoalMetric.POSTS, GoalPeriod.WEEK, 9, starts_on=date(2027, 3, 1), ends_on=None, now=START
        )
        with clock.pinned(NOW):
            summary = wp.finalize_payouts(con, now=NOW)
        assert summary.finalized > 10  # most windows ended; the late ones stay active
        wp.mark_paid(con, "spring", "ben", reference="TR-1", now=NOW)
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)

    with open_warehouse(warehouse_path, read_only=True) as con:
        payouts = {
            row[0]: row[1:]
            for row in con.execute(
                "SELECT video_id, campaign_id, state, amount_minor, is_interpolated FROM marts.video_payouts"
            ).fetchall()
        }
        balances = con.execute(
            "SELECT creator_id, accrued_minor, paid_minor, due_minor FROM marts.creator_payouts ORDER BY creator_id"
        ).fetchall()
        goals = con.execute(
            "SELECT creator_id, period_start, actual, status, period_in_progress, period_recently_ended"
            " FROM marts.creator_goal_status ORDER BY creator_id, period_start"
        ).fetchall()
        incidents = con.execute(
            "SELECT creator_id, day, videos, low_view_videos, is_amber FROM marts.overposting_incidents"
        ).fetchall()

    accrued = {"ana": 0, "ben": 0}
    for video_id, (posted_at, points, creator) in posted.items():
        campaign_id, state, amount, _ = payouts[video_id]
        if creator == "ana":
            window_h, cap, tiers = 72, 500_000, [(0, 50)]
        else:
            window_h, cap, tiers = 168, 1_000_000, [(0, 20), (100_000, 40), (500_000, 60)]
        assert campaign_id == ("spring-tiktok" if creator == "ana" else "spring")
        end = posted_at + timedelta(hours=window_h)
        views = frozen_views(posted_at, points, end)
        if end > NOW:
            assert (state, amount) == ("active", None), video_id
        elif views is None:
            assert (state, amount) == ("finalizing", None), video_id  # no snapshot after the end yet
        else:
            assert state == ("paid" if creator == "ben" else "finalized"), video_id
            assert amount == amount_minor(views, cap, tiers), video_id
            accrued[creator] += amount
    assert balances == [("ana", accrued["ana"], 0, accrued["ana"]), ("ben", accrued["ben"], accrued["ben"], 0)]
    assert accrued["ana"] > 0 and accrued["ben"] > 0
    assert any(row[3] for row in payouts.values())  # some windows fell between snapshots

    # goals: the mart agrees with the rules applied to the posts counted here
    for creator_id, period_start, actual, status, in_progress, recently_ended in goals:
        start = datetime.combine(period_start, datetime.min.time())
        end = start + timedelta(days=7)
        assert actual == sum(1 for at, _, c in everything.values() if c == creator_id and start <= at < end)
        rules = evaluate_goal(
            target=6 if creator_id == "ana" else 9,
            actual=actual,
            period_start=start,
            period_end=end,
            now=NOW,
            last_scraped_at=NOW,
        )
        assert status == rules.status.value, (creator_id, period_start)
        assert in_progress == ("period_in_progress" in rules.flags)
        assert recently_ended == ("period_recently_ended" in rules.flags)
    assert {status for *_, status, _, _ in goals} - {"Completed"}  # not every goal is simply met

    # over-posting: the mart finds what the rules find
    ana_posts = [
        PostedVideo(v, at.date(), is_low_views(at, points)) for v, (at, points, c) in everything.items() if c == "ana"
    ]
    (rule,) = overposting_incidents(ana_posts, today=NOW.date())
    assert incidents == [("ana", rule.day, rule.videos, rule.low_view_videos, rule.amber)]
    assert (rule.day, rule.amber) == (date(2027, 3, 18), True)
