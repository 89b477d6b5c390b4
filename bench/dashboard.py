"""How fast `viewtrail serve` answers the pages a dashboard opens first, at 100,000 videos, against a floor.

Builds a temporary warehouse in SQL (registered videos over the four platforms, labels, accounts, posting times,
one snapshot a day for the last 30 days at a jittered hour, and the last day's scrape attempts), runs `dbt build`
and publishes the analyst copy as the pipeline does, then starts `viewtrail serve` on 127.0.0.1 as a user would
and times each target over HTTP (one keep-alive client, after a warm-up request; the median and the slowest of
the runs count). Each target has its floor, measured in the same run: the bare DuckDB queries behind it, run in
this process on a fresh read-only connection to the analyst copy (as the server opens one per request), so what
the page adds over its data is the difference.

  overview     GET /?start=..&end=..     the dashboard's overview for a period not asked before (each run its own
                                         custom range of 30+ days), compared with the period before
  overview     GET /                     the same for the default 30 days asked again: the page keeps its aggregates
                                         per published copy, period and hour, so this is the cached path
  videos       GET /videos               the first page of the videos table (50 rows, by views)
  videos API   GET /v1/videos?limit=50   the first page of the API's videos listing (JSON)

Writes its section of docs/benchmarks.md.

    .venv/bin/python bench/dashboard.py                   # writes docs/benchmarks.md (dashboard section)
    .venv/bin/python bench/dashboard.py --videos 20000 --no-write
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import httpx
from benchmarks_md import BENCHMARKS_MD, write_section  # bench/ is on sys.path when a bench runs

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the viewtrail package of this checkout, also without an install
BIN = Path(sys.executable).parent  # the environment running this bench holds its `viewtrail` and `dbt` scripts
SECTION = "dashboard-bench"  # its markers in docs/benchmarks.md
DAYS = 30  # the default history; a first page's cost grows with the videos, not the days (--days)
TARGET_MS = 300  # what a page must answer in at 100k videos


def build_warehouse(path: Path, videos: int, days: int = DAYS) -> tuple[float, int]:
    """``videos`` registered videos with a snapshot a day for ``days`` days up to the last complete hour, and the
    last 24 hours' scrape attempts; returns (seconds, snapshots)."""
    from viewtrail.clock import last_complete_hour
    from viewtrail.warehouse.connection import open_warehouse

    end = last_complete_hour()
    start = end - timedelta(days=days)
    started = time.perf_counter()
    with open_warehouse(path) as con:
        con.execute(
            """
            INSERT INTO registry.videos (video_id, platform, external_id, url, account, is_active, cadence, labels,
                metadata, availability, consecutive_not_found, source, posted_at, added_at, updated_at)
            SELECT p || ':' || e, p, e, 'https://example.com/' || p || '/' || e, 'creator' || (i % 500), i % 5 <> 0,
                   'auto', CASE WHEN i % 3 = 0 THEN ['launch'] WHEN i % 7 = 0 THEN ['evergreen'] ELSE [] END, '{}',
                   'available', 0, 'manual', $start - to_hours(i % 2000), $start, $start
            FROM (SELECT i, ['tiktok', 'youtube', 'instagram', 'x'][i % 4 + 1] AS p,
                         lpad((7200000000000000000 + i)::TEXT, 19, '0') AS e
                  FROM range($n) t(i))
            """,
            {"n": videos, "start": start},
        )
        # monotone views at a per-video rate (a long tail: a few videos get most views), at a jittered hour
        con.execute(
            """
            INSERT INTO raw.snapshots (video_id, observed_at, views, likes, comments, shares, saves, account, source,
                                       ingested_at)
            SELECT video_id, seen, rate * (k + 1), rate * (k + 1) // 20, rate * (k + 1) // 400,
                   CASE WHEN platform IN ('tiktok', 'instagram') THEN rate * (k + 1) // 300 END,
                   CASE WHEN platform = 'tiktok' THEN rate * (k + 1) // 250 END, account, 'import', seen
            FROM (SELECT video_id, platform, account, k,
                         $start + to_hours((k * 24 + hash(video_id, k) % 24)::BIGINT) AS seen,
                         (100 + 1000000 // (1 + hash(video_id) % 5000))::BIGINT AS rate
                  FROM registry.videos, range($days) t(k))
            WHERE seen <= $end
            """,
            {"start": start, "end": end, "days": days},
        )
        con.execute(
            """
            INSERT INTO raw.scrape_attempts (video_id, platform, attempted_at, outcome, tries, source)
            SELECT video_id, platform, observed_at, 'ok', 1, 'import'
            FROM raw.snapshots JOIN registry.videos USING (video_id) WHERE observed_at > $end - INTERVAL 24 HOUR
            """,
            {"end": end},
        )
        snapshots = con.execute("SELECT count(*) FROM raw.snapshots").fetchall()[0][0]
    return time.perf_counter() - started, int(snapshots)


