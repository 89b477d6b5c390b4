"""The HTTP API: a thin FastAPI layer over :mod:`viewtrail.api.service`.

Why FastAPI: it is the ecosystem's standard ASGI framework, generates the OpenAPI 3.1 document from the same
pydantic models that parse the requests (so the schema the property tests check is the code's own), and runs
under uvicorn. Sync endpoints run in its thread pool; DuckDB and SQLite calls never block the event loop.

Cross-cutting rules (every response):

- ``X-Request-ID`` (the client's, when it sent a sane one, else a new one);
- errors are RFC 9457 ``application/problem+json`` with a ``code``; a 500 says only "internal error" and the
  request id (the traceback goes to the server log, never to the client);
- authenticated responses carry ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` (seconds until the window
  frees a request). The limiter is the ``limits`` library's moving window in memory, per key and per process:
  a well-kept implementation of exactly this, so no token bucket of our own;
- every GET has a strong ``ETag`` (SHA-256 of the body) and ``Cache-Control: private, no-cache``;
  ``If-None-Match`` with it gives 304 and no body.
"""

import asyncio
import hashlib
import json
import logging
import math
import re
import time
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.exceptions import HTTPException as StarletteHTTPException

from viewtrail.warehouse.registry import MAX_DAYS, MAX_LABEL_CHARS

from .service import ApiProblem, Conflict, Page, Service, invalid
from .settings import ApiSettings, api_settings
from .store import ApiKey, Scope

log = logging.getLogger("viewtrail.api")
PROBLEM = "application/problem+json"
TITLES = {
    "BAD_REQUEST": "Bad request",
    "UNAUTHORIZED": "Unauthorized",
    "FORBIDDEN": "Forbidden",
    "INSUFFICIENT_SCOPE": "Insufficient scope",
    "NOT_FOUND": "Not found",
    "CONFLICT": "Conflict",
    "VALIDATION_ERROR": "Validation error",
    "RATE_LIMITED": "Too many requests",
    "INTERNAL_ERROR": "Internal error",
    "SERVICE_UNAVAILABLE": "Service unavailable",
}
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class Unauthorized(ApiProblem):
    status, code = 401, "UNAUTHORIZED"


class InsufficientScope(ApiProblem):
    status, code = 403, "INSUFFICIENT_SCOPE"


class RateLimited(ApiProblem):
    status, code = 429, "RATE_LIMITED"


# ------------------------------------------------------------------------------------------------ models


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: Literal[
        "BAD_REQUEST",
        "UNAUTHORIZED",
        "FORBIDDEN",
        "INSUFFICIENT_SCOPE",
        "NOT_FOUND",
        "CONFLICT",
        "VALIDATION_ERROR",
        "RATE_LIMITED",
        "INTERNAL_ERROR",
        "SERVICE_UNAVAILABLE",
    ]
    instance: str
    request_id: str
    errors: list[FieldError] | None = None


class Latest(BaseModel):
    observed_at: str
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None


class Growth(BaseModel):
    increase_1d: int | None
    increase_7d: int | None
    increase_14d: int | None
    increase_30d: int | None
    outlier_multiplier: float | None
    engagement_rate: float | None


class Video(BaseModel):
    video_id: str
    platform: Literal["tiktok", "youtube", "instagram", "x"]
    external_id: str
    url: str | None
    account: str | None
    is_active: bool
    cadence: str
    track_until: str | None
    labels: list[str]
    metadata: dict[str, Any]
    added_at: str
    updated_at: str
    stopped_at: str | None
    latest: Latest | None
    growth: Growth | None


class Pagination(BaseModel):
    next_cursor: str | None
    has_next: bool
    limit: int
    total_count: int | None = None


class VideoEnvelope(BaseModel):
    data: Video


class VideoList(BaseModel):
    data: list[Video]
    pagination: Pagination


