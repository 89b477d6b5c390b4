"""Rendering: the Jinja2 environment (templates and static files are package data), and the page response that
sets a new session's cookie."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from . import fmt
from .auth import COOKIE, SESSION_TTL, Access

STATIC_DIR = Path(__file__).parent / "static"

env = Environment(
    loader=PackageLoader("viewtrail.dashboard", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(fmt.FILTERS)

NAV = (
    ("/", "Overview"),
    ("/videos", "Videos"),
    ("/accounts", "Accounts"),
    ("/creators", "Creators"),
    ("/compare", "Compare"),
    ("/labels", "Labels"),
    ("/campaigns", "Campaigns"),
    ("/payouts", "Payouts"),
    ("/goals", "Goals"),
    ("/alerts", "Alerts"),
    ("/health", "Health"),
    ("/share", "Share links"),
)


def query(current: dict[str, Any], **changes: Any) -> str:
    """``current`` query parameters with ``changes`` (None removes one), as ``?a=1&b=2``."""
    merged = {k: v for k, v in {**current, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(merged, doseq=True) if merged else "?"


env.globals.update(nav=NAV, query=query)


def _set_cookie(request: Request, response: Any, found: Access | None) -> None:
    if found is not None and found.new_cookie is not None:
        response.set_cookie(
            COOKIE,
            found.new_cookie,
            max_age=int(SESSION_TTL.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )


def page(request: Request, found: Access | None, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    html = env.get_template(template).render(
        request=request,
        path=request.url.path,
        params=dict(request.query_params),
        access=found,
        csrf=found.session.csrf if found else "",
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: no Referer (a share link's token) ever goes to another site either way, but
    # under no-referrer browsers send "Origin: null" on the pages' own form posts, and the login's same-origin
    # check then refuses every login made in a real browser
    response.headers["Referrer-Policy"] = "same-origin"
    _set_cookie(request, response, found)
    return response


def redirect(request: Request, found: Access | None, to: str) -> RedirectResponse:
    response = RedirectResponse(to, status_code=303)
    _set_cookie(request, response, found)
    return response
