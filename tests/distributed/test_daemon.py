"""docs/deploy.md's "Trying it on one machine", run as written: the daemon, the webserver, two scrape workers and
one warehouse worker started with the exact commands of that section (read from the page), then an hourly
partition launched the way the page launches it (``dagster job launch``, through the queued run coordinator).
What an operator relies on: the daemon dequeues and launches the run, its steps run on the Celery workers of their
queues, its rows are those an in-process run lands for that hour, and the automation sensor's build follows.

Every process runs in its own process group and is SIGKILLed as a whole at the end; every wait is bounded and
says what it waits for."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.distributed import cluster as topology
from tests.distributed.conftest import free_port

DOC = topology.REPO / "docs" / "deploy.md"
VIDEOS = 24
PLATFORMS = "tiktok,youtube,instagram,x"


def doc_commands(section: str = "## Trying it on one machine") -> list[str]:
    """The shell lines of the first ``bash`` block under ``section`` of docs/deploy.md, continuations joined."""
    text = DOC.read_text().split(section, 1)[1]
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def process_commands() -> dict[str, list[str]]:
    """The page's long-running processes (name -> argv), without their ``> $TRY/NAME.log 2>&1 &`` tails."""
    found = {}
    for line in doc_commands():
        match = re.fullmatch(
            r"(dagster-daemon .+|dagster-webserver .+|dagster-celery .+?)\s+>>?\s*\$TRY/(\S+)\.log 2>&1 &", line
        )
        if match:
            found[match.group(2)] = shlex.split(match.group(1))
    return found


def launch_command() -> str:
    """The page's `dagster job launch` line, with $PARTITION still in it."""
    (line,) = [line for line in doc_commands() if line.startswith("dagster job launch")]
    return line


@pytest.fixture
def services() -> Iterator[list[subprocess.Popen]]:
    """The daemon and the webserver started by the test, each SIGKILLed with its whole process group after (the
    daemon's code server and the run workers it started are in its group)."""
    started: list[subprocess.Popen] = []
    try:
        yield started
    finally:
        stop(started)


def stop(processes: list[subprocess.Popen]) -> None:
    while processes:
        proc = processes.pop()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=60)


