"""The Overview, the Videos table (with its CSV export, stop/resume and the paste box) and a video's page."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from viewtrail.alerts.store import recent_events
from viewtrail.api.service import Service
from viewtrail.app import videos as video_cases
from viewtrail.app.first_snapshot import take_held_first_snapshots
from viewtrail.clock import utc_now
from viewtrail.domain.models import Platform, ShortLink, VideoRef
from viewtrail.domain.urls import InvalidVideoUrl, parse_platform, parse_video_url
from viewtrail.warehouse import activity, marts

from . import charts, fmt
from .auth import PageError, access, check_write
from .common import (
    Period,
    cached,
    label_choices,
    mart_reader,
    parse_date,
    parse_int,
    period,
    service,
    shows_simulated,
    user_errors,
)
from .web import page, redirect

router = APIRouter(include_in_schema=False)

MAX_PASTE = 200
PAGE_SIZES = (25, 50, 100, 200)


# ------------------------------------------------------------------------------------------------ overview


@dataclass(frozen=True, slots=True)
class Card:
    title: str
    value: str
    exact: str  # the value with thousands separators (the card's tooltip)
    change: str
    direction: str
    spark: str
    note: str = ""


def _card(
    title: str,
    current: float | None,
    previous: float | None,
    series: list[float | None],
    *,
    rate: bool = False,
    note: str = "",
) -> Card:
    text, direction = fmt.change(current, previous)
    value = fmt.percent(current, 2) if rate else fmt.compact(current)
    exact = fmt.percent(current, 3) if rate else fmt.thousands(current)
    return Card(title, value, exact, text, direction, charts.sparkline(series), note)


def overview_data(svc: Service, chosen: Period) -> tuple[Any, ...]:
    """The overview's aggregates over every video, kept once per published copy, period and hour: the copy
    changes only when a build publishes it, and the health strip's 24 hours and the alerts' 7 days move on by
    the hour. ``viewtrail serve`` computes the default period's ahead of the first visit (:mod:`.warm`)."""
    earlier = chosen.previous
    hour = utc_now().replace(minute=0, second=0, microsecond=0)

    def read() -> tuple[Any, ...]:
        with mart_reader(svc) as con:
            return (
                marts.totals_days(con, start=earlier.start, end=chosen.end),
                marts.tracking_counts(con),
                marts.top_videos(con, start=chosen.start, end=chosen.end, limit=10),
                marts.top_creators(con, 5),
                recent_events(con, since=hour - timedelta(days=7), limit=8),
                activity.platform_health(con, hour - timedelta(hours=24)),
                activity.has_simulated(con),
                marts.posting_activity(con, start=chosen.start, end=chosen.end),
            )

    return cached(svc, ("overview", earlier.start, chosen.end, hour), read)


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request,
    days: str | None = None,
    start: str | None = None,
    end: str | None = None,
    mode: str | None = None,
) -> Response:
    found = access(request)
    chosen = period(days, start, end)
    if mode not in (None, "", "new", "cumulative"):
        raise PageError(400, f"mode must be new or cumulative; {mode!r} is neither.")
    cumulative = mode == "cumulative"
    all_days, counts, top, creators, alerts, health, simulated, posting = overview_data(service(request), chosen)
    now_days = [d for d in all_days if d.day >= chosen.start]
    before = [d for d in all_days if d.day < chosen.start]
    gained, gained_before = sum(d.views_gained for d in now_days), sum(d.views_gained for d in before)
    last, last_before = (now_days[-1] if now_days else None), (before[-1] if before else None)

    cards = [
        _card(
            "Views gained",
            gained if now_days else None,
            gained_before if before else None,
            [d.views_gained for d in now_days],
        ),
        _card(
            "Total views",
            last.views if last else None,
            last_before.views if last_before else None,
            [d.views for d in now_days],
            note="at the end of the last day",
        ),
        _card(
            "Engagement rate",
            last.engagement_rate if last else None,
            last_before.engagement_rate if last_before else None,
            [d.engagement_rate for d in now_days],
            rate=True,
            note="engagements / views, at the end of the last day",
        ),
        _card(
            "Videos",
            last.videos if last else counts.videos,
            last_before.videos if last_before else None,
            [d.videos for d in now_days],
            note=(
                f"with data on {last.day if last else 'the last day'}; {fmt.thousands(counts.active_videos)}"
                f" tracked now, from {fmt.thousands(counts.accounts)} accounts"
            ),
        ),
    ]
    points = [
        charts.Point(d.day, d.views if cumulative else d.views_gained, d.interpolated * 2 > d.videos) for d in now_days
    ]
    chart = charts.line_chart(
        [charts.Series("total views" if cumulative else "views gained", points)],
        step=not cumulative,
        partial=chosen.partial,
        label="total views" if cumulative else "views gained per day",
    )
    return page(
        request,
        found,
        "overview.html",
        period=chosen,
        cards=cards,
        chart=chart,
        cumulative=cumulative,
        days=now_days,
        top=top,
        creators=creators,
        alerts=alerts,
        health=health,
        simulated=simulated,
        counts=counts,
        calendar=charts.calendar(posting.per_day, chosen.start, chosen.end),
        heatmap=charts.heatmap(posting.per_weekday_hour),
        posted=sum(n for _, n in posting.per_day),
    )


