"""A single video's recent history for `viewtrail report`: read from the analyst copy, chart with matplotlib.

Reads `config.analytics_path()` (the published copy) when it exists, so a report never blocks the pipeline;
falls back to opening the live warehouse read-only (which briefly blocks writers) when nothing was published yet.
No Dagster import: the CLI command and tests call these functions directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from viewtrail import config
from viewtrail.clock import utc_now
from viewtrail.domain.errors import ViewtrailError
from viewtrail.domain.models import ShortLink
from viewtrail.domain.urls import InvalidVideoUrl, parse_video_url
from viewtrail.warehouse import marts

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure


class ReportError(ViewtrailError):
    """The report cannot be produced; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class ObservedPoint:
    observed_at: datetime
    views: int | None


@dataclass(slots=True)
class VideoReport:
    video_id: str
    source: Path  # the DuckDB file the report was read from
    title: str | None = None
    account: str | None = None
    url: str | None = None
    status: str | None = None
    days: list[marts.EngagedVideoDay] = field(default_factory=list)
    observed: list[ObservedPoint] = field(default_factory=list)
    #: The last row is today's, so far: its values stand for this instant (the day's last snapshot), not the day.
    partial_until: datetime | None = None
    #: Its snapshots come from the simulated platform: made-up numbers, labelled as such (docs/simulation.md).
    simulated: bool = False


SIMULATED_LABEL = "simulated data"


@contextmanager
def open_reporting_db(
    analytics: Path | None = None, warehouse: Path | None = None
) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    """A read-only connection to the analyst copy, else to the warehouse; yields (connection, path)."""
    analytics = analytics or config.analytics_path()
    warehouse = warehouse or config.warehouse_path()
    path = analytics if analytics.exists() else warehouse
    if not path.exists():
        raise ReportError(
            f"No data found at {analytics} or {warehouse}: track videos and run `viewtrail build` first, or check "
            f"VIEWTRAIL_WAREHOUSE."
        )
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise ReportError(
                f"{path} is being written by the pipeline and no analyst copy exists yet: "
                "retry after the running build publishes data/analytics.duckdb."
            ) from None
        raise ReportError(f"Cannot open {path} ({exc}): check the file is a DuckDB 2.x database.") from None
    try:
        yield con, path
    finally:
        con.close()


