"""Daily rows of a group of videos: ``/v1/labels`` and a label's or an account's ``daily`` marts."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from ..deps import ReadKey, ServiceDep
from ..responses import ERRORS, CachedRoute
from ..schemas import Labels, PlatformName, Rows

router = APIRouter(prefix="/v1", tags=["groups"], route_class=CachedRoute)


@router.get("/labels", responses=ERRORS)
def labels(service: ServiceDep, key: ReadKey) -> Labels:
    return Labels.model_validate({"data": service.labels()})


@router.get("/labels/{label}/daily", responses=ERRORS)
def label_daily(
    label: str, service: ServiceDep, key: ReadKey, start_date: date | None = None, end_date: date | None = None
) -> Rows:
    return Rows.model_validate({"data": service.label_daily(label, start_date, end_date)})


@router.get("/accounts/{account}/daily", responses=ERRORS)
def account_daily(
    account: str,
    service: ServiceDep,
    key: ReadKey,
    platform: PlatformName | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
) -> Rows:
    return Rows.model_validate({"data": service.account_daily(account, platform, start_date, end_date)})
