"""Alert storage: rules and channels in the registry, events and deliveries in raw (migration 4), and reading the
rules' inputs from the marts. Every write goes through ``transaction(con)``; nothing here sends anything.

The readers (:func:`read_inputs`, :func:`read_state`) take any connection holding the marts and the alert tables:
the pipeline passes the analyst copy (read-only, closed before delivery); tests pass a warehouse built by hand.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from viewtrail.alerts import channels as ch
from viewtrail.alerts.delivery import DeliveryState
from viewtrail.alerts.evaluate import MAX_CATCH_UP, FiredBefore
from viewtrail.alerts.kinds import KINDS
from viewtrail.alerts.kinds.unavailable import GONE_OUTCOMES
from viewtrail.alerts.messages import Message
from viewtrail.alerts.model import AlertInputs, DayPoint, GoneStreak, HealthHour, Rule, Scope, VideoInfo
from viewtrail.alerts.rules import default_cooldown, validate_rule
from viewtrail.alerts.service import AlertRun, AlertState
from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.models import TRANSIENT_OUTCOMES
from viewtrail.warehouse import marts
from viewtrail.warehouse.registry import unknown_videos
from viewtrail.warehouse.transactions import transaction

_TRANSIENT = ", ".join(f"'{o.value}'" for o in sorted(TRANSIENT_OUTCOMES))
_GONE = ", ".join(f"'{o}'" for o in sorted(GONE_OUTCOMES))


class AlertsError(InvalidInputError):
    """A rule or channel command cannot be carried out (one sentence)."""


def _has_tables(con: duckdb.DuckDBPyConnection, *names: str) -> bool:
    found = {
        f"{s}.{t}"
        for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
            " UNION ALL SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = current_database()"
        ).fetchall()
    }
    return all(name in found for name in names)


# ----------------------------------------------------------------------------------------------------- rules


def _rule(row: tuple) -> Rule:
    rule_id, kind, scope_kind, scope_values, params, channels, cooldown, created_at = row
    return Rule(
        int(rule_id),
        kind,
        Scope(scope_kind, tuple(scope_values or ())),
        json.loads(params),
        tuple(channels or ()),
        float(cooldown),
        created_at,
    )


def list_rules(con: duckdb.DuckDBPyConnection) -> list[Rule]:
    if not _has_tables(con, "registry.alert_rules"):
        return []
    rows = con.execute(
        "SELECT rule_id, kind, scope_kind, scope_values, params, channels, cooldown_hours, created_at"
        " FROM registry.alert_rules ORDER BY rule_id"
    ).fetchall()
    return [_rule(r) for r in rows]


def add_rule(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    scope: Scope,
    params: dict[str, Any],
    *,
    channels: Sequence[str] = (),
    cooldown_hours: float | None = None,
    created_at: datetime,
) -> Rule:
    validate_rule(kind, scope)
    cooldown = default_cooldown(kind) if cooldown_hours is None else float(cooldown_hours)
    if cooldown < 0:
        raise AlertsError("--cooldown is a number of hours, 0 or more.")
    with transaction(con):
        known = {n for (n,) in con.execute("SELECT name FROM registry.alert_channels").fetchall()}
        missing = [c for c in channels if c not in known]
        if missing:
            raise AlertsError(
                f"No channel named {missing[0]}; add it first with `viewtrail channel add {missing[0]} URL`."
            )
        unknown = unknown_videos(con, scope.values) if scope.kind == "videos" else []
        if unknown:  # such a rule could never fire
            raise AlertsError(
                f"Not in the registry: {', '.join(unknown)}; give video ids as `viewtrail list` shows them "
                f"(e.g. youtube:dQw4w9WgXcQ), or track the video first."
            )
        # never a removed rule's id: its events stay, and their dedup keys and cooldowns are keyed by the rule
        (rule_id,) = con.execute(
            "SELECT greatest((SELECT coalesce(max(rule_id), 0) FROM registry.alert_rules),"
            " (SELECT coalesce(max(rule_id), 0) FROM raw.alert_events)) + 1"
        ).fetchall()[0]
        con.execute(
            "INSERT INTO registry.alert_rules VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                rule_id,
                kind,
                scope.kind,
                list(scope.values),
                json.dumps(params),
                list(dict.fromkeys(channels)),
                cooldown,
                created_at,
            ],
        )
    return Rule(int(rule_id), kind, scope, params, tuple(dict.fromkeys(channels)), cooldown, created_at)


def remove_rule(con: duckdb.DuckDBPyConnection, rule_id: int) -> None:
    """Delete a rule; the events it fired stay (they are history)."""
    with transaction(con):
        gone = con.execute("DELETE FROM registry.alert_rules WHERE rule_id = ? RETURNING rule_id", [rule_id]).fetchall()
        if not gone:
            raise AlertsError(f"There is no alert rule {rule_id}; `viewtrail alert list` shows the rules.")


# -------------------------------------------------------------------------------------------------- channels


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    target: str  # redacted
    added_at: datetime
    rules: tuple[int, ...] = ()


def list_channels(con: duckdb.DuckDBPyConnection) -> list[Channel]:
    if not _has_tables(con, "registry.alert_channels"):
        return []
    used: dict[str, list[int]] = {}
    for rule in list_rules(con):
        for name in rule.channels:
            used.setdefault(name, []).append(rule.rule_id)
    rows = con.execute("SELECT name, target, added_at FROM registry.alert_channels ORDER BY name").fetchall()
    return [Channel(n, t, a, tuple(used.get(n, ()))) for n, t, a in rows]


def add_channel(con: duckdb.DuckDBPyConnection, name: str, url: str, *, secrets_file: Path, now: datetime) -> Channel:
    """Add or replace a channel: the URL goes to the 0600 channels file, the name and redacted target to the registry."""
    name = ch.validate_name(name)
    ch.check_url(url)
    urls = ch.read_urls(secrets_file)
    urls[name] = url.strip()
    ch.write_urls(secrets_file, urls)
    target = ch.redact(url)
    with transaction(con):
        con.execute(
            "INSERT INTO registry.alert_channels VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET target = excluded.target",
            [name, target, now],
        )
    return Channel(name, target, now)


def remove_channel(con: duckdb.DuckDBPyConnection, name: str, *, secrets_file: Path) -> None:
    users = [r.rule_id for r in list_rules(con) if name in r.channels]
    if users:
        listed = ", ".join(map(str, users))
        raise AlertsError(
            f"Channel {name} is used by rule(s) {listed}; remove those rules first (`viewtrail alert remove ID`)."
        )
    with transaction(con):
        gone = con.execute("DELETE FROM registry.alert_channels WHERE name = ? RETURNING name", [name]).fetchall()
        if not gone:
            raise AlertsError(f"There is no channel named {name}; `viewtrail channel list` shows the channels.")
    urls = ch.read_urls(secrets_file)
    if urls.pop(name, None) is not None:
        ch.write_urls(secrets_file, urls)


def channel_url(con: duckdb.DuckDBPyConnection, name: str, secrets_file: Path) -> str:
    if not any(c.name == name for c in list_channels(con)):
        raise AlertsError(f"There is no channel named {name}; `viewtrail channel list` shows the channels.")
    url = ch.read_urls(secrets_file).get(name)
    if url is None:
        raise AlertsError(f"The URL of channel {name} is missing from {secrets_file}; add the channel again.")
    return url


def channel_urls(con: duckdb.DuckDBPyConnection, secrets_file: Path) -> dict[str, str]:
    """The URLs of the registered channels (a channel only in the file, not in the registry, is not used)."""
    names = {c.name for c in list_channels(con)}
    return {n: u for n, u in ch.read_urls(secrets_file).items() if n in names}


# ---------------------------------------------------------------------------------------------------- inputs


def read_inputs(con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], now: datetime) -> AlertInputs:
    """What ``rules`` read, from the marts (and raw.scrape_attempts) on ``con``; empty before the first build.

    ``videos`` is always read; the other :class:`AlertInputs` fields only when a rule's kind reads them."""
    inputs = AlertInputs()
    kinds = [KINDS[k] for k in {r.kind for r in rules} if k in KINDS]
    if not kinds or not _has_tables(con, "marts.video_latest", "marts.video_daily"):
        return inputs
    for latest in marts.latest_videos(con):
        inputs.videos[latest.video_id] = VideoInfo(
            latest.video_id,
            latest.platform,
            latest.account,
            latest.labels,
            latest.url,
            latest.title,
            latest.is_active,
            latest.availability,
            latest.posted_at,
            latest.last_observed_at,
        )
    # one window for every kind (the longest history any kind needs), so adding a rule never shifts another's
    since = now - MAX_CATCH_UP - timedelta(days=max(k.history_days for k in KINDS.values()))
    for name in sorted(set().union(*(k.reads for k in kinds))):
        INPUT_READERS[name](con, inputs, since, now)
    return inputs


