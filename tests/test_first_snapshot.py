"""The first snapshot of a newly tracked video, taken at once by the process that tracked it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from viewtrail.app import demo
from viewtrail.app.first_snapshot import INLINE_RUN_ID, take_first_snapshots
from viewtrail.clock import last_complete_hour
from viewtrail.domain.models import Outcome, Platform, VideoRef
from viewtrail.domain.urls import canonical_url
from viewtrail.platforms.factory import build_client
from viewtrail.testing.fake_platform import FakePlatformServer
from viewtrail.warehouse import open_warehouse, track_refs

REPO = Path(__file__).resolve().parents[1]


def _refs() -> list[VideoRef]:
    return [
        VideoRef(Platform.YOUTUBE, "dQw4w9WgXcQ", canonical_url(Platform.YOUTUBE, "dQw4w9WgXcQ", None)),
        VideoRef(
            Platform.TIKTOK, "7300000000000000001", canonical_url(Platform.TIKTOK, "7300000000000000001", "a"), "a"
        ),
    ]


def _track(warehouse: Path) -> list[str]:
    with open_warehouse(warehouse) as con:
        track_refs(con, _refs())
    return [r.video_id for r in _refs()]


def _stored(warehouse: Path, sql: str) -> list[tuple]:
    with open_warehouse(warehouse, read_only=True) as con:
        return con.sql(sql).fetchall()


def test_the_first_snapshot_is_stored_at_once_and_says_what_was_observed(warehouse_path: Path) -> None:
    ids = _track(warehouse_path)
    first = take_first_snapshots(ids, open_warehouse=lambda: open_warehouse(warehouse_path))
    assert [f.video_id for f in first] == ids
    assert all(f.outcome == "ok" and f.views is not None for f in first)
    assert first[0].describe() == f"{ids[0]}: {first[0].views:,} views"
    rows = _stored(warehouse_path, "SELECT video_id, views, run_id FROM raw.snapshots ORDER BY video_id")
    assert sorted((v, n) for v, n, _ in rows) == sorted((f.video_id, f.views) for f in first)
    assert {r[2] for r in rows} == {INLINE_RUN_ID}
    (logged,) = _stored(warehouse_path, "SELECT count(*) FROM meta.write_log WHERE run_id = 'inline-first-snapshot'")
    assert logged == (1,)


def test_a_blocked_platform_reports_why_and_keeps_the_attempt_for_the_pipeline(warehouse_path: Path, tmp_path) -> None:
    ids = _track(warehouse_path)
    with FakePlatformServer(fault_rate=1.0, faults=("challenge",)) as server:

        def client(platform: Platform):
            return build_client(
                platform,
                "real",
                base_url=server.base_url(platform),
                api_key="test-key",
                state_dir=tmp_path / "state",
                backoff_base_s=0.01,
            )

        first = take_first_snapshots(ids, open_warehouse=lambda: open_warehouse(warehouse_path), build_client=client)
    by_id = {f.video_id: f for f in first}
    assert by_id["tiktok:7300000000000000001"].outcome == Outcome.BLOCKED.value
    assert "no first snapshot yet, blocked" in by_id["tiktok:7300000000000000001"].describe()
    attempts = _stored(warehouse_path, "SELECT video_id, outcome FROM raw.scrape_attempts ORDER BY video_id")
    assert ("tiktok:7300000000000000001", "blocked") in attempts  # transient: due again in the next run
    assert _stored(warehouse_path, "SELECT count(*) FROM raw.snapshots WHERE video_id LIKE 'tiktok:%'") == [(0,)]


def test_offline_real_clients_are_skipped_without_touching_the_network(warehouse_path: Path, monkeypatch) -> None:
    ids = _track(warehouse_path)
    monkeypatch.setenv("VIEWTRAIL_OFFLINE", "1")
    first = take_first_snapshots(
        ids,
        open_warehouse=lambda: open_warehouse(warehouse_path),
        build_client=lambda platform: build_client(platform, "real", api_key="test-key"),
    )
    assert [f.outcome for f in first] == ["skipped", "skipped"]
    assert all("VIEWTRAIL_OFFLINE" in f.describe() for f in first)
    assert _stored(warehouse_path, "SELECT count(*) FROM raw.scrape_attempts") == [(0,)]


BACKFILL = """
import sys, warnings
warnings.filterwarnings("ignore")
from datetime import datetime
from orchestration.runs import backfill_snapshots, dagster_instance, pipeline_resources
with dagster_instance() as instance:
    backfill_snapshots(instance, pipeline_resources(simulated=True), datetime.fromisoformat(sys.argv[1]),
                       datetime.fromisoformat(sys.argv[2]), print)
"""


@pytest.mark.timeout(300)
def test_first_snapshots_taken_while_a_pipeline_run_writes_never_overlap_its_writes(
    warehouse_path: Path, tmp_path: Path
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    last = last_complete_hour()
    first_hour = last - timedelta(hours=23)
    with open_warehouse(warehouse_path) as con:
        demo.register_sample_videos(con, demo.sample_videos(40), added_at=first_hour - timedelta(days=1))
    pipeline = subprocess.Popen(
        [sys.executable, "-c", BACKFILL, first_hour.isoformat(), last.isoformat()],
        cwd=REPO,
        env={**os.environ, "DAGSTER_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    taken = 0
    while pipeline.poll() is None and taken < 20:
        with open_warehouse(warehouse_path) as con:
            track_refs(con, [VideoRef(Platform.X, f"19{taken:017d}", f"https://x.com/i/status/19{taken:017d}")])
        first = take_first_snapshots([f"x:19{taken:017d}"], open_warehouse=lambda: open_warehouse(warehouse_path))
        assert first[0].outcome in {o.value for o in Outcome}
        taken += 1
    out, err = pipeline.communicate(timeout=240)
    assert pipeline.returncode == 0, err[-3000:]
    writes = _stored(
        warehouse_path, "SELECT epoch(started_at), epoch(finished_at), run_id FROM meta.write_log ORDER BY started_at"
    )
    assert {run_id == INLINE_RUN_ID for *_, run_id in writes} == {True, False}  # both kinds of writer wrote
    for (_, end, _), (start, _, _) in zip(writes, writes[1:], strict=False):
        assert start >= end, "an inline first snapshot overlapped a pipeline write"


def test_an_inline_first_snapshot_is_reported_so_the_build_automation_picks_it_up(tmp_path, monkeypatch) -> None:
    from dagster import AssetKey, DagsterInstance, evaluate_automation_conditions

    from orchestration import runs
    from orchestration.definitions import defs

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert runs.report_inline_snapshots(["youtube"]) is False  # no instance to tell
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    definitions = defs()
    with DagsterInstance.get() as instance:
        quiet = evaluate_automation_conditions(defs=definitions, instance=instance)
        assert not quiet.get_num_requested(AssetKey("analytics_copy"))
        assert runs.report_inline_snapshots(["youtube", "youtube"]) is True
        after = evaluate_automation_conditions(defs=definitions, instance=instance, cursor=quiet.cursor)
        assert after.get_num_requested(AssetKey("analytics_copy")) and after.get_num_requested(
            AssetKey(["marts", "video_latest"])
        )
