"""The browser harness (its fixtures are in conftest.py): a small demo warehouse, `viewtrail serve` over it as a
subprocess on 127.0.0.1, and headless Debian chromium driven by Playwright, with every request that would leave
127.0.0.1 aborted and recorded.

These tests run with `make test-browser` (they need the `browser` extra and /usr/bin/chromium); `make test` leaves
them out (`--ignore=tests/browser` in pytest's addopts). Without Playwright or chromium each test errors with the
command that fixes it, never skips: a green run always means the pages were checked in a real browser.

Timeouts are generous and every wait is for a selector or a response, never a sleep: the machine may be a loaded
2-core one.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
#: Where the tests write the screenshots docs/dashboard.md shows.
SCREENSHOTS = REPO / "docs" / "dashboard"
CHROMIUM = os.environ.get("VIEWTRAIL_CHROMIUM", "/usr/bin/chromium")
#: The demo the pages are served over: small enough for a fixture (a couple of minutes on 2 busy cores), with
#: everything the full demo has (launches and catalogue videos, accounts, creators, the inbox, fired alerts).
DEMO_VIDEOS = 16
DEMO_DAYS = 3
#: Playwright waits, in ms: a loaded machine renders slowly, a wait that passes returns at once anyway.
ACTION_TIMEOUT_MS = 60_000
NAVIGATION_TIMEOUT_MS = 120_000
LOCAL_HOSTS = {"127.0.0.1"}


def viewtrail_command() -> list[str]:
    script = Path(sys.executable).with_name("viewtrail")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from viewtrail.cli import app; app()"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@dataclass
class Demo:
    """A demo data dir (`viewtrail demo` output) and the environment that points the CLI at it."""

    data: Path
    env: dict[str, str]

    @property
    def analytics(self) -> Path:
        return self.data / "analytics.duckdb"

    def viewtrail(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [*viewtrail_command(), *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        assert done.returncode == 0, f"viewtrail {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout


@dataclass
class Server:
    """`viewtrail serve` on a loopback address, as a user starts it."""

    url: str
    demo: Demo
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.url + path, timeout=60, **kwargs)


@contextmanager
def serving(demo: Demo, host: str, log: Path) -> Iterator[Server]:
    """`viewtrail serve --host HOST` over the demo on a free port, until the block ends (stopped as Ctrl-C
    stops it). Fails the test with the server's output if it does not answer within 180 s."""
    port = free_port(host)
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*viewtrail_command(), "serve", "--host", host, "--port", str(port)],
            cwd=REPO,
            env=demo.env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Server(f"http://{host}:{port}", demo, process, log)
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"viewtrail serve exited with {process.returncode}:\n{log.read_text()[-4000:]}")
            try:
                if running.get("/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"viewtrail serve did not answer within 180 s:\n{log.read_text()[-4000:]}")
            time.sleep(0.2)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # uvicorn's graceful stop, as Ctrl-C
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)


@dataclass
class Browsing:
    """A fresh browser context on the server: its first page, and what left 127.0.0.1 or broke in a page."""

    server: Server
    context: Any
    page: Any
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, browser: Any, server: Server) -> Browsing:
        """A new context whose requests to any host but 127.0.0.1 (and the server's own loopback address) are
        aborted and recorded in ``foreign``, and whose pages' uncaught script errors are recorded in ``errors``."""
        context = browser.new_context(
            base_url=server.url, viewport={"width": 1280, "height": 860}, locale="en-US", timezone_id="UTC"
        )
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        session = cls(server, context, None)

        allowed = LOCAL_HOSTS | {server.host}

        def guard(route: Any) -> None:
            if urlsplit(route.request.url).hostname in allowed:
                route.continue_()
            else:
                session.foreign.append(route.request.url)
                route.abort("blockedbyclient")

        context.route("**/*", guard)
        context.on("weberror", lambda error: session.errors.append(str(error.error)))
        session.page = context.new_page()
        return session

    def open(self, path: str) -> Any:
        """A new tab of the same context at ``path`` (as a user opening a copied link)."""
        tab = self.context.new_page()
        tab.goto(path)
        return tab

    def screenshot(self, page: Any, name: str, *, full_page: bool = False) -> Path:
        """docs/dashboard/<name>.png: the window, or with ``full_page`` the whole page."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path