#: A label: at most MAX_LABEL_CHARS characters, no control characters (the registry's rule, in the schema).
LabelText = Annotated[str, StringConstraints(max_length=MAX_LABEL_CHARS, pattern=r"^[^\x00-\x1f\x7f-\x9f]*$")]


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cadence: str | int | None = Field(None, description="'auto' or hours between snapshots, 1..720")
    days: int | None = Field(None, ge=1, le=MAX_DAYS, description=f"stop tracking after N days, 1..{MAX_DAYS}")
    labels: list[LabelText] = Field(default_factory=list, max_length=100)


class CreateVideo(Options):
    url: str = Field(max_length=2048, description="any URL form the CLI accepts, or a video id")
    platform: Literal["tiktok", "youtube", "instagram", "x"] | None = None
    metadata: dict[str, Any] | None = None


class BulkCreate(Options):
    urls: list[str] = Field(min_length=1, max_length=1000)


class BulkItem(BaseModel):
    index: int
    url: str
    status: Literal["created", "updated", "invalid"]
    video_id: str | None
    reason: str | None


class BulkResult(BaseModel):
    data: list[BulkItem]


class PatchVideo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labels: list[LabelText] | None = Field(None, max_length=100)
    metadata: dict[str, Any] | None = None
    cadence: str | int | None = None
    is_active: bool | None = None
    track_until: datetime | None = None


class BulkStop(BaseModel):
    ids: list[str] = Field(min_length=1, max_length=1000)


class StopItem(BaseModel):
    index: int
    id: str
    video_id: str | None
    status: Literal["stopped", "already_stopped", "unknown"]


class StopResult(BaseModel):
    data: list[StopItem]


class Deleted(BaseModel):
    video_id: str
    deleted: bool
    snapshots_deleted: int


class DeletedEnvelope(BaseModel):
    data: Deleted


class ScrapeQueued(BaseModel):
    request_id: str | None
    video_ids: list[str]
    status: Literal["queued"]


class ScrapeEnvelope(BaseModel):
    data: ScrapeQueued


class Rows(BaseModel):
    data: list[dict[str, Any]]


class RowPage(BaseModel):
    data: list[dict[str, Any]]
    pagination: Pagination


class Label(BaseModel):
    label: str
    videos: int
    active_videos: int


class Labels(BaseModel):
    data: list[Label]


class AccountLatest(BaseModel):
    display_name: str | None
    first_observed_at: str | None
    last_observed_at: str | None
    median_video_views: float | None
    posts_per_week: float | None
    last_posted_at: str | None
    as_of_at: str | None
    last_attempt_at: str | None
    last_outcome: str | None
    followers: int | None
    following: int | None
    likes: int | None
    video_count: int | None
    views: int | None
    followers_gained_7d: int | None
    followers_gained_30d: int | None
    tracked_videos: int | None
    tracked_video_views: int | None
    tracked_video_engagements: int | None
    snapshot_count: int | None
    consecutive_failures: int | None


class WatchedAccount(BaseModel):
    account_id: str
    platform: Literal["tiktok", "youtube", "instagram", "x"]
    handle: str | None
    platform_account_id: str | None
    url: str
    is_active: bool
    discovery: Literal["auto", "review", "off"]
    latest_n: int
    since: str | None
    discovery_cadence_hours: float
    video_cadence: str
    labels: list[str]
    metadata: dict[str, Any]
    creators: list[str]
    added_at: str
    updated_at: str
    stopped_at: str | None
    latest: AccountLatest | None


class WatchedAccountEnvelope(BaseModel):
    data: WatchedAccount


class WatchedAccountList(BaseModel):
    data: list[WatchedAccount]
    pagination: Pagination


class PlatformShares(BaseModel):
    tiktok: float | None
    youtube: float | None
    instagram: float | None
    x: float | None


class CreatorShares(BaseModel):
    views: PlatformShares
    engagements: PlatformShares
    followers: PlatformShares


