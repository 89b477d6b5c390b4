"""The code location as the UI serves it: start dagster-webserver on 127.0.0.1 and ask its GraphQL API whether
the asset graph links the platform snapshot assets through dbt to the marts and the published copy."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from orchestration.defs.dbt import mart_names

REPO = Path(__file__).resolve().parents[1]
PLATFORM_ASSETS = {"raw/tiktok_snapshots", "raw/youtube_snapshots", "raw/instagram_snapshots", "raw/x_snapshots"}
MARTS = {f"marts/{name}" for name in mart_names()}

QUERY = """
{
  assetNodes {
    assetKey { path }
    dependencyKeys { path }
    groupName
    isPartitioned
  }
}
"""


def _live_members(group: int) -> list[int]:
    """Processes of process group ``group`` that have not exited (zombies left unreaped do not count)."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] not in ("Z", "X") and fields[2] == str(group):
            live.append(int(stat.parent.name))
    return live


def _end_group(group: int, grace_s: float = 5.0) -> None:
    """Let what the webserver started (its code server) stop, then kill what is left. The webserver asks its code
    server to stop, and it does within a second, except under faketime: the code server acts on the request from
    a thread polling with ``Event.wait(0.5)``, a timed lock wait that never returns when the monotonic clock is
    shifted, so it would outlive the suite."""
    if not Path("/proc/self/stat").exists():
        return
    deadline = time.monotonic() + grace_s
    while _live_members(group) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _live_members(group):
        with contextlib.suppress(ProcessLookupError):  # gone meanwhile
            os.killpg(group, signal.SIGKILL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def webserver(tmp_path: Path):
    port = _free_port()
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "VIEWTRAIL_DATA_DIR": str(tmp_path / "data"),
        "VIEWTRAIL_WAREHOUSE": str(tmp_path / "data" / "warehouse.duckdb"),
        "VIEWTRAIL_OFFLINE": "1",
    }
    log = (tmp_path / "webserver.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("dagster-webserver")),
            "-w",
            str(REPO / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, with the code server it starts
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise AssertionError(f"dagster-webserver exited: {(tmp_path / 'webserver.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("dagster-webserver did not answer within 120 s")
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        _end_group(process.pid)
        log.close()


@pytest.mark.timeout(240)
def test_graphql_asset_graph_links_platform_snapshots_to_marts_and_the_published_copy(webserver: str) -> None:
    deadline = time.monotonic() + 90
    while True:  # the code location loads in the background after the server starts
        response = httpx.post(f"{webserver}/graphql", json={"query": QUERY}, timeout=30)
        response.raise_for_status()
        nodes = response.json()["data"]["assetNodes"]
        if nodes or time.monotonic() > deadline:
            break
        time.sleep(1)
    deps = {"/".join(n["assetKey"]["path"]): {"/".join(d["path"]) for d in n["dependencyKeys"]} for n in nodes}
    partitioned = {"/".join(n["assetKey"]["path"]) for n in nodes if n["isPartitioned"]}

    assert PLATFORM_ASSETS <= partitioned  # hourly partitions
    assert deps["staging/stg_snapshots"] == PLATFORM_ASSETS  # the dbt source is the four platform assets
    assert MARTS <= set(deps)
    assert deps["analytics_copy"] == MARTS | {"alerts/alert_events"}  # what a build fired is in the copy it publishes

    def upstream(key: str, seen: set[str] | None = None) -> set[str]:
        seen = set() if seen is None else seen
        for parent in deps.get(key, ()):
            if parent not in seen:
                seen.add(parent)
                upstream(parent, seen)
        return seen

    for mart in MARTS:  # one lineage graph: every mart traces back to every platform's snapshots
        assert PLATFORM_ASSETS <= upstream(mart), mart
    assert PLATFORM_ASSETS <= upstream("analytics_copy")
