"""Creator-program commands: `viewtrail campaign ...`, `viewtrail payouts ...` and `viewtrail goal ...`.

Each calls a use case of :mod:`viewtrail.app.programs` and prints what it returns. Payout states, balances and goal
statuses are what the latest build computed; ledger writes (reject, adjust, paid) show there after the next build.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from viewtrail.cli._common import CsvOption, JsonOption, friendly_errors, out, print_rows, writable_warehouse
from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.instants import parse_instant
from viewtrail.domain.programs import format_minor

campaign_app = typer.Typer(
    name="campaign",
    help="Campaigns of a creator program: nestable groups of videos, accounts, creators and labels, with payout terms.",
    no_args_is_help=True,
)
payouts_app = typer.Typer(
    name="payouts",
    help="CPM payouts: states, balances, rejections, adjustments, payments, CSV export.",
    no_args_is_help=True,
)
goal_app = typer.Typer(
    name="goal",
    help="Creator goals (posts, views, engagement, followers per period) and over-posting.",
    no_args_is_help=True,
)


#: The options and arguments several subcommands share: one definition each, so their names and help agree.
CampaignFilter = Annotated[str | None, typer.Option("--campaign", help="Only this campaign.")]
CreatorFilter = Annotated[str | None, typer.Option("--creator", help="Only this creator.")]
PayingCampaign = Annotated[str, typer.Argument(help="The paying campaign (id).")]
CampaignId = Annotated[str, typer.Argument(help="The campaign (id).")]
CreatorId = Annotated[str, typer.Argument(help="The creator (id).")]
VideoIds = Annotated[list[str], typer.Argument(help="Video ids.")]
Reason = Annotated[str | None, typer.Option("--reason", help="Why.")]
Currency = Annotated[str, typer.Option("--currency", help="ISO 4217 code.")]


def _say(text: str) -> None:
    """One plain line (no rich markup: ids and reasons are printed as typed)."""
    out.print(text, markup=False)


def _existing() -> Any:
    return writable_warehouse(create=False)


def _date(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"{what}={text!r} is not a date; write it like 2027-03-31.") from None


def _count(text: str | None, what: str) -> int | None:
    """A number of views as typed: 500000, 500k, 1.2M."""
    if text is None:
        return None
    raw = text.strip().lower().replace("_", "").replace(",", "")
    scale = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}.get(raw[-1:], 1)
    try:
        value = float(raw[:-1] if scale > 1 else raw) * scale
    except ValueError:
        raise InvalidInputError(
            f"{what} {text!r} is not a number of views; write it like 500000, 500k or 1.2M."
        ) from None
    return round(value)


def _money(amount: int | None, currency: str | None) -> str:
    return "-" if amount is None else format_minor(amount, currency or "")


def _records(rows: list[Any]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(row) for row in rows]


# -------------------------------------------------------------------------------------------------- campaign


def campaign_create(
    name: Annotated[str, typer.Argument(help="Campaign name ('Spring launch'); its id is the slug (spring-launch).")],
    parent: Annotated[str | None, typer.Option("--parent", help="Nest it in this campaign (id).")] = None,
    starts: Annotated[str | None, typer.Option("--starts", help="Start date, 2027-03-01.")] = None,
    ends: Annotated[str | None, typer.Option("--ends", help="End date.")] = None,
    target: Annotated[str | None, typer.Option("--target", help="Target views (1M, 500k).")] = None,
    target_by: Annotated[str | None, typer.Option("--by", help="The date the target is due.")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Free notes.")] = None,
) -> None:
    """Create a campaign (optionally nested in another)."""
    from viewtrail.app.programs import CampaignRequest, create_campaign

    request = CampaignRequest(
        name,
        parent,
        _date(starts, "--starts"),
        _date(ends, "--ends"),
        _count(target, "--target"),
        _date(target_by, "--by"),
        notes,
    )
    campaign = create_campaign(request, open_warehouse=writable_warehouse)
    _say(f"{campaign.campaign_id}: created")


def campaign_nest(
    campaign: Annotated[str, typer.Argument(help="The campaign to move (id).")],
    parent: Annotated[str | None, typer.Argument(help="Its new parent (id); leave out for the top level.")] = None,
) -> None:
    """Nest a campaign in another (a loop is refused), or move it to the top level."""
    from viewtrail.app.programs import nest_campaign

    nest_campaign(campaign, parent, open_warehouse=_existing)
    _say(f"{campaign}: {'nested in ' + parent if parent else 'at the top level'}")


def campaign_add(
    campaign: CampaignId,
    kind: Annotated[str, typer.Argument(help="video, account, creator or label.")],
    members: Annotated[
        list[str], typer.Argument(help="Ids (youtube:dQw4w9WgXcQ, tiktok:nasa, a creator id) or labels.")
    ],
) -> None:
    """Add videos, accounts (their videos), creators (their accounts' videos) or labels to a campaign."""
    from viewtrail.app.programs import add_members

    added = add_members(campaign, kind.strip().lower(), members, open_warehouse=_existing)
    _say(f"{campaign}: {added} new {kind} member(s)")


def campaign_terms(
    campaign: CampaignId,
    cpm: Annotated[
        str,
        typer.Option(
            "--cpm", help="Minor units (cents) per 1,000 views: 50 (0.50), or tiers from_views:cpm, 0:20,100000:40."
        ),
    ],
    currency: Currency = "USD",
    cap: Annotated[str | None, typer.Option("--cap", help="Cap on payable views per video (500k).")] = None,
    window_hours: Annotated[int, typer.Option("--window-hours", help="Counting window after posting.")] = 168,
    min_views: Annotated[str | None, typer.Option("--min-views", help="Auto-reject below these views.")] = None,
    creator: Annotated[str | None, typer.Option("--creator", help="An override for this creator only.")] = None,
    effective: Annotated[
        str | None, typer.Option("--from", help="Effective from (ISO instant, UTC); default now.")
    ] = None,
) -> None:
    """Set payout terms: a new version, for videos finalized from then on (finalized amounts never change)."""
    from viewtrail.app.programs import TermsRequest, set_terms

    request = TermsRequest(
        campaign,
        cpm,
        currency,
        _count(cap, "--cap"),
        window_hours,
        _count(min_views, "--min-views") or 0,
        creator,
        parse_instant(effective, "--from") if effective else None,
    )
    terms_id = set_terms(request, open_warehouse=_existing)
    _say(f"{campaign}: terms version {terms_id}")


def campaign_list(as_json: JsonOption = False, as_csv: CsvOption = False) -> None:
    """List campaigns with their totals and target (as of the latest build)."""
    from viewtrail.app.programs import list_campaigns

    listings = list_campaigns(open_warehouse=_existing)
    records = [
        {
            **dataclasses.asdict(item.campaign),
            "videos": item.totals.videos if item.totals else None,
            "views": item.totals.views if item.totals else None,
            "target_share": item.totals.target_share if item.totals else None,
            "target_met": item.totals.target_met if item.totals else None,
        }
        for item in listings
    ]
    if print_rows(records, as_json=as_json, as_csv=as_csv, columns=["campaign_id"]):
        return
    if not records:
        _say("No campaigns yet; create one with `viewtrail campaign create NAME`.")
        return
    table = Table(title=f"{len(records)} campaign(s)")
    for column in ("campaign", "parent", "videos", "views", "target", "reached"):
        table.add_column(column, justify="right" if column in ("videos", "views", "reached") else "left")
    for r in records:
        share = r["target_share"]
        table.add_row(
            r["campaign_id"],
            r["parent_id"] or "-",
            "-" if r["videos"] is None else str(r["videos"]),
            "-" if r["views"] is None else f"{r['views']:,}",
            "-"
            if r["target_views"] is None
            else f"{r['target_views']:,}" + (f" by {r['target_by']}" if r["target_by"] else ""),
            "-" if share is None else f"{share:.0%}",
        )
    out.print(table)


# ---------------------------------------------------------------------------------------------------- payouts


def payouts_list(
    campaign: CampaignFilter = None,
    creator: CreatorFilter = None,
    state: Annotated[
        str | None, typer.Option("--state", help="active, finalizing, pending_terms, finalized, paid or rejected.")
    ] = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Each video's payout: state and frozen amount (as of the latest build)."""
    from viewtrail.app.programs import video_payouts

    rows = video_payouts(campaign_id=campaign, creator_id=creator, state=state, open_warehouse=_existing)
    if print_rows(_records(rows), as_json=as_json, as_csv=as_csv, columns=["campaign_id", "video_id"]):
        return
    if not rows:
        _say("No video payouts; add terms (`viewtrail campaign terms`) and run `viewtrail build`.")
        return
    table = Table(title=f"{len(rows)} video payout(s)")
    for column in ("campaign", "video", "creator", "state", "payable views", "amount"):
        table.add_column(column, justify="right" if column in ("payable views", "amount") else "left")
    for r in rows:
        views = "-" if r.payable_views is None else f"{r.payable_views:,}" + ("*" if r.is_interpolated else "")
        table.add_row(
            r.campaign_id, r.video_id, r.creator_id or "-", r.state, views, _money(r.amount_minor, r.currency)
        )
    out.print(table)
    _say("* interpolated between the snapshots around the end of the counting window")


def payouts_balance(
    campaign: CampaignFilter = None,
    creator: CreatorFilter = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Each creator's balance per campaign: accrued, adjustments, paid, due."""
    from viewtrail.app.programs import balances

    rows = balances(campaign_id=campaign, creator_id=creator, open_warehouse=_existing)
    if print_rows(_records(rows), as_json=as_json, as_csv=as_csv, columns=["campaign_id", "creator_id"]):
        return
    if not rows:
        _say("No balances yet; run `viewtrail build` after setting terms.")
        return
    table = Table(title="payout balances")
    for column in ("campaign", "creator", "open", "finalized", "rejected", "accrued", "adjustments", "paid", "due"):
        table.add_column(column, justify="left" if column in ("campaign", "creator") else "right")
    for r in rows:
        table.add_row(
            r.campaign_id,
            r.creator_id or "-",
            str(r.videos_open),
            str(r.videos_finalized),
            str(r.videos_rejected),
            _money(r.accrued_minor, r.currency),
            _money(r.adjustments_minor, r.currency),
            _money(r.paid_minor, r.currency),
            _money(r.due_minor, r.currency),
        )
    out.print(table)


def payouts_export(
    path: Annotated[Path, typer.Argument(help="The CSV file to write ('-' for stdout).")],
    campaign: CampaignFilter = None,
    creator: CreatorFilter = None,
    state: Annotated[str | None, typer.Option("--state", help="Only this state.")] = None,
) -> None:
    """Export the video payouts to CSV (amounts in minor units and as decimals)."""
    from viewtrail.app.programs import payouts_csv, video_payouts

    rows = video_payouts(campaign_id=campaign, creator_id=creator, state=state, open_warehouse=_existing)
    text = payouts_csv(rows)
    if str(path) == "-":
        typer.echo(text, nl=False)
        return
    path.write_text(text)
    _say(f"{len(rows)} payout(s) written to {path}")


def payouts_finalize() -> None:
    """Freeze the payouts whose counting window has ended now (every pipeline build does it too)."""
    from viewtrail.app.programs import finalize

    summary = finalize(open_warehouse=_existing)
    _say(
        f"{summary.finalized} finalized ({summary.interpolated} interpolated), {summary.auto_rejected} rejected "
        "below the minimum; `viewtrail build` updates the marts"
    )


def payouts_reject(
    campaign: PayingCampaign,
    videos: VideoIds,
    reason: Reason = None,
) -> None:
    """Reject videos' payouts (reversible with `payouts unreject`)."""
    from viewtrail.app.programs import reject

    for video_id in reject(campaign, videos, reason=reason, open_warehouse=_existing):
        _say(f"{video_id}: rejected")


def payouts_unreject(
    campaign: PayingCampaign,
    videos: VideoIds,
    reason: Reason = None,
) -> None:
    """Reverse rejections (automatic ones too)."""
    from viewtrail.app.programs import unreject

    for video_id in unreject(campaign, videos, reason=reason, open_warehouse=_existing):
        _say(f"{video_id}: accepted again")


def payouts_adjust(
    campaign: CampaignId,
    creator: CreatorId,
    amount: Annotated[str, typer.Option("--amount", help="Signed amount, two decimals at most: 25, -12.50.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")],
    currency: Currency = "USD",
) -> None:
    """Record an adjustment (bonus or correction) to a creator's balance."""
    from viewtrail.app.programs import adjust

    entry = adjust(campaign, creator, amount, currency, reason=reason, open_warehouse=_existing)
    _say(f"adjustment {entry} recorded")


def payouts_paid(
    campaign: CampaignId,
    reference: Annotated[str, typer.Option("--reference", help="The payment's reference (transfer id).")],
    creator: Annotated[str | None, typer.Option("--creator", help="Only this creator; default every creator.")] = None,
) -> None:
    """Mark what is due as paid: every finalized, accepted, unpaid video and the open adjustments."""
    from viewtrail.app.programs import mark_paid

    payments = mark_paid(campaign, creator, reference=reference, open_warehouse=_existing)
    if not payments:
        _say("Nothing finalized is due; nothing was marked paid.")
    for p in payments:
        _say(f"{p.creator_id or '-'}: {p.videos} video(s), {format_minor(p.amount_minor, p.currency)} paid")


# ------------------------------------------------------------------------------------------------------ goals


def goal_add(
    creator: CreatorId,
    metric: Annotated[str, typer.Argument(help="posts, views, engagement or followers.")],
    target: Annotated[float, typer.Argument(help="Target per period, e.g. 15.")],
    period: Annotated[str, typer.Option("--per", help="day, week or month.")] = "week",
    starts: Annotated[str | None, typer.Option("--starts", help="First date (default today).")] = None,
    ends: Annotated[str | None, typer.Option("--ends", help="Last date (default none).")] = None,
) -> None:
    """Add a goal, e.g. 15 posts per week."""
    from viewtrail.app.programs import GoalRequest, add_goal

    goal = add_goal(
        GoalRequest(creator, metric, period, target, _date(starts, "--starts"), _date(ends, "--ends")),
        open_warehouse=_existing,
    )
    _say(f"goal {goal.goal_id}: {goal.creator_id} {goal.target:g} {goal.metric} per {goal.period}")


def goal_list(
    creator: CreatorFilter = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """List goals."""
    from viewtrail.app.programs import list_goals

    goals = list_goals(creator, open_warehouse=_existing)
    if print_rows(_records(goals), as_json=as_json, as_csv=as_csv, columns=["goal_id"]):
        return
    if not goals:
        _say("No goals yet; add one with `viewtrail goal add CREATOR posts 15 --per week`.")
    for g in goals:
        until = f" until {g.ends_on}" if g.ends_on else ""
        _say(f"{g.goal_id}: {g.creator_id} {g.target:g} {g.metric} per {g.period} from {g.starts_on}{until}")


def goal_remove(goal_id: Annotated[int, typer.Argument(help="The goal's id (`viewtrail goal list`).")]) -> None:
    """Remove a goal."""
    from viewtrail.app.programs import remove_goal

    remove_goal(goal_id, open_warehouse=_existing)
    _say(f"goal {goal_id}: removed")


def goal_status(
    creator: CreatorFilter = None,
    all_periods: Annotated[bool, typer.Option("--all", help="Every period, not only the latest.")] = False,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Goal status per creator and period: On Track, Behind Pace, At Risk, Completed or Missed, with flags."""
    from viewtrail.app.programs import goal_status as statuses

    rows = statuses(creator, all_periods=all_periods, open_warehouse=_existing)
    if print_rows(_records(rows), as_json=as_json, as_csv=as_csv, columns=["goal_id"]):
        return
    if not rows:
        _say("No goal status yet; add a goal and run `viewtrail build`.")
        return
    table = Table(title="goal status")
    for column in ("goal", "creator", "period", "target", "actual", "pace", "status", "flags"):
        table.add_column(column, justify="right" if column in ("target", "actual", "pace") else "left")
    for r in rows:
        flags = [
            name
            for name in ("not_yet_started", "period_in_progress", "period_recently_ended", "scrape_stale")
            if getattr(r, name)
        ]
        table.add_row(
            str(r.goal_id),
            r.creator_id,
            f"{r.period} of {r.period_start}",
            f"{r.target:g} {r.metric}",
            f"{r.actual:g}",
            "-" if r.pace is None else f"{r.pace:.0%}",
            r.status,
            ", ".join(flags) or "-",
        )
    out.print(table)


def goal_overposting(
    creator: CreatorFilter = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Over-posting days: >= 7 videos on one local day, >= 2 of them under 100 views 2 h after posting."""
    from viewtrail.app.programs import overposting

    rows = overposting(creator, open_warehouse=_existing)
    if print_rows(_records(rows), as_json=as_json, as_csv=as_csv, columns=["creator_id", "day"]):
        return
    if not rows:
        _say("No over-posting found.")
    for r in rows:
        mark = "[amber] " if r.is_amber else ""
        _say(f"{mark}{r.creator_id} {r.day}: {r.videos} videos, {r.low_view_videos} under 100 views")


def register(app: typer.Typer) -> None:
    campaign_app.command(
        name="create", epilog="Example:\n\n    viewtrail campaign create 'Spring launch' --target 1M --by 2027-04-30"
    )(friendly_errors(campaign_create))
    campaign_app.command(name="nest", epilog="Example:\n\n    viewtrail campaign nest spring-tiktok spring-launch")(
        friendly_errors(campaign_nest)
    )
    campaign_app.command(name="add", epilog="Example:\n\n    viewtrail campaign add spring-launch creator jane-doe")(
        friendly_errors(campaign_add)
    )
    campaign_app.command(
        name="terms",
        epilog="Example:\n\n    viewtrail campaign terms spring-launch --cpm 50 --cap 500k --min-views 1000",
    )(friendly_errors(campaign_terms))
    campaign_app.command(name="list")(friendly_errors(campaign_list))
    app.add_typer(campaign_app)
    payouts_app.command(name="list")(friendly_errors(payouts_list))
    payouts_app.command(name="balance")(friendly_errors(payouts_balance))
    payouts_app.command(name="export", epilog="Example:\n\n    viewtrail payouts export payouts.csv --state finalized")(
        friendly_errors(payouts_export)
    )
    payouts_app.command(name="finalize")(friendly_errors(payouts_finalize))
    payouts_app.command(name="reject")(friendly_errors(payouts_reject))
    payouts_app.command(name="unreject")(friendly_errors(payouts_unreject))
    payouts_app.command(
        name="adjust",
        epilog="Example:\n\n    viewtrail payouts adjust spring-launch jane-doe --amount -12.50 --reason 'caption fix'",
    )(friendly_errors(payouts_adjust))
    payouts_app.command(
        name="paid", epilog="Example:\n\n    viewtrail payouts paid spring-launch --reference TR-2027-031"
    )(friendly_errors(payouts_paid))
    app.add_typer(payouts_app)
    goal_app.command(name="add", epilog="Example:\n\n    viewtrail goal add jane-doe posts 15 --per week")(
        friendly_errors(goal_add)
    )
    goal_app.command(name="list")(friendly_errors(goal_list))
    goal_app.command(name="remove")(friendly_errors(goal_remove))
    goal_app.command(name="status")(friendly_errors(goal_status))
    goal_app.command(name="overposting")(friendly_errors(goal_overposting))
    app.add_typer(goal_app)
