"""Helpers for the API tests (not tests): the real app under uvicorn on 127.0.0.1 in a thread, and keys."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import pytest


@contextmanager
def api_env(tmp: Path, **extra: str) -> Iterator[Path]:
    """A fresh data dir (offline) in the environment for the block; yields the data dir."""
    data = tmp / "data"
    data.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VIEWTRAIL_DATA_DIR", str(data))
        mp.setenv("VIEWTRAIL_WAREHOUSE", str(data / "warehouse.duckdb"))
        mp.setenv("VIEWTRAIL_ANALYTICS", str(data / "analytics.duckdb"))
        mp.setenv("VIEWTRAIL_OFFLINE", "1")
        for name, value in extra.items():
            mp.setenv(name, value)
        yield data


class ApiServer:
    """``create_app()`` served by uvicorn on a free loopback port, in a daemon thread."""

    def __init__(self) -> None:
        import uvicorn

        from viewtrail.api.app import create_app

        self.app = create_app()
        self.store = self.app.state.service.store
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)

    def key(self, scope: str = "write", name: str = "test") -> str:
        return self.store.create_key(name, scope)[1]

    def client(self, key: str | None = None, **kwargs) -> httpx.Client:  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        # poll with sleep rather than join(timeout=...): under faketime a timed lock wait may never return
        deadline = time.monotonic() + 10
        while self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)


def problem(response: httpx.Response, status: int, code: str) -> dict:
    """Assert ``response`` is an RFC 9457 problem with this status and code; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code and body["status"] == status
    assert body["type"].startswith("urn:") and body["title"] and body["detail"] and body["instance"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@contextmanager
def running_api() -> Iterator[ApiServer]:
    server = ApiServer()
    try:
        yield server
    finally:
        server.stop()


ACCOUNTS_NOW = datetime(2026, 11, 3, 13)


def publish_watched_accounts(data: Path) -> None:
    """Watch three accounts the way `viewtrail watch` does (two of them under the creator "Space Agency"; the
    creator "Later Crew" has none), store discovery results the way the discovery assets do, build the account
    and creator marts with dbt and publish the analyst copy. Followers of tiktok:nasa: 1000 on Nov 1 12:00, 1480 on Nov 3 12:00 (Nov 2 interpolated)."""
    from dbt_support import dbt

    from viewtrail.domain.models import AccountAttempt, AccountObservation, AccountResult, Outcome, Platform
    from viewtrail.domain.urls import parse_account_url
    from viewtrail.pipeline.publish import publish
    from viewtrail.warehouse import open_warehouse
    from viewtrail.warehouse.accounts import add_creator, record_account_results, watch_accounts

    def discovered(
        account_id: str,
        platform: Platform,
        at: datetime,
        followers: int | None,
        views: int | None = None,
        display_name: str | None = None,
    ) -> AccountResult:
        attempt = AccountAttempt(account_id, platform, at, Outcome.OK, source="test", videos_listed=0)
        observation = AccountObservation(
            account_id, at, followers, 10, None, 42, views, display_name=display_name, source="test"
        )
        return AccountResult(attempt, observation, [])

    warehouse = data / "warehouse.duckdb"
    with open_warehouse(warehouse) as con:
        watch_accounts(
            con,
            [parse_account_url("https://www.tiktok.com/@nasa"), parse_account_url("https://www.youtube.com/@esa")],
            creator="Space Agency",
            labels=["space"],
            now=datetime(2026, 10, 31),
        )
        watch_accounts(
            con, [parse_account_url("https://www.instagram.com/solo/")], discovery="off", now=datetime(2026, 10, 31)
        )
        add_creator(con, "Later Crew", labels=["tbd"], now=datetime(2026, 10, 31))
        record_account_results(
            con,
            [
                discovered("tiktok:nasa", Platform.TIKTOK, datetime(2026, 11, 1, 12), 1000, display_name="NASA"),
                discovered("tiktok:nasa", Platform.TIKTOK, datetime(2026, 11, 3, 12), 1480, display_name="NASA"),
                discovered("youtube:esa", Platform.YOUTUBE, datetime(2026, 11, 2, 12), 500, views=9000),
                discovered("instagram:solo", Platform.INSTAGRAM, datetime(2026, 11, 3, 0), 0),
            ],
            now=ACCOUNTS_NOW,
        )
    dbt(
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--select",
        "+account_latest",
        "+account_metrics_daily",
        "+creator_daily",
        "+creator_latest",
        "+video_engagement",  # the relationships test of video_engagement to video_latest is selected with it
        warehouse=warehouse,
    )
    with open_warehouse(warehouse) as con:
        publish(con)
