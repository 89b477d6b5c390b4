"""The production topology of docs/deploy.md on this machine, for the distributed tests: Dagster's instance in a
PostgreSQL database of the test's own, Redis as Celery's broker (a database number of the test's own), staging in a
bucket of moto's S3 server, the writer lock in PostgreSQL, and Celery workers started with the documented
command (``dagster-celery worker start ... -q scrape`` / ``-q warehouse -- --concurrency=1``), each in its own
process group so a test can SIGKILL a whole worker.

Every wait polls with a deadline and says what it was waiting for; nothing asserts on timing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LAUNCHER = Path(__file__).with_name("launch_runs.py")
#: Generous: a loaded 2-core machine starts a worker in ~20 s, a run's step in a few.
START_TIMEOUT_S = 180.0
RUN_TIMEOUT_S = 600.0


def until(condition: Callable[[], Any], what: str, timeout_s: float = START_TIMEOUT_S, every_s: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout_s:g}s waiting for {what}")
        time.sleep(every_s)


def free_redis_db() -> int:
    """A Redis database number nobody uses now (other suites may share the server)."""
    import redis

    for number in range(15, 0, -1):
        if redis.Redis(host="127.0.0.1", port=6379, db=number).dbsize() == 0:
            return number
    raise AssertionError("every Redis database 1-15 holds keys; flush the ones left by old test runs")


def partition(hour: datetime) -> str:
    return hour.strftime("%Y-%m-%d-%H:%M")


@dataclass
class Cluster:
    root: Path
    env: dict[str, str]
    broker: str
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def warehouse(self) -> Path:
        return Path(self.env["VIEWTRAIL_WAREHOUSE"])

    def start_worker(self, name: str, queue: str, *, concurrency: int = 1, env: dict[str, str] | None = None) -> None:
        """A worker as docs/deploy.md starts it (``dagster-celery worker start``), in a process group of its own."""
        log = open(self.root / f"worker-{name}.log", "ab")
        self.workers[name] = subprocess.Popen(
            [
                str(BIN / "dagster-celery"),
                "worker",
                "start",
                "-A",
                "dagster_celery.app",
                "-y",
                str(REPO / "deploy" / "celery.yaml"),
                "-q",
                queue,
                "-n",
                f"{name}@%h",
                "--",
                f"--concurrency={concurrency}",
            ],
            env=env or self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def ready(self, *names: str) -> None:
        """Wait until these workers answer a ping through the broker."""
        from celery import Celery

        app = Celery(broker=self.broker)

        def answering() -> bool:
            for name, proc in self.workers.items():
                if name in names and proc.poll() is not None:
                    log = (self.root / f"worker-{name}.log").read_text(errors="replace")[-3000:]
                    raise AssertionError(f"worker {name} exited with {proc.returncode}:\n{log}")
            replies = app.control.ping(timeout=1.0)
            seen = {key.split("@")[0] for reply in replies for key in reply}
            return set(names) <= seen

        try:
            until(answering, f"Celery workers {', '.join(names)} to answer a ping")
        finally:
            app.close()

    def steps_done(self, name: str) -> list[float]:
        """How long each step this worker finished took (Celery's "Task execute_plan[...] succeeded in Ns" lines)."""
        import re

        log = (self.root / f"worker-{name}.log").read_text(errors="replace")
        return [float(s) for s in re.findall(r"Task execute_plan\[[^]]+\] succeeded in ([0-9.]+)s", log)]

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker's whole process group (the CLI, Celery's main process and its pool)."""
        proc = self.workers.pop(name)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=60)

    def launch(self, start: datetime, end: datetime, platforms: str, *extra: str, env: dict[str, str] | None = None):
        """The hourly job for the partitions start..end of ``platforms``, run by a launcher process (as the daemon's
        run worker would), its steps on the Celery workers."""
        return subprocess.Popen(
            [sys.executable, str(LAUNCHER), "scrape_snapshots", partition(start), partition(end), platforms, *extra],
            env=env or self.env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=open(self.root / "launcher.log", "ab"),
            text=True,
            start_new_session=True,
        )

    def instance(self):
        """This cluster's Dagster instance, opened in the test process (the caller closes it)."""
        from dagster import DagsterInstance
        from dagster._core.instance.ref import InstanceRef

        saved = {k: os.environ.get(k) for k in ("DAGSTER_HOME", "DAGSTER_PG_URL")}
        os.environ.update({k: self.env[k] for k in saved})
        try:
            return DagsterInstance.from_ref(InstanceRef.from_dir(self.env["DAGSTER_HOME"]))
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def stop(self) -> None:
        for name in list(self.workers):
            self.kill_worker(name)
        if not self.broker.startswith("redis://"):
            return  # a RabbitMQ vhost is deleted by the fixture that made it
        import redis

        number = int(self.broker.rsplit("/", 1)[1])
        redis.Redis(host="127.0.0.1", port=6379, db=number).flushdb()


