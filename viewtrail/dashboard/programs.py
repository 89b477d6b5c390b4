"""Creator programs: Campaigns (the nested tree and a campaign's page), Payouts (balances, video payout states,
the CSV export and "mark paid") and Goals (goal status per creator and period, over-posting).

Every number comes from the program use cases of :mod:`viewtrail.app.programs` (the same the CLI, the API and
the MCP tools call) reading the published analyst copy, as of the latest build; "mark paid" writes the ledger
through the same use case as ``viewtrail payouts paid`` and shows in the balances after the next build."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from viewtrail.app import programs
from viewtrail.domain.programs import PayoutState
from viewtrail.warehouse import marts
from viewtrail.warehouse.marts import CreatorPayout

from . import charts
from .auth import Access, PageError, access, check_write
from .common import mart_reader, period, service, user_errors
from .fmt import money
from .web import page

router = APIRouter(include_in_schema=False)

STATES = tuple(state.value for state in PayoutState)


@dataclass(frozen=True, slots=True)
class CampaignNode:
    listing: programs.CampaignListing
    depth: int
    payouts: list[dict[str, Any]]  # per currency: accrued, adjustments, paid, due (this campaign's own videos)


def _sums(rows: list[CreatorPayout]) -> dict[str, list[dict[str, Any]]]:
    """Balances summed per campaign and currency."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row.campaign_id, row.currency or "")
        total = totals.setdefault(
            key, {"currency": row.currency, "accrued": 0, "adjustments": 0, "paid": 0, "due": 0, "videos": 0}
        )
        total["accrued"] += row.accrued_minor
        total["adjustments"] += row.adjustments_minor
        total["paid"] += row.paid_minor
        total["due"] += row.due_minor
        total["videos"] += row.videos
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (campaign_id, _), total in sorted(totals.items()):
        found[campaign_id].append(total)
    return found


def _tree(listings: list[programs.CampaignListing], sums: dict[str, list[dict[str, Any]]]) -> list[CampaignNode]:
    """The campaigns depth first, each under its parent, siblings by name."""
    children: dict[str | None, list[programs.CampaignListing]] = defaultdict(list)
    known = {item.campaign.campaign_id for item in listings}
    for item in listings:
        parent = item.campaign.parent_id if item.campaign.parent_id in known else None
        children[parent].append(item)
    nodes: list[CampaignNode] = []

    def walk(parent: str | None, depth: int) -> None:
        for item in sorted(children[parent], key=lambda x: (x.campaign.name.lower(), x.campaign.campaign_id)):
            nodes.append(CampaignNode(item, depth, sums.get(item.campaign.campaign_id, [])))
            walk(item.campaign.campaign_id, depth + 1)

    walk(None, 0)
    return nodes


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request) -> Response:
    found = access(request)
    svc = service(request)
    with user_errors():
        listings = programs.list_campaigns(open_warehouse=svc.reader)
        sums = _sums(programs.balances(open_warehouse=svc.reader))
    return page(request, found, "campaigns.html", nodes=_tree(listings, sums))


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(
    request: Request, campaign_id: str, days: str | None = None, start: str | None = None, end: str | None = None
) -> Response:
    found = access(request)
    svc = service(request)
    chosen = period(days, start, end, default=90)
    with user_errors():
        listings = programs.list_campaigns(open_warehouse=svc.reader)
        listing = next((item for item in listings if item.campaign.campaign_id == campaign_id), None)
        if listing is None:
            raise PageError(404, f"There is no campaign {campaign_id!r}; the Campaigns page lists them.")
        payouts = programs.video_payouts(campaign_id=campaign_id, open_warehouse=svc.reader)
        balances = programs.balances(campaign_id=campaign_id, open_warehouse=svc.reader)
    with mart_reader(svc) as con:
        rows = marts.daily_rows(
            con, marts.Mart.CAMPAIGN_DAILY, {"campaign_id": campaign_id}, start=chosen.start, end=chosen.end
        )
    chart = charts.line_chart(
        [charts.Series("views", [charts.Point(r["day"], r.get("views")) for r in rows])],
        partial=chosen.partial,
        label="views at the end of each day",
    )
    children = [item for item in listings if item.campaign.parent_id == campaign_id]
    return page(
        request,
        found,
        "campaign.html",
        listing=listing,
        children=children,
        period=chosen,
        rows=rows,
        chart=chart,
        payouts=payouts,
        balances=balances,
        totals=_sums(balances).get(campaign_id, []),
    )


