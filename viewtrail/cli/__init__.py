"""The ``viewtrail`` command line.

One module per command group, each exposing ``register(app)``: :mod:`.registry_cmds` (track, untrack, delete,
list, status, import), :mod:`.account_cmds` (watch, unwatch, accounts, creator, inbox), :mod:`.snapshots_cmd`
(import-snapshots), :mod:`.report_cmd` (report), :mod:`.sql_cmd` (sql), :mod:`.pipeline_cmds` (demo, build,
rescrape), :mod:`.backup_cmds` (backup, restore), :mod:`.probe_cmd` (probe), :mod:`.api_cmds` (serve, mcp, api-key),
:mod:`.share_cmds` (share), :mod:`.alert_cmds` (alert, channel, alerts) and :mod:`.program_cmds` (campaign, payouts,
goal). Every command runs through
:func:`viewtrail.cli._common.friendly_errors`. The groups import duckdb, polars, Dagster and the platform
clients inside their commands, so that ``viewtrail --help`` stays fast; and ``viewtrail COMMAND ...`` imports and
builds the commands of COMMAND's module alone (:class:`viewtrail.cli._app._Viewtrail`), so ``viewtrail list``
does not load the other sixty.

The typer app, ``app``, is in :mod:`._app` and imported on first use: the program, :func:`main`, runs a
`viewtrail list` with plain arguments without typer at all (:mod:`._list_page`), typer's import and the
building of the command's parameters being most of its start-up.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from viewtrail.cli._app import app

__all__ = ["COMMAND_MODULES", "app", "main"]

#: The command groups in their order in ``viewtrail --help``, each with the top-level commands it registers (a
#: test keeps the two in step).
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "registry_cmds": ("track", "untrack", "delete", "list", "status", "import"),
    "account_cmds": ("watch", "unwatch", "accounts", "creator", "inbox"),
    "snapshots_cmd": ("import-snapshots",),
    "report_cmd": ("report",),
    "sql_cmd": ("sql",),
    "pipeline_cmds": ("demo", "build", "rescrape"),
    "backup_cmds": ("backup", "restore"),
    "probe_cmd": ("probe",),
    "api_cmds": ("serve", "mcp", "api-key"),
    "share_cmds": ("share",),
    "alert_cmds": ("alerts", "alert", "channel"),
    "program_cmds": ("campaign", "payouts", "goal"),
}


def main() -> Any:
    """The ``viewtrail`` program (the console script): `viewtrail list` with arguments :mod:`._list_page`
    parses alone runs there; everything else, help and every error of the arguments included, through typer."""
    words = sys.argv[1:]
    if words[:1] == ["list"]:
        from viewtrail.cli._list_page import run_plain

        code = run_plain(words[1:])
        if code is not None:
            return code
    from viewtrail.cli._app import app

    return app()


def __getattr__(name: str) -> Any:
    if name == "app":
        from viewtrail.cli._app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