def _read_daily(con: duckdb.DuckDBPyConnection, inputs: AlertInputs, since: datetime, now: datetime) -> None:
    for day in marts.video_views(con, start=since.date()):
        inputs.daily.setdefault(day.video_id, []).append(
            DayPoint(day.day, day.views, day.views_gained, int(day.observations or 0))
        )


def _read_gone(con: duckdb.DuckDBPyConnection, inputs: AlertInputs, since: datetime, now: datetime) -> None:
    if not _has_tables(con, "raw.scrape_attempts"):
        return
    for video_id, since_at, attempts, outcome in con.execute(
        f"""
        WITH definitive AS (
          SELECT video_id, attempted_at, outcome FROM raw.scrape_attempts
          WHERE attempted_at >= ? AND outcome NOT IN ({_TRANSIENT})
        ), last_other AS (
          SELECT video_id, max(attempted_at) AS at FROM definitive WHERE outcome NOT IN ({_GONE}) GROUP BY 1
        )
        SELECT d.video_id, min(d.attempted_at), count(*), arg_max(d.outcome, d.attempted_at)
        FROM definitive d LEFT JOIN last_other o USING (video_id)
        WHERE d.outcome IN ({_GONE}) AND (o.at IS NULL OR d.attempted_at > o.at)
        GROUP BY 1
        """,
        [since],
    ).fetchall():
        inputs.gone[video_id] = GoneStreak(video_id, outcome, since_at, int(attempts))


