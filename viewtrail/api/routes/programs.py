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
    AddMembers,
    Adjustment,
    AdjustmentRecorded,
    CampaignEnvelope,
    CampaignList,
    CreateCampaign,
    CreateGoal,
    CreatorBalanceList,
    GoalEnvelope,
    GoalStatusList,
    MarkPaid,
    MembersAdded,
    PaymentList,
    SetTerms,
    TermsCreated,
    VideoDecision,
    VideoPayoutList,
    VideosDecided,
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


CampaignRef = Annotated[str, Path(description="a campaign's id (spring-launch)")]


@router.post("/v1/campaigns/{campaign_id}/members", responses=ERRORS)
def add_members(campaign_id: CampaignRef, body: AddMembers, service: ServiceDep, key: WriteKey) -> MembersAdded:
    return MembersAdded.model_validate(
        {"data": {"added": svc.add_members(service, campaign_id, body.kind, body.members)}}
    )


@router.post("/v1/campaigns/{campaign_id}/terms", status_code=201, responses=ERRORS)
def set_terms(campaign_id: CampaignRef, body: SetTerms, service: ServiceDep, key: WriteKey) -> TermsCreated:
    return TermsCreated.model_validate({"data": {"terms_id": svc.set_terms(service, campaign_id, body.model_dump())}})


@router.post("/v1/campaigns/{campaign_id}/rejections", responses=ERRORS)
def reject(campaign_id: CampaignRef, body: VideoDecision, service: ServiceDep, key: WriteKey) -> VideosDecided:
    decided = svc.decide_videos(service, campaign_id, body.video_ids, body.reason, reject=True)
    return VideosDecided.model_validate({"data": decided})


@router.post("/v1/campaigns/{campaign_id}/unrejections", responses=ERRORS)
def unreject(campaign_id: CampaignRef, body: VideoDecision, service: ServiceDep, key: WriteKey) -> VideosDecided:
    decided = svc.decide_videos(service, campaign_id, body.video_ids, body.reason, reject=False)
    return VideosDecided.model_validate({"data": decided})


@router.post("/v1/campaigns/{campaign_id}/adjustments", status_code=201, responses=ERRORS)
def adjust(campaign_id: CampaignRef, body: Adjustment, service: ServiceDep, key: WriteKey) -> AdjustmentRecorded:
    entry = svc.adjust(service, campaign_id, body.model_dump())
    return AdjustmentRecorded.model_validate({"data": {"entry_id": entry}})


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
    campaign_id: CampaignRef,
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
