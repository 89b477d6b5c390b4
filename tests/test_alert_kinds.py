"""The alert kinds' registry: every registered kind is usable from the CLI and documented, and a kind added to the
registry alone (a toy one here) is parsed, stored, evaluated, worded and delivered end to end."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tests.test_alerts_delivery import _evaluate, _marts
from viewtrail import clock
from viewtrail.alerts import store
from viewtrail.alerts.channels import channels_file
from viewtrail.alerts.kinds import KINDS, AlertKind, Given
from viewtrail.alerts.kinds.base import OPTIONS, one_threshold, video_fields, videos_in_scope
from viewtrail.alerts.model import AlertInputs, Candidate, Rule, human_count, parse_count
from viewtrail.cli import app
from viewtrail.warehouse.connection import open_warehouse

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _alert_add() -> Any:
    """The `viewtrail alert add` command as the CLI builds it (its parameters, help and epilog)."""
    return typer.main.get_command(app).commands["alert"].commands["add"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_is_added_by_its_cli_example(name: str, warehouse_path: Path) -> None:
    args = shlex.split(KINDS[name].example)
    assert args[:4] == ["viewtrail", "alert", "add", name]
    args = args[1:]
    if "--channel" in args:  # the example's channel does not exist here; rules without one are recorded only
        at = args.index("--channel")
        del args[at : at + 2]
    with clock.pinned(datetime(2026, 3, 1)):
        result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["kind"] == name


def test_the_cli_help_and_options_cover_every_kind() -> None:
    command = _alert_add()
    options = {p.name: p for p in command.params}
    assert set(OPTIONS) <= set(options)
    kind_help = options["kind"]
    help_text = command.help or ""
    for kind in KINDS.values():
        assert kind.name in str(getattr(kind_help, "help", "")), kind.name
        assert kind.threshold_help in str(options["threshold"].help)  # type: ignore[attr-defined]
        assert kind.example.removeprefix("viewtrail ") in (command.epilog or "")
        assert set(kind.options) <= set(OPTIONS), f"{kind.name} reads an option `alert add` does not have"
        for option, text in kind.options.items():
            assert f"{kind.name}: {text}" in str(options[option].help)  # type: ignore[attr-defined]
        if kind.defaults_help:
            assert kind.defaults_help in help_text


def test_every_kind_reads_inputs_the_store_can_read() -> None:
    input_fields = {f.name for f in fields(AlertInputs)}
    for kind in KINDS.values():
        assert kind.reads <= set(store.INPUT_READERS) <= input_fields, kind.name


def test_every_kind_is_documented_in_docs_alerts_md() -> None:
    text = (ROOT / "docs" / "alerts.md").read_text()
    table = text.split("## Kinds and defaults", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE)
    assert documented == list(KINDS)


# ------------------------------------------------------------------------------------------ a toy kind


class AboveViews(AlertKind):
    """Fires once per video whose daily views reach a number: a kind defined here only."""

    name = "above"
    description = "a video's views reach a number"
    threshold_help = "above views"
    example = "viewtrail alert add above --threshold 5k"
    reads = frozenset({"daily"})
    has_cooldown = False
    cooldown_hours = 0.0

    def params(self, given: Given) -> dict[str, Any]:
        one_threshold(self.name, given)
        return {"views": int(parse_count(given.threshold or "1k"))}

    def describe(self, params: dict[str, Any]) -> str:
        return f"views >= {human_count(params['views'])}"

    def candidates(self, rule: Rule, inputs: AlertInputs, now: datetime) -> list[Candidate]:
        out = []
        for video in videos_in_scope(rule, inputs):
            above = [p for p in inputs.daily.get(video.video_id, []) if (p.views or 0) >= rule.params["views"]]
            if above:
                first = above[0]
                out.append(
                    Candidate(
                        rule.rule_id,
                        self.name,
                        "above",
                        video.video_id,
                        f"above:{rule.rule_id}:{video.video_id}",
                        clock.HOUR + datetime.combine(first.day, datetime.min.time()),
                        {"views": first.views},
                        **video_fields(video),
                    )
                )
        return out

    def summary(self, event: Candidate) -> str:
        return f"{event.numbers['views']:,} views"

    def what(self, event: Candidate) -> str:
        return "is above its mark"


def test_a_kind_registered_alone_is_added_evaluated_and_delivered(
    warehouse_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(KINDS, "above", AboveViews())
    log = tmp_path / "alerts.jsonl"
    assert runner.invoke(app, ["channel", "add", "log", f"file://{log}"]).exit_code == 0
    with clock.pinned(datetime(2026, 3, 1)):
        added = runner.invoke(app, ["alert", "add", "above", "--threshold", "5k", "--channel", "log"])
    assert added.exit_code == 0, added.output
    assert "rule 1 added: above: views >= 5k (everything) -> log" in added.output
    with open_warehouse() as con:
        _marts(con, [4_000, 8_000, 12_000])
        run = _evaluate(con, channels_file(warehouse_path), datetime(2026, 3, 4, 12))
    assert [(e.kind, e.numbers) for e in run.events] == [("above", {"views": 8_000})]
    sent = json.loads(log.read_text().splitlines()[0])
    assert sent["title"] == "viewtrail: Dance is above its mark"
    assert sent["body"].startswith("8,000 views.\n")
    with clock.pinned(datetime(2026, 3, 4, 13)):
        listed = runner.invoke(app, ["alerts", "--kind", "above", "--json"])
    assert [e["kind"] for e in json.loads(listed.stdout)] == ["above"]
