"""The API with the dashboard's pages: what ``viewtrail serve`` runs.

Why server-rendered Jinja2 pages with our own SVG charts, CSS and a small script, rather than NiceGUI (a Vue,
Quasar, ECharts and AG Grid bundle with its own websocket state), plotly or bokeh (megabytes of JavaScript each):
nothing to build and nothing downloaded at install or run time (Jinja2 is already a dependency of dbt), every
number on a page comes from the same mart reader as the API and the CLI, a page works with scripts off, and a
test checks a page with FastAPI's TestClient alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from viewtrail.api.app import create_app as create_api
from viewtrail.api.settings import ApiSettings

from .auth import LoginNeeded, PageError, current
from .web import STATIC_DIR, page, query


def create_app(
    settings: ApiSettings | None = None, *, login_required: bool = False, keep_warm: bool = False
) -> FastAPI:
    """The HTTP API at ``/v1`` and the dashboard at ``/``. ``login_required``: pages need a login with an API key
    (the server listens on an address other than the loopback one). ``keep_warm``: compute the overview ahead of
    the first visit after each build (``viewtrail serve``; see :mod:`.warm`)."""
    app = create_api(settings)
    install(app, login_required=login_required)
    if keep_warm:
        from .warm import keep_warm as start_warming

        def warm() -> None:
            start_warming(app.state.service)

        app.router.on_startup.append(warm)
    return app


def install(app: FastAPI, *, login_required: bool) -> None:
    from . import more, programs, sharing, videos

    app.state.dashboard_login_required = login_required
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="dashboard-static")
    app.include_router(videos.router)
    app.include_router(more.router)
    app.include_router(sharing.router)
    app.include_router(programs.router)

    @app.exception_handler(PageError)
    async def on_page_error(request: Request, error: PageError) -> Response:
        return page(request, current(request), "error.html", status=error.status, message=error.message)

    @app.middleware("http")
    async def pages_fail_as_pages(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """A page's unexpected failure (logged by the API's middleware, inside this one) is a page, not JSON."""
        response = await call_next(request)
        outside_api = not request.url.path.startswith(("/v1/", "/docs", "/static/"))
        if response.status_code == 404 and outside_api and "text/html" in request.headers.get("accept", ""):
            missing = page(
                request,
                None,
                "error.html",
                status=404,
                message=f"There is no page {request.url.path}; the menu above lists the pages.",
            )
            missing.headers["X-Request-ID"] = response.headers.get("x-request-id", "")
            return missing
        if response.status_code >= 500 and outside_api:
            request_id = response.headers.get("x-request-id", "")
            failed = page(
                request,
                None,
                "error.html",
                status=response.status_code,
                message=f"Something went wrong on the server (request {request_id}); its log has the details.",
            )
            failed.headers["X-Request-ID"] = request_id
            return failed
        return response

    @app.exception_handler(LoginNeeded)
    async def on_login_needed(request: Request, error: LoginNeeded) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login" + query({}, next=target), status_code=303)
