"""Creator programs: the rules of campaigns, CPM payouts, creator goals and over-posting, as plain Python.

The warehouse (``viewtrail/warehouse/programs.py``) stores what these rules decide, the dbt marts
(``campaign_*``, ``video_payouts``, ``creator_payouts``, ``creator_goal_status``, ``overposting_incidents``) apply
the same rules to every row, and the tests check the two against each other. All instants are naive UTC.

**Payout amount.** ``amount = min(views, cap) * cpm / 1000`` in integer minor units of the terms' currency (cents),
rounded half up to the minor unit: ``(payable * cpm_minor + 500) // 1000``. ``cpm_minor`` is what 1,000 payable
views pay, in minor units (0.50 per 1,000 is ``50``). With tiers, the tier is chosen per video: the highest tier
whose ``from_views`` the video's payable views reach sets the rate for all of its payable views (not marginal
brackets), under the one cap. Worked example: 320,000 views at 0.50 with a 500,000 cap pay 160.00 (16000); 1.2M
views pay 250.00 (25000).

**Counting window.** A video's payable views are its views at ``posted_at + window_hours`` (default 7 days),
observed by a snapshot at that instant or linearly interpolated in time between the snapshots around it (the
definition of ``marts.video_daily``; rounded half away from zero), and flagged ``interpolated``. The posting
instant counts as an observation of 0 views, so a video first scraped after its window still gets an honest
figure. A window is finalized once a snapshot at or after its end exists; when none arrives within
``FINALIZE_GRACE`` after the end, the last value seen before the end is frozen (flagged ``last_before``).

**Auto-reject minimum.** A finalized video whose payable views are below the terms' ``min_views`` is rejected
automatically (reason ``below_minimum``); like every rejection it can be reversed.

**Lifecycle.** ``active`` (inside the window) -> ``finalizing`` (window over, terms in force, waiting for the
snapshot that closes the window or for the next finalization step) or ``pending_terms`` (window over, no terms) ->
``finalized`` (payable views and amount frozen for good) -> ``paid``; ``rejected`` at any point, reversible.

**Goals.** A goal is a target per period (day, week or month in the organisation's time zone) of posts, views,
engagements or followers gained. While the period runs, pace = actual / (target x share of the period elapsed):
>= 100 % On Track, 70-99 % Behind Pace, < 70 % At Risk; reaching the target is Completed at once. A closed period
settles for ``GOAL_SETTLING`` (48 h: late posts are still moving through the scrapes), judged on the whole target
meanwhile, then is Completed or Missed for good.

**Over-posting.** A creator posting >= 7 videos on one calendar day (organisation's time zone), >= 2 of which a
snapshot taken >= 2 h after posting shows below 100 views; amber when that day is within the last 7 days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from viewtrail.domain.errors import InvalidInputError

DEFAULT_WINDOW_HOURS = 7 * 24
#: Bounds that keep every amount inside a BIGINT of minor units (views up to 1e15 at up to 1e9 per 1,000).
MAX_CPM_MINOR = 10**9
MAX_VIEWS = 10**15
#: How long after a window's end the finalization waits for a snapshot after it before freezing the last value seen.
FINALIZE_GRACE = timedelta(hours=48)
GOAL_SETTLING = timedelta(hours=48)
BEHIND_PACE_FLOOR = 0.70
#: A creator's newest snapshot older than this makes their goal's figures ``scrape_stale``.
SCRAPE_STALE_AFTER = timedelta(hours=24)
OVERPOSTING_MIN_VIDEOS = 7
OVERPOSTING_MIN_LOW = 2
OVERPOSTING_LOW_VIEWS = 100
OVERPOSTING_CHECK_AFTER = timedelta(hours=2)
OVERPOSTING_AMBER_DAYS = 7


# ------------------------------------------------------------------------------------------------------- terms


@dataclass(frozen=True, slots=True)
class Tier:
    """From ``from_views`` payable views on, every payable view pays ``cpm_minor`` per 1,000."""

    from_views: int
    cpm_minor: int


@dataclass(frozen=True, slots=True)
class PayoutTerms:
    """One version of a campaign's (or one creator's) terms. ``tiers`` is one tier from 0 for a single CPM."""

    currency: str
    tiers: tuple[Tier, ...]
    cap_views: int | None = None
    window_hours: int = DEFAULT_WINDOW_HOURS
    min_views: int = 0

    def __post_init__(self) -> None:
        check_terms(self)


def check_terms(terms: PayoutTerms) -> None:
    """Refuse terms that cannot be applied, with one sentence saying what to change."""
    if len(terms.currency) != 3 or not terms.currency.isalpha() or not terms.currency.isupper():
        raise InvalidInputError(f"Currency {terms.currency!r} is not an ISO 4217 code; use e.g. USD or EUR.")
    if not terms.tiers:
        raise InvalidInputError("Payout terms need a CPM; give one rate or tiers such as 0:20,100000:40.")
    starts = [t.from_views for t in terms.tiers]
    if starts[0] != 0 or starts != sorted(set(starts)):
        raise InvalidInputError(
            "Tiers must start at 0 views and rise strictly (e.g. 0:20,100000:40,500000:60); fix the tier list."
        )
    if any(t.cpm_minor < 0 for t in terms.tiers):
        raise InvalidInputError("A CPM cannot be negative; give the amount per 1,000 views as 0 or more.")
    if any(t.cpm_minor > MAX_CPM_MINOR or t.from_views > MAX_VIEWS for t in terms.tiers) or (
        terms.cap_views is not None and terms.cap_views > MAX_VIEWS
    ):
        raise InvalidInputError(
            f"A CPM above {MAX_CPM_MINOR:,} minor units or a view count above {MAX_VIEWS:,} is beyond any program; "
            "check the number."
        )
    if terms.cap_views is not None and terms.cap_views <= 0:
        raise InvalidInputError("The cap must be a positive number of views; leave it out for no cap.")
    if terms.window_hours <= 0:
        raise InvalidInputError("The counting window must be at least one hour; e.g. 168 for 7 days.")
    if terms.min_views < 0:
        raise InvalidInputError("The auto-reject minimum cannot be negative; use 0 to accept every video.")


def single_cpm(cpm_minor: int) -> tuple[Tier, ...]:
    return (Tier(0, cpm_minor),)


def parse_tiers(text: str) -> tuple[Tier, ...]:
    """``"50"`` (one CPM) or ``"0:20,100000:40,500000:60"`` (from_views:cpm_minor pairs) as tiers."""
    try:
        if ":" not in text:
            return single_cpm(int(text.strip()))
        pairs = [part.split(":") for part in text.split(",") if part.strip()]
        return tuple(Tier(int(a.strip()), int(b.strip())) for a, b in pairs)
    except ValueError:
        raise InvalidInputError(
            f"CPM {text!r} is not understood; give minor units per 1,000 views, e.g. 50 or 0:20,100000:40."
        ) from None


def payable_views(views: int, terms: PayoutTerms) -> int:
    """The views that pay: the observed views, capped, never negative."""
    views = max(0, views)
    return views if terms.cap_views is None else min(views, terms.cap_views)


def tier_for(views: int, terms: PayoutTerms) -> Tier:
    """The tier a video's payable views reach (the highest whose ``from_views`` they reach)."""
    chosen = terms.tiers[0]
    for tier in terms.tiers:
        if views >= tier.from_views:
            chosen = tier
    return chosen