# --------------------------------------------------------------------------------------------------- videos


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    shown: bool  # shown unless the column picker says otherwise
    sort: str | None  # its key in marts.VIDEO_SORTS


COLUMNS = (
    Column("platform", "Platform", True, None),
    Column("account", "Account", True, "account"),
    Column("labels", "Labels", True, None),
    Column("status", "Status", True, None),
    Column("posted", "Posted (UTC)", True, "posted"),
    Column("views", "Views", True, "views"),
    Column("gained_1d", "+1 d", False, "gained_1d"),
    Column("gained_7d", "+7 d", True, "gained_7d"),
    Column("gained_14d", "+14 d", False, "gained_14d"),
    Column("gained_30d", "+30 d", False, "gained_30d"),
    Column("outlier", "Outlier", True, "outlier"),
    Column("likes", "Likes", False, None),
    Column("comments", "Comments", False, None),
    Column("shares", "Shares", False, None),
    Column("saves", "Saves", False, None),
    Column("observed", "Last observed (UTC)", False, "observed"),
    Column("outcome", "Last outcome", False, None),
)
_COLUMN_KEYS = {c.key for c in COLUMNS}
#: ``marts.video_latest.status``: tracked, tracking stopped (history kept), imported only.
STATUSES = ("active", "stopped", "untracked")


def _filters(request: Request) -> tuple[marts.VideoFilter, dict[str, str]]:
    """The table's filter from the query, and the query values kept (for links)."""
    q = request.query_params
    kept = {
        k: v
        for k, v in q.items()
        if v and k in ("platform", "label", "account", "creator", "status", "posted_from", "posted_to", "q")
    }
    platform = kept.get("platform")
    if platform:
        try:
            platform = parse_platform(platform).value
        except InvalidVideoUrl as error:
            raise PageError(400, str(error)) from None
    if kept.get("status") and kept["status"] not in STATUSES:
        raise PageError(400, f"status must be one of {', '.join(STATUSES)}; {kept['status']!r} is not.")
    return (
        marts.VideoFilter(
            platform=platform,
            label=kept.get("label"),
            account=kept.get("account"),
            creator_id=kept.get("creator"),
            status=kept.get("status"),
            posted_from=parse_date(kept.get("posted_from"), "posted_from"),
            posted_to=parse_date(kept.get("posted_to"), "posted_to"),
            search=(kept.get("q") or "").strip() or None,
        ),
        kept,
    )


def _sort(request: Request) -> tuple[str, bool]:
    sort = request.query_params.get("sort") or "views"
    if sort not in marts.VIDEO_SORTS:
        raise PageError(400, f"sort must be one of {', '.join(marts.VIDEO_SORTS)}; {sort!r} is not.")
    order = request.query_params.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise PageError(400, f"order must be asc or desc; {order!r} is neither.")
    return sort, order == "desc"


def _columns(request: Request) -> list[Column]:
    picked = request.query_params.getlist("col")
    if not picked:
        return [c for c in COLUMNS if c.shown]
    unknown = [p for p in picked if p not in _COLUMN_KEYS]
    if unknown:
        raise PageError(400, f"There is no column {unknown[0]!r}; pick from {', '.join(sorted(_COLUMN_KEYS))}.")
    return [c for c in COLUMNS if c.key in picked]