def build_and_publish(warehouse: Path, env: dict[str, str]) -> float:
    """`dbt build` (models and data tests, no unit tests) and the analyst copy, as the pipeline's build run."""
    from viewtrail.pipeline.publish import publish
    from viewtrail.warehouse.connection import open_warehouse

    started = time.perf_counter()
    project = REPO / "dbt_project"
    subprocess.run(
        [str(BIN / "dbt"), "build", "--exclude-resource-type", "unit_test", "--quiet", "--project-dir", str(project),
         "--profiles-dir", str(project), "--target-path", str(warehouse.parent / "dbt_target"), "--log-path",
         str(warehouse.parent / "dbt_target")],
        env=env,
        check=True,
        cwd=project,
    )  # fmt: skip
    with open_warehouse(warehouse) as con:
        publish(con)
    return time.perf_counter() - started


# ------------------------------------------------------------------------------------------------ the floors


def videos_page_queries(analytics: Path, run: int | None) -> None:
    """The first page of videos: the registry's first 51 rows (the copy stores them in id order, see
    ``meta.copy_order``; a top-N on a copy without it) and the page's metrics through the mart reader."""
    from viewtrail.warehouse import marts

    con = duckdb.connect(str(analytics), read_only=True)
    try:
        ordered = marts.stored_order(con, "registry.videos") == "video_id"
        page = "SELECT * FROM registry.videos" + (" LIMIT 51" if ordered else " ORDER BY video_id LIMIT 51")
        marts.video_metrics(con, [row[0] for row in con.execute(page).fetchall()])
    finally:
        con.close()


def _overview_period(run: int | None) -> tuple[date, date]:
    """The overview's period: the default 30 days, or for run ``run`` a custom range of 31 days or more that the
    server has not been asked before (the page keeps its aggregates per published copy, period and hour: this
    one is computed afresh)."""
    from viewtrail.clock import utc_now

    today = utc_now().date()
    return today - timedelta(days=29 if run is None else 30 + run), today


def overview_path(run: int | None) -> str:
    if run is None:
        return "/"
    start, end = _overview_period(run)
    return f"/?start={start}&end={end}"


def overview_queries(analytics: Path, run: int | None) -> None:
    """What the overview reads: the daily totals of both periods, the counts, the top videos and creators, the
    week's alerts, the scrape health of the last 24 hours."""
    from viewtrail.alerts.store import recent_events
    from viewtrail.clock import utc_now
    from viewtrail.dashboard.common import period
    from viewtrail.warehouse import activity, marts

    start, end = _overview_period(run)
    chosen = period(None, str(start), str(end))
    con = duckdb.connect(str(analytics), read_only=True)
    try:
        marts.totals_days(con, start=chosen.previous.start, end=chosen.end)
        marts.tracking_counts(con)
        marts.top_videos(con, start=chosen.start, end=chosen.end, limit=10)
        marts.top_creators(con, 5)
        recent_events(con, since=utc_now() - timedelta(days=7), limit=8)
        activity.platform_health(con, utc_now() - timedelta(hours=24))
        activity.has_simulated(con)
    finally:
        con.close()


def videos_table_queries(analytics: Path, run: int | None) -> None:
    """What the videos table's first page reads per request: 50 rows by views with the filter's total (its label
    choices and the simulated-data check are kept per published copy)."""
    from viewtrail.warehouse import marts

    con = duckdb.connect(str(analytics), read_only=True)
    try:
        marts.video_table(con, marts.VideoFilter(), sort="views", descending=True, limit=50, offset=0)
    finally:
        con.close()


@dataclass(frozen=True)
class Target:
    name: str
    path: Callable[[int | None], str]  # the path of run n (None: the warm-up)
    floor: Callable[[Path, int | None], None]  # the queries behind that path
    floor_label: str
    shows: str  # in every answer: the page rendered its data, not an empty state or an error


def fixed(path: str) -> Callable[[int | None], str]:
    return lambda run: path


TARGETS = [
    Target(
        "overview, a period first asked (computed afresh)",
        overview_path,
        overview_queries,
        "`marts.totals_days`, `tracking_counts`, `top_videos`, `top_creators`, the alert events, `platform_health`",
        'class="top-videos"',
    ),
    Target(
        "overview, 30 days, asked again (kept per published copy and hour)",
        fixed("/"),
        lambda analytics, run: overview_queries(analytics, None),
        "the same queries",
        'class="top-videos"',
    ),
    Target(
        "videos table, first page",
        fixed("/videos"),
        videos_table_queries,
        "`marts.video_table` (50 rows + total)",
        "data-video=",
    ),
    Target(
        "videos API, first page",
        fixed("/v1/videos?limit=50"),
        videos_page_queries,
        "registry page (51 rows in the copy's id order) + `marts.video_metrics`",
        '"latest":{',
    ),
]


