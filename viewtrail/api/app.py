"""The HTTP API: a thin FastAPI layer over :mod:`viewtrail.api.service`.

Why FastAPI: it is the ecosystem's standard ASGI framework, generates the OpenAPI 3.1 document from the same
pydantic models that parse the requests and validate the responses (so the schema the property tests check is the
code's own), and runs under uvicorn. Sync endpoints run in its thread pool; DuckDB and SQLite calls never block
the event loop.

The pieces, one job each:

- :mod:`.routes`: one router per resource (videos, groups, watched accounts, creators, meta);
- :mod:`.deps`: the dependencies (the service, the API key with its scope and rate limit, Idempotency-Key);
- :mod:`.schemas`: every request and response body;
- :mod:`.responses`: compact JSON, ETags, pages, RFC 9457 problem details;
- this module: the factory, and what every response carries: ``X-Request-ID`` (the client's, when it sent a sane
  one, else a new one) and, on authenticated requests, the rate-limit headers.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi_offline import FastAPIOffline

from .deps import RateLimit
from .responses import CompactJSON, add_problem_handlers, internal_error, openapi_with_problem_media
from .routes import api_router
from .service import Service
from .settings import ApiSettings, api_settings

log = logging.getLogger("viewtrail.api")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
#: Where /docs loads Swagger UI's assets from (same origin).
DOCS_ASSETS = "/docs-assets"


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or api_settings()
    # /docs is Swagger UI served from the installed fastapi-offline package (its JS, CSS and favicon under
    # DOCS_ASSETS), never from a CDN, so it renders on a machine without internet. The online validator badge is
    # off: it would send the document to a third party. ReDoc is not served.
    app = FastAPIOffline(
        title="viewtrail API",
        version="1",
        description="Track social videos and read their metrics from your own viewtrail warehouse.",
        openapi_url="/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        static_url=DOCS_ASSETS,
        swagger_ui_parameters={"validatorUrl": None},
        default_response_class=CompactJSON,
    )
    app.state.service = Service(settings)
    app.state.rate_limit = RateLimit(settings.rate_per_min)

    @app.middleware("http")
    async def request_id_and_rate_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = request.headers.get("x-request-id", "")
        request.state.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request.state.rate = None  # set by the API-key dependency
        try:
            response = await call_next(request)
        except Exception:
            log.exception(
                "internal error on %s %s (request %s)", request.method, request.url.path, request.state.request_id
            )
            response = internal_error(request)
        response.headers["X-Request-ID"] = request.state.request_id
        for name, value in (request.state.rate or {}).items():
            response.headers.setdefault(name, value)
        return response

    add_problem_handlers(app)
    app.include_router(api_router)
    app.openapi = openapi_with_problem_media(app)  # type: ignore[method-assign]  # FastAPI's documented way to customise the document
    return app
