"""Without a Celery broker (one machine), the builds and the sensors' targeted scrapes keep running every step in
the run's own process, as the daemon's run worker launches them: no process per step, no worker to wait for."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dagster import DagsterInstance, execute_job
from dagster._core.definitions.reconstruct import ReconstructableRepository

from orchestration.defs.sensors import targeted_run_request
from viewtrail.domain.models import Platform, VideoRef
from viewtrail.domain.urls import canonical_url
from viewtrail.warehouse import open_warehouse, track_refs

REPO = Path(__file__).resolve().parents[1]


def test_a_targeted_scrape_runs_in_the_run_process_on_one_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data = tmp_path / "data"
    monkeypatch.setenv("VIEWTRAIL_DATA_DIR", str(data))
    monkeypatch.setenv("VIEWTRAIL_WAREHOUSE", str(data / "warehouse.duckdb"))
    monkeypatch.setenv("VIEWTRAIL_OFFLINE", "1")
    monkeypatch.delenv("VIEWTRAIL_CELERY_BROKER", raising=False)
    external_id = "7310000000000000001"
    ref = VideoRef(Platform.TIKTOK, external_id, canonical_url(Platform.TIKTOK, external_id, "someone"), "someone")
    data.mkdir()
    with open_warehouse(data / "warehouse.duckdb") as con:
        track_refs(con, [ref])
    request = targeted_run_request([ref.video_id], run_key="one-machine", reason="test")
    assert request is not None
    repository = ReconstructableRepository.for_module("orchestration.definitions", "defs", working_directory=str(REPO))
    (tmp_path / "dagster_home").mkdir()
    with DagsterInstance.local_temp(str(tmp_path / "dagster_home")) as instance:
        with execute_job(
            repository.get_reconstructable_job("scrape_videos_now"),
            instance,
            run_config=request.run_config,
            tags={**request.tags, "dagster/partition": request.partition_key},
            asset_selection=list(request.asset_selection),
        ) as result:
            assert result.success
            started = [e for e in result.all_events if e.event_type_value == "STEP_START"]
    assert [e.step_key for e in started] == ["plans__tiktok", "scrapes__tiktok", "raw__tiktok_snapshots"]
    assert {e.pid for e in started} == {os.getpid()}  # every step in this process: the run's own
    with open_warehouse(data / "warehouse.duckdb", read_only=True) as con:
        assert con.sql("SELECT video_id FROM raw.scrape_attempts").fetchall() == [(ref.video_id,)]
