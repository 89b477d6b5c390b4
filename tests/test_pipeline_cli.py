"""`viewtrail rescrape` and `viewtrail build` as a user runs them (the real typer app)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from viewtrail.cli import app
from viewtrail.pipeline.queue import QueueKind, pending_requests

runner = CliRunner()


def test_rescrape_queues_one_request_with_the_parsed_deduplicated_ids(warehouse_path: Path) -> None:
    tracked = runner.invoke(app, ["track", "--no-scrape", "youtube:dQw4w9WgXcQ", "tiktok:6718335390845095173"])
    assert tracked.exit_code == 0, tracked.output
    result = runner.invoke(
        app,
        [
            "rescrape",
            "youtube:dQw4w9WgXcQ",
            "https://youtu.be/dQw4w9WgXcQ?t=42",  # the same video, pasted differently
            "https://www.tiktok.com/@scout2015/video/6718335390845095173",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Queued a rescrape of 2 video(s)" in result.output
    (request,) = pending_requests(QueueKind.RESCRAPE)
    assert request.video_ids == ("youtube:dQw4w9WgXcQ", "tiktok:6718335390845095173")


def test_rescrape_with_a_bad_url_says_what_is_wrong_and_queues_nothing(warehouse_path: Path) -> None:
    result = runner.invoke(app, ["rescrape", "youtube:dQw4w9WgXcQ", "https://example.com/watch?v=1"])
    assert result.exit_code == 1
    assert "example.com" in result.output and "Traceback" not in result.output
    assert pending_requests(QueueKind.RESCRAPE) == []


def test_rescrape_refuses_short_links_with_a_hint(warehouse_path: Path) -> None:
    result = runner.invoke(app, ["rescrape", "https://vm.tiktok.com/ZMabcdef/"])
    assert result.exit_code == 1
    assert "short link" in result.output
    assert pending_requests(QueueKind.RESCRAPE) == []


def test_build_without_a_warehouse_says_what_to_do(warehouse_path: Path) -> None:
    result = runner.invoke(app, ["build"])
    assert result.exit_code == 1
    assert "no warehouse" in result.output and "viewtrail demo" in result.output
    assert not warehouse_path.exists()


@pytest.mark.parametrize("dagster_home", [True, False], ids=["dagster-home", "ephemeral-instance"])
def test_build_full_refresh_rebuilds_the_marts_and_says_how_far_it_has_got(
    warehouse_path: Path, tmp_path: Path, monkeypatch, dagster_home: bool
) -> None:
    import shutil
    from datetime import datetime

    import duckdb

    from viewtrail.warehouse.connection import open_warehouse

    if dagster_home:
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(Path(__file__).resolve().parents[1] / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
        monkeypatch.setenv("DAGSTER_HOME", str(home))
    else:  # no instance configured: the run's events live in this process only, and are said all the same
        monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with open_warehouse(warehouse_path) as con:
        con.execute(
            "INSERT INTO registry.videos VALUES ('youtube:dQw4w9WgXcQ', 'youtube', 'dQw4w9WgXcQ',"
            " 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', NULL, true, 'auto', NULL, [], '{}', 'available', 0,"
            " NULL, NULL, 'manual', ?, ?, NULL)",
            [datetime(2026, 11, 20), datetime(2026, 11, 20)],
        )
        for day, views in ((20, 100), (21, 250), (22, 400)):
            con.execute(
                "INSERT INTO raw.snapshots (video_id, observed_at, views, source, ingested_at)"
                " VALUES ('youtube:dQw4w9WgXcQ', ?, ?, 'import', now()::TIMESTAMP)",
                [datetime(2026, 11, day, 10), views],
            )
    assert runner.invoke(app, ["build"]).exit_code == 0
    analytics = warehouse_path.parent / "analytics.duckdb"

    def summary_indexes() -> list[tuple]:  # what a page of `viewtrail list` reads the summary by
        with open_warehouse(warehouse_path, read_only=True) as con:
            return con.sql(
                "SELECT index_name FROM duckdb_indexes() WHERE table_name = 'int_video_snapshot_summary'"
            ).fetchall()

    assert summary_indexes() == [("int_video_snapshot_summary_video_id",)]

    def daily() -> list[tuple]:
        con = duckdb.connect(str(analytics), read_only=True)
        try:
            return con.sql("SELECT * FROM marts.video_daily ORDER BY ALL").fetchall()
        finally:
            con.close()

    before = daily()
    result = runner.invoke(app, ["build", "--full-refresh"])
    assert result.exit_code == 0, result.output
    assert "dbt: model 1 of " in result.output and "viewtrail_dbt: done" in result.output
    # which model runs now, not only which ones are done: a large rebuild spends minutes in one
    assert re.search(r"dbt: model \d+ of \d+ started: sql \w+ model marts.video_daily", result.output)
    assert daily() == before and len(before) == 3
    assert summary_indexes() == [("int_video_snapshot_summary_video_id",)]


def test_a_build_interrupted_mid_model_says_it_was_interrupted(warehouse_path: Path, monkeypatch) -> None:
    """Stopped while a model runs, dbt returns the interruption and DuckDB refuses to close its busy connection:
    the user is told the build was interrupted, not that the warehouse connection was busy."""
    import duckdb
    from dagster import DagsterExecutionInterruptedError

    from orchestration.defs import dbt_internals
    from viewtrail.warehouse.connection import open_warehouse

    class Stopped:
        success, exception, result = False, DagsterExecutionInterruptedError(), None

    def refuse_close() -> None:
        raise duckdb.ConnectionException("Connection Error: connection is busy with another call")

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setattr(dbt_internals, "run_dbt", lambda args, on_event=None: Stopped())
    monkeypatch.setattr(dbt_internals, "close_duckdb_instance", refuse_close)
    with open_warehouse(warehouse_path):
        pass
    result = runner.invoke(app, ["build"])
    assert result.exit_code == 130, result.output
    assert result.output.rstrip().endswith("Interrupted.")
    assert "failed in" not in result.output  # not reported as a failed build
    # the step's failure is the interruption; the refused close is one logged line, not the error
    (refusal,) = [line for line in result.output.splitlines() if "busy" in line]
    assert "could not be closed" in refusal
