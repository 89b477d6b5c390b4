"""Scrape results staged between the scrape (no warehouse, no pool slot) and the pooled write: on the local disk,
or in S3-compatible object storage when the scrape and the write run on different hosts.

A staged batch is a directory ``<root>/<platform>/<batch id>/`` holding ``snapshots.parquet``,
``attempts.parquet`` (the frames of :func:`viewtrail.warehouse.results_to_frames`) and ``links.json``
(short links resolved while scraping). It is written under a temporary name and renamed into place, so a
batch is either complete or absent: a process killed while staging leaves only a temporary directory, and
the write step then finds no batch and asks for a re-scrape instead of loading half of one. Loading is
idempotent (the warehouse write ignores rows it already has), so a batch loaded twice changes nothing.

In object storage (a root ``s3://bucket/prefix``, ``VIEWTRAIL_STAGING_URL``; :mod:`viewtrail.pipeline.object_staging`)
nothing can be renamed, so a batch is committed by its marker instead: the files go under a key of their own
attempt (``<batch>/<attempt>/...``), then one PUT of ``<batch>/COMMIT`` names that attempt. A batch is the attempt
its marker names, whole; a staging killed before the marker is no batch, and one killed while re-staging a
batch leaves the previous complete attempt in force. The same functions below take either kind of root.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from viewtrail.domain.models import (
    AccountAttempt,
    AccountObservation,
    AccountResult,
    AccountToDiscover,
    DiscoveredVideo,
    Outcome,
    Platform,
    ScrapeResult,
    VideoRef,
)
from viewtrail.planning.discovery import WatchedAccount
from viewtrail.planning.scheduling import VideoSchedule

_SNAPSHOTS = "snapshots.parquet"
_ATTEMPTS = "attempts.parquet"
_LINKS = "links.json"
_ACCOUNTS = "accounts.json"
#: Account discoveries stage beside the platform's scrape batches, under this prefix, so one sweep serves both.
ACCOUNT_BATCH_PREFIX = "accounts-"
_STAGED_AT = "staged_at"  # when the batch was staged, by this process's clock (file times may disagree)
_TMP_MARK = ".staging-"


#: A staging root or batch: a local directory, or an ``s3://bucket/prefix`` location.
Location = Path | str


def _remote(location: Location) -> bool:
    return isinstance(location, str) and location.startswith("s3://")


@dataclass(frozen=True, slots=True)
class StagedBatch:
    path: Location
    snapshots: pl.DataFrame
    attempts: pl.DataFrame
    links: list[tuple[str, VideoRef]]  # (short link, the video it leads to)


def batch_dir(root: Location, platform: Platform | str, batch_id: str) -> Location:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in batch_id)
    if _remote(root):
        return f"{str(root).rstrip('/')}/{Platform(platform).value}/{safe}"
    return Path(root) / Platform(platform).value / safe


def stage(
    root: Location,
    platform: Platform | str,
    batch_id: str,
    results: Iterable[ScrapeResult],
    links: Sequence[tuple[str, VideoRef]] = (),
) -> Location:
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


def _write_atomically(target: Location, files: dict[str, str | Callable[[Any], object]]) -> Location:
    """Write ``files`` (text, or a writer given a path or a binary file) into ``target`` under a temporary name,
    fsync them, then rename the directory into place (replacing a previous batch of the same id); in object
    storage, under the attempt's key, then the commit marker."""
    if _remote(target):
        from viewtrail.pipeline import object_staging

        blobs: dict[str, bytes] = {}
        for name, content in files.items():
            if isinstance(content, str):
                blobs[name] = content.encode()
            else:
                buffer = io.BytesIO()
                content(buffer)
                blobs[name] = buffer.getvalue()
        object_staging.write_batch(str(target), blobs)
        return target
    target = Path(target)
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


