"""What a demanding user of the command line relies on: `list` pages, tables keep their width when piped, --csv
and --json wherever a table is printed, one-sentence errors for a missing warehouse, a busy port or an unknown
video, a lock message naming who holds the warehouse, no Dagster notices on the terminal, --version."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import socket
import subprocess
import sys
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from viewtrail.api.mcp_server import build_server
from viewtrail.cli import app
from viewtrail.clock import pinned
from viewtrail.pipeline.queue import QueueKind, pending_requests
from viewtrail.warehouse import open_warehouse
from viewtrail.warehouse.registry import list_videos

YT = "https://youtu.be/dQw4w9WgXcQ"
runner = CliRunner()


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result


def one_sentence_error(result) -> str:
    text = result.stderr.strip()
    assert "Traceback" not in result.output
    assert len(text.splitlines()) == 1, text
    return text


def add_videos(path: Path, n: int, *, account: str = "acct", labels: tuple[str, ...] = ()) -> list[str]:
    """``n`` registered YouTube videos (ids in sorted order) with two snapshots each, written in SQL."""
    with open_warehouse(path) as con:
        con.execute(
            """
            INSERT INTO registry.videos (video_id, platform, external_id, url, account, is_active, cadence, labels,
                metadata, availability, consecutive_not_found, source, added_at, updated_at)
            SELECT 'youtube:' || lpad(i::TEXT, 11, '0'), 'youtube', lpad(i::TEXT, 11, '0'),
                   'https://www.youtube.com/watch?v=' || lpad(i::TEXT, 11, '0'), ?, true, 'auto', ?, '{}',
                   'available', 0, 'manual', TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01'
            FROM range(?) t(i)
            """,
            [account, list(labels), n],
        )
        con.execute(
            """
            INSERT INTO raw.snapshots (video_id, observed_at, views, source, ingested_at)
            SELECT video_id, TIMESTAMP '2026-01-01' + h * INTERVAL 1 HOUR, 100 * (h + 1), 'import', now()
            FROM registry.videos, range(2) t(h)
            """
        )
        return [r[0] for r in con.sql("SELECT video_id FROM registry.videos ORDER BY video_id").fetchall()]


def table_ids(text: str) -> list[str]:
    return [line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│ youtube:")]


# ------------------------------------------------------------------------------------------------ paging


def test_list_shows_a_page_and_the_command_for_the_next(warehouse_path):
    ids = add_videos(warehouse_path, 60)
    first = run("list")
    assert table_ids(first.stdout) == ids[:50]
    assert "60 video(s)" in first.stdout
    assert f"next page: viewtrail list --after {ids[49]}" in first.stdout
    second = run("list", "--after", ids[49])
    assert table_ids(second.stdout) == ids[50:]
    assert "next page" not in second.stdout
    assert table_ids(run("list", "--limit", "0").stdout) == ids


def test_list_pages_keep_the_filters_and_json_lists_everything_unless_limited(warehouse_path):
    ids = add_videos(warehouse_path, 7, labels=("launch",))
    page = run("list", "--label", "launch", "--limit", "3", "--json")
    assert [v["video_id"] for v in json.loads(page.stdout)] == ids[:3]  # stdout is the data alone
    assert f"next page: viewtrail list --label launch --limit 3 --json --after {ids[2]}" in page.stderr
    assert len(json.loads(run("list", "--json").stdout)) == 7


def test_a_page_loads_neither_polars_nor_the_writers(warehouse_path):
    """`viewtrail list` is typed by hand: polars (with pyarrow), the planners and the platform clients were most
    of what a page cost at 100k videos, not its query; then the other command groups, imported and built by typer
    for nothing."""
    ids = add_videos(warehouse_path, 3)
    code = (
        "import sys\nfrom viewtrail.cli import app\ntry:\n    app(['list', '--limit', '2'])\nexcept SystemExit:\n"
        "    pass\nprint('LOADED', sorted(m for m in ('polars', 'pyarrow', 'httpx', 'viewtrail.planning.scheduling',"
        " 'viewtrail.cli.account_cmds', 'viewtrail.cli.program_cmds', 'viewtrail.cli.sql_cmd', 'rich.progress')"
        " if m in sys.modules))"
    )
    env = {**os.environ, "VIEWTRAIL_WAREHOUSE": str(warehouse_path), "VIEWTRAIL_OFFLINE": "1"}
    shown = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert table_ids(shown.stdout) == ids[:2], shown.stderr
    assert "LOADED []" in shown.stdout


#: `viewtrail list` argument lists the program (viewtrail.cli.main) parses without typer.
PLAIN_LISTS = [
    ["list"],
    ["list", "--limit", "2"],
    ["list", "-n", "3", "--active"],
    ["list", "--limit=2", "--after", "youtube:00000000001", "--inactive"],
    ["list", "-p", "youtube", "-l", "launch", "--limit", "0"],
    ["list", "--platform=YouTube", "--label="],
]


def test_list_without_typer_prints_what_typer_prints(warehouse_path):
    """`viewtrail list` with plain arguments runs without typer (its import and per-option pydantic adapters
    were most of the start-up); its output, on stdout and stderr, and its exit code are the typer command's."""
    add_videos(warehouse_path, 5, labels=("launch",))
    env = {**os.environ, "VIEWTRAIL_WAREHOUSE": str(warehouse_path), "VIEWTRAIL_OFFLINE": "1"}
    cases = json.dumps(PLAIN_LISTS + [["list", "--after", "youtube:99999999999"]])

    def each_case(name: str, call: str) -> str:
        return (
            f"import json, sys\nfrom viewtrail.cli import {name}\n"
            f"for args in json.loads({cases!r}):\n"
            "    sys.argv = ['viewtrail', *args]\n"
            "    try:\n"
            f"        code = {call}\n"
            "    except SystemExit as exit:\n"
            "        code = exit.code\n"
            "    print('EXIT', code, flush=True)\n"
            "    print('EXIT', code, file=sys.stderr, flush=True)\n"
        )

    plain = subprocess.run(
        [
            sys.executable,
            "-c",
            each_case("main", "main()") + "print('TYPER', 'typer' in sys.modules, 'pydantic' in sys.modules)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    typer_run = subprocess.run(
        [sys.executable, "-c", each_case("app", "app(sys.argv[1:], prog_name='viewtrail')")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert plain.stdout.endswith("TYPER False False\n"), plain.stderr
    assert plain.stdout.removesuffix("TYPER False False\n") == typer_run.stdout
    assert plain.stderr == typer_run.stderr
    assert plain.stdout.count("EXIT 0") == len(PLAIN_LISTS) + 1 and "youtube:00000000004" in plain.stdout


@pytest.mark.parametrize(
    "args",
    [
        *PLAIN_LISTS,
        ["list", "--help"],
        ["list", "-n", "-1"],
        ["list", "--limit", "x"],
        ["list", "--limit", "2", "--limit", "3"],
        ["list", "--json"],
        ["list", "--csv", "-n", "2"],
        ["list", "--lim", "2"],
        ["list", "-n2"],
        ["list", "-n=2"],
        ["list", "--active=1"],
        ["list", "youtube"],
        ["list", "--", "-n"],
        ["list", "--after"],
    ],
)
def test_the_plain_parse_of_list_is_typers_or_none(args, monkeypatch):
    """The plain parse of `viewtrail list`'s arguments gives the command exactly what typer gives it, from the
    one definition of its options; whatever it does not take (help, errors, --json ...) stays typer's."""
    from viewtrail.cli import _list_page

    given: list[dict] = []
    monkeypatch.setattr("viewtrail.cli.registry_cmds.show_page", lambda **options: given.append(options))
    result = runner.invoke(app, args)
    plain = _list_page.parse_plain(args[1:])
    if args in PLAIN_LISTS:
        assert result.exit_code == 0 and plain == given[0]
    else:
        assert plain is None


def test_the_registry_cuts_the_page_in_sql(warehouse_path):
    ids = add_videos(warehouse_path, 5)
    with open_warehouse(warehouse_path, read_only=True) as con:
        page = list_videos(con, after=ids[1], limit=2)
    assert page["video_id"].to_list() == ids[2:4]
    assert page["snapshots"].to_list() == [2, 2] and page["last_views"].to_list() == [200, 200]


# --------------------------------------------------------------------------------------- piped output


def test_piped_tables_keep_their_natural_width(warehouse_path):
    account = "an_account_name_much_longer_than_eighty_columns_would_allow_in_a_squeezed_table"
    add_videos(warehouse_path, 2, account=account, labels=("a-long-campaign-label", "another-label"))
    text = run("list").stdout  # CliRunner's stdout is not a terminal, like `viewtrail list > videos.txt`
    assert "…" not in text
    row = next(line for line in text.splitlines() if line.startswith("│ youtube:00000000000"))
    assert account in row and "a-long-campaign-label, another-label" in row


@pytest.mark.parametrize(
    ("args", "header"),
    [
        (["list"], "video_id"),
        (["status"], "platform"),
        (["accounts"], "account_id"),
        (["inbox"], "video_id"),
        (["creator", "list"], "creator_id"),
        (["alert", "list"], "rule_id"),
        (["channel", "list"], "name"),
        (["alerts"], "event_id"),
        (["api-key", "list"], "id"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_every_table_has_a_csv_form(warehouse_path, args, header):
    add_videos(warehouse_path, 2)
    rows = list(csv.reader(io.StringIO(run(*args, "--csv").stdout)))
    assert header in rows[0]


def test_csv_cells_are_plain_values(warehouse_path):
    add_videos(warehouse_path, 1, labels=("launch",))
    (row,) = csv.DictReader(io.StringIO(run("list", "--csv").stdout))
    assert row["video_id"] == "youtube:00000000000"
    assert json.loads(row["labels"]) == ["launch"]
    assert row["last_observed_at"] == "2026-01-01T01:00:00" and row["last_views"] == "200"


def test_status_has_a_json_form(warehouse_path):
    add_videos(warehouse_path, 3)
    status = json.loads(run("status", "--json").stdout)
    youtube = next(p for p in status["platforms"] if p["platform"] == "youtube")
    assert youtube["active"] == 3 and status["failing"] == []


# ------------------------------------------------------------------------------- a missing warehouse


@pytest.mark.parametrize("args", [["list"], ["status"], ["accounts"], ["alerts"], ["untrack", "youtube:dQw4w9WgXcQ"]])
def test_commands_on_a_missing_warehouse_say_so_and_create_nothing(warehouse_path, args):
    result = run(*args, code=1)
    message = one_sentence_error(result)
    assert str(warehouse_path) in message and "VIEWTRAIL_WAREHOUSE" in message
    assert not warehouse_path.exists()


def test_a_write_that_creates_the_warehouse_says_so_once(warehouse_path):
    first = run("track", "--no-scrape", YT)
    assert f"created a new warehouse at {warehouse_path}" in first.stderr
    again = run("track", "--no-scrape", "https://youtu.be/aaaaaaaaaaa")
    assert "created a new warehouse" not in again.stderr


# ------------------------------------------------------------------------------------- refused input


def test_rescrape_of_an_untracked_video_is_refused(warehouse_path):
    run("track", "--no-scrape", YT)
    result = run("rescrape", "youtube:bbbbbbbbbbb", code=1)
    assert "youtube:bbbbbbbbbbb" in one_sentence_error(result)
    assert pending_requests(QueueKind.RESCRAPE) == []


def test_goal_by_a_past_date_and_rules_on_untracked_videos_are_refused(warehouse_path):
    run("track", "--no-scrape", YT)
    with pinned(datetime(2027, 6, 1, 12)):
        past = run("alert", "add", "goal", "--label", "x", "--threshold", "1M", "--by", "2027-05-31", code=1)
        assert "2027-05-31" in one_sentence_error(past)
        run("alert", "add", "goal", "--label", "x", "--threshold", "1M", "--by", "2027-06-01")
    unknown = run("alert", "add", "spike", "--video", "youtube:ccccccccccc", code=1)
    assert "youtube:ccccccccccc" in one_sentence_error(unknown)
    run("alert", "add", "spike", "--video", "youtube:dQw4w9WgXcQ")
    assert [r["kind"] for r in json.loads(run("alert", "list", "--json").stdout)] == ["goal", "spike"]


def test_serve_on_a_busy_port_is_one_sentence(warehouse_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(port), code=1)
    assert one_sentence_error(result) == f"port {port} on 127.0.0.1 is in use: stop the other server or pass --port."


# ------------------------------------------------------------------------------------------ who holds it


HOLDER = """\
import sys, time, duckdb
con = duckdb.connect(sys.argv[3])
print("ready", flush=True)
time.sleep(30)
"""


def test_the_lock_message_names_the_holding_command_without_its_arguments(warehouse_path, tmp_path, monkeypatch):
    with open_warehouse(warehouse_path):
        pass
    script = tmp_path / "bin" / "viewtrail"  # run as `python .../viewtrail import FILE WAREHOUSE`, like the real one
    script.parent.mkdir()
    script.write_text(HOLDER)
    holder = subprocess.Popen(
        [sys.executable, str(script), "import", "secret-campaign.csv", str(warehouse_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        monkeypatch.setenv("VIEWTRAIL_LOCK_TIMEOUT_S", "0.3")
        result = run("track", "--no-scrape", YT, code=1)
    finally:
        holder.kill()
        holder.wait()
    waiting, error = result.stderr.strip().splitlines()
    assert f"in use by `viewtrail import` (pid {holder.pid})" in waiting
    assert f"still locked by `viewtrail import` (pid {holder.pid})" in error
    assert "secret-campaign" not in result.output


# ----------------------------------------------------------------------------------------- no noise


def test_a_first_snapshot_prints_no_dagster_notices(warehouse_path, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("")
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": os.pathsep.join(sys.path)}
    code = "from viewtrail.cli import app; app()"
    result = subprocess.run(
        [sys.executable, "-c", code, "track", YT], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "youtube:dQw4w9WgXcQ:" in result.stdout
    assert "Warning" not in result.stderr, result.stderr


def test_ctrl_c_exits_130_with_one_line(warehouse_path, monkeypatch):
    add_videos(warehouse_path, 1)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("viewtrail.warehouse.video_pages.video_page", interrupted)
    result = run("list", code=130)
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_mcp_help_lists_every_registered_tool():
    tools = [t.name for t in asyncio.run(build_server(service=object()).list_tools())]  # type: ignore[arg-type]
    text = " ".join(run("mcp", "--help").stdout.split())
    missing = [name for name in tools if name not in text]
    assert tools and missing == []


def test_version_is_the_installed_package_version():
    assert run("--version").stdout.strip() == f"viewtrail {version('viewtrail')}"
