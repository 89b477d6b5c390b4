"""``/v1/health`` (no key) and ``/v1/status`` (what `viewtrail status` shows)."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import ReadKey, ServiceDep, SettingsDep
from ..responses import ERRORS, CachedRoute
from ..schemas import Health, StatusEnvelope

router = APIRouter(prefix="/v1", tags=["meta"], route_class=CachedRoute)


@router.get("/health", responses={500: ERRORS[500]})
def health(settings: SettingsDep) -> Health:
    return Health(status="ok", analytics_copy=settings.analytics_path.exists())


@router.get("/status", responses=ERRORS)
def status(service: ServiceDep, key: ReadKey) -> StatusEnvelope:
    return StatusEnvelope.model_validate({"data": service.status()})
