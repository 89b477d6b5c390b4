"""`viewtrail campaign|payouts|goal ...` end to end on a real warehouse: a program is set up, finalized, built,
listed, exported to CSV and paid; bad input is one sentence."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

from dbt_support import dbt
from programs_support import POSTED, add_program_creator, add_video
from typer.testing import CliRunner

from viewtrail import clock
from viewtrail.cli import app
from viewtrail.warehouse import open_warehouse

runner = CliRunner()
NOW = datetime(2027, 3, 12)


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result


def one_sentence(result) -> str:
    text = result.stderr.strip()
    assert "Traceback" not in result.output
    assert len(text.splitlines()) == 1, text
    return text


def test_a_program_from_campaign_to_payment(warehouse_path: Path) -> None:
    with open_warehouse(warehouse_path) as con:
        add_program_creator(
            con,
            {
                "tiktok:1": [(POSTED + timedelta(days=7), 320_000)],
                "tiktok:2": [(POSTED + timedelta(days=8), 1_200_000)],
            },
        )
        add_video(con, "tiktok:3", account_id="tiktok:ana", posted_at=NOW - timedelta(days=1), snapshots=[(NOW, 50)])
    with clock.pinned(NOW):
        run("campaign", "create", "Spring launch", "--target", "1M", "--by", "2027-03-31")
        run("campaign", "create", "Spring TikTok", "--parent", "spring-launch")
        loop = run("campaign", "nest", "spring-launch", "spring-tiktok", code=1)
        assert "cannot hold it" in one_sentence(loop)
        assert "not a date" in one_sentence(run("campaign", "create", "X", "--by", "soon", code=1))
        run("campaign", "add", "spring-tiktok", "creator", "ana")
        assert "No video" in one_sentence(run("campaign", "add", "spring-tiktok", "video", "tiktok:404", code=1))
        assert "rise strictly" in one_sentence(run("campaign", "terms", "spring-launch", "--cpm", "0:20,0:40", code=1))
        run("campaign", "terms", "spring-launch", "--cpm", "50", "--cap", "500k", "--from", "2027-01-01")
        finalized = run("payouts", "finalize")
        assert finalized.stdout.startswith("2 finalized (1 interpolated)")
        run("goal", "add", "ana", "posts", "5", "--per", "week", "--starts", "2027-03-08")
        assert "not one of" in one_sentence(run("goal", "add", "ana", "likes", "5", code=1))
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)

    listed = json.loads(run("payouts", "list", "--json").stdout)
    assert [(r["video_id"], r["state"], r["amount_minor"]) for r in listed] == [
        ("tiktok:1", "finalized", 16_000),
        ("tiktok:2", "finalized", 25_000),
        ("tiktok:3", "active", None),
    ]
    assert "410.00 USD" in run("payouts", "balance").stdout  # due: 160.00 + 250.00
    exported = list(csv.DictReader(io.StringIO(run("payouts", "export", "-", "--state", "finalized").stdout)))
    assert [(r["video_id"], r["amount"], r["is_interpolated"]) for r in exported] == [
        ("tiktok:1", "160.00", "false"),  # a snapshot exactly at the window's end
        ("tiktok:2", "250.00", "true"),  # 0 at posting .. 1.2M a day after the end: 1.05M, capped
    ]
    campaigns = json.loads(run("campaign", "list", "--json").stdout)
    assert {c["campaign_id"]: c["views"] for c in campaigns} == {"spring-launch": 1_520_050, "spring-tiktok": 1_520_050}
    status = json.loads(run("goal", "status", "--json").stdout)
    assert [(s["actual"], s["status"]) for s in status] == [(1, "At Risk")]  # 1 post of 5, 4 days into the week

    with clock.pinned(NOW):
        run("payouts", "adjust", "spring-launch", "ana", "--amount", "-10.5", "--reason", "late caption fix")
        paid = run("payouts", "paid", "spring-launch", "--reference", "TR-1")
        assert "ana: 2 video(s), 399.50 USD paid" in paid.stdout
        assert "negative adjustment" in one_sentence(run("payouts", "reject", "spring-launch", "tiktok:1", code=1))
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=warehouse_path)
    (balance,) = json.loads(run("payouts", "balance", "--json").stdout)
    assert (balance["accrued_minor"], balance["adjustments_minor"], balance["paid_minor"], balance["due_minor"]) == (
        41_000,
        -1_050,
        39_950,
        0,
    )


def test_a_goal_added_after_one_was_removed_never_takes_the_removed_goals_id(warehouse_path: Path) -> None:
    # the removed goal's alert events stay and name it: a new goal under its id would be taken for it
    with open_warehouse(warehouse_path) as con:
        add_program_creator(con, {})
    with clock.pinned(NOW):
        run("goal", "add", "ana", "posts", "5", "--per", "week", "--starts", "2027-03-08")
        with open_warehouse(warehouse_path) as con:
            con.execute(
                "INSERT INTO raw.alert_events VALUES ('ev1', 'creator_goal:1:1:2027-03-08:reached', 1, 'creator_goal',"
                " 'reached', 'creator:ana', NULL, NULL, NULL, NULL, '{\"goal_id\": 1}', 'ana reached 5 posts', ?, ?)",
                [NOW, NOW],
            )
        run("goal", "remove", "1")
        run("goal", "add", "ana", "posts", "7", "--per", "week", "--starts", "2027-03-08")
        assert [g["goal_id"] for g in json.loads(run("goal", "list", "--json").stdout)] == [2]
