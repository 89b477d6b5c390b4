"""The rules of creator programs at their edges: payout amounts (cap, tiers, rounding), the counting window and
what freezes there, the lifecycle, terms versions, campaign nesting, goal statuses and over-posting."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.programs import (
    FINALIZE_GRACE,
    FrozenHow,
    GoalPeriod,
    GoalStatus,
    PayoutState,
    PayoutTerms,
    PostedVideo,
    TermsVersion,
    Tier,
    campaign_videos,
    evaluate_goal,
    format_minor,
    is_low_views,
    overposting_incidents,
    parse_money,
    parse_tiers,
    payer_campaign,
    payout_minor,
    payout_state,
    period_bounds,
    single_cpm,
    terms_in_force,
    views_at,
    would_cycle,
)

T0 = datetime(2027, 3, 1, 12, 0)
H = timedelta(hours=1)


def terms(cpm: int = 50, cap: int | None = 500_000, **kw) -> PayoutTerms:
    return PayoutTerms("USD", single_cpm(cpm), cap, **kw)


# ----------------------------------------------------------------------------------------------------- amounts


def test_the_worked_example_320k_views_at_050_cpm_pay_160():
    assert payout_minor(320_000, terms()) == 16_000
    assert format_minor(16_000, "USD") == "160.00 USD"


def test_the_cap_limits_payable_views_12m_views_pay_250():
    assert payout_minor(1_200_000, terms()) == 25_000
    assert payout_minor(500_000, terms()) == payout_minor(500_001, terms()) == 25_000
    assert payout_minor(499_999, terms()) == 25_000  # 24999.95 rounds half up
    assert payout_minor(499_980, terms()) == 24_999


def test_no_cap_pays_every_view():
    assert payout_minor(1_200_000, terms(cap=None)) == 60_000


def test_rounding_is_half_up_to_the_minor_unit():
    assert payout_minor(10, terms(cpm=50)) == 1  # 0.5 -> 1
    assert payout_minor(9, terms(cpm=50)) == 0  # 0.45 -> 0
    assert payout_minor(30, terms(cpm=50)) == 2  # 1.5 -> 2
    assert payout_minor(0, terms()) == 0
    assert payout_minor(-5, terms()) == 0


def test_tiers_choose_one_rate_per_video_at_its_boundary():
    tiered = PayoutTerms("USD", parse_tiers("0:20,100000:40,500000:60"), 1_000_000)
    assert payout_minor(99_999, tiered) == 2_000  # 99,999 x 0.20 / 1000 = 19.99998 -> 20.00
    assert payout_minor(100_000, tiered) == 4_000  # the whole video at 0.40
    assert payout_minor(499_999, tiered) == 20_000
    assert payout_minor(500_000, tiered) == 30_000
    assert payout_minor(2_000_000, tiered) == 60_000  # capped at 1M views, top tier


def test_bad_terms_are_refused_with_a_sentence():
    with pytest.raises(InvalidInputError, match="start at 0"):
        PayoutTerms("USD", (Tier(10, 5),))
    with pytest.raises(InvalidInputError, match="rise strictly"):
        PayoutTerms("USD", (Tier(0, 5), Tier(0, 6)))
    with pytest.raises(InvalidInputError, match="ISO 4217"):
        terms().__class__("usd", single_cpm(5))
    with pytest.raises(InvalidInputError, match="cap"):
        terms(cap=0)
    with pytest.raises(InvalidInputError, match="not understood"):
        parse_tiers("fifty")
    with pytest.raises(InvalidInputError, match="beyond any program"):  # amounts would overflow the ledger's BIGINT
        PayoutTerms("USD", single_cpm(10**9 + 1))


def test_money_is_read_to_the_cent():
    assert parse_money("12.5") == 1250
    assert parse_money("-3") == -300
    assert parse_money("0.07") == 7
    with pytest.raises(InvalidInputError):
        parse_money("1.234")
    with pytest.raises(InvalidInputError):
        parse_money("abc")


# ----------------------------------------------------------------------------------------------- the window


END = T0 + timedelta(days=7)


def test_a_snapshot_exactly_at_the_window_end_is_observed():
    frozen = views_at(END, [(END - H, 900), (END, 1_000), (END + H, 5_000)], posted_at=T0, now=END + H)
    assert frozen is not None and (frozen.views, frozen.how) == (1_000, FrozenHow.OBSERVED)
    assert not frozen.interpolated


def test_between_snapshots_the_views_are_interpolated_in_time_and_flagged():
    frozen = views_at(END, [(END - H, 1_000), (END + 3 * H, 5_000)], posted_at=T0, now=END + 3 * H)
    assert frozen is not None and (frozen.views, frozen.how) == (2_000, FrozenHow.INTERPOLATED)
    assert frozen.interpolated


def test_views_gained_after_the_window_never_count():
    """Only the snapshots around the end matter: the views a video gains afterwards change nothing."""
    around = [(END - H, 1_000), (END + H, 3_000)]
    later = [*around, (END + timedelta(days=5), 1_000_000)]
    first = views_at(END, around, posted_at=T0, now=END + H)
    assert first is not None and first.views == 2_000
    assert views_at(END, later, posted_at=T0, now=END + timedelta(days=5)) == first
    assert views_at(END, [(END - H, 1_000)], posted_at=T0, now=END) is None  # nothing after the end yet: wait


def test_posting_counts_as_zero_views_for_a_video_first_seen_after_its_window():
    frozen = views_at(END, [(T0 + timedelta(days=14), 14_000)], posted_at=T0, now=T0 + timedelta(days=14))
    assert frozen is not None and (frozen.views, frozen.how) == (7_000, FrozenHow.INTERPOLATED)


def test_without_a_later_snapshot_the_last_value_is_frozen_after_the_grace():
    points = [(END - H, 1_000)]
    assert views_at(END, points, posted_at=T0, now=END + FINALIZE_GRACE - H) is None
    frozen = views_at(END, points, posted_at=T0, now=END + FINALIZE_GRACE)
    assert frozen is not None and (frozen.views, frozen.how) == (1_000, FrozenHow.LAST_BEFORE)


# ------------------------------------------------------------------------------------------------ lifecycle


@pytest.mark.parametrize(
    ("now", "has_terms", "finalized", "rejected", "paid", "state"),
    [
        (END - timedelta(microseconds=1), True, False, False, False, PayoutState.ACTIVE),
        (END, True, False, False, False, PayoutState.FINALIZING),
        (END, False, False, False, False, PayoutState.PENDING_TERMS),
        (END, True, True, False, False, PayoutState.FINALIZED),
        (END, True, True, False, True, PayoutState.PAID),
        (END - H, True, False, True, False, PayoutState.REJECTED),
        (END, True, True, True, False, PayoutState.REJECTED),
    ],
)
def test_lifecycle_states(now, has_terms, finalized, rejected, paid, state):
    assert (
        payout_state(
            now=now,
            posted_at=T0,
            window_hours=7 * 24,
            has_terms=has_terms,
            finalized=finalized,
            rejected=rejected,
            paid=paid,
        )
        is state
    )


def test_a_terms_edit_applies_to_later_finalizations_only():
    first = TermsVersion(1, "spring", None, T0, terms(cpm=50))
    edit = TermsVersion(2, "spring", None, T0 + timedelta(days=10), terms(cpm=80))
    versions = [first, edit]
    assert terms_in_force(versions, creator_id="ana", at=T0 + timedelta(days=8)) is first  # finalized before: 50
    assert terms_in_force(versions, creator_id="ana", at=T0 + timedelta(days=10)) is edit
    assert terms_in_force(versions, creator_id="ana", at=T0 - H) is None  # no terms yet: pending_terms


def test_a_creator_override_wins_over_the_campaign_terms():
    campaign = TermsVersion(1, "spring", None, T0, terms(cpm=50))
    override = TermsVersion(2, "spring", "ana", T0, terms(cpm=90, window_hours=72))
    later_campaign = TermsVersion(3, "spring", None, T0 + H, terms(cpm=60))
    versions = [campaign, override, later_campaign]
    assert terms_in_force(versions, creator_id="ana", at=T0 + 2 * H) is override
    assert terms_in_force(versions, creator_id="ben", at=T0 + 2 * H) is later_campaign
    assert terms_in_force(versions, creator_id=None, at=T0 + 2 * H) is later_campaign


# ------------------------------------------------------------------------------------------------ campaigns


PARENTS = {"all": None, "spring": "all", "tiktok": "spring", "youtube": "spring", "other": None}


def test_a_cycle_is_refused_at_any_depth():
    assert would_cycle(PARENTS, "all", "tiktok")  # grandchild as parent
    assert would_cycle(PARENTS, "spring", "spring")  # itself
    assert not would_cycle(PARENTS, "tiktok", "youtube")
    assert not would_cycle(PARENTS, "other", "tiktok")
    assert not would_cycle(PARENTS, "tiktok", None)


def test_a_video_in_two_sub_campaigns_is_counted_once():
    direct = {"tiktok": ["v1", "v2"], "youtube": ["v2", "v3"], "spring": ["v3"]}
    assert campaign_videos(PARENTS, direct, "all") == {"v1", "v2", "v3"}
    assert campaign_videos(PARENTS, direct, "tiktok") == {"v1", "v2"}


def test_one_tree_pays_a_video_once_the_deepest_campaign_with_terms():
    direct = {"tiktok": ["v1", "v2"], "youtube": ["v2", "v3"]}
    assert payer_campaign(PARENTS, direct, {"spring"}, "v2", "all") == "spring"
    assert payer_campaign(PARENTS, direct, {"spring", "youtube"}, "v3", "all") == "youtube"
    assert payer_campaign(PARENTS, direct, {"spring", "youtube", "tiktok"}, "v2", "all") == "tiktok"
    assert payer_campaign(PARENTS, direct, {"other"}, "v2", "all") is None


# ---------------------------------------------------------------------------------------------------- goals


WEEK_START, WEEK_END = datetime(2027, 3, 1), datetime(2027, 3, 8)


def goal(actual: float, now: datetime, target: float = 10, scraped: datetime | None = None):
    return evaluate_goal(
        target=target,
        actual=actual,
        period_start=WEEK_START,
        period_end=WEEK_END,
        now=now,
        last_scraped_at=scraped or now,
    )


def test_goal_pace_thresholds_at_exactly_70_and_100_percent():
    halfway = WEEK_START + timedelta(days=3, hours=12)  # 5 posts due of 10
    assert goal(5, halfway).status is GoalStatus.ON_TRACK  # 100 %
    assert goal(3.5, halfway).status is GoalStatus.BEHIND_PACE  # exactly 70 %
    assert goal(3.49, halfway).status is GoalStatus.AT_RISK
    assert goal(4.99, halfway).status is GoalStatus.BEHIND_PACE
    assert goal(10, halfway).status is GoalStatus.COMPLETED  # exactly 100 % of the target
    assert goal(5, halfway).flags == ("period_in_progress",)


def test_a_closed_period_settles_48_hours_before_it_is_missed():
    assert goal(9, WEEK_END).status is GoalStatus.BEHIND_PACE
    assert goal(9, WEEK_END).flags == ("period_recently_ended",)
    assert goal(9, WEEK_END + timedelta(hours=47)).status is GoalStatus.BEHIND_PACE
    assert goal(9, WEEK_END + timedelta(hours=48)).status is GoalStatus.MISSED
    assert goal(10, WEEK_END + timedelta(hours=48)).status is GoalStatus.COMPLETED
    assert goal(6, WEEK_END + H).status is GoalStatus.AT_RISK


def test_goal_advisory_flags():
    early = goal(0, WEEK_START - H)
    assert early.flags == ("not_yet_started",) and early.pace is None
    stale = goal(5, WEEK_START + timedelta(days=3, hours=12), scraped=WEEK_START)
    assert "scrape_stale" in stale.flags
    with pytest.raises(InvalidInputError):
        goal(1, WEEK_START, target=0)


def test_periods_are_local_calendar_periods():
    assert period_bounds(date(2027, 3, 3), GoalPeriod.WEEK) == (date(2027, 3, 1), date(2027, 3, 8))
    assert period_bounds(date(2027, 2, 28), GoalPeriod.MONTH) == (date(2027, 2, 1), date(2027, 3, 1))
    assert period_bounds(date(2027, 12, 31), GoalPeriod.MONTH) == (date(2027, 12, 1), date(2028, 1, 1))
    assert period_bounds(date(2027, 3, 3), GoalPeriod.DAY) == (date(2027, 3, 3), date(2027, 3, 4))


# --------------------------------------------------------------------------------------------- over-posting


def posts(n: int, low: int, day: date = date(2027, 3, 1)) -> list[PostedVideo]:
    return [PostedVideo(f"v{i}", day, i < low) for i in range(n)]


def test_overposting_needs_seven_videos_on_one_day():
    assert overposting_incidents(posts(6, 6), today=date(2027, 3, 2)) == []
    (incident,) = overposting_incidents(posts(7, 2), today=date(2027, 3, 2))
    assert (incident.videos, incident.low_view_videos, incident.amber) == (7, 2, True)
    assert overposting_incidents(posts(7, 1), today=date(2027, 3, 2)) == []


def test_overposting_is_amber_within_the_last_seven_days():
    (recent,) = overposting_incidents(posts(7, 2), today=date(2027, 3, 7))
    (old,) = overposting_incidents(posts(7, 2), today=date(2027, 3, 8))
    assert recent.amber and not old.amber


def test_low_views_means_under_100_views_at_least_2_hours_after_posting():
    assert is_low_views(T0, [(T0 + 2 * H, 99)])
    assert not is_low_views(T0, [(T0 + 2 * H, 100)])
    assert not is_low_views(T0, [(T0 + 2 * H - timedelta(seconds=1), 5)])  # too early to say
    assert not is_low_views(T0, [])  # not confirmed by a snapshot
