"""Helpers for the API tests (not tests): the real app under uvicorn on 127.0.0.1 in a thread, and keys."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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

        from orchestration.api.app import create_app

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


@contextmanager
def running_api() -> Iterator[ApiServer]:
    server = ApiServer()
    try:
        yield server
    finally:
        server.stop()
