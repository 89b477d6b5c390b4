"""A large warehouse on one machine: one hourly cycle and a full rebuild, stage by stage, at N videos x D days.

For each size it makes a fresh warehouse through the production migrations and fills it in SQL (a simulated
client would take hours at a million videos): N videos on the four platforms with the `auto` cadence's mix
(2 % launched in the last two days, scraped hourly; 8 % younger than a week, every 6 h; 20 % younger than a month,
daily; the catalogue weekly), a snapshot and an ok attempt at each scrape over the last D days, stamped with the
write clock as the write path does; the demo's 8 watched accounts of 3 creators. It builds the marts once with
`viewtrail build --full-refresh` (every model from scratch, then the first publish), timed, its progress lines passed
through as they come, its RSS sampled every 0.5 s and each sample's peak attributed to the dbt models running then,
and dbt's own seconds per model. Then it times one hourly cycle as production runs it, each Dagster run in its own
process (so its peak RSS is its own; RUSAGE_CHILDREN of a wrapper), the stages read from the run's event log:

- discovery of the watched accounts for the hour (`plans/*_accounts`, `discovery/*`, `raw/*_accounts`);
- the scrape of the hour (`plans/*`: the registry read and staged; `scrapes/*`: plan + scrape with the simulated
  client + stage; `raw/*_snapshots`: the write and the checks), one run for every platform as the schedule does;
- the build: the dbt step (incremental marts + data tests on the touched videos), the alerts, the publish;

then `viewtrail list --limit 50` (a whole process) and the first pages of the dashboard (`GET /videos`) and of the
API (`GET /v1/videos?limit=50`) from `viewtrail serve` (bench/dashboard.py on the same analyst copy). Floors, measured in the same run: a fresh Python process
(`viewtrail --version`) for the CLI, the bare queries behind each page for the dashboard and the API, and the
daily history of the touched videos as one hand-written DuckDB query for the hourly dbt step.

    .venv/bin/python bench/scale.py --sizes 1k,10k --days 30
    .venv/bin/python bench/scale.py --sizes 1k,10k,100k,1m --days 30 --keep /tmp/scale   # all four sizes

The fill generates each cadence band's scrape hours directly, so it costs what it writes: most of it is the primary
keys' indexes of raw.snapshots and raw.scrape_attempts (100k x 365, 10M snapshots: 61 s at load 6, peak RSS 1.1 GB;
generating every hour of every window and filtering took 293-370 s). Peak RSS stays near
VIEWTRAIL_DUCKDB_MEMORY_LIMIT.

Results go to docs/benchmarks.md between the scale-bench markers (unless --no-write).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from benchmarks_md import BENCHMARKS_MD, write_section  # bench/ is on sys.path when a bench runs

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent
SECTION = "scale-bench"
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}

# Videos by age at the window's end (hours since posted) and the cadence the `auto` table gives them; each one's
# account is the handle the simulated client reports when it scrapes the video (fill_accounts, see accounts()), so
# the measured hour moves no video between accounts (a real hour moves next to none).
FILL = """
INSERT INTO registry.videos (video_id, platform, external_id, url, account, is_active, cadence, labels, metadata,
    availability, consecutive_not_found, posted_at, source, added_at, updated_at)
SELECT p || ':' || e, p, e, 'https://example.com/' || p || '/' || e, a.account, true, 'auto',
       CASE WHEN i % 3 = 0 THEN ['launch'] ELSE [] END, '{}', 'available', 0,
       $end - to_hours(age_h), 'manual', $end - to_hours(least(age_h, $days * 24)), $end
