"""`viewtrail list`: its options (the one definition of them: :mod:`.registry_cmds` gives them to typer), the
page it prints, and its run without typer.

A page is what people type most and wait for: typer's import and the building of a command's parameters
(a pydantic adapter per option) were ~0.2 s of CPU before the first row was read. :func:`run_plain` therefore
parses the plain forms of the options itself (``--limit 50``, ``-n 50``, ``--limit=50``, ``--active`` ...) from
:data:`LIST_OPTIONS` and prints the page through the same :func:`show_page` as the typer command. Anything else
(``--help``, a bad value, an unknown or repeated option, ``--json``/``--csv``) goes to typer, whose help and
error messages stay the only ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from viewtrail.cli._base import CSV_HELP, JSON_HELP, err, error_exit_code, out, readable_warehouse

#: Rows `viewtrail list` prints in a table unless --limit says otherwise: a screenful, not the whole registry.
DEFAULT_LIST_LIMIT = 50


@dataclass(frozen=True)
class ListOption:
    """One option of `viewtrail list`: its parameter, its flags as typer declares them (``"--active/--inactive"``
    a pair of boolean flags), its type, default and help (a callable when building it imports what a page does
    not need), and a lower bound for numbers."""

    name: str
    flags: tuple[str, ...]
    type: Any
    default: Any
    help: str | Callable[[], str]
    min: int | None = None

    def help_text(self) -> str:
        return self.help if isinstance(self.help, str) else self.help()


def _platform_help() -> str:
    from viewtrail.domain.urls import PLATFORM_NAMES

    return f"{PLATFORM_NAMES} (needed for bare ids)."


LIST_OPTIONS: tuple[ListOption, ...] = (
    ListOption("platform", ("--platform", "-p"), str | None, None, _platform_help),
    ListOption("label", ("--label", "-l"), str | None, None, "Only videos with this label."),
    ListOption(
        "active",
        ("--active/--inactive",),
        bool | None,
        None,
        "Only tracked (--active) or untracked (--inactive) videos.",
    ),
    ListOption(
        "limit",
        ("--limit", "-n"),
        int | None,
        None,
        f"Videos per page: {DEFAULT_LIST_LIMIT} in a table by default, all with --json/--csv (0 = all).",
        min=0,
    ),
    ListOption(
        "after",
        ("--after",),
        str | None,
        None,
        "Start after this video id (the next-page command printed below a page).",
    ),
    ListOption("as_json", ("--json",), bool, False, JSON_HELP),
    ListOption("as_csv", ("--csv",), bool, False, CSV_HELP),
)

_NUMBER = re.compile(r"[0-9]{1,9}")


def parse_plain(words: Sequence[str]) -> dict[str, Any] | None:
    """The values of :data:`LIST_OPTIONS` from ``words`` (the arguments after ``list``) when they are plain
    (each option once, a value as its own word or after ``=``, a number as digits, a table for output), as
    typer would give them; None for anything else, left to typer."""
    values: dict[str, Any] = {option.name: option.default for option in LIST_OPTIONS}
    seen: set[str] = set()
    flags: dict[str, tuple[ListOption, Any]] = {}
    for option in LIST_OPTIONS:
        for declared in option.flags:
            if "/" in declared:
                on, off = declared.split("/")
                flags[on], flags[off] = (option, True), (option, False)
            elif option.type is bool:
                flags[declared] = (option, True)
            else:
                flags[declared] = (option, None)
    rest = list(words)
    while rest:
        word = rest.pop(0)
        flag, equals, attached = word.partition("=")
        if not flag.startswith("-") or flag not in flags:
            return None  # an argument, `--`, `--help`, an unknown or abbreviated option: typer's to answer
        if equals and not flag.startswith("--"):
            return None  # `-n=2`: click reads the value "=2"
        option, flag_value = flags[flag]
        if option.name in seen:
            return None
        seen.add(option.name)
        if flag_value is not None:  # a boolean flag
            if equals:
                return None
            values[option.name] = flag_value
            continue
        if equals:
            value = attached
        elif rest and not rest[0].startswith("-"):
            value = rest.pop(0)
        else:
            return None
        if option.type == int | None:
            if not _NUMBER.fullmatch(value):
                return None
            number = int(value)
            if option.min is not None and number < option.min:
                return None
            values[option.name] = number
        else:
            values[option.name] = value
    if values["as_json"] or values["as_csv"]:
        return None
    return values


def run_plain(words: Sequence[str]) -> int | None:
    """`viewtrail list WORDS` without typer: the exit code, or None when typer has to parse ``words``
    (:func:`parse_plain`). Errors end as the typer command's do (:func:`viewtrail.cli._base.error_exit_code`)."""
    values = parse_plain(words)
    if values is None:
        return None
    try:
        show_page(**values)
    except (KeyboardInterrupt, Exception) as error:
        code = error_exit_code(error)
        if code is None:
            raise
        return code
    return 0


def fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _fmt_int(value: int | None) -> str:
    return f"{value:,}" if value is not None else "-"


def _next_page_command(after: str, **options: object) -> str:
    """The command line of the next page: the same filters and format, from ``after`` on."""
    import shlex

    words = ["viewtrail", "list"]
    for flag, value in options.items():
        if value is None or value is False:
            continue
        words.append(flag)
        if value is not True:
            words.append(str(value))
    words += ["--after", after]
    return shlex.join(words)


def show_page(
    platform: str | None = None,
    label: str | None = None,
    active: bool | None = None,
    limit: int | None = None,
    after: str | None = None,
    as_json: bool = False,
    as_csv: bool = False,
) -> None:
    """List registered videos with their state and last snapshot, ordered by video id, a page at a time."""
    import json

    from viewtrail.warehouse import video_pages

    wanted = _platform(platform)
    machine = as_json or as_csv
    page_size = limit if limit is not None else (None if machine else DEFAULT_LIST_LIMIT)
    page_size = page_size or None  # 0: all
    with readable_warehouse() as con:
        # one row more than the page tells whether there is a next page
        columns, rows = video_pages.video_page(
            con,
            platform=wanted,
            label=label,
            active=active,
            after=after,
            limit=None if page_size is None else page_size + 1,
        )
        total = video_pages.count_videos(con, platform=wanted, label=label, active=active)
    more = page_size is not None and len(rows) > page_size
    rows = rows[:page_size] if more else rows  # drop the look-ahead row
    next_page = (
        _next_page_command(
            rows[-1]["video_id"],
            **{
                "--platform": platform,
                "--label": label,
                "--limit": limit,
                "--active" if active else "--inactive": active is not None,
                "--json": as_json,
                "--csv": as_csv,
            },
        )
        if more
        else None
    )
    if machine:
        from viewtrail.cli._common import print_rows

        if as_json:  # metadata as the object it is, not its JSON text
            rows = [{**row, "metadata": json.loads(row["metadata"]) if row["metadata"] else {}} for row in rows]
        print_rows(rows, as_json=as_json, as_csv=as_csv, columns=columns)
        if next_page:  # on stderr: stdout stays the data alone, ready for a pipe
            err.print(f"next page: {next_page}", markup=False, highlight=False)
        return
    if not rows:
        if after is not None and total:
            out.print(f"No videos after {after}; that was the last page.", markup=False)
        else:
            out.print("No videos match; track one with `viewtrail track URL`.", markup=False)
        return
    from rich.table import Table

    table = Table(title=f"{total:,} video(s)")
    table.add_column("video", no_wrap=True, min_width=max(len(row["video_id"]) for row in rows))
    for name in ("account", "state", "cadence", "labels", "snapshots", "views", "last snapshot (UTC)"):
        table.add_column(name, justify="right" if name in {"snapshots", "views"} else "left")
    for row in rows:
        if row["availability"] == "unavailable":
            state = "[red]unavailable[/red]"
        else:
            state = "[green]active[/green]" if row["is_active"] else "[dim]inactive[/dim]"
        table.add_row(
            row["video_id"],
            row["account"] or "-",
            state,
            row["cadence"],
            ", ".join(row["labels"]) or "-",
            _fmt_int(row["snapshots"] or 0),
            _fmt_int(row["last_views"]),
            fmt_time(row["last_observed_at"]),
        )
    out.print(table)
    if next_page:
        out.print(f"{len(rows):,} of {total:,} video(s) shown; next page: {next_page}", markup=False, highlight=False)


def _platform(value: str | None) -> str | None:
    if not value:
        return None
    from viewtrail.domain.urls import parse_platform

    return parse_platform(value)
