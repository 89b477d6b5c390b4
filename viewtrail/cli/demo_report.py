"""The report `viewtrail demo` prints: the use case's :class:`~viewtrail.app.demo.DemoReport` as rich tables."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console, JustifyMethod
from rich.table import Table

from viewtrail.app.demo import DEMO_ALERT_RULES, AlertRow, DemoReport, DiscoveredRow

if TYPE_CHECKING:
    from viewtrail.warehouse import marts


def _fmt_age(days: float | None) -> str:
    if days is None:
        return "-"
    return f"{days * 24:.0f}h" if days < 2 else f"{days:.0f}d"


def _growth_table(title: str, rows: Sequence[marts.GrowingVideo]) -> Table:
    table = Table(title=title)
    table.add_column("video_id")
    table.add_column("title")
    table.add_column("posted", justify="right")
    table.add_column("views", justify="right")
    table.add_column("views/h (24h)", justify="right")
    table.add_column("growth 7d", justify="right")
    for row in rows:
        table.add_row(
            row.video_id,
            (row.title or "")[:34],
            f"{_fmt_age(row.age_days)} ago",
            f"{row.views:,}" if row.views is not None else "-",
            f"{row.views_per_hour_24h:,.1f}" if row.views_per_hour_24h is not None else "-",
            f"+{row.increase_7d_pct:,.0f}%" if row.increase_7d_pct is not None else "new",
        )
    return table


def _count(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "-"


def _creators_table(rows: Sequence[marts.CreatorLatest]) -> Table:
    table = Table(title="Top creators (marts.creator_latest): their accounts summed across platforms")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("creator", "left"),
        ("platforms", "left"),
        ("followers", "right"),
        ("videos", "right"),
        ("views", "right"),
        ("posts/week", "right"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify)
    for row in rows:
        per_week = f"{row.posts_per_week:.1f}" if row.posts_per_week is not None else "-"
        table.add_row(
            row.name, ", ".join(row.platforms), _count(row.followers), f"{row.videos:,}", _count(row.views), per_week
        )
    return table


def _discovered_table(rows: Sequence[DiscoveredRow], total: int) -> Table:
    table = Table(title=f"Discovered during the window ({len(rows)} newest of {total})")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("video_id", "left"),
        ("account", "left"),
        ("posted (UTC)", "left"),
        ("views", "right"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify)
    for row in rows:
        posted = f"{row.posted_at:%Y-%m-%d %H:%M}" if row.posted_at is not None else "-"
        table.add_row(row.video_id, row.account_id, posted, _count(row.views))
    return table


#: Alerts shown in the report: the first of each kind, then the rest up to this many.
REPORT_ALERTS = 12


def _alerts_table(alerts: Sequence[AlertRow]) -> Table:
    firsts = {a.kind: a for a in reversed(alerts)}
    shown = list(firsts.values())
    shown += [a for a in alerts if a not in shown][: max(0, REPORT_ALERTS - len(shown))]
    table = Table(title=f"Alerts that fired during the window ({len(shown)} of {len(alerts)} shown)")
    table.add_column("happened (UTC)")
    table.add_column("kind")
    table.add_column("what")
    for alert in sorted(shown, key=lambda a: a.occurred_at):
        table.add_row(f"{alert.occurred_at:%Y-%m-%d %H:%M}", alert.kind, alert.title.removeprefix("viewtrail: ")[:70])
    return table


def _program_table(report: DemoReport) -> Table:
    from viewtrail.domain.programs import format_minor

    goals = {g.creator_id: g for g in report.goals}
    table = Table(title="Creator program (marts.creator_payouts, creator_goal_status): CPM payouts and weekly goals")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("campaign", "left"),
        ("creator", "left"),
        ("finalized", "right"),
        ("pending", "right"),
        ("rejected", "right"),
        ("due", "right"),
        ("goal this week", "left"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify)
    for p in report.payouts:
        goal = goals.get(p.creator_id or "")
        status = f"{goal.actual:g}/{goal.target:g} {goal.metric}: {goal.status}" if goal else "-"
        table.add_row(
            p.campaign_id,
            p.creator_id or "-",
            str(p.videos_finalized),
            str(p.videos_open),
            str(p.videos_rejected),
            format_minor(p.due_minor, p.currency or ""),
            status,
        )
    return table


def render_report(report: DemoReport, console: Console) -> None:
    console.print(
        f"\n[bold]viewtrail demo[/bold] ([bold red]simulated data[/bold red]: made up by the simulated platform, not "
        f"real metrics) done in {report.seconds:.0f}s: [bold]{report.videos_tracked:,}[/bold] videos tracked, [bold]{report.snapshots_stored:,}[/bold] snapshots "
        f"stored ({report.attempts_stored:,} scrape attempts) for {report.first_hour:%Y-%m-%d %H:00} .. "
        f"{report.last_hour:%Y-%m-%d %H:00} UTC (simulated platform)."
    )
    console.print(
        f"[bold]{report.posted_in_window:,}[/bold] of the sample videos were posted inside the window and tracked at "
        f"launch; the others are catalogue videos posted days to months earlier. "
        f"[bold]{report.hourly_history:,}[/bold] videos have hourly history (24+ snapshots); "
        f"{report.disappeared:,} disappeared and were marked unavailable."
    )
    if report.top_growth:
        console.print(_growth_table("Fastest growing (marts.video_growth): young videos taking off", report.top_growth))
    if report.plateauing:
        console.print(_growth_table("The oldest tracked videos: plateauing", report.plateauing))
    if report.top_creators:
        console.print(_creators_table(report.top_creators))
    console.print(
        f"{report.accounts_watched} watched accounts: [bold]{report.discovered_count:,}[/bold] videos discovered "
        f"that were posted inside the window (tracked from their discovery); {report.inbox_pending:,} wait in the "
        "review inbox (`viewtrail inbox`)."
    )
    if report.discovered_in_window:
        console.print(_discovered_table(report.discovered_in_window, report.discovered_count))
    if report.alerts:
        console.print(_alerts_table(report.alerts))
    if report.payouts:
        console.print(_program_table(report))
    counts = {kind: sum(a.kind == kind for a in report.alerts) for kind, _ in DEMO_ALERT_RULES}
    env = demo_env_prefix(report)
    console.print(
        f"Alerts: {len(report.alerts):,} fired during the window ("
        + ", ".join(f"{n:,} {kind}" for kind, n in counts.items())
        + f"), delivered to {report.alerts_log} (`{env}viewtrail alerts --since "
        f"{max(1, (report.last_hour - report.first_hour).days + 1)}d` lists them)."
    )
    console.print(
        f"The demo's data is in its own directory {report.data_dir or report.analytics_path.parent}/ (your own "
        "videos, in the default data dir, are never touched). To query it, point VIEWTRAIL_DATA_DIR there:\n"
        f'  {env}.venv/bin/viewtrail sql "SELECT video_id, views, views_per_hour_24h FROM marts.video_growth'
        ' ORDER BY views_per_hour_24h DESC LIMIT 10"\n'
        f"                               # the demo's analyst copy {report.analytics_path} (--format csv|json)\n"
        f"  {env}make ui   # Dagster UI + daemon on http://127.0.0.1:3000 on the demo's data\n"
        f"  Parquet exports of every mart: {report.marts_dir}/"
    )


def demo_env_prefix(report: DemoReport) -> str:
    """``VIEWTRAIL_DATA_DIR=<demo dir> `` to put before a command so it reads the demo's data."""
    data_dir = report.data_dir or report.analytics_path.parent
    return f"VIEWTRAIL_DATA_DIR={shlex.quote(str(data_dir))} "
