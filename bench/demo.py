"""How long `viewtrail demo` (the default: 200 videos, 14 days) takes as a whole command, beside floors measured in
the same run.

Runs the installed `viewtrail demo` as `make demo` does, in a temporary data dir with a temporary Dagster instance
(a copy of the committed `.dagster_home/dagster.yaml`), and reports, per run, its wall time and its CPU time (user +
sys of the process and its children, from the kernel's accounting of the waited-for process tree), split into the
demo's phases by the time its progress lines arrive. The first run starts cold (new instance, dbt parses the
project into a new target dir); the next ones are what `make demo` again costs.

The floors, measured in the same run so that a busy machine does not hide a regression:

  loop:    a fixed CPU loop that takes ~1.1 s on an idle core of this VM (how busy the machine is);
  imports: `python -c "import dagster, dagster_dbt, dbt.cli.main"` (what any Dagster + dbt process pays first);
  dbt:     the bare `dbt build --full-refresh` of the same project on a copy of the demo's warehouse (what
           building the same marts costs without Dagster).

Writes its section of docs/benchmarks.md.

    .venv/bin/python bench/demo.py                # two runs, writes docs/benchmarks.md (demo section)
    .venv/bin/python bench/demo.py --runs 1 --no-write
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks_md import BENCHMARKS_MD, write_section  # bench/ is on sys.path when a bench runs

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the environment running this bench holds its `viewtrail` and `dbt` scripts
SECTION = "demo-bench"  # its markers in docs/benchmarks.md
LOOP = 12_000_000  # iterations of the floor loop: ~1.1 s on an idle core of this VM

#: The demo's phases, each ending when a progress line starting with its marker arrives (in this order).
PHASES = (
    ("start-up + fresh warehouse + sample videos", "3/4 "),
    ("discovery run (4 platforms x 336 h)", "  one run, "),
    ("scrape run (4 platforms x 336 h)", "  one run, "),
    ("build run (dbt, alerts, publish)", "\n"),  # the report's first (empty) line follows the last step
    ("report", None),
)


def measured(command: list[str], env: dict[str, str], *, lines: list[tuple[float, str]] | None = None) -> dict:
    """Run ``command``; its wall time, CPU time (user + sys of its whole waited-for tree) and peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    assert process.stdout is not None
    for line in process.stdout:
        if lines is not None:
            lines.append((time.perf_counter() - started, line))
    code = process.wait()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        tail = "".join(text for _, text in (lines or [])[-30:])
        raise SystemExit(f"{' '.join(command)} exited with {code}:\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "rss_mb": after.ru_maxrss / 1024}


def phases(lines: list[tuple[float, str]], wall: float) -> list[tuple[str, float]]:
    """Seconds of each of the demo's phases, from when its progress lines arrived."""
    out, since, index = [], 0.0, 0
    for name, marker in PHASES:
        end = wall
        while marker is not None and index < len(lines):
            at, text = lines[index]
            index += 1
            if text == marker if marker == "\n" else text.startswith(marker):
                end = at
                break
        out.append((name, end - since))
        since = end
    return out


def cpu_loop() -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    total = 0
    for i in range(LOOP):
        total += i & 7
    return {"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu}


def run(runs: int) -> dict:
    out: dict = {"load_before": os.getloadavg()[0], "demos": []}
    with tempfile.TemporaryDirectory(prefix="viewtrail-demo-bench-") as tmp:
        root = Path(tmp)
        home = root / "dagster_home"
        home.mkdir()
        shutil.copy(REPO / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
        data = root / "data"
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "VIEWTRAIL_DATA_DIR": str(data),
            "VIEWTRAIL_WAREHOUSE": str(data / "warehouse.duckdb"),
        }
        env.pop("VIEWTRAIL_NOW", None)
        out["loop"] = cpu_loop()
        out["imports"] = measured([sys.executable, "-c", "import dagster, dagster_dbt, dbt.cli.main"], env)
        for number in range(runs):
            lines: list[tuple[float, str]] = []
            result = measured([str(BIN / "viewtrail"), "demo"], env, lines=lines)
            result["phases"] = phases(lines, result["wall"])
            result["said"] = [text for _, text in lines if "done in" in text][:1]
            out["demos"].append(result)
            print(f"demo run {number + 1}: {result['wall']:.1f} s wall, {result['cpu']:.1f} s CPU", flush=True)
        copy = root / "floor.duckdb"
        shutil.copy(data / "demo" / "warehouse.duckdb", copy)
        target = root / "floor-target"
        dbt = [
            str(BIN / "dbt"),
            "build",
            "--full-refresh",
            "--exclude-resource-type",
            "unit_test",
            "--project-dir",
            "dbt_project",
            "--profiles-dir",
            "dbt_project",
            "--target-path",
            str(target),
            "--log-path",
            str(target),
            "--vars",
            f"{{viewtrail_warehouse: {copy}, viewtrail_dbt_tests: touched}}",
        ]
        measured(dbt, env)  # parses the project into the new target dir, as the demo's first build did
        out["dbt"] = measured(dbt, env)
    out["load_after"] = os.getloadavg()[0]
    return out


def render(result: dict) -> str:
    loop, imports, dbt = result["loop"], result["imports"], result["dbt"]
    rows = [
        "## The demo as a whole command (`bench/demo.py`)",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}: `viewtrail demo` (200 videos, 14 days) in a temporary data dir and Dagster "
        "instance, run 1 cold (new instance, dbt parses the project), the next ones warm, as `make demo` again. "
        "CPU = user + sys of the whole process tree. The VM is shared with other engineers' work: the 1-minute "
        f"load average was {result['load_before']:.1f} before and {result['load_after']:.1f} after (the floor loop, "
        f"~1.1 s on an idle core, took {loop['wall']:.1f} s), so read the CPU times and their ratio to the floor: "
        "the wall times wait for the other work's CPU.",
        "",
        "| | wall | CPU | CPU / floor | peak RSS |",
        "|---|---:|---:|---:|---:|",
    ]
    floor_cpu = imports["cpu"] + dbt["cpu"]
    for number, demo in enumerate(result["demos"], 1):
        rows.append(
            f"| demo, run {number} | {demo['wall']:.1f} s | {demo['cpu']:.1f} s | {demo['cpu'] / floor_cpu:.1f}x | "
            f"{demo['rss_mb']:.0f} MB |"
        )
    rows += [
        f"| floor: imports (dagster, dagster-dbt, dbt) | {imports['wall']:.1f} s | {imports['cpu']:.1f} s | | |",
        f"| floor: bare `dbt build --full-refresh`, same data | {dbt['wall']:.1f} s | {dbt['cpu']:.1f} s | | |",
        f"| floor: imports + dbt build | {imports['wall'] + dbt['wall']:.1f} s | {floor_cpu:.1f} s | 1.0x | |",
        "",
        "Wall seconds per phase (from when the demo's progress lines arrived):",
        "",
        "| phase | " + " | ".join(f"run {n}" for n in range(1, len(result["demos"]) + 1)) + " |",
        "|---|" + "---:|" * len(result["demos"]),
    ]
    for index, (name, _) in enumerate(PHASES):
        cells = " | ".join(f"{demo['phases'][index][1]:.1f}" for demo in result["demos"])
        rows.append(f"| {name} | {cells} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="demo runs (the first cold)")
    parser.add_argument("--no-write", action="store_true", help=f"print only, do not update {BENCHMARKS_MD.name}")
    args = parser.parse_args()
    text = render(run(args.runs))
    print(text)
    if not args.no_write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