def payout_minor(views: int, terms: PayoutTerms) -> int:
    """The amount in minor units: payable views x CPM / 1000, rounded half up to the minor unit."""
    payable = payable_views(views, terms)
    return (payable * tier_for(payable, terms).cpm_minor + 500) // 1000


def format_minor(amount: int, currency: str) -> str:
    """``16000, "USD"`` -> ``"160.00 USD"`` (two decimals: every currency the terms accept is shown in cents)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d} {currency}"


def parse_money(text: str) -> int:
    """``"12.5"`` / ``"-3"`` / ``"0.07"`` as minor units (1250, -300, 7); refuses more than two decimals."""
    raw = text.strip()
    sign = -1 if raw.startswith("-") else 1
    units, _, cents = raw.lstrip("+-").partition(".")
    if not units.isdigit() and not (units == "" and cents) or (cents and (not cents.isdigit() or len(cents) > 2)):
        raise InvalidInputError(f"Amount {text!r} is not understood; write it like 12.50 (two decimals at most).")
    return sign * (int(units or "0") * 100 + int(cents.ljust(2, "0") or "0"))


# ------------------------------------------------------------------------------------------ window and freezing


class FrozenHow(StrEnum):
    OBSERVED = "observed"  # a snapshot sits exactly at the window's end
    INTERPOLATED = "interpolated"  # between the snapshots around the end (or posting, as 0 views, and the first)
    LAST_BEFORE = "last_before"  # no snapshot after the end within the grace: the last value before it


@dataclass(frozen=True, slots=True)
class FrozenViews:
    views: int
    how: FrozenHow

    @property
    def interpolated(self) -> bool:
        return self.how is not FrozenHow.OBSERVED


def window_end(posted_at: datetime, terms: PayoutTerms) -> datetime:
    return posted_at + timedelta(hours=terms.window_hours)


def _round_half_away(value: float) -> int:
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


def views_at(
    at: datetime, snapshots: Iterable[tuple[datetime, int | None]], *, posted_at: datetime | None, now: datetime
) -> FrozenViews | None:
    """The views at instant ``at`` from ``(observed_at, views)`` pairs, or None while it cannot be known yet.

    Known once a snapshot at or after ``at`` exists; interpolated linearly in time from the last observation before
    (the posting instant counts as 0 views). When no snapshot after ``at`` has come ``FINALIZE_GRACE`` later, the
    last observation before ``at`` is frozen. Snapshots without views are ignored."""
    points = sorted((t, v) for t, v in snapshots if v is not None)
    before = [(t, v) for t, v in points if t <= at]
    after = [(t, v) for t, v in points if t >= at]
    if posted_at is not None and posted_at <= at and (not before or before[-1][0] < posted_at):
        before.append((posted_at, 0))
    if after and after[0][0] == at:
        return FrozenViews(int(after[0][1]), FrozenHow.OBSERVED)
    if after and before:
        (t0, v0), (t1, v1) = before[-1], after[0]
        share = (at - t0) / (t1 - t0)
        return FrozenViews(_round_half_away(v0 + (v1 - v0) * share), FrozenHow.INTERPOLATED)
    if not after and before and now >= at + FINALIZE_GRACE:
        return FrozenViews(int(before[-1][1]), FrozenHow.LAST_BEFORE)
    return None


# -------------------------------------------------------------------------------------------------- lifecycle


class PayoutState(StrEnum):
    ACTIVE = "active"
    FINALIZING = "finalizing"
    PENDING_TERMS = "pending_terms"
    FINALIZED = "finalized"
    PAID = "paid"
    REJECTED = "rejected"


def payout_state(
    *,
    now: datetime,
    posted_at: datetime | None,
    window_hours: int,
    has_terms: bool,
    finalized: bool,
    rejected: bool,
    paid: bool,
) -> PayoutState:
    """Where one video stands in one campaign. Rejection wins until reversed; a payment needs a finalization."""
    if rejected:
        return PayoutState.REJECTED
    if finalized:
        return PayoutState.PAID if paid else PayoutState.FINALIZED
    if posted_at is None or now < posted_at + timedelta(hours=window_hours):
        return PayoutState.ACTIVE
    return PayoutState.FINALIZING if has_terms else PayoutState.PENDING_TERMS


@dataclass(frozen=True, slots=True)
class TermsVersion:
    """A stored version: ``creator_id`` None for the campaign's own terms, else that creator's override."""

    version_id: int
    campaign_id: str
    creator_id: str | None
    effective_from: datetime
    terms: PayoutTerms


def terms_in_force(versions: Sequence[TermsVersion], *, creator_id: str | None, at: datetime) -> TermsVersion | None:
    """The version that applies to a creator's video at ``at``: the newest override of that creator in effect, else
    the newest campaign version in effect. A later edit therefore reaches only videos finalized after it."""
    in_effect = [v for v in versions if v.effective_from <= at]
    own = [v for v in in_effect if creator_id is not None and v.creator_id == creator_id]
    chosen = own or [v for v in in_effect if v.creator_id is None]
    return max(chosen, key=lambda v: (v.effective_from, v.version_id)) if chosen else None


# --------------------------------------------------------------------------------------------------- campaigns


def would_cycle(parents: Mapping[str, str | None], child: str, new_parent: str | None) -> bool:
    """Would making ``new_parent`` the parent of ``child`` close a loop (itself, or one of its descendants)?"""
    seen = set()
    node = new_parent
    while node is not None and node not in seen:
        if node == child:
            return True
        seen.add(node)
        node = parents.get(node)
    return False


def descendants(parents: Mapping[str, str | None], campaign: str) -> set[str]:
    """``campaign`` and every campaign nested under it, at any depth."""
    found = {campaign}
    grew = True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in found and child not in found:
                found.add(child)
                grew = True
    return found


def campaign_videos(parents: Mapping[str, str | None], direct: Mapping[str, Iterable[str]], campaign: str) -> set[str]:
    """The videos of a campaign and its sub-campaigns, each once however many ways it arrives."""
    return {video for c in descendants(parents, campaign) for video in direct.get(c, ())}


def payer_campaign(
    parents: Mapping[str, str | None],
    direct: Mapping[str, Iterable[str]],
    with_terms: Iterable[str],
    video: str,
    root: str,
) -> str | None:
    """Which campaign of ``root``'s tree pays ``video``: the deepest campaign holding terms whose videos (its
    sub-campaigns' included) hold it, the first id in sort order on a tie; so one tree pays a video at most once."""
    holders = [
        c
        for c in sorted(with_terms)
        if c in descendants(parents, root) and video in campaign_videos(parents, direct, c)
    ]
    if not holders:
        return None

    def depth(c: str) -> int:
        d, node = 0, parents.get(c)
        while node is not None:
            d, node = d + 1, parents.get(node)
        return d

    return min(holders, key=lambda c: (-depth(c), c))


