"""Channels: named notification targets given as URLs, delivered by Apprise (or appended to a local file).

Channel URLs hold secrets (webhook tokens, SMTP passwords). They are kept out of the warehouse, because the
warehouse is copied whole to the analyst copy: ``registry.alert_channels`` holds a channel's name and its
:func:`redact`-ed target (scheme and host only), and the URLs live in one JSON file beside the warehouse,
``<warehouse>.channels.json`` (``data/warehouse.channels.json`` by default), written with mode 0600. Nothing here
puts a URL in a log line, an exception message or a delivery reason: Apprise's own logger (which prints URLs at
debug level) is silenced while it sends, and failures become a fixed sentence with at most an HTTP status.

``file:///path/alerts.log`` is viewtrail's own scheme: each message is appended to that file as one JSON line
(the demo's channel; handy for piping into something else).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from viewtrail.alerts.messages import Message
from viewtrail.domain.errors import InvalidInputError

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def validate_name(name: str) -> str:
    name = name.strip()
    if not NAME_RE.fullmatch(name):
        raise InvalidInputError(
            f"Channel name {name!r} is not valid; use 1-40 lowercase letters, digits, '-' or '_' (e.g. team-slack)."
        )
    return name


def redact(url: str) -> str:
    """What may be shown of a channel URL: its scheme and, when it is a host name, the host (never a path,
    user, password, token or query). Schemes that put a token where the host goes (slack://T.../, discord://id/,
    tgram://bot-token/) show the scheme only."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        return "(unreadable URL)"
    scheme = parts.scheme.lower() or "?"
    if scheme == "file":
        return "file://" + (Path(unquote(parts.path)).name and f".../{Path(unquote(parts.path)).name}")
    if host and ("." in host or host == "localhost") and re.fullmatch(r"[a-z0-9.-]+", host):
        return f"{scheme}://{host}"
    return f"{scheme}://***"


# ------------------------------------------------------------------------------------------- the secrets file


def channels_file(warehouse_path: Path) -> Path:
    """Where the channel URLs of the warehouse at ``warehouse_path`` are kept."""
    return warehouse_path.with_name(warehouse_path.stem + ".channels.json")


def read_urls(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InvalidInputError(
            f"The channels file {path} is unreadable; fix or delete it and add the channels again."
        ) from None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def write_urls(path: Path, urls: dict[str, str]) -> None:
    """Replace the channels file atomically; it is created 0600 (only its owner can read it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(urls, handle, indent=2, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# ------------------------------------------------------------------------------------------------ delivery


@dataclass(frozen=True, slots=True)
class Delivered:
    ok: bool
    reason: str | None = None  # one sentence, never the URL


@contextmanager
def _apprise_silenced() -> Iterator[list[logging.LogRecord]]:
    """Keep Apprise's records (they name URLs) out of every handler; hand them to the caller to classify."""
    logger = logging.getLogger("apprise")
    records: list[logging.LogRecord] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = _Keep(logging.DEBUG)
    saved = (logger.level, logger.propagate, list(logger.handlers))
    logger.handlers = [keep]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        logger.handlers = saved[2]


def _failure_reason(records: list[logging.LogRecord]) -> str:
    text = " ".join(r.getMessage() for r in records if r.levelno >= logging.WARNING).lower()
    status = re.search(r"error code[: ]+(\d{3})", text) or re.search(r"\b([45]\d\d)\b", text)
    if status:
        return f"the channel answered HTTP {status.group(1)}."
    if "connection" in text or "refused" in text or "timed out" in text or "timeout" in text:
        return "the channel could not be reached (connection failed or timed out)."
    if "smtp" in text or "email" in text or "mail" in text:
        return "the mail server refused the message."
    return "the channel did not accept the message."


def check_url(url: str) -> None:
    """Refuse a URL that neither Apprise nor the file scheme understands (the error never echoes it)."""
    if url.strip().lower().startswith("file://"):
        if not unquote(urlsplit(url.strip()).path):
            raise InvalidInputError("A file:// channel needs a path, e.g. file:///var/log/viewtrail-alerts.jsonl.")
        return
    import apprise

    with _apprise_silenced():
        plugin = apprise.Apprise.instantiate(url.strip(), suppress_exceptions=True)
    if plugin is None:
        raise InvalidInputError(
            f"The channel URL ({redact(url)}) is not one Apprise understands; see docs/alerts.md for Slack, email "
            "and webhook examples."
        )


def send(url: str, message: Message) -> Delivered:
    """Deliver ``message`` to ``url``; never raises for a delivery problem."""
    url = url.strip()
    if url.lower().startswith("file://"):
        return _append_to_file(Path(unquote(urlsplit(url).path)), message)
    import apprise

    with _apprise_silenced() as records:
        try:
            notifier = apprise.Apprise()
            if not notifier.add(url):
                return Delivered(False, "the channel URL is not one Apprise understands.")
            ok = bool(notifier.notify(title=message.title, body=message.body))
        except Exception as error:  # noqa: BLE001 - a broken channel must never stop the pipeline
            return Delivered(False, f"sending failed ({type(error).__name__}).")
    return Delivered(True) if ok else Delivered(False, _failure_reason(records))


def _append_to_file(path: Path, message: Message) -> Delivered:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"title": message.title, "body": message.body}, ensure_ascii=False) + "\n")
    except OSError as error:
        return Delivered(False, f"the file could not be written ({error.strerror or type(error).__name__}).")
    return Delivered(True)