def load(path: Location) -> StagedBatch | None:
    """The batch at ``path``, or ``None`` when there is none (never staged, or staging was interrupted)."""
    if _remote(path):
        from viewtrail.pipeline import object_staging

        blobs = object_staging.read_batch(str(path), (_SNAPSHOTS, _ATTEMPTS, _LINKS))
        if blobs is None:
            return None
        return StagedBatch(
            path,
            pl.read_parquet(io.BytesIO(blobs[_SNAPSHOTS])),
            pl.read_parquet(io.BytesIO(blobs[_ATTEMPTS])),
            _links(blobs[_LINKS].decode()),
        )
    path = Path(path)
    if not all((path / name).is_file() for name in (_SNAPSHOTS, _ATTEMPTS, _LINKS)):
        return None
    links = _links((path / _LINKS).read_text())
    return StagedBatch(path, pl.read_parquet(path / _SNAPSHOTS), pl.read_parquet(path / _ATTEMPTS), links)


def _links(text: str) -> list[tuple[str, VideoRef]]:
    return [
        (item["link"], VideoRef(Platform(item["platform"]), item["external_id"], item["url"], item["account"]))
        for item in json.loads(text)
    ]


def discard(path: Location) -> None:
    if _remote(path):
        from viewtrail.pipeline import object_staging

        object_staging.discard(str(path))
        return
    shutil.rmtree(path, ignore_errors=True)


def sweep(root: Location, *, older_than: timedelta) -> list[Location]:
    """Remove batches and interrupted stagings older than ``older_than`` (left by runs that died before
    their write); their videos are due again and get scraped afresh. Returns what was removed."""
    if _remote(root):
        from viewtrail.pipeline import object_staging

        return list(object_staging.sweep(str(root), cutoff=time.time() - older_than.total_seconds()))
    removed: list[Location] = []
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


def account_batch_dir(root: Location, platform: Platform | str, batch_id: str) -> Location:
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
    root: Location, platform: Platform | str, batch_id: str, steps: Sequence[tuple[datetime, Sequence[AccountResult]]]
) -> Location:
    """Write a complete batch of account discoveries atomically: ``steps`` are (hour, results) in hour order."""
    target = account_batch_dir(root, platform, batch_id)
    document = [_account_result_json(hour, r) for hour, results in steps for r in results]
    return _write_atomically(target, {_ACCOUNTS: json.dumps(document)})


def load_accounts(path: Location) -> list[tuple[datetime, list[AccountResult]]] | None:
    """The staged (hour, results) steps at ``path`` in hour order, or ``None`` when there is no batch."""
    document = _read_document(path, _ACCOUNTS)
    if document is None:
        return None
    steps: dict[datetime, list[AccountResult]] = {}
    for item in document:
        hour, result = _account_result(item)
        steps.setdefault(hour, []).append(result)
    return sorted(steps.items())


# --------------------------------------------------------------------------------------------------
# plans: what a partition's scrape or discovery needs from the warehouse, read on the warehouse host and staged
# beside the batches, so the network step runs on a host without the warehouse file


@dataclass(frozen=True, slots=True)
class PendingLink:
    """A short link not resolved yet, with the options the video it leads to gets once resolved."""

    url: str
    cadence: str
    track_until: datetime | None
    added_at: datetime


@dataclass(frozen=True, slots=True)
class VideoPlan:
    """The registry as the planning step read it: the platform's videos with their last attempt before the
    partition, and its pending short links. ``targeted``: a run naming its videos (observed now)."""

    targeted: bool
    videos: list[VideoSchedule]
    pending_links: list[PendingLink]


@dataclass(frozen=True, slots=True)
class AccountPlan:
    """The watched accounts of a platform as the planning step read them (``targeted``: a run naming them)."""

    targeted: bool
    accounts: list[WatchedAccount]