def make_cluster(
    root: Path,
    pg_url: Callable[..., str],
    database: str,
    bucket: str,
    s3_env: dict[str, str],
    broker: str | None = None,
    backend: str | None = None,
) -> Cluster:
    """Everything but the workers: the instance's storage created and the pool set, as docs/deploy.md does. The
    broker is a Redis database of the test's own unless given (a RabbitMQ vhost); the result backend defaults to
    the broker."""
    home = root / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    broker = broker or f"redis://127.0.0.1:6379/{free_redis_db()}"
    data = root / "data"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIEWTRAIL_", "DAGSTER_", "AWS_"))}
    env.update(s3_env)
    env.update(
        DAGSTER_HOME=str(home),
        DAGSTER_PG_URL=pg_url(database, "psycopg2"),
        VIEWTRAIL_DATA_DIR=str(data),
        VIEWTRAIL_WAREHOUSE=str(data / "warehouse.duckdb"),
        VIEWTRAIL_OFFLINE="1",
        VIEWTRAIL_LOCK_TIMEOUT_S="600",
        VIEWTRAIL_STAGING_URL=f"s3://{bucket}/staging",
        VIEWTRAIL_WRITER_LOCK_URL=pg_url(database),
        VIEWTRAIL_CELERY_BROKER=broker,
        VIEWTRAIL_CELERY_BACKEND=backend or broker,
        PYTHONPATH=str(REPO),
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # `dagster-celery worker start` execs `celery`
    )
    made = Cluster(root, env, broker)
    # the deploy steps (`dagster instance migrate`, `dagster instance concurrency set duckdb 1`) through the API
    # they call, seconds faster than two CLI starts: the storage is created, then the pool, before any run
    with made.instance() as instance:
        instance.upgrade()
        instance.event_log_storage.set_concurrency_slots("duckdb", 1)
    return made


REFERENCE = """
import sys, warnings
warnings.simplefilter("ignore")
from datetime import datetime
from orchestration.runs import backfill_snapshots, dagster_instance, pipeline_resources
with dagster_instance() as instance:
    backfill_snapshots(instance, pipeline_resources(simulated=True), datetime.fromisoformat(sys.argv[1]),
                       datetime.fromisoformat(sys.argv[2]), print, platforms=sys.argv[3].split(","))
"""


_references: dict[tuple, dict[str, list[tuple]]] = {}


def reference_rows(root: Path, videos: int, start: datetime, end: datetime, platforms: str) -> dict[str, list[tuple]]:
    """The rows an in-process run (one machine: local staging, no Celery, no lock server) lands for ``videos``
    sample videos registered a day before ``start`` and the partitions start..end (computed once per session)."""
    key = (videos, start, end)
    if key not in _references:
        every = ",".join(p.value for p in _platforms())
        _references[key] = _reference_rows(root, lambda w: register(w, videos, start), start, end, every)
    wanted = tuple(f"{p}:" for p in platforms.split(","))
    return {table: [row for row in rows if row[0].startswith(wanted)] for table, rows in _references[key].items()}


