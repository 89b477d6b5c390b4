"""`viewtrail probe URL...`: one live scrape per video through the real clients, to see why a video fails.

The probing itself is :mod:`viewtrail.app.probe` (plain Python); this module parses the arguments and prints.
The platform clients (httpx) are imported inside the command so that `viewtrail --help` stays fast.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from viewtrail.cli._common import err, friendly_errors
from viewtrail.domain.errors import ViewtrailError
from viewtrail.domain.urls import PLATFORM_NAMES, InvalidVideoUrl

if TYPE_CHECKING:
    from viewtrail.app.probe import ProbeReport, RequestLine

#: Exit status when nothing was probed: an argument is no video reference, or the configuration forbids it.
BAD_INPUT = 2


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} ms"


def _count(value: int | None) -> str:
    return "hidden" if value is None else f"{value:,}"


def _status(request: RequestLine) -> str:
    return str(request.status) if request.status is not None else (request.error or "no answer")


def _video(video: dict[str, Any]) -> str:
    head = f"{video['title']!r}" if video.get("title") else "untitled"
    parts = [f"{head} by {video['account']}" if video.get("account") else head]
    if video.get("posted_at"):
        parts.append(f"posted {video['posted_at']} UTC")
    if video.get("duration_s") is not None:
        parts.append(f"{video['duration_s']:g} s long")
    return ", ".join(parts)


def describe(report: ProbeReport, *, verbose: bool = False) -> list[str]:
    """The lines printed for one probed video."""
    name = report.video_id or report.input
    through = f" through {report.backend}" if report.backend else ""
    lines = [f"{name}{through}: {report.outcome} in {_ms(report.elapsed_ms)}"]

    def row(label: str, text: str) -> None:
        lines.append(f"  {label:<10}{text}")

    row("url", report.url)
    if report.resolved_from:
        row("from", report.resolved_from)
    if report.metrics is not None:
        row("metrics", ", ".join(f"{name} {_count(value)}" for name, value in report.metrics.items()))
    if report.detail:
        row("detail", report.detail)
    if report.source:
        row("route", report.source)
    if report.requests:
        row("http", ", ".join(f"{_status(r)} ({_ms(r.elapsed_ms)})" for r in report.requests))
    else:
        row("http", "no request")
    if report.challenge:
        row("challenge", report.challenge)
    if verbose:
        for request in report.requests:
            via = f" via proxy {request.proxy_index}" if request.proxy_index is not None else ""
            row("request", f"{request.method} {request.url} -> {_status(request)} in {_ms(request.elapsed_ms)}{via}")
        if report.video:
            row("video", _video(report.video))
        row("tries", str(report.tries))
        if report.events:
            row("events", ", ".join(report.events))
    for number, hint in enumerate(report.hints, start=1):
        lines.append(f"  {'try' if number == 1 else '':<10}{number}. {hint}")
    return lines


def probe(
    urls: Annotated[
        list[str], typer.Argument(help="Video URLs, ids (youtube:dQw4w9WgXcQ) or bare ids with --platform.")
    ],
    platform: Annotated[
        str | None,
        typer.Option("--platform", "-p", help=f"{PLATFORM_NAMES} (needed for bare ids)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON array (one object per URL).")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print each request line and the video's details.")
    ] = False,
    backend: Annotated[
        list[str] | None,
        typer.Option(
            "--backend",
            "-b",
            help="native, ytdlp or auto (default: VIEWTRAIL_{P}_BACKEND); repeat it to probe each video through "
            "several, e.g. --backend native --backend ytdlp.",
        ),
    ] = None,
) -> None:
    """Scrape videos once, live, through the real clients, and show what happened and what to try next.

    Uses the same client settings as real mode (`VIEWTRAIL_{P}_*` and the platform secrets) whatever
    `VIEWTRAIL_{P}_MODE` says, and never writes the warehouse. `--backend` picks how videos are read (viewtrail's
    own parser, yt-dlp's extractors, or both with `auto`); repeated, each video is probed through each. Per URL:
    the outcome, the metrics, the route, each HTTP request with its status and time, whether a challenge was
    solved, and a hint for any outcome other than ok. Exit status: 0 when every video is ok, 1 when any is not, 2 when nothing was probed
    (an argument is no video reference, or `VIEWTRAIL_OFFLINE` forbids the call).
    """
    from viewtrail.app import probe as probing

    try:
        reports = probing.probe(urls, platform, backends=backend or ())
    except (InvalidVideoUrl, ViewtrailError) as error:
        err.print(str(error), markup=False, style="red")
        raise typer.Exit(BAD_INPUT) from None
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False))
    else:
        for index, report in enumerate(reports):
            if index:
                typer.echo("")
            typer.echo("\n".join(describe(report, verbose=verbose)))
        if len(reports) > 1:
            typer.echo(f"\n{sum(r.ok for r in reports)} of {len(reports)} ok.")
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command(
        name="probe",
        epilog=(
            "Examples:\n\n"
            "    viewtrail probe https://www.tiktok.com/@scout2015/video/6718335390845095173\n\n"
            "    viewtrail probe https://youtu.be/dQw4w9WgXcQ https://x.com/u/status/1790000000000000000 --verbose\n\n"
            "    viewtrail probe dQw4w9WgXcQ --platform youtube --json\n\n"
            "    viewtrail probe https://www.instagram.com/p/Chunk8-jurw/ --backend native --backend ytdlp"
        ),
    )(friendly_errors(probe))
