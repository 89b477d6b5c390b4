"""API commands: `viewtrail serve` (the HTTP API), `viewtrail mcp` (the MCP server), `viewtrail api-key ...`.

FastAPI, uvicorn and the MCP SDK are imported inside the commands, so that `viewtrail --help` stays fast.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from typer.core import TyperCommand

from viewtrail.cli._common import CsvOption, fail, friendly_errors, out, print_rows

if TYPE_CHECKING:
    from viewtrail.api.store import Store


def _store() -> Store:
    from viewtrail.api.settings import api_settings
    from viewtrail.api.store import Store

    return Store(api_settings().store_path)


def _check_port_free(host: str, port: int) -> None:
    """Bind the address once, as uvicorn will, so a busy port is one sentence rather than uvicorn's log lines."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise fail(f"--host {host} is not an address of this machine; use e.g. 127.0.0.1 or 0.0.0.0.") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no obstacle
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise fail(f"port {port} on {host} is in use: stop the other server or pass --port.") from None
            raise fail(
                f"Cannot listen on {host} port {port} ({error.strerror or error}); pass another --host or --port."
            ) from None


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (127.0.0.1 = this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
) -> None:
    """Serve the web dashboard at / and the HTTP API at /v1 (OpenAPI at /v1/openapi.json, docs at /docs).

    API requests need an API key (`viewtrail api-key create`), except GET /v1/health. The dashboard's pages need
    a login with an API key only when --host is not 127.0.0.1. Reads come from the analyst copy, writes go to
    the warehouse like the CLI's; see docs/api.md and docs/dashboard.md.
    """
    import uvicorn

    from viewtrail.dashboard.app import create_app
    from viewtrail.dashboard.auth import login_required_for

    # settings are checked here: a bad variable stops with its sentence
    app = create_app(login_required=login_required_for(host), keep_warm=True)
    _check_port_free(host, port)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)


MCP_SHORT_HELP = "Run the MCP (Model Context Protocol) server on stdin/stdout, for AI assistants."


def mcp() -> None:
    """Run the MCP (Model Context Protocol) server on stdin/stdout, for AI assistants.

    Tools: {tools}. Configure your MCP client to launch `viewtrail mcp` with the same VIEWTRAIL_* environment as
    the CLI.
    """
    from viewtrail.api.mcp_server import build_server

    build_server().run("stdio")


class _McpCommand(TyperCommand):
    """`viewtrail mcp`, whose help names the tools the MCP server registers, so the list cannot drift from the
    server. Read only when that help is shown: building the server loads the MCP SDK, too slow for every start."""

    @property
    def help(self) -> str | None:
        text = self._help
        if text and "{tools}" in text:
            from viewtrail.api.mcp_server import tool_names

            text = text.replace("{tools}", ", ".join(tool_names()))
        return text

    @help.setter
    def help(self, value: str | None) -> None:
        self._help = value


api_key_app = typer.Typer(help="Create, list and revoke API keys for `viewtrail serve`.", no_args_is_help=True)


def api_key_create(
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. dashboard.")],
    scope: Annotated[
        str, typer.Option("--scope", help="read, write (implies read) or admin (implies write).")
    ] = "read",
    as_json: Annotated[bool, typer.Option("--json", help='Print {"key", "id", "scope"} as JSON.')] = False,
) -> None:
    """Create an API key and print it once (the last line of the output); only its hash is stored."""
    record, secret = _store().create_key(name, scope)
    if as_json:
        typer.echo(json.dumps({"key": secret, "id": record.id, "scope": record.scope.value}))
        return
    out.print(
        f"Created API key {record.id} ({record.name}, scope {record.scope.value}); it is shown only now:", markup=False
    )
    typer.echo(secret)


def api_key_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    as_csv: CsvOption = False,
) -> None:
    """List API keys (id, name, scope, created, revoked); never the keys themselves."""
    keys = _store().list_keys()
    listed = [
        {
            "id": k.id,
            "name": k.name,
            "scope": k.scope.value,
            "created_at": k.created_at.isoformat(),
            "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
        }
        for k in keys
    ]
    if print_rows(listed, as_json=as_json, as_csv=as_csv, columns=("id", "name", "scope", "created_at", "revoked_at")):
        return
    if not keys:
        out.print("No API keys yet; create one with `viewtrail api-key create --name NAME`.", markup=False)
        return
    table = Table(title=f"{len(keys)} API key(s)")
    for name in ("id", "name", "scope", "created (UTC)", "revoked (UTC)"):
        table.add_column(name)
    for k in keys:
        table.add_row(
            k.id,
            k.name,
            k.scope.value,
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "-",
        )
    out.print(table)


def api_key_revoke(key_id: Annotated[str, typer.Argument(help="The key's id, from `viewtrail api-key list`.")]) -> None:
    """Revoke an API key: requests with it get 401 from then on."""
    record = _store().revoke_key(key_id)
    if record.revoked_at is None:  # pragma: no cover - revoke_key always sets it
        raise fail(f"Could not revoke {key_id}.")
    out.print(f"{record.id} ({record.name}) is revoked.", markup=False)


def register(app: typer.Typer) -> None:
    app.command(
        name="serve",
        epilog=(
            "Examples:\n\n"
            "    viewtrail serve\n\n"
            "    viewtrail serve --host 0.0.0.0 --port 8080\n\n"
            "    curl -H 'Authorization: Bearer vt_...' http://127.0.0.1:8000/v1/videos"
        ),
    )(friendly_errors(serve))
    app.command(
        name="mcp",
        cls=_McpCommand,
        short_help=MCP_SHORT_HELP,
        epilog="Examples:\n\n    viewtrail mcp   # launched by an MCP client over stdio",
    )(friendly_errors(mcp))
    api_key_app.command(
        name="create",
        epilog=(
            "Examples:\n\n"
            "    viewtrail api-key create --name dashboard\n\n"
            "    viewtrail api-key create --name zapier --scope write --json"
        ),
    )(friendly_errors(api_key_create))
    api_key_app.command(
        name="list", epilog="Examples:\n\n    viewtrail api-key list\n\n    viewtrail api-key list --json"
    )(friendly_errors(api_key_list))
    api_key_app.command(name="revoke", epilog="Examples:\n\n    viewtrail api-key revoke key_1a2b3c4d5e6f")(
        friendly_errors(api_key_revoke)
    )
    app.add_typer(api_key_app, name="api-key")