def _platforms():
    from viewtrail.domain.models import Platform

    return list(Platform)


def register(warehouse: Path, videos: int, first_hour: datetime) -> None:
    """``videos`` of the demo's sample videos, registered a day before ``first_hour``."""
    from viewtrail.app import demo
    from viewtrail.warehouse.connection import open_warehouse

    with open_warehouse(warehouse) as con:
        demo.register_sample_videos(con, demo.sample_videos(videos), added_at=first_hour - timedelta(days=1))


def _reference_rows(root: Path, register: Callable[[Path], None], start: datetime, end: datetime, platforms: str):
    data = root / "reference"
    data.mkdir()
    home = data / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    register(data / "warehouse.duckdb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIEWTRAIL_", "DAGSTER_", "AWS_"))}
    env.update(
        DAGSTER_HOME=str(home),
        VIEWTRAIL_DATA_DIR=str(data),
        VIEWTRAIL_WAREHOUSE=str(data / "warehouse.duckdb"),
        VIEWTRAIL_OFFLINE="1",
        PYTHONPATH=str(REPO),
    )
    subprocess.run(
        [sys.executable, "-c", REFERENCE, start.isoformat(), end.isoformat(), platforms],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=RUN_TIMEOUT_S,
    )
    return rows(data / "warehouse.duckdb")


def rows(warehouse: Path) -> dict[str, list[tuple]]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            "snapshots": con.sql("SELECT * EXCLUDE (ingested_at, run_id) FROM raw.snapshots ORDER BY ALL").fetchall(),
            "attempts": con.sql(
                "SELECT * EXCLUDE (ingested_at, run_id) FROM raw.scrape_attempts ORDER BY ALL"
            ).fetchall(),
        }


def window(hours: int) -> tuple[datetime, datetime]:
    """``hours`` complete hours ending three hours ago (whatever today's date)."""
    from viewtrail.clock import last_complete_hour

    last = last_complete_hour() - timedelta(hours=3)
    return last - timedelta(hours=hours - 1), last


def run_lines(proc: subprocess.Popen, timeout_s: float = RUN_TIMEOUT_S) -> list[tuple[str, str]]:
    out, _ = proc.communicate(timeout=timeout_s)
    return [tuple(line.split()) for line in out.splitlines() if line.strip()]  # type: ignore[misc]


def step_events(instance: Any, run_id: str) -> list[tuple[str, str]]:
    """(event type, step key) of a run's step events."""
    return [
        (e.dagster_event.event_type_value, e.dagster_event.step_key)
        for e in instance.all_logs(run_id)
        if e.dagster_event is not None and e.dagster_event.step_key
    ]


def dump(value: Any) -> str:
    return json.dumps(value, default=str)[:2000]


STALL_DIR = Path(__file__).with_name("stall")


def stalled_env(env: dict[str, str], where: str) -> dict[str, str]:
    """A worker environment whose step stops for good at ``where`` (see stall/sitecustomize.py)."""
    return dict(env, VT_TEST_STALL=where, PYTHONPATH=f"{STALL_DIR}{os.pathsep}{env['PYTHONPATH']}")


def abandon_run(cluster: Cluster, launcher: subprocess.Popen) -> str:
    """Kill the launcher whose run lost its worker, and do what the daemon's run monitoring does for a run whose
    process died: mark it failed and free its pool slots. Returns the run id."""
    from dagster import DagsterRunStatus, RunsFilter

    try:
        os.killpg(launcher.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    launcher.wait(timeout=60)
    with cluster.instance() as instance:
        (run,) = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.STARTED]))
        instance.report_run_failed(run)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        return run.run_id


def worker_log(cluster: Cluster, name: str) -> str:
    return (cluster.root / f"worker-{name}.log").read_text(errors="replace")
