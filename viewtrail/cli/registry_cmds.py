"""Registry commands: `viewtrail track`, `import`, `untrack`, `delete`, `list`, `status`.

Every write is a use case of :mod:`viewtrail.app.videos` (tracking, importing, stopping, deleting); the
commands parse the arguments and print the results. The warehouse modules (duckdb, polars) and the
platform clients (httpx) are imported inside the commands, not here, so that `viewtrail --help` stays fast.
"""

from __future__ import annotations

import inspect
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from viewtrail.cli._common import (
    err,
    fail,
    friendly_errors,
    json_rows,
    out,
    print_rows,
    readable_warehouse,
    writable_warehouse,
)
from viewtrail.cli._first_results import first_discoveries, first_snapshots, first_snapshots_of, say_queue_problem
from viewtrail.cli._list_page import LIST_OPTIONS, fmt_time, show_page
from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.models import Platform, ShortLink, VideoRef
from viewtrail.domain.urls import PLATFORM_NAMES, InvalidVideoUrl, parse_platform, parse_video_url

if TYPE_CHECKING:  # duckdb loads only when a command opens the warehouse: --help stays fast
    import duckdb

PlatformOption = Annotated[
    str | None,
    typer.Option("--platform", "-p", help=f"{PLATFORM_NAMES} (needed for bare ids)."),
]


def _platform(value: str | None) -> Platform | None:
    return parse_platform(value) if value else None


def _existing_warehouse() -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """The warehouse for writing, never created: stopping or deleting needs videos tracked before."""
    return writable_warehouse(create=False)


def _target_ids(texts: list[str], platform: str | None) -> list[str]:
    ids: list[str] = []
    for text in texts:
        ref = parse_video_url(text, _platform(platform))
        if isinstance(ref, ShortLink):
            raise InvalidInputError(
                f"{text} is a short link; give the video id (e.g. tiktok:7234567890123456789) or its full URL instead."
            )
        ids.append(ref.video_id)
    return list(dict.fromkeys(ids))


# ------------------------------------------------------------------------------------------------ track


def track(
    urls: Annotated[
        list[str], typer.Argument(help="Video URLs, ids (youtube:dQw4w9WgXcQ) or bare ids with --platform.")
    ],
    platform: PlatformOption = None,
    cadence: Annotated[
        str | None,
        typer.Option("--cadence", "-c", help="'auto' (default for new videos) or hours between snapshots, 1..720."),
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", "-d", help="Stop tracking after N days (default: never).")
    ] = None,
    label: Annotated[list[str] | None, typer.Option("--label", "-l", help="Label to add (repeatable).")] = None,
    meta: Annotated[list[str] | None, typer.Option("--meta", "-m", help="Metadata key=value (repeatable).")] = None,
    no_scrape: Annotated[
        bool, typer.Option("--no-scrape", help="Register only; leave the first snapshot to the pipeline.")
    ] = False,
) -> None:
    """Track videos (re-tracking a known video updates it; an untracked one resumes).

    New videos get their first snapshot at once (the same scrape and write as a pipeline run), and the output
    says what was observed; `--no-scrape` leaves that to the pipeline. Short links (vm.tiktok.com,
    tiktok.com/t/) are resolved through TikTok when online; otherwise, or when the lookup fails, they are stored
    as pending links with a note.
    """
    from viewtrail.app.videos import TrackOptions, track_videos
    from viewtrail.warehouse.registry import TrackOutcome, parse_meta_pairs, validate_cadence, validate_days

    options = TrackOptions(
        cadence=validate_cadence(cadence),
        days=validate_days(days),
        labels=label or [],
        metadata=parse_meta_pairs(meta or []),
    )
    expected = _platform(platform)
    targets: list[VideoRef | ShortLink] = []
    problems: list[str] = []
    for text in urls:
        try:
            targets.append(parse_video_url(text, expected))
        except InvalidVideoUrl as error:
            problems.append(str(error))
    if problems:
        for problem in problems[:-1]:
            err.print(problem, markup=False, style="red")
        raise fail(problems[-1] + ("" if len(problems) == 1 else f" ({len(problems)} invalid; nothing was tracked)"))
    tracked = track_videos(targets, options, scrape=not no_scrape, open_warehouse=writable_warehouse)
    say_queue_problem(tracked.hand_off)
    words = {
        TrackOutcome.CREATED: "now tracked",
        TrackOutcome.UPDATED: "already tracked, updated",
        TrackOutcome.RESUMED: "tracking resumed",
    }
    for result in tracked.results:
        out.print(f"{result.video_id}: {words[result.outcome]}", markup=False)
    for link, note in tracked.pending:
        out.print(f"{link.url}: pending ({note})", markup=False)
    first_snapshots(tracked.hand_off)


# ----------------------------------------------------------------------------------------------- import