class CreatorLatest(BaseModel):
    accounts: int | None
    videos: int | None
    views: int | None
    engagements: int | None
    followers: int | None
    engagement_rate_by_followers: float | None
    posts_per_week: float | None
    as_of_at: str | None
    shares: CreatorShares


class Creator(BaseModel):
    creator_id: str
    name: str
    labels: list[str]
    metadata: dict[str, Any]
    account_ids: list[str]
    platforms: list[Literal["tiktok", "youtube", "instagram", "x"]]
    added_at: str
    updated_at: str
    latest: CreatorLatest | None


class CreatorEnvelope(BaseModel):
    data: Creator


class CreatorList(BaseModel):
    data: list[Creator]
    pagination: Pagination


class StatusEnvelope(BaseModel):
    data: dict[str, Any]


class Health(BaseModel):
    status: Literal["ok"]
    analytics_copy: bool


_ERRORS = {
    s: {"model": Problem, "description": d}
    for s, d in {
        400: "Bad request",
        401: "Missing, invalid or revoked API key",
        403: "The key's scope does not allow this",
        404: "Not found",
        422: "Validation error",
        429: "Rate limited",
        500: "Internal error",
        503: "The warehouse is busy",
    }.items()
}
_WRITE_ERRORS = {**_ERRORS, 409: {"model": Problem, "description": "Idempotency-Key reused with another request"}}


