"""The warehouse-write lock across hosts (``VIEWTRAIL_WRITER_LOCK_URL``): a PostgreSQL advisory lock.

Each contending process writes its *own* warehouse file, as writers on different hosts would (or on a shared
filesystem whose file locks do not reach across hosts), so DuckDB's file lock cannot keep them apart: only the
writer lock can. Overlap is measured from the writes, the intervals ``run_write`` records inside each transaction
in ``meta.write_log``; the control run without the lock shows the same measurement does catch overlaps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.distributed.conftest import pg_url

WORKER = Path(__file__).with_name("lock_worker.py")
REPO = Path(__file__).resolve().parents[2]


def _contend(tmp_path: Path, lock_url: str | None, processes: int, writes: int, hold_s: float) -> list[tuple]:
    env = {k: v for k, v in os.environ.items() if k != "VIEWTRAIL_WRITER_LOCK_URL"}
    env.update(VIEWTRAIL_OFFLINE="1", VIEWTRAIL_DATA_DIR=str(tmp_path), VIEWTRAIL_LOCK_TIMEOUT_S="600")
    env["PYTHONPATH"] = str(REPO)
    if lock_url:
        env["VIEWTRAIL_WRITER_LOCK_URL"] = lock_url
    start = time.time() + 8  # every process is up and has its file migrated by then, even on a busy machine
    files = [tmp_path / f"host{i}.duckdb" for i in range(processes)]
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(f), repr(start), str(writes), repr(hold_s)], env=env, cwd=REPO
        )
        for f in files
    ]
    for proc in procs:
        assert proc.wait(timeout=600) == 0, "a contending writer failed (its traceback is above)"
    intervals = []
    for f in files:
        with duckdb.connect(str(f), read_only=True) as con:
            intervals += con.sql(
                "SELECT epoch(started_at), epoch(finished_at), pid FROM meta.write_log WHERE kind = 'lock-test'"
            ).fetchall()
    assert len(intervals) == processes * writes
    return sorted(intervals)


def _overlaps(intervals: list[tuple]) -> list[tuple]:
    return [(a, b) for a, b in zip(intervals, intervals[1:], strict=False) if b[0] < a[1]]


@pytest.mark.timeout(900)
def test_hundreds_of_simultaneous_claims_from_several_processes_never_overlap(tmp_path: Path, pg_database: str):
    intervals = _contend(tmp_path, pg_url(pg_database), processes=5, writes=60, hold_s=0.002)
    assert len({pid for _, _, pid in intervals}) == 5
    assert _overlaps(intervals) == []
    # reported, not asserted: how the lock hands over under contention on this machine
    gaps = sorted(b[0] - a[1] for a, b in zip(intervals, intervals[1:], strict=False))
    span = intervals[-1][1] - intervals[0][0]
    print(
        f"\nwriter lock: {len(intervals)} writes from 5 processes in {span:.1f}s; hand-over gap between writes "
        f"median {1000 * gaps[len(gaps) // 2]:.1f} ms, 95th percentile {1000 * gaps[int(len(gaps) * 0.95)]:.1f} ms"
    )


@pytest.mark.timeout(600)
def test_without_the_lock_the_same_writers_do_overlap(tmp_path: Path):
    """The control: the measurement above can fail."""
    intervals = _contend(tmp_path, None, processes=3, writes=20, hold_s=0.05)
    assert _overlaps(intervals) != []


HOLD = """
import sys, time
from viewtrail.warehouse.writer_lock import writer_lock
with writer_lock(run_id="1a2b3c4d5e6f"):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.mark.timeout(300)
def test_a_killed_holder_frees_the_lock_and_a_waiter_names_the_holder(
    tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch
):
    from viewtrail.warehouse import writer_lock as wl

    url = pg_url(pg_database)
    env = dict(os.environ, VIEWTRAIL_WRITER_LOCK_URL=url, PYTHONPATH=str(REPO))
    holder = subprocess.Popen([sys.executable, "-c", HOLD], env=env, stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("VIEWTRAIL_WRITER_LOCK_URL", url)
        monkeypatch.setattr(wl, "FIRST_REPORT_S", 0.2)
        heard: list[str] = []
        with pytest.raises(wl.WriterLockError) as refused:
            with wl.writer_lock(lock_timeout_s=1.5, on_wait=heard.append):
                pass
        assert heard, "the waiter said nothing while it waited"
        assert f"pid={holder.pid} run=1a2b3c4d" in heard[0] and "waited" in heard[0]
        assert f"pid={holder.pid}" in str(refused.value) and "VIEWTRAIL_LOCK_TIMEOUT_S" in str(refused.value)
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
        # PostgreSQL ends the dead holder's session and its lock with it
        with wl.writer_lock(lock_timeout_s=120):
            pass
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_an_unreachable_lock_server_fails_with_one_sentence_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from viewtrail.warehouse.connection import open_warehouse
    from viewtrail.warehouse.writer_lock import WriterLockError

    monkeypatch.setenv("VIEWTRAIL_WRITER_LOCK_URL", "postgresql://vt:s3cr3t-pw@127.0.0.1:9/nowhere")
    with pytest.raises(WriterLockError) as refused:
        with open_warehouse(tmp_path / "w.duckdb"):
            pass
    message = str(refused.value)
    assert "VIEWTRAIL_WRITER_LOCK_URL" in message and "s3cr3t-pw" not in message
    assert "\n" not in message
    assert not (tmp_path / "w.duckdb").exists()  # nothing was written without the lock
