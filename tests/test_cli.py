"""`viewtrail` registry commands driven through typer's CliRunner on a temporary warehouse."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from viewtrail.cli import app
from viewtrail.domain.urls import parse_video_url
from viewtrail.pipeline.queue import QueueKind, pending_requests
from viewtrail.warehouse import open_warehouse

YT = "https://youtu.be/dQw4w9WgXcQ"
TT = "https://www.tiktok.com/@bob/video/7234567890123456789?is_from_webapp=1"
runner = CliRunner()


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result


def rows(warehouse_path: Path, sql: str) -> list[tuple]:
    with open_warehouse(warehouse_path) as con:
        return con.sql(sql).fetchall()


def one_sentence_error(result) -> str:
    """The error contract: one line on stderr, no traceback."""
    text = result.stderr.strip()
    assert "Traceback" not in result.output
    assert len(text.splitlines()) == 1, text
    return text


def test_track_registers_once_and_retrack_updates(warehouse_path):
    first = run("track", "--no-scrape", YT, TT, "--label", "launch", "--meta", "client=acme")
    assert "youtube:dQw4w9WgXcQ: now tracked" in first.stdout
    assert "tiktok:7234567890123456789: now tracked" in first.stdout
    # the same video in another form is the same video: updated, never a second row
    again = run(
        "track",
        "--no-scrape",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42",
        "--cadence",
        "6",
        "--label",
        "q4",
        "--meta",
        "campaign=x",
    )
    assert "youtube:dQw4w9WgXcQ: already tracked, updated" in again.stdout
    stored = rows(
        warehouse_path,
        "SELECT video_id, cadence, labels, metadata, account, is_active FROM registry.videos ORDER BY video_id",
    )
    stored = [(*row[:3], json.loads(row[3]), *row[4:]) for row in stored]
    assert stored == [
        ("tiktok:7234567890123456789", "auto", ["launch"], {"client": "acme"}, "bob", True),
        ("youtube:dQw4w9WgXcQ", "6", ["launch", "q4"], {"campaign": "x", "client": "acme"}, None, True),
    ]


def test_track_days_sets_track_until_and_bare_id_needs_platform(warehouse_path):
    run("track", "--no-scrape", "dQw4w9WgXcQ", "--platform", "youtube", "--days", "30")
    ((added, until),) = rows(warehouse_path, "SELECT added_at, track_until FROM registry.videos")
    assert round((until - added).total_seconds() / 86400) == 30
    result = run("track", "--no-scrape", "7234567890123456789", code=1)
    assert "--platform" in one_sentence_error(result)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--cadence", "0"], "1 to 720"),
        (["--cadence", "721"], "1 to 720"),
        (["--cadence", "often"], "'auto'"),
        (["--days", "0"], "above 0"),
        (["--meta", "novalue"], "key=value"),
        (["--meta", "k=" + "x" * 256], "255"),
        ([arg for i in range(21) for arg in ("--meta", f"k{i}=v")], "20"),
    ],
)
def test_track_rejects_bad_options_with_one_sentence(warehouse_path, args, fragment):
    result = run("track", "--no-scrape", YT, *args, code=1)
    assert fragment in one_sentence_error(result)
    assert not warehouse_path.exists() or rows(warehouse_path, "SELECT count(*) FROM registry.videos") == [(0,)]


def test_metadata_merge_beyond_twenty_keys_is_refused_and_nothing_changes(warehouse_path):
    run("track", "--no-scrape", YT, *[arg for i in range(20) for arg in ("--meta", f"k{i}=v")])
    result = run("track", "--no-scrape", YT, "--meta", "one=more", code=1)
    assert "at most 20" in one_sentence_error(result)
    assert rows(warehouse_path, "SELECT len(json_keys(metadata)) FROM registry.videos") == [(20,)]


def test_invalid_url_is_one_red_sentence_and_nothing_tracked(warehouse_path):
    result = run("track", "--no-scrape", YT, "https://www.tiktok.com/@bob", code=1)
    one_sentence_error(result)
    assert not warehouse_path.exists() or rows(warehouse_path, "SELECT count(*) FROM registry.videos") == [(0,)]


def test_short_link_offline_is_pending_with_note(warehouse_path):
    result = run("track", "--no-scrape", "https://vm.tiktok.com/ZMabc123/", "--label", "x")
    assert "pending" in result.stdout
    ((url, note, labels),) = rows(warehouse_path, "SELECT url, note, labels FROM registry.pending_links")
    assert "vm.tiktok.com" in url and "offline" in note and labels == ["x"]
    assert rows(warehouse_path, "SELECT count(*) FROM registry.videos") == [(0,)]


def test_short_link_lookup_failure_online_is_pending(warehouse_path, monkeypatch):
    monkeypatch.setenv("VIEWTRAIL_OFFLINE", "0")
    # a closed port on 127.0.0.1: the lookup fails fast, without leaving this machine
    monkeypatch.setenv("VIEWTRAIL_TIKTOK_MODE", "real")
    monkeypatch.setenv("VIEWTRAIL_TIKTOK_BASE_URL", "http://127.0.0.1:9")

    def refuse(client, url):
        raise ConnectionError("connection refused")

    monkeypatch.setattr("viewtrail.platforms.base.resolve_short_link_sync", refuse)
    result = run("track", "--no-scrape", "https://www.tiktok.com/t/ZTabc123/")
    assert "pending" in result.stdout
    ((note,),) = rows(warehouse_path, "SELECT note FROM registry.pending_links")
    assert "lookup failed" in note


def test_short_link_resolved_online_is_tracked_and_pending_entry_marked(warehouse_path, monkeypatch):
    run("track", "--no-scrape", "https://vm.tiktok.com/ZMabc123/")  # offline: pending
    monkeypatch.setenv("VIEWTRAIL_OFFLINE", "0")
    target = "https://www.tiktok.com/@bob/video/7234567890123456789"
    seen = []

    def resolve(client, url):  # stands in for the redirect lookup (no network in tests)
        seen.append((client.platform, url))
        return parse_video_url(target)

    monkeypatch.setattr("viewtrail.platforms.base.resolve_short_link_sync", resolve)
    result = run("track", "--no-scrape", "https://vm.tiktok.com/ZMabc123/")
    assert "tiktok:7234567890123456789: now tracked" in result.stdout
    assert seen == [("tiktok", "https://vm.tiktok.com/ZMabc123/")]
    assert rows(warehouse_path, "SELECT resolved_video_id, resolved_at IS NOT NULL FROM registry.pending_links") == [
        ("tiktok:7234567890123456789", True)
    ]
    assert rows(warehouse_path, "SELECT account FROM registry.videos") == [("bob",)]


def test_untrack_keeps_history_and_track_resumes(warehouse_path):
    run("track", "--no-scrape", YT)
    with open_warehouse(warehouse_path) as con:
        con.execute(
            "INSERT INTO raw.snapshots (video_id, observed_at, views, source, ingested_at) "
            "VALUES ('youtube:dQw4w9WgXcQ', '2026-11-01 10:00', 5, 'test', now()::TIMESTAMP)"
        )
    assert "stopped" in run("untrack", "youtube:dQw4w9WgXcQ").stdout
    assert rows(warehouse_path, "SELECT is_active, stopped_at IS NOT NULL FROM registry.videos") == [(False, True)]
    assert rows(warehouse_path, "SELECT count(*) FROM raw.snapshots") == [(1,)]
    assert "tracking resumed" in run("track", "--no-scrape", YT).stdout
    assert rows(warehouse_path, "SELECT is_active, stopped_at FROM registry.videos") == [(True, None)]


def test_untrack_unknown_video_fails(warehouse_path):
    run("track", "--no-scrape", YT)
    result = run("untrack", "youtube:aaaaaaaaaaa", code=1)
    assert "Not in the registry" in one_sentence_error(result)


def test_delete_requires_yes_then_removes_everything(warehouse_path):
    run("track", "--no-scrape", YT, TT)
    with open_warehouse(warehouse_path) as con:
        for vid in ("youtube:dQw4w9WgXcQ", "tiktok:7234567890123456789"):
            con.execute(
                "INSERT INTO raw.snapshots (video_id, observed_at, views, source, ingested_at) "
                "VALUES (?, '2026-11-01 10:00', 5, 'test', now()::TIMESTAMP)",
                [vid],
            )
            con.execute(
                "INSERT INTO raw.scrape_attempts (video_id, platform, attempted_at, outcome, tries, source) "
                "VALUES (?, 'x', '2026-11-01 10:00', 'ok', 1, 'test')",
                [vid],
            )
    refused = run("delete", YT, code=1)
    assert "--yes" in one_sentence_error(refused)
    assert rows(warehouse_path, "SELECT count(*) FROM registry.videos") == [(2,)]
    result = run("delete", YT, "--yes")
    assert "deleted with 1 snapshot" in result.stdout
    for table in ("registry.videos", "raw.snapshots", "raw.scrape_attempts"):
        assert rows(warehouse_path, f"SELECT video_id FROM {table}") == [("tiktok:7234567890123456789",)]


def test_list_filters_and_json(warehouse_path):
    run("track", "--no-scrape", YT, "--label", "a")
    run("track", "--no-scrape", TT, "--label", "b")
    run("track", "--no-scrape", "https://x.com/jack/status/1790000000000000000")
    run("untrack", "x:1790000000000000000")
    table = run("list").stdout
    assert "youtube:dQw4w9WgXcQ" in table and "tiktok:7234567890123456789" in table
    assert "x:1790000000000000000" in table

    def ids(*args: str) -> list[str]:
        return [row["video_id"] for row in json.loads(run("list", "--json", *args).stdout)]

    assert ids() == ["tiktok:7234567890123456789", "x:1790000000000000000", "youtube:dQw4w9WgXcQ"]
    assert ids("--platform", "youtube") == ["youtube:dQw4w9WgXcQ"]
    assert ids("--label", "b") == ["tiktok:7234567890123456789"]
    assert ids("--active") == ["tiktok:7234567890123456789", "youtube:dQw4w9WgXcQ"]
    assert ids("--inactive") == ["x:1790000000000000000"]
    first = json.loads(run("list", "--json", "--label", "a").stdout)[0]
    assert first["labels"] == ["a"] and first["metadata"] == {} and first["is_active"] is True
    bad = run("list", "--platform", "myspace", code=1)
    one_sentence_error(bad)


def test_status_counts_failing_and_overdue(warehouse_path):
    run("track", "--no-scrape", YT, TT, "--cadence", "1")
    run("track", "--no-scrape", "https://vm.tiktok.com/ZMabc123/")
    with open_warehouse(warehouse_path) as con:
        con.execute("UPDATE registry.videos SET added_at = added_at - INTERVAL 5 HOUR")
        con.execute(
            "INSERT INTO raw.scrape_attempts (video_id, platform, attempted_at, outcome, detail, tries, source) "
            "VALUES ('youtube:dQw4w9WgXcQ', 'youtube', now()::TIMESTAMP, 'rate_limited', '429', 1, 'test')"
        )
    out = run("status").stdout
    assert "youtube:dQw4w9WgXcQ" in out and "rate_limited" in out
    assert "overdue" in out and "tiktok:7234567890123456789" in out
    tiktok_row = next(line for line in out.splitlines() if line.strip("│ ").startswith("tiktok"))
    assert [cell.strip() for cell in tiktok_row.split("│")[1:6]] == ["tiktok", "1", "0", "0", "1"]


def test_new_and_resumed_videos_are_queued_for_a_first_scrape(warehouse_path):
    run("track", "--no-scrape", YT)
    run("track", "--no-scrape", YT)  # only an update: nothing new to scrape
    requests = pending_requests(QueueKind.NEW)
    assert [list(r.video_ids) for r in requests] == [["youtube:dQw4w9WgXcQ"]]


def test_track_takes_the_first_snapshot_at_once_and_says_what_it_saw(warehouse_path):
    result = run("track", YT, TT)
    stored = dict(rows(warehouse_path, "SELECT video_id, views FROM raw.snapshots"))
    assert set(stored) == {"youtube:dQw4w9WgXcQ", "tiktok:7234567890123456789"}
    for video_id, views in stored.items():
        assert f"{video_id}: {views:,} views" in result.stdout
    assert pending_requests(QueueKind.NEW) == []  # nothing left for the pipeline's first scrape
    again = run("track", YT)  # an update: no second first snapshot
    assert "views" not in again.stdout and rows(warehouse_path, "SELECT count(*) FROM raw.snapshots") == [(2,)]


def test_without_a_first_snapshot_the_video_is_queued_for_the_pipeline(warehouse_path, monkeypatch):
    monkeypatch.setenv("VIEWTRAIL_YOUTUBE_MODE", "real")  # offline (the fixture): the real client may not run
    monkeypatch.setenv("YOUTUBE_API_KEY", "test-key")
    result = run("track", YT)
    assert "youtube:dQw4w9WgXcQ: no first snapshot yet, skipped (VIEWTRAIL_OFFLINE" in result.stdout
    assert [list(r.video_ids) for r in pending_requests(QueueKind.NEW)] == [["youtube:dQw4w9WgXcQ"]]
    assert rows(warehouse_path, "SELECT count(*) FROM raw.scrape_attempts") == [(0,)]


def test_every_command_help_has_examples():
    for name in ("track", "untrack", "delete", "list", "status", "import", "import-snapshots"):
        assert "Examples" in run(name, "--help").stdout, name
    assert "Examples" in run("--help").stdout


# -------------------------------------------------------------------------------------------- lock waiting


def _hold_lock(path: str, ready, seconds: float) -> None:
    import time

    import duckdb

    con = duckdb.connect(path)
    ready.set()
    time.sleep(seconds)
    con.close()


def _holder(path: Path, seconds: float):
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    child = ctx.Process(target=_hold_lock, args=(str(path), ready, seconds))
    child.start()
    assert ready.wait(30), "lock-holding child did not start"
    return child


def test_cli_waits_for_a_busy_warehouse_then_succeeds(warehouse_path, monkeypatch):
    rows(warehouse_path, "SELECT 1")  # create and migrate the warehouse
    monkeypatch.setenv("VIEWTRAIL_LOCK_TIMEOUT_S", "30")
    child = _holder(warehouse_path, 2.0)
    try:
        result = run("track", "--no-scrape", YT)
    finally:
        child.join(10)
    assert "warehouse is busy: in use by `python` (pid " in result.stderr
    assert "waiting up to 30s" in result.stderr
    assert "now tracked" in result.stdout
    assert rows(warehouse_path, "SELECT video_id FROM registry.videos") == [("youtube:dQw4w9WgXcQ",)]


def test_cli_gives_up_after_lock_timeout_with_one_sentence(warehouse_path, monkeypatch):
    rows(warehouse_path, "SELECT 1")
    monkeypatch.setenv("VIEWTRAIL_LOCK_TIMEOUT_S", "0.5")
    child = _holder(warehouse_path, 3.0)
    try:
        result = run("track", "--no-scrape", YT, code=1)
    finally:
        child.join(10)
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("warehouse is busy")
    assert len(lines) == 2 and "still locked" in lines[1] and "VIEWTRAIL_LOCK_TIMEOUT_S" in lines[1]
    assert "Traceback" not in result.output
    assert rows(warehouse_path, "SELECT count(*) FROM registry.videos") == [(0,)]


def test_each_command_group_registers_the_commands_the_cli_runs_it_for():
    """`viewtrail COMMAND` registers COMMAND's group alone, found in COMMAND_MODULES: a command missing there, or
    listed under another group, would be slow (every group loaded) or "No such command"."""
    import importlib

    import typer

    from viewtrail.cli import COMMAND_MODULES

    for module, names in COMMAND_MODULES.items():
        group = typer.Typer()
        importlib.import_module(f"viewtrail.cli.{module}").register(group)
        registered = [info.name for info in group.registered_commands]
        registered += [  # a group's name is given to add_typer or, when not, to its own Typer
            info.name if isinstance(info.name, str) else getattr(info.typer_instance, "info", info).name
            for info in group.registered_groups
        ]
        assert registered == list(names), module
    for command in ("list", "campaign", "api-key"):
        shown = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from viewtrail.cli import app; app([{command!r}, '--help'], prog_name='viewtrail')",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert f"Usage: viewtrail {command} [OPTIONS]" in shown.stdout, shown.stderr