def resolve_video_id(con: duckdb.DuckDBPyConnection, text: str) -> str:
    """`platform:id` or any video URL -> video id; short links are looked up among resolved pending links."""
    try:
        ref = parse_video_url(text)
    except InvalidVideoUrl as exc:
        raise ReportError(str(exc)) from None
    if isinstance(ref, ShortLink):
        row = None
        if _has_table(con, "registry", "pending_links"):
            row = con.execute(
                "select resolved_video_id from registry.pending_links where url = ? and resolved_video_id is not null",
                [ref.url],
            ).fetchone()
        if row is None:
            raise ReportError(
                f"{ref.url} is a short link that has not been resolved yet: pass the full video URL or its id."
            )
        return str(row[0])
    return ref.video_id


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = con.execute(
        "select 1 from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchone()
    return found is not None


def load_video_report(con: duckdb.DuckDBPyConnection, path: Path, video_id: str, days: int = 14) -> VideoReport:
    """The last `days` days of marts.video_daily for one video, and its snapshots over the same span."""
    if days < 1:
        raise ReportError(f"--days must be at least 1, got {days}: pass a positive number of days.")
    if marts.Mart.VIDEO_DAILY not in marts.built(con):
        raise ReportError(f"{path} has no analyst tables yet: run `viewtrail build` first.")
    heading = marts.video_heading(con, video_id) or marts.VideoHeading(title=None, account=None, url=None, status=None)
    report = VideoReport(
        video_id=video_id,
        source=path,
        title=heading.title,
        account=heading.account,
        url=heading.url,
        status=heading.status,
        days=marts.last_video_days(con, video_id, days),
    )
    if not report.days:
        raise ReportError(
            f"{video_id} has no daily history yet: check the id with `viewtrail list`, "
            "or wait for its first scrape and the next `viewtrail build`."
        )
    if _has_table(con, "raw", "snapshots"):
        start = datetime.combine(report.days[0].day, datetime.min.time())
        end = datetime.combine(report.days[-1].day, datetime.min.time()) + timedelta(days=1)
        rows = con.execute(
            "select observed_at, views from raw.snapshots where video_id = ? and observed_at >= ? and observed_at < ?"
            " order by observed_at",
            [video_id, start, end],
        ).fetchall()
        report.observed = [ObservedPoint(*row) for row in rows]
        simulated_row = con.execute(
            "select 1 from raw.snapshots where video_id = ? and source = 'simulated' limit 1", [video_id]
        ).fetchone()
        report.simulated = simulated_row is not None
    now = utc_now()
    if report.days[-1].day >= now.date():  # today has not ended: its row holds what was seen so far
        today = [p.observed_at for p in report.observed if p.observed_at.date() == report.days[-1].day]
        report.partial_until = max(today) if today else now
    return report


def day_label(report: VideoReport, row: marts.EngagedVideoDay) -> str:
    """The day as shown: ``2024-01-04``, ``~`` when interpolated, ``(partial, to 14:00)`` for today so far."""
    label = row.day.isoformat() + (" ~" if row.is_interpolated else "")
    if report.partial_until is not None and row is report.days[-1]:
        label += f" (partial, to {report.partial_until:%H:%M})"
    return label


@dataclass(frozen=True, slots=True)
class ChartSeries:
    """What the chart plots. The daily line is a step: a day's value is drawn across that day (from its midnight
    to the next, or to the last snapshot on a partial day), so a day's snapshots are never above it; a straight
    line from one day's end to the next would cut under the hourly points of a video taking off."""

    step_x: list[datetime]
    step_y: list[float]
    day_ends: list[datetime]  # where each day's marker goes: the end of the day (or the last snapshot of today)


def chart_series(report: VideoReport) -> ChartSeries:
    starts = [datetime.combine(r.day, datetime.min.time()) for r in report.days]
    ends = [start + timedelta(days=1) for start in starts]
    if report.observed and report.observed[-1].observed_at.date() == report.days[-1].day:
        # the last day's value is its last snapshot's: end it there rather than pretend to know midnight
        ends[-1] = max(report.observed[-1].observed_at, starts[-1])
    values = [float(r.views) if r.views is not None else float("nan") for r in report.days]
    # steps-post: each x holds its y until the next x; the last day is closed at its end
    return ChartSeries(step_x=[*starts, ends[-1]], step_y=[*values, values[-1]], day_ends=ends)


def _dates(times: list[datetime]) -> np.ndarray:
    """Times as the array matplotlib's signatures ask for: it plots an array of datetimes as dates, as it does a list."""
    import numpy as np

    return np.asarray(times)


def views_figure(report: VideoReport) -> Figure:
    """The chart as a matplotlib figure (close it with ``plt.close``): the day's value as a step across the day,
    observed snapshots as crosses, interpolated days hollow, counts with thousands separators."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    series = chart_series(report)
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    ax.plot(
        _dates(series.step_x),
        series.step_y,
        drawstyle="steps-post",
        color="#4c72b0",
        linewidth=1.5,
        label="views at end of day (drawn across the day)",
    )
    day_points = [
        (t, views, r.is_interpolated)
        for t, r in zip(series.day_ends, report.days, strict=True)
        if (views := r.views) is not None
    ]
    # (points, how they are drawn): days with snapshots, interpolated days, then every snapshot on top
    layers: list[tuple[list[tuple[datetime, int]], dict[str, Any]]] = [
        (
            [(t, views) for t, views, interpolated in day_points if not interpolated],
            {"s": 36, "color": "#4c72b0", "zorder": 3, "label": "day with snapshots"},
        ),
        (
            [(t, views) for t, views, interpolated in day_points if interpolated],
            {
                "s": 36,
                "facecolors": "white",
                "edgecolors": "#4c72b0",
                "linestyle": "--",
                "zorder": 3,
                "label": "interpolated day (no snapshot)",
            },
        ),
        (
            [(p.observed_at, views) for p in report.observed if (views := p.views) is not None],
            {"s": 14, "marker": "x", "color": "#dd8452", "zorder": 4, "label": "snapshot (observed)"},
        ),
    ]
    for points, style in layers:
        if points:
            ax.scatter(_dates([t for t, _ in points]), [views for _, views in points], **style)
    title = report.video_id if not report.title else f"{report.video_id}: {report.title[:60]}"
    if report.partial_until is not None:
        title += f" (last day partial, to {report.partial_until:%H:%M} UTC)"
    if report.simulated:
        title = f"[{SIMULATED_LABEL}] {title}"
        ax.text(
            0.99,
            0.02,
            SIMULATED_LABEL.upper(),
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=16,
            color="#c44e52",
            alpha=0.6,
        )
    ax.set_title(title)
    ax.set_ylabel("views")
    ax.set_xlabel("UTC")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def write_views_chart(report: VideoReport, out: Path) -> Path:
    """PNG of :func:`views_figure` at ``out``."""
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    fig = views_figure(report)
    try:
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    return out


def default_chart_path(video_id: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in video_id)
    return config.data_dir() / "reports" / f"{safe}.png"