@router.get("/videos", response_class=HTMLResponse)
def videos_page(request: Request) -> Response:
    found = access(request)
    filters, kept = _filters(request)
    sort, descending = _sort(request)
    size = parse_int(request.query_params.get("size"), "size", default=50, low=1, high=max(PAGE_SIZES))
    number = parse_int(request.query_params.get("page"), "page", default=1, low=1, high=1_000_000)
    with mart_reader(service(request)) as con:
        rows, total = marts.video_table(
            con, filters, sort=sort, descending=descending, limit=size, offset=(number - 1) * size
        )
    labels = label_choices(service(request))
    simulated = shows_simulated(service(request))
    pages = max(1, -(-total // size))
    return page(
        request,
        found,
        "videos.html",
        rows=rows,
        total=total,
        filters=filters,
        kept=kept,
        sort=sort,
        descending=descending,
        size=size,
        page_number=number,
        pages=pages,
        columns=_columns(request),
        all_columns=COLUMNS,
        platforms=[p.value for p in Platform],
        statuses=STATUSES,
        labels=labels,
        page_sizes=PAGE_SIZES,
        simulated=simulated,
        results=None,
    )


CSV_COLUMNS = (
    "video_id",
    "platform",
    "title",
    "account",
    "url",
    "labels",
    "status",
    "posted_at",
    "views",
    "likes",
    "comments",
    "shares",
    "saves",
    "views_gained_1d",
    "views_gained_7d",
    "views_gained_14d",
    "views_gained_30d",
    "outlier_multiplier",
    "last_observed_at",
    "last_outcome",
)


@router.get("/videos.csv")
def videos_csv(request: Request) -> Response:
    """Every video of the current filter (not just the page), in the table's order."""
    access(request)
    filters, _ = _filters(request)
    sort, descending = _sort(request)
    with mart_reader(service(request)) as con:
        rows, _ = marts.video_table(con, filters, sort=sort, descending=descending, limit=None)

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            values = [getattr(row, c) for c in CSV_COLUMNS]
            writer.writerow(["|".join(v) if isinstance(v, tuple) else v for v in values])
            if buffer.tell() > 65536:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        lines(), media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="videos.csv"'}
    )


@dataclass(frozen=True, slots=True)
class PasteResult:
    line: int
    text: str
    status: str  # created, updated, resumed, pending, invalid
    video_id: str | None
    detail: str


@router.post("/videos/track", response_class=HTMLResponse)
def track_pasted(
    request: Request,
    urls: Annotated[str, Form()] = "",
    labels: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Track pasted links through the use case of `viewtrail track`: registered, first snapshot taken at once,
    a result per line."""
    found = access(request)
    check_write(found, csrf)
    lines = [(n, text.strip()) for n, text in enumerate(urls.splitlines(), start=1) if text.strip()]
    if not lines:
        raise PageError(400, "Paste at least one video link, one per line.")
    if len(lines) > MAX_PASTE:
        raise PageError(400, f"{len(lines)} links were pasted but at most {MAX_PASTE} are tracked at once; split them.")
    results: dict[int, PasteResult] = {}
    targets: list[tuple[int, str, VideoRef | ShortLink]] = []
    for n, text in lines:
        try:
            targets.append((n, text, parse_video_url(text)))
        except InvalidVideoUrl as error:
            results[n] = PasteResult(n, text, "invalid", None, str(error))
    label_list = [part.strip() for part in labels.split(",") if part.strip()]
    svc = service(request)
    if targets:
        with user_errors():
            tracked = video_cases.track_videos(
                [t for _, _, t in targets],
                video_cases.TrackOptions(labels=label_list),
                scrape=True,
                open_warehouse=svc.writer,
                after_write=svc.record_written,
            )
            taken = take_held_first_snapshots(tracked.hand_off, open_warehouse=svc.writer)
        outcomes = {r.video_id: r.outcome for r in tracked.results}
        first = {f.video_id: f.outcome for f in taken.taken}
        pending = {link.url: note for link, note in tracked.pending}
        seen: set[str] = set()
        for n, text, target in targets:
            if isinstance(target, ShortLink) and target.url in pending:
                results[n] = PasteResult(n, text, "pending", None, pending[target.url])
                continue
            video_id = target.video_id if isinstance(target, VideoRef) else None
            outcome = outcomes.get(video_id or "")
            status = outcome.value if outcome is not None else "updated"
            if video_id in seen:
                status = "updated"
            seen.add(video_id or "")
            snap = first.get(video_id or "")
            detail = (
                f"first snapshot: {snap}"
                if snap
                else "already tracked"
                if status == "updated"
                else "first snapshot queued for the pipeline"
            )
            results[n] = PasteResult(n, text, status, video_id, detail)
    return page(
        request,
        found,
        "track_results.html",
        results=[results[n] for n, _ in lines],
        status=200,
    )


def _ids(form_ids: list[str]) -> list[str]:
    ids = [i for i in form_ids if i.strip()]
    if not ids:
        raise PageError(400, "Tick at least one video first.")
    return ids


@router.post("/videos/stop")
async def stop_videos(request: Request) -> Response:
    return await _bulk_change(request, lambda svc, ids: svc.bulk_stop(ids))


@router.post("/videos/resume")
async def resume_videos(request: Request) -> Response:
    return await _bulk_change(request, lambda svc, ids: svc.bulk_create(ids))


async def _bulk_change(request: Request, change: Callable[[Service, list[str]], Any]) -> Response:
    """A write on the ticked videos (write scope and CSRF checked), then back to the page the form came from."""
    found = access(request)
    form = await request.form()
    check_write(found, str(form.get("csrf") or ""))
    ids = _ids([str(v) for v in form.getlist("id")])
    svc = service(request)
    with user_errors():
        await run_in_threadpool(change, svc, ids)
    return redirect(request, found, _back(form.get("back")))


def _back(value: Any) -> str:
    """A same-site path to return to after a form (never another host)."""
    text = str(value or "/videos")
    return text if text.startswith("/") and not text.startswith("//") and "\\" not in text else "/videos"


# ----------------------------------------------------------------------------------------------- one video


@router.get("/videos/{video_id}", response_class=HTMLResponse)
def video_page(request: Request, video_id: str) -> Response:
    found = access(request)
    svc = service(request)
    with user_errors():
        video = svc.get_video(video_id)
    vid = video["video_id"]
    with mart_reader(svc) as con:
        metrics = marts.video_metrics(con, [vid]).get(vid) or marts.VideoMetrics()
        heading = marts.video_heading(con, vid)
        days = marts.video_days(con, video_id=vid)
        snapshots = activity.recent_snapshots(con, vid, 48)
        attempts = activity.recent_attempts(con, vid, 20)
        simulated = activity.has_simulated(con, vid)
        alerts = recent_events(con, video_id=vid, limit=20)
    today = utc_now().date()
    partial = today if days and days[-1].day == today else None
    views = charts.line_chart(
        [charts.Series("views", [charts.Point(d.day, d.views, bool(d.is_interpolated)) for d in days])],
        partial=partial,
        label="views at the end of each day",
    )
    gained = charts.line_chart(
        [charts.Series("views gained", [charts.Point(d.day, d.views_gained, bool(d.is_interpolated)) for d in days])],
        step=True,
        partial=partial,
        label="views gained per day",
    )
    return page(
        request,
        found,
        "video.html",
        video=video,
        heading=heading,
        metrics=metrics,
        days=days[-30:][::-1],
        day_count=len(days),
        views_chart=views,
        gained_chart=gained,
        snapshots=snapshots,
        attempts=attempts,
        alerts=alerts,
        simulated=simulated,
        partial=partial,
    )


@router.post("/videos/{video_id}/labels")
def edit_labels(
    request: Request, video_id: str, labels: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = ""
) -> Response:
    found = access(request)
    check_write(found, csrf)
    wanted = [part.strip() for part in labels.split(",") if part.strip()]
    with user_errors():
        video = service(request).patch(video_id, {"labels": wanted})
    return redirect(request, found, f"/videos/{video['video_id']}")


@router.get("/favicon.ico")
def favicon() -> Response:
    """No icon: an empty answer, so a browser's automatic request is not an error."""
    return Response(status_code=204)


@router.get("/search")
def search(request: Request, q: str = "") -> Response:
    """The search box's suggestions: videos by title, id, URL or account; accounts and labels by name."""
    access(request)
    text = q.strip()
    if not text:
        return JSONResponse({"results": []})
    svc = service(request)
    with mart_reader(svc) as con:
        hits = marts.search_videos(con, text, limit=8)
    results: list[dict[str, str]] = [
        {
            "kind": "video",
            "title": row.title or row.video_id,
            "detail": f"{row.platform} · {fmt.compact(row.views)} views",
            "href": f"/videos/{row.video_id}",
        }
        for row in hits
    ]
    lowered = text.lower()
    results += [
        {
            "kind": "label",
            "title": entry["label"],
            "detail": f"{entry['videos']} videos",
            "href": "/videos?" + urlencode({"label": entry["label"]}),
        }
        for entry in svc.labels()
        if lowered in entry["label"].lower()
    ][:5]
    return JSONResponse({"results": results})


__all__ = ["COLUMNS", "router"]
