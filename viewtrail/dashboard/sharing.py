"""Login and logout, the Share links page, and ``/report/<token>``: a label's report behind a signed, expiring,
revocable link, which shows that report and nothing else."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from viewtrail.api.store import Store
from viewtrail.app import share_links
from viewtrail.clock import utc_now
from viewtrail.warehouse import marts
from viewtrail.warehouse.share_links import ShareLink, list_share_links

from . import charts
from .auth import COOKIE, SESSION_TTL, Access, PageError, access, check_write, current, same_origin
from .common import mart_reader, period, service, shows_simulated, user_errors
from .web import page, redirect

router = APIRouter(include_in_schema=False)

SIGNING_KEY = "share_links"


def _safe_next(value: str | None) -> str:
    text = value or "/"
    return text if text.startswith("/") and not text.startswith("//") and "\\" not in text else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return page(request, current(request), "login.html", next=_safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, key: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/") -> Response:
    if not same_origin(request):
        raise PageError(403, "This login form came from another site; open /login on this server and log in there.")
    store: Store = service(request).store
    record = store.authenticate(key.strip()) if key.strip() else None
    error = None
    if record is None:
        error = "That API key is not valid; create one with `viewtrail api-key create --name NAME`."
    elif record.revoked_at is not None:
        error = "That API key was revoked; create a new one with `viewtrail api-key create --name NAME`."
    if error is not None:
        return page(request, None, "login.html", status=401, next=_safe_next(next), error=error)
    assert record is not None
    secret, session = store.create_session(record.id, record.scope, SESSION_TTL)
    return redirect(request, Access(session, secret), _safe_next(next))


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    found = current(request)
    if found is not None:
        if csrf != found.session.csrf:
            raise PageError(403, "This form is out of date or came from another site; reload the page and try again.")
        service(request).store.end_session(request.cookies.get(COOKIE, ""))
    response = redirect(request, None, "/login" if request.app.state.dashboard_login_required else "/")
    response.delete_cookie(COOKIE, path="/")
    return response


# ----------------------------------------------------------------------------------------------- share links


def _known_links(request: Request) -> dict[str, ShareLink]:
    """The links the analyst copy holds, overlaid with those written since (the store's, which are newer)."""
    with mart_reader(service(request)) as con:
        links = {link.link_id: link for link in list_share_links(con)}
    for link_id, row in service(request).store.share_links().items():
        written = _link(row)
        published = links.get(link_id)
        # a revocation wins wherever it is recorded (the copy may hold one the store missed, e.g. a revoke whose
        # process stopped before it told the store)
        if published is None or published.revoked_at is None:
            links[link_id] = written
    return links


def _link(row: dict[str, Any]) -> ShareLink:
    from datetime import datetime

    def at(value: Any) -> Any:
        return datetime.fromisoformat(value) if isinstance(value, str) else value

    return ShareLink(row["link_id"], row["label"], at(row["created_at"]), at(row["expires_at"]), at(row["revoked_at"]))


def remember(store: Store) -> share_links.AfterShareWrite:
    """The ``after_write`` of the share-link use cases: the server sees the link at once."""

    def write(link: ShareLink) -> None:
        store.put_share_link(
            link.link_id,
            {
                "link_id": link.link_id,
                "label": link.label,
                "created_at": link.created_at.isoformat(),
                "expires_at": link.expires_at.isoformat(),
                "revoked_at": link.revoked_at.isoformat() if link.revoked_at else None,
            },
        )

    return write


@router.get("/share", response_class=HTMLResponse)
def share_page(request: Request) -> Response:
    found = access(request)
    links = sorted(_known_links(request).values(), key=lambda link: (link.created_at, link.link_id), reverse=True)
    labels = service(request).labels()
    return page(request, found, "share.html", links=links, labels=labels, now=utc_now(), created=None)


@router.post("/share", response_class=HTMLResponse)
def create_link(
    request: Request,
    label: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = "30",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    found = access(request)
    check_write(found, csrf)
    svc = service(request)
    with user_errors():
        link, token = share_links.create_share_link(
            label,
            days,
            key=svc.store.signing_key(SIGNING_KEY),
            open_warehouse=svc.writer,
            after_write=remember(svc.store),
        )
    links = sorted(_known_links(request).values(), key=lambda x: (x.created_at, x.link_id), reverse=True)
    url = str(request.base_url).rstrip("/") + f"/report/{token}"
    return page(request, found, "share.html", links=links, labels=svc.labels(), now=utc_now(), created=(link, url))


@router.post("/share/{link_id}/revoke")
def revoke_link(request: Request, link_id: str, csrf: Annotated[str, Form()] = "") -> Response:
    found = access(request)
    check_write(found, csrf)
    svc = service(request)
    with user_errors():
        share_links.revoke_share_link(link_id, open_warehouse=svc.writer, after_write=remember(svc.store))
    return redirect(request, found, "/share")


@router.get("/report/{token}", response_class=HTMLResponse)
def report(
    request: Request, token: str, days: str | None = None, start: str | None = None, end: str | None = None
) -> Response:
    """A label's report for whoever holds the link: no session, no navigation, nothing but the report."""
    link_id = share_links.link_id_of(token)
    svc = service(request)
    link = _known_links(request).get(link_id or "") if link_id else None
    if link is None or not share_links.verify(token, link, svc.store.signing_key(SIGNING_KEY)):
        return page(request, None, "report_gone.html", status=404, message="This link does not exist.")
    state = link.state(utc_now())
    if state != "active":
        return page(
            request,
            None,
            "report_gone.html",
            status=410,
            message=f"This link has {'been revoked' if state == 'revoked' else 'expired'}; ask its owner for a new one.",
        )
    chosen = period(days, start, end)
    with mart_reader(svc) as con:
        rows = marts.daily_rows(con, marts.Mart.LABEL_DAILY, {"label": link.label}, start=chosen.start, end=chosen.end)
        top, total = marts.video_table(con, marts.VideoFilter(label=link.label), sort="views", limit=20)
    simulated = shows_simulated(svc)
    gained = sum(int(r.get("views_gained") or 0) for r in rows)
    chart = charts.line_chart(
        [charts.Series("views gained", [charts.Point(r["day"], r.get("views_gained")) for r in rows])],
        step=True,
        partial=chosen.partial,
        label="views gained per day",
    )
    return page(
        request,
        None,
        "report.html",
        link=link,
        period=chosen,
        rows=rows,
        last=rows[-1] if rows else None,
        gained=gained,
        chart=chart,
        top=top,
        total=total,
        simulated=simulated,
        token=token,
    )
