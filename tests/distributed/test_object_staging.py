"""Staged batches in S3-compatible object storage (``VIEWTRAIL_STAGING_URL``), against moto's S3 server on 127.0.0.1:
written atomically (a batch of a killed staging is never half-loaded), loaded once, swept after."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import boto3
import pytest

from tests.distributed.conftest import s3_environment
from viewtrail.domain.models import Attempt, Observation, Outcome, Platform, ScrapeResult
from viewtrail.pipeline import staging
from viewtrail.warehouse import open_warehouse
from viewtrail.warehouse.snapshots import write_scrape_frames

REPO = Path(__file__).resolve().parents[2]
H0 = datetime(2026, 11, 10)


def _results(*ns: int) -> list[ScrapeResult]:
    out = []
    for n in ns:
        at = H0 + timedelta(minutes=n)
        out.append(
            ScrapeResult(
                Attempt(f"x:{n}", Platform.X, at, Outcome.OK, source="test"),
                Observation(f"x:{n}", at, views=100 * n, likes=n, comments=0, shares=0, saves=None, source="test"),
            )
        )
    return out


def _keys(bucket: str) -> list[str]:
    client = boto3.client("s3")
    return sorted(
        o["Key"] for p in client.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in p.get("Contents", [])
    )


def test_a_batch_round_trips_through_the_bucket_and_loads_once(s3_bucket: str, tmp_path: Path):
    root = f"s3://{s3_bucket}/staging"
    path = staging.stage(root, Platform.X, "2026-11-10-00:00..2026-11-10-01:00-run1", _results(1, 2, 3))
    assert path == f"{root}/x/2026-11-10-00_00__2026-11-10-01_00-run1"
    batch = staging.load(path)
    assert batch is not None and sorted(batch.snapshots["video_id"].to_list()) == ["x:1", "x:2", "x:3"]
    warehouse = tmp_path / "w.duckdb"
    with open_warehouse(warehouse) as con:
        first = write_scrape_frames(con, batch.snapshots, batch.attempts)
        again = write_scrape_frames(con, batch.snapshots, batch.attempts)  # a re-executed load step
        stored = con.sql("SELECT count(*) FROM raw.snapshots").fetchall()
    assert first.snapshots_inserted == 3 and again.snapshots_inserted == 0 and stored == [(3,)]
    staging.discard(path)
    assert staging.load(path) is None and _keys(s3_bucket) == []


KILLED_WHILE_STAGING = """
import os, signal, sys
from datetime import datetime, timedelta
from viewtrail.pipeline import object_staging, staging
from tests.distributed.test_object_staging import _results
client = object_staging._client()
put = client.put_object
calls = []
def dying_put(**kwargs):
    calls.append(kwargs["Key"])
    if len(calls) == 2:  # the first file is stored, the process dies before the rest and the marker
        os.kill(os.getpid(), signal.SIGKILL)
    return put(**kwargs)
client.put_object = dying_put
staging.stage(sys.argv[1], "x", "run-a", _results(7, 8, 9))
"""


def test_a_staging_killed_midway_is_never_half_loaded(s3_bucket: str, s3_endpoint: str):
    root = f"s3://{s3_bucket}/staging"
    env = dict(os.environ, PYTHONPATH=str(REPO), **s3_environment(s3_endpoint))
    killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_STAGING, root], env=env, cwd=REPO)
    assert killed.returncode == -9
    leftovers = _keys(s3_bucket)
    assert len(leftovers) == 1 and not leftovers[0].endswith("COMMIT")  # one file of the three, no marker
    path = staging.batch_dir(root, "x", "run-a")
    assert staging.load(path) is None  # no batch: the load step asks for a re-scrape

    # a complete batch, then a re-staging of the same batch killed midway: the complete one stays in force
    staging.stage(root, "x", "run-a", _results(1, 2))
    killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_STAGING, root], env=env, cwd=REPO)
    assert killed.returncode == -9
    batch = staging.load(path)
    assert batch is not None and sorted(batch.snapshots["video_id"].to_list()) == ["x:1", "x:2"]


def test_the_sweep_removes_old_and_uncommitted_batches_and_keeps_fresh_ones(
    s3_bucket: str, monkeypatch: pytest.MonkeyPatch
):
    root = f"s3://{s3_bucket}/staging"
    old = staging.stage(root, "x", "run-old", _results(1))
    client = boto3.client("s3")
    client.put_object(Bucket=s3_bucket, Key="staging/youtube/run-dead/0badc0de/snapshots.parquet", Body=b"half")
    fresh = staging.stage(root, "x", "run-fresh", _results(2))
    account = staging.stage_accounts(root, "tiktok", "run-acc", [])
    assert staging.load_accounts(account) == []
    assert staging.sweep(root, older_than=timedelta(days=1)) == []  # everything is recent
    later = time.time() + 2 * 86400
    monkeypatch.setattr(time, "time", lambda: later)  # two days on: the batches of runs that never loaded are old
    staging.stage(root, "x", "run-fresh", _results(3))  # restaged now: fresh again
    removed = staging.sweep(root, older_than=timedelta(days=1))
    assert sorted(removed) == sorted([old, account, f"{root}/youtube/run-dead"])
    batch = staging.load(fresh)
    assert batch is not None and batch.snapshots["video_id"].to_list() == ["x:3"]
    # only the fresh batch's marker and its current attempt's files are left
    assert len(_keys(s3_bucket)) == 4 and all("/run-fresh/" in k for k in _keys(s3_bucket))