FROM (
    SELECT i, ['tiktok', 'youtube', 'instagram', 'x'][i % 4 + 1] AS p, (7200000000000000000 + i)::TEXT AS e,
           CASE WHEN i % 100 < 2 THEN hash(i) % 48
                WHEN i % 100 < 10 THEN 48 + hash(i) % 120
                WHEN i % 100 < 30 THEN 168 + hash(i) % 552
                ELSE 720 + hash(i) % 8000 END::BIGINT AS age_h
    FROM range($n) t(i)
) JOIN fill_accounts a USING (i);
"""

#: One row per video and cadence band (hourly for the first 48 h after posting, every 6 h to a week, daily to 30
#: days, weekly after) that has a scrape in the window: its first scrape hour, its last possible one and the step.
#: The scrape hours are then generated band by band, so the fill's cost is the snapshots it writes (generating every
#: hour of every window and keeping the cadence's ones was ~88 candidates per snapshot at 365 days). The phase within
#: a band comes from the video's hash: the 6-hourly and daily scrapes at hours h with (h + hash) % step = 0 (hours
#: counted from a midnight, so the hour of day), the weekly ones counted from 2025-01-01.
SCRAPE_BANDS = """
CREATE TEMP TABLE scrape_bands AS
WITH bands(lo, hi, step) AS (VALUES (0, 48, 1), (48, 168, 6), (168, 720, 24), (720, 1000000, 168)),
windows AS (
    SELECT v.video_id, v.platform, b.step, hash(v.video_id) % b.step AS phase,
           greatest(v.added_at, v.posted_at, v.posted_at + to_hours(b.lo)) AS lo_t,
           least($end - INTERVAL 1 HOUR, v.posted_at + to_hours(b.hi - 1)) AS hi_t
    FROM registry.videos v CROSS JOIN bands b
)
SELECT video_id, platform, step, hi_t,
       lo_t + to_hours(((-(date_diff('hour', TIMESTAMP '2025-01-01', lo_t) + phase::BIGINT)) % step + step) % step)
           AS first_t
FROM windows
WHERE lo_t <= hi_t;
"""

#: The scrape hours of the videos of one chunk ($chunk of $chunks, by the video id's hash).
SCRAPE_HOURS = """
SELECT video_id, platform, unnest(generate_series(first_t, hi_t, to_hours(step))) AS observed_at
FROM scrape_bands
WHERE hash(video_id) % $chunks = $chunk
"""

#: A snapshot and an ok attempt at each scrape hour, stamped with the write clock as the write path does.
FILL_RAW = {
    "raw.snapshots": """
INSERT INTO raw.snapshots (video_id, observed_at, views, likes, comments, shares, saves, account, source,
                           ingested_at)
SELECT video_id, observed_at + INTERVAL 7 MINUTE,
       (1 + hash(video_id) % 500) * date_diff('hour', $end - INTERVAL 400 DAY, observed_at),
       (1 + hash(video_id) % 500) * date_diff('hour', $end - INTERVAL 400 DAY, observed_at) / 20,
       (1 + hash(video_id) % 500) * date_diff('hour', $end - INTERVAL 400 DAY, observed_at) / 300,
       NULL, NULL, NULL, 'simulated', observed_at + INTERVAL 30 MINUTE
FROM ($hours)
""",
    "raw.scrape_attempts": """
INSERT INTO raw.scrape_attempts (video_id, platform, attempted_at, outcome, http_status, tries, source,
                                 partition_key, ingested_at)
SELECT video_id, platform, observed_at + INTERVAL 7 MINUTE, 'ok', 200, 1, 'simulated',
       strftime(observed_at, '%Y-%m-%d-%H:%M'), observed_at + INTERVAL 30 MINUTE
FROM ($hours)
""",
}


#: One process per Dagster run of the cycle: prints the steps' durations from the event log.
CYCLE_RUN = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
from datetime import datetime
from orchestration import runs
what, hour = sys.argv[1], datetime.fromisoformat(sys.argv[2])
with runs.dagster_instance() as instance:
    resources = runs.pipeline_resources(simulated=True)
    started = time.perf_counter()
    if what == "discovery":
        runs.backfill_discovery(instance, resources, hour, hour, lambda _: None, origin="bench")
    elif what == "scrape":
        runs.backfill_snapshots(instance, resources, hour, hour, lambda _: None, origin="bench")
    else:
        runs.build_and_publish(instance, resources)
    wall = time.perf_counter() - started
    steps = {}
    for record in instance.get_run_records():
        opened = {}
        for e in instance.all_logs(record.dagster_run.run_id):
            ev = e.dagster_event
            if ev is None or ev.step_key is None:
                continue
            if ev.is_step_start:
                opened[ev.step_key] = e.timestamp
            elif ev.is_step_success:
                steps[ev.step_key] = steps.get(ev.step_key, 0.0) + e.timestamp - opened.get(ev.step_key, e.timestamp)
print("RESULT " + json.dumps({"wall": wall, "steps": steps}))
"""

