"""`viewtrail demo`: the main job, end to end, offline, on a fresh demo warehouse.

1. create a fresh demo warehouse at the configured path (refusing to touch one holding real data);
2. track ~200 sample videos across the four platforms (deterministic ids, realistic canonical URLs);
3. backfill the last 14 days of hourly partitions with the simulated platform, through Dagster: one run per
   platform asset covering the whole range (``BackfillPolicy.single_run()``), in-process, recorded in the
   Dagster instance of ``DAGSTER_HOME`` when it is set (so the runs show in ``make ui``);
4. build the dbt models and publish the analyst copy (``data/analytics.duckdb`` + ``data/marts/*.parquet``),
   again as Dagster runs (:mod:`orchestration.runs`);
5. print a short report.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from orchestration import config
from orchestration.clock import last_complete_hour, partition_key
from orchestration.errors import ViewtrailError
from orchestration.models import Platform

DEMO_VIDEO_COUNT = 200
DEMO_DAYS = 14
#: Marks a warehouse as created by the demo: only such a warehouse is ever deleted by `viewtrail demo`.
DEMO_MARKER_TABLE = "meta.demo_warehouse"
DEMO_LABELS = ("launch", "tutorial", "behind-the-scenes", "collab", "evergreen")

Progress = Callable[[str], None]


class DemoError(ViewtrailError):
    """The demo cannot run (e.g. the configured warehouse holds real data)."""


@dataclass(frozen=True, slots=True)
class SampleVideo:
    video_id: str
    platform: Platform
    external_id: str
    url: str
    account: str | None
    labels: tuple[str, ...]


def _digest(*parts: object) -> bytes:
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest()


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _external_id(platform: Platform, index: int) -> str:
    raw = _digest("demo-video", platform.value, index)
    number = int.from_bytes(raw, "big")
    if platform is Platform.TIKTOK:
        return str(7_300_000_000_000_000_000 + number % 100_000_000_000_000_000)  # 19 digits, like real ids
    if platform is Platform.X:
        return str(1_800_000_000_000_000_000 + number % 100_000_000_000_000_000)
    length = 11 if platform is Platform.YOUTUBE else 11  # YouTube ids and Instagram shortcodes
    chars = []
    for _ in range(length):
        number, rest = divmod(number, 64)
        chars.append(_B64[rest])
    code = "".join(chars)
    return code if platform is Platform.YOUTUBE else "C" + code[1:]


def sample_videos(count: int = DEMO_VIDEO_COUNT) -> list[SampleVideo]:
    """``count`` deterministic sample videos spread over the four platforms and several accounts each."""
    from orchestration.platforms.simulated import video_profile
    from orchestration.urls import canonical_url

    platforms = list(Platform)
    videos = []
    for index in range(count):
        platform = platforms[index % len(platforms)]
        external_id = _external_id(platform, index)
        video_id = f"{platform.value}:{external_id}"
        account = video_profile(video_id).account  # the simulated platform's author, as the URL would show it
        url = canonical_url(platform, external_id, account)
        label_pick = _digest("labels", video_id)[0]
        labels = tuple(
            label for bit, label in enumerate(DEMO_LABELS) if label_pick >> bit & 1 and bit < len(DEMO_LABELS)
        )[:2]
        videos.append(SampleVideo(video_id, platform, external_id, url, account, labels))
    return videos


# --------------------------------------------------------------------------------------------------
# the demo warehouse


def _is_demo_warehouse(path: Path) -> tuple[bool, int]:
    """(marked as a demo warehouse, number of tracked videos) of an existing file."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        marked = bool(
            con.sql(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = 'meta' AND table_name = 'demo_warehouse'"
            ).fetchall()
        )
        has_registry = bool(
            con.sql(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = 'registry' AND table_name = 'videos'"
            ).fetchall()
        )
        videos = con.sql("SELECT count(*) FROM registry.videos").fetchall()[0][0] if has_registry else 0
        return marked, int(videos)
    finally:
        con.close()


