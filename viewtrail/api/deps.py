"""The API's dependencies: the service, the API key (authentication, rate limit, scope) and Idempotency-Key.

Handlers declare them by type (``service: ServiceDep``, ``key: WriteKey``, ``once: IdempotencyDep``); FastAPI
runs each once per request. The rate limiter is the ``limits`` library's moving window in memory, per key and per
process (a well-kept implementation of exactly this, so no token bucket of our own); every authenticated response
carries ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` (seconds until the window frees a request).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from pydantic import BaseModel

from .responses import PROBLEM, from_problem, render_model
from .service import ApiProblem, Conflict, Service, invalid
from .settings import ApiSettings
from .store import ApiKey, Scope

_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class Unauthorized(ApiProblem):
    status, code = 401, "UNAUTHORIZED"


class InsufficientScope(ApiProblem):
    status, code = 403, "INSUFFICIENT_SCOPE"


class RateLimited(ApiProblem):
    status, code = 429, "RATE_LIMITED"


class RateLimit:
    """Requests per minute per API key, counted in this process."""

    def __init__(self, per_minute: int) -> None:
        # limits' asyncio flavour: the threaded one starts a non-daemon threading.Timer for each expiry, which
        # never fires under faketime (a timed lock wait) and then keeps the process from exiting
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._rate = RateLimitItemPerMinute(per_minute)
        self.per_minute = per_minute

    async def hit(self, key_id: str) -> tuple[bool, dict[str, str], int]:
        """Count one request: whether it is allowed, the rate-limit headers, and seconds until the reset."""
        allowed = await self._limiter.hit(self._rate, key_id)
        stats = await self._limiter.get_window_stats(self._rate, key_id)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        headers = {
            "X-RateLimit-Limit": str(self.per_minute),
            "X-RateLimit-Remaining": str(max(0, stats.remaining)),
            "X-RateLimit-Reset": str(reset),
        }
        return allowed, headers, reset


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def get_settings(request: Request) -> ApiSettings:
    return get_service(request).settings


ServiceDep = Annotated[Service, Depends(get_service)]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]

bearer = HTTPBearer(auto_error=False, description="an API key from `viewtrail api-key create`")


def _api_key(needed: Scope) -> Callable[..., Coroutine[Any, Any, ApiKey]]:
    """The dependency that admits a request with a valid, unrevoked key of ``needed`` scope within its rate."""

    async def api_key(
        request: Request,
        service: ServiceDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
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
        rate_limit: RateLimit = request.app.state.rate_limit
        allowed, request.state.rate, reset = await rate_limit.hit(key.id)
        if not allowed:
            raise RateLimited(
                f"This key made more than {rate_limit.per_minute} requests in a minute; retry in {max(1, reset)} s.",
                retry_after=max(1, reset),
            )
        if not key.scope.allows(needed):
            raise InsufficientScope(
                f"This key has the {key.scope.value} scope but this endpoint needs "
                f"{needed.value}; use a key created with --scope {needed.value}."
            )
        return key

    return api_key


ReadKey = Annotated[ApiKey, Depends(_api_key(Scope.READ))]
WriteKey = Annotated[ApiKey, Depends(_api_key(Scope.WRITE))]

#: What a write returns: its status, extra headers and body.
Written = tuple[int, dict[str, str], BaseModel]


class Idempotency:
    """Runs a write once per ``Idempotency-Key`` (per API key) and replays its response, bytes and all, after.

    The request is fingerprinted by method, path and parsed body, so the same key with another request is a 409;
    a concurrent duplicate waits for the first to finish; a 5xx is not stored (the client may retry)."""

    def __init__(self, request: Request, service: Service, key: ApiKey, idempotency_key: str | None) -> None:
        self.request, self.service, self.key, self.idempotency_key = request, service, key, idempotency_key

    async def run(self, payload: BaseModel, work: Callable[[], Written]) -> Response:
        if self.idempotency_key is None:
            return _response(*await self._attempt(work))
        idem = self.idempotency_key
        if not _IDEMPOTENCY_KEY.fullmatch(idem):
            raise invalid("Idempotency-Key", "The Idempotency-Key header must be 1 to 255 printable ASCII characters.")
        store, key_id = self.service.store, self.key.id
        fingerprint = hashlib.sha256(
            f"{self.request.method} {self.request.url.path} ".encode()
            + payload.model_dump_json(exclude_unset=False).encode()
        ).hexdigest()
        stale_after = timedelta(seconds=self.service.settings.lock_timeout_s + 30)
        deadline = time.monotonic() + stale_after.total_seconds()
        while True:
            verdict, stored = await run_in_threadpool(store.claim, key_id, idem, fingerprint)
            if verdict == "run":
                try:
                    status, headers, body = await self._attempt(work)
                except BaseException:
                    await run_in_threadpool(store.release, key_id, idem)
                    raise
                if status >= 500:
                    await run_in_threadpool(store.release, key_id, idem)
                else:
                    await run_in_threadpool(store.finish, key_id, idem, status, headers, body)
                return _response(status, headers, body)
            if verdict == "replay":
                status, headers, body = stored
                return _response(status, {**headers, "Idempotent-Replayed": "true"}, body)
            if verdict == "conflict":
                raise Conflict(
                    "This Idempotency-Key was used with a different request; use a new key for a new request."
                )
            if time.monotonic() > deadline:
                await run_in_threadpool(store.release_stale, key_id, idem, stale_after)
                raise Conflict(
                    "A request with this Idempotency-Key is still in progress; retry in a moment.", retry_after=1
                )
            await asyncio.sleep(0.05)

    async def _attempt(self, work: Callable[[], Written]) -> tuple[int, dict[str, str], bytes]:
        """The write's status, headers and body bytes; a user error as its problem response (it is replayed too)."""
        try:
            status, headers, body = await run_in_threadpool(work)
        except ApiProblem as error:
            response = from_problem(self.request, error)
            retry = {k: v for k, v in response.headers.items() if k.lower() == "retry-after"}
            return response.status_code, retry, bytes(response.body)
        return status, headers, render_model(body)


def _response(status: int, headers: dict[str, str], body: bytes) -> Response:
    media_type = PROBLEM if status >= 400 else "application/json"
    return Response(body, status_code=status, headers=headers, media_type=media_type)


async def get_idempotency(
    request: Request,
    service: ServiceDep,
    key: WriteKey,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> Idempotency:
    return Idempotency(request, service, key, idempotency_key)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
