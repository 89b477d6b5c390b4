"""`viewtrail import` stopped at any point (SIGKILL, Ctrl-C, a closed pipe) leaves every registered video
scraped or queued, and a re-run repairs what an interrupted older version left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from viewtrail.cli import app
from viewtrail.clock import pinned
from viewtrail.domain.models import Platform, VideoRef
from viewtrail.pipeline.queue import HOLD, QueueKind, enqueue_new_videos, pending_requests, queued_video_ids
from viewtrail.warehouse import open_warehouse
from viewtrail.warehouse.registry import track_refs

REPO = Path(__file__).resolve().parents[1]
URLS = "https://youtu.be/dQw4w9WgXcQ\nhttps://x.com/u/status/1790000000000000000\n"
IDS = {"youtube:dQw4w9WgXcQ", "x:1790000000000000000"}

#: Runs the CLI with one function replaced by ``HOOK`` (which stops the process at that point).
_WRAPPER = """
import os, signal, sys
import {module} as target
original = target.{name}
{hook}
target.{name} = hook
from viewtrail.cli import app
sys.argv[0] = "viewtrail"
app()
"""


def run_cli_stopped_at(module: str, name: str, hook: str, *args: str, **popen) -> subprocess.CompletedProcess:
    code = _WRAPPER.format(module=module, name=name, hook=hook)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, **popen
    )


def registered(warehouse_path: Path) -> set[str]:
    with open_warehouse(warehouse_path) as con:
        return {row[0] for row in con.sql("SELECT video_id FROM registry.videos").fetchall()}


def scraped(warehouse_path: Path) -> set[str]:
    with open_warehouse(warehouse_path) as con:
        return {row[0] for row in con.sql("SELECT video_id FROM raw.snapshots").fetchall()}


def snapshots(warehouse_path: Path) -> int:
    with open_warehouse(warehouse_path) as con:
        return con.sql("SELECT count(*) FROM raw.snapshots").fetchall()[0][0]


def test_import_killed_right_after_registering_leaves_every_new_video_queued(warehouse_path, tmp_path):
    path = tmp_path / "urls.txt"
    path.write_text(URLS)
    killed = run_cli_stopped_at(
        "viewtrail.app.first_snapshot",
        "take_first_snapshots",
        "def hook(*args, **kwargs):\n    os.kill(os.getpid(), signal.SIGKILL)",
        "import",
        str(path),
    )
    assert killed.returncode == -signal.SIGKILL
    assert registered(warehouse_path) == IDS and snapshots(warehouse_path) == 0
    assert queued_video_ids() >= IDS  # held for the killed command, then due for the pipeline
    (held,) = pending_requests(QueueKind.NEW)
    assert held.not_before is not None and not held.is_due(held.requested_at)
    assert held.is_due(held.requested_at + HOLD)
    again = CliRunner().invoke(app, ["import", str(path)])
    assert again.exit_code == 0 and "0 new, 2 already tracked" in again.stdout
    assert len(pending_requests(QueueKind.NEW)) == 1  # queued once, not again


def test_ctrl_c_inside_the_registering_transaction_exits_130_and_writes_nothing(warehouse_path, tmp_path):
    path = tmp_path / "urls.txt"
    path.write_text(URLS)
    # Ctrl-C while DuckDB executes a statement of the registering transaction.
    hook = (
        "def hook(con, now):\n"
        "    rows = original(con, now)\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    con.sql('SELECT count(*) FROM range(100000000000) a').fetchall()\n"
        "    return rows"
    )
    stopped = run_cli_stopped_at("viewtrail.warehouse.registry", "_track_in_transaction", hook, "import", str(path))
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stderr.strip().splitlines() == ["Interrupted."]
    assert registered(warehouse_path) == set() and queued_video_ids() == set()
    again = CliRunner().invoke(app, ["import", str(path)])
    assert again.exit_code == 0 and "2 new" in again.stdout


@pytest.mark.parametrize("interrupt", ["aborted transaction", "query interrupted"])
def test_ctrl_c_that_duckdb_turned_into_its_own_error_still_exits_130(warehouse_path, tmp_path, monkeypatch, interrupt):
    import viewtrail.warehouse.registry as registry

    def interrupted(con, now):
        if interrupt == "aborted transaction":  # DuckDB ended the transaction; the rollback on the way out fails
            con.rollback()
            raise KeyboardInterrupt
        raise RuntimeError("Query interrupted")  # how DuckDB reports a Ctrl-C landing inside a statement

    monkeypatch.setattr(registry, "_track_in_transaction", interrupted)
    path = tmp_path / "urls.txt"
    path.write_text(URLS)
    result = CliRunner().invoke(app, ["import", str(path)])
    assert (result.exit_code, result.stderr.strip().splitlines()[-1:]) == (130, ["Interrupted."])
    assert (
        "TransactionContext" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )


def test_import_into_a_closed_pipe_exits_quietly_and_keeps_the_videos_queued(warehouse_path, tmp_path):
    path = tmp_path / "urls.txt"
    path.write_text(URLS)
    with open_warehouse(warehouse_path):  # exists already: the import has nothing to say on stderr
        pass
    read, write = os.pipe()
    os.close(read)  # `viewtrail import urls.txt | head -0`: the reader is gone before the first line
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys\nfrom viewtrail.cli import app\nsys.argv[0] = 'viewtrail'\napp()",
                "import",
                str(path),
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr.strip()) == (0, "")  # the finished import went on silently
    assert registered(warehouse_path) == IDS
    assert scraped(warehouse_path) | queued_video_ids() >= IDS


def test_a_rerun_queues_videos_an_interrupted_older_version_left_unscraped_and_unqueued(warehouse_path, tmp_path):
    left_behind = VideoRef(Platform.X, "1790000000000000001", "https://x.com/u/status/1790000000000000001")
    with open_warehouse(warehouse_path) as con:  # what an import killed between commit and queue left
        track_refs(con, [left_behind])
    path = tmp_path / "urls.txt"
    path.write_text(URLS)
    result = CliRunner().invoke(app, ["import", str(path), "--no-scrape"])
    assert result.exit_code == 0, result.output
    assert "1 video(s) an interrupted earlier command left without a first snapshot were queued" in result.stdout
    assert queued_video_ids() == IDS | {left_behind.video_id}
    again = CliRunner().invoke(app, ["import", str(path), "--no-scrape"])
    assert "interrupted" not in again.stdout  # queued already: not queued twice


def test_inline_first_snapshots_release_the_held_request(warehouse_path, tmp_path):
    path = tmp_path / "urls.txt"
    path.write_text("https://youtu.be/dQw4w9WgXcQ\n")
    result = CliRunner().invoke(app, ["import", str(path)])
    assert result.exit_code == 0 and snapshots(warehouse_path) == 1
    assert pending_requests(QueueKind.NEW) == []  # scraped here: nothing left for the pipeline


@pytest.mark.parametrize("minutes_later", [1, 16])
def test_sensor_launches_a_held_request_only_once_it_is_due(tmp_path, minutes_later):
    from dagster import DagsterInstance, build_sensor_context

    from orchestration.defs.sensors import SensorSettings, new_videos_sensor

    settings = SensorSettings(queue_dir=str(tmp_path / "queue"))
    start = datetime(2027, 3, 1, 12)
    with pinned(start):
        enqueue_new_videos(["youtube:dQw4w9WgXcQ"], root=tmp_path / "queue", hold=timedelta(minutes=15))
        enqueue_new_videos(["x:1790000000000000000"], root=tmp_path / "queue")
    with DagsterInstance.ephemeral() as instance:
        with pinned(start + timedelta(minutes=minutes_later)):
            result = new_videos_sensor(build_sensor_context(instance=instance, resources={"sensor_settings": settings}))
            launched = [r.run_config["ops"] for r in result.run_requests or []]
            cursor = result.cursor
        with pinned(start + timedelta(minutes=30)):
            later = new_videos_sensor(
                build_sensor_context(cursor=cursor, instance=instance, resources={"sensor_settings": settings})
            )
    ids = [i for ops in launched for op in ops.values() for i in op["config"]["video_ids"]]
    later_ids = [
        i for r in later.run_requests or [] for op in r.run_config["ops"].values() for i in op["config"]["video_ids"]
    ]
    if minutes_later == 1:
        assert ids == ["x:1790000000000000000"] and later_ids == ["youtube:dQw4w9WgXcQ"]
    else:
        assert sorted(ids) == ["x:1790000000000000000", "youtube:dQw4w9WgXcQ"] and later_ids == []
