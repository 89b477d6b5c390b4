"""Account commands: `viewtrail watch`, `unwatch`, `accounts`, `creator ...` and `inbox ...`.

Watching, unwatching and the inbox are use cases of :mod:`viewtrail.app.accounts`; creators are written
through :mod:`viewtrail.warehouse.accounts`. As in the other command groups, the warehouse
modules are imported inside the commands so that `viewtrail --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from viewtrail.cli._common import (
    CsvOption,
    JsonOption,
    err,
    fail,
    friendly_errors,
    out,
    print_rows,
    readable_warehouse,
    writable_warehouse,
)
from viewtrail.cli._first_results import first_discoveries, first_snapshots, first_snapshots_of, say_queue_problem
from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.models import AccountRef, ShortLink
from viewtrail.domain.urls import PLATFORM_NAMES, InvalidVideoUrl, parse_account_url, parse_platform, parse_video_url

if TYPE_CHECKING:
    import duckdb


def _print_states(states: Mapping[str, str]) -> None:
    """One ``id: state`` line per account or video a command acted on."""
    for key, state in states.items():
        out.print(f"{key}: {state}", markup=False)


def _existing_warehouse() -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """The warehouse for writing, never created: these commands act on accounts watched before."""
    return writable_warehouse(create=False)


def _fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def parse_account_urls(texts: list[str]) -> list[AccountRef]:
    """Account refs of the arguments; every invalid one is reported and nothing is done."""
    refs: list[AccountRef] = []
    problems: list[str] = []
    for text in texts:
        try:
            refs.append(parse_account_url(text))
        except InvalidVideoUrl as error:
            problems.append(str(error))
    if problems:
        for problem in problems[:-1]:
            err.print(problem, markup=False, style="red")
        raise fail(problems[-1] + ("" if len(problems) == 1 else f" ({len(problems)} invalid; nothing was watched)"))
    return refs


def _not_watched(text: str) -> InvalidInputError:
    return InvalidInputError(
        f"{text} is not a watched account; see `viewtrail accounts`, or watch it with `viewtrail watch URL`."
    )


def _resolve_accounts(con: duckdb.DuckDBPyConnection, texts: list[str]) -> list[str]:
    """Stored account ids of account URLs or ids; an unknown one is an error naming `viewtrail accounts`."""
    from viewtrail.warehouse.accounts import resolve_account

    ids: list[str] = []
    for text in texts:
        account_id = resolve_account(con, text)
        if account_id is None:
            raise _not_watched(text)
        ids.append(account_id)
    return list(dict.fromkeys(ids))


# ------------------------------------------------------------------------------------------------ watch


def watch(
    urls: Annotated[list[str], typer.Argument(help="Account links: TikTok/Instagram profiles, YouTube channels, X.")],
    latest: Annotated[
        int | None,
        typer.Option("--latest", "-n", help="Videos the first discovery takes, newest first (default 30; 0: none)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Never take videos posted before this date (ISO, UTC).")
    ] = None,
    discovery: Annotated[
        str | None,
        typer.Option(
            "--discovery", help="auto: track new videos (default); review: hold them in the inbox; off: metrics only."
        ),
    ] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", "-l", help="Label of the account and its videos (repeatable).")
    ] = None,
    cadence: Annotated[
        str | None,
        typer.Option("--cadence", "-c", help="Cadence of its discovered videos: 'auto' (default) or hours 1..720."),
    ] = None,
    every: Annotated[
        float | None, typer.Option("--every", help="Hours between two discoveries of the account (default 6).")
    ] = None,
    creator: Annotated[
        str | None, typer.Option("--creator", help="Creator the accounts belong to (created when new).")
    ] = None,
    no_discover: Annotated[
        bool,
        typer.Option("--no-discover", help="Register only; leave the first discovery and snapshots to the pipeline."),
    ] = False,
) -> None:
    """Watch accounts: record their metrics and track their new videos automatically.

    Re-watching an account updates its options (an unwatched one resumes); the same account in another link
    form is the same account. A newly watched account is discovered at once (its metrics, and its recent videos
    tracked with a first snapshot); then the pipeline discovers each account every `--every` hours.
    """
    from viewtrail.app.accounts import WatchOptions, platform_note, watch_accounts
    from viewtrail.domain.instants import parse_instant
    from viewtrail.warehouse.registry import TrackOutcome

    options = WatchOptions(
        latest_n=latest,
        since=parse_instant(since, "--since") if since else None,
        discovery=discovery,
        labels=label or [],
        cadence=cadence,
        every_hours=every,
        creator=creator,
    )
    refs = parse_account_urls(urls)
    watched = watch_accounts(refs, options, open_warehouse=writable_warehouse)
    results = [w.result for w in watched]
    words = {
        TrackOutcome.CREATED: "now watched",
        TrackOutcome.UPDATED: "already watched, updated",
        TrackOutcome.RESUMED: "watching resumed",
    }
    for account in watched:
        settings = (
            f"{account.discovery}, first discovery takes {account.latest_n} newest, every {account.every_hours} h"
        )
        out.print(f"{account.result.account_id}: {words[account.result.outcome]} (discovery {settings})", markup=False)
    for platform in dict.fromkeys(r.platform for r in results):
        note = platform_note(platform)
        if note:
            out.print(f"Note: {note}.", markup=False)
    if creator and results:
        out.print(f"Linked to creator {creator}.", markup=False)
    if not no_discover:
        first_snapshots_of(first_discoveries(results), scrape=True)


def unwatch(accounts: Annotated[list[str], typer.Argument(help="Account links or ids (tiktok:nasa).")]) -> None:
    """Stop discovering accounts; their metrics history and their videos stay (untrack videos separately)."""
    from viewtrail.app.accounts import unwatch_accounts

    unwatched = unwatch_accounts(accounts, open_warehouse=_existing_warehouse)
    if unwatched.unknown:
        raise _not_watched(unwatched.unknown[0])
    _print_states(unwatched.states)


def accounts_list(
    platform: Annotated[str | None, typer.Option("--platform", "-p", help=f"{PLATFORM_NAMES}.")] = None,
    creator: Annotated[str | None, typer.Option("--creator", help="Only this creator's accounts.")] = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """List watched (and unwatched) accounts with their discovery settings, videos and latest metrics."""
    from viewtrail.warehouse.accounts import list_accounts

    wanted = parse_platform(platform) if platform else None
    with readable_warehouse() as con:
        frame = list_accounts(con, platform=wanted, creator=creator)
    if print_rows(frame, as_json=as_json, as_csv=as_csv):
        return
    if frame.height == 0:
        out.print("No accounts match; watch one with `viewtrail watch URL`.", markup=False)
        return
    table = Table(title=f"{frame.height} account(s)")
    table.add_column("account", no_wrap=True, min_width=max(len(a) for a in frame["account_id"].to_list()))
    table.add_column("state", no_wrap=True)
    for name in ("discovery", "creators", "labels", "videos", "inbox", "followers", "last (UTC)"):
        table.add_column(name, justify="right" if name in {"videos", "inbox", "followers"} else "left")
    for row in frame.iter_rows(named=True):
        table.add_row(
            row["account_id"],
            "[green]watched[/green]" if row["is_active"] else "[dim]unwatched[/dim]",
            row["discovery"],
            ", ".join(row["creators"]) or "-",
            ", ".join(row["labels"]) or "-",
            str(row["videos"]),
            str(row["inbox_pending"]),
            f"{row['followers']:,}" if row["followers"] is not None else "-",
            f"{_fmt_time(row['last_attempt_at'])} {row['last_outcome'] or ''}".strip(),
        )
    out.print(table)


# ---------------------------------------------------------------------------------------------- creator

creator_app = typer.Typer(
    name="creator", help="Creators: the person or brand behind several accounts.", no_args_is_help=True
)


def creator_add(
    name: Annotated[str, typer.Argument(help="Creator name ('Jane Doe').")],
    accounts: Annotated[list[str] | None, typer.Argument(help="Watched account links or ids to link.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", "-l", help="Label (repeatable).")] = None,
) -> None:
    """Add a creator, optionally linking watched accounts to it."""
    from viewtrail.warehouse.accounts import add_creator, creator_slug, link_creator_accounts
    from viewtrail.warehouse.transactions import transaction

    with writable_warehouse() as con, transaction(con):
        ids = _resolve_accounts(con, accounts or [])
        created = add_creator(con, name, labels=label or [], transaction=False)
        linked = link_creator_accounts(con, name, ids, transaction=False) if ids else {}
    out.print(f"{creator_slug(name)}: {'added' if created else 'already exists'}", markup=False)
    _print_states(linked)


def creator_link(
    name: Annotated[str, typer.Argument(help="Creator name.")],
    accounts: Annotated[list[str], typer.Argument(help="Watched account links or ids.")],
) -> None:
    """Link watched accounts to a creator."""
    from viewtrail.warehouse.accounts import link_creator_accounts

    with writable_warehouse(create=False) as con:
        linked = link_creator_accounts(con, name, _resolve_accounts(con, accounts))
    _print_states(linked)


def creator_unlink(
    name: Annotated[str, typer.Argument(help="Creator name.")],
    accounts: Annotated[list[str], typer.Argument(help="Account links or ids.")],
) -> None:
    """Unlink accounts from a creator (they stay watched)."""
    from viewtrail.warehouse.accounts import unlink_creator_accounts

    with writable_warehouse(create=False) as con:
        states = unlink_creator_accounts(con, name, _resolve_accounts(con, accounts))
    _print_states(states)


def creator_list(
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """List creators with their accounts."""
    from viewtrail.warehouse.accounts import list_creators

    with readable_warehouse() as con:
        frame = list_creators(con)
    if print_rows(frame, as_json=as_json, as_csv=as_csv):
        return
    if frame.height == 0:
        out.print("No creators yet; add one with `viewtrail creator add NAME [ACCOUNT...]`.", markup=False)
        return
    table = Table(title=f"{frame.height} creator(s)")
    for name in ("creator", "name", "accounts", "videos", "labels"):
        table.add_column(name, justify="right" if name == "videos" else "left")
    for row in frame.iter_rows(named=True):
        table.add_row(
            row["creator_id"],
            row["name"],
            ", ".join(row["accounts"]) or "-",
            str(row["videos"]),
            ", ".join(row["labels"]) or "-",
        )
    out.print(table)


def creator_remove(name: Annotated[str, typer.Argument(help="Creator name.")]) -> None:
    """Remove a creator; its accounts stay watched."""
    from viewtrail.warehouse.accounts import creator_slug, remove_creator

    with writable_warehouse(create=False) as con:
        removed = remove_creator(con, name)
    if not removed:
        raise fail(f"There is no creator {name!r}; see `viewtrail creator list`.")
    out.print(f"{creator_slug(name)}: removed", markup=False)


# ------------------------------------------------------------------------------------------------ inbox

inbox_app = typer.Typer(
    name="inbox",
    help="Videos discovered on accounts watched with --discovery review, waiting to be accepted or rejected.",
    invoke_without_command=True,
)


def _inbox_ids(texts: list[str]) -> list[str]:
    ids = []
    for text in texts:
        ref = parse_video_url(text)
        if isinstance(ref, ShortLink):
            raise InvalidInputError(f"{text} is a short link; give the video id shown by `viewtrail inbox`.")
        ids.append(ref.video_id)
    return ids


def inbox_show(
    ctx: typer.Context,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """List the videos waiting for review."""
    if ctx.invoked_subcommand is not None:
        return
    from viewtrail.warehouse.accounts import list_inbox

    with readable_warehouse() as con:
        frame = list_inbox(con)
    if print_rows(frame, as_json=as_json, as_csv=as_csv):
        return
    if frame.height == 0:
        out.print("The inbox is empty.", markup=False)
        return
    table = Table(title=f"{frame.height} video(s) waiting for review")
    for name in ("video", "account", "posted (UTC)", "title", "url"):
        table.add_column(name)
    for row in frame.iter_rows(named=True):
        table.add_row(row["video_id"], row["account_id"], _fmt_time(row["posted_at"]), row["title"] or "-", row["url"])
    out.print(table)
    out.print("Accept with `viewtrail inbox accept ID|all`, reject with `viewtrail inbox reject ID`.", markup=False)


def inbox_accept(
    videos: Annotated[list[str], typer.Argument(help="Video ids or links from `viewtrail inbox`, or all.")],
    no_scrape: Annotated[
        bool, typer.Option("--no-scrape", help="Register only; leave the first snapshot to the pipeline.")
    ] = False,
) -> None:
    """Accept videos: they are tracked like the account's other discovered videos."""
    from viewtrail.app.accounts import accept_inbox

    ids = None if [v.strip().lower() for v in videos] == ["all"] else _inbox_ids(videos)
    accepted = accept_inbox(ids, scrape=not no_scrape, open_warehouse=_existing_warehouse)
    say_queue_problem(accepted.hand_off)
    _report_inbox(accepted.states)  # ids not in the inbox: exits 1; the queued first snapshots fall due anyway
    first_snapshots(accepted.hand_off)


