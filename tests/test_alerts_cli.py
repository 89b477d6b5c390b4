"""`viewtrail alert|channel|alerts`: one-sentence errors, --json, and never a channel URL in any output."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from tests.test_alerts_delivery import SECRET, _marts
from viewtrail import clock
from viewtrail.alerts import store
from viewtrail.alerts.channels import channels_file
from viewtrail.alerts.service import run_alerts
from viewtrail.cli import app
from viewtrail.warehouse.connection import open_warehouse

runner = CliRunner()


def invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert SECRET not in result.output, result.output
    return result


def _dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"json://127.0.0.1:{port}/hook/{SECRET}"


def test_rules_and_channels_round_trip_without_showing_secrets(warehouse_path: Path, tmp_path: Path) -> None:
    log = tmp_path / "alerts.jsonl"
    assert invoke("channel", "add", "hook", f"jsons://hooks.example.com/x/{SECRET}").exit_code == 0
    added = invoke("channel", "add", "log", f"file://{log}")
    assert added.exit_code == 0 and "file://.../alerts.jsonl" in added.output
    listing = json.loads(invoke("channel", "list", "--json").output)
    assert [(c["name"], c["target"]) for c in listing] == [
        ("hook", "jsons://hooks.example.com"),
        ("log", "file://.../alerts.jsonl"),
    ]
    rule = invoke("alert", "add", "milestone", "--threshold", "50k", "--label", "launch", "--channel", "log", "--json")
    assert rule.exit_code == 0, rule.output
    assert json.loads(rule.output)["params"] == {"thresholds": [50_000]}
    assert invoke("alert", "add", "spike", "--channel", "hook").exit_code == 0
    rules = json.loads(invoke("alert", "list", "--json").output)
    assert [(r["rule_id"], r["kind"], r["cooldown_hours"]) for r in rules] == [
        (1, "milestone", 0.0),
        (2, "spike", 24.0),
    ]
    table = invoke("alert", "list").output
    assert "milestone" in table and "50k" in table
    tested = invoke("channel", "test", "log")
    assert tested.exit_code == 0 and "delivered" in tested.output
    assert json.loads(log.read_text().splitlines()[0])["title"] == "viewtrail: test message"
    refused = invoke("channel", "remove", "hook")
    assert refused.exit_code == 1 and "used by rule(s) 2" in refused.output
    assert invoke("alert", "remove", "2").exit_code == 0
    assert invoke("channel", "remove", "hook").exit_code == 0
    assert SECRET not in channels_file(warehouse_path).read_text()


def test_errors_are_one_sentence(warehouse_path: Path) -> None:
    cases = [
        (("alert", "add", "viral"), "is not an alert kind"),
        (("alert", "add", "goal", "--label", "launch", "--threshold", "1M"), "--by"),
        (("alert", "add", "spike", "--channel", "nope"), "No channel named nope"),
        (("alert", "remove", "9"), "There is no alert rule 9"),
        (("channel", "add", "Bad Name", "json://localhost/x"), "is not valid"),
        (("channel", "add", "x", f"bogus://{SECRET}"), "not one Apprise understands"),
        (("alerts", "--since", "yesterday"), "is not a duration"),
    ]
    for args, expected in cases:
        result = invoke(*args)
        assert result.exit_code == 1, (args, result.output)
        assert expected in result.output and "Traceback" not in result.output


def test_channel_test_on_a_dead_channel_says_it_was_not_delivered(warehouse_path: Path) -> None:
    assert invoke("channel", "add", "dead", _dead_url()).exit_code == 0
    result = invoke("channel", "test", "dead")
    assert result.exit_code == 1
    assert "was not delivered" in result.output and "json://127.0.0.1" in result.output


def _milestone_fired_to_a_dead_channel(warehouse_path: Path, now: datetime) -> None:
    """Rule 1, a milestone to a channel nobody answers, and a run at ``now`` that fires it once (10k views)."""
    assert invoke("channel", "add", "dead", _dead_url()).exit_code == 0
    with clock.pinned(datetime(2026, 3, 1)):
        assert invoke("alert", "add", "milestone", "--channel", "dead").exit_code == 0
    with open_warehouse() as con:
        _marts(con, [4_000, 8_000, 12_000])
        state = store.read_state(con, now)
        run = run_alerts(
            state, store.read_inputs(con, state.rules, now), store.channel_urls(con, channels_file(warehouse_path)), now
        )
        store.write_run(con, run)


def test_alerts_lists_what_fired_and_where_it_went(warehouse_path: Path) -> None:
    now = datetime(2026, 3, 5, 12)
    _milestone_fired_to_a_dead_channel(warehouse_path, now)
    with clock.pinned(now + timedelta(hours=1)):
        listed = json.loads(invoke("alerts", "--json").output)
        assert [(e["kind"], e["video_id"], e["numbers"]["threshold"]) for e in listed] == [
            ("milestone", "tiktok:7300000000000000001", 10_000)
        ]
        assert [(d["channel"], d["status"]) for d in listed[0]["deliveries"]] == [("dead", "failed")]
        assert "could not be reached" in listed[0]["deliveries"][0]["reason"]
        table = invoke("alerts", "--kind", "milestone")
        assert "milestone" in table.output and "dead" in table.output and "1 alert(s)" in table.output
        assert "No alert fired" in invoke("alerts", "--kind", "spike").output
    with clock.pinned(now + timedelta(days=3)):
        assert "No alert fired" in invoke("alerts", "--since", "24h").output


def test_a_rule_added_after_one_was_removed_never_takes_the_removed_rules_id(warehouse_path: Path) -> None:
    # the removed rule's events stay, keyed by its id: a new rule under that id would be taken for it (its events
    # deduplicated and cooled down against the old rule's)
    _milestone_fired_to_a_dead_channel(warehouse_path, datetime(2026, 3, 5, 12))
    assert invoke("alert", "remove", "1").exit_code == 0
    assert invoke("alert", "add", "milestone", "--channel", "dead").exit_code == 0
    assert [r["rule_id"] for r in json.loads(invoke("alert", "list", "--json").output)] == [2]
