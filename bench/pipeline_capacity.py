"""How many videos per hour the scheduled pipeline sustains per platform, all four platforms at once.

Runs the real hourly job (`scrape_snapshots`: per platform a scrape step with no pool slot, then a pooled
load step; multiprocess executor) once, with the real clients at their default limits (requests per minute
and concurrency, see viewtrail/platforms/base.py DEFAULT_LIMITS) against the fake platform server on
127.0.0.1 (simulated data, configurable latency), on a temp warehouse with N due videos per platform.
Reports per platform the scrape step's duration, the sustained rate it implies and the load step's duration,
and whether the four scrapes overlapped (hourly capacity = the slowest platform, not the sum).

    .venv/bin/python bench/pipeline_capacity.py                 # writes docs/benchmarks.md (capacity section)
    .venv/bin/python bench/pipeline_capacity.py --videos 40 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks_md import BENCHMARKS_MD, write_section  # bench/ is on sys.path when a bench runs

REPO = Path(__file__).resolve().parents[1]
SECTION = "capacity-bench"  # its markers in docs/benchmarks.md


def register_videos(warehouse: Path, per_platform: int, added_at: datetime) -> None:
    from viewtrail.domain.models import Platform, VideoRef
    from viewtrail.domain.urls import canonical_url
    from viewtrail.warehouse import open_warehouse, track_refs

    refs = []
    for platform in Platform:
        for i in range(per_platform):
            external = {
                Platform.TIKTOK: f"72{i:017d}",
                Platform.X: f"18{i:017d}",
                Platform.YOUTUBE: f"cap{i:08d}",
                Platform.INSTAGRAM: f"C{i:010d}",
            }[platform]
            account = "bench" if platform in (Platform.TIKTOK, Platform.X) else None
            refs.append(VideoRef(platform, external, canonical_url(platform, external, account), account))
    with open_warehouse(warehouse) as con:
        track_refs(con, refs, now=added_at)


def step_intervals(home: Path, run_id: str) -> dict[str, tuple[float, float]]:
    os.environ["DAGSTER_HOME"] = str(home)
    from dagster import DagsterEventType, DagsterInstance

    intervals: dict[str, list[float]] = {}
    with DagsterInstance.get() as instance:
        for entry in instance.all_logs(run_id, of_type={DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}):
            intervals.setdefault(entry.step_key, []).append(entry.timestamp)
    return {key: (min(ts), max(ts)) for key, ts in intervals.items()}


def run(per_platform: int, latency_ms: float) -> dict:
    from viewtrail.clock import last_complete_hour, partition_key
    from viewtrail.domain.models import Platform
    from viewtrail.testing.fake_platform import FakePlatformServer

    tmp = Path(tempfile.mkdtemp(prefix="viewtrail-capacity-"))
    try:
        home = tmp / "dagster_home"
        home.mkdir()
        shutil.copy(REPO / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
        data = tmp / "data"
        hour = last_complete_hour()
        register_videos(data / "warehouse.duckdb", per_platform, added_at=hour - timedelta(days=1))
        with FakePlatformServer(latency_ms=latency_ms) as server:
            env = {
                **os.environ,
                "DAGSTER_HOME": str(home),
                "VIEWTRAIL_DATA_DIR": str(data),
                "VIEWTRAIL_WAREHOUSE": str(data / "warehouse.duckdb"),
                "YOUTUBE_API_KEY": "bench-key",
            }
            for platform in Platform:
                env[f"VIEWTRAIL_{platform.value.upper()}_MODE"] = "real"
                env[f"VIEWTRAIL_{platform.value.upper()}_BASE_URL"] = server.base_url(platform)
            started = time.monotonic()
            process = subprocess.run(
                [
                    str(Path(sys.executable).with_name("dagster")),
                    "job",
                    "execute",
                    "-m",
                    "orchestration.definitions",
                    "-j",
                    "scrape_snapshots",
                    "--tags",
                    json.dumps({"dagster/partition": partition_key(hour)}),
                ],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
            )
            wall_s = time.monotonic() - started
        if process.returncode != 0:
            raise SystemExit(f"the job failed:\n{process.stderr[-4000:]}")
        os.environ["DAGSTER_HOME"] = str(home)
        from dagster import DagsterInstance

        with DagsterInstance.get() as instance:
            (run_record,) = instance.get_runs(limit=1)
        steps = step_intervals(home, run_record.run_id)
        return {"per_platform": per_platform, "latency_ms": latency_ms, "wall_s": wall_s, "steps": steps}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def render(result: dict, load_before: float) -> str:
    from viewtrail.domain.models import Platform
    from viewtrail.platforms.base import DEFAULT_LIMITS

    steps, n = result["steps"], result["per_platform"]
    lines = [
        "## Pipeline capacity (`bench/pipeline_capacity.py`)",
        "",
        f"One run of the hourly job `scrape_snapshots` with the real clients at their default limits against the "
        f"fake platform server ({result['latency_ms']:.0f} ms latency per request), {n} due videos per platform, "
        f"on this 2-core VM (1-minute load average {load_before:.1f} before the run). Scrape steps hold no pool "
        f"slot; load steps take turns on the `duckdb` pool.",
        "",
        "| platform | default limit | scrape step (s) | sustained videos/hour | load step (s) |",
        "|---|---|---:|---:|---:|",
    ]
    scrape_windows = []
    for platform in Platform:
        scrape = steps.get(f"scrapes__{platform.value}")
        load = steps.get(f"raw__{platform.value}_snapshots")
        concurrency, rate = DEFAULT_LIMITS[platform]
        if scrape is None or load is None:
            lines.append(f"| {platform.value} | {rate:g}/min, {concurrency} at once | - | - | - |")
            continue
        scrape_windows.append(scrape)
        seconds = scrape[1] - scrape[0]
        lines.append(
            f"| {platform.value} | {rate:g} requests/min, {concurrency} at once | {seconds:.1f} | "
            f"{n / seconds * 3600:,.0f} | {load[1] - load[0]:.1f} |"
        )
    overlap = max(0.0, min(end for _, end in scrape_windows) - max(start for start, _ in scrape_windows))
    serial = sum(end - start for start, end in scrape_windows)
    lines += [
        "",
        f"Whole run {result['wall_s']:.0f} s (step processes included); the four scrapes ran side by side "
        f"({overlap:.1f} s when all four were running at once; run one after another they would take "
        f"{serial:.0f} s). Sustained rates above include each step's process start-up, so they are a lower "
        "bound; the request-rate limits set the ceiling (YouTube carries 50 videos per request).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=90, help="due videos per platform (default 90)")
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    os.environ.setdefault("VIEWTRAIL_OFFLINE", "1")  # the clients may reach 127.0.0.1 only
    load_before = os.getloadavg()[0]
    text = render(run(args.videos, args.latency_ms), load_before)
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
        print(f"wrote {BENCHMARKS_MD.relative_to(REPO)}")


if __name__ == "__main__":
    main()
