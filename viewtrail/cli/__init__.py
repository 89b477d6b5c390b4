"""The ``viewtrail`` command line.

One module per command group, each exposing ``register(app)``: :mod:`.registry_cmds` (track, untrack, delete,
list, status, import), :mod:`.account_cmds` (watch, unwatch, accounts, creator, inbox), :mod:`.snapshots_cmd`
(import-snapshots), :mod:`.report_cmd` (report), :mod:`.sql_cmd` (sql), :mod:`.pipeline_cmds` (demo, build,
rescrape), :mod:`.backup_cmds` (backup, restore), :mod:`.probe_cmd` (probe), :mod:`.api_cmds` (serve, mcp, api-key),
:mod:`.share_cmds` (share), :mod:`.alert_cmds` (alert, channel, alerts) and :mod:`.program_cmds` (campaign, payouts,
goal). Every command runs through
:func:`viewtrail.cli._common.friendly_errors`. The groups import duckdb, polars, Dagster and the platform
clients inside their commands, so that ``viewtrail --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from viewtrail.cli import (
    account_cmds,
    alert_cmds,
    api_cmds,
    backup_cmds,
    pipeline_cmds,
    probe_cmd,
    program_cmds,
    registry_cmds,
    report_cmd,
    share_cmds,
    snapshots_cmd,
    sql_cmd,
)

app = typer.Typer(
    name="viewtrail",
    help="Track views, likes, comments and shares of TikTok, YouTube, Instagram and X videos over time.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    epilog=(
        "Examples:\n\n"
        "    viewtrail track https://youtu.be/dQw4w9WgXcQ --label launch\n\n"
        "    viewtrail import urls.csv\n\n"
        "    viewtrail list --active\n\n"
        "    viewtrail status\n\n"
        "The warehouse is data/warehouse.duckdb (VIEWTRAIL_WAREHOUSE overrides it)."
    ),
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"viewtrail {version('viewtrail')}")
        except PackageNotFoundError:  # a source tree on PYTHONPATH, never installed
            typer.echo("viewtrail (not installed: no version)")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the installed viewtrail version and exit.", is_eager=True, callback=_version
        ),
    ] = False,
) -> None:
    """Track views, likes, comments and shares of TikTok, YouTube, Instagram and X videos over time."""


for _group in (
    registry_cmds,
    account_cmds,
    snapshots_cmd,
    report_cmd,
    sql_cmd,
    pipeline_cmds,
    backup_cmds,
    probe_cmd,
    api_cmds,
    share_cmds,
    alert_cmds,
    program_cmds,
):
    _group.register(app)
