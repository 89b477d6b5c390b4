"""Scrape results staged on disk between the scrape (no warehouse, no pool slot) and the pooled write.

A staged batch is a directory ``<root>/<platform>/<batch id>/`` holding ``snapshots.parquet``,
``attempts.parquet`` (the frames of :func:`viewtrail.warehouse.results_to_frames`) and ``links.json``
(short links resolved while scraping). It is written under a temporary name and renamed into place, so a
batch is either complete or absent: a process killed while staging leaves only a temporary directory, and
the write step then finds no batch and asks for a re-scrape instead of loading half of one. Loading is
idempotent (the warehouse write ignores rows it already has), so a batch loaded twice changes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from viewtrail.domain.models import (
    AccountAttempt,
    AccountObservation,
    AccountResult,
    DiscoveredVideo,
    Outcome,
    Platform,
    ScrapeResult,
    VideoRef,
)

_SNAPSHOTS = "snapshots.parquet"
_ATTEMPTS = "attempts.parquet"
_LINKS = "links.json"
_ACCOUNTS = "accounts.json"
#: Account discoveries stage beside the platform's scrape batches, under this prefix, so one sweep serves both.
ACCOUNT_BATCH_PREFIX = "accounts-"
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
    from viewtrail.warehouse.snapshots import results_to_frames

    target = batch_dir(root, platform, batch_id)
    snapshots, attempts = results_to_frames(results)
    links_json = json.dumps(
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
    return _write_atomically(
        target, {_SNAPSHOTS: snapshots.write_parquet, _ATTEMPTS: attempts.write_parquet, _LINKS: links_json}
    )


def _write_atomically(target: Path, files: dict[str, str | Callable[[Path], object]]) -> Path:
    """Write ``files`` (text, or a writer given the path) into ``target`` under a temporary name, fsync them,
    then rename the directory into place (replacing a previous batch of the same id)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}{_TMP_MARK}{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    (tmp / _STAGED_AT).write_text(repr(time.time()))
    for name, content in files.items():
        if isinstance(content, str):
            (tmp / name).write_text(content)
        else:
            content(tmp / name)
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
    removed: list[Path] = []
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


# --------------------------------------------------------------------------------------------------
# account discoveries: the same atomic directory, one JSON document (a few hundred accounts at most)


def account_batch_dir(root: Path, platform: Platform | str, batch_id: str) -> Path:
    return batch_dir(root, platform, ACCOUNT_BATCH_PREFIX + batch_id)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _account_result_json(hour: datetime, result: AccountResult) -> dict[str, Any]:
    attempt = dataclasses.asdict(result.attempt)
    attempt["attempted_at"] = _when(result.attempt.attempted_at)
    observation = None
    if result.observation is not None:
        observation = dataclasses.asdict(result.observation)
        observation["observed_at"] = _when(result.observation.observed_at)
    videos = [
        {
            "platform": v.ref.platform.value,
            "external_id": v.ref.external_id,
            "url": v.ref.url,
            "account": v.ref.account,
            "posted_at": _when(v.posted_at),
            "title": v.title,
        }
        for v in result.videos
    ]
    return {"hour": _when(hour), "attempt": attempt, "observation": observation, "videos": videos}


def _account_result(item: dict[str, Any]) -> tuple[datetime, AccountResult]:
    attempt = dict(item["attempt"])
    attempt["attempted_at"] = _parse_when(attempt["attempted_at"])
    attempt["platform"] = Platform(attempt["platform"])
    attempt["outcome"] = Outcome(attempt["outcome"])
    observation = None
    if item["observation"] is not None:
        fields = dict(item["observation"])
        fields["observed_at"] = _parse_when(fields["observed_at"])
        observation = AccountObservation(**fields)
    videos = [
        DiscoveredVideo(
            ref=VideoRef(Platform(v["platform"]), v["external_id"], v["url"], v["account"]),
            posted_at=_parse_when(v["posted_at"]),
            title=v["title"],
        )
        for v in item["videos"]
    ]
    hour = _parse_when(item["hour"])
    assert hour is not None
    return hour, AccountResult(attempt=AccountAttempt(**attempt), observation=observation, videos=videos)


def stage_accounts(
    root: Path, platform: Platform | str, batch_id: str, steps: Sequence[tuple[datetime, Sequence[AccountResult]]]
) -> Path:
    """Write a complete batch of account discoveries atomically: ``steps`` are (hour, results) in hour order."""
    target = account_batch_dir(root, platform, batch_id)
    document = [_account_result_json(hour, r) for hour, results in steps for r in results]
    return _write_atomically(target, {_ACCOUNTS: json.dumps(document)})


def load_accounts(path: Path) -> list[tuple[datetime, list[AccountResult]]] | None:
    """The staged (hour, results) steps at ``path`` in hour order, or ``None`` when there is no batch."""
    path = Path(path)
    if not (path / _ACCOUNTS).is_file():
        return None
    steps: dict[datetime, list[AccountResult]] = {}
    for item in json.loads((path / _ACCOUNTS).read_text()):
        hour, result = _account_result(item)
        steps.setdefault(hour, []).append(result)
    return sorted(steps.items())
