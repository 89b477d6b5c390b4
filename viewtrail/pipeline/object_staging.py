"""Staged batches in S3-compatible object storage (``VIEWTRAIL_STAGING_URL=s3://bucket/prefix``), through boto3.

A batch ``s3://bucket/prefix/<platform>/<batch id>`` is committed by one object, ``<batch>/COMMIT``: a small JSON
document naming the attempt whose files make up the batch and when it was staged. Each staging writes its files
under a fresh attempt key (``<batch>/<attempt>/<name>``), complete objects in single PUTs, and only then PUTs the
marker; object stores make a single PUT visible whole or not at all. So:

- a staging killed before its marker leaves files nobody reads (swept later): no half batch is ever loaded;
- a batch staged again (a retried scrape step) switches to the new attempt only when that one is complete;
- loading reads the marker, then exactly the attempt it names.

The endpoint and credentials are boto3's own: ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``) for MinIO,
SeaweedFS or moto, ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` or any other boto3 credential source.
"""

from __future__ import annotations

import importlib
import json
import socket
import time
import uuid
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from viewtrail import config
from viewtrail.domain.errors import ViewtrailError

COMMIT = "COMMIT"


class StagingStoreError(ViewtrailError):
    """Object storage could not be used for staging (missing library, bad bucket, unreachable endpoint)."""


@lru_cache(maxsize=1)
def _client() -> Any:
    try:
        boto3: Any = importlib.import_module("boto3")  # the [deploy] extra; imported by name: no type stubs
    except ImportError:
        raise StagingStoreError(
            f"{config.STAGING_URL} points at object storage but boto3 is not installed on {socket.gethostname()}; "
            "install viewtrail with its deploy extra (pip install 'viewtrail[deploy]')."
        ) from None
    return boto3.client("s3")


def _split(location: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ``("bucket", "a/b")``."""
    rest = location.removeprefix("s3://")
    bucket, _, key = rest.partition("/")
    return bucket, key.strip("/")


def _errors() -> tuple[type[BaseException], ...]:
    botocore_exceptions: Any = importlib.import_module("botocore.exceptions")
    return (botocore_exceptions.BotoCoreError, botocore_exceptions.ClientError)


def _failed(action: str, location: str, error: BaseException) -> StagingStoreError:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return StagingStoreError(
        f"Could not {action} {location} from {socket.gethostname()} ({first}); check {config.STAGING_URL}, the bucket "
        "and the AWS_* variables of this host."
    )


def write_batch(location: str, blobs: dict[str, bytes]) -> None:
    """Store ``blobs`` (name -> content) as the batch at ``location``, committed by its marker last."""
    bucket, key = _split(location)
    attempt = uuid.uuid4().hex
    client = _client()
    try:
        for name, body in blobs.items():
            client.put_object(Bucket=bucket, Key=f"{key}/{attempt}/{name}", Body=body)
        marker = json.dumps({"attempt": attempt, "staged_at": time.time(), "files": sorted(blobs)})
        client.put_object(Bucket=bucket, Key=f"{key}/{COMMIT}", Body=marker.encode())
    except _errors() as error:
        raise _failed("stage a batch at", location, error) from None


def _marker(client: Any, bucket: str, key: str) -> dict | None:
    try:
        body = client.get_object(Bucket=bucket, Key=f"{key}/{COMMIT}")["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def read_batch(location: str, names: Iterable[str]) -> dict[str, bytes] | None:
    """The committed batch's files ``names``, or ``None`` when no complete batch is there."""
    bucket, key = _split(location)
    client = _client()
    try:
        marker = _marker(client, bucket, key)
        if marker is None:
            return None
        wanted = list(names)
        if not set(wanted) <= set(marker.get("files", [])):
            return None
        return {
            name: client.get_object(Bucket=bucket, Key=f"{key}/{marker['attempt']}/{name}")["Body"].read()
            for name in wanted
        }
    except _errors() as error:
        raise _failed("read the staged batch", location, error) from None


def _objects(client: Any, bucket: str, prefix: str) -> Iterator[dict]:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def _delete(client: Any, bucket: str, keys: list[str]) -> None:
    for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
        chunk = keys[start : start + 1000]
        client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})


def discard(location: str) -> None:
    """Remove the batch: its marker first (so it is no batch any more), then every attempt's files."""
    bucket, key = _split(location)
    client = _client()
    try:
        client.delete_object(Bucket=bucket, Key=f"{key}/{COMMIT}")
        _delete(client, bucket, [o["Key"] for o in _objects(client, bucket, f"{key}/")])
    except _errors() as error:
        raise _failed("remove the staged batch", location, error) from None


def sweep(root: str, *, cutoff: float) -> list[str]:
    """Remove batches (and uncommitted attempts) staged before ``cutoff`` (epoch seconds); returns their locations."""
    bucket, prefix = _split(root)
    client = _client()
    removed: list[str] = []
    try:
        batches: dict[str, list[dict]] = {}
        for item in _objects(client, bucket, f"{prefix}/" if prefix else ""):
            relative = item["Key"][len(prefix) + 1 :] if prefix else item["Key"]
            parts = relative.split("/")
            if len(parts) >= 3:  # <platform>/<batch>/(COMMIT | <attempt>/<name>)
                batches.setdefault("/".join(parts[:2]), []).append(item)
        for batch, items in sorted(batches.items()):
            key = f"{prefix}/{batch}" if prefix else batch
            marker = _marker(client, bucket, key)
            staged = marker["staged_at"] if marker else max(i["LastModified"].timestamp() for i in items)
            if staged < cutoff:
                _delete(client, bucket, [i["Key"] for i in items])
                removed.append(f"s3://{bucket}/{key}")
            elif marker is not None:
                # a committed batch keeps its attempt; attempts it superseded or that never committed go once old
                stale = [
                    i["Key"]
                    for i in items
                    if f"/{marker['attempt']}/" not in i["Key"]
                    and not i["Key"].endswith(f"/{COMMIT}")
                    and i["LastModified"].timestamp() < cutoff
                ]
                _delete(client, bucket, stale)
    except _errors() as error:
        raise _failed("sweep the staged batches under", root, error) from None
    return removed
