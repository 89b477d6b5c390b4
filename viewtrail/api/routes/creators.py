"""``/v1/creators``: the people or brands behind watched accounts, with totals summed over their accounts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from ..deps import ReadKey, ServiceDep
from ..responses import ERRORS, CachedRoute, paginate
from ..schemas import CreatorEnvelope, CreatorList, PlatformName, Rows

router = APIRouter(prefix="/v1/creators", tags=["accounts"], route_class=CachedRoute)

CreatorRef = Annotated[str, Path(description="a creator's id (jane-doe) or name")]


@router.get("", responses=ERRORS)
def list_creators(
    request: Request,
    response: Response,
    service: ServiceDep,
    key: ReadKey,
    platform: PlatformName | None = None,
    label: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    include_total: bool = False,
) -> CreatorList:
    page = service.list_creators(
        platform=platform, label=label, cursor=cursor, limit=limit, include_total=include_total
    )
    return CreatorList.model_validate({"data": page.items, "pagination": paginate(request, response, page)})


@router.get("/{creator_id}/daily", responses=ERRORS)
def creator_daily(
    creator_id: CreatorRef,
    service: ServiceDep,
    key: ReadKey,
    start_date: date | None = None,
    end_date: date | None = None,
) -> Rows:
    return Rows.model_validate({"data": service.creator_daily(creator_id, start_date, end_date)})


@router.get("/{creator_id}", responses=ERRORS)
def get_creator(creator_id: CreatorRef, service: ServiceDep, key: ReadKey) -> CreatorEnvelope:
    return CreatorEnvelope.model_validate({"data": service.get_creator(creator_id)})
