"""Pipeline commands: `viewtrail demo`, `viewtrail build`, `viewtrail rescrape`.

All three go through Dagster (in-process runs recorded in ``DAGSTER_HOME`` when it is set) or through the
sensors' request queue; none of them writes around the pipeline.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from typing import Annotated

import typer

from viewtrail import config
from viewtrail.cli._common import console as make_console
from viewtrail.cli._common import fail, friendly_errors, readable_warehouse
from viewtrail.domain.models import ShortLink
from viewtrail.domain.urls import parse_video_url
from viewtrail.pipeline.queue import enqueue_rescrape

#: dagster-dbt 0.29 still reads ``context.op`` (deprecated in Dagster 1.13) when it selects the dbt nodes.
_DAGSTER_DBT_DEPRECATION = r"AssetExecutionContext\.op is deprecated"


@contextlib.contextmanager
def _quiet_dbt_output():
    """dagster-dbt echoes dbt's raw log lines to stdout; the full logs are in the Dagster event log (`make ui`),
    so keep the terminal to our progress lines. Silenced too: Dagster's beta/preview notices about the APIs the
    definitions use on purpose, and dagster-dbt's own known deprecation. Any other warning still shows."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_DAGSTER_DBT_DEPRECATION, category=DeprecationWarning)
        yield buffer


def demo(
    videos: Annotated[int, typer.Option("--videos", help="How many sample videos to track.", min=4)] = 200,
    days: Annotated[int, typer.Option("--days", help="Days of hourly history to backfill.", min=1, max=60)] = 14,
) -> None:
    """Run the main job on a fresh demo warehouse with the simulated platform (offline).

    Works in its own data dir, <VIEWTRAIL_DATA_DIR>/demo (default data/demo): a demo warehouse there, sample
    videos on TikTok, YouTube, Instagram and X, the last DAYS days of hourly partitions backfilled through Dagster
    (one run for the discovery, one for the scrapes), the dbt marts built, the demo's alert rules evaluated, and
    data/demo/analytics.duckdb and data/demo/marts/*.parquet published; then prints a short report. Your own warehouse and analyst copy
    (data/warehouse.duckdb, data/analytics.duckdb) are never touched, so you can run the demo again at any time.

    Examples:

      viewtrail demo

      VIEWTRAIL_DATA_DIR=data/demo viewtrail sql "SELECT * FROM marts.video_growth LIMIT 5"
    """
    from viewtrail.app.demo import run_demo  # here: loads Dagster, dbt, duckdb
    from viewtrail.cli.demo_report import render_report

    console = make_console(file=sys.stdout)  # bound now: dbt output is redirected below

    def progress(line: str) -> None:
        console.print(line, markup=False, highlight=False, soft_wrap=True)

    with _quiet_dbt_output():
        report = run_demo(videos=videos, days=days, progress=progress)
    render_report(report, console)


def build(
    full_refresh: Annotated[
        bool,
        typer.Option(
            "--full-refresh",
            help="Rebuild every incremental mart from scratch (after changing a model, or to repair one); says "
            "how far dbt has got, model by model.",
        ),
    ] = False,
) -> None:
    """Build the dbt marts and publish the analyst copy, as one Dagster run.

    Runs `dbt build` (models and data tests) on the warehouse, then writes data/analytics.duckdb (atomically
    replaced) and data/marts/*.parquet. Works on a warehouse filled only by `viewtrail import-snapshots`.

    Examples:

      viewtrail build

      VIEWTRAIL_WAREHOUSE=/srv/viewtrail/warehouse.duckdb viewtrail build

      viewtrail build --full-refresh
    """
    from viewtrail.app.orchestrator import open_orchestrator  # here: loads Dagster

    warehouse = config.warehouse_path()
    if not warehouse.exists():
        raise fail(
            f"There is no warehouse at {warehouse} yet; track videos (viewtrail track URL) or import snapshots "
            f"first, or run `viewtrail demo`."
        )
    console = make_console(file=sys.stdout)
    notices = make_console(file=sys.stderr)  # freed or busy warehouse slot, while stdout is redirected

    def say(line: str) -> None:
        notices.print(line, markup=False, highlight=False, soft_wrap=True)

    with _quiet_dbt_output(), open_orchestrator() as orchestrator:
        run_id = orchestrator.build_and_publish(progress=say, full_refresh=full_refresh)
    console.print(
        f"Built the marts and published {config.analytics_path()} and {config.marts_export_dir()}/ (run {run_id})."
    )


def rescrape(
    videos: Annotated[list[str], typer.Argument(help="Video ids (youtube:dQw4w9WgXcQ) or video URLs.")],
) -> None:
    """Ask for fresh snapshots of some videos now, outside their cadence.

    Queues one request; while the Dagster daemon runs (`make ui`), the rescrape sensor launches one run for
    exactly these videos and consumes the request once.

    Examples:

      viewtrail rescrape youtube:dQw4w9WgXcQ

      viewtrail rescrape https://www.tiktok.com/@scout2015/video/6718335390845095173 x:1790000000000000000
    """
    ids: list[str] = []
    for text in videos:
        ref = parse_video_url(text)
        if isinstance(ref, ShortLink):
            raise fail(
                f"{text} is a short link; open it in a browser and pass the full video URL (or its video id) instead."
            )
        ids.append(ref.video_id)
    ids = list(dict.fromkeys(ids))
    from viewtrail.warehouse.registry import unknown_videos  # here: loads duckdb and polars

    with readable_warehouse() as con:
        unknown = unknown_videos(con, ids)
    if unknown:  # the sensor would drop them: say so now rather than "Queued"
        raise fail(
            f"Not in the registry: {', '.join(unknown)}; track it first (viewtrail track URL), nothing was queued."
        )
    path = enqueue_rescrape(ids)
    typer.echo(
        f"Queued a rescrape of {len(ids)} video(s) ({path.stem if path else 'nothing new'}); the rescrape sensor "
        f"runs it within a minute while `make ui` (the Dagster daemon) is running."
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(friendly_errors(demo))
    app.command("build")(friendly_errors(build))
    app.command("rescrape")(friendly_errors(rescrape))
