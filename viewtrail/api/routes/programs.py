"""Creator programs: ``/v1/campaigns``, ``/v1/payouts`` and ``/v1/goals`` (docs/api.md, rules in docs/metrics.md).

Reads answer from the analyst copy, as of the latest build; writes go to the live warehouse through the use cases
of ``viewtrail.app.programs`` and show in the reads after the next build."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from .. import service as svc
from ..deps import ReadKey, ServiceDep, WriteKey
from ..responses import ERRORS, CachedRoute
from ..schemas import (
    CampaignEnvelope,
    CampaignList,
    CreateCampaign,
    CreateGoal,
    CreatorBalanceList,
    GoalEnvelope,
    GoalStatusList,
    MarkPaid,
    PaymentList,
    VideoPayoutList,
)

router = APIRouter(tags=["programs"], route_class=CachedRoute)

PayoutState = Annotated[
    str | None, Query(pattern="^(active|finalizing|pending_terms|finalized|paid|rejected)$", description="a state")
]


@router.get("/v1/campaigns", responses=ERRORS)
def list_campaigns(service: ServiceDep, key: ReadKey) -> CampaignList:
    return CampaignList.model_validate({"data": svc.list_campaigns(service)})


@router.post("/v1/campaigns", status_code=201, responses=ERRORS)
def create_campaign(body: CreateCampaign, service: ServiceDep, key: WriteKey) -> CampaignEnvelope:
    return CampaignEnvelope.model_validate({"data": svc.create_campaign(service, body.model_dump())})


@router.get("/v1/payouts", responses=ERRORS)
def list_payouts(
    service: ServiceDep,
    key: ReadKey,
    campaign_id: str | None = None,
    creator_id: str | None = None,
    state: PayoutState = None,
) -> VideoPayoutList:
    return VideoPayoutList.model_validate({"data": svc.video_payouts(service, campaign_id, creator_id, state)})


@router.get("/v1/payouts/balances", responses=ERRORS)
def list_balances(
    service: ServiceDep, key: ReadKey, campaign_id: str | None = None, creator_id: str | None = None
) -> CreatorBalanceList:
    return CreatorBalanceList.model_validate({"data": svc.balances(service, campaign_id, creator_id)})


@router.post("/v1/campaigns/{campaign_id}/payments", responses=ERRORS)
def mark_paid(
    campaign_id: Annotated[str, Path(description="the paying campaign's id")],
    body: MarkPaid,
    service: ServiceDep,
    key: WriteKey,
) -> PaymentList:
    return PaymentList.model_validate({"data": svc.mark_paid(service, campaign_id, body.reference, body.creator_id)})


@router.post("/v1/goals", status_code=201, responses=ERRORS)
def create_goal(body: CreateGoal, service: ServiceDep, key: WriteKey) -> GoalEnvelope:
    return GoalEnvelope.model_validate({"data": svc.create_goal(service, body.model_dump())})


@router.get("/v1/goals/status", responses=ERRORS)
def goal_status(
    service: ServiceDep,
    key: ReadKey,
    creator_id: str | None = None,
    all_periods: Annotated[bool, Query(description="every period, not only each goal's latest")] = False,
) -> GoalStatusList:
    return GoalStatusList.model_validate({"data": svc.goal_status(service, creator_id, all_periods)})
