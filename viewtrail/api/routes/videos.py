"""``/v1/videos``: track, list, read, change, stop, rescrape and delete videos."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from viewtrail.clock import naive_utc

from ..deps import IdempotencyDep, ReadKey, ServiceDep, WriteKey, Written
from ..responses import ERRORS, WRITE_ERRORS, CachedRoute, paginate
from ..schemas import (
    BulkCreate,
    BulkResult,
    BulkStop,
    CreateVideo,
    DeletedEnvelope,
    PatchVideo,
    PlatformName,
    RowPage,
    Rows,
    ScrapeEnvelope,
    StopResult,
    VideoEnvelope,
    VideoList,
)

router = APIRouter(prefix="/v1/videos", tags=["videos"], route_class=CachedRoute)

VideoRef = Annotated[str, Path(description="a video id (youtube:dQw4w9WgXcQ) or a URL-encoded video URL")]


@router.post(
    "",
    status_code=201,
    response_model=VideoEnvelope,
    responses={
        200: {"model": VideoEnvelope, "description": "Already tracked: the stored video, updated"},
        **WRITE_ERRORS,
    },
)
async def create_video(body: CreateVideo, service: ServiceDep, once: IdempotencyDep) -> Response:
    # an Idempotency-Key replays the first response byte for byte, so `once` renders the validated schema
    # instance and keeps the bytes: these two writes return a Response rather than the instance
    def work() -> Written:
        created, video = service.create_video(
            body.url,
            platform=body.platform,
            cadence=body.cadence,
            days=body.days,
            labels=body.labels,
            metadata=body.metadata,
        )
        location = {"Location": f"/v1/videos/{video['video_id']}"}
        return (201 if created else 200), location, VideoEnvelope.model_validate({"data": video})

    return await once.run(body, work)


@router.post("/bulk", response_model=BulkResult, responses=WRITE_ERRORS)
async def bulk_create(body: BulkCreate, service: ServiceDep, once: IdempotencyDep) -> Response:
    def work() -> Written:
        results = service.bulk_create(body.urls, cadence=body.cadence, days=body.days, labels=body.labels)
        return 200, {}, BulkResult.model_validate({"data": results})

    return await once.run(body, work)


@router.post("/bulk-stop", responses=ERRORS)
def bulk_stop(body: BulkStop, service: ServiceDep, key: WriteKey) -> StopResult:
    return StopResult.model_validate({"data": service.bulk_stop(body.ids)})


@router.get("", responses=ERRORS)
def list_videos(
    request: Request,
    response: Response,
    service: ServiceDep,
    key: ReadKey,
    platform: PlatformName | None = None,
    label: str | None = None,
    account: str | None = None,
    active: bool | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    include_total: bool = False,
) -> VideoList:
    page = service.list_videos(
        platform=platform,
        label=label,
        account=account,
        active=active,
        cursor=cursor,
        limit=limit,
        include_total=include_total,
    )
    return VideoList.model_validate({"data": page.items, "pagination": paginate(request, response, page)})


@router.get("/{video_id:path}/history", responses=ERRORS)
def history(
    video_id: VideoRef,
    service: ServiceDep,
    key: ReadKey,
    start_date: date | None = None,
    end_date: date | None = None,
) -> Rows:
    return Rows.model_validate({"data": service.history(video_id, start_date, end_date)})


@router.get("/{video_id:path}/snapshots", responses=ERRORS)
def snapshots(
    request: Request,
    response: Response,
    video_id: VideoRef,
    service: ServiceDep,
    key: ReadKey,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RowPage:
    page = service.snapshots(video_id, cursor=cursor, limit=limit)
    return RowPage.model_validate({"data": page.items, "pagination": paginate(request, response, page)})


@router.post("/{video_id:path}/stop", responses=ERRORS)
def stop(video_id: VideoRef, service: ServiceDep, key: WriteKey) -> VideoEnvelope:
    return VideoEnvelope.model_validate({"data": service.stop(video_id)})


@router.post("/{video_id:path}/scrape", status_code=202, responses=ERRORS)
def scrape(video_id: VideoRef, service: ServiceDep, key: WriteKey) -> ScrapeEnvelope:
    return ScrapeEnvelope.model_validate({"data": service.scrape(video_id)})


@router.get("/{video_id:path}", responses=ERRORS)
def get_video(video_id: VideoRef, service: ServiceDep, key: ReadKey) -> VideoEnvelope:
    return VideoEnvelope.model_validate({"data": service.get_video(video_id)})


@router.patch("/{video_id:path}", responses=ERRORS)
def patch_video(video_id: VideoRef, body: PatchVideo, service: ServiceDep, key: WriteKey) -> VideoEnvelope:
    changes = body.model_dump(exclude_unset=True)
    if changes.get("track_until") is not None:
        changes["track_until"] = naive_utc(changes["track_until"])  # the registry keeps naive UTC
    return VideoEnvelope.model_validate({"data": service.patch(video_id, changes)})


@router.delete("/{video_id:path}", responses=ERRORS)
def delete_video(video_id: VideoRef, service: ServiceDep, key: WriteKey) -> DeletedEnvelope:
    return DeletedEnvelope.model_validate({"data": service.delete(video_id)})
