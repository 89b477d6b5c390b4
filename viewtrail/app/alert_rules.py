"""Alert use cases: add, list and remove rules; add, list, test and remove channels; list the alerts that fired.

The CLI's alert commands call these and only parse their input and present the result. Rules and channels are
written through :mod:`viewtrail.alerts.store`, one transaction each; channel URLs live in the 0600 channels file
beside the warehouse (never in the warehouse) and come back only redacted, except to :func:`test_channel`,
which sends with the warehouse closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viewtrail import config
from viewtrail.clock import utc_now

if TYPE_CHECKING:
    from viewtrail.alerts.rules import Rule
    from viewtrail.alerts.store import Channel
    from viewtrail.warehouse.connection import OpenWarehouse


def channels_file() -> Path:
    """The file holding the channels' URLs, beside the warehouse."""
    from viewtrail.alerts.channels import channels_file as beside

    return beside(config.warehouse_path())


def check_kind(kind: str) -> str:
    """``kind`` normalised; :class:`InvalidInputError` naming the kinds when it is none."""
    from viewtrail.alerts.kinds import kind_named

    return kind_named(kind.strip().lower()).name


# ------------------------------------------------------------------------------------------------------ rules


@dataclass(frozen=True, slots=True)
class RuleRequest:
    """A rule as a user describes it: its kind, whom it watches and the kind's numbers (as typed: 10k, 1M...)."""

    kind: str
    labels: Sequence[str] = ()
    accounts: Sequence[str] = ()
    platforms: Sequence[str] = ()
    videos: Sequence[str] = ()
    thresholds: Sequence[str] = ()
    floor: str | None = None
    days: int | None = None
    hours: int | None = None
    by: str | None = None
    channels: Sequence[str] = ()
    cooldown_hours: float | None = None


def add_rule(request: RuleRequest, *, open_warehouse: OpenWarehouse, today: date | None = None) -> Rule:
    """Validate and store a rule; it is evaluated after every build, on what happens from now on."""
    from viewtrail.alerts.rules import build_params, build_scope
    from viewtrail.alerts.store import add_rule as store_rule

    kind = check_kind(request.kind)
    now = utc_now()
    scope = build_scope(
        labels=list(request.labels),
        accounts=list(request.accounts),
        platforms=list(request.platforms),
        videos=list(request.videos),
    )
    params = build_params(
        kind,
        thresholds=list(request.thresholds),
        floor=request.floor,
        days=request.days,
        hours=request.hours,
        by=request.by,
        today=today or now.date(),
    )
    with open_warehouse() as con:
        return store_rule(
            con,
            kind,
            scope,
            params,
            channels=list(request.channels),
            cooldown_hours=request.cooldown_hours,
            created_at=now,
        )


def list_rules(*, open_warehouse: OpenWarehouse) -> list[Rule]:
    from viewtrail.alerts.store import list_rules as stored_rules

    with open_warehouse() as con:
        return stored_rules(con)


def remove_rule(rule_id: int, *, open_warehouse: OpenWarehouse) -> None:
    """Remove a rule (the events it fired are kept)."""
    from viewtrail.alerts.store import remove_rule as forget_rule

    with open_warehouse() as con:
        forget_rule(con, rule_id)


# --------------------------------------------------------------------------------------------------- channels


def add_channel(name: str, url: str, *, open_warehouse: OpenWarehouse) -> Channel:
    """Add a channel (or replace the URL of an existing one); the result shows the URL redacted."""
    from viewtrail.alerts.store import add_channel as store_channel

    with open_warehouse() as con:
        return store_channel(con, name, url, secrets_file=channels_file(), now=utc_now())


def list_channels(*, open_warehouse: OpenWarehouse) -> list[Channel]:
    from viewtrail.alerts.store import list_channels as stored_channels

    with open_warehouse() as con:
        return stored_channels(con)


@dataclass(frozen=True, slots=True)
class ChannelTest:
    target: str  # the channel's URL, redacted
    delivered: bool
    reason: str | None


def test_channel(name: str, *, open_warehouse: OpenWarehouse) -> ChannelTest:
    """Send a test message to a channel; the warehouse is closed while it is sent."""
    from viewtrail.alerts.channels import redact, send
    from viewtrail.alerts.messages import channel_test_message
    from viewtrail.alerts.store import channel_url

    with open_warehouse() as con:
        url = channel_url(con, name, channels_file())
    result = send(url, channel_test_message())
    return ChannelTest(redact(url), result.ok, None if result.ok else result.reason)


test_channel.__test__ = False  # type: ignore[attr-defined]  # a use case, not a pytest test


def remove_channel(name: str, *, open_warehouse: OpenWarehouse) -> None:
    """Remove a channel and its URL (refused while a rule uses it)."""
    from viewtrail.alerts.store import remove_channel as forget_channel

    with open_warehouse() as con:
        forget_channel(con, name, secrets_file=channels_file())


# ----------------------------------------------------------------------------------------------------- events


def fired_alerts(since: datetime, kind: str | None, *, open_warehouse: OpenWarehouse) -> list[dict[str, Any]]:
    """The alerts that fired since ``since`` (by firing time), each with its deliveries."""
    from viewtrail.alerts.kinds import kind_named
    from viewtrail.alerts.store import list_events

    if kind is not None:  # as listed: the kinds are stored in lower case
        kind_named(kind)
    with open_warehouse() as con:
        return list_events(con, since=since, kind=kind)


__all__ = [
    "ChannelTest",
    "RuleRequest",
    "add_channel",
    "add_rule",
    "channels_file",
    "check_kind",
    "fired_alerts",
    "list_channels",
    "list_rules",
    "remove_channel",
    "remove_rule",
    "test_channel",
]
