"""``/v1/watched-accounts``: the accounts viewtrail watches, their latest counters and daily metrics."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from ..deps import ReadKey, ServiceDep
from ..responses import ERRORS, CachedRoute, paginate
from ..schemas import PlatformName, Rows, WatchedAccountEnvelope, WatchedAccountList

router = APIRouter(prefix="/v1/watched-accounts", tags=["accounts"], route_class=CachedRoute)

AccountRef = Annotated[str, Path(description="a watched account's id (tiktok:nasa) or URL-encoded account URL")]


@router.get("", responses=ERRORS)
def list_watched_accounts(
    request: Request,
    response: Response,
    service: ServiceDep,
    key: ReadKey,
    platform: PlatformName | None = None,
    creator: str | None = None,
    label: str | None = None,
    active: bool | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    include_total: bool = False,
) -> WatchedAccountList:
    page = service.list_accounts(
        platform=platform,
        creator=creator,
        label=label,
        active=active,
        cursor=cursor,
        limit=limit,
        include_total=include_total,
    )
    return WatchedAccountList.model_validate({"data": page.items, "pagination": paginate(request, response, page)})


@router.get("/{account_id:path}/metrics", responses=ERRORS)
def watched_account_metrics(
    account_id: AccountRef,
    service: ServiceDep,
    key: ReadKey,
    start_date: date | None = None,
    end_date: date | None = None,
) -> Rows:
    return Rows.model_validate({"data": service.account_metrics(account_id, start_date, end_date)})


@router.get("/{account_id:path}", responses=ERRORS)
def get_watched_account(account_id: AccountRef, service: ServiceDep, key: ReadKey) -> WatchedAccountEnvelope:
    return WatchedAccountEnvelope.model_validate({"data": service.get_account(account_id)})
