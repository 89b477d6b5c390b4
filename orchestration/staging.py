"""Scrape results staged on disk between the scrape (no warehouse, no pool slot) and the pooled write.

A staged batch is a directory ``<root>/<platform>/<batch id>/`` holding ``snapshots.parquet``,
``attempts.parquet`` (the frames of :func:`orchestration.warehouse.results_to_frames`) and ``links.json``
(short links resolved while scraping). It is written under a temporary name and renamed into place, so a
batch is either complete or absent: a process killed while staging leaves only a temporary directory, and
the write step then finds no batch and asks for a re-scrape instead of loading half of one. Loading is
idempotent (the warehouse write ignores rows it already has), so a batch loaded twice changes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import polars as pl

from orchestration.models import Platform, ScrapeResult, VideoRef

_SNAPSHOTS = "snapshots.parquet"
_ATTEMPTS = "attempts.parquet"
_LINKS = "links.json"
_STAGED_AT = "staged_at"  # when the batch was staged, by this process's clock (file times may disagree)
_TMP_MARK = ".staging-"


@dataclass(frozen=True, slots=True)
class StagedBatch:
    path: Path
    snapshots: pl.DataFrame
    attempts: pl.DataFrame
    links: list[tuple[str, VideoRef]]  # (short link, the video it leads to)


def batch_dir(root: Path, platform: Platform | str, batch_id: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in batch_id)
    return Path(root) / Platform(platform).value / safe


def stage(
    root: Path,
    platform: Platform | str,
    batch_id: str,
    results: Iterable[ScrapeResult],
    links: Sequence[tuple[str, VideoRef]] = (),
) -> Path:
    """Write a complete batch atomically (a previous batch with the same id is replaced)."""
    from orchestration.warehouse.snapshots import results_to_frames

    target = batch_dir(root, platform, batch_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}{_TMP_MARK}{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    (tmp / _STAGED_AT).write_text(repr(time.time()))
    snapshots, attempts = results_to_frames(results)
    snapshots.write_parquet(tmp / _SNAPSHOTS)
    attempts.write_parquet(tmp / _ATTEMPTS)
    (tmp / _LINKS).write_text(
        json.dumps(
            [
                {
                    "link": link,
                    "platform": ref.platform.value,
                    "external_id": ref.external_id,
                    "url": ref.url,
                    "account": ref.account,
                }
                for link, ref in links
            ]
        )
    )
    for name in (_SNAPSHOTS, _ATTEMPTS, _LINKS):
        with open(tmp / name, "rb") as handle:
            os.fsync(handle.fileno())
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return target


def load(path: Path) -> StagedBatch | None:
    """The batch at ``path``, or ``None`` when there is none (never staged, or staging was interrupted)."""
    path = Path(path)
    if not all((path / name).is_file() for name in (_SNAPSHOTS, _ATTEMPTS, _LINKS)):
        return None
    links = [
        (item["link"], VideoRef(Platform(item["platform"]), item["external_id"], item["url"], item["account"]))
        for item in json.loads((path / _LINKS).read_text())
    ]
    return StagedBatch(path, pl.read_parquet(path / _SNAPSHOTS), pl.read_parquet(path / _ATTEMPTS), links)


def discard(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def sweep(root: Path, *, older_than: timedelta) -> list[Path]:
    """Remove batches and interrupted stagings older than ``older_than`` (left by runs that died before
    their write); their videos are due again and get scraped afresh. Returns what was removed."""
    removed = []
    root = Path(root)
    if not root.is_dir():
        return removed
    cutoff = time.time() - older_than.total_seconds()
    for platform_dir in root.iterdir():
        if not platform_dir.is_dir():
            continue
        for entry in platform_dir.iterdir():
            if _staged_at(entry) < cutoff:
                discard(entry)
                removed.append(entry)
    return removed


def _staged_at(entry: Path) -> float:
    """When ``entry`` was staged; a directory killed before it recorded that counts by its file time."""
    try:
        return float((entry / _STAGED_AT).read_text())
    except (OSError, ValueError):
        try:
            return entry.stat().st_mtime
        except OSError:
            return float("inf")  # already gone
