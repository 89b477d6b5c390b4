"""`viewtrail import-snapshots FILE.csv`: snapshot history exported from another tracker, into raw.snapshots.

The warehouse modules (duckdb, polars) are imported inside the command so that `viewtrail --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from viewtrail.cli._common import enqueue_new_videos, fail, friendly_errors, out, writable_warehouse
from viewtrail.cli._files import progress_bar, report_problems


def import_snapshots(
    file: Annotated[
        Path,
        typer.Argument(help="CSV: url or video_id, observed_at, views, likes, comments, shares[, saves, account]."),
    ],
    track: Annotated[
        bool, typer.Option("--track", help="Also track the videos (default: registered inactive).")
    ] = False,
) -> None:
    """Load snapshot history exported from another tracker (source 'import').

    observed_at is ISO 8601; without an offset it means UTC, offsets are converted. Empty metric cells mean
    unknown. Importing the same file twice changes nothing; exact duplicate rows are collapsed. A row that
    differs from a stored observation at the same instant is reported and not written (exit 1). Any
    malformed row is reported with its line number and nothing at all is written.
    """
    from viewtrail.warehouse.imports import read_snapshot_file, write_snapshot_import
    from viewtrail.warehouse.registry import TrackOutcome

    with progress_bar() as bar:
        task = bar.add_task("checking rows", total=None)
        checked = read_snapshot_file(file, progress=lambda done, total: bar.update(task, completed=done, total=total))
    if checked.problems:
        report_problems(checked.problems, "malformed rows")
        raise fail(
            f"{len(checked.problems)} malformed row(s) in {file.name}; nothing was imported, fix them and retry."
        )
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
        report_problems(summary.conflicts, "conflicting rows")
        raise fail(
            f"{len(summary.conflicts)} row(s) differ from observations already stored at the same instant and were "
            f"not imported; the stored values were kept."
        )


def register(app: typer.Typer) -> None:
    app.command(
        name="import-snapshots",
        epilog=(
            "Examples:\n\n"
            "    viewtrail import-snapshots history.csv\n\n"
            "    viewtrail import-snapshots history.csv --track\n\n"
            "    # header: url,observed_at,views,likes,comments,shares,saves,account"
        ),
    )(friendly_errors(import_snapshots))
