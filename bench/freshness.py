"""Seconds from `viewtrail track` to the first snapshot and to the analyst copy, with the UI's daemon running.

Starts what `make ui` starts (`dagster dev -w workspace.yaml`: webserver, daemon, code server; or, with
`--processes separate`, `dagster-webserver` and `dagster-daemon run` side by side) on a temp DAGSTER_HOME (a copy
of .dagster_home/dagster.yaml) and a temp data dir, simulated platform, offline (127.0.0.1 only). Optionally seeds
the warehouse with `viewtrail demo` first (200 videos, 14 days of history) so dbt has real work to do. Once the code
location is loaded and the daemon's sensors tick, it runs

  (a) `viewtrail track URL`             -> first snapshot taken inline by the command;
  (b) `viewtrail track --no-scrape URL2` -> queue file -> new-videos sensor -> run `scrape_videos_now`,

and polls the live warehouse (raw.snapshots, read-only; a read-only open fails while a writer holds the file, so
it retries) and the analyst copy (marts.video_latest in data/analytics.duckdb). The stages are read from the
Dagster instance's run and event records (run created by a sensor tick, dequeued, worker starting, RUN_START, step
start/end, run end).

    .venv/bin/python bench/freshness.py                 # writes docs/benchmarks.md (freshness section)
    .venv/bin/python bench/freshness.py --no-demo --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from benchmarks_md import BENCHMARKS_MD, write_section  # bench/ is on sys.path when a bench runs

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / ".venv" / "bin"
SECTION = "freshness-bench"  # its markers in docs/benchmarks.md
POLL_S = 0.25
GOAL_FIRST_S, GOAL_COPY_S = 10.0, 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


LOCATIONS = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus locationOrLoadError { __typename } } } } }"


def wait_for_location(port: int, deadline: float) -> None:
    while time.time() < deadline:
        try:
            entries = graphql(port, LOCATIONS)["data"]["workspaceOrError"]["locationEntries"]
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                errors = [e for e in entries if e["locationOrLoadError"]["__typename"] != "RepositoryLocation"]
                if errors:
                    raise SystemExit(f"code location failed to load: {errors}")
                return
        except (OSError, KeyError, TypeError, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit("code location not loaded in time")


def wait_for_sensor_tick(instance, name: str, after: float, deadline: float) -> None:
    """The daemon is live once the sensor ticked after ``after``."""
    from dagster._core.scheduler.instigation import InstigatorType

    while time.time() < deadline:
        for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
            if state.name == name:
                ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
                if ticks and ticks[0].timestamp > after:
                    return
        time.sleep(0.5)
    raise SystemExit(f"sensor {name} never ticked")


def poll(fn, deadline: float):
    """Call fn() every POLL_S until it returns a truthy value (its time) or the deadline passes (None)."""
    import duckdb

    while time.time() < deadline:
        try:
            found = fn()
        except duckdb.Error:  # the writer holds the file (read-only open refused) or the copy is being renamed
            found = None
        if found:
            return time.time()
        time.sleep(POLL_S)
    return None


def in_snapshots(warehouse: Path, video_id: str):
    import duckdb

    def check():
        if not warehouse.exists():
            return False
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute("SELECT count(*) FROM raw.snapshots WHERE video_id = ?", [video_id]).fetchall()[0][0] > 0

    return check


def in_copy(analytics: Path, video_id: str):
    import duckdb

    def check():
        if not analytics.exists():
            return False
        with duckdb.connect(str(analytics), read_only=True) as con:
            rows = con.execute("SELECT count(*) FROM marts.video_latest WHERE video_id = ?", [video_id]).fetchall()
            return rows[0][0] > 0

    return check


def run_timeline(instance, run_id: str) -> dict:
    """Timestamps of one run: created (by a sensor tick), starting (dequeued, worker process launched), start
    (the worker loaded the code location and began), end; and each step's (start, end). The queued run
    coordinator records no dequeue event of its own: the queue wait is created -> starting."""
    record = instance.get_run_record_by_id(run_id)
    out = {
        "run_id": run_id,
        "job": record.dagster_run.job_name,
        "tags": dict(record.dagster_run.tags),
        "created": record.create_timestamp.timestamp(),
        "steps": {},
    }
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type_value
        if kind == "PIPELINE_STARTING":
            out["starting"] = entry.timestamp
        elif kind == "PIPELINE_START":
            out["start"] = entry.timestamp
        elif kind in ("PIPELINE_SUCCESS", "PIPELINE_FAILURE", "PIPELINE_CANCELED"):
            out["end"], out["status"] = entry.timestamp, kind
        elif kind == "STEP_START":
            out["steps"].setdefault(entry.step_key, [entry.timestamp, None])[0] = entry.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            out["steps"].setdefault(entry.step_key, [None, None])[1] = entry.timestamp
    return out


def runs_since(instance, since: float) -> list[dict]:
    from dagster import RunsFilter

    records = instance.get_run_records(filters=RunsFilter())
    return sorted(
        (run_timeline(instance, r.dagster_run.run_id) for r in records if r.create_timestamp.timestamp() >= since),
        key=lambda r: r["created"],
    )


def is_build(run: dict) -> bool:
    return any("analytics_copy" in key or "dbt" in key for key in run["steps"])


def track(env: dict, url: str, *, no_scrape: bool) -> tuple[float, float, str]:
    args = [str(BIN / "viewtrail"), "track", url] + (["--no-scrape"] if no_scrape else [])
    t0 = time.time()
    done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"viewtrail track failed: {done.stdout}{done.stderr}")
    return t0, time.time(), done.stdout.strip()


def start_dagster(mode: str, env: dict, port: int, logs: Path) -> list[subprocess.Popen]:
    log = (logs / "dagster.log").open("w")
    common = {"cwd": REPO, "env": env, "stdout": log, "stderr": subprocess.STDOUT, "start_new_session": True}
    if mode == "dev":
        return [
            subprocess.Popen(
                [str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)], **common
            )
        ]
    return [
        subprocess.Popen(
            [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)], **common
        ),
        subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], **common),
    ]


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:  # each was started in its own session: its group is its pid
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run(mode: str, demo: bool, timeout_s: float, inline_copy_wait_s: float) -> dict:
    result: dict = {"mode": mode, "demo": demo, "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="viewtrail-freshness-") as tmp:
        root = Path(tmp)
        home, data = root / "dagster_home", root / "data"
        home.mkdir()
        data.mkdir()
        shutil.copy(REPO / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIEWTRAIL_", "DAGSTER_"))}
        env |= {
            "DAGSTER_HOME": str(home),
            "VIEWTRAIL_DATA_DIR": str(data),
            "VIEWTRAIL_OFFLINE": "1",
            "VIEWTRAIL_WAREHOUSE": str(data / "warehouse.duckdb"),
        }
        warehouse, analytics = data / "warehouse.duckdb", data / "analytics.duckdb"
        os.environ["DAGSTER_HOME"] = str(home)
        if demo:
            t = time.time()
            done = subprocess.run([str(BIN / "viewtrail"), "demo"], cwd=REPO, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"viewtrail demo failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
            result["demo_s"] = time.time() - t
        from dagster import DagsterInstance

        instance = DagsterInstance.get()
        port = free_port()
        t_start = time.time()
        processes = start_dagster(mode, env, port, root)
        try:
            wait_for_location(port, t_start + 300)
            result["location_loaded_s"] = time.time() - t_start
            wait_for_sensor_tick(instance, "new_videos_sensor", t_start, t_start + 300)
            result["daemon_live_s"] = time.time() - t_start
            time.sleep(2)  # let the start-up ticks settle
            runs_before = time.time()

            # (a) inline first snapshot
            vid_a = "bA" + uuid.uuid4().hex[:9]
            t0, t_cmd, output = track(env, f"https://www.youtube.com/watch?v={vid_a}", no_scrape=False)
            seen = poll(in_snapshots(warehouse, f"youtube:{vid_a}"), t0 + timeout_s)
            copy_a = poll(in_copy(analytics, f"youtube:{vid_a}"), time.time() + inline_copy_wait_s)
            result["a"] = {
                "video": f"youtube:{vid_a}",
                "command_s": t_cmd - t0,
                "output": output,
                "first_s": seen - t0 if seen else None,
                "copy_s": copy_a - t0 if copy_a else None,
                "copy_wait_s": inline_copy_wait_s,
            }

            # (b) through the daemon
            vid_b = "bB" + uuid.uuid4().hex[:9]
            t0b, t_cmd_b, output_b = track(env, f"https://www.youtube.com/watch?v={vid_b}", no_scrape=True)
            seen_b = poll(in_snapshots(warehouse, f"youtube:{vid_b}"), t0b + timeout_s)
            copy_b = poll(in_copy(analytics, f"youtube:{vid_b}"), t0b + timeout_s)
            result["b"] = {
                "video": f"youtube:{vid_b}",
                "t0": t0b,
                "command_end": t_cmd_b,
                "output": output_b,
                "seen": seen_b,
                "copy_seen": copy_b,
                "first_s": seen_b - t0b if seen_b else None,
                "copy_s": copy_b - t0b if copy_b else None,
            }
            if copy_a is None:  # did (b)'s build carry (a)'s video along?
                result["a"]["in_copy_after_b"] = bool(in_copy(analytics, f"youtube:{vid_a}")())
            time.sleep(1)
            result["runs"] = runs_since(instance, runs_before)
        finally:
            stop(processes)
            result["load_after"] = os.getloadavg()[0]
    return result


def stages_b(result: dict) -> list[tuple[str, float | None]]:
    """(stage, seconds) from `viewtrail track --no-scrape` to the analyst copy, from the run records."""
    b = result["b"]
    runs = [r for r in result["runs"] if r["created"] >= b["command_end"] - 0.5]
    scrape = next((r for r in runs if r["job"] == "scrape_videos_now"), None)
    build = next((r for r in runs if is_build(r) and scrape and r["created"] >= scrape.get("end", 0)), None)

    def span(a, z):
        return z - a if a is not None and z is not None else None

    out = [("`viewtrail track --no-scrape` (register + queue file)", span(b["t0"], b["command_end"]))]
    if scrape:
        out += [
            ("new-videos sensor tick (queue file -> run created)", span(b["command_end"], scrape["created"])),
            ("run queue + launch (created -> worker starting)", span(scrape["created"], scrape.get("starting"))),
            ("run-worker start-up: process + code location load", span(scrape.get("starting"), scrape.get("start"))),
            ("scrape + write (run start -> snapshot visible)", span(scrape.get("start"), b["seen"])),
        ]
    if scrape and build:
        steps = build["steps"]
        dbt = [v for k, v in steps.items() if "dbt" in k]
        pub = steps.get("analytics_copy")
        out += [
            ("rest of the scrape run (visible -> run end)", span(b["seen"], scrape.get("end"))),
            ("automation sensor tick (scrape run end -> build run created)", span(scrape.get("end"), build["created"])),
            ("build: run queue + launch (created -> worker starting)", span(build["created"], build.get("starting"))),
            ("build: run-worker start-up + code location load", span(build.get("starting"), build.get("start"))),
            ("build: until the dbt step starts", span(build.get("start"), dbt[0][0] if dbt else None)),
            ("dbt build step", span(dbt[0][0], dbt[0][1]) if dbt else None),
            ("publish step (analytics_copy)", span(pub[0], pub[1]) if pub else None),
            ("rest of the build (other steps, run end) / poll", span(pub[1] if pub else None, b["copy_seen"])),
        ]
    return out


def fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def render(result: dict) -> str:
    a, b = result["a"], result["b"]
    head = (
        "`dagster dev -w workspace.yaml` (as `make ui`)"
        if result["mode"] == "dev"
        else "`dagster-webserver` + `dagster-daemon run`"
    )
    seed = (
        f"a warehouse seeded with `viewtrail demo` (200 videos, 14 days; {result['demo_s']:.0f} s)"
        if result["demo"]
        else "an empty warehouse"
    )

    def verdict(value, goal):
        return "-" if value is None else ("met" if value <= goal else "**missed**")

    lines = [
        "## Freshness after `viewtrail track` (`bench/freshness.py`)",
        "",
        f"{head} on a temp instance (copy of `.dagster_home/dagster.yaml`), simulated platform, {seed}; this 2-core "
        f"VM, 1-minute load average {result['load_before']:.1f} before, {result['load_after']:.1f} after (other "
        f"work was running). Code location loaded {result['location_loaded_s']:.0f} s after start, daemon ticking "
        f"after {result['daemon_live_s']:.0f} s. Times from the start of the `viewtrail track` command.",
        "",
        "| path | first snapshot in the warehouse (s) | goal 10 s | in the analyst copy (s) | goal 60 s |",
        "|---|---:|---|---:|---|",
        f"| (a) `viewtrail track URL` (inline first snapshot; command took {a['command_s']:.1f} s) | {fmt(a['first_s'])} "
        f"| {verdict(a['first_s'], GOAL_FIRST_S)} | {fmt(a['copy_s']) if a['copy_s'] else 'not within ' + format(a['copy_wait_s'], '.0f') + ' s'} | "
        f"{verdict(a['copy_s'], GOAL_COPY_S) if a['copy_s'] else '**missed**'} |",
        f"| (b) `viewtrail track --no-scrape URL` (queue file -> sensor -> run) | {fmt(b['first_s'])} | "
        f"{verdict(b['first_s'], GOAL_FIRST_S)} | {fmt(b['copy_s'])} | {verdict(b['copy_s'], GOAL_COPY_S)} |",
        "",
        "Path (b), stage by stage (Dagster run and event records; share of the time to the analyst copy):",
        "",
        "| stage | seconds | share |",
        "|---|---:|---:|",
    ]
    stages = stages_b(result)
    total = b["copy_s"] or sum(s for _, s in stages if s)
    for name, seconds in stages:
        share = f"{100 * seconds / total:.0f} %" if seconds is not None and total else "-"
        lines.append(f"| {name} | {fmt(seconds)} | {share} |")
    if a["copy_s"] is None:
        lines += [
            "",
            f"(a)'s video {'was' if a.get('in_copy_after_b') else 'was not'} in the analyst copy after (b)'s build.",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--processes",
        choices=["dev", "separate"],
        default="dev",
        help="dev: `dagster dev` as `make ui` (default); separate: dagster-webserver + dagster-daemon",
    )
    parser.add_argument(
        "--no-demo", action="store_true", help="start from an empty warehouse (no `viewtrail demo` seed)"
    )
    parser.add_argument("--timeout", type=float, default=240.0, help="give up waiting after this many seconds")
    parser.add_argument(
        "--inline-copy-wait",
        type=float,
        default=60.0,
        help="how long to wait for (a)'s video in the analyst copy before moving on to (b)",
    )
    parser.add_argument("--json", type=Path, help="also dump the raw result (runs, steps) here")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    result = run(args.processes, not args.no_demo, args.timeout, args.inline_copy_wait)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    text = render(result)
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
        print(f"wrote {BENCHMARKS_MD.relative_to(REPO)}")


if __name__ == "__main__":
    main()
