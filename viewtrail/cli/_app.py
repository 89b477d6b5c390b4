"""The ``viewtrail`` typer app: every command, its help and its errors (:mod:`viewtrail.cli` documents the
groups). ``viewtrail COMMAND ...`` imports and builds the commands of COMMAND's module alone (:class:`_Viewtrail`),
so ``viewtrail list`` does not load the other sixty."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any

import typer
from typer.models import CommandInfo, TyperInfo

from viewtrail.cli import COMMAND_MODULES


class _Viewtrail(typer.Typer):
    """The ``viewtrail`` app, whose command groups register on first need: typer builds every registered command
    (its options, from the function's signature) before it runs one, and importing the groups loads rich, the
    domain and the warehouse modules, ~0.1-0.2 s of a start-up of ~0.3 s. Run as a program naming a command
    (``viewtrail list ...``), only that command's module is registered, and none for ``viewtrail --version``; for
    anything else (``viewtrail --help``, a mistyped command, typer's test runner, reading the commands) every
    group is, in the order of :data:`COMMAND_MODULES`, so the help and the errors are the same as with all."""

    _loaded = False
    _commands: list[CommandInfo]
    _groups: list[TyperInfo]

    # typer appends to and reads these two lists (Typer.__init__ sets them empty)
    @property
    def registered_commands(self) -> list[CommandInfo]:
        self._load(COMMAND_MODULES)
        return self._commands

    @registered_commands.setter
    def registered_commands(self, value: list[CommandInfo]) -> None:
        self._commands = value

    @property
    def registered_groups(self) -> list[TyperInfo]:
        self._load(COMMAND_MODULES)
        return self._groups

    @registered_groups.setter
    def registered_groups(self, value: list[TyperInfo]) -> None:
        self._groups = value

    def _load(self, modules: dict[str, tuple[str, ...]]) -> None:
        if self._loaded:
            return
        self._loaded = True  # before registering: register() appends to the lists above
        for module in modules:
            importlib.import_module(f"viewtrail.cli.{module}").register(self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        words = kwargs.get("args", args[0] if args else None)
        words = sys.argv[1:] if words is None else list(words)
        command = next((word for word in words if not word.startswith("-")), None)
        if command is None and "--version" in words and "--help" not in words:
            self._load({})  # the version alone: no command is built
        self._load({m: names for m, names in COMMAND_MODULES.items() if command in names} or COMMAND_MODULES)
        return super().__call__(*args, **kwargs)


app = _Viewtrail(
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
