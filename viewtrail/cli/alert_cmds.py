"""Alert commands: `viewtrail alert add|list|remove`, `channel add|list|test|remove`, `alerts`.

Rules, channels and fired alerts are use cases of :mod:`viewtrail.app.alert_rules` (one transaction each); channel URLs go to
the 0600 channels file beside the warehouse and are never printed: every output shows the redacted target
(scheme and host). duckdb and Apprise load inside the commands so that `viewtrail --help` stays fast.
"""

from __future__ import annotations

import json
import re
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from viewtrail.alerts.kinds import KINDS  # plain Python (no duckdb, no Apprise): the help texts derive from it
from viewtrail.cli._common import (
    CsvOption,
    friendly_errors,
    out,
    print_rows,
    readable_warehouse,
    writable_warehouse,
)
from viewtrail.domain.errors import InvalidInputError

if TYPE_CHECKING:
    import duckdb

alert_app = typer.Typer(help="Add, list and remove alert rules (docs/alerts.md).", no_args_is_help=True)
channel_app = typer.Typer(help="Add, list, test and remove notification channels (Apprise URLs).", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _existing_warehouse() -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """The warehouse for writing, never created: removing needs rules and channels added before."""
    return writable_warehouse(create=False)


def _fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _rule_json(rule: Any) -> dict[str, Any]:
    from viewtrail.alerts.rules import describe

    return {
        "rule_id": rule.rule_id,
        "kind": rule.kind,
        "scope": {"kind": rule.scope.kind, "values": list(rule.scope.values)},
        "params": rule.params,
        "channels": list(rule.channels),
        "cooldown_hours": rule.cooldown_hours,
        "created_at": rule.created_at.isoformat(),
        "description": describe(rule),
    }


_RULE_COLUMNS = ("rule_id", "kind", "scope", "params", "channels", "cooldown_hours", "created_at", "description")

# ------------------------------------------------------------------------------------------------- alert ...


def _in_words(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


def _option_help(option: str) -> str:
    """The help of an `alert add` option: what it means to each kind reading it."""
    return " ".join(f"{k.name}: {k.options[option]}" for k in KINDS.values() if option in k.options)


ALERT_ADD_HELP = (
    "Add an alert rule; it is evaluated after every build (`viewtrail build`, the hourly pipeline).\n\n"
    "Only what happens after the rule was added fires. Defaults: "
    + "; ".join(k.defaults_help for k in KINDS.values() if k.defaults_help)
    + "."
)
ALERT_ADD_EPILOG = "Examples:\n\n" + "\n\n".join(f"    {k.example}" for k in KINDS.values())


def alert_add(
    kind: Annotated[str, typer.Argument(help=_in_words(list(KINDS)) + ".")],
    label: Annotated[
        list[str] | None, typer.Option("--label", "-l", help="Only videos with this label (repeatable).")
    ] = None,
    account: Annotated[
        list[str] | None,
        typer.Option("--account", "-a", help="Only this account, `handle` or `platform:handle` (repeatable)."),
    ] = None,
    platform: Annotated[
        list[str] | None, typer.Option("--platform", "-p", help="Only this platform (repeatable).")
    ] = None,
    video: Annotated[list[str] | None, typer.Option("--video", help="Only these video ids (repeatable).")] = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option(
            "--threshold",
            "-t",
            help="The kind's number: " + ", ".join(k.threshold_help for k in KINDS.values()) + ".",
        ),
    ] = None,
    floor: Annotated[str | None, typer.Option("--floor", help=_option_help("floor"))] = None,
    days: Annotated[int | None, typer.Option("--days", help=_option_help("days"))] = None,
    hours: Annotated[int | None, typer.Option("--hours", help=_option_help("hours"))] = None,
    by: Annotated[str | None, typer.Option("--by", help=_option_help("by"))] = None,
    channel: Annotated[
        list[str] | None,
        typer.Option(
            "--channel", "-c", help="Deliver to this channel (repeatable); without one, events are only recorded."
        ),
    ] = None,
    cooldown: Annotated[
        float | None,
        typer.Option("--cooldown", help="Hours before the same condition may fire again (default per kind)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add an alert rule (help: ALERT_ADD_HELP, from the kinds' registry)."""
    from viewtrail.alerts.rules import describe
    from viewtrail.app.alert_rules import RuleRequest, add_rule

    request = RuleRequest(
        kind,
        labels=label or [],
        accounts=account or [],
        platforms=platform or [],
        videos=video or [],
        thresholds=threshold or [],
        floor=floor,
        days=days,
        hours=hours,
        by=by,
        channels=channel or [],
        cooldown_hours=cooldown,
    )
    rule = add_rule(request, open_warehouse=writable_warehouse)
    if as_json:
        typer.echo(json.dumps(_rule_json(rule), indent=2))
        return
    where = f" -> {', '.join(rule.channels)}" if rule.channels else " (recorded only: no channel)"
    out.print(f"rule {rule.rule_id} added: {describe(rule)}{where}", markup=False)


def alert_list(as_json: JsonOption = False, as_csv: CsvOption = False) -> None:
    """List the alert rules."""
    from viewtrail.alerts.rules import describe
    from viewtrail.app.alert_rules import list_rules

    rules = list_rules(open_warehouse=readable_warehouse)
    if print_rows([_rule_json(r) for r in rules], as_json=as_json, as_csv=as_csv, columns=_RULE_COLUMNS):
        return
    if not rules:
        out.print("No alert rules; add one with `viewtrail alert add KIND`.", markup=False)
        return
    table = Table()
    for column in ("id", "kind", "rule", "channels", "cooldown", "added"):
        table.add_column(column)
    for r in rules:
        table.add_row(
            str(r.rule_id),
            r.kind,
            describe(r).split(": ", 1)[1],
            ", ".join(r.channels) or "-",
            f"{r.cooldown_hours:g} h" if r.cooldown_hours else "-",
            _fmt_time(r.created_at),
        )
    out.print(table)


def alert_remove(rule_id: Annotated[int, typer.Argument(help="The rule id (`viewtrail alert list`).")]) -> None:
    """Remove an alert rule (the events it fired are kept)."""
    from viewtrail.app.alert_rules import remove_rule

    remove_rule(rule_id, open_warehouse=_existing_warehouse)
    out.print(f"rule {rule_id} removed", markup=False)


# ----------------------------------------------------------------------------------------------- channel ...


def channel_add(
    name: Annotated[str, typer.Argument(help="A short name, e.g. team-slack.")],
    url: Annotated[str, typer.Argument(help="An Apprise URL (slack://..., mailto://..., json://..., file:///path).")],
) -> None:
    """Add a channel (or replace the URL of an existing one).

    The URL is kept in a file readable only by you beside the warehouse, never in the warehouse, the analyst copy,
    logs or output; what is shown is its scheme and host.
    """
    from viewtrail.app.alert_rules import add_channel

    channel = add_channel(name, url, open_warehouse=writable_warehouse)
    out.print(
        f"channel {channel.name} added ({channel.target}); try it with `viewtrail channel test {channel.name}`",
        markup=False,
    )


def channel_list(as_json: JsonOption = False, as_csv: CsvOption = False) -> None:
    """List the channels (redacted: scheme and host only) and the rules using them."""
    from viewtrail.app.alert_rules import list_channels

    channels = list_channels(open_warehouse=readable_warehouse)
    listed = [
        {"name": c.name, "target": c.target, "added_at": c.added_at.isoformat(), "rules": list(c.rules)}
        for c in channels
    ]
    if print_rows(listed, as_json=as_json, as_csv=as_csv, columns=("name", "target", "added_at", "rules")):
        return
    if not channels:
        out.print("No channels; add one with `viewtrail channel add NAME URL`.", markup=False)
        return
    table = Table()
    for column in ("name", "target", "rules", "added"):
        table.add_column(column)
    for c in channels:
        table.add_row(c.name, c.target, ", ".join(map(str, c.rules)) or "-", _fmt_time(c.added_at))
    out.print(table)


def channel_test(name: Annotated[str, typer.Argument(help="The channel's name.")]) -> None:
    """Send a test message to a channel and say whether it was delivered (exit 1 when not)."""
    from viewtrail.app.alert_rules import test_channel

    tested = test_channel(name, open_warehouse=readable_warehouse)
    if not tested.delivered:
        raise InvalidInputError(f"The test message to {name} ({tested.target}) was not delivered: {tested.reason}")
    out.print(f"test message delivered to {name} ({tested.target})", markup=False)


def channel_remove(name: Annotated[str, typer.Argument(help="The channel's name.")]) -> None:
    """Remove a channel and its URL (refused while a rule uses it)."""
    from viewtrail.app.alert_rules import remove_channel

    remove_channel(name, open_warehouse=_existing_warehouse)
    out.print(f"channel {name} removed", markup=False)


# ---------------------------------------------------------------------------------------------------- alerts

_EVENT_COLUMNS = (
    "event_id",
    "rule_id",
    "kind",
    "condition",
    "video_id",
    "label",
    "account",
    "platform",
    "numbers",
    "occurred_at",
    "fired_at",
    "dedup_key",
    "title",
    "deliveries",
)


def parse_since(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*", text.lower())
    if not match:
        raise InvalidInputError(f"--since {text!r} is not a duration; use e.g. 90m, 24h, 7d or 2w.")
    unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
    return timedelta(**{unit: float(match.group(1))})


def alerts(
    since: Annotated[str, typer.Option("--since", help="How far back: 90m, 24h, 7d, 2w.")] = "24h",
    kind: Annotated[str | None, typer.Option("--kind", "-k", help="Only this kind.")] = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """List the alerts that fired (by firing time) and where each was delivered."""
    from viewtrail.app.alert_rules import fired_alerts
    from viewtrail.clock import utc_now

    start = utc_now() - parse_since(since)
    events = fired_alerts(start, kind, open_warehouse=readable_warehouse)
    if as_json or as_csv:

        def plain(value: Any) -> Any:
            return value.isoformat() if isinstance(value, datetime) else value

        rows = [
            {k: plain(v) for k, v in e.items() if k != "deliveries"}
            | {"deliveries": [{k: plain(v) for k, v in d.items()} for d in e["deliveries"]]}
            for e in events
        ]
        print_rows(rows, as_json=as_json, as_csv=as_csv, columns=_EVENT_COLUMNS)
        return
    if not events:
        out.print(f"No alert fired since {start:%Y-%m-%d %H:%M} UTC.", markup=False)
        return
    table = Table()
    for column in ("happened (UTC)", "kind", "rule", "what", "delivered"):
        table.add_column(column)
    for e in events:
        delivered = (
            ", ".join(
                f"{d['channel']}: {d['status']}"
                + (f" ({d['reason']})" if d["status"] == "failed" and d["reason"] else "")
                for d in e["deliveries"]
            )
            or "-"
        )
        table.add_row(
            _fmt_time(e["occurred_at"]), e["kind"], str(e["rule_id"]), e["title"].removeprefix("viewtrail: "), delivered
        )
    out.print(table)
    out.print(f"{len(events)} alert(s) since {start:%Y-%m-%d %H:%M} UTC.", markup=False)


def register(app: typer.Typer) -> None:
    alert_app.command("add", help=ALERT_ADD_HELP, epilog=ALERT_ADD_EPILOG)(friendly_errors(alert_add))
    alert_app.command("list", epilog="Examples:\n\n    viewtrail alert list\n\n    viewtrail alert list --json")(
        friendly_errors(alert_list)
    )
    alert_app.command("remove", epilog="Examples:\n\n    viewtrail alert remove 3")(friendly_errors(alert_remove))
    channel_app.command(
        "add",
        epilog=(
            "Examples:\n\n"
            "    viewtrail channel add team-slack slack://TokenA/TokenB/TokenC/#growth\n\n"
            "    viewtrail channel add oncall-mail 'mailtos://user:app-password@gmail.com?to=oncall@example.com'\n\n"
            "    viewtrail channel add hook 'jsons://hooks.example.com/viewtrail/TOKEN'\n\n"
            "    viewtrail channel add log file:///var/log/viewtrail-alerts.jsonl"
        ),
    )(friendly_errors(channel_add))
    channel_app.command("list", epilog="Examples:\n\n    viewtrail channel list\n\n    viewtrail channel list --json")(
        friendly_errors(channel_list)
    )
    channel_app.command("test", epilog="Examples:\n\n    viewtrail channel test team-slack")(
        friendly_errors(channel_test)
    )
    channel_app.command("remove", epilog="Examples:\n\n    viewtrail channel remove team-slack")(
        friendly_errors(channel_remove)
    )
    app.add_typer(alert_app, name="alert")
    app.add_typer(channel_app, name="channel")
    app.command(
        "alerts",
        epilog=(
            "Examples:\n\n"
            "    viewtrail alerts\n\n"
            "    viewtrail alerts --since 7d --kind milestone\n\n"
            "    viewtrail alerts --since 2w --json > alerts.json"
        ),
    )(friendly_errors(alerts))