HAND_TOUCHED = """
WITH touched AS (SELECT DISTINCT video_id FROM raw.snapshots WHERE ingested_at > $mark),
snaps AS (SELECT s.video_id, s.observed_at, s.views FROM raw.snapshots s SEMI JOIN touched USING (video_id)),
bounds AS (SELECT video_id, min(observed_at)::DATE AS first_day, max(observed_at)::DATE AS last_day
           FROM snaps GROUP BY 1),
spine AS (SELECT video_id, unnest(generate_series(first_day::TIMESTAMP, last_day::TIMESTAMP, INTERVAL 1 DAY))::DATE
          AS day FROM bounds),
ends AS (SELECT video_id, day, day::TIMESTAMP + INTERVAL 1 DAY AS t FROM spine)
SELECT count(*), sum(p.views) FROM ends e ASOF LEFT JOIN snaps p ON e.video_id = p.video_id AND e.t >= p.observed_at
"""


def measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak RSS of the command in MB, its stdout): the command runs under a wrapper process."""
    wrapper = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter(); r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "dt = time.perf_counter() - t\n"
        "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr[-4000:])\n"
        "print('MEASURED ' + json.dumps({'rc': r.returncode, 's': dt,"
        " 'kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, env=env)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("MEASURED ")), "MEASURED {}")
    data = json.loads(line.removeprefix("MEASURED "))
    if data.get("rc") != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return data["s"], data["kb"] / 1024, proc.stdout


def rebuilt(cmd: list[str], env: dict[str, str]) -> tuple[float, float, dict[str, float]]:
    """(seconds, peak RSS in MB of the command and its children, peak MB while each dbt model ran) of a
    `viewtrail build`: its output and progress lines are passed through with the time since the start, its RSS is
    sampled every 0.5 s (/proc), and each sample goes to every model then started and not yet done."""
    import threading

    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    running: set[str] = set()
    peaks: dict[str, float] = {}
    tail: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(f"  [{time.perf_counter() - started:7.1f}s] {line.rstrip()}", flush=True)
            tail[:] = [*tail[-40:], line]
            found = re.search(r"dbt: model \d+ of \d+ (started|done): .*?(\w+\.\w+)\b", line)
            if found and found.group(1) == "started":
                running.add(found.group(2))
            elif found:
                running.discard(found.group(2))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    peak = 0.0
    while proc.poll() is None:
        rss = _tree_rss_mb(proc.pid)
        peak = max(peak, rss)
        for model in list(running):
            peaks[model] = max(peaks.get(model, 0.0), rss)
        time.sleep(0.5)
    reader.join()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{''.join(tail)[-3000:]}")
    return seconds, peak, dict(sorted(((k, round(v)) for k, v in peaks.items()), key=lambda kv: -kv[1]))


def _tree_rss_mb(pid: int) -> float:
    """RSS of ``pid`` and its descendants, in MB (0 if it is gone)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    tree, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(rss.get(p, 0) for p in tree) / 2**20


