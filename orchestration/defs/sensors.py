"""Sensors that trigger re-scrapes, and the run-failure notifier.

None of them opens the live warehouse: they read the queue files (``viewtrail.pipeline.queue``), the published
analyst copy (opened read-only for a moment; publishing replaces it atomically, so nobody waits), and
Dagster's own event log.

Targeted runs scrape exactly the named videos of the last complete hourly partition, observed "now"
(``SnapshotRunConfig.video_ids``); each run only selects the platforms the videos belong to.
"""

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import duckdb
from dagster import (
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from orchestration.defs.assets import plan_asset_key, scrape_asset_key, snapshot_asset_key
from orchestration.defs.jobs import BUILD_SELECTION, scrape_videos_job
from orchestration.defs.notifications import notify_failure
from orchestration.defs.resources import NotifierResource, SensorSettings, WarehouseResource
from viewtrail.clock import hour_start, last_complete_hour, partition_key, utc_now
from viewtrail.domain.hashing import STABLE
from viewtrail.domain.models import TRANSIENT_OUTCOMES, Platform
from viewtrail.pipeline.queue import QueueKind, mark_consumed, pending_requests
from viewtrail.warehouse import marts

_TRANSIENT = sorted(o.value for o in TRANSIENT_OUTCOMES)
T = TypeVar("T")


def current_partition_key(now: datetime | None = None) -> str:
    """The last complete hour: the partition a targeted run writes under."""
    return partition_key(last_complete_hour(now))


def targeted_run_request(video_ids: Iterable[str], *, run_key: str, reason: str, now: datetime | None = None):
    """One run scraping exactly ``video_ids`` (only their platforms' assets). None if no id names a platform."""
    by_platform: dict[Platform, list[str]] = defaultdict(list)
    for video_id in dict.fromkeys(video_ids):
        prefix = video_id.split(":", 1)[0]
        try:
            by_platform[Platform(prefix)].append(video_id)
        except ValueError:
            continue  # not a video id; the CLI validates, this only guards hand-written queue files
    if not by_platform:
        return None
    ops = {
        plan_asset_key(p).to_python_identifier(): {"config": {"video_ids": sorted(ids)}}
        for p, ids in sorted(by_platform.items())
    }
    return RunRequest(
        run_key=run_key,
        partition_key=current_partition_key(now),
        asset_selection=[
            key for p in sorted(by_platform) for key in (plan_asset_key(p), scrape_asset_key(p), snapshot_asset_key(p))
        ],
        run_config={"ops": ops},
        tags={"viewtrail/reason": reason, "viewtrail/videos": str(sum(map(len, by_platform.values())))},
    )


def _queue_tick(context: SensorEvaluationContext, settings: SensorSettings, kind: QueueKind) -> SensorResult:
    """Launch one run per queued request; consume files only once the cursor shows their run was requested.

    Tick N yields run requests and advances the cursor to the newest request id; tick N+1 moves those files to
    ``done/``. A crash in between re-yields the same run keys, which Dagster dedups: each request runs once.
    """
    root = Path(settings.queue_dir)
    cursor = context.cursor or ""
    requests = pending_requests(kind, root=root)
    for request in requests:
        if cursor and request.request_id <= cursor:
            mark_consumed(request)
    now = utc_now()
    # A held request (the CLI is taking those first snapshots itself) waits; named by due time, it stays
    # newer than the cursor until it falls due.
    fresh = [r for r in requests if (not cursor or r.request_id > cursor) and r.is_due(now)]
    if not fresh:
        return SensorResult(skip_reason=SkipReason(f"no new {kind.value} requests"), cursor=cursor or None)
    run_requests = []
    for request in fresh:
        run_request = targeted_run_request(
            request.video_ids, run_key=f"{kind.value}:{request.request_id}", reason=f"{kind.value} request"
        )
        if run_request is not None:
            run_requests.append(run_request)
    return SensorResult(run_requests=run_requests, cursor=max(r.request_id for r in fresh))


@sensor(
    job=scrape_videos_job,
    minimum_interval_seconds=5,
    default_status=DefaultSensorStatus.RUNNING,
    description="First snapshot within seconds for videos tracked without one (queue files from `track --no-scrape`, imports beyond the inline limit, other tools).",
)
def new_videos_sensor(context: SensorEvaluationContext, sensor_settings: SensorSettings):
    return _queue_tick(context, sensor_settings, QueueKind.NEW)


@sensor(
    job=scrape_videos_job,
    minimum_interval_seconds=5,
    default_status=DefaultSensorStatus.RUNNING,
    description="Runs `viewtrail rescrape` requests, exactly those videos, once per request.",
)
def rescrape_sensor(context: SensorEvaluationContext, sensor_settings: SensorSettings):
    return _queue_tick(context, sensor_settings, QueueKind.RESCRAPE)


def _read_published(
    path: Path, read: Callable[[duckdb.DuckDBPyConnection], list[T]], *needs: marts.Mart
) -> list[T] | None:
    """What ``read`` answers on the analyst copy, or None when the copy does not exist yet, is not readable right
    now or has no ``needs`` marts yet."""
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        if not set(needs) <= marts.built(con):
            return None
        return read(con)
    except duckdb.Error:
        return None
    finally:
        con.close()


def _load_cursor(cursor: str | None) -> dict:
    try:
        return json.loads(cursor) if cursor else {}
    except ValueError:
        return {}


def retry_delay(consecutive_failures: int, base_minutes: float, cap_minutes: float) -> timedelta:
    """Growing, capped delay before retrying a video that failed transiently ``consecutive_failures`` times."""
    exponent = max(consecutive_failures - 1, 0)
    return timedelta(minutes=min(base_minutes * (2 ** min(exponent, 20)), cap_minutes))


def _digest(items: Iterable[str]) -> str:
    return STABLE.digest(*items, size=8).hex()


@sensor(
    job=scrape_videos_job,
    minimum_interval_seconds=300,
    default_status=DefaultSensorStatus.RUNNING,
    description="Retries videos whose last attempt failed transiently, with growing capped delays.",
)
def failed_scrapes_sensor(
    context: SensorEvaluationContext, sensor_settings: SensorSettings, warehouse: WarehouseResource
):
    state = _load_cursor(context.cursor)
    retried: dict[str, str] = state.get("retried", {})  # video_id -> last_attempt_at already retried
    failing = _read_published(
        Path(warehouse.analytics_path), lambda con: marts.failing_videos(con, _TRANSIENT), marts.Mart.VIDEO_LATEST
    )
    if failing is None:
        return SensorResult(skip_reason=SkipReason("no analyst copy published yet"), cursor=context.cursor)
    now = utc_now()
    due = []
    still_failing: dict[str, str] = {}
    for video in failing:
        stamp = video.last_attempt_at.isoformat() if video.last_attempt_at else ""
        still_failing[video.video_id] = stamp
        if retried.get(video.video_id) == stamp:
            continue  # this failure was already retried; wait for the copy to show the retry's outcome
        if video.last_attempt_at and now < video.last_attempt_at + retry_delay(
            int(video.consecutive_failures), sensor_settings.retry_base_minutes, sensor_settings.retry_cap_minutes
        ):
            continue
        due.append((video.video_id, stamp))
    # Forget videos that recovered, so the cursor stays small.
    retried = {v: s for v, s in retried.items() if v in still_failing}
    if not due:
        return SensorResult(
            skip_reason=SkipReason("no failed scrape is due for a retry"),
            cursor=json.dumps({"retried": retried}, sort_keys=True),
        )
    for video_id, stamp in due:
        retried[video_id] = stamp
    request = targeted_run_request(
        [v for v, _ in due], run_key=f"retry:{_digest(f'{v}@{s}' for v, s in due)}", reason="retry transient failures"
    )
    return SensorResult(
        run_requests=[request] if request else [], cursor=json.dumps({"retried": retried}, sort_keys=True)
    )


@sensor(
    job=scrape_videos_job,
    minimum_interval_seconds=600,
    default_status=DefaultSensorStatus.RUNNING,
    description="Videos whose views per hour jumped are re-scraped hourly for the next 24 hours.",
)
def momentum_sensor(context: SensorEvaluationContext, sensor_settings: SensorSettings, warehouse: WarehouseResource):
    """Cursor: {"copy": mtime of the analyst copy last read, "rates": {video: views/h}, "boost": {video: until},
    "last_run_hour": hour of the last boosted run}. Rates are compared only when the growth mart was republished."""
    state = _load_cursor(context.cursor)
    rates: dict[str, float] = state.get("rates", {})
    boost: dict[str, str] = state.get("boost", {})
    now = utc_now()
    path = Path(warehouse.analytics_path)
    copy_stamp = path.stat().st_mtime if path.exists() else None
    if copy_stamp is not None and copy_stamp != state.get("copy"):
        growth = _read_published(path, marts.active_growth_rates, marts.Mart.VIDEO_GROWTH, marts.Mart.VIDEO_LATEST)
        if growth is not None:
            until = (now + timedelta(hours=sensor_settings.momentum_hours)).isoformat()
            for video in growth:
                previous, rate = rates.get(video.video_id), video.views_per_hour_24h
                if (
                    previous is not None
                    and rate >= sensor_settings.momentum_min_views_per_hour
                    and rate >= sensor_settings.momentum_factor * max(previous, 1e-9)
                ):
                    boost[video.video_id] = until
                rates[video.video_id] = rate
            state["copy"] = copy_stamp
    boost = {v: u for v, u in boost.items() if datetime.fromisoformat(u) > now}
    hour = hour_start(now).isoformat()
    new_state = {"copy": state.get("copy"), "rates": rates, "boost": boost, "last_run_hour": state.get("last_run_hour")}
    if not boost or state.get("last_run_hour") == hour:
        reason = "no video has momentum" if not boost else "boosted videos already re-scraped this hour"
        return SensorResult(skip_reason=SkipReason(reason), cursor=json.dumps(new_state, sort_keys=True))
    new_state["last_run_hour"] = hour
    request = targeted_run_request(sorted(boost), run_key=f"momentum:{hour}", reason="momentum")
    return SensorResult(run_requests=[request] if request else [], cursor=json.dumps(new_state, sort_keys=True))


@run_failure_sensor(
    name="notify_run_failures",
    default_status=DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=False,
    description="Writes a line to data/logs/failures.log and POSTs VIEWTRAIL_WEBHOOK_URL when set.",
)
def notify_run_failures(context: RunFailureSensorContext, notifier: NotifierResource):
    run = context.dagster_run
    message = context.failure_event.message or "run failed"
    problem = notify_failure(
        job_name=run.job_name,
        run_id=run.run_id,
        message=message,
        log_path=Path(notifier.log_path),
        webhook_url=notifier.webhook_url,
        extra={"partition": run.tags.get("dagster/partition")},
    )
    if problem:
        context.log.warning(problem)


#: dbt build + publish after new snapshots land (the dbt assets' and analytics_copy's automation condition).
#: Declared explicitly so it starts RUNNING with `make ui` (the implicit default sensor may start stopped), and
#: evaluated every 10 s (the daemon loops every 5 s at the most) so a new snapshot reaches the analyst copy within
#: a minute (bench/freshness.py, docs/benchmarks.md).
BUILD_AUTOMATION_INTERVAL_S = 10
build_after_snapshots_sensor = AutomationConditionSensorDefinition(
    "build_after_new_snapshots",
    target=BUILD_SELECTION,
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=BUILD_AUTOMATION_INTERVAL_S,
    description="Runs dbt build and publishes the analyst copy once new snapshots landed and no scrape is running.",
)

all_sensors = [
    build_after_snapshots_sensor,
    new_videos_sensor,
    rescrape_sensor,
    failed_scrapes_sensor,
    momentum_sensor,
    notify_run_failures,
]
