"""`viewtrail import FILE` (URLs into the registry) and `viewtrail import-snapshots FILE.csv` (past history)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from orchestration.cli._common import enqueue_new_videos, err, fail, friendly_errors, out, writable_warehouse


_MAX_SHOWN = 50


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True,
    )


def _report_problems(problems: list, what: str) -> None:
    for problem in problems[:_MAX_SHOWN]:
        err.print(str(problem), style="red", markup=False)
    if len(problems) > _MAX_SHOWN:
        err.print(f"... and {len(problems) - _MAX_SHOWN} more {what}", style="red", markup=False)


def import_urls(
    file: Annotated[Path, typer.Argument(help="CSV with a url column (optional label, cadence, days, platform) or a text file of URLs.")],
    platform: Annotated[
        str | None, typer.Option("--platform", "-p", help="Platform of bare ids in the file.")
    ] = None,
) -> None:
    """Register every valid URL of a file in one transaction; invalid rows are reported with line numbers.

    A CSV needs a header with a `url` column; `label` (several separated by `;`), `cadence` (auto or hours)
    and `days` are optional. A plain text file has one URL per line; blank lines and lines starting with #
    are skipped. The same video twice in a file is registered once. Exits with 1 when any row was invalid
    (the valid rows are still registered).
    """
    from orchestration.warehouse.imports import UrlImportRow, read_url_file, write_url_import
    from orchestration.warehouse.registry import TrackOutcome, add_pending_link

    from orchestration.cli import mark_links_resolved, resolve_short_links

    with _progress() as bar:
        task = bar.add_task("checking rows", total=None)
        checked = read_url_file(file, platform=platform, progress=lambda done, total: bar.update(task, completed=done, total=total))
    resolved, pending = resolve_short_links([row.ref for row in checked.short_links])  # type: ignore[misc]
    by_url = {row.ref.url: row for row in checked.short_links}
    rows = list(checked.rows)
    for link, ref in resolved:
        row = by_url[link.url]
        rows.append(UrlImportRow(row.line, ref, row.cadence, row.days, row.labels))
    with writable_warehouse() as con:
        con.begin()  # registry rows and pending links land together or not at all
        try:
            results = write_url_import(con, rows, transaction=False)
            mark_links_resolved(con, resolved)
            for link, note in pending:
                row = by_url[link.url]
                add_pending_link(con, link.url, link.platform, note, cadence=row.cadence, days=row.days,
                                 labels=row.labels)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    created = sum(r.outcome is TrackOutcome.CREATED for r in results)
    resumed = sum(r.outcome is TrackOutcome.RESUMED for r in results)
    updated = len(results) - created - resumed
    summary = f"{file.name}: {created} new, {updated} already tracked (updated), {resumed} resumed"
    if checked.duplicates:
        summary += f", {checked.duplicates} repeated in the file"
    if pending:
        summary += f", {len(pending)} short link(s) pending"
    out.print(summary + ".", markup=False)
    enqueue_new_videos(r.video_id for r in results if r.outcome is not TrackOutcome.UPDATED)
    if checked.problems:
        _report_problems(checked.problems, "invalid rows")
        raise fail(f"{len(checked.problems)} invalid row(s) in {file.name} were skipped; fix them and import the file again.")


def import_snapshots(
    file: Annotated[Path, typer.Argument(help="CSV: url or video_id, observed_at, views, likes, comments, shares[, saves, account].")],
    track: Annotated[bool, typer.Option("--track", help="Also track the videos (default: registered inactive).")] = False,
) -> None:
    """Load snapshot history exported from another tracker (source 'import').

    observed_at is ISO 8601; without an offset it means UTC, offsets are converted. Empty metric cells mean
    unknown. Importing the same file twice changes nothing; exact duplicate rows are collapsed. A row that
    differs from a stored observation at the same instant is reported and not written (exit 1). Any
    malformed row is reported with its line number and nothing at all is written.
    """
    from orchestration.warehouse.imports import read_snapshot_file, write_snapshot_import
    from orchestration.warehouse.registry import TrackOutcome

    with _progress() as bar:
        task = bar.add_task("checking rows", total=None)
        checked = read_snapshot_file(file, progress=lambda done, total: bar.update(task, completed=done, total=total))
    if checked.problems:
        _report_problems(checked.problems, "malformed rows")
        raise fail(f"{len(checked.problems)} malformed row(s) in {file.name}; nothing was imported, fix them and retry.")
    with writable_warehouse() as con:
        summary = write_snapshot_import(con, checked, run_id=f"import:{file.name}", track=track)
    registered = [v for v in summary.videos if v.outcome is TrackOutcome.CREATED]
    message = (
        f"{file.name}: {summary.inserted} snapshot(s) imported, {summary.already_stored} already stored, "
        f"{checked.duplicates} duplicate row(s) collapsed, {len(registered)} new video(s) registered "
        f"({'tracked' if track else 'inactive'})"
    )
    out.print(message + ".", markup=False)
    if track:
        enqueue_new_videos(v.video_id for v in summary.videos if v.outcome is not TrackOutcome.UPDATED)
    if summary.conflicts:
        _report_problems(summary.conflicts, "conflicting rows")
        raise fail(
            f"{len(summary.conflicts)} row(s) differ from observations already stored at the same instant and were "
            f"not imported; the stored values were kept."
        )


def register(app: typer.Typer) -> None:
    app.command(
        name="import",
        epilog=(
            "Examples:\n\n"
            "    viewtrail import urls.txt\n\n"
            "    viewtrail import campaign.csv   # header: url,label,cadence,days\n\n"
            "    viewtrail import ids.txt --platform youtube"
        ),
    )(friendly_errors(import_urls))
    app.command(
        name="import-snapshots",
        epilog=(
            "Examples:\n\n"
            "    viewtrail import-snapshots history.csv\n\n"
            "    viewtrail import-snapshots history.csv --track\n\n"
            "    # header: url,observed_at,views,likes,comments,shares,saves,account"
        ),
    )(friendly_errors(import_snapshots))