def _start(cluster: topology.Cluster, name: str, argv: list[str]) -> subprocess.Popen:
    log = open(cluster.root / f"{name}.log", "ab")
    return subprocess.Popen(
        argv, env=cluster.env, cwd=topology.REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _alive(cluster: topology.Cluster, proc: subprocess.Popen, name: str) -> None:
    if proc.poll() is not None:
        log = (cluster.root / f"{name}.log").read_text(errors="replace")[-3000:]
        raise AssertionError(f"{name} exited with {proc.returncode}:\n{log}")


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def _answers(port: int) -> bool:
    try:
        return bool(_graphql(port, "{ version }").get("data"))
    except OSError:
        return False


def test_the_documented_commands_bring_up_the_topology_and_a_run_launched_through_the_queue_lands_its_rows(
    cluster: topology.Cluster, services: list[subprocess.Popen], tmp_path: Path
):
    from dagster import DagsterRunStatus, RunsFilter

    hour, _ = topology.window(1)
    topology.register(cluster.warehouse, VIDEOS, hour)
    commands = process_commands()
    assert set(commands) == {"daemon", "web", "scrape1", "scrape2", "warehouse"}, commands
    port = free_port()
    web = commands["web"]
    web[web.index("-p") + 1] = str(port)  # the page's 3000 may be taken by another `make ui` on this machine
    for name in ("scrape1", "scrape2", "warehouse"):
        cluster.workers[name] = _start(cluster, f"worker-{name}", commands[name])  # where Cluster reads its log
    services.append(webserver := _start(cluster, "web", web))
    cluster.ready("scrape1", "scrape2", "warehouse")
    services.append(daemon := _start(cluster, "daemon", commands["daemon"]))
    topology.until(lambda: _alive(cluster, webserver, "web") or _answers(port), "the webserver to answer GraphQL")

    launched = time.monotonic()
    launch = launch_command().replace("$PARTITION", topology.partition(hour))
    subprocess.run(
        shlex.split(launch), env=cluster.env, cwd=topology.REPO, check=True, capture_output=True, timeout=300
    )
    with cluster.instance() as instance:
        (run,) = instance.get_runs(RunsFilter(job_name="scrape_snapshots"))

        def finished():
            _alive(cluster, daemon, "daemon")
            current = instance.get_run_by_id(run.run_id)
            return current if current.is_finished else None

        done = topology.until(
            finished, f"run {run.run_id} to be dequeued by the daemon and finish", topology.RUN_TIMEOUT_S
        )
        elapsed = time.monotonic() - launched
        events = topology.step_events(instance, run.run_id)
        assert done.status == DagsterRunStatus.SUCCESS, topology.dump(events)
        lifecycle = [
            e.dagster_event.event_type_value
            for e in instance.all_logs(run.run_id)
            if e.dagster_event and e.dagster_event.event_type_value.startswith("PIPELINE_")
        ]
        # it went through the queue, and the daemon's run coordinator took it off the queue and launched it
        assert lifecycle[:3] == ["PIPELINE_ENQUEUED", "PIPELINE_STARTING", "PIPELINE_START"], lifecycle
        assert "QueuedRunCoordinatorDaemon - INFO - Launched 1 runs" in _plain(cluster.root / "daemon.log")
        succeeded = {key for kind, key in events if kind == "STEP_SUCCESS"}
        platforms = PLATFORMS.split(",")
        assert succeeded == (
            {f"plans__{p}" for p in platforms}
            | {f"scrapes__{p}" for p in platforms}
            | {f"raw__{p}_snapshots" for p in platforms}
        )
        scrape_steps = cluster.steps_done("scrape1") + cluster.steps_done("scrape2")
        # the plans and the loads; the automation sensor's build may already have sent its steps there too
        load_steps = cluster.steps_done("warehouse")
        assert len(scrape_steps) == len(platforms) and len(load_steps) >= 2 * len(platforms)

        # the automation sensor (in the daemon) builds the marts and publishes the analyst copy once the loads
        # landed, in a run of its own whose steps go to the warehouse worker, under the writer lock
        def built():
            _alive(cluster, daemon, "daemon")
            runs = instance.get_runs(RunsFilter(tags={"dagster/sensor_name": "build_after_new_snapshots"}))
            return runs if runs and all(r.is_finished for r in runs) else None

        builds = topology.until(built, "the automation sensor's build run to finish", topology.RUN_TIMEOUT_S)
        build_elapsed = time.monotonic() - launched
        assert {r.status for r in builds} == {DagsterRunStatus.SUCCESS}
    stop(services)  # nothing holds the warehouse any more: read it
    for name in list(cluster.workers):
        cluster.kill_worker(name)

    import duckdb

    with duckdb.connect(str(cluster.warehouse.with_name("analytics.duckdb")), read_only=True) as con:
        ((published,),) = con.sql("SELECT count(DISTINCT video_id) FROM marts.video_latest").fetchall()
    assert published == VIDEOS
    landed = _of_the_hour(topology.rows(cluster.warehouse), hour)
    assert landed["snapshots"]
    assert landed == _of_the_hour(topology.reference_rows(tmp_path, VIDEOS, hour, hour, PLATFORMS), hour)
    print(
        f"\nthrough the daemon's queue: {elapsed:.1f}s launch to end of the run of {len(succeeded)} steps; "
        f"scrapes {', '.join(f'{t:.1f}s' for t in scrape_steps)}; loads {', '.join(f'{t:.1f}s' for t in load_steps)} "
        f"(as the workers measured them); the build published {build_elapsed:.0f}s after the launch"
    )


def _of_the_hour(rows: dict[str, list[tuple]], hour) -> dict[str, list[tuple]]:
    """The rows observed or attempted in ``hour``: the daemon's schedules and sensors may run a later hour's scrape
    beside the launched partition (``hourly_scrape`` at minute 2, the retries of transient failures)."""
    start = hour.replace(tzinfo=None)
    end = start + timedelta(hours=1)
    return {
        "snapshots": [r for r in rows["snapshots"] if start <= r[1] < end],
        "attempts": [r for r in rows["attempts"] if start <= r[2] < end],
    }


def _plain(log: Path) -> str:
    """A log without its colour codes."""
    return re.sub(r"\x1b\[[0-9;]*m", "", log.read_text(errors="replace"))