# ---------------------------------------------------------------------------------------------------- payouts


def _filters(campaign: str | None, state: str | None, creator: str | None) -> dict[str, str | None]:
    if state and state not in STATES:
        raise PageError(400, f"state must be one of {', '.join(STATES)}; {state!r} is not.")
    return {"campaign_id": campaign or None, "state": state or None, "creator_id": creator or None}


def _payouts(
    request: Request,
    found: Access,
    filters: dict[str, str | None],
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    svc = service(request)
    with user_errors():
        listings = programs.list_campaigns(open_warehouse=svc.reader)
        balances = programs.balances(
            campaign_id=filters["campaign_id"], creator_id=filters["creator_id"], open_warehouse=svc.reader
        )
        videos = programs.video_payouts(**filters, open_warehouse=svc.reader)
    return page(
        request,
        found,
        "payouts.html",
        status=status,
        campaigns=[item.campaign for item in listings],
        balances=balances,
        videos=videos,
        states=STATES,
        filters=filters,
        notice=notice,
        error=error,
    )


@router.get("/payouts", response_class=HTMLResponse)
def payouts_page(
    request: Request, campaign: str | None = None, state: str | None = None, creator: str | None = None
) -> Response:
    return _payouts(request, access(request), _filters(campaign, state, creator))


@router.get("/payouts.csv")
def payouts_export(
    request: Request, campaign: str | None = None, state: str | None = None, creator: str | None = None
) -> Response:
    access(request)
    svc = service(request)
    with user_errors():
        rows = programs.video_payouts(**_filters(campaign, state, creator), open_warehouse=svc.reader)
    return Response(
        programs.payouts_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="payouts.csv"', "Cache-Control": "no-store"},
    )


@router.post("/payouts/paid", response_class=HTMLResponse)
def mark_paid(
    request: Request,
    campaign: Annotated[str, Form()] = "",
    creator: Annotated[str, Form()] = "",
    reference: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    found = access(request)
    check_write(found, csrf)
    filters = _filters(campaign, None, None)
    if not campaign.strip():
        return _payouts(request, found, filters, error="Choose the campaign to mark paid.", status=400)
    if not reference.strip():
        return _payouts(
            request, found, filters, error="Give the payment's reference (e.g. the bank transfer id).", status=400
        )
    svc = service(request)
    with user_errors():
        payments = programs.mark_paid(
            campaign.strip(), creator.strip() or None, reference=reference.strip(), open_warehouse=svc.writer
        )
    if not payments:
        notice = f"Nothing was due in {campaign.strip()}{' to ' + creator.strip() if creator.strip() else ''}."
    else:
        paid = ", ".join(f"{p.creator_id}: {money(p.amount_minor, p.currency)}" for p in payments)
        notice = (
            f"Recorded as paid with reference {reference.strip()}: {paid}. The balances show it after the next build."
        )
    return _payouts(request, found, filters, notice=notice)


# ------------------------------------------------------------------------------------------------------ goals


@router.get("/goals", response_class=HTMLResponse)
def goals_page(request: Request, creator: str | None = None, all: str | None = None) -> Response:
    found = access(request)
    svc = service(request)
    every = all in ("1", "true", "yes")
    with user_errors():
        statuses = programs.goal_status(creator or None, all_periods=every, open_warehouse=svc.reader)
        incidents = programs.overposting(creator or None, open_warehouse=svc.reader)
    return page(
        request,
        found,
        "goals.html",
        statuses=statuses,
        incidents=incidents,
        creator=creator or "",
        every=every,
    )
