"""The API's operations, one router per resource; :data:`api_router` includes them all."""

from fastapi import APIRouter

from . import creators, groups, meta, programs, videos, watched_accounts

api_router = APIRouter()
for resource in (meta, videos, groups, watched_accounts, creators, programs):
    api_router.include_router(resource.router)

__all__ = ["api_router"]