# ------------------------------------------------------------------------------------------------ measuring


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def timings(
    page: Callable[[int | None], object], floor: Callable[[int | None], object], runs: int
) -> tuple[list[float], list[float]]:
    """Seconds of runs 0 .. ``runs - 1`` of ``page`` and ``floor``, alternated so that a busy spell of the machine
    weighs on both alike; one untimed warm-up call each first (imports, the OS's file cache)."""
    page(None), floor(None)
    seconds: tuple[list[float], list[float]] = ([], [])
    for run in range(runs):
        for call, into in ((page, seconds[0]), (floor, seconds[1])):
            started = time.perf_counter()
            call(run)
            into.append(time.perf_counter() - started)
    return seconds


def serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(BIN / "viewtrail"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            raise SystemExit(f"viewtrail serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=5).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"viewtrail serve did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=100_000, help="registered videos (default 100000)")
    parser.add_argument("--days", type=int, default=DAYS, help=f"days of snapshot history, one a day (default {DAYS})")
    parser.add_argument("--runs", type=int, default=15, help="requests per target; the median counts (default 15)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument(
        "--keep",
        type=Path,
        help="build the warehouse in this directory and keep it; a later run with the same --keep measures it "
        "again without rebuilding (the --videos of the first run count)",
    )
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) if args.keep is None else args.keep.absolute()
        root.mkdir(parents=True, exist_ok=True)
        warehouse = root / "warehouse.duckdb"
        analytics = root / "analytics.duckdb"
        env = {
            **os.environ,
            "VIEWTRAIL_DATA_DIR": str(root),
            "VIEWTRAIL_WAREHOUSE": str(warehouse),
            "VIEWTRAIL_ANALYTICS": str(analytics),
            "VIEWTRAIL_OFFLINE": "1",
            "VIEWTRAIL_API_RATE_PER_MIN": "1000000",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        }
        os.environ.update({k: env[k] for k in ("VIEWTRAIL_DATA_DIR", "VIEWTRAIL_WAREHOUSE", "VIEWTRAIL_ANALYTICS")})
        if analytics.exists() and args.keep is not None:
            built, dbt_seconds = float("nan"), float("nan")
            with duckdb.connect(str(analytics), read_only=True) as con:
                args.videos, snapshots = con.execute(
                    "SELECT (SELECT count(*) FROM registry.videos), (SELECT count(*) FROM raw.snapshots)"
                ).fetchall()[0]
            args.days = int((root / "days").read_text())
        else:
            built, snapshots = build_warehouse(warehouse, args.videos, args.days)
            (root / "days").write_text(str(args.days))
            dbt_seconds = build_and_publish(warehouse, env)
        key = subprocess.run(
            [str(BIN / "viewtrail"), "api-key", "create", "--name", "bench", "--scope", "read"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        process, url = serve(env, root / "serve.log")
        rows = []
        try:
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:

                def fetch(target: Target) -> Callable[[int | None], object]:
                    def get(run: int | None) -> object:
                        path = target.path(run)
                        answer = client.get(path)
                        answer.raise_for_status()
                        if target.shows not in answer.text:
                            raise SystemExit(f"GET {path} did not show {target.shows!r}: {answer.text[:500]}")
                        return answer

                    return get

                for target in TARGETS:
                    page, floor = timings(fetch(target), lambda run, t=target: t.floor(analytics, run), args.runs)
                    rows.append((target, page, floor))
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
    load_after = os.getloadavg()[0]
    lines = [
        "## The dashboard's first pages at scale (bench/dashboard.py)",
        "",
        f"{args.videos:,} registered videos over the four platforms, {snapshots:,} snapshots (one a day for {args.days} "
        + (
            "days; the warehouse of an earlier run). "
            if built != built
            else f"days; warehouse built in SQL in {built:.1f} s, `dbt build` + publish in {dbt_seconds:.1f} s). "
        )
        + "Each page "
        f"requested {args.runs} times from `viewtrail serve` on 127.0.0.1 over one keep-alive connection after a "
        "warm-up; its floor is the bare DuckDB queries behind it, in process on a fresh read-only connection to the "
        f"analyst copy, measured in the same run (each request followed by its floor, so load weighs on both). "
        f"Python {platform.python_version()}, {os.cpu_count()} CPU(s), "
        f"1-minute load average {load_before:.1f} before, {load_after:.1f} after (a shared VM: compare the page "
        "with its floor more than the milliseconds).",
        "",
        f"| page | median ms | slowest ms | floor: the queries behind it | floor median ms | page over floor | under {TARGET_MS} ms |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    for target, page, floor in rows:
        median, slowest, base = statistics.median(page), max(page), statistics.median(floor)
        lines.append(
            f"| {target.name} (`GET {target.path(0)}`) | {ms(median)} | {ms(slowest)} | {target.floor_label} | "
            f"{ms(base)} | {median / base:.1f}x | {'yes' if median * 1000 < TARGET_MS else 'no'} |"
        )
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
        print(f"\nwritten to {BENCHMARKS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
