"""Accounts and creators (tables, detail pages, the discovery inbox), Compare, Labels, Alerts and Health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from viewtrail.alerts.channels import redact
from viewtrail.alerts.rules import describe
from viewtrail.alerts.store import list_channels, list_rules, recent_events
from viewtrail.app import accounts as account_cases
from viewtrail.app.first_snapshot import take_held_first_snapshots
from viewtrail.app.probe import hints_for
from viewtrail.clock import utc_now
from viewtrail.domain.models import Platform
from viewtrail.warehouse import activity, marts
from viewtrail.warehouse.accounts import list_inbox

from . import charts
from .auth import PageError, access, check_write
from .common import mart_reader, parse_int, period, service, user_errors
from .web import page, redirect

router = APIRouter(include_in_schema=False)

LISTING_LIMIT = 500  # accounts and creators per page: a team watches tens to hundreds


def _platform_arg(value: str | None) -> str | None:
    if not value:
        return None
    if value not in {p.value for p in Platform}:
        raise PageError(400, f"platform must be one of {', '.join(p.value for p in Platform)}; {value!r} is not.")
    return value


# ------------------------------------------------------------------------------------------------ accounts


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, platform: str | None = None, creator: str | None = None) -> Response:
    found = access(request)
    svc = service(request)
    with user_errors():
        listing = svc.list_accounts(
            platform=_platform_arg(platform), creator=creator or None, limit=LISTING_LIMIT, include_total=True
        )
    with mart_reader(svc) as con:
        inbox = list_inbox(con).head(200).to_dicts()
    return page(
        request,
        found,
        "accounts.html",
        accounts=listing.items,
        total=listing.total_count,
        inbox=inbox,
        platforms=[p.value for p in Platform],
    )


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def account_page(request: Request, account_id: str) -> Response:
    found = access(request)
    svc = service(request)
    with user_errors():
        account = svc.get_account(account_id)
        days = svc.account_metrics(account["account_id"])
    with mart_reader(svc) as con:
        videos, total = marts.video_table(
            con, marts.VideoFilter(account_id=account["account_id"]), sort="posted", limit=100
        )
        posts = _posts_per_week(videos)
        own = (
            marts.daily_rows(
                con, marts.Mart.ACCOUNT_DAILY, {"account": account["handle"], "platform": account["platform"]}
            )
            if account["handle"]
            else []
        )
    rates = [d["engagement_rate_by_followers"] for d in own if d.get("engagement_rate_by_followers") is not None]
    followers = charts.line_chart(
        [
            charts.Series(
                "followers",
                [charts.Point(date.fromisoformat(d["day"]), d["followers"], bool(d["is_interpolated"])) for d in days],
            )
        ],
        label="followers at the end of each day",
    )
    return page(
        request,
        found,
        "account.html",
        account=account,
        latest=account["latest"] or {},
        followers_chart=followers,
        days=days[-30:][::-1],
        videos=videos,
        total=total,
        posts=posts,
        er_by_followers=rates[-1] if rates else None,
    )


def _posts_per_week(videos: list[marts.VideoRow]) -> list[tuple[date, int]]:
    """Videos posted per ISO week (Monday, count), of the rows shown, oldest week first."""
    weeks: dict[date, int] = {}
    for video in videos:
        if video.posted_at is not None:
            monday = video.posted_at.date() - timedelta(days=video.posted_at.weekday())
            weeks[monday] = weeks.get(monday, 0) + 1
    return sorted(weeks.items())


@router.post("/inbox")
async def inbox_decide(request: Request) -> Response:
    """Accept (tracked like `viewtrail inbox accept`, first snapshot at once) or reject discovered videos."""
    found = access(request)
    form = await request.form()
    check_write(found, str(form.get("csrf") or ""))
    ids = [str(v) for v in form.getlist("id") if str(v).strip()]
    decision = str(form.get("decision") or "")
    if decision not in ("accept", "reject"):
        raise PageError(400, "Choose accept or reject.")
    if not ids:
        raise PageError(400, "Tick at least one discovered video first.")
    svc = service(request)

    def decide() -> None:
        with user_errors():
            if decision == "accept":
                accepted = account_cases.accept_inbox(ids, scrape=True, open_warehouse=svc.writer)
                take_held_first_snapshots(accepted.hand_off, open_warehouse=svc.writer)
            else:
                account_cases.reject_inbox(ids, open_warehouse=svc.writer)

    await run_in_threadpool(decide)
    return redirect(request, found, "/accounts?decided=" + decision)


# ------------------------------------------------------------------------------------------------ creators


@router.get("/creators", response_class=HTMLResponse)
def creators_page(request: Request, platform: str | None = None) -> Response:
    found = access(request)
    with user_errors():
        listing = service(request).list_creators(
            platform=_platform_arg(platform), limit=LISTING_LIMIT, include_total=True
        )
    return page(request, found, "creators.html", creators=listing.items, total=listing.total_count)


@router.get("/creators/{creator}", response_class=HTMLResponse)
def creator_page(request: Request, creator: str) -> Response:
    found = access(request)
    svc = service(request)
    with user_errors():
        info = svc.get_creator(creator)
        days = svc.creator_daily(info["creator_id"])
    with mart_reader(svc) as con:
        videos, total = marts.video_table(con, marts.VideoFilter(creator_id=info["creator_id"]), limit=50)
    series = [
        charts.Series("followers", [charts.Point(date.fromisoformat(d["day"]), d["followers"]) for d in days]),
    ]
    gained = [
        charts.Series("views gained", [charts.Point(date.fromisoformat(d["day"]), d["views_gained"]) for d in days])
    ]
    return page(
        request,
        found,
        "creator.html",
        creator=info,
        latest=info["latest"] or {},
        followers_chart=charts.line_chart(series, label="followers"),
        gained_chart=charts.line_chart(gained, step=True, label="views gained per day"),
        splits={
            metric: charts.share_bar(by_platform)
            for metric, by_platform in ((info["latest"] or {}).get("shares") or {}).items()
        },
        days=days[-30:][::-1],
        videos=videos,
        total=total,
    )


# ------------------------------------------------------------------------------------------------- compare

COMPARE_KINDS = ("video", "label", "account", "creator")
COMPARE_METRICS = ("views", "views_gained")


@dataclass(frozen=True, slots=True)
class Compared:
    key: str
    name: str
    days: list[tuple[date, float | None, bool]]  # day, value, interpolated
    since: date | None  # the first day to count from when aligned by days since posting


def _compared(con: Any, kind: str, key: str, metric: str, svc: Any) -> Compared:
    if kind == "video":
        video_id = svc.resolve(key)
        found, _ = marts.video_table(con, marts.VideoFilter(video_ids=(video_id,)), limit=1)
        if not found:
            raise PageError(404, f"{key} has no data yet; track it and run `viewtrail build` first.")
        history = marts.video_days(con, video_id=video_id)
        posted = found[0].posted_at.date() if found[0].posted_at else (history[0].day if history else None)
        values = [(d.day, getattr(d, metric), bool(d.is_interpolated)) for d in history]
        return Compared(video_id, found[0].title or video_id, values, posted)
    if kind == "label":
        rows = marts.daily_rows(con, marts.Mart.LABEL_DAILY, {"label": key})
        name = key
    elif kind == "account":
        platform, _, handle = key.partition(":")
        if not handle:
            raise PageError(400, f"Name an account as platform:handle, e.g. tiktok:nasa; {key!r} is not.")
        rows = marts.daily_rows(con, marts.Mart.ACCOUNT_DAILY, {"platform": platform, "account": handle})
        name = key
    else:
        creator_id = svc.get_creator(key)["creator_id"]
        rows = marts.daily_rows(con, marts.Mart.CREATOR_DAILY, {"creator_id": creator_id})
        name = creator_id
    if not rows:
        raise PageError(404, f"The {kind} {key!r} has no daily rows yet; check the name, or run `viewtrail build`.")
    return Compared(key, name, [(r["day"], r.get(metric), False) for r in rows], rows[0]["day"])


@router.get("/compare", response_class=HTMLResponse)
def compare_page(
    request: Request,
    kind: str = "video",
    align: str = "calendar",
    metric: str = "views",
    days: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> Response:
    """2 to 10 videos, labels, accounts or creators on one chart; the whole view is in the URL."""
    found = access(request)
    keys = [k.strip() for k in request.query_params.getlist("id") if k.strip()]
    if kind not in COMPARE_KINDS:
        raise PageError(400, f"kind must be one of {', '.join(COMPARE_KINDS)}; {kind!r} is not.")
    if align not in ("calendar", "posted"):
        raise PageError(400, f"align must be calendar or posted; {align!r} is neither.")
    if metric not in COMPARE_METRICS:
        raise PageError(400, f"metric must be views or views_gained; {metric!r} is neither.")
    if len(keys) > 10:
        raise PageError(400, f"Compare at most 10 at once; {len(keys)} were given.")
    chosen = period(days, start, end, default=90)
    chart, compared = None, []
    if len(keys) == 1:
        raise PageError(400, "Add at least one more to compare: 2 to 10.")
    if keys:
        svc = service(request)
        with user_errors(), mart_reader(svc) as con:
            compared = [_compared(con, kind, key, metric, svc) for key in dict.fromkeys(keys)]
        series = []
        for item in compared:
            if align == "calendar":
                points = [charts.Point(d, v, i) for d, v, i in item.days if chosen.start <= d <= chosen.end]
            else:
                since = item.since or (item.days[0][0] if item.days else chosen.start)
                points = [charts.Point(float((d - since).days), v, i) for d, v, i in item.days if d >= since]
            series.append(charts.Series(item.name, points))
        chart = charts.line_chart(
            series,
            step=metric == "views_gained" and align == "calendar",
            partial=chosen.partial if align == "calendar" else None,
            label=metric.replace("_", " "),
            x_label="day (UTC)"
            if align == "calendar"
            else "days since posting"
            if kind == "video"
            else "days since the first day",
        )
    return page(
        request,
        found,
        "compare.html",
        kind=kind,
        align=align,
        metric=metric,
        keys=keys,
        compared=compared,
        chart=chart,
        period=chosen,
        kinds=COMPARE_KINDS,
    )


# -------------------------------------------------------------------------------------------------- labels


@router.get("/labels", response_class=HTMLResponse)
def labels_page(request: Request) -> Response:
    found = access(request)
    svc = service(request)
    since = utc_now().date() - timedelta(days=29)
    labels = svc.labels()
    rows = []
    with mart_reader(svc) as con:
        for entry in labels:
            days = marts.daily_rows(con, marts.Mart.LABEL_DAILY, {"label": entry["label"]}, start=since)
            last = days[-1] if days else {}
            rows.append(
                {
                    **entry,
                    "views": last.get("views"),
                    "gained": sum(int(d.get("views_gained") or 0) for d in days) if days else None,
                    "engagement_rate": last.get("engagement_rate"),
                    "spark": charts.sparkline([d.get("views_gained") for d in days]),
                }
            )
    return page(request, found, "labels.html", labels=rows)


# -------------------------------------------------------------------------------------------------- alerts


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, days: str | None = None) -> Response:
    found = access(request)
    window = parse_int(days, "days", default=30, low=1, high=366)
    with mart_reader(service(request)) as con:
        rules = [(rule, describe(rule)) for rule in list_rules(con)]
        channels = [(channel, redact(channel.target)) for channel in list_channels(con)]
        events = recent_events(con, since=utc_now() - timedelta(days=window), limit=200)
    return page(request, found, "alerts.html", rules=rules, channels=channels, events=events, window=window)


# -------------------------------------------------------------------------------------------------- health


@router.get("/health", response_class=HTMLResponse)
def health_page(request: Request) -> Response:
    found = access(request)
    now = utc_now()
    with mart_reader(service(request)) as con:
        day = activity.platform_health(con, now - timedelta(hours=24))
        week = activity.platform_health(con, now - timedelta(days=7))
    hints = {
        h.platform: hints_for(h.platform, h.last_failure, h.last_failure_detail) if h.last_failure else [] for h in week
    }
    quota = None
    try:
        from viewtrail.platforms.youtube.client import quota_status_from_env

        quota = quota_status_from_env(now)
    except (OSError, ValueError):  # an unreadable quota file: the page says nothing about the quota
        quota = None
    return page(request, found, "health.html", rows=list(zip(day, week, strict=True)), hints=hints, quota=quota)