# ------------------------------------------------------------------------------------------------------ goals


class GoalMetric(StrEnum):
    POSTS = "posts"
    VIEWS = "views"
    ENGAGEMENT = "engagement"
    FOLLOWERS = "followers"


class GoalPeriod(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class GoalStatus(StrEnum):
    ON_TRACK = "On Track"
    BEHIND_PACE = "Behind Pace"
    AT_RISK = "At Risk"
    COMPLETED = "Completed"
    MISSED = "Missed"


def period_bounds(day: date, period: GoalPeriod) -> tuple[date, date]:
    """The local calendar period holding ``day``: [start, end) dates (weeks start on Monday)."""
    if period is GoalPeriod.DAY:
        return day, day + timedelta(days=1)
    if period is GoalPeriod.WEEK:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    start = day.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True, slots=True)
class GoalEvaluation:
    status: GoalStatus
    pace: float | None  # actual / the target due so far; None before the period starts
    flags: tuple[str, ...] = field(default=())


def evaluate_goal(
    *,
    target: float,
    actual: float,
    period_start: datetime,
    period_end: datetime,
    now: datetime,
    last_scraped_at: datetime | None,
) -> GoalEvaluation:
    """Status and advisory flags of one goal in one period (instants naive UTC; the period's local bounds converted)."""
    if target <= 0:
        raise InvalidInputError("A goal's target must be more than 0; e.g. 15 posts per week.")
    flags: list[str] = []
    stale = last_scraped_at is None or now - last_scraped_at > SCRAPE_STALE_AFTER
    if now < period_start:
        return GoalEvaluation(GoalStatus.ON_TRACK, None, ("not_yet_started",))
    if now < period_end:
        flags.append("period_in_progress")
        due = target * ((now - period_start) / (period_end - period_start))
    else:
        due = target
        if now < period_end + GOAL_SETTLING:
            flags.append("period_recently_ended")
    if stale:
        flags.append("scrape_stale")
    pace = actual / due if due > 0 else 1.0
    if actual >= target:
        return GoalEvaluation(GoalStatus.COMPLETED, pace, tuple(flags))
    if now >= period_end + GOAL_SETTLING:
        return GoalEvaluation(GoalStatus.MISSED, pace, tuple(flags))
    if pace >= 1:
        status = GoalStatus.ON_TRACK
    elif pace >= BEHIND_PACE_FLOOR:
        status = GoalStatus.BEHIND_PACE
    else:
        status = GoalStatus.AT_RISK
    return GoalEvaluation(status, pace, tuple(flags))


