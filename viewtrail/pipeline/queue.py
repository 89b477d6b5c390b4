"""File-based request queues between the CLI and the Dagster sensors.

The CLI (``viewtrail track``/``import``/``rescrape``) drops one small JSON file per request under
``config.queue_dir()/{new,rescrape}/``; sensors list those files, launch a run for the videos they name
and mark them consumed. Files instead of a table because sensors must never open the live warehouse
(DuckDB allows one writer, and any reader blocks it).

Each file is written to a temporary name and renamed into place (``os.replace``), so a reader never sees a
half-written request. A request's file name is its id: ``<UTC timestamp>-<random>.json``, which sorts by age.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from viewtrail import config
from viewtrail.clock import utc_now


class QueueKind(StrEnum):
    NEW = "new"  # newly tracked videos: first snapshot as soon as possible
    RESCRAPE = "rescrape"  # manual `viewtrail rescrape` requests


@dataclass(frozen=True, slots=True)
class QueuedRequest:
    request_id: str  # file stem; stable, used as the sensor's run key
    kind: QueueKind
    video_ids: tuple[str, ...]
    requested_at: datetime  # naive UTC
    path: Path


def _kind_dir(kind: QueueKind | str, root: Path | None = None) -> Path:
    return (root or config.queue_dir()) / QueueKind(kind).value


def _enqueue(kind: QueueKind, video_ids: list[str], root: Path | None = None) -> Path | None:
    ids = list(dict.fromkeys(v.strip() for v in video_ids if v and v.strip()))
    if not ids:
        return None
    directory = _kind_dir(kind, root)
    directory.mkdir(parents=True, exist_ok=True)
    now = utc_now()
    request_id = f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
    payload = {"request_id": request_id, "kind": kind.value, "video_ids": ids, "requested_at": now.isoformat()}
    final = directory / f"{request_id}.json"
    tmp = directory / f".{request_id}.json.tmp"
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(tmp, final)
    return final


def enqueue_new_videos(ids: list[str], *, root: Path | None = None) -> Path | None:
    """Ask for a first scrape of newly tracked videos (consumed by the new-videos sensor)."""
    return _enqueue(QueueKind.NEW, ids, root)


def enqueue_rescrape(ids: list[str], *, root: Path | None = None) -> Path | None:
    """Ask for an immediate re-scrape of these videos (consumed by the rescrape sensor)."""
    return _enqueue(QueueKind.RESCRAPE, ids, root)


def pending_requests(kind: QueueKind | str, *, root: Path | None = None) -> list[QueuedRequest]:
    """Requests not yet consumed, oldest first. Unreadable files are skipped (and left for a human)."""
    kind = QueueKind(kind)
    directory = _kind_dir(kind, root)
    if not directory.is_dir():
        return []
    requests: list[QueuedRequest] = []
    for path in sorted(directory.glob("*.json")):
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            requests.append(
                QueuedRequest(
                    request_id=str(payload.get("request_id") or path.stem),
                    kind=kind,
                    video_ids=tuple(str(v) for v in payload["video_ids"]),
                    requested_at=datetime.fromisoformat(payload["requested_at"]),
                    path=path,
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return requests


def mark_consumed(request: QueuedRequest) -> None:
    """Move a request to ``done/`` (kept for audit); consuming twice is harmless."""
    done = request.path.parent / "done"
    done.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(request.path, done / request.path.name)
    except FileNotFoundError:
        pass
