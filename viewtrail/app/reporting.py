"""A single video's recent history for `viewtrail report`: read from the analyst copy, chart with matplotlib.

Reads `config.analytics_path()` (the published copy) when it exists, so a report never blocks the pipeline;
falls back to opening the live warehouse read-only (which briefly blocks writers) when nothing was published yet.
No Dagster import: the CLI command and tests call these functions directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from viewtrail import config
from viewtrail.domain.errors import ViewtrailError
from viewtrail.domain.models import ShortLink
from viewtrail.domain.urls import InvalidVideoUrl, parse_video_url


class ReportError(ViewtrailError):
    """The report cannot be produced; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class DailyRow:
    day: date
    views: int | None
    views_gained: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    engagement_rate: float | None
    observations: int
    is_interpolated: bool


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
    days: list[DailyRow] = field(default_factory=list)
    observed: list[ObservedPoint] = field(default_factory=list)


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
    return (
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
        > 0
    )


def load_video_report(con: duckdb.DuckDBPyConnection, path: Path, video_id: str, days: int = 14) -> VideoReport:
    """The last `days` days of marts.video_daily for one video, and its snapshots over the same span."""
    if days < 1:
        raise ReportError(f"--days must be at least 1, got {days}: pass a positive number of days.")
    if not _has_table(con, "marts", "video_daily"):
        raise ReportError(f"{path} has no analyst tables yet: run `viewtrail build` first.")
    report = VideoReport(video_id=video_id, source=path)
    if _has_table(con, "marts", "video_latest"):
        row = con.execute(
            "select title, account, url, status from marts.video_latest where video_id = ?", [video_id]
        ).fetchone()
        if row is not None:
            report.title, report.account, report.url, report.status = row
    daily = con.execute(
        """
        with last as (select max(day) as last_day from marts.video_daily where video_id = $video_id)
        select d.day, d.views, d.views_gained, d.likes, d.comments, d.shares, d.saves,
               e.engagement_rate, d.observations, d.is_interpolated
        from marts.video_daily as d
        left join marts.video_engagement as e using (video_id, day)
        where d.video_id = $video_id and d.day > (select last_day from last) - $days
        order by d.day
        """,
        {"video_id": video_id, "days": days},
    ).fetchall()
    report.days = [DailyRow(*row) for row in daily]
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
    return report


def write_views_chart(report: VideoReport, out: Path) -> Path:
    """PNG of views over time: the end-of-day line, observed snapshots as filled dots, interpolated days hollow."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    try:
        # a day's value stands for the end of that day (24:00 UTC), except on the video's last day, whose value
        # is the last snapshot's: plot it at that snapshot's time rather than pretend to know midnight
        ends = [datetime.combine(r.day, datetime.min.time()) + timedelta(days=1) for r in report.days]
        if report.observed and report.observed[-1].observed_at.date() == report.days[-1].day:
            ends[-1] = report.observed[-1].observed_at
        values = [r.views for r in report.days]
        ax.plot(
            ends,
            [v if v is not None else float("nan") for v in values],
            color="#4c72b0",
            linewidth=1.5,
            label="views at end of day",
        )
        measured = [
            (t, r.views)
            for t, r in zip(ends, report.days, strict=False)
            if not r.is_interpolated and r.views is not None
        ]
        interpolated = [
            (t, r.views) for t, r in zip(ends, report.days, strict=False) if r.is_interpolated and r.views is not None
        ]
        if measured:
            ax.scatter(*zip(*measured, strict=False), s=36, color="#4c72b0", zorder=3, label="day with snapshots")
        if interpolated:
            ax.scatter(
                *zip(*interpolated, strict=False),
                s=36,
                facecolors="white",
                edgecolors="#4c72b0",
                linestyle="--",
                zorder=3,
                label="interpolated day (no snapshot)",
            )
        points = [(p.observed_at, p.views) for p in report.observed if p.views is not None]
        if points:
            ax.scatter(
                *zip(*points, strict=False), s=14, marker="x", color="#dd8452", zorder=4, label="snapshot (observed)"
            )
        title = report.video_id if not report.title else f"{report.video_id}: {report.title[:60]}"
        ax.set_title(title)
        ax.set_ylabel("views")
        ax.set_xlabel("UTC")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
    return out


def default_chart_path(video_id: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in video_id)
    return config.data_dir() / "reports" / f"{safe}.png"
