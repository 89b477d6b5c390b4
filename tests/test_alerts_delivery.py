"""Alert storage and delivery: a local JSON webhook (Apprise json://127.0.0.1) and a local SMTP server (aiosmtpd);
a dead channel keeps the event pending and retries with back-off; channel URLs never appear anywhere shown."""

from __future__ import annotations

import json
import socket
import stat
import threading
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import duckdb
import pytest

from viewtrail.alerts import channels as ch
from viewtrail.alerts import store
from viewtrail.alerts.delivery import backoff
from viewtrail.alerts.model import Scope
from viewtrail.alerts.rules import build_params
from viewtrail.alerts.service import run_alerts
from viewtrail.warehouse.connection import open_warehouse
from viewtrail.warehouse.migrations import LATEST_VERSION, apply_migrations, current_version

VID = "tiktok:7300000000000000001"
T0 = datetime(2026, 3, 1)
NOW = datetime(2026, 3, 5, 12)
SECRET = "s3cr3tT0KENdoNotShow"


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"path": self.path, **json.loads(body)})
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def hook():
    handler = type("Hook", (_Hook,), {"received": [], "status": 200})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    received: list[str] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.content.decode("utf-8", "replace"))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield received, port
    controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _marts(con: duckdb.DuckDBPyConnection, views: list[int]) -> None:
    """Hand-built marts: one TikTok video posted on day 0, crossing 10k views on day 2."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(
        "CREATE OR REPLACE TABLE marts.video_latest AS SELECT ?::TEXT AS video_id, 'tiktok' AS platform,"
        " 'scout' AS account, ['launch'] AS labels, 'https://www.tiktok.com/@scout/video/7300000000000000001' AS url,"
        " 'Dance' AS title, true AS is_active, 'available' AS availability, ?::TIMESTAMP AS posted_at,"
        " ?::TIMESTAMP AS last_observed_at",
        [VID, T0 + timedelta(hours=1), T0 + timedelta(days=len(views) - 1, hours=20)],
    )
    con.execute(
        "CREATE OR REPLACE TABLE marts.video_daily (video_id TEXT, day DATE, views BIGINT, views_gained BIGINT,"
        " observations INTEGER)"
    )
    previous = None
    for i, v in enumerate(views):
        con.execute(
            "INSERT INTO marts.video_daily VALUES (?, ?, ?, ?, 4)",
            [VID, date(2026, 3, 1) + timedelta(days=i), v, None if previous is None else v - previous],
        )
        previous = v


def _evaluate(con, secrets: Path, now: datetime):
    state = store.read_state(con, now)
    inputs = store.read_inputs(con, state.rules, now)
    urls = store.channel_urls(con, secrets)
    run = run_alerts(state, inputs, urls, now)
    store.write_run(con, run)
    return run


def test_events_reach_a_local_webhook_and_a_local_smtp_server(warehouse_path: Path, hook, smtp) -> None:
    handler, port = hook
    received_mail, smtp_port = smtp
    secrets = ch.channels_file(warehouse_path)
    with open_warehouse() as con:
        _marts(con, [4_000, 8_000, 12_000])
        store.add_channel(con, "hook", f"json://127.0.0.1:{port}/alerts/{SECRET}", secrets_file=secrets, now=T0)
        store.add_channel(
            con,
            "mail",
            f"mailto://127.0.0.1:{smtp_port}?from=viewtrail@example.com&to=team@example.com&mode=insecure",
            secrets_file=secrets,
            now=T0,
        )
        store.add_rule(con, "milestone", Scope(), build_params("milestone"), channels=["hook", "mail"], created_at=T0)
        run = _evaluate(con, secrets, NOW)
        assert [e.numbers["threshold"] for e in run.events] == [10_000]
        assert sorted((d.channel, d.status) for d in run.deliveries) == [("hook", "delivered"), ("mail", "delivered")]
        events = store.list_events(con)
        assert [(d["channel"], d["status"]) for d in events[0]["deliveries"]] == [
            ("hook", "delivered"),
            ("mail", "delivered"),
        ]
        # evaluated again: nothing new, nothing re-sent
        assert _evaluate(con, secrets, NOW + timedelta(hours=1)).events == []
    assert len(handler.received) == 1
    assert handler.received[0]["path"] == f"/alerts/{SECRET}"
    assert handler.received[0]["title"] == "viewtrail: Dance crossed 10k views"
    assert "https://www.tiktok.com/@scout/video/7300000000000000001" in handler.received[0]["message"]
    assert len(received_mail) == 1 and "Subject: viewtrail: Dance crossed 10k views" in received_mail[0]


def test_a_dead_channel_keeps_the_event_pending_and_retries_with_back_off(warehouse_path: Path, hook) -> None:
    handler, live_port = hook
    dead_port = _free_port()
    secrets = ch.channels_file(warehouse_path)
    with open_warehouse() as con:
        _marts(con, [4_000, 8_000, 12_000])
        store.add_channel(con, "team", f"json://127.0.0.1:{dead_port}/{SECRET}", secrets_file=secrets, now=T0)
        store.add_rule(con, "milestone", Scope(), build_params("milestone"), channels=["team"], created_at=T0)
        first = _evaluate(con, secrets, NOW)
        (delivery,) = first.deliveries
        assert delivery.status == "failed" and delivery.attempts == 1
        assert delivery.next_attempt_at == NOW + backoff(1)
        assert SECRET not in (delivery.reason or "") and str(dead_port) not in (delivery.reason or "")
        # before the back-off ends: not tried again
        assert _evaluate(con, secrets, NOW + timedelta(minutes=5)).deliveries == []
        # still dead after the back-off: the wait doubles
        second = _evaluate(con, secrets, NOW + timedelta(minutes=20))
        assert [(d.attempts, d.next_attempt_at - (NOW + timedelta(minutes=20))) for d in second.deliveries] == [
            (2, backoff(2))
        ]
        # the channel comes back (same name, a live URL): delivered on the next due evaluation, event unchanged
        store.add_channel(con, "team", f"json://127.0.0.1:{live_port}/{SECRET}", secrets_file=secrets, now=T0)
        third = _evaluate(con, secrets, NOW + timedelta(hours=2))
        assert [(d.status, d.attempts) for d in third.deliveries] == [("delivered", 3)]
        assert con.execute("SELECT count(*) FROM raw.alert_events").fetchall() == [(1,)]
    assert len(handler.received) == 1


def test_channel_urls_stay_out_of_the_warehouse_and_the_file_is_private(warehouse_path: Path) -> None:
    secrets = ch.channels_file(warehouse_path)
    with open_warehouse() as con:
        channel = store.add_channel(con, "slack", f"slack://T000/B000/{SECRET}", secrets_file=secrets, now=T0)
        store.add_channel(con, "hook", f"jsons://hooks.example.com/x/{SECRET}?k={SECRET}", secrets_file=secrets, now=T0)
        assert channel.target == "slack://***"
        targets = sorted(c.target for c in store.list_channels(con))
        assert targets == ["jsons://hooks.example.com", "slack://***"]
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert SECRET.encode() not in warehouse_path.read_bytes()
    assert SECRET in secrets.read_text()


def test_unknown_channel_urls_are_refused_without_echoing_them() -> None:
    from viewtrail.domain.errors import InvalidInputError

    with pytest.raises(InvalidInputError) as error:
        ch.check_url(f"nosuchscheme://{SECRET}@example.com/")
    assert SECRET not in str(error.value)


def test_version_3_warehouse_upgrades_to_alerts_keeping_rows(warehouse_path: Path) -> None:
    con = duckdb.connect(str(warehouse_path))
    apply_migrations(con, up_to=3)
    con.execute(
        "INSERT INTO raw.snapshots (video_id, observed_at, views, source, ingested_at) VALUES (?, ?, 5, 'import', ?)",
        [VID, T0, T0],
    )
    con.close()
    with open_warehouse() as con:
        assert current_version(con) == LATEST_VERSION
        assert con.execute("SELECT views FROM raw.snapshots").fetchall() == [(5,)]
        assert con.execute("SELECT count(*) FROM registry.alert_rules").fetchall() == [(0,)]