def _read_health(con: duckdb.DuckDBPyConnection, inputs: AlertInputs, since: datetime, now: datetime) -> None:
    if not _has_tables(con, "raw.scrape_attempts"):
        return
    for platform, hour, attempts, succeeded, quota in con.execute(
        f"""
        SELECT platform, date_trunc('hour', attempted_at), count(*),
               count(*) FILTER (WHERE outcome NOT IN ({_TRANSIENT})),
               count(*) FILTER (WHERE outcome = 'quota_exhausted')
        FROM raw.scrape_attempts WHERE attempted_at >= ? GROUP BY ALL ORDER BY 1, 2
        """,
        [now - MAX_CATCH_UP - timedelta(days=1)],
    ).fetchall():
        inputs.health.append(HealthHour(platform, hour, int(attempts), int(succeeded), int(quota)))


def _read_label_daily(con: duckdb.DuckDBPyConnection, inputs: AlertInputs, since: datetime, now: datetime) -> None:
    for views in marts.label_views(con):
        inputs.label_daily.setdefault(views.key, []).append(DayPoint(views.day, views.views))


def _read_account_daily(con: duckdb.DuckDBPyConnection, inputs: AlertInputs, since: datetime, now: datetime) -> None:
    for views in marts.account_views(con):
        inputs.account_daily.setdefault(views.key, []).append(DayPoint(views.day, views.views))


def _read_goal_status(con: duckdb.DuckDBPyConnection, inputs: AlertInputs, since: datetime, now: datetime) -> None:
    inputs.goal_status = marts.goal_statuses(con)


def _read_campaigns(con: duckdb.DuckDBPyConnection, inputs: AlertInputs, since: datetime, now: datetime) -> None:
    inputs.campaigns = marts.campaign_totals(con)


def _read_payouts(con: duckdb.DuckDBPyConnection, inputs: AlertInputs, since: datetime, now: datetime) -> None:
    inputs.payouts = marts.creator_payouts(con)


#: How each :class:`AlertInputs` field a kind may read (``AlertKind.reads``) is read.
INPUT_READERS = {
    "daily": _read_daily,
    "gone": _read_gone,
    "health": _read_health,
    "label_daily": _read_label_daily,
    "account_daily": _read_account_daily,
    "goal_status": _read_goal_status,
    "campaigns": _read_campaigns,
    "payouts": _read_payouts,
}


def _message(text: str) -> Message:
    title, _, body = text.partition("\n")
    return Message(title, body)


def read_state(con: duckdb.DuckDBPyConnection, now: datetime) -> AlertState:
    """The rules, what already fired (for dedup and cooldown) and the deliveries still to make."""
    state = AlertState(rules=list_rules(con))
    if not _has_tables(con, "raw.alert_events", "raw.alert_deliveries"):
        return state
    horizon = now - MAX_CATCH_UP - timedelta(days=2)
    keys = frozenset(
        k for (k,) in con.execute("SELECT dedup_key FROM raw.alert_events WHERE occurred_at >= ?", [horizon]).fetchall()
    )
    latest = {
        (int(rule_id), condition, subject): at
        for rule_id, condition, subject, at in con.execute(
            "SELECT rule_id, condition, subject, max(occurred_at) FROM raw.alert_events GROUP BY ALL"
        ).fetchall()
    }
    state.before = FiredBefore(keys, latest)
    for row in con.execute(
        "SELECT d.event_id, d.channel, d.status, d.attempts, d.last_attempt_at, d.next_attempt_at, d.delivered_at,"
        " d.reason, e.message FROM raw.alert_deliveries d JOIN raw.alert_events e USING (event_id)"
        " WHERE d.status = 'pending' OR (d.status = 'failed' AND d.next_attempt_at IS NOT NULL)"
    ).fetchall():
        state.open_deliveries.append(DeliveryState(*row[:8]))
        state.open_messages[row[0]] = _message(row[8])
    return state


