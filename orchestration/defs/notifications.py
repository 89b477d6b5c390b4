"""Failure notifications: a clear line in a log file and, when configured, a message to ``VIEWTRAIL_WEBHOOK_URL``.

The URL is one more alert channel: an ``http(s)://`` URL receives the JSON payload below (a generic webhook, as
before channels existed); any other channel URL (``slack://``, ``mailto://``, ``json://``, ``file://``... see
docs/alerts.md) is delivered by :func:`viewtrail.alerts.channels.send`, with its secret-safe failure reasons.
``notify_failure`` has no Dagster import; the run-failure sensor in ``sensors.py`` calls it.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import httpx

from viewtrail.clock import utc_now

WEBHOOK_TIMEOUT_S = 5.0  # short: a slow webhook must not hold up the sensor daemon


def failure_line(job_name: str, run_id: str, message: str, at: datetime | None = None) -> str:
    at = at or utc_now()
    one_line = " ".join(str(message).split())[:500]
    return f"{at:%Y-%m-%d %H:%M:%S} UTC  run {run_id} of job {job_name} FAILED: {one_line}"


def notify_failure(
    *,
    job_name: str,
    run_id: str,
    message: str,
    log_path: Path,
    webhook_url: str | None = None,
    extra: dict | None = None,
) -> str | None:
    """Append one line to ``log_path``; POST a JSON message to ``webhook_url`` if set.

    Returns ``None`` when everything went out, else a short description of the webhook problem (a broken
    webhook must not hide the failure it reports: the log line is written first, and the error is returned).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as log:
        log.write(failure_line(job_name, run_id, message) + "\n")
    if not webhook_url:
        return None
    summary = " ".join(str(message).split())[:500]
    if not webhook_url.lower().startswith(("http://", "https://")):
        from viewtrail.alerts.channels import send
        from viewtrail.alerts.messages import Message

        delivered = send(webhook_url, Message(f"viewtrail: run {run_id} of job {job_name} failed", summary))
        return None if delivered.ok else f"run-failure channel: {delivered.reason}"
    payload = {
        "text": f"viewtrail: run {run_id} of job {job_name} failed: {summary}",
        "job_name": job_name,
        "run_id": run_id,
        "message": message,
        **(extra or {}),
    }
    try:
        response = httpx.post(
            webhook_url,
            content=json.dumps(payload),
            headers={"Content-Type": "application/json"},
            timeout=WEBHOOK_TIMEOUT_S,
        )
        response.raise_for_status()
    except httpx.HTTPError as error:
        return f"webhook POST failed: {error.__class__.__name__}"  # never echo the URL (it may hold a token)
    return None