def _remove_warehouse_files(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        if candidate.exists():
            candidate.unlink()


def prepare_demo_warehouse(path: Path) -> None:
    """Delete a previous demo warehouse at ``path``; refuse when the file holds anything else."""
    import duckdb

    if not path.exists():
        return
    try:
        marked, videos = _is_demo_warehouse(path)
    except duckdb.IOException as error:
        raise DemoError(
            f"The warehouse {path} is in use by another process ({str(error).splitlines()[0][:120]}); stop the "
            f"pipeline (make ui) and close any session on it, then run the demo again."
        ) from None
    except duckdb.Error:
        raise DemoError(
            f"{path} exists and is not a DuckDB warehouse; the demo will not overwrite it. Point "
            f"VIEWTRAIL_DATA_DIR (or VIEWTRAIL_WAREHOUSE) at another place, e.g. VIEWTRAIL_DATA_DIR=./demo-data."
        ) from None
    if not marked and videos > 0:
        raise DemoError(
            f"The warehouse {path} holds {videos} tracked videos that are not demo data; the demo refuses to "
            f"replace it. Run it elsewhere, e.g. VIEWTRAIL_DATA_DIR=./demo-data viewtrail demo."
        )
    _remove_warehouse_files(path)


def register_sample_videos(con: Any, videos: Sequence[SampleVideo], added_at: datetime) -> None:
    """Track the sample videos (auto cadence, active) and mark the warehouse as a demo, in one transaction."""
    import polars as pl

    from orchestration.warehouse.registry import TRACK_FRAME_SCHEMA, track_frame

    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE TABLE IF NOT EXISTS {DEMO_MARKER_TABLE} (created_at TIMESTAMP NOT NULL, videos INTEGER)")
        con.execute(f"INSERT INTO {DEMO_MARKER_TABLE} VALUES (?, ?)", [added_at, len(videos)])
        track_frame(
            con,
            pl.DataFrame(
                [
                    {
                        "video_id": v.video_id,
                        "platform": v.platform.value,
                        "external_id": v.external_id,
                        "url": v.url,
                        "account": v.account,
                        "cadence": "auto",
                        "track_until": None,
                        "labels": list(v.labels),
                        "metadata": json.dumps({"source": "viewtrail demo"}),
                        "active": True,
                    }
                    for v in videos
                ],
                schema=TRACK_FRAME_SCHEMA,
            ),
            now=added_at,
            transaction=False,
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


# --------------------------------------------------------------------------------------------------
# the report


@dataclass(frozen=True, slots=True)
class DemoReport:
    videos_tracked: int
    snapshots_stored: int
    attempts_stored: int
    first_hour: datetime
    last_hour: datetime
    top_growth: list[tuple[str, str | None, int | None, float | None]]  # video_id, title, views gained 7d, % increase
    analytics_path: Path
    marts_dir: Path
    seconds: float


def _top_growth(con: Any, limit: int = 10) -> list[tuple]:
    return con.sql(
        "SELECT g.video_id, l.title, g.views_gained_7d, g.increase_7d_pct"
        " FROM marts.video_growth g LEFT JOIN marts.video_latest l USING (video_id)"
        f" WHERE g.views_gained_7d IS NOT NULL ORDER BY g.views_gained_7d DESC, g.video_id LIMIT {int(limit)}"
    ).fetchall()


def read_report(analytics_path: Path, first_hour: datetime, last_hour: datetime, seconds: float) -> DemoReport:
    import duckdb

    con = duckdb.connect(str(analytics_path), read_only=True)
    try:
        videos = con.sql("SELECT count(*) FROM registry.videos").fetchall()[0][0]
        snapshots = con.sql("SELECT count(*) FROM raw.snapshots").fetchall()[0][0]
        attempts = con.sql("SELECT count(*) FROM raw.scrape_attempts").fetchall()[0][0]
        top = _top_growth(con)
    finally:
        con.close()
    return DemoReport(
        videos_tracked=int(videos),
        snapshots_stored=int(snapshots),
        attempts_stored=int(attempts),
        first_hour=first_hour,
        last_hour=last_hour,
        top_growth=[tuple(row) for row in top],
        analytics_path=analytics_path,
        marts_dir=config.marts_export_dir(),
        seconds=seconds,
    )


def run_demo(
    *, videos: int = DEMO_VIDEO_COUNT, days: int = DEMO_DAYS, progress: Progress = print, now: datetime | None = None
) -> DemoReport:
    """The main job. Raises :class:`DemoError` (one sentence) when it cannot run."""
    from orchestration.warehouse.connection import open_warehouse

    started = time.monotonic()
    warehouse = config.warehouse_path()
    last_hour = last_complete_hour(now)
    first_hour = last_hour - timedelta(days=days) + timedelta(hours=1)

    progress(f"1/4 fresh demo warehouse at {warehouse}")
    prepare_demo_warehouse(warehouse)
    sample = sample_videos(videos)
    with open_warehouse(warehouse) as con:
        register_sample_videos(con, sample, added_at=first_hour)
    progress(f"2/4 tracking {len(sample)} sample videos on {', '.join(p.value for p in Platform)}")

    from orchestration.runs import backfill_snapshots, build_and_publish, dagster_instance, pipeline_resources

    resources = pipeline_resources(simulated=True)
    with dagster_instance() as instance:
        progress(
            f"3/4 backfilling {days} day(s) of hourly partitions ({partition_key(first_hour)} .. "
            f"{partition_key(last_hour)}) with the simulated platform, one run per platform"
        )
        backfill_snapshots(instance, resources, first_hour, last_hour, progress)
        progress("4/4 dbt build (models + tests) and publishing the analyst copy")
        build_and_publish(instance, resources)
    return read_report(config.analytics_path(), first_hour, last_hour, time.monotonic() - started)


def render_report(report: DemoReport, console: Any) -> None:
    from rich.table import Table

    console.print(
        f"\n[bold]viewtrail demo[/bold] done in {report.seconds:.0f}s: "
        f"[bold]{report.videos_tracked}[/bold] videos tracked, [bold]{report.snapshots_stored:,}[/bold] snapshots "
        f"stored ({report.attempts_stored:,} scrape attempts) for {report.first_hour:%Y-%m-%d %H:00} .. "
        f"{report.last_hour:%Y-%m-%d %H:00} UTC."
    )
    if report.top_growth:
        table = Table(title="Top 10 videos by 7-day view growth (marts.video_growth)")
        table.add_column("video_id")
        table.add_column("title")
        table.add_column("views +7d", justify="right")
        table.add_column("growth", justify="right")
        for video_id, title, gain, pct in report.top_growth:
            table.add_row(
                video_id,
                (title or "")[:40],
                f"{gain:,}" if isinstance(gain, int) else str(gain),
                f"+{pct:,.0f}%" if isinstance(pct, (int, float)) else "",
            )
        console.print(table)
    console.print(
        "Next:\n"
        "  make ui                      # Dagster UI + daemon on http://127.0.0.1:3000 (assets, runs, schedules)\n"
        f"  duckdb -readonly {report.analytics_path}   # the analyst copy (DuckDB 2.x); e.g.\n"
        "      SELECT * FROM marts.video_growth ORDER BY views_per_hour_24h DESC LIMIT 10;\n"
        f"  Parquet exports of every mart: {report.marts_dir}/"
    )
