"""What the commands reading a file share (`viewtrail import`, `viewtrail import-snapshots`): the progress bar
shown while rows are checked, and the per-row problems printed before the one-sentence summary."""

from __future__ import annotations

from collections.abc import Sequence

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from viewtrail.cli._common import err

#: Problems printed one per line; the rest are counted.
MAX_SHOWN = 50


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def report_problems(problems: Sequence[object], what: str) -> None:
    for problem in problems[:MAX_SHOWN]:
        err.print(str(problem), style="red", markup=False)
    if len(problems) > MAX_SHOWN:
        err.print(f"... and {len(problems) - MAX_SHOWN} more {what}", style="red", markup=False)
