"""How long `viewtrail list --limit 50` takes on a warehouse of 100,000 videos, as a whole command.

Builds a temporary warehouse in SQL (a few seconds: registry rows over the four platforms and ten snapshots per
video, inserted set-wise into the migrated tables), then runs the installed `viewtrail` console script as a user
would, several times each:

  floor:  `viewtrail --version`                 (interpreter and CLI start-up, nothing read)
  page:   `viewtrail list --limit 50`           (the first page, a table written into a pipe)
  next:   `viewtrail list --limit 50 --after X` (a page in the middle, by the keyset cursor the first page prints)

and reports the median seconds of each and what the list adds over the floor, beside the page's queries alone. Writes its section of
docs/benchmarks.md.

    .venv/bin/python bench/list_videos.py                  # writes docs/benchmarks.md (list section)
    .venv/bin/python bench/list_videos.py --videos 30000 --no-write
"""

from __future__ import annotations

import argparse
import os
import platform
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
    """Median seconds of the first page's queries alone (list_videos and count_videos), in this process."""
    from viewtrail.warehouse.connection import open_warehouse
    from viewtrail.warehouse.registry import count_videos, list_videos

    seconds = []
    with open_warehouse(path, read_only=True) as con:
        for _ in range(runs):
            started = time.perf_counter()
            list_videos(con, limit=51)
            count_videos(con)
            seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def timed(args: list[str], env: dict[str, str], runs: int) -> tuple[float, str]:
    """Median seconds of ``runs`` runs of ``viewtrail args`` (stdout a pipe), and the last run's output."""
    seconds, output = [], ""
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run([str(BIN / "viewtrail"), *args], env=env, capture_output=True, text=True)
        seconds.append(time.perf_counter() - started)
        if result.returncode != 0:
            raise SystemExit(f"viewtrail {' '.join(args)} failed: {result.stderr.strip()}")
        output = result.stdout
    return statistics.median(seconds), output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=100_000, help="registered videos (default 100000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each command; the median counts (default 5)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        warehouse = root / "warehouse.duckdb"
        built = build_warehouse(warehouse, args.videos)
        env = {
            **os.environ,
            "VIEWTRAIL_DATA_DIR": str(root),
            "VIEWTRAIL_WAREHOUSE": str(warehouse),
            "VIEWTRAIL_OFFLINE": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        query = query_seconds(warehouse, args.runs)
        floor, _ = timed(["--version"], env, args.runs)
        page, output = timed(["list", "--limit", "50"], env, args.runs)
        next_line = next((line for line in output.splitlines() if "next page:" in line), "")
        if not next_line:
            raise SystemExit("the first page printed no next-page command")
        middle = next_line.split("--after ", 1)[1].strip()
        after, _ = timed(["list", "--limit", "50", "--after", middle], env, args.runs)
    snapshots = args.videos * SNAPSHOTS_PER_VIDEO
    lines = [
        "## `viewtrail list` on a large registry (bench/list_videos.py)",
        "",
        f"{args.videos:,} registered videos over the four platforms, {snapshots:,} snapshots (warehouse built in "
        f"SQL in {built:.1f} s); each command run {args.runs} times as a whole process (the installed console "
        f"script, stdout a pipe), medians. Python {platform.python_version()}, {os.cpu_count()} CPU(s).",
        "",
        "| command | seconds | over the floor |",
        "|---|---|---|",
        f"| `viewtrail --version` (floor: start-up) | {floor:.2f} | - |",
        f"| `viewtrail list --limit 50` | {page:.2f} | {page - floor:+.2f} |",
        f"| `viewtrail list --limit 50 --after ID` | {after:.2f} | {after - floor:+.2f} |",
        f"| the first page's queries alone (in process) | {query:.2f} | - |",
        "",
        "The page is cut in SQL (ORDER BY video_id, LIMIT) before the snapshots are summarised, and only the page's "
        "snapshots are read; rich lays out 50 rows. Most of what a page adds over the floor is loading duckdb, "
        "polars (with pyarrow) and the warehouse modules, the same for every command that opens the warehouse, not "
        "the query (last row). Before paging, the command rendered every row into "
        "one rich table, which measured and wrapped each cell: about 30 to 60 s at 33,600 videos.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
        print(f"\nwritten to {BENCHMARKS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
