"""`viewtrail sql`: read-only SQL on the analyst copy, driven through typer's CliRunner on a small temp copy."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import socket
import subprocess
import sys
import threading
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from viewtrail.alerts.channels import channels_file, write_urls
from viewtrail.cli import app, sql_cmd

runner = CliRunner()

DAILY_ROWS = 60  # more than the 50 rows the table shows by default


def run(*args: str, code: int = 0, input: str | None = None):
    result = runner.invoke(app, ["sql", *args], input=input)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result


def one_sentence_error(result) -> str:
    """The error contract: exit 1, one line on stderr, nothing on stdout, no traceback."""
    assert result.exit_code == 1
    text = result.stderr.strip()
    assert "Traceback" not in result.output
    assert len(text.splitlines()) == 1, text
    assert result.stdout == ""
    return text


def table_rows(stdout: str) -> list[list[str]]:
    """The body rows of a rich table, cell text stripped (header rows use ┃, body rows │)."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in stdout.splitlines() if line.startswith("│")]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def analytics(warehouse_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small analyst copy (marts tables, a view, a raw table, a sequence) at VIEWTRAIL_ANALYTICS.

    The live warehouse (VIEWTRAIL_WAREHOUSE) is deliberately left uncreated: `viewtrail sql` must never open it.
    """
    path = warehouse_path.parent / "analytics.duckdb"
    monkeypatch.setenv("VIEWTRAIL_ANALYTICS", str(path))
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE SCHEMA raw")
    con.execute(
        "CREATE TABLE marts.video_growth (video_id VARCHAR, account VARCHAR, views BIGINT, "
        "views_per_hour_24h DOUBLE, as_of_day DATE, last_observed_at TIMESTAMP)"
    )
    con.execute(
        """
        INSERT INTO marts.video_growth VALUES
          ('youtube:dQw4w9WgXcQ', 'rick', 1234567, 812.5, DATE '2024-05-01', TIMESTAMP '2024-05-01 12:30:00'),
          ('tiktok:7234567890123456789', 'bob', 850, 3.25, DATE '2024-05-01', TIMESTAMP '2024-05-01 11:00:05'),
          ('x:1790000000000000000', NULL, 42000, NULL, DATE '2024-04-30', TIMESTAMP '2024-04-30 23:59:59')
        """
    )
    con.execute("CREATE TABLE marts.video_daily (video_id VARCHAR, day DATE, views BIGINT)")
    con.execute(
        f"INSERT INTO marts.video_daily SELECT 'youtube:dQw4w9WgXcQ', DATE '2024-03-01' + i::INTEGER, 1000 * i "
        f"FROM range({DAILY_ROWS}) t(i)"
    )
    con.execute("CREATE VIEW marts.top_videos AS SELECT video_id, views FROM marts.video_growth WHERE views > 1000")
    con.execute("CREATE TABLE raw.snapshots AS SELECT 'youtube:dQw4w9WgXcQ' AS video_id, 1 AS n")
    con.execute("CREATE SEQUENCE marts.ids")
    con.close()
    return path


# ------------------------------------------------------------------------------------------------- output


def test_table_shows_the_rows_with_right_aligned_thousands(analytics):
    result = run("SELECT video_id, account, views FROM marts.video_growth ORDER BY views DESC")
    rows = table_rows(result.stdout)
    assert rows == [
        ["youtube:dQw4w9WgXcQ", "rick", "1,234,567"],
        ["x:1790000000000000000", "NULL", "42,000"],
        ["tiktok:7234567890123456789", "bob", "850"],
    ]
    # numbers are right-aligned: every views cell ends at the same column, the short ones padded on the left
    body = [line for line in result.stdout.splitlines() if line.startswith("│")]
    ends = {line.rindex(value) + len(value) for line, value in zip(body, ("1,234,567", "42,000", "850"), strict=False)}
    assert len(ends) == 1
    assert "│       850 │" in body[2]
    assert result.stdout.strip().splitlines()[-1] == "3 rows."
    assert result.stderr == ""


def test_table_shows_fifty_rows_by_default_and_says_how_many_there_were(analytics):
    default = run("SELECT * FROM marts.video_daily ORDER BY day")
    assert len(table_rows(default.stdout)) == 50
    assert f"50 of {DAILY_ROWS} rows shown" in default.stdout
    limited = run("SELECT * FROM marts.video_daily ORDER BY day", "--limit", "5")
    assert [row[2] for row in table_rows(limited.stdout)] == ["0", "1,000", "2,000", "3,000", "4,000"]
    assert f"5 of {DAILY_ROWS} rows shown" in limited.stdout
    everything = run("SELECT * FROM marts.video_daily", "--limit", "0")
    assert len(table_rows(everything.stdout)) == DAILY_ROWS
    assert f"{DAILY_ROWS} rows." in everything.stdout and "shown" not in everything.stdout


def test_csv_round_trips_with_a_header_and_every_row(analytics):
    result = run(
        "SELECT video_id, account, views, views_per_hour_24h, as_of_day, last_observed_at "
        "FROM marts.video_growth ORDER BY views DESC",
        "--format",
        "csv",
    )
    parsed = list(csv.reader(io.StringIO(result.stdout)))
    assert parsed == [
        ["video_id", "account", "views", "views_per_hour_24h", "as_of_day", "last_observed_at"],
        ["youtube:dQw4w9WgXcQ", "rick", "1234567", "812.5", "2024-05-01", "2024-05-01T12:30:00"],
        ["x:1790000000000000000", "", "42000", "", "2024-04-30", "2024-04-30T23:59:59"],
        ["tiktok:7234567890123456789", "bob", "850", "3.25", "2024-05-01", "2024-05-01T11:00:05"],
    ]
    # the table's 50-row limit does not apply to exports
    daily = list(csv.reader(io.StringIO(run("SELECT * FROM marts.video_daily", "--format", "csv").stdout)))
    assert len(daily) == 1 + DAILY_ROWS


def test_csv_keeps_commas_quotes_and_newlines_inside_values(analytics):
    tricky = 'a, "quoted"\nsecond line'
    result = run("SELECT 'a, \"quoted\"' || chr(10) || 'second line' AS note, 1 AS n", "--format", "csv")
    assert list(csv.reader(io.StringIO(result.stdout))) == [["note", "n"], [tricky, "1"]]


def test_json_is_a_list_of_objects_that_keeps_types(analytics):
    result = run(
        "SELECT video_id, account, views, views_per_hour_24h, as_of_day, last_observed_at "
        "FROM marts.video_growth ORDER BY views DESC",
        "--format",
        "json",
    )
    rows = json.loads(result.stdout)  # stdout holds the JSON and nothing else
    assert [row["video_id"] for row in rows] == [
        "youtube:dQw4w9WgXcQ",
        "x:1790000000000000000",
        "tiktok:7234567890123456789",
    ]
    first, second = rows[0], rows[1]
    assert first["views"] == 1234567 and type(first["views"]) is int
    assert first["views_per_hour_24h"] == 812.5 and type(first["views_per_hour_24h"]) is float
    assert second["account"] is None and second["views_per_hour_24h"] is None
    assert first["last_observed_at"] == "2024-05-01T12:30:00"
    assert datetime.fromisoformat(first["last_observed_at"]) == datetime(2024, 5, 1, 12, 30)
    assert date.fromisoformat(first["as_of_day"]) == date(2024, 5, 1)
    assert result.stderr == ""
    # a TIMESTAMPTZ comes out in UTC (viewtrail's time zone), with its offset
    zoned = run("SELECT TIMESTAMPTZ '2024-05-01 14:30:00+02' AS at", "--format", "json")
    assert json.loads(zoned.stdout) == [{"at": "2024-05-01T12:30:00+00:00"}]


def test_json_of_nested_and_exotic_values_stays_valid(analytics):
    result = run(
        "SELECT ['a', 'b'] AS labels, {'k': 1} AS s, 1.50::DECIMAL(10, 2) AS d, 'NaN'::DOUBLE AS nan, "
        "id AS id, id AS id FROM (SELECT 7 AS id)",
        "--format",
        "json",
    )
    assert json.loads(result.stdout) == [
        {"labels": ["a", "b"], "s": {"k": 1}, "d": 1.5, "nan": None, "id": 7, "id_2": 7}
    ]
    empty = run("SELECT * FROM marts.video_growth WHERE false", "--format", "json")
    assert json.loads(empty.stdout) == []


# -------------------------------------------------------------------------------------------- SQL input


def test_sql_from_stdin_when_omitted_or_dash(analytics):
    piped = run("--format", "json", input="SELECT count(*) AS n FROM marts.video_daily\n")
    assert json.loads(piped.stdout) == [{"n": DAILY_ROWS}]
    dash = run("-", "--format", "csv", input="SELECT max(views) AS top FROM marts.video_growth;")
    assert dash.stdout.splitlines() == ["top", "1234567"]


def test_sql_from_a_file_and_the_last_statement_is_shown(analytics, tmp_path):
    query = tmp_path / "query.sql"
    query.write_text(
        "-- the busiest video\nSET threads = 1;\nSELECT video_id FROM marts.video_growth\n"
        "ORDER BY views DESC LIMIT 1;\n"
    )
    result = run("--file", str(query), "--format", "csv")
    assert result.stdout.splitlines() == ["video_id", "youtube:dQw4w9WgXcQ"]
    missing = runner.invoke(app, ["sql", "--file", str(tmp_path / "nope.sql")])
    assert "nope.sql" in one_sentence_error(missing)


def test_empty_sql_is_an_error(analytics):
    assert "empty" in one_sentence_error(runner.invoke(app, ["sql"], input="  -- nothing here\n")).lower()


# ------------------------------------------------------------------------------------------------ --tables


def test_tables_lists_tables_and_views_with_row_counts(analytics):
    listed = {row["name"]: row for row in json.loads(run("--tables", "--format", "json").stdout)}
    assert listed == {
        "marts.top_videos": {"name": "marts.top_videos", "kind": "view", "columns": 2, "rows": 2},
        "marts.video_daily": {"name": "marts.video_daily", "kind": "table", "columns": 3, "rows": DAILY_ROWS},
        "marts.video_growth": {"name": "marts.video_growth", "kind": "table", "columns": 6, "rows": 3},
        "raw.snapshots": {"name": "raw.snapshots", "kind": "table", "columns": 2, "rows": 1},
    }
    table = table_rows(run("--tables").stdout)
    assert [row[0] for row in table][:3] == [
        "marts.top_videos",
        "marts.video_daily",
        "marts.video_growth",
    ]  # marts first
    assert ["marts.video_daily", "table", "3", "60"] in table


def test_tables_with_a_query_is_an_error(analytics):
    assert "--tables" in one_sentence_error(runner.invoke(app, ["sql", "--tables", "SELECT 1"]))


# -------------------------------------------------------------------------------------------------- errors


def test_missing_analyst_copy_says_to_build_first(warehouse_path):
    result = runner.invoke(app, ["sql", "SELECT 1"])
    message = one_sentence_error(result)
    assert "viewtrail build" in message and "make demo" in message
    assert not warehouse_path.exists()  # no fallback onto the live warehouse, not even creating it


def test_bad_query_names_the_problem_and_the_tables_in_one_line(analytics):
    message = one_sentence_error(runner.invoke(app, ["sql", "SELECT * FROM marts.nope"]))
    assert "nope" in message and "does not exist" in message
    assert "marts.video_daily" in message and "marts.video_growth" in message  # the hint: what there is
    assert "raw" in message  # other schemas are named too
    assert "LINE 1" not in message  # DuckDB's caret diagram stays out: one line only
    syntax = one_sentence_error(runner.invoke(app, ["sql", "SELEC 1"]))
    assert "syntax error" in syntax and "SELEC" in syntax
    column = one_sentence_error(runner.invoke(app, ["sql", "SELECT viewz FROM marts.video_growth"]))
    assert "viewz" in column


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO marts.video_growth SELECT * FROM marts.video_growth",
        "UPDATE marts.video_growth SET views = 0",
        "DELETE FROM marts.video_daily",
        "DROP TABLE marts.video_daily",
        "CREATE TABLE marts.scratch AS SELECT 1 AS a",
        "ALTER TABLE marts.video_growth ADD COLUMN x INTEGER",
        "SELECT 1; DELETE FROM marts.video_daily",  # refused as a whole, before the SELECT runs
        "SELECT nextval('marts.ids')",  # parses as a SELECT: the read-only connection refuses it
    ],
)
def test_writes_are_refused_and_the_copy_is_unchanged(analytics, statement):
    before = digest(analytics)
    message = one_sentence_error(runner.invoke(app, ["sql", statement]))
    assert message.startswith("The analyst copy is read-only")
    assert digest(analytics) == before
    counts = json.loads(
        run(
            "SELECT (SELECT count(*) FROM marts.video_growth) AS growth, "
            "(SELECT count(*) FROM marts.video_daily) AS daily",
            "--format",
            "json",
        ).stdout
    )
    assert counts == [{"growth": 3, "daily": DAILY_ROWS}]


def test_attach_and_copy_are_refused_so_nothing_else_is_opened_or_written(analytics, warehouse_path, tmp_path):
    with duckdb.connect(str(warehouse_path)) as con:  # a live warehouse next to the copy
        con.execute("CREATE TABLE t AS SELECT 1 AS a")
    before = digest(warehouse_path)
    attach = one_sentence_error(runner.invoke(app, ["sql", f"ATTACH '{warehouse_path}' AS live; SELECT 1"]))
    assert attach.startswith("viewtrail sql reads only the analyst copy")
    assert digest(warehouse_path) == before
    target = tmp_path / "out.csv"
    copy = one_sentence_error(runner.invoke(app, ["sql", f"COPY marts.video_growth TO '{target}'"]))
    assert copy.startswith("The analyst copy is read-only") and "COPY" in copy
    assert not target.exists()


def test_the_copy_stays_readable_while_a_session_holds_it_and_the_warehouse_is_never_opened(analytics, warehouse_path):
    # an analyst's other session, e.g. a BI tool: another process, holding the copy open until its stdin closes
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print('open', flush=True); sys.stdin.read()",
            str(analytics),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        result = run("SELECT count(*) AS n FROM marts.video_daily", "--format", "csv")
    finally:
        holder.communicate("", timeout=60)
    assert result.stdout.splitlines() == ["n", str(DAILY_ROWS)]
    assert not warehouse_path.exists()


def test_sql_help_has_examples_and_loading_the_cli_does_not_import_duckdb():
    assert "Examples" in runner.invoke(app, ["sql", "--help"]).stdout
    code = "import sys, viewtrail.cli; print('duckdb' in sys.modules, 'polars' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------------------------ only the analyst copy

SECRET_URL = "https://hooks.slack.com/services/T0000/B0000/s3cr3t-t0ken"
LIVE_ONLY = "row-only-in-the-live-warehouse"
OUTSIDE = "text-of-a-file-outside-the-data-dir"
YT = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


@pytest.fixture
def live(analytics: Path, warehouse_path: Path, tmp_path: Path) -> dict[str, str]:
    """The files `viewtrail sql` must never read, next to the analyst copy: the live warehouse, the alert
    channels' secret URLs beside it, and a file outside the data dir."""
    with duckdb.connect(str(warehouse_path)) as con:
        con.execute(f"CREATE TABLE videos AS SELECT '{LIVE_ONLY}' AS marker")
    write_urls(channels_file(warehouse_path), {"team-slack": SECRET_URL})
    outside = tmp_path / "outside.txt"
    outside.write_text(OUTSIDE + "\n")
    return {"warehouse": str(warehouse_path), "channels": str(channels_file(warehouse_path)), "outside": str(outside)}