def import_urls(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with a url column (optional label, cadence, days, platform, kind) or a text file of URLs."
        ),
    ],
    platform: Annotated[str | None, typer.Option("--platform", "-p", help="Platform of bare ids in the file.")] = None,
    no_scrape: Annotated[
        bool, typer.Option("--no-scrape", help="Register only; leave the first snapshots to the pipeline.")
    ] = False,
) -> None:
    """Register every valid URL of a file in one transaction; invalid rows are reported with line numbers.

    The first new videos (up to 100) get their first snapshot at once, the rest from the pipeline.

    A CSV needs a header with a `url` column; `label` (several separated by `;`), `cadence` (auto or hours)
    and `days` are optional. Account links (profiles, channels) are watched like `viewtrail watch` does; a
    `kind` column (`video` or `account`) says which a row is, otherwise the link tells. A plain text file has one URL per line; blank lines and lines starting with #
    are skipped. The same video twice in a file is registered once. Exits with 1 when any row was invalid
    (the valid rows are still registered).
    """
    from viewtrail.app.accounts import platform_note
    from viewtrail.app.videos import import_urls as import_checked_urls
    from viewtrail.cli._files import progress_bar, report_problems  # rich.progress: only this command shows one
    from viewtrail.warehouse.imports import read_url_file
    from viewtrail.warehouse.registry import TrackOutcome

    with progress_bar() as bar:
        task = bar.add_task("checking rows", total=None)
        checked = read_url_file(
            file, platform=platform, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    imported = import_checked_urls(checked, scrape=not no_scrape, open_warehouse=writable_warehouse)
    say_queue_problem(imported.hand_off)
    results, watched, pending = imported.results, imported.watched, imported.pending
    created = sum(r.outcome is TrackOutcome.CREATED for r in results)
    resumed = sum(r.outcome is TrackOutcome.RESUMED for r in results)
    updated = len(results) - created - resumed
    summary = f"{file.name}: {created} new, {updated} already tracked (updated), {resumed} resumed"
    if checked.duplicates:
        summary += f", {checked.duplicates} repeated in the file"
    if pending:
        summary += f", {len(pending)} short link(s) pending"
    if watched:
        new_accounts = sum(w.outcome is TrackOutcome.CREATED for w in watched)
        summary += f"; {len(watched)} account(s) watched ({new_accounts} new)"
    out.print(summary + ".", markup=False)
    for platform in dict.fromkeys(w.platform for w in watched):
        note = platform_note(platform)
        if note:
            out.print(f"Note: {note}.", markup=False)
    first_snapshots(imported.hand_off)
    if watched and not no_scrape:
        first_snapshots_of(first_discoveries(watched), scrape=True)
    if checked.problems:
        report_problems(checked.problems, "invalid rows")
        raise fail(
            f"{len(checked.problems)} invalid row(s) in {file.name} were skipped; fix them and import the file again."
        )


# ---------------------------------------------------------------------------------------- untrack, delete


def untrack(
    videos: Annotated[list[str], typer.Argument(help="Video ids or URLs.")],
    platform: PlatformOption = None,
) -> None:
    """Stop tracking videos; their snapshots stay in the warehouse."""
    from viewtrail.app.videos import stop_videos

    ids = _target_ids(videos, platform)
    states = stop_videos(ids, open_warehouse=_existing_warehouse)
    unknown = [i for i, state in states.items() if state == "unknown"]
    for video_id, state in states.items():
        if state != "unknown":
            out.print(f"{video_id}: {state}", markup=False)
    if unknown:
        raise fail(f"Not in the registry: {', '.join(unknown)}; check the id with `viewtrail list`.")


def delete(
    videos: Annotated[list[str], typer.Argument(help="Video ids or URLs.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm permanent deletion (required).")] = False,
    platform: PlatformOption = None,
) -> None:
    """Delete videos with all their snapshots and scrape attempts, permanently (use untrack to keep history)."""
    from viewtrail.app.videos import delete_videos

    ids = _target_ids(videos, platform)
    if not yes:
        raise fail(
            f"Deleting removes {len(ids)} video(s) and all their snapshots permanently; add --yes to confirm "
            f"(or use `viewtrail untrack` to keep the history)."
        )
    removed = delete_videos(ids, open_warehouse=_existing_warehouse)
    unknown = [i for i, n in removed.items() if n is None]
    for video_id, n in removed.items():
        if n is not None:
            out.print(f"{video_id}: deleted with {n} snapshot(s)", markup=False)
    if unknown:
        raise fail(f"Not in the registry: {', '.join(unknown)}; nothing was deleted for them.")


# ---------------------------------------------------------------------------------------- list, status


def _list_signature() -> inspect.Signature:
    """`viewtrail list`'s parameters for typer, from their one definition (:data:`LIST_OPTIONS`)."""
    return inspect.Signature(
        [
            inspect.Parameter(
                option.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=option.default,
                annotation=Annotated[
                    option.type,
                    typer.Option(*option.flags, help=option.help_text(), min=option.min),
                ],
            )
            for option in LIST_OPTIONS
        ]
    )


def list_videos(**options: Any) -> None:
    """List registered videos with their state and last snapshot, ordered by video id, a page at a time."""
    show_page(**options)


list_videos.__signature__ = _list_signature()  # type: ignore[attr-defined]  # what typer reads the options from


def status(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON object (platforms, failing, overdue) instead of tables.")
    ] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the counts by platform as CSV.")] = False,
) -> None:
    """Counts by platform and state, last successful scrape, videos failing or overdue, pending short links."""
    from viewtrail.warehouse.registry import status_summary

    with readable_warehouse() as con:
        summary = status_summary(con)
    if as_json and not as_csv:
        import json

        typer.echo(
            json.dumps(
                {
                    "platforms": json.loads(json_rows(summary.by_platform)),
                    "failing": json.loads(json_rows(summary.failing)),
                    "overdue": json.loads(json_rows(summary.overdue)),
                    "pending_links": summary.pending_links,
                },
                indent=2,
            )
        )
        return
    if print_rows(summary.by_platform, as_json=as_json, as_csv=as_csv):
        return
    table = Table(title="viewtrail status")
    for name in ("platform", "active", "inactive", "unavailable", "pending links", "last successful scrape (UTC)"):
        table.add_column(name, justify="left" if name.startswith(("platform", "last")) else "right")
    for row in summary.by_platform.iter_rows(named=True):
        table.add_row(
            row["platform"],
            str(row["active"]),
            str(row["inactive"]),
            str(row["unavailable"]),
            str(row["pending_links"]),
            fmt_time(row["last_ok_at"]),
        )
    out.print(table)
    if summary.failing.height:
        failing = Table(title=f"{summary.failing.height} tracked video(s) whose last attempt failed")
        for name in ("video", "outcome", "when (UTC)", "detail"):
            failing.add_column(name)
        for row in summary.failing.head(20).iter_rows(named=True):
            failing.add_row(row["video_id"], row["outcome"], fmt_time(row["attempted_at"]), row["detail"] or "-")
        out.print(failing)
    else:
        out.print("No tracked video is failing.")
    if summary.overdue.height:
        overdue = Table(title=f"{summary.overdue.height} video(s) overdue for a snapshot")
        for name in ("video", "cadence", "every (h)", "last snapshot (UTC)"):
            overdue.add_column(name)
        for row in summary.overdue.head(20).iter_rows(named=True):
            overdue.add_row(
                row["video_id"], row["cadence"], str(row["cadence_hours"]), fmt_time(row["last_observed_at"])
            )
        out.print(overdue)
    else:
        out.print("No tracked video is overdue.")


