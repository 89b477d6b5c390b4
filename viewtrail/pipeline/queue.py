"""File-based request queues between the CLI and the Dagster sensors.

The CLI (``viewtrail track``/``import``/``rescrape``) drops one small JSON file per request under
``config.queue_dir()/{new,rescrape}/``; sensors list those files, launch a run for the videos they name
and mark them consumed. Files instead of a table because sensors must never open the live warehouse
(DuckDB allows one writer, and any reader blocks it).

Each file is written to a temporary name and renamed into place (``os.replace``), so a reader never sees a
half-written request. A request's file name is its id: ``<UTC timestamp>-<random>.json``, the time it is due,
so names sort by due time.

A request may be *held* (``not_before``): the CLI queues the videos it is about to scrape itself before it
commits their registration, held for :data:`HOLD`, and releases the request once the inline scrape is stored.
So a registered video is always either scraped or queued, whatever kills the CLI in between (Ctrl-C, a broken
pipe, SIGKILL): the held request falls due and the pipeline scrapes it. Sensors skip requests not yet due.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from viewtrail import config
from viewtrail.clock import utc_now

#: How long a request queued for videos the CLI scrapes itself is held back from the pipeline: far longer than
#: the inline scrape of :data:`viewtrail.app.first_snapshot.INLINE_LIMIT` videos takes, short enough that a
#: killed command's videos still get their first snapshot the same hour.
HOLD = timedelta(minutes=15)


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
    not_before: datetime | None = None  # held until then (naive UTC); None: due at once

    def is_due(self, now: datetime) -> bool:
        return self.not_before is None or self.not_before <= now


def _kind_dir(kind: QueueKind | str, root: Path | None = None) -> Path:
    return (root or config.queue_dir()) / QueueKind(kind).value


def _enqueue(
    kind: QueueKind, video_ids: list[str], root: Path | None = None, *, hold: timedelta | None = None
) -> Path | None:
    ids = list(dict.fromkeys(v.strip() for v in video_ids if v and v.strip()))
    if not ids:
        return None
    directory = _kind_dir(kind, root)
    directory.mkdir(parents=True, exist_ok=True)
    now = utc_now()
    due = now + hold if hold else now
    # Named by due time: a sensor's cursor (the newest id it launched) never passes a request still held.
    request_id = f"{due:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
    payload = {"request_id": request_id, "kind": kind.value, "video_ids": ids, "requested_at": now.isoformat()}
    if hold:
        payload["not_before"] = due.isoformat()
    final = directory / f"{request_id}.json"
    tmp = directory / f".{request_id}.json.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(payload))
        handle.flush()
        os.fsync(handle.fileno())  # on disk before the registry commit it stands for
    os.replace(tmp, final)
    return final


def enqueue_new_videos(ids: list[str], *, root: Path | None = None, hold: timedelta | None = None) -> Path | None:
    """Ask for a first scrape of newly tracked videos (consumed by the new-videos sensor); ``hold`` keeps the
    request from the sensor that long (see :func:`release`)."""
    return _enqueue(QueueKind.NEW, ids, root, hold=hold)


def release(held: Path, still_wanted: list[str], *, root: Path | None = None) -> Path | None:
    """Replace a held new-videos request with one due at once for ``still_wanted`` (none: just drop it).

    The new request is written before the held one is removed: a crash in between queues the videos twice
    (a harmless second snapshot), never not at all."""
    released = enqueue_new_videos(still_wanted, root=root)
    held.unlink(missing_ok=True)
    return released


def queued_video_ids(*, root: Path | None = None) -> set[str]:
    """Every video named by a request not yet consumed, of any kind, held or due."""
    return {
        video_id
        for kind in QueueKind
        for request in pending_requests(kind, root=root)
        for video_id in request.video_ids
    }


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
                    not_before=datetime.fromisoformat(payload["not_before"]) if payload.get("not_before") else None,
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
