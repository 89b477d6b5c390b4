"""How the dbt models scale: full build and one-hour incremental build vs. a hand-written DuckDB query.

For each size (videos x 30 days x 4 snapshots/day, at jittered times) it creates a fresh warehouse, loads all
snapshots but the last hour, runs `dbt run` (full build), loads the last hour and runs `dbt run` again
(incremental), and times the same daily-history computation (spine + ASOF interpolation + gains) written as one
DuckDB query: the floor. Every step runs in its own subprocess so its peak memory (ru_maxrss) is its own.

Snapshots are generated in DuckDB SQL (a Python simulator would take minutes at 12M rows): monotone views at
a per-video rate, shares/saves hidden on YouTube/X like the real platforms.

    .venv/bin/python bench/dbt_scaling.py                 # 1k and 10k videos
    .venv/bin/python bench/dbt_scaling.py --sizes 1000 10000 100000
    .venv/bin/python bench/dbt_scaling.py --no-write      # print only, leave docs/benchmarks.md alone

Results go to docs/benchmarks.md between the dbt-bench markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"
BENCHMARKS_MD = REPO / "docs" / "benchmarks.md"
START = "2024-01-01 00:00:00"
DAYS = 30
PER_DAY = 4

RAW_DDL = """
CREATE SCHEMA IF NOT EXISTS registry; CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS registry.videos (
  video_id TEXT PRIMARY KEY, platform TEXT NOT NULL, external_id TEXT NOT NULL, url TEXT NOT NULL, account TEXT,
  is_active BOOLEAN NOT NULL, cadence TEXT NOT NULL, track_until TIMESTAMP, labels TEXT[] NOT NULL,
  metadata JSON NOT NULL, availability TEXT NOT NULL, consecutive_not_found INTEGER NOT NULL,
  posted_at TIMESTAMP, added_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, stopped_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS registry.pending_links (
  url TEXT PRIMARY KEY, platform TEXT NOT NULL, note TEXT NOT NULL, cadence TEXT NOT NULL, track_until TIMESTAMP,
  labels TEXT[] NOT NULL, metadata JSON NOT NULL, added_at TIMESTAMP NOT NULL, resolved_video_id TEXT,
  resolved_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS raw.snapshots (
  video_id TEXT NOT NULL, observed_at TIMESTAMP NOT NULL,
  views BIGINT, likes BIGINT, comments BIGINT, shares BIGINT, saves BIGINT,
  title TEXT, account TEXT, posted_at TIMESTAMP, duration_s DOUBLE, extra JSON,
  source TEXT NOT NULL, run_id TEXT, ingested_at TIMESTAMP NOT NULL, PRIMARY KEY (video_id, observed_at));
CREATE TABLE IF NOT EXISTS raw.scrape_attempts (
  video_id TEXT NOT NULL, platform TEXT NOT NULL, attempted_at TIMESTAMP NOT NULL,
  outcome TEXT NOT NULL, http_status INTEGER, detail TEXT, duration_ms DOUBLE, tries INTEGER NOT NULL,
  source TEXT NOT NULL, run_id TEXT, partition_key TEXT, PRIMARY KEY (video_id, attempted_at));
"""

# one snapshot per 6-hour slot at a jittered minute: every hour of the day gets about 1/6 of the videos
GENERATED = f"""
select
    p.platform || ':v' || v.i as video_id,
    timestamp '{START}' + to_minutes(cast(k * 360 + hash(v.i, k) % 360 as bigint)) as observed_at,
    p.platform, v.i, k
from range(:n) as v(i)
cross join range({DAYS * PER_DAY}) as s(k)
cross join lateral (select ['tiktok', 'youtube', 'instagram', 'x'][v.i % 4 + 1] as platform) as p
"""

LOAD_SNAPSHOTS = f"""
insert into raw.snapshots (video_id, observed_at, views, likes, comments, shares, saves, account, source, ingested_at)
select
    video_id,
    observed_at,
    cast(rate * date_diff('minute', timestamp '{START}', observed_at) / 60 as bigint) as views,
    cast(rate * date_diff('minute', timestamp '{START}', observed_at) / 600 as bigint) as likes,
    cast(rate * date_diff('minute', timestamp '{START}', observed_at) / 6000 as bigint) as comments,
    case when platform in ('tiktok', 'instagram') then cast(rate * date_diff('minute', timestamp '{START}', observed_at) / 3000 as bigint) end,
    case when platform = 'tiktok' then cast(rate * date_diff('minute', timestamp '{START}', observed_at) / 2000 as bigint) end,
    'acct' || (i % 1000),
    'bench',
    observed_at + interval 1 minute
from (select *, 1 + hash(i) % 500 as rate from ({GENERATED}))
where observed_at {{cmp}} timestamp '{START}' + interval {DAYS * 24 - 1} hour
"""

HAND_QUERY = """
create or replace table main.hand_daily as
with snaps as (
    select video_id, observed_at, views, likes, comments, shares, saves from raw.snapshots
),
bounds as (
    select video_id, cast(min(observed_at) as date) as first_day, cast(max(observed_at) as date) as last_day
    from snaps group by video_id
),
spine as (
    select video_id, cast(unnest(generate_series(cast(first_day as timestamp), cast(last_day as timestamp),
                                                 interval 1 day)) as date) as day
    from bounds
),
ends as (select video_id, day, cast(day as timestamp) + interval 1 day as t from spine),
b as (
    select e.video_id, e.day, e.t, p.observed_at as pa, n.observed_at as na,
           p.views as pv, n.views as nv, p.likes as pl, n.likes as nl, p.comments as pc, n.comments as nc,
           p.shares as ps, n.shares as ns, p.saves as pz, n.saves as nz
    from ends as e
    asof left join snaps as p on e.video_id = p.video_id and e.t >= p.observed_at
    asof left join snaps as n on e.video_id = n.video_id and e.t < n.observed_at
),
f as (
    select *, case when na is null or pa = t then 0.0
                   else date_diff('microsecond', pa, t) / date_diff('microsecond', pa, na) end as w
    from b
),
v as (
    select video_id, day,
        case when na is null or pa = t then pv else cast(round(pv + (nv - pv) * w) as bigint) end as views,
        case when na is null or pa = t then pl else cast(round(pl + (nl - pl) * w) as bigint) end as likes,
        case when na is null or pa = t then pc else cast(round(pc + (nc - pc) * w) as bigint) end as comments,
        case when na is null or pa = t then ps else cast(round(ps + (ns - ps) * w) as bigint) end as shares,
        case when na is null or pa = t then pz else cast(round(pz + (nz - pz) * w) as bigint) end as saves
    from f
),
o as (select video_id, cast(observed_at as date) as day, count(*) as observations from snaps group by all)
select v.*,
    views - lag(views) over w as views_gained, likes - lag(likes) over w as likes_gained,
    comments - lag(comments) over w as comments_gained, shares - lag(shares) over w as shares_gained,
    saves - lag(saves) over w as saves_gained,
    coalesce(o.observations, 0) as observations, coalesce(o.observations, 0) = 0 as is_interpolated
from v left join o using (video_id, day)
window w as (partition by v.video_id order by v.day)
"""


@dataclass
class Step:
    seconds: float
    peak_mb: float
    detail: dict


def _measured(cmd: list[str], env: dict[str, str] | None = None) -> Step:
    """Run `cmd` in a wrapper process that reports the command's own peak RSS."""
    wrapper = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter(); r = subprocess.run(sys.argv[1:]); dt = time.perf_counter() - t\n"
        "print(json.dumps({'rc': r.returncode, 's': dt, 'kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, env=env or os.environ.copy()
    )
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "{}"
    data = json.loads(last) if last.startswith("{") else {}
    if data.get("rc") != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return Step(seconds=data["s"], peak_mb=data["kb"] / 1024, detail={})


def _duckdb(path: Path, sql: str, params: dict | None = None) -> Step:
    script = (
        "import duckdb, json, sys\n"
        "con = duckdb.connect(sys.argv[1]); con.execute(sys.argv[2], json.loads(sys.argv[3]) or None); con.close()\n"
    )
    return _measured([sys.executable, "-c", script, str(path), sql, json.dumps(params or {})])


def _dbt(path: Path, *args: str) -> Step:
    env = os.environ.copy()
    env["VIEWTRAIL_WAREHOUSE"] = str(path)
    env["DO_NOT_TRACK"] = "1"
    target = path.parent / "dbt_target"
    cmd = [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(DBT_PROJECT),
           "--profiles-dir", str(DBT_PROJECT), "--target-path", str(target), "--log-path", str(path.parent / "logs"),
           "--quiet"]
    step = _measured(cmd, env)
    results = json.loads((target / "run_results.json").read_text())
    step.detail = {r["unique_id"]: r["execution_time"] for r in results["results"]}
    return step


def run_size(n: int, workdir: Path) -> dict:
    path = workdir / f"bench_{n}.duckdb"
    out: dict = {"videos": n}
    _duckdb(path, RAW_DDL)
    t = _duckdb(path, LOAD_SNAPSHOTS.replace(":n", str(n)).replace("{cmp}", "<"))
    out["load_s"] = t.seconds
    import duckdb

    con = duckdb.connect(str(path))
    out["snapshots"] = con.sql("select count(*) from raw.snapshots").fetchall()[0][0]
    con.execute(
        "insert into registry.videos select video_id, split_part(video_id, ':', 1), split_part(video_id, ':', 2),"
        " 'https://example.test/' || video_id, any_value(account), true, 'auto', null, ['bench'], '{}',"
        " 'available', 0, null, timestamp '2024-01-01', timestamp '2024-01-01', null from raw.snapshots group by video_id"
    )
    con.close()

    full = _dbt(path, "build", "--exclude-resource-type", "unit_test")
    out["full_s"], out["full_peak_mb"] = full.seconds, full.peak_mb
    out["full_video_daily_s"] = full.detail.get("model.viewtrail.video_daily")
    out["full_models"] = full.detail

    hour = _duckdb(path, LOAD_SNAPSHOTS.replace(":n", str(n)).replace("{cmp}", ">="))
    con = duckdb.connect(str(path))
    out["hour_snapshots"] = con.sql(
        f"select count(*) from raw.snapshots where observed_at >= timestamp '{START}' + interval {DAYS * 24 - 1} hour"
    ).fetchall()[0][0]
    con.close()
    del hour
    inc = _dbt(path, "build", "--exclude-resource-type", "unit_test")
    out["incremental_s"], out["incremental_peak_mb"] = inc.seconds, inc.peak_mb
    out["incremental_video_daily_s"] = inc.detail.get("model.viewtrail.video_daily")
    out["incremental_tests_s"] = sum(t for k, t in inc.detail.items() if k.startswith("test."))

    hand = _duckdb(path, HAND_QUERY)
    out["hand_s"], out["hand_peak_mb"] = hand.seconds, hand.peak_mb
    # the hand query must compute what the model computes, or the comparison means nothing
    con = duckdb.connect(str(path), read_only=True)
    out["hand_matches_model"] = con.sql(
        "select count(*) = 0 from ((select video_id, day, views, likes, comments, shares, saves, views_gained,"
        " observations from main.hand_daily except all select video_id, day, views, likes, comments, shares,"
        " saves, views_gained, observations from marts.video_daily) union all (select video_id, day, views, likes,"
        " comments, shares, saves, views_gained, observations from marts.video_daily except all select video_id,"
        " day, views, likes, comments, shares, saves, views_gained, observations from main.hand_daily))"
    ).fetchall()[0][0]
    out["daily_rows"] = con.sql("select count(*) from marts.video_daily").fetchall()[0][0]
    con.close()
    # the dbt process itself (parse, connect, compile) costs a few seconds whatever the size
    empty = _dbt(path, "run", "--select", "stg_videos")
    out["dbt_overhead_s"] = empty.seconds
    path.unlink()
    return out


def _fmt_table(rows: list[dict]) -> str:
    lines = [
        "| videos | snapshots | video_daily rows | full `dbt build` | of which video_daily | incremental hour `dbt build` (new snapshots) | of which video_daily | of which data tests (sum) | hand query (floor) | video_daily / hand | peak RSS full / incr / hand |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = r["full_video_daily_s"] / r["hand_s"] if r["hand_s"] else float("nan")
        lines.append(
            f"| {r['videos']:,} | {r['snapshots']:,} | {r['daily_rows']:,} | {r['full_s']:.1f} s | "
            f"{r['full_video_daily_s']:.1f} s | {r['incremental_s']:.1f} s ({r['hour_snapshots']:,}) | "
            f"{r['incremental_video_daily_s']:.2f} s | {r['incremental_tests_s']:.1f} s | {r['hand_s']:.1f} s | {ratio:.1f}x | "
            f"{r['full_peak_mb']:.0f} / {r['incremental_peak_mb']:.0f} / {r['hand_peak_mb']:.0f} MB |"
        )
    return "\n".join(lines)


def write_section(rows: list[dict]) -> None:
    start, end = "<!-- dbt-bench:start -->", "<!-- dbt-bench:end -->"
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    overhead = ", ".join(f"{r['dbt_overhead_s']:.1f} s" for r in rows)
    body = f"""{start}
## dbt models (`bench/dbt_scaling.py`)

Measured {now} on {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.machine()}; each size is
videos x {DAYS} days x {PER_DAY} snapshots/day at jittered times. "Full" is `dbt build --exclude-resource-type
unit_test` (models and data tests, what production runs) on a warehouse holding all but the last hour;
"incremental hour" is the same command after loading that hour's snapshots (about 1/6 of the videos get one). The hand query is the same daily history (spine, ASOF interpolation, gains, observations)
as one DuckDB `CREATE TABLE AS`, run on the same file; the bench checks it returns exactly video_daily's rows
(matches: {", ".join(str(r["hand_matches_model"]).lower() for r in rows)}).
Times are wall clock including process start; a `dbt run` that builds one view costs {overhead}
(parsing, connecting), which dominates small sizes. "of which video_daily" is dbt's own timing of that model
(other models and tests run beside it on the second thread); "of which data tests" sums the tests' own timings.
On this shared 2-vCPU VM the same run varies by up to ~40% from one run to the next (the 10k incremental
build measured between 7 and 11 s over the session); rerun `make bench` on your own machine.

{_fmt_table(rows)}

Targets (issue 4): full build of 10k videos < 60 s on 2 cores, incremental hour < 10 s, video_daily within 3x of
the hand query.
{end}"""
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else (
        "# Benchmarks\n\n<!-- scrape-bench:start -->\n(scrape benchmark not run yet)\n<!-- scrape-bench:end -->\n\n"
        f"{start}\n{end}\n"
    )
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + body + after
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    BENCHMARKS_MD.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--no-write", action="store_true", help="print results, do not touch docs/benchmarks.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="viewtrail-dbt-bench-") as tmp:
        for n in args.sizes:
            print(f"{n:,} videos ...", flush=True)
            row = run_size(n, Path(tmp))
            print(json.dumps({k: v for k, v in row.items() if k != "full_models"}, default=str), flush=True)
            rows.append(row)
    print(_fmt_table(rows))
    if not args.no_write:
        write_section(rows)
        print(f"wrote {BENCHMARKS_MD.relative_to(REPO)}")


if __name__ == "__main__":
    main()