# ---------------------------------------------------------------------------------------------- register


def register(app: typer.Typer) -> None:
    app.command(
        name="track",
        epilog=(
            "Examples:\n\n"
            "    viewtrail track https://www.tiktok.com/@user/video/7234567890123456789\n\n"
            "    viewtrail track dQw4w9WgXcQ --platform youtube --cadence 6 --days 30\n\n"
            "    viewtrail track https://youtu.be/dQw4w9WgXcQ https://x.com/u/status/1790000000000000000 "
            "--label launch --meta client=acme"
        ),
    )(friendly_errors(track))
    app.command(
        name="untrack",
        epilog=(
            "Examples:\n\n"
            "    viewtrail untrack youtube:dQw4w9WgXcQ\n\n"
            "    viewtrail untrack https://www.instagram.com/reel/C1a2B3c4D5e/\n\n"
            "History is kept; `viewtrail track` the same video to resume."
        ),
    )(friendly_errors(untrack))
    app.command(
        name="delete",
        epilog=(
            "Examples:\n\n"
            "    viewtrail delete youtube:dQw4w9WgXcQ --yes\n\n"
            "    viewtrail delete https://x.com/user/status/1790000000000000000 --yes"
        ),
    )(friendly_errors(delete))
    app.command(
        name="list",
        epilog=(
            "Examples:\n\n"
            "    viewtrail list\n\n"
            "    viewtrail list --platform tiktok --label launch --active\n\n"
            "    viewtrail list --inactive --json > stopped.json"
        ),
    )(friendly_errors(list_videos))
    app.command(name="status", epilog="Examples:\n\n    viewtrail status")(friendly_errors(status))
    app.command(
        name="import",
        epilog=(
            "Examples:\n\n"
            "    viewtrail import urls.txt\n\n"
            "    viewtrail import campaign.csv   # header: url,label,cadence,days\n\n"
            "    viewtrail import ids.txt --platform youtube"
        ),
    )(friendly_errors(import_urls))
