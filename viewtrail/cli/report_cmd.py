"""`viewtrail report ID|URL`: a video's recent daily table in the terminal and a PNG chart of its views."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from viewtrail.cli._common import console as make_console
from viewtrail.cli._common import fail, friendly_errors

if TYPE_CHECKING:
    from viewtrail.app.reporting import VideoReport


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2%}"
    if isinstance(value, int | Decimal):  # DuckDB's HUGEINT and DECIMAL sums arrive as int or Decimal
        return f"{value:,.0f}"
    return str(value)


def render_table(report: VideoReport) -> Table:
    from viewtrail.app.reporting import SIMULATED_LABEL, day_label

    heading = report.video_id + (f" · @{report.account}" if report.account else "")
    if report.status:
        heading += f" · {report.status}"
    if report.simulated:
        heading = f"[{SIMULATED_LABEL}] {heading}"
    caption = f"end-of-day values (UTC) from {report.source}"
    if report.simulated:
        caption += f"; {SIMULATED_LABEL}: made up by the simulated platform, not real metrics"
    table = Table(title=heading, caption=caption)
    for name in ("day", "views", "gained", "likes", "comments", "shares", "saves", "engagement", "snapshots"):
        table.add_column(name, justify="left" if name == "day" else "right")
    for row in report.days:
        style = "dim italic" if row.is_interpolated else None
        table.add_row(
            day_label(report, row),
            _fmt(row.views),
            _fmt(row.views_gained),
            _fmt(row.likes),
            _fmt(row.comments),
            _fmt(row.shares),
            _fmt(row.saves),
            _fmt(row.engagement_rate),
            str(row.observations),
            style=style,
        )
    return table


def chart_path(out: str | None, default: Path) -> Path:
    """Where the chart goes: ``--out`` itself, or ``<dir>/<id>.png`` when it names a directory (an existing one,
    or any path ending in /), the file name being the default's."""
    if out is None:
        return default
    path = Path(out).expanduser()
    if out.endswith(("/", os.sep)) or path.is_dir():
        return path / default.name
    return path


def report(
    video: Annotated[str, typer.Argument(help="Video id (youtube:dQw4w9WgXcQ) or video URL.")],
    days: Annotated[int, typer.Option("--days", "-d", help="How many recent days to show.")] = 14,
    out: Annotated[
        str | None,
        typer.Option(
            "--out", "-o", help="PNG path, or a directory to write <id>.png into (default data/reports/<id>.png)."
        ),
    ] = None,
) -> None:
    """Print a video's recent daily history and write a PNG chart of its views.

    Reads the analyst copy data/analytics.duckdb (published after each build), or the warehouse read-only
    when no copy exists yet. Days marked ~ have no snapshot of their own: their values are interpolated.

    `--out` names the PNG file, or a directory (existing, or ending in /) to write `<id>.png` into.

    Examples:

      viewtrail report youtube:dQw4w9WgXcQ

      viewtrail report https://www.tiktok.com/@scout2015/video/6718335390845095173 --days 30 -o chart.png

      viewtrail report youtube:dQw4w9WgXcQ --out charts/
    """
    # duckdb and matplotlib load here, not when the CLI starts
    from viewtrail.app.reporting import (
        default_chart_path,
        load_video_report,
        open_reporting_db,
        resolve_video_id,
        write_views_chart,
    )

    console = make_console()
    with open_reporting_db() as (con, path):
        video_id = resolve_video_id(con, video)
        data = load_video_report(con, path, video_id, days=days)
    chart = chart_path(out, default_chart_path(video_id))
    try:
        chart = write_views_chart(data, chart)
    except OSError as error:  # a read-only directory, a file where a directory should be, a full disk ...
        raise fail(
            f"Cannot write the chart to {chart} ({error.strerror or error}); pass --out a writable file or directory."
        ) from None
    console.print(render_table(data))
    console.print(f"Chart written to {chart}")


def register(app: typer.Typer) -> None:
    app.command("report")(friendly_errors(report))
