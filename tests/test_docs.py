"""The docs keep up with the code: every setting in the README's configuration table with its real default,
and every CLI command (sub-groups included) with its own section in docs/cli.md."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import typer

from viewtrail import config
from viewtrail.cli import app
from viewtrail.domain.cadence import parse_auto_cadence
from viewtrail.domain.models import Platform
from viewtrail.platforms.base import ClientSettings, default_settings

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CLI_MD = ROOT / "docs" / "cli.md"
PLATFORMS = [p.value.upper() for p in Platform]


def section(path: Path, title: str) -> str:
    """The text of the ``## title`` section of a markdown file."""
    text = path.read_text()
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"{path.name} has no '## {title}' section"
    return match.group(1)


def table_rows(text: str) -> list[list[str]]:
    """Cells of the body rows of the markdown tables in ``text`` (header and rule lines left out)."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|") or re.fullmatch(r"\|[-:| ]+\|", line.strip()):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] != "variable":
            rows.append(cells)
    return rows


def expand(pattern: str) -> list[str]:
    """``VIEWTRAIL_{P}_MODE`` / ``VIEWTRAIL_{PLATFORM}_MODE`` / ``VIEWTRAIL_{TIKTOK,X}_MODE`` -> the names."""
    parts = re.split(r"\{([^}]*)\}", pattern)
    choices = [
        [part] if i % 2 == 0 else (PLATFORMS if part in ("P", "PLATFORM") else part.split(","))
        for i, part in enumerate(parts)
    ]
    return ["".join(combo) for combo in itertools.product(*choices)]


def documented(path: Path) -> dict[str, str]:
    """Variable -> its default cell, from the configuration table of ``path``."""
    found: dict[str, str] = {}
    for cells in table_rows(section(path, "Configuration")):
        for pattern in re.findall(r"`([A-Z0-9_{},]+)`", cells[0]):
            for name in expand(pattern):
                found[name] = cells[1]
    return found


def test_every_mart_is_documented_and_every_documented_mart_is_built():
    """The marts are a public contract: docs/metrics.md has a section per dbt mart, docs/schema.md one for the mart
    built in Python; the marts themselves come from dbt's graph (``mart_names()``)."""
    from orchestration.defs.alerting import ALERT_EVENTS_MART_KEY
    from orchestration.defs.dbt import mart_names

    def headings(path: Path) -> set[str]:
        return set(re.findall(r"^## marts\.(\w+)", path.read_text(), flags=re.MULTILINE))

    assert headings(ROOT / "docs" / "metrics.md") == set(mart_names())
    assert headings(ROOT / "docs" / "schema.md") == {ALERT_EVENTS_MART_KEY.path[-1]}


def test_every_setting_is_in_the_readme_configuration_table():
    missing = [name for name in config.VARIABLES if name not in documented(README)]
    assert missing == [], f"add these settings to README.md's configuration table: {', '.join(missing)}"


def test_the_configuration_tables_name_only_real_settings():
    for path in (README, CLI_MD):
        unknown = sorted(set(documented(path)) - set(config.VARIABLES))
        assert unknown == [], f"{path.name} documents variables viewtrail does not read: {', '.join(unknown)}"


def _code(cell: str) -> str | None:
    match = re.fullmatch(r"`([^`]*)`", cell)
    return match.group(1) if match else None


def _number(text: str) -> float:
    value = config.number(text, float)
    assert value is not None, text
    return value


@pytest.mark.parametrize("path", [README, CLI_MD], ids=lambda p: p.name)
def test_documented_defaults_are_the_defaults(path):
    defaults = config.Settings.from_environ({}, cwd="/x")
    client_default = ClientSettings.__dataclass_fields__
    expected = {
        config.DATA_DIR: lambda text: Path("/x", text) == defaults.data_dir,
        config.OFFLINE: lambda text: text == "unset" and defaults.offline is False,
        config.LOCK_TIMEOUT_S: lambda text: _number(text) == defaults.lock_timeout_s,
        config.AUTO_CADENCE: lambda text: parse_auto_cadence(text) == defaults.auto_cadence,
        config.MIN_SUCCESS_SHARE: lambda text: _number(text) == defaults.min_success_share,
        config.DBT_RUNNER: lambda text: text == defaults.dbt_runner,
        config.RETRY_BASE_MINUTES: lambda text: _number(text) == defaults.retry_base_minutes,
        config.RETRY_CAP_MINUTES: lambda text: _number(text) == defaults.retry_cap_minutes,
        config.MOMENTUM_FACTOR: lambda text: _number(text) == defaults.momentum_factor,
        config.MOMENTUM_MIN_VIEWS_PER_HOUR: lambda text: _number(text) == defaults.momentum_min_views_per_hour,
        config.API_RATE_PER_MIN: lambda text: _number(text) == defaults.api_rate_per_min,
        config.RUN_RETENTION_DAYS: lambda text: _number(text) == defaults.run_retention_days,
        config.TIMEZONE: lambda text: text == defaults.timezone,
        config.YOUTUBE_DAILY_UNITS: lambda text: _number(text) == default_settings("youtube").daily_units,
        **{config.platform_variable(p, "MODE"): (lambda text: text == "simulated") for p in Platform},
        **{
            config.platform_variable(p, "TIMEOUT_S"): (
                lambda text: _number(text) == client_default["timeout_s"].default
            )
            for p in Platform
        },
        **{
            config.platform_variable(p, "MAX_RETRIES"): (
                lambda text: _number(text) == client_default["max_retries"].default
            )
            for p in Platform
        },
    }
    wrong = []
    for name, cell in documented(path).items():
        text = _code(cell) if cell != "unset" else "unset"
        if name in expected and (text is None or not expected[name](text)):
            wrong.append(f"{name} ({cell})")
    assert wrong == [], f"{path.name} states defaults that are not the code's: {', '.join(wrong)}"


def command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[str]:
    """Every visible command under a (typer) group as "name" or "group name", sub-groups walked recursively.

    Duck-typed on ``.commands``: typer 0.29 vendors click, its groups are not ``click.Group``s."""
    paths = []
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        if getattr(sub, "hidden", False):
            continue
        path = (*prefix, name)
        paths.append(" ".join(path))
        paths.extend(command_paths(sub, path))
    return paths


def cli_md_headings() -> set[str]:
    """Headings of docs/cli.md as command paths: '## import-snapshots', '### `viewtrail db migrate`' ..."""
    headings = set()
    for line in CLI_MD.read_text().splitlines():
        match = re.match(r"#{2,4}\s+(.*)", line)
        if match:
            title = match.group(1).replace("`", "").strip()
            headings.add(title.removeprefix("viewtrail ").strip())
    return headings


def test_the_walk_finds_sub_groups():
    sub = typer.Typer()
    sub.command("migrate")(lambda: None)
    sub.command("hidden", hidden=True)(lambda: None)
    top = typer.Typer()
    top.command("track")(lambda: None)
    top.add_typer(sub, name="db")
    assert command_paths(typer.main.get_command(top)) == ["db", "db migrate", "track"]


def test_every_cli_command_has_a_section_in_docs_cli_md():
    commands = command_paths(typer.main.get_command(app))
    assert {"track", "import", "import-snapshots", "sql", "status"} <= set(commands)  # the walk sees the commands
    missing = [c for c in commands if c not in cli_md_headings()]
    assert missing == [], f"docs/cli.md needs a '## <command>' section for: {', '.join(missing)}"
