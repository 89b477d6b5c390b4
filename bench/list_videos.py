"""How long `viewtrail list --limit 50` takes on a warehouse of 100,000 videos, as a whole command.

Builds a temporary warehouse in SQL (a few seconds: registry rows over the four platforms and ten snapshots per
video, inserted set-wise into the migrated tables; never built by dbt, so a page reads its videos' snapshots), or
measures a warehouse given with ``--warehouse`` (e.g. the built one bench/dashboard.py keeps), then runs the
installed `viewtrail` console script as a user would, several times each, alternated:

  floor:  `python -c pass`                      (the interpreter alone)
  floor:  `viewtrail --version`                 (interpreter and CLI start-up, nothing read)
  page:   `viewtrail list --limit 50`           (the first page, a table written into a pipe)
  next:   `viewtrail list --limit 50 --after X` (a page in the middle, by the keyset cursor the first page prints)

and reports the median wall seconds and CPU seconds (user + sys, less sensitive to a shared machine's load) of
each and what the list adds over the floor, beside the page's queries alone. Writes its section of
docs/benchmarks.md.

    .venv/bin/python bench/list_videos.py                  # writes docs/benchmarks.md (list section)
    .venv/bin/python bench/list_videos.py --videos 30000 --no-write
    .venv/bin/python bench/list_videos.py --warehouse /tmp/kept/warehouse.duckdb
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks_md import BENCHMARKS_MD, write_section  # bench/ is on sys.path when a bench runs

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the viewtrail package of this checkout, also without an install
BIN = Path(sys.executable).parent  # the environment running this bench holds its `viewtrail` script
SECTION = "list-bench"  # its markers in docs/benchmarks.md
SNAPSHOTS_PER_VIDEO = 10
TARGET_S = 0.3  # what `viewtrail list --limit 50` must answer in at 1,000,000 videos


def build_warehouse(path: Path, videos: int) -> float:
    """``videos`` registered videos (a fifth inactive, a third labelled) with their snapshots; returns seconds."""
    from viewtrail.warehouse.connection import open_warehouse

    started = time.perf_counter()
    with open_warehouse(path) as con:
        con.execute(
            """
            INSERT INTO registry.videos (video_id, platform, external_id, url, account, is_active, cadence, labels,
                metadata, availability, consecutive_not_found, source, added_at, updated_at)
            SELECT p || ':' || e, p, e, 'https://example.com/' || p || '/' || e, 'creator' || (i % 500), i % 5 <> 0,
                   'auto', CASE WHEN i % 3 = 0 THEN ['launch'] ELSE [] END, '{}', 'available', 0, 'manual',
                   TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01'
            FROM (SELECT i, ['tiktok', 'youtube', 'instagram', 'x'][i % 4 + 1] AS p,
                         lpad((7200000000000000000 + i)::TEXT, 19, '0') AS e
                  FROM range(?) t(i))
            """,
            [videos],
        )
        con.execute(
            """
            INSERT INTO raw.snapshots (video_id, observed_at, views, likes, source, ingested_at)
            SELECT video_id, TIMESTAMP '2026-01-01' + h * INTERVAL 6 HOUR, 1000 * (h + 1), 10 * (h + 1), 'import',
                   TIMESTAMP '2026-01-01'
            FROM registry.videos, range(?) t(h)
            """,
            [SNAPSHOTS_PER_VIDEO],
        )
    return time.perf_counter() - started


def query_seconds(path: Path, runs: int) -> float:
    """Median seconds of the first page's queries alone (video_page and count_videos), in this process."""
    from viewtrail.warehouse.connection import open_warehouse
    from viewtrail.warehouse.video_pages import count_videos, video_page

    seconds = []
    with open_warehouse(path, read_only=True) as con:
        for _ in range(runs):
            started = time.perf_counter()
            video_page(con, limit=51)
            count_videos(con)
            seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU (user + sys) seconds of one run of ``command`` (stdout a pipe), and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), result.stdout


