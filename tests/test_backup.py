"""`viewtrail backup` / `viewtrail restore`: a consistent, checksummed copy restorable into a fresh data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from viewtrail.cli import app
from viewtrail.warehouse import open_warehouse

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()
VIDEOS = ["https://youtu.be/dQw4w9WgXcQ", "https://www.tiktok.com/@bob/video/7234567890123456789"]


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result


def one_sentence(result) -> str:
    assert "Traceback" not in result.output
    text = result.stderr.strip()
    assert len(text.splitlines()) == 1, text
    return text


def contents(path: Path) -> dict[str, list[tuple]]:
    with open_warehouse(path, read_only=True) as con:
        return {
            table: con.sql(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
            for table in ("registry.videos", "meta.write_log", "raw.snapshots", "meta.schema_migrations")
        }


# A write that commits, then the process dies without closing the file: its commit is only in the WAL.
KILLED_AFTER_COMMIT = """
import os, sys
from viewtrail.warehouse import open_warehouse
from viewtrail.warehouse.transactions import run_write
opened = open_warehouse(sys.argv[1])  # kept referenced: never exited, never closed
con = opened.__enter__()
run_write(con, lambda w: None, kind="left-in-the-wal", run_id="killed")
os._exit(0)
"""


def test_a_backup_restores_into_a_fresh_data_dir_with_every_committed_write(
    warehouse_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    run("track", "--no-scrape", *VIDEOS, "--label", "launch")
    subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_COMMIT, str(warehouse_path)], check=True, cwd=REPO, env=dict(os.environ)
    )
    assert warehouse_path.with_name(warehouse_path.name + ".wal").exists()  # the commit is not in the file yet
    before = contents(warehouse_path)
    assert [row[1] for row in before["meta.write_log"]] == ["left-in-the-wal"]

    target = tmp_path / "backups" / "monday"
    done = run("backup", str(target))
    assert str(target) in done.stdout
    manifest = json.loads((target / "manifest.json").read_text())
    assert set(manifest["files"]) == {"warehouse.duckdb"}
    assert manifest["schema_version"] == before["meta.schema_migrations"][-1][0]
    assert sorted(p.name for p in target.iterdir()) == ["manifest.json", "warehouse.duckdb"]
    assert not list(target.parent.glob(".*partial*"))

    fresh = tmp_path / "fresh"
    monkeypatch.setenv("VIEWTRAIL_DATA_DIR", str(fresh))
    monkeypatch.setenv("VIEWTRAIL_WAREHOUSE", str(fresh / "warehouse.duckdb"))
    restored = run("restore", str(target))
    assert "Restored" in restored.stdout
    assert contents(fresh / "warehouse.duckdb") == before


def test_backup_refuses_a_non_empty_directory_and_a_missing_warehouse(warehouse_path: Path, tmp_path: Path):
    missing = one_sentence(run("backup", str(tmp_path / "b"), code=1))
    assert "no warehouse" in missing and "VIEWTRAIL_WAREHOUSE" in missing
    run("track", "--no-scrape", VIDEOS[0])
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    assert "not empty" in one_sentence(run("backup", str(busy), code=1))
    assert sorted(p.name for p in busy.iterdir()) == ["keep.txt"]


def test_restore_refuses_an_existing_warehouse_without_replace_and_a_damaged_backup(
    warehouse_path: Path, tmp_path: Path
):
    run("track", "--no-scrape", VIDEOS[0])
    backup = tmp_path / "b1"
    run("backup", str(backup))
    original = contents(warehouse_path)
    run("track", "--no-scrape", VIDEOS[1])
    changed = contents(warehouse_path)
    assert changed != original

    refused = one_sentence(run("restore", str(backup), code=1))
    assert "already holds a warehouse" in refused and "--replace" in refused
    assert contents(warehouse_path) == changed

    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for name in ("manifest.json", "warehouse.duckdb"):
        (damaged / name).write_bytes((backup / name).read_bytes())
    data = bytearray((damaged / "warehouse.duckdb").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (damaged / "warehouse.duckdb").write_bytes(bytes(data))
    bad = one_sentence(run("restore", str(damaged), "--replace", code=1))
    assert "checksum" in bad and "nothing was restored" in bad
    assert contents(warehouse_path) == changed

    assert "not a viewtrail backup" in one_sentence(run("restore", str(tmp_path), code=1))

    replaced = run("restore", str(backup), "--replace")
    assert "Replaced" in replaced.stdout
    assert contents(warehouse_path) == original