PLAN_BATCH_PREFIX = "plan-"
#: Plans stage beside the batches, under a prefix of their own, so one sweep serves every kind.
ACCOUNT_PLAN_BATCH_PREFIX = PLAN_BATCH_PREFIX + ACCOUNT_BATCH_PREFIX
_PLAN = "plan.json"


def plan_dir(root: Location, platform: Platform | str, batch_id: str) -> Location:
    return batch_dir(root, platform, PLAN_BATCH_PREFIX + batch_id)


def account_plan_dir(root: Location, platform: Platform | str, batch_id: str) -> Location:
    return batch_dir(root, platform, ACCOUNT_PLAN_BATCH_PREFIX + batch_id)


def _plain(item: object) -> dict[str, Any]:
    """A dataclass's fields as JSON values: instants in ISO form, platforms by name, decimals as floats."""
    out: dict[str, Any] = {}
    for item_field in dataclasses.fields(item):  # type: ignore[arg-type]
        value = getattr(item, item_field.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Platform):
            value = value.value
        elif isinstance(value, Decimal):
            value = float(value)
        out[item_field.name] = value
    return out


def _instants(fields: dict[str, Any], *names: str) -> dict[str, Any]:
    return {**fields, **{name: _parse_when(fields.get(name)) for name in names}}


def stage_plan(root: Location, platform: Platform | str, batch_id: str, plan: VideoPlan) -> Location:
    """Write a scrape plan atomically (a previous plan with the same id is replaced)."""
    document = {
        "targeted": plan.targeted,
        "videos": [_plain(v) for v in plan.videos],
        "pending_links": [_plain(link) for link in plan.pending_links],
    }
    return _write_atomically(plan_dir(root, platform, batch_id), {_PLAN: json.dumps(document)})


def load_plan(path: Location) -> VideoPlan | None:
    """The scrape plan at ``path``, or ``None`` when there is none (never staged, or staging was interrupted)."""
    document = _read_document(path, _PLAN)
    if document is None:
        return None
    videos = [
        VideoSchedule(
            **_instants(
                {**v, "platform": Platform(v["platform"])},
                "track_until",
                "posted_at",
                "added_at",
                "last_attempt_at",
            )
        )
        for v in document["videos"]
    ]
    links = [PendingLink(**_instants(link, "track_until", "added_at")) for link in document["pending_links"]]
    return VideoPlan(targeted=document["targeted"], videos=videos, pending_links=links)


def stage_account_plan(root: Location, platform: Platform | str, batch_id: str, plan: AccountPlan) -> Location:
    """Write a discovery plan atomically (a previous plan with the same id is replaced)."""
    document = {
        "targeted": plan.targeted,
        "accounts": [
            {**_plain(w), "account": _plain(w.account)}
            for w in plan.accounts  # the account: a dataclass inside
        ],
    }
    return _write_atomically(account_plan_dir(root, platform, batch_id), {_PLAN: json.dumps(document)})


def load_account_plan(path: Location) -> AccountPlan | None:
    """The discovery plan at ``path``, or ``None`` when there is none."""
    document = _read_document(path, _PLAN)
    if document is None:
        return None
    accounts = [
        WatchedAccount(
            account=AccountToDiscover(
                **_instants(
                    {**w["account"], "platform": Platform(w["account"]["platform"])}, "since", "observe_at", "added_at"
                )
            ),
            **_instants({k: v for k, v in w.items() if k != "account"}, "added_at", "last_attempted_at"),
        )
        for w in document["accounts"]
    ]
    return AccountPlan(targeted=document["targeted"], accounts=accounts)


def _read_document(path: Location, name: str) -> Any:
    """The JSON document ``name`` of the batch at ``path``, or ``None`` when there is no complete batch."""
    if _remote(path):
        from viewtrail.pipeline import object_staging

        blobs = object_staging.read_batch(str(path), (name,))
        return None if blobs is None else json.loads(blobs[name].decode())
    path = Path(path)
    if not (path / name).is_file():
        return None
    return json.loads((path / name).read_text())