def build(path: Path, videos: int, days: int, end: datetime) -> dict:
    import duckdb

    from viewtrail import config
    from viewtrail.app import demo
    from viewtrail.warehouse.connection import open_warehouse

    started = time.perf_counter()
    with open_warehouse(path) as con:
        demo.watch_demo_accounts(con, added_at=end - timedelta(days=days))
    settings = config.settings()
    sql = {"$end": f"TIMESTAMP '{end:%Y-%m-%d %H:%M:%S}'", "$days": str(days), "$n": str(videos)}

    def connect() -> duckdb.DuckDBPyConnection:
        # the same bounded memory as every warehouse connection
        return duckdb.connect(
            str(path), config={"memory_limit": settings.duckdb_memory_limit, "temp_directory": f"{path}.tmp"}
        )

    con = connect()
    try:
        con.register("fill_accounts", accounts(videos))
        con.execute(_sub(FILL, sql))
    finally:
        con.close()
    # A primary key's index stays in memory while rows are inserted, and a transaction's rows get an index of their
    # own until it commits: ~40 bytes a key, so 100M snapshots need ~4 GB for one table's index. Hence each table in
    # its own connection (only that table's index loaded) and in chunks of videos (one commit each) of ~4M rows at most.
    chunks = max(1, videos * days // 15_000_000)
    for insert in FILL_RAW.values():
        con = connect()
        try:
            con.execute(_sub(SCRAPE_BANDS, sql))
            for chunk in range(chunks):
                hours = _sub(SCRAPE_HOURS, {"$chunks": str(chunks), "$chunk": str(chunk)})
                con.execute(_sub(insert, sql | {"$hours": hours}))
        finally:
            con.close()
    con = connect()
    try:
        con.execute("UPDATE meta.write_clock SET last_ingested_at = (SELECT max(ingested_at) FROM raw.snapshots)")
        snapshots = con.execute("SELECT count(*) FROM raw.snapshots").fetchall()[0][0]
    finally:
        con.close()
    return {"fill_s": time.perf_counter() - started, "snapshots": snapshots}


def accounts(videos: int):  # -> pyarrow.Table
    """(i, account) of the fill's videos 0..videos-1: the handle the simulated client (the cycle's, seed 0) reports for
    the video FILL makes of i, from the simulation's own function (~13 s a million)."""
    import pyarrow as pa

    from viewtrail.platforms.simulated.client import video_account

    platforms = ("tiktok", "youtube", "instagram", "x")  # FILL's p and e of i
    handles = [video_account(f"{platforms[i % 4]}:{7200000000000000000 + i}") for i in range(videos)]
    return pa.table({"i": pa.array(range(videos), pa.int64()), "account": pa.array(handles, pa.string())})


def _sub(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace(name, value)
    return text


def dbt_profile(root: Path) -> dict[str, float]:
    """Seconds per model, and the data tests' sum, of the last dbt invocation on the warehouse in ``root`` (its
    dbt.log: the in-process runner writes no run_results.json), longest first."""
    log = root / "warehouse.dbt" / "touched" / "dbt.log"
    if not log.exists():
        return {}
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    start = max((i for i, line in enumerate(lines) if "Running with dbt" in line), default=0)
    times: dict[str, float] = {}
    for line in lines[start:]:
        found = re.search(r" (?:OK created \S+ \S+ model (\S+)|PASS (\S+)) .*\[(?:OK|PASS) in ([0-9.]+)s\]", line)
        if found:
            name = found.group(1) or "data tests"
            times[name] = times.get(name, 0.0) + float(found.group(3))
    return dict(sorted(((k, round(v, 2)) for k, v in times.items()), key=lambda kv: -kv[1]))


def run_size(videos: int, days: int, root: Path, reuse: bool = False, cycle_only: bool = False) -> dict:
    """One size's measurements. ``reuse``: the warehouse in ``root`` was filled by an earlier run (--keep); it is
    rebuilt (the models may have changed since) instead of filled, then the hourly cycle runs on it; the later
    pages are not measured. ``cycle_only`` (with ``reuse``): no rebuild either, the warehouse's marts are already
    this code's."""
    from viewtrail.clock import last_complete_hour

    root.mkdir(parents=True, exist_ok=True)
    warehouse = root / "warehouse.duckdb"
    hour = last_complete_hour()
    out: dict = {"videos": videos, "days": days, "load_before": os.getloadavg()[0]}
    if reuse:
        import duckdb

        con = duckdb.connect(str(warehouse), read_only=True)
        out |= {"fill_s": float("nan"), "snapshots": con.execute("SELECT count(*) FROM raw.snapshots").fetchall()[0][0]}
        con.close()
    else:
        out |= build(warehouse, videos, days, hour)
        (root / "days").write_text(str(days))  # bench/dashboard.py --keep reads the history's length from it
    env = {
        **os.environ,
        "VIEWTRAIL_DATA_DIR": str(root),
        "VIEWTRAIL_WAREHOUSE": str(warehouse),
        "VIEWTRAIL_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    env.pop("DAGSTER_HOME", None)  # an ephemeral instance per run: the bench measures viewtrail, not its history
    # the first build is the full rebuild: every model from scratch, then the first publish (the whole history goes
    # out once); one build, so the largest size does not build twice
    if cycle_only:
        out["full_s"] = out["full_mb"] = float("nan")
        out["rebuild_peaks"], out["rebuild_models"] = {}, {}
    else:
        rebuild = rebuilt([str(BIN / "viewtrail"), "build", "--full-refresh"], env)
        out["full_s"], out["full_mb"], out["rebuild_peaks"] = rebuild
        out["rebuild_models"] = dbt_profile(root)
        print(json.dumps({"rebuild": out}, default=str), flush=True)
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    mark = con.execute("SELECT max(ingested_at) FROM raw.snapshots").fetchall()[0][0]
    con.close()
    stages: dict[str, tuple[float, float]] = {}
    for what in ("discovery", "scrape", "build"):
        seconds, peak, stdout = measured([sys.executable, "-c", CYCLE_RUN, what, hour.isoformat()], env)
        result = json.loads(next(x for x in stdout.splitlines() if x.startswith("RESULT ")).removeprefix("RESULT "))
        stages[what] = (seconds, peak)
        out[f"{what}_steps"] = result["steps"]
        if what == "build":
            out["dbt_models"] = dbt_profile(root)  # the hourly build's dbt step, model by model
    out["cycle"] = stages
    # videos the hour moved to another account: its snapshots' account against the fill's (0 unless they disagree)
    con = duckdb.connect(str(warehouse), read_only=True)
    con.register("fill_accounts", accounts(videos))
    out["moved_accounts"] = con.execute(
        f"""SELECT count(DISTINCT s.video_id) FROM raw.snapshots s
            JOIN registry.videos v ON v.video_id = s.video_id AND v.source = 'manual'  -- the fill's videos
            JOIN fill_accounts a ON a.i = TRY_CAST(v.external_id AS HUGEINT) - 7200000000000000000
            WHERE s.ingested_at > TIMESTAMP '{mark}' AND s.account IS DISTINCT FROM a.account"""
    ).fetchall()[0][0]
    con.close()
    # the floor of the dbt step: the touched videos' daily history as one hand-written query, in a fresh process
    hand = "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); con.execute(sys.argv[2]).fetchall()"
    out["hand_s"], out["hand_mb"], _ = measured(
        [sys.executable, "-c", hand, str(warehouse), HAND_TOUCHED.replace("$mark", f"TIMESTAMP '{mark}'")], env
    )
    if reuse:  # the pages were measured when the warehouse was filled
        out["floor_s"] = out["list_s"] = float("nan")
        out["load_after"] = os.getloadavg()[0]
        return out
    out["floor_s"] = min(measured([str(BIN / "viewtrail"), "--version"], env)[0] for _ in range(3))
    out["list_s"] = statistics.median(
        measured([str(BIN / "viewtrail"), "list", "--limit", "50"], env)[0] for _ in range(3)
    )
    out["pages"] = first_pages(root, env)
    out["load_after"] = os.getloadavg()[0]
    return out


#: The pages bench/dashboard.py times (its row names) -> the column they fill here.
PAGES = {"videos table, first page": "dashboard", "videos API, first page": "api"}


def first_pages(root: Path, env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """(median ms, floor median ms) of the dashboard's and the API's first page of videos, from `viewtrail serve`
    on this size's analyst copy: bench/dashboard.py on the same directory (its floor: the bare queries behind
    each page, alternated with the requests)."""
    _, _, stdout = measured(
        [sys.executable, str(REPO / "bench" / "dashboard.py"), "--keep", str(root), "--no-write", "--runs", "7"], env
    )
    pages = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        for name, column in PAGES.items():
            if cells[0].startswith(name + " ("):
                pages[column] = (float(cells[1]), float(cells[4]))
    return pages


def table(rows: list[dict]) -> str:
    head = (
        "| videos x days | snapshots | fill (SQL) | first build: `build --full-refresh` + publish | discovery run | "
        "scrape runs (4) | build run: dbt step / alerts / publish | hand query (floor) | dbt step / floor | "
        "`list --limit 50` / floor (start-up) | dashboard / API first page / floors | peak RSS full rebuild / "
        "discovery / scrape / build | load before / after |"
    )
    lines = [head, "|" + "|".join(["---:"] * 13) + "|"]
    for r in rows:
        steps = r["build_steps"]
        dbt_s = sum(v for k, v in steps.items() if "dbt" in k)
        alerts_s = sum(v for k, v in steps.items() if k.startswith("alerts"))
        publish_s = steps.get("analytics_copy", 0.0)
        c = r["cycle"]
        pages = r.get("pages", {})
        dash, api = pages.get("dashboard", (float("nan"),) * 2), pages.get("api", (float("nan"),) * 2)
        lines.append(
            f"| {r['videos']:,} x {r['days']} | {r['snapshots']:,} | {r['fill_s']:.1f} s | {r['full_s']:.1f} s | "
            f"{c['discovery'][0]:.1f} s | {c['scrape'][0]:.1f} s | {c['build'][0]:.1f} s: {dbt_s:.1f} / "
            f"{alerts_s:.1f} / {publish_s:.1f} s | {r['hand_s']:.2f} s | {dbt_s / max(r['hand_s'], 1e-9):.1f}x | "
            f"{r['list_s']:.2f} / {r['floor_s']:.2f} s | {dash[0]:.0f} / {api[0]:.0f} ms; {dash[1]:.0f} / "
            f"{api[1]:.0f} ms | {r['full_mb']:.0f} / "
            f"{c['discovery'][1]:.0f} / {c['scrape'][1]:.0f} / {c['build'][1]:.0f} MB | "
            f"{r['load_before']:.1f} / {r['load_after']:.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1k,10k", help="comma-separated: 1k, 10k, 100k, 1m (default 1k,10k)")
    parser.add_argument("--days", default="30", help="comma-separated days of history (default 30)")
    parser.add_argument(
        "--keep", type=Path, help="make the warehouses in this directory and keep them (default: a temp dir)"
    )
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="the warehouses in --keep were filled by an earlier run: full refresh then the hourly cycle only",
    )
    parser.add_argument(
        "--cycle-only", action="store_true", help="with --reuse: no full refresh either, only the hourly cycle"
    )
    args = parser.parse_args()
    if args.reuse and not args.keep:
        parser.error("--reuse needs --keep (the directory of the filled warehouses)")
    if args.cycle_only and not args.reuse:
        parser.error("--cycle-only needs --reuse")
    sizes = [SIZES[s.strip().lower()] for s in args.sizes.split(",")]
    days = [int(d) for d in args.days.split(",")]
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="viewtrail-scale-") as tmp:
        base = args.keep or Path(tmp)
        for n in sizes:
            for d in days:
                row = run_size(n, d, base / f"{n}x{d}", reuse=args.reuse, cycle_only=args.cycle_only)
                rows.append(row)
                print(json.dumps(row, default=str), flush=True)
    text = "\n".join(
        [
            "## A large warehouse, one hourly cycle (`bench/scale.py`)",
            "",
            f"Measured {datetime.now():%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}; bench total {time.perf_counter() - started:.0f} s. Each Dagster run in a "
            "fresh process (ephemeral instance); seconds are wall time of the run's process (start-up and "
            "definitions included), the build run split into its steps from the event log. Peak RSS per process.",
            "",
            table(rows),
        ]
    )
    print(text)
    if not args.no_write:
        write_section(SECTION, text)
        print(f"\nwritten to {BENCHMARKS_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
