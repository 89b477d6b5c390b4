"""The hourly job scrapes the platforms at the same time and only their warehouse writes take turns.

The real job (`scrape_snapshots`, multiprocess executor, the committed pool config) runs one partition with the
real clients against the fake platform server on 127.0.0.1, slowed down so each scrape takes seconds. The
scrape steps' intervals come from Dagster's step events; the writes' from ``meta.write_log``, recorded by each
write transaction itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from viewtrail.app import demo
from viewtrail.clock import last_complete_hour, partition_key
from viewtrail.domain.models import Platform
from viewtrail.testing.fake_platform import FakePlatformServer
from viewtrail.warehouse.connection import open_warehouse

REPO = Path(__file__).resolve().parents[1]


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


@pytest.mark.timeout(400)
def test_platform_scrapes_overlap_in_time_while_their_writes_do_not(warehouse_path: Path, tmp_path: Path) -> None:
    from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    hour = last_complete_hour()
    with open_warehouse(warehouse_path) as con:
        demo.register_sample_videos(con, demo.sample_videos(24), added_at=hour - timedelta(days=1))
    with FakePlatformServer(latency_ms=2500) as server:
        env = {**os.environ, "DAGSTER_HOME": str(home), "YOUTUBE_API_KEY": "test-key"}
        for platform in Platform:
            env[f"VIEWTRAIL_{platform.value.upper()}_MODE"] = "real"
            env[f"VIEWTRAIL_{platform.value.upper()}_BASE_URL"] = server.base_url(platform)
        job = subprocess.run(
            [
                str(Path(sys.executable).with_name("dagster")),
                "job",
                "execute",
                "-m",
                "orchestration.definitions",
                "-j",
                "scrape_snapshots",
                "--tags",
                json.dumps({"dagster/partition": partition_key(hour)}),
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=360,
        )
    assert job.returncode == 0, job.stderr[-3000:]

    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with DagsterInstance.get() as instance:
            (run,) = instance.get_runs()
            assert run.status == DagsterRunStatus.SUCCESS
            times: dict[str, list[float]] = {}
            for entry in instance.all_logs(
                run.run_id, of_type={DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}
            ):
                times.setdefault(entry.step_key, []).append(entry.timestamp)
    finally:
        del os.environ["DAGSTER_HOME"]
    scrapes = {key: (min(ts), max(ts)) for key, ts in times.items() if key.startswith("scrapes__")}
    assert len(scrapes) == 4
    overlapping = [(a, b) for a in scrapes for b in scrapes if a < b and _overlap(scrapes[a], scrapes[b]) > 0.5]
    assert overlapping, f"no two platform scrapes ran at the same time: {scrapes}"

    with open_warehouse(warehouse_path, read_only=True) as con:
        writes = con.sql(
            "SELECT epoch(started_at), epoch(finished_at), snapshots_inserted FROM meta.write_log"
            " WHERE kind = 'scrape' ORDER BY started_at"
        ).fetchall()
        platforms = {row[0] for row in con.sql("SELECT DISTINCT platform FROM raw.scrape_attempts").fetchall()}
    assert platforms == {p.value for p in Platform}
    assert len(writes) == 4 and all(inserted > 0 for _, _, inserted in writes)
    for (_, end, _), (start, _, _) in zip(writes, writes[1:], strict=False):
        assert start >= end, "two warehouse writes overlapped"