def inbox_reject(
    videos: Annotated[list[str], typer.Argument(help="Video ids or links from `viewtrail inbox`.")],
) -> None:
    """Reject videos: never tracked, never offered again."""
    from viewtrail.app.accounts import reject_inbox

    _report_inbox(reject_inbox(_inbox_ids(videos), open_warehouse=_existing_warehouse))


def _report_inbox(states: dict[str, str]) -> None:
    if not states:
        out.print("The inbox has nothing pending.", markup=False)
    for video_id, state in states.items():
        if state != "unknown":
            out.print(f"{video_id}: {state}", markup=False)
    unknown = [i for i, s in states.items() if s == "unknown"]
    if unknown:
        raise fail(f"Not in the inbox: {', '.join(unknown)}; see `viewtrail inbox`.")


# ---------------------------------------------------------------------------------------------- register


def register(app: typer.Typer) -> None:
    app.command(
        name="watch",
        epilog=(
            "Examples:\n\n"
            "    viewtrail watch https://www.tiktok.com/@nasa https://www.youtube.com/@NASA --creator NASA\n\n"
            "    viewtrail watch https://www.instagram.com/nasa/ --discovery review --latest 10\n\n"
            "    viewtrail watch https://x.com/nasa --discovery off"
        ),
    )(friendly_errors(watch))
    app.command(
        name="unwatch",
        epilog="Examples:\n\n    viewtrail unwatch tiktok:nasa\n\n    viewtrail unwatch https://www.youtube.com/@NASA",
    )(friendly_errors(unwatch))
    app.command(
        name="accounts",
        epilog="Examples:\n\n    viewtrail accounts\n\n    viewtrail accounts --creator NASA --json",
    )(friendly_errors(accounts_list))
    creator_app.command(name="add", epilog="Example:\n\n    viewtrail creator add 'NASA' tiktok:nasa youtube:nasa")(
        friendly_errors(creator_add)
    )
    creator_app.command(name="link")(friendly_errors(creator_link))
    creator_app.command(name="unlink")(friendly_errors(creator_unlink))
    creator_app.command(name="list")(friendly_errors(creator_list))
    creator_app.command(name="remove")(friendly_errors(creator_remove))
    app.add_typer(creator_app)
    inbox_app.callback()(friendly_errors(inbox_show))
    inbox_app.command(name="accept", epilog="Examples:\n\n    viewtrail inbox accept all")(
        friendly_errors(inbox_accept)
    )
    inbox_app.command(name="reject")(friendly_errors(inbox_reject))
    app.add_typer(inbox_app)


__all__ = ["parse_account_urls", "register"]
