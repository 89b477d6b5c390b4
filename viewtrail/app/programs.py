"""Creator-program use cases: campaigns, payout terms, the payout ledger, goals, and what the marts say of them.

The CLI (`viewtrail campaign|payouts|goal ...`), the HTTP API and the MCP tools call these. Writes go through
:mod:`viewtrail.warehouse.programs` (one transaction each); what was built (payout states and amounts, balances,
goal statuses, over-posting) is read through :mod:`viewtrail.warehouse.marts` and reflects the latest build: the
ledger entries written here show in the marts after the next build (`viewtrail build`, or the pipeline's own).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from viewtrail.clock import utc_now
from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.programs import (
    DEFAULT_WINDOW_HOURS,
    GoalMetric,
    GoalPeriod,
    PayoutTerms,
    format_minor,
    parse_money,
    parse_tiers,
)

if TYPE_CHECKING:
    from viewtrail.warehouse.connection import OpenWarehouse
    from viewtrail.warehouse.marts import CampaignTotals, CreatorPayout, GoalStatusRow, OverpostingDay, VideoPayout
    from viewtrail.warehouse.programs import Campaign, FinalizeSummary, Goal, Payment


# -------------------------------------------------------------------------------------------------- campaigns


@dataclass(frozen=True, slots=True)
class CampaignRequest:
    name: str
    parent: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    target_views: int | None = None
    target_by: date | None = None
    notes: str | None = None


def create_campaign(request: CampaignRequest, *, open_warehouse: OpenWarehouse) -> Campaign:
    from viewtrail.warehouse import programs as wp

    campaign = wp.Campaign(
        wp.campaign_slug(request.name),
        request.name.strip(),
        request.parent,
        request.starts_on,
        request.ends_on,
        request.target_views,
        request.target_by,
        request.notes,
    )
    with open_warehouse() as con:
        return wp.create_campaign(con, campaign, now=utc_now())


def nest_campaign(campaign_id: str, parent: str | None, *, open_warehouse: OpenWarehouse) -> None:
    from viewtrail.warehouse import programs as wp

    with open_warehouse() as con:
        wp.nest_campaign(con, campaign_id, parent, now=utc_now())


@dataclass(frozen=True, slots=True)
class CampaignListing:
    campaign: Campaign
    totals: CampaignTotals | None  # None before a build has counted it


def list_campaigns(*, open_warehouse: OpenWarehouse) -> list[CampaignListing]:
    from viewtrail.warehouse import marts
    from viewtrail.warehouse import programs as wp

    with open_warehouse() as con:
        campaigns = wp.list_campaigns(con)
        totals = {t.campaign_id: t for t in marts.campaign_totals(con)}
    return [CampaignListing(c, totals.get(c.campaign_id)) for c in campaigns]


def add_members(campaign_id: str, kind: str, members: Sequence[str], *, open_warehouse: OpenWarehouse) -> int:
    """Add videos, accounts, creators or labels; returns how many were new."""
    from viewtrail.warehouse import programs as wp

    if not members:
        raise InvalidInputError("Name at least one member to add.")
    with open_warehouse() as con:
        return wp.add_members(con, campaign_id, kind, list(members), now=utc_now())


# ------------------------------------------------------------------------------------------------------ terms


@dataclass(frozen=True, slots=True)
class TermsRequest:
    """Terms as typed: ``cpm`` in minor units per 1,000 views (``50``) or tiers (``0:20,100000:40``)."""

    campaign_id: str
    cpm: str
    currency: str = "USD"
    cap_views: int | None = None
    window_hours: int = DEFAULT_WINDOW_HOURS
    min_views: int = 0
    creator_id: str | None = None
    effective_from: datetime | None = None


def set_terms(request: TermsRequest, *, open_warehouse: OpenWarehouse) -> int:
    """Append a terms version (effective now unless said otherwise); returns its id."""
    from viewtrail.warehouse import programs as wp

    terms = PayoutTerms(
        request.currency.strip().upper(),
        parse_tiers(request.cpm),
        request.cap_views,
        request.window_hours,
        request.min_views,
    )
    now = utc_now()
    with open_warehouse() as con:
        return wp.add_terms(
            con,
            request.campaign_id,
            terms,
            creator_id=request.creator_id,
            effective_from=request.effective_from or now,
            now=now,
        )


# ------------------------------------------------------------------------------------------------ the ledger


def finalize(*, open_warehouse: OpenWarehouse) -> FinalizeSummary:
    """Freeze the payouts whose counting window has ended (the pipeline does it before every build too)."""
    from viewtrail.warehouse import programs as wp

    with open_warehouse() as con:
        return wp.finalize_payouts(con, now=utc_now())


def reject(
    campaign_id: str, video_ids: Sequence[str], *, reason: str | None, open_warehouse: OpenWarehouse
) -> list[str]:
    from viewtrail.warehouse import programs as wp

    with open_warehouse() as con:
        for video_id in video_ids:
            wp.reject_video(con, campaign_id, video_id, reason=reason, now=utc_now())
    return list(video_ids)


def unreject(
    campaign_id: str, video_ids: Sequence[str], *, reason: str | None, open_warehouse: OpenWarehouse
) -> list[str]:
    from viewtrail.warehouse import programs as wp

    with open_warehouse() as con:
        for video_id in video_ids:
            wp.unreject_video(con, campaign_id, video_id, reason=reason, now=utc_now())
    return list(video_ids)


def adjust(
    campaign_id: str, creator_id: str, amount: str, currency: str, *, reason: str, open_warehouse: OpenWarehouse
) -> int:
    """Record an adjustment (``amount`` as typed, e.g. ``-12.50``); returns its entry id."""
    from viewtrail.warehouse import programs as wp

    minor = parse_money(amount)
    with open_warehouse() as con:
        return wp.adjust(con, campaign_id, creator_id, minor, currency.strip().upper(), reason=reason, now=utc_now())


def mark_paid(
    campaign_id: str, creator_id: str | None, *, reference: str, open_warehouse: OpenWarehouse
) -> list[Payment]:
    from viewtrail.warehouse import programs as wp

    with open_warehouse() as con:
        return wp.mark_paid(con, campaign_id, creator_id, reference=reference, now=utc_now())


def video_payouts(
    *,
    campaign_id: str | None = None,
    creator_id: str | None = None,
    state: str | None = None,
    open_warehouse: OpenWarehouse,
) -> list[VideoPayout]:
    from viewtrail.warehouse import marts

    with open_warehouse() as con:
        return marts.video_payouts(con, campaign_id=campaign_id, creator_id=creator_id, state=state)


def balances(
    *, campaign_id: str | None = None, creator_id: str | None = None, open_warehouse: OpenWarehouse
) -> list[CreatorPayout]:
    from viewtrail.warehouse import marts

    with open_warehouse() as con:
        return marts.creator_payouts(con, campaign_id=campaign_id, creator_id=creator_id)


PAYOUT_CSV_COLUMNS = (
    "campaign_id",
    "video_id",
    "creator_id",
    "state",
    "posted_at",
    "window_end",
    "payable_views",
    "is_interpolated",
    "cpm_minor",
    "amount_minor",
    "amount",
    "currency",
    "rejection_reason",
    "paid_reference",
)


def payouts_csv(rows: Sequence[VideoPayout]) -> str:
    """The video payouts as CSV: amounts in minor units and as decimal text (``160.00``), instants ISO UTC."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PAYOUT_CSV_COLUMNS)
    for row in rows:
        amount = None if row.amount_minor is None else format_minor(row.amount_minor, "").strip()
        writer.writerow(
            [
                row.campaign_id,
                row.video_id,
                row.creator_id or "",
                row.state,
                row.posted_at.isoformat() if row.posted_at else "",
                row.window_end.isoformat() if row.window_end else "",
                "" if row.payable_views is None else row.payable_views,
                "" if row.is_interpolated is None else str(row.is_interpolated).lower(),
                "" if row.cpm_minor is None else row.cpm_minor,
                "" if row.amount_minor is None else row.amount_minor,
                amount or "",
                row.currency or "",
                row.rejection_reason or "",
                row.paid_reference or "",
            ]
        )
    return out.getvalue()