# ------------------------------------------------------------------------------------------- the app


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or api_settings()
    service = Service(settings)
    # limits' asyncio flavour: the threaded one starts a non-daemon threading.Timer for each expiry, which never
    # fires under faketime (a timed lock wait) and then keeps the process from exiting
    limiter = MovingWindowRateLimiter(MemoryStorage())
    rate = RateLimitItemPerMinute(settings.rate_per_min)
    bearer = HTTPBearer(auto_error=False, description="an API key from `viewtrail api-key create`")

    app = FastAPI(
        title="viewtrail API",
        version="1",
        description="Track social videos and read their metrics from your own viewtrail warehouse.",
        openapi_url="/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.service = service

    def problem(
        request: Request,
        status: int,
        code: str,
        detail: str,
        *,
        errors: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        body: dict[str, Any] = {
            "type": f"urn:viewtrail:problem:{code.lower().replace('_', '-')}",
            "title": TITLES[code],
            "status": status,
            "detail": detail,
            "code": code,
            "instance": request.url.path,
            "request_id": request.state.request_id,
        }
        if errors is not None:
            body["errors"] = [{"field": f, "message": m} for f, m in errors]
        return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)

    def from_problem(request: Request, error: ApiProblem) -> JSONResponse:
        headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
        errors = error.errors if (error.errors or error.status == 422) else None
        return problem(request, error.status, error.code, str(error), errors=errors, headers=headers)

    @app.middleware("http")
    async def envelope(request: Request, call_next):  # type: ignore[no-untyped-def]
        given = request.headers.get("x-request-id", "")
        request.state.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request.state.rate = None
        try:
            response = await call_next(request)
        except Exception:
            log.exception(
                "internal error on %s %s (request %s)", request.method, request.url.path, request.state.request_id
            )
            response = problem(
                request,
                500,
                "INTERNAL_ERROR",
                f"The server failed to handle this request; it was logged under request id {request.state.request_id}.",
            )
        response.headers["X-Request-ID"] = request.state.request_id
        if request.state.rate:
            for name, value in request.state.rate.items():
                response.headers.setdefault(name, value)
        return response

    @app.exception_handler(ApiProblem)
    async def on_problem(request: Request, error: ApiProblem) -> JSONResponse:
        return from_problem(request, error)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = []
        for item in error.errors():
            if item.get("type") == "json_invalid":
                return problem(request, 400, "BAD_REQUEST", "The request body is not valid JSON; send a JSON object.")
            loc = [str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path", "header")]
            errors.append((".".join(loc) or "body", str(item.get("msg", "invalid value")).rstrip(".") + "."))
        first = f"{errors[0][0]}: {errors[0][1]}" if errors else "The request is not valid."
        return problem(request, 422, "VALIDATION_ERROR", first, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {
            401: "UNAUTHORIZED",
            403: "FORBIDDEN",
            404: "NOT_FOUND",
            409: "CONFLICT",
            422: "VALIDATION_ERROR",
            429: "RATE_LIMITED",
            503: "SERVICE_UNAVAILABLE",
        }.get(error.status_code, "BAD_REQUEST")
        if error.status_code >= 500:
            code = "INTERNAL_ERROR"
        detail = {
            404: f"There is no endpoint {request.url.path}; see /v1/openapi.json.",
            405: f"{request.method} is not allowed on {request.url.path}; see /v1/openapi.json.",
        }.get(error.status_code, str(error.detail).rstrip(".") + ".")
        return problem(request, error.status_code, code, detail, headers=getattr(error, "headers", None))

    # --------------------------------------------------------------------------------------------- auth

    def authenticate(needed: Scope):  # type: ignore[no-untyped-def]
        async def dependency(
            request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
        ) -> ApiKey:
            if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
                raise Unauthorized(
                    "Send an API key as 'Authorization: Bearer <key>'; create one with `viewtrail api-key create`."
                )
            key = await run_in_threadpool(service.store.authenticate, credentials.credentials)
            if key is None:
                raise Unauthorized("The API key is not valid; check it or create one with `viewtrail api-key create`.")
            if key.revoked_at is not None:
                raise Unauthorized("The API key was revoked; create a new one with `viewtrail api-key create`.")
            allowed = await limiter.hit(rate, key.id)
            stats = await limiter.get_window_stats(rate, key.id)
            reset = max(0, math.ceil(stats.reset_time - time.time()))
            request.state.rate = {
                "X-RateLimit-Limit": str(settings.rate_per_min),
                "X-RateLimit-Remaining": str(max(0, stats.remaining)),
                "X-RateLimit-Reset": str(reset),
            }
            if not allowed:
                raise RateLimited(
                    f"This key made more than {settings.rate_per_min} requests in a minute; retry in "
                    f"{max(1, reset)} s.",
                    retry_after=max(1, reset),
                )
            if not key.scope.allows(needed):
                raise InsufficientScope(
                    f"This key has the {key.scope.value} scope but this endpoint needs "
                    f"{needed.value}; use a key created with --scope {needed.value}."
                )
            return key

        return dependency

    read = Depends(authenticate(Scope.READ))
    write = Depends(authenticate(Scope.WRITE))

    # --------------------------------------------------------------------------------------- responses

    def ok(request: Request, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode()
        headers = dict(headers or {})
        if request.method == "GET":
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            headers["ETag"] = etag
            headers["Cache-Control"] = "private, no-cache"
            wanted = [t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")]
            if etag in wanted or "*" in wanted:
                return Response(status_code=304, headers=headers)
        return Response(body, status_code=status, media_type="application/json", headers=headers)

    def page(request: Request, result: Page, include_total: bool) -> Response:
        pagination: dict[str, Any] = {
            "next_cursor": result.next_cursor,
            "has_next": result.next_cursor is not None,
            "limit": result.limit,
        }
        if include_total:
            pagination["total_count"] = result.total_count
        headers = {}
        if result.next_cursor:
            nxt = request.url.include_query_params(cursor=result.next_cursor)
            headers["Link"] = f'<{nxt}>; rel="next"'
        return ok(request, {"data": result.items, "pagination": pagination}, headers=headers)

    async def idempotent(request: Request, key: ApiKey, idem: str | None, payload: BaseModel, work) -> Response:  # type: ignore[no-untyped-def]
        """Run ``work`` (returns status, headers, body) once per Idempotency-Key; replay its response after."""

        async def run() -> tuple[int, dict[str, str], bytes]:
            try:
                return await run_in_threadpool(work)
            except ApiProblem as error:
                response = from_problem(request, error)
                return (
                    response.status_code,
                    {k: v for k, v in response.headers.items() if k.lower() == "retry-after"},
                    bytes(response.body),
                )

        if idem is None:
            status, headers, body = await run()
            return Response(body, status_code=status, headers=headers, media_type=_media(status))
        if not _IDEMPOTENCY_KEY.fullmatch(idem):
            raise invalid("Idempotency-Key", "The Idempotency-Key header must be 1 to 255 printable ASCII characters.")
        fingerprint = hashlib.sha256(
            f"{request.method} {request.url.path} ".encode() + payload.model_dump_json(exclude_unset=False).encode()
        ).hexdigest()
        deadline = time.monotonic() + settings.lock_timeout_s + 30
        while True:
            verdict, stored = await run_in_threadpool(service.store.claim, key.id, idem, fingerprint)
            if verdict == "run":
                try:
                    status, headers, body = await run()
                except BaseException:
                    await run_in_threadpool(service.store.release, key.id, idem)
                    raise
                if status >= 500:
                    await run_in_threadpool(service.store.release, key.id, idem)
                else:
                    await run_in_threadpool(service.store.finish, key.id, idem, status, headers, body)
                return Response(body, status_code=status, headers=headers, media_type=_media(status))
            if verdict == "replay":
                status, headers, body = stored
                return Response(
                    body,
                    status_code=status,
                    headers={**headers, "Idempotent-Replayed": "true"},
                    media_type=_media(status),
                )
            if verdict == "conflict":
                raise Conflict(
                    "This Idempotency-Key was used with a different request; use a new key for a new request."
                )
            if time.monotonic() > deadline:
                from datetime import timedelta

                await run_in_threadpool(
                    service.store.release_stale, key.id, idem, timedelta(seconds=settings.lock_timeout_s + 30)
                )
                raise Conflict(
                    "A request with this Idempotency-Key is still in progress; retry in a moment.", retry_after=1
                )
            await asyncio.sleep(0.05)

    def _media(status: int) -> str:
        return PROBLEM if status >= 400 else "application/json"

    # --------------------------------------------------------------------------------------- endpoints

    VideoRef = Annotated[str, Path(description="a video id (youtube:dQw4w9WgXcQ) or a URL-encoded video URL")]

    @app.get("/v1/health", response_model=Health, tags=["meta"], responses={500: _ERRORS[500]})
    def health(request: Request) -> Response:
        return ok(request, {"status": "ok", "analytics_copy": settings.analytics_path.exists()})

    @app.post(
        "/v1/videos",
        status_code=201,
        response_model=VideoEnvelope,
        tags=["videos"],
        responses={
            200: {"model": VideoEnvelope, "description": "Already tracked: the stored video, updated"},
            **_WRITE_ERRORS,
        },
    )
    async def create_video(
        request: Request,
        body: CreateVideo,
        key: ApiKey = write,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
    ) -> Response:
        def work() -> tuple[int, dict[str, str], bytes]:
            created, video = service.create_video(
                body.url,
                platform=body.platform,
                cadence=body.cadence,
                days=body.days,
                labels=body.labels,
                metadata=body.metadata,
            )
            location = f"/v1/videos/{video['video_id']}"
            return (201 if created else 200), {"Location": location}, _json({"data": video})

        return await idempotent(request, key, idempotency_key, body, work)

    @app.post("/v1/videos/bulk", response_model=BulkResult, tags=["videos"], responses=_WRITE_ERRORS)
    async def bulk_create(
        request: Request,
        body: BulkCreate,
        key: ApiKey = write,
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
    ) -> Response:
        def work() -> tuple[int, dict[str, str], bytes]:
            results = service.bulk_create(body.urls, cadence=body.cadence, days=body.days, labels=body.labels)
            return 200, {}, _json({"data": results})

        return await idempotent(request, key, idempotency_key, body, work)

    @app.post("/v1/videos/bulk-stop", response_model=StopResult, tags=["videos"], responses=_ERRORS)
    def bulk_stop(request: Request, body: BulkStop, key: ApiKey = write) -> Response:
        return ok(request, {"data": service.bulk_stop(body.ids)})

    @app.get("/v1/videos", response_model=VideoList, tags=["videos"], responses=_ERRORS)
    def list_videos(
        request: Request,
        key: ApiKey = read,
        platform: Literal["tiktok", "youtube", "instagram", "x"] | None = None,
        label: str | None = None,
        account: str | None = None,
        active: bool | None = None,
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        include_total: bool = False,
    ) -> Response:
        result = service.list_videos(
            platform=platform,
            label=label,
            account=account,
            active=active,
            cursor=cursor,
            limit=limit,
            include_total=include_total,
        )
        return page(request, result, include_total)

    @app.get("/v1/videos/{video_id:path}/history", response_model=Rows, tags=["videos"], responses=_ERRORS)
    def history(
        request: Request,
        video_id: VideoRef,
        key: ApiKey = read,
        start_date: date | None = None,
        end_date: date | None = None,
    ) -> Response:
        return ok(request, {"data": service.history(video_id, start_date, end_date)})

    @app.get("/v1/videos/{video_id:path}/snapshots", response_model=RowPage, tags=["videos"], responses=_ERRORS)
    def snapshots(
        request: Request,
        video_id: VideoRef,
        key: ApiKey = read,
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> Response:
        return page(request, service.snapshots(video_id, cursor=cursor, limit=limit), False)

    @app.post("/v1/videos/{video_id:path}/stop", response_model=VideoEnvelope, tags=["videos"], responses=_ERRORS)
    def stop(request: Request, video_id: VideoRef, key: ApiKey = write) -> Response:
        return ok(request, {"data": service.stop(video_id)})

    @app.post(
        "/v1/videos/{video_id:path}/scrape",
        status_code=202,
        response_model=ScrapeEnvelope,
        tags=["videos"],
        responses=_ERRORS,
    )
    def scrape(request: Request, video_id: VideoRef, key: ApiKey = write) -> Response:
        return ok(request, {"data": service.scrape(video_id)}, status=202)

    @app.get("/v1/videos/{video_id:path}", response_model=VideoEnvelope, tags=["videos"], responses=_ERRORS)
    def get_video(request: Request, video_id: VideoRef, key: ApiKey = read) -> Response:
        return ok(request, {"data": service.get_video(video_id)})

    @app.patch("/v1/videos/{video_id:path}", response_model=VideoEnvelope, tags=["videos"], responses=_ERRORS)
    def patch_video(request: Request, video_id: VideoRef, body: PatchVideo, key: ApiKey = write) -> Response:
        changes = body.model_dump(exclude_unset=True)
        if "track_until" in changes and changes["track_until"] is not None:
            value = changes["track_until"]
            if value.tzinfo is not None:
                from datetime import UTC

                value = value.astimezone(UTC).replace(tzinfo=None)
            changes["track_until"] = value
        return ok(request, {"data": service.patch(video_id, changes)})

    @app.delete("/v1/videos/{video_id:path}", response_model=DeletedEnvelope, tags=["videos"], responses=_ERRORS)
    def delete_video(request: Request, video_id: VideoRef, key: ApiKey = write) -> Response:
        return ok(request, {"data": service.delete(video_id)})

    @app.get("/v1/labels", response_model=Labels, tags=["groups"], responses=_ERRORS)
    def labels(request: Request, key: ApiKey = read) -> Response:
        return ok(request, {"data": service.labels()})

    @app.get("/v1/labels/{label}/daily", response_model=Rows, tags=["groups"], responses=_ERRORS)
    def label_daily(
        request: Request, label: str, key: ApiKey = read, start_date: date | None = None, end_date: date | None = None
    ) -> Response:
        return ok(request, {"data": service.label_daily(label, start_date, end_date)})

    @app.get("/v1/accounts/{account}/daily", response_model=Rows, tags=["groups"], responses=_ERRORS)
    def account_daily(
        request: Request,
        account: str,
        key: ApiKey = read,
        platform: Literal["tiktok", "youtube", "instagram", "x"] | None = None,
        start_date: date | None = None,
        end_date: date | None = None,
    ) -> Response:
        return ok(request, {"data": service.account_daily(account, platform, start_date, end_date)})

    AccountRef = Annotated[str, Path(description="a watched account's id (tiktok:nasa) or URL-encoded account URL")]
    CreatorRef = Annotated[str, Path(description="a creator's id (jane-doe) or name")]

    @app.get("/v1/watched-accounts", response_model=WatchedAccountList, tags=["accounts"], responses=_ERRORS)
    def list_watched_accounts(
        request: Request,
        key: ApiKey = read,
        platform: Literal["tiktok", "youtube", "instagram", "x"] | None = None,
        creator: str | None = None,
        label: str | None = None,
        active: bool | None = None,
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        include_total: bool = False,
    ) -> Response:
        result = service.list_accounts(
            platform=platform,
            creator=creator,
            label=label,
            active=active,
            cursor=cursor,
            limit=limit,
            include_total=include_total,
        )
        return page(request, result, include_total)

    @app.get(
        "/v1/watched-accounts/{account_id:path}/metrics", response_model=Rows, tags=["accounts"], responses=_ERRORS
    )
    def watched_account_metrics(
        request: Request,
        account_id: AccountRef,
        key: ApiKey = read,
        start_date: date | None = None,
        end_date: date | None = None,
    ) -> Response:
        return ok(request, {"data": service.account_metrics(account_id, start_date, end_date)})

    @app.get(
        "/v1/watched-accounts/{account_id:path}",
        response_model=WatchedAccountEnvelope,
        tags=["accounts"],
        responses=_ERRORS,
    )
    def get_watched_account(request: Request, account_id: AccountRef, key: ApiKey = read) -> Response:
        return ok(request, {"data": service.get_account(account_id)})

    @app.get("/v1/creators", response_model=CreatorList, tags=["accounts"], responses=_ERRORS)
    def list_creators(
        request: Request,
        key: ApiKey = read,
        platform: Literal["tiktok", "youtube", "instagram", "x"] | None = None,
        label: str | None = None,
        cursor: str | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        include_total: bool = False,
    ) -> Response:
        result = service.list_creators(
            platform=platform, label=label, cursor=cursor, limit=limit, include_total=include_total
        )
        return page(request, result, include_total)

    @app.get("/v1/creators/{creator_id}/daily", response_model=Rows, tags=["accounts"], responses=_ERRORS)
    def creator_daily(
        request: Request,
        creator_id: CreatorRef,
        key: ApiKey = read,
        start_date: date | None = None,
        end_date: date | None = None,
    ) -> Response:
        return ok(request, {"data": service.creator_daily(creator_id, start_date, end_date)})

    @app.get("/v1/creators/{creator_id}", response_model=CreatorEnvelope, tags=["accounts"], responses=_ERRORS)
    def get_creator(request: Request, creator_id: CreatorRef, key: ApiKey = read) -> Response:
        return ok(request, {"data": service.get_creator(creator_id)})

    @app.get("/v1/status", response_model=StatusEnvelope, tags=["meta"], responses=_ERRORS)
    def status(request: Request, key: ApiKey = read) -> Response:
        return ok(request, {"data": service.status()})

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if code.isdigit() and int(code) >= 400 and "application/json" in content:
                        content[PROBLEM] = content.pop("application/json")
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _json(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode()