def check_console_script() -> None:
    """The installed `viewtrail` must be this checkout's program (viewtrail.cli:main, which runs a plain `list`
    without typer): an environment installed before it would time the typer app instead."""
    from importlib.metadata import entry_points

    found = [entry.value for entry in entry_points(group="console_scripts", name="viewtrail")]
    if found != ["viewtrail.cli:main"]:
        raise SystemExit(f"the installed viewtrail script runs {found}, not viewtrail.cli:main: pip install -e .")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=100_000, help="registered videos (default 100000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each command; the median counts (default 5)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--warehouse", type=Path, help="measure this warehouse (read only) instead of building one")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.warehouse is None:
            warehouse = root / "warehouse.duckdb"
            built = build_warehouse(warehouse, args.videos)
        else:
            import duckdb

            warehouse, built = args.warehouse.absolute(), float("nan")
            with duckdb.connect(str(warehouse), read_only=True) as con:
                args.videos, snapshots = con.execute(
                    "SELECT (SELECT count(*) FROM registry.videos), (SELECT count(*) FROM raw.snapshots)"
                ).fetchall()[0]
        env = {
            **os.environ,
            "VIEWTRAIL_DATA_DIR": str(root),
            "VIEWTRAIL_WAREHOUSE": str(warehouse),
            "VIEWTRAIL_OFFLINE": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        query = query_seconds(warehouse, args.runs)
        viewtrail = str(BIN / "viewtrail")
        check_console_script()
        _, _, output = timed([viewtrail, "list", "--limit", "50"], env)  # warm-up: the OS's file cache
        next_line = next((line for line in output.splitlines() if "next page:" in line), "")
        if not next_line:
            raise SystemExit("the first page printed no next-page command")
        middle = next_line.split("--after ", 1)[1].strip()
        commands = {
            "`python -c pass` (floor: the interpreter)": [sys.executable, "-c", "pass"],
            "`viewtrail --version` (floor: start-up)": [viewtrail, "--version"],
            "`viewtrail list --limit 50`": [viewtrail, "list", "--limit", "50"],
            "`viewtrail list --limit 50 --after ID`": [viewtrail, "list", "--limit", "50", "--after", middle],
        }
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.runs):  # alternated, so that a busy spell of the machine weighs on each alike
            for name, command in commands.items():
                wall, cpu, _ = timed(command, env)
                runs[name].append((wall, cpu))
    load_after = os.getloadavg()[0]
    if args.warehouse is None:
        snapshots = args.videos * SNAPSHOTS_PER_VIDEO
    medians = {
        name: (statistics.median(w for w, _ in done), statistics.median(c for _, c in done))
        for name, done in runs.items()
    }
    floor_wall, floor_cpu = medians["`viewtrail --version` (floor: start-up)"]
    source = (
        f"warehouse built in SQL in {built:.1f} s, never built by dbt"
        if args.warehouse is None
        else "a warehouse built by dbt (bench/dashboard.py --keep)"
    )
    lines = [
        "## `viewtrail list` on a large registry (bench/list_videos.py)",
        "",
        f"{args.videos:,} registered videos over the four platforms, {snapshots:,} snapshots ({source}); each "
        f"command run {args.runs} times as a whole process (the installed console script, stdout a pipe), "
        "alternated, medians of the wall time and of the CPU time (user + sys: less sensitive than the wall to "
        f"the other work of a shared VM). Python {platform.python_version()}, {os.cpu_count()} CPU(s), 1-minute "
        f"load average {load_before:.1f} before, {load_after:.1f} after.",
        "",
        f"| command | wall s | CPU s | wall over `--version` | under {TARGET_S * 1000:.0f} ms |",
        "|---|---|---|---|---|",
    ]
    for name, (wall, cpu) in medians.items():
        over = f"{wall - floor_wall:+.2f}" if "list" in name else "-"
        lines.append(f"| {name} | {wall:.2f} | {cpu:.2f} | {over} | {'yes' if wall < TARGET_S else 'no'} |")
    lines += [
        f"| the first page's queries alone (in process) | {query:.2f} | - | - | - |",
        "",
        f"`viewtrail --version` over `python -c pass`: {floor_wall - medians[next(iter(medians))][0]:+.2f} s wall, "
        f"{floor_cpu - medians[next(iter(medians))][1]:+.2f} s CPU.",
        "",
        "A page cuts its ids first (a top-N over the id column alone), reads their rows by the primary key's index, "
        "and their last snapshot from dbt's per-video summary, by its video_id index, plus the snapshots ingested "
        "since the build (a warehouse never built by dbt reads the page's snapshots out of the whole history "
        "instead). `viewtrail list` with plain arguments runs without typer (`viewtrail --version` goes through "
        "typer, so it is no longer a floor of `list`): Python, rich, DuckDB, the settings and the warehouse "
        "modules, the queries and the table.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
        print(f"\nwritten to {BENCHMARKS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