# ------------------------------------------------------------------------------------------------------ goals


@dataclass(frozen=True, slots=True)
class GoalRequest:
    creator_id: str
    metric: str
    period: str
    target: float
    starts_on: date | None = None
    ends_on: date | None = None


def _choice(kind: type[GoalMetric] | type[GoalPeriod], text: str, what: str) -> str:
    values = [member.value for member in kind]
    if text.strip().lower() not in values:
        raise InvalidInputError(f"{what} {text!r} is not one of {', '.join(values)}.")
    return text.strip().lower()


def add_goal(request: GoalRequest, *, open_warehouse: OpenWarehouse) -> Goal:
    from viewtrail.warehouse import programs as wp

    metric = GoalMetric(_choice(GoalMetric, request.metric, "Goal metric"))
    period = GoalPeriod(_choice(GoalPeriod, request.period, "Goal period"))
    now = utc_now()
    with open_warehouse() as con:
        return wp.add_goal(
            con,
            request.creator_id,
            metric,
            period,
            request.target,
            starts_on=request.starts_on or now.date(),
            ends_on=request.ends_on,
            now=now,
        )


def list_goals(creator_id: str | None = None, *, open_warehouse: OpenWarehouse) -> list[Goal]:
    from viewtrail.warehouse import programs as wp

    with open_warehouse() as con:
        return wp.list_goals(con, creator_id)


def remove_goal(goal_id: int, *, open_warehouse: OpenWarehouse) -> None:
    from viewtrail.warehouse import programs as wp

    with open_warehouse() as con:
        wp.remove_goal(con, goal_id)


def goal_status(
    creator_id: str | None = None, *, all_periods: bool = False, open_warehouse: OpenWarehouse
) -> list[GoalStatusRow]:
    """Each goal's status in its latest period (every period with ``all_periods``), as of the latest build."""
    from viewtrail.warehouse import marts

    with open_warehouse() as con:
        rows = marts.goal_statuses(con, creator_id=creator_id)
    if all_periods:
        return rows
    latest: dict[int, GoalStatusRow] = {}
    for row in rows:  # oldest period first: the last one wins
        latest[row.goal_id] = row
    return list(latest.values())


def overposting(creator_id: str | None = None, *, open_warehouse: OpenWarehouse) -> list[OverpostingDay]:
    from viewtrail.warehouse import marts

    with open_warehouse() as con:
        return marts.overposting_days(con, creator_id=creator_id)