# ---------------------------------------------------------------------------------------------- over-posting


@dataclass(frozen=True, slots=True)
class PostedVideo:
    video_id: str
    local_day: date  # the posting day in the organisation's time zone
    low_views_confirmed: bool  # a snapshot >= 2 h after posting showed < 100 views


def is_low_views(posted_at: datetime, snapshots: Iterable[tuple[datetime, int | None]]) -> bool:
    """Does a snapshot taken at least 2 h after posting show fewer than 100 views?"""
    return any(
        views is not None and at - posted_at >= OVERPOSTING_CHECK_AFTER and views < OVERPOSTING_LOW_VIEWS
        for at, views in snapshots
    )


@dataclass(frozen=True, slots=True)
class OverpostingIncident:
    day: date
    videos: int
    low_view_videos: int
    amber: bool


def overposting_incidents(posts: Iterable[PostedVideo], *, today: date) -> list[OverpostingIncident]:
    """One creator's over-posting days, oldest first; ``today`` is the local date now."""
    by_day: dict[date, list[PostedVideo]] = {}
    for post in posts:
        by_day.setdefault(post.local_day, []).append(post)
    found = []
    for day, videos in sorted(by_day.items()):
        low = sum(v.low_views_confirmed for v in videos)
        if len(videos) >= OVERPOSTING_MIN_VIDEOS and low >= OVERPOSTING_MIN_LOW:
            found.append(OverpostingIncident(day, len(videos), low, (today - day).days < OVERPOSTING_AMBER_DAYS))
    return found