# ----------------------------------------------------------------------------------------------------- write


def write_run(con: duckdb.DuckDBPyConnection, run: AlertRun) -> int:
    """Store the run's new events and delivery states in one transaction; returns the events newly stored (an
    event another evaluation stored meanwhile is kept as it is)."""
    if not run.events and not run.deliveries:
        return 0
    with transaction(con):
        before = con.execute("SELECT count(*) FROM raw.alert_events").fetchall()[0][0]
        if run.events:
            con.executemany(
                "INSERT INTO raw.alert_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    [
                        e.event_id,
                        e.dedup_key,
                        e.rule_id,
                        e.kind,
                        e.condition,
                        e.subject,
                        e.video_id,
                        e.label,
                        e.account,
                        e.platform,
                        json.dumps(e.numbers, sort_keys=True),
                        f"{e.message.title}\n{e.message.body}",
                        e.occurred_at,
                        e.fired_at,
                    ]
                    for e in run.events
                ],
            )
        if run.deliveries:
            con.executemany(
                """
                INSERT INTO raw.alert_deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (event_id, channel) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
                  last_attempt_at = excluded.last_attempt_at, next_attempt_at = excluded.next_attempt_at,
                  delivered_at = excluded.delivered_at, reason = excluded.reason
                """,
                [
                    [
                        d.event_id,
                        d.channel,
                        d.status,
                        d.attempts,
                        d.last_attempt_at,
                        d.next_attempt_at,
                        d.delivered_at,
                        d.reason,
                    ]
                    for d in run.deliveries
                ],
            )
        after = con.execute("SELECT count(*) FROM raw.alert_events").fetchall()[0][0]
    return int(after - before)


# ---------------------------------------------------------------------------------------------------- listing


#: marts.alert_events in the analyst copy, and `viewtrail alerts`: one row per event, deliveries summarised.
def _events_sql(events: str = "raw.alert_events") -> str:
    """Events (from ``events``: the table, or a subquery of it) with their deliveries and first message line."""
    return f"""
SELECT e.event_id, e.rule_id, e.kind, e.condition, e.video_id, e.label, e.account, e.platform, e.numbers,
       e.occurred_at, e.fired_at, e.dedup_key, split_part(e.message, chr(10), 1) AS title,
       coalesce(list(struct_pack(channel := d.channel, status := d.status, attempts := d.attempts,
                                 delivered_at := d.delivered_at, reason := d.reason)
                     ORDER BY d.channel) FILTER (WHERE d.channel IS NOT NULL), []) AS deliveries
FROM {events} e LEFT JOIN raw.alert_deliveries d USING (event_id)
GROUP BY ALL
"""


EVENTS_SQL = _events_sql()


def list_events(
    con: duckdb.DuckDBPyConnection, *, since: datetime | None = None, kind: str | None = None
) -> list[dict[str, Any]]:
    if not _has_tables(con, "raw.alert_events", "raw.alert_deliveries"):
        return []
    where: list[str] = []
    params: list[Any] = []
    if since is not None:
        where.append("fired_at >= ?")
        params.append(since)
    if kind is not None:
        where.append("kind = ?")
        params.append(kind)
    sql = (
        f"SELECT * FROM ({EVENTS_SQL}) {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY occurred_at, event_id"
    )
    cursor = con.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    rows = []
    for row in cursor.fetchall():
        item = dict(zip(columns, row, strict=False))
        item["numbers"] = json.loads(item["numbers"])
        rows.append(item)
    return rows


def recent_events(
    con: duckdb.DuckDBPyConnection, *, limit: int, since: datetime | None = None, video_id: str | None = None
) -> list[dict[str, Any]]:
    """The ``limit`` latest events (by firing time, newest first; among those fired by one evaluation, as a backfill's
    are, the latest to happen first), of one video or all, fired at or after ``since``: picked before their
    deliveries are joined, so it costs the same at 100 events or 100,000."""
    if not _has_tables(con, "raw.alert_events", "raw.alert_deliveries"):
        return []
    picked = (
        "(SELECT * FROM raw.alert_events WHERE ($since IS NULL OR fired_at >= $since)"
        " AND ($video_id IS NULL OR video_id = $video_id)"
        f" ORDER BY fired_at DESC, occurred_at DESC, event_id DESC LIMIT {int(limit)})"
    )
    cursor = con.execute(
        f"SELECT * FROM ({_events_sql(picked)}) ORDER BY fired_at DESC, occurred_at DESC, event_id DESC",
        {"since": since, "video_id": video_id},
    )
    columns = [d[0] for d in cursor.description]
    rows = []
    for row in cursor.fetchall():
        item = dict(zip(columns, row, strict=False))
        item["numbers"] = json.loads(item["numbers"])
        rows.append(item)
    return rows
