"""How the API writes a response: compact JSON, ETags on reads, pages, and RFC 9457 problem details.

- Bodies are compact UTF-8 JSON (:class:`CompactJSON`); FastAPI validates a handler's return value against its
  ``response_model`` and hands the result to it.
- Every successful GET goes through :class:`CachedRoute`: a strong ``ETag`` (SHA-256 of the body) and
  ``Cache-Control: private, no-cache``; ``If-None-Match`` with it gives 304 and no body.
- Errors are ``application/problem+json`` with a ``code``; a 500 says only "internal error" and the request id
  (the traceback goes to the server log, never to the client).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from .schemas import PROBLEM_TITLES, Pagination, Problem
from .service import ApiProblem, Page

PROBLEM = "application/problem+json"

#: The error responses every authenticated operation documents.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": description}
    for status, description in {
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
#: Writes that take an Idempotency-Key add its 409.
WRITE_ERRORS = {**ERRORS, 409: {"model": Problem, "description": "Idempotency-Key reused with another request"}}

# ------------------------------------------------------------------------------------------------ success


def render(content: Any) -> bytes:
    """The wire form of a body: compact, UTF-8, keys in the order given."""
    return json.dumps(content, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def render_model(body: BaseModel) -> bytes:
    """:func:`render` of a schema instance, byte for byte what FastAPI sends when a handler returns it."""
    return render(body.model_dump(mode="json", by_alias=True))


class CompactJSON(JSONResponse):
    """The API's JSON response: :func:`render`."""

    def render(self, content: Any) -> bytes:
        return render(content)


class CachedRoute(APIRoute):
    """A route whose successful GET responses carry an ETag and answer a matching ``If-None-Match`` with 304."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_with_etag(request: Request) -> Response:
            response = await handle(request)
            if request.method != "GET" or response.status_code != 200:
                return response
            etag = '"' + hashlib.sha256(response.body).hexdigest()[:32] + '"'
            response.headers["ETag"] = etag
            response.headers["Cache-Control"] = "private, no-cache"
            wanted = [t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")]
            if etag in wanted or "*" in wanted:
                kept = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
                return Response(status_code=304, headers=kept)
            return response

        return handle_with_etag


def paginate(request: Request, response: Response, page: Page) -> Pagination:
    """The pagination block of a listing (``total_count`` when the page was counted), and its ``Link: rel="next"``."""
    if page.next_cursor:
        following = request.url.include_query_params(cursor=page.next_cursor)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return Pagination(
        next_cursor=page.next_cursor,
        has_next=page.next_cursor is not None,
        limit=page.limit,
        total_count=page.total_count,
    )


# ----------------------------------------------------------------------------------------------- problems


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
        "title": PROBLEM_TITLES[code],
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


def internal_error(request: Request) -> JSONResponse:
    """The 500 a client sees: no traceback, only the request id the server logged it under."""
    return problem(
        request,
        500,
        "INTERNAL_ERROR",
        f"The server failed to handle this request; it was logged under request id {request.state.request_id}.",
    )


_HTTP_CODES = {
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


def add_problem_handlers(app: FastAPI) -> None:
    """Every error as a problem: the API's own, FastAPI's request validation and Starlette's routing errors."""

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
        code = "INTERNAL_ERROR" if error.status_code >= 500 else _HTTP_CODES.get(error.status_code, "BAD_REQUEST")
        detail = {
            404: f"There is no endpoint {request.url.path}; see /v1/openapi.json.",
            405: f"{request.method} is not allowed on {request.url.path}; see /v1/openapi.json.",
        }.get(error.status_code, str(error.detail).rstrip(".") + ".")
        return problem(request, error.status_code, code, detail, headers=getattr(error, "headers", None))


def openapi_with_problem_media(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document, with error responses under ``application/problem+json`` (what they are sent as)."""

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

    return openapi