def refused_outside(result) -> str:
    """One sentence pointing at the copy's tables, and nothing that was read out of the files."""
    message = one_sentence_error(result)
    assert message.startswith("viewtrail sql reads only the analyst copy"), message
    assert "docs/analysts.md" in message
    for secret in (SECRET_URL, "s3cr3t", LIVE_ONLY, OUTSIDE):
        assert secret not in result.stdout and secret not in result.stderr
    return message


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM read_duckdb('{warehouse}', table_name => 'videos')",
        "FROM '{warehouse}'",
        "ATTACH '{warehouse}' AS live (READ_ONLY)",
        "SELECT content FROM read_text('{channels}')",
        "SELECT * FROM read_csv('{channels}', header = false, sep = '|')",
        "SELECT * FROM read_json('{channels}')",
        "FROM '{channels}'",
        "SELECT content FROM read_blob('{outside}')",
        "SELECT * FROM read_csv_auto('{outside}')",
        "SELECT * FROM glob('{outside}')",
        "SELECT 1; SELECT content FROM read_text('{outside}')",
    ],
)
def test_files_and_other_databases_are_out_of_reach(live, query):
    refused_outside(runner.invoke(app, ["sql", query.format(**live), "--format", "csv"]))


def test_a_refused_read_never_locks_the_live_warehouse(live, warehouse_path, monkeypatch):
    """A writer (here `viewtrail track` in its own process, failing at once on a lock) runs while `viewtrail sql`
    has its connection open, both for a refused read of the warehouse and for an ordinary query."""
    monkeypatch.setenv("VIEWTRAIL_LOCK_TIMEOUT_S", "0")
    writes = []
    original = sql_cmd._run

    def run_then_write(con, text):
        try:
            return original(con, text)
        finally:  # the query ran (or was refused); the sql connection and its result are still open
            writes.append(
                subprocess.run(
                    [str(Path(sys.executable).with_name("viewtrail")), "track", "--no-scrape", YT],
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
            )

    monkeypatch.setattr(sql_cmd, "_run", run_then_write)
    refused = runner.invoke(app, ["sql", f"SELECT * FROM read_duckdb('{warehouse_path}', table_name => 'videos')"])
    run("SELECT count(*) AS n FROM marts.video_daily", "--format", "csv")
    assert [w.returncode for w in writes] == [0, 0], [w.stderr for w in writes]
    refused_outside(refused)
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        assert con.execute("SELECT video_id FROM registry.videos").fetchall() == [("youtube:dQw4w9WgXcQ",)]


@pytest.fixture
def recording_proxy(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every HTTP(S) request DuckDB makes goes to this local proxy (DuckDB honours HTTP_PROXY), which records it
    and hangs up: nothing leaves the machine, and the test sees any attempt to download an extension or a URL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    requests: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            with client:
                client.settimeout(1)
                try:
                    requests.append(client.recv(200))
                except OSError:
                    requests.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, url)
    yield requests
    stop.set()
    thread.join()
    server.close()


@pytest.mark.parametrize(
    "query",
    [
        "INSTALL httpfs",
        "LOAD httpfs",
        "FORCE INSTALL sqlite_scanner",
        "SELECT * FROM read_parquet('https://example.invalid/marts.parquet')",
        "SELECT * FROM sqlite_scan('{outside}', 'videos')",
        "SELECT * FROM read_xlsx('{outside}')",
    ],
)
def test_extensions_are_neither_installed_nor_autoloaded_and_the_network_is_never_reached(live, recording_proxy, query):
    refused_outside(runner.invoke(app, ["sql", query.format(**live)]))
    assert recording_proxy == []


def test_a_statement_kind_duckdb_cannot_name_is_refused_in_one_sentence(analytics, recording_proxy):
    message = one_sentence_error(runner.invoke(app, ["sql", "UPDATE EXTENSIONS"]))
    assert message.startswith("The analyst copy is read-only") and "refused" in message
    assert recording_proxy == []


@pytest.mark.parametrize(
    "setting",
    [
        "SET enable_external_access = true",
        "RESET enable_external_access",
        "SET GLOBAL enable_external_access = true",
        "SET lock_configuration = false",
        "SET allowed_directories = ['/']",
        "SET allowed_paths = ['{channels}']",
        "SET autoload_known_extensions = true",
        "SET file_search_path = '{data}'",
    ],
)
def test_a_query_cannot_set_the_guards_back(live, setting):
    data = str(Path(live["warehouse"]).parent)
    text = setting.format(data=data, **live) + f"; SELECT content FROM read_text('{live['channels']}')"
    result = runner.invoke(app, ["sql", text, "--format", "csv"])
    message = one_sentence_error(result)
    assert message.startswith("viewtrail sql cannot change the setting "), message
    assert "threads" in message  # says which settings a query may change
    assert SECRET_URL not in result.stdout + result.stderr


def test_settings_that_only_shape_the_query_can_still_be_changed(analytics):
    result = run(
        "SET threads = 1; SET memory_limit = '256MB'; SET TimeZone = 'Europe/Paris'; SET default_order = 'desc'; "
        "SELECT current_setting('TimeZone') AS tz, TIMESTAMPTZ '2024-05-01 12:00:00+00' AS at",
        "--format",
        "json",
    )
    assert json.loads(result.stdout) == [{"tz": "Europe/Paris", "at": "2024-05-01T14:00:00+02:00"}]


def test_the_docs_name_every_setting_a_query_may_change():
    section = (Path(__file__).parents[1] / "docs" / "cli.md").read_text().split("\n## sql\n")[1].split("\n## ")[0]
    assert [name for name in sql_cmd.QUERY_SETTINGS if f"`{name}`" not in section] == []
