"""The browser tests' fixtures; what they are made of, and why, is in browser_support.py."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    CHROMIUM,
    DEMO_DAYS,
    DEMO_VIDEOS,
    REPO,
    Browsing,
    Demo,
    Server,
    serving,
    viewtrail_command,
)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`viewtrail demo --videos 16 --days 3` in a temp data dir, through Dagster as `make demo` runs it.

    To iterate on the tests, VIEWTRAIL_BROWSER_DEMO=<a demo data dir, e.g. data/demo> copies that one instead."""
    root = tmp_path_factory.mktemp("browser-demo")
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {k: v for k, v in os.environ.items() if not (k.startswith("VIEWTRAIL_") and k != "VIEWTRAIL_NOW")}
    env.update(DAGSTER_HOME=str(home), VIEWTRAIL_DATA_DIR=str(root / "data"), VIEWTRAIL_OFFLINE="1")
    data = root / "data" / "demo"
    reuse = os.environ.get("VIEWTRAIL_BROWSER_DEMO")
    if reuse:
        shutil.copytree(reuse, data, ignore=shutil.ignore_patterns("*.wal", "api.sqlite3*"))
        return Demo(data, _pointed_at(env, data))
    done = subprocess.run(
        [*viewtrail_command(), "demo", "--videos", str(DEMO_VIDEOS), "--days", str(DEMO_DAYS)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, f"viewtrail demo failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return Demo(data, _pointed_at(env, data))


def _pointed_at(env: dict[str, str], data: Path) -> dict[str, str]:
    return env | {
        "VIEWTRAIL_DATA_DIR": str(data),
        "VIEWTRAIL_WAREHOUSE": str(data / "warehouse.duckdb"),
        "VIEWTRAIL_ANALYTICS": str(data / "analytics.duckdb"),
        "VIEWTRAIL_API_RATE_PER_MIN": "100000",
    }


@pytest.fixture(scope="session")
def server(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`viewtrail serve` on 127.0.0.1, as a user starts it: the pages need no login."""
    with serving(demo, "127.0.0.1", tmp_path_factory.mktemp("serve") / "serve.log") as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: run `make test-browser` (it installs the `browser` extra).")
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.fail(f"No chromium at {CHROMIUM}: run `apt-get install -y chromium` (or set VIEWTRAIL_CHROMIUM).")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def browsing(browser: Any, server: Server) -> Iterator[Browsing]:
    """Each test gets its own context (cookies, storage). Any request whose host is not 127.0.0.1 is aborted and
    recorded, and so is any uncaught error of a page's script: both fail the test."""
    session = Browsing.start(browser, server)
    try:
        yield session
    finally:
        session.context.close()
    assert session.foreign == [], f"requests left 127.0.0.1: {session.foreign}"
    assert session.errors == [], f"page script errors: {session.errors}"
