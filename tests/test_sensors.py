"""Re-scrape sensors: queue files, failures from the published copy, momentum; and the failure notifier."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, RunRequest, build_sensor_context

from orchestration.defs.notifications import notify_failure
from orchestration.defs.resources import SensorSettings, WarehouseResource
from orchestration.defs.sensors import (
    failed_scrapes_sensor,
    momentum_sensor,
    new_videos_sensor,
    rescrape_sensor,
    retry_delay,
)
from viewtrail.pipeline.queue import QueueKind, enqueue_new_videos, enqueue_rescrape, pending_requests


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


@pytest.fixture
def settings(tmp_path) -> SensorSettings:
    return SensorSettings(
        queue_dir=str(tmp_path / "queue"),
        momentum_min_views_per_hour=10,
        momentum_factor=2.0,
        retry_base_minutes=10,
        retry_cap_minutes=360,
    )


@pytest.fixture
def warehouse(tmp_path) -> WarehouseResource:
    return WarehouseResource(
        path=str(tmp_path / "warehouse.duckdb"),
        analytics_path=str(tmp_path / "analytics.duckdb"),
        marts_export_dir=str(tmp_path / "marts"),
    )


def tick(sensor_def, instance, cursor=None, **resources):
    context = build_sensor_context(cursor=cursor, instance=instance, resources=resources)
    result = sensor_def(context)
    return list(result.run_requests or []), result.cursor


def ops_config(request: RunRequest) -> dict[str, list[str]]:
    return {op: cfg["config"]["video_ids"] for op, cfg in request.run_config["ops"].items()}


@pytest.mark.parametrize(
    ("sensor_def", "enqueue", "kind"),
    [
        (new_videos_sensor, enqueue_new_videos, QueueKind.NEW),
        (rescrape_sensor, enqueue_rescrape, QueueKind.RESCRAPE),
    ],
)
def test_queue_sensor_runs_each_request_once_for_exactly_its_videos(instance, settings, sensor_def, enqueue, kind):
    root = Path(settings.queue_dir)
    requests, cursor = tick(sensor_def, instance, sensor_settings=settings)
    assert requests == []  # nothing queued, nothing launched

    enqueue(["youtube:abcdefghijk", "tiktok:7300000000000000001", "youtube:abcdefghijk"], root=root)
    requests, cursor = tick(sensor_def, instance, sensor_settings=settings)
    assert len(requests) == 1
    request = requests[0]
    assert ops_config(request) == {
        "plans__tiktok": ["tiktok:7300000000000000001"],
        "plans__youtube": ["youtube:abcdefghijk"],
    }
    assert {k.to_user_string() for k in request.asset_selection} == {
        "plans/tiktok",
        "plans/youtube",
        "scrapes/tiktok",
        "raw/tiktok_snapshots",
        "scrapes/youtube",
        "raw/youtube_snapshots",
    }
    assert request.run_key.startswith(f"{kind.value}:") and request.partition_key

    # Same cursor again (e.g. the tick's result was lost): the same run key, which Dagster dedups.
    again, _ = tick(sensor_def, instance, cursor=None, sensor_settings=settings)
    assert [r.run_key for r in again] == [request.run_key]

    # Next tick with the saved cursor: nothing new to launch, and the request file is consumed.
    requests, cursor2 = tick(sensor_def, instance, cursor=cursor, sensor_settings=settings)
    assert requests == [] and cursor2 == cursor
    assert pending_requests(kind, root=root) == []
    assert len(list((root / kind.value / "done").glob("*.json"))) == 1

    enqueue(["x:1800000000000000000"], root=root)
    requests, cursor3 = tick(sensor_def, instance, cursor=cursor2, sensor_settings=settings)
    assert [ops_config(r) for r in requests] == [{"plans__x": ["x:1800000000000000000"]}]
    assert cursor3 > cursor2


def _publish_copy(path: Path, latest: list[tuple], growth: list[tuple]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        tmp.unlink()
    con = duckdb.connect(str(tmp))
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.video_latest (video_id TEXT, is_active BOOLEAN, availability TEXT, last_outcome TEXT,"
        " last_attempt_at TIMESTAMP, consecutive_failures INTEGER)"
    )
    con.execute("CREATE TABLE marts.video_growth (video_id TEXT, views_per_hour_24h DOUBLE)")
    if latest:
        con.executemany("INSERT INTO marts.video_latest VALUES (?, ?, ?, ?, ?, ?)", latest)
    if growth:
        con.executemany("INSERT INTO marts.video_growth VALUES (?, ?)", growth)
    con.close()
    os.replace(tmp, path)
    # mtime resolution: make each publish visibly newer
    stamp = time.time() + len(list(path.parent.glob("*")))
    os.utime(path, (stamp, stamp))


def test_failure_sensor_retries_transient_failures_with_growing_capped_delays(instance, settings, warehouse):
    assert retry_delay(1, 10, 360) == timedelta(minutes=10)
    assert retry_delay(3, 10, 360) == timedelta(minutes=40)
    assert retry_delay(50, 10, 360) == timedelta(minutes=360)

    requests, cursor = tick(failed_scrapes_sensor, instance, sensor_settings=settings, warehouse=warehouse)
    assert requests == []  # no analyst copy yet

    t = now()
    copy = Path(warehouse.analytics_path)
    _publish_copy(
        copy,
        [
            ("youtube:aaaaaaaaaaa", True, "available", "timeout", t - timedelta(minutes=15), 1),  # due (10 min)
            ("youtube:bbbbbbbbbbb", True, "available", "rate_limited", t - timedelta(minutes=15), 3),  # waits 40 min
            ("youtube:ccccccccccc", True, "available", "ok", t - timedelta(minutes=90), 0),
            ("youtube:ddddddddddd", True, "available", "private", t - timedelta(minutes=90), 0),  # not transient
            ("youtube:eeeeeeeeeee", False, "available", "timeout", t - timedelta(hours=9), 1),  # stopped
        ],
        [],
    )
    requests, cursor = tick(failed_scrapes_sensor, instance, sensor_settings=settings, warehouse=warehouse)
    assert [ops_config(r) for r in requests] == [{"plans__youtube": ["youtube:aaaaaaaaaaa"]}]

    # Nothing changed in the copy: the same failure is not retried again.
    requests, cursor = tick(
        failed_scrapes_sensor, instance, cursor=cursor, sensor_settings=settings, warehouse=warehouse
    )
    assert requests == []

    # The retry failed again (a newer attempt, 2 failures in a row): wait 20 minutes, not 10.
    _publish_copy(
        copy,
        [
            ("youtube:aaaaaaaaaaa", True, "available", "timeout", t - timedelta(minutes=12), 2),
            ("youtube:bbbbbbbbbbb", True, "available", "rate_limited", t - timedelta(minutes=45), 3),
        ],
        [],
    )
    requests, cursor = tick(
        failed_scrapes_sensor, instance, cursor=cursor, sensor_settings=settings, warehouse=warehouse
    )
    assert [ops_config(r) for r in requests] == [{"plans__youtube": ["youtube:bbbbbbbbbbb"]}]
    assert json.loads(cursor)["retried"].keys() == {"youtube:aaaaaaaaaaa", "youtube:bbbbbbbbbbb"}


def test_momentum_sensor_boosts_jumping_videos_hourly_for_24h(instance, settings, warehouse):
    copy = Path(warehouse.analytics_path)
    latest = [(v, True, "available", "ok", now(), 0) for v in ("tiktok:1", "tiktok:2", "tiktok:3")]
    _publish_copy(copy, latest, [("tiktok:1", 100.0), ("tiktok:2", 100.0), ("tiktok:3", 2.0)])
    requests, cursor = tick(momentum_sensor, instance, sensor_settings=settings, warehouse=warehouse)
    assert requests == []  # first reading: no previous rate to compare with

    requests, cursor = tick(momentum_sensor, instance, cursor=cursor, sensor_settings=settings, warehouse=warehouse)
    assert requests == []  # copy unchanged: nothing to do

    # tiktok:1 triples, tiktok:2 grows a little, tiktok:3 jumps but stays tiny (below the absolute floor).
    _publish_copy(copy, latest, [("tiktok:1", 300.0), ("tiktok:2", 120.0), ("tiktok:3", 8.0)])
    requests, cursor = tick(momentum_sensor, instance, cursor=cursor, sensor_settings=settings, warehouse=warehouse)
    assert [ops_config(r) for r in requests] == [{"plans__tiktok": ["tiktok:1"]}]
    state = json.loads(cursor)
    until = datetime.fromisoformat(state["boost"]["tiktok:1"])
    assert timedelta(hours=23) < until - now() <= timedelta(hours=24)

    # Same hour: not launched twice.
    requests, cursor = tick(momentum_sensor, instance, cursor=cursor, sensor_settings=settings, warehouse=warehouse)
    assert requests == []

    # Next hour: launched again (hourly), with a distinct run key.
    state = json.loads(cursor)
    state["last_run_hour"] = "2000-01-01T00:00:00"
    requests, cursor = tick(
        momentum_sensor, instance, cursor=json.dumps(state), sensor_settings=settings, warehouse=warehouse
    )
    assert [ops_config(r) for r in requests] == [{"plans__tiktok": ["tiktok:1"]}]

    # After 24 hours the boost expires: back to the normal cadence.
    state = json.loads(cursor)
    state["boost"]["tiktok:1"] = (now() - timedelta(minutes=1)).isoformat()
    state["last_run_hour"] = None
    requests, cursor = tick(
        momentum_sensor, instance, cursor=json.dumps(state), sensor_settings=settings, warehouse=warehouse
    )
    assert requests == [] and json.loads(cursor)["boost"] == {}


class _Recorder(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Recorder.received.append((self.path, self.headers["Content-Type"], json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_failure_notification_logs_a_line_and_posts_json(tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        log = tmp_path / "logs" / "failures.log"
        url = f"http://127.0.0.1:{server.server_address[1]}/hook?token=secret"
        problem = notify_failure(
            job_name="scrape_snapshots",
            run_id="r-1",
            message="Step raw__x_snapshots\nfailed",
            log_path=log,
            webhook_url=url,
        )
        assert problem is None
        line = log.read_text().strip()
        assert "run r-1 of job scrape_snapshots FAILED: Step raw__x_snapshots failed" in line
        path, content_type, payload = _Recorder.received[-1]
        assert path == "/hook?token=secret" and content_type == "application/json"
        assert payload["run_id"] == "r-1" and payload["job_name"] == "scrape_snapshots" and "failed" in payload["text"]
    finally:
        server.shutdown()
        server.server_close()

    # A dead webhook still leaves the log line, and the error does not echo the URL (it may carry a token).
    problem = notify_failure(job_name="j", run_id="r-2", message="boom", log_path=log, webhook_url=url)
    assert problem and "secret" not in problem
    assert log.read_text().count("FAILED") == 2


def test_sensor_settings_defaults_and_env(monkeypatch, tmp_path):
    from orchestration.defs.resources import sensor_settings_from_env

    monkeypatch.setenv("VIEWTRAIL_DATA_DIR", str(tmp_path))
    for var in ("VIEWTRAIL_MOMENTUM_FACTOR", "VIEWTRAIL_RETRY_BASE_MINUTES"):
        monkeypatch.delenv(var, raising=False)
    s = sensor_settings_from_env()
    assert (s.momentum_factor, s.momentum_min_views_per_hour) == (3.0, 100.0)
    # retries after 1 h, 2 h, 4 h ... capped at 24 h
    delays = [retry_delay(n, s.retry_base_minutes, s.retry_cap_minutes) for n in (1, 2, 3, 6, 40)]
    assert delays == [timedelta(hours=h) for h in (1, 2, 4, 24, 24)]
    monkeypatch.setenv("VIEWTRAIL_MOMENTUM_FACTOR", "5")
    assert sensor_settings_from_env().momentum_factor == 5.0
    monkeypatch.setenv("VIEWTRAIL_MOMENTUM_FACTOR", "fast")
    with pytest.raises(ValueError, match="VIEWTRAIL_MOMENTUM_FACTOR"):
        sensor_settings_from_env()
