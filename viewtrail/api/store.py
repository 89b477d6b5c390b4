"""The API's own small database: API keys, idempotency records, the registry overlay.

Why SQLite (stdlib ``sqlite3``, WAL mode) and not the DuckDB warehouse:

- the pipeline holds the warehouse file while it scrapes, runs dbt or publishes; authenticating a request (and
  answering an idempotent retry) must never wait for that lock;
- several ``viewtrail serve`` workers (and the CLI's ``api-key`` commands) share it safely: SQLite locks per
  write transaction for microseconds and WAL lets readers run during a write;
- it is a file under the data directory (``<data dir>/api.sqlite3``), so idempotency records and keys survive a
  restart.

Only a SHA-256 of each API key is stored (keys are 256 random bits, so a plain hash cannot be brute-forced;
a slow password hash would only slow every request down). Times are naive UTC from :func:`clock.utc_now`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from viewtrail.clock import utc_now
from viewtrail.domain.errors import InvalidInputError, ViewtrailError

KEY_PREFIX = "vt_"
IDEMPOTENCY_TTL = timedelta(hours=24)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    key_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS idempotency (
    key_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL,            -- 'pending' while the first request runs, then 'done'
    status INTEGER,
    headers TEXT,                   -- JSON object of the response headers to replay (Location)
    body BLOB,
    created_at TEXT NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
);
CREATE TABLE IF NOT EXISTS dashboard_sessions (
    session_sha256 TEXT PRIMARY KEY,
    key_id TEXT,                    -- the API key that logged in; NULL for a session on 127.0.0.1 (no login)
    scope TEXT NOT NULL,
    csrf TEXT NOT NULL,             -- the session's CSRF token, sent back by every form
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_keys (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS share_links (  -- the share links as last written (the warehouse holds them too)
    link_id TEXT PRIMARY KEY,
    row_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS registry_overlay (
    video_id TEXT PRIMARY KEY,
    row_json TEXT,                  -- the registry.videos row as written; NULL = deleted
    updated_at TEXT NOT NULL,       -- the row's updated_at (or the deletion time)
    written_at TEXT NOT NULL
);
"""


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    def allows(self, needed: Scope) -> bool:
        order = [Scope.READ, Scope.WRITE, Scope.ADMIN]
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    scope: Scope
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Session:
    """A dashboard session: who logged in (None on 127.0.0.1 without login), its scope and its CSRF token."""

    key_id: str | None
    scope: Scope
    csrf: str
    expires_at: datetime


class UnknownKeyError(ViewtrailError):
    """No API key with that id."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Store:
    """One SQLite file; one connection per thread (``sqlite3`` connections are not shared across threads)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con().executescript(_SCHEMA)  # idempotent (IF NOT EXISTS); executescript commits itself

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            self._local.con = con
        return con

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        con = self._con()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    # ------------------------------------------------------------------------------------------------- keys

    def create_key(self, name: str, scope: Scope | str = Scope.READ) -> tuple[ApiKey, str]:
        """A new key: the record and the secret (returned once, never stored)."""
        name = name.strip()
        if not name:
            raise InvalidInputError("The key needs a name; give it with --name, e.g. --name dashboard.")
        try:
            scope = Scope(str(scope).strip().lower())
        except ValueError:
            raise InvalidInputError(f"Scope {scope!r} is not one of read, write, admin; pick one of them.") from None
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        record = ApiKey(id="key_" + secrets.token_hex(6), name=name, scope=scope, created_at=utc_now(), revoked_at=None)
        with self._tx() as con:
            con.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, NULL)",
                (record.id, record.name, record.scope.value, hash_key(secret), _iso(record.created_at)),
            )
        return record, secret

    def list_keys(self) -> list[ApiKey]:
        rows = self._con().execute(
            "SELECT id, name, scope, created_at, revoked_at FROM api_keys ORDER BY created_at, id"
        )
        return [ApiKey(r[0], r[1], Scope(r[2]), datetime.fromisoformat(r[3]), _dt(r[4])) for r in rows]

    def revoke_key(self, key_id: str) -> ApiKey:
        with self._tx() as con:
            row = con.execute("SELECT revoked_at FROM api_keys WHERE id = ?", (key_id,)).fetchone()
            if row is None:
                raise UnknownKeyError(f"There is no API key {key_id!r}; `viewtrail api-key list` shows the ids.")
            if row[0] is None:
                con.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ?", (_iso(utc_now()), key_id))
        return next(k for k in self.list_keys() if k.id == key_id)

    def authenticate(self, secret: str) -> ApiKey | None:
        """The key record for a presented secret (revoked ones included), or ``None`` when unknown."""
        row = (
            self._con()
            .execute(
                "SELECT id, name, scope, created_at, revoked_at FROM api_keys WHERE key_sha256 = ?", (hash_key(secret),)
            )
            .fetchone()
        )
        if row is None:
            return None
        return ApiKey(row[0], row[1], Scope(row[2]), datetime.fromisoformat(row[3]), _dt(row[4]))

    def key(self, key_id: str) -> ApiKey | None:
        return next((k for k in self.list_keys() if k.id == key_id), None)

    # ------------------------------------------------------------------------------------- dashboard sessions

    def create_session(self, key_id: str | None, scope: Scope, ttl: timedelta) -> tuple[str, Session]:
        """A new session: its secret (the cookie's value, only its hash is stored) and its record."""
        secret = secrets.token_urlsafe(32)
        now = utc_now()
        session = Session(key_id, scope, secrets.token_urlsafe(24), now + ttl)
        with self._tx() as con:
            con.execute("DELETE FROM dashboard_sessions WHERE expires_at < ?", (_iso(now),))
            con.execute(
                "INSERT INTO dashboard_sessions VALUES (?, ?, ?, ?, ?, ?)",
                (hash_key(secret), key_id, scope.value, session.csrf, _iso(now), _iso(session.expires_at)),
            )
        return secret, session

    def session(self, secret: str) -> Session | None:
        """The live session of a cookie's value; None when unknown or expired."""
        row = (
            self._con()
            .execute(
                "SELECT key_id, scope, csrf, expires_at FROM dashboard_sessions WHERE session_sha256 = ?",
                (hash_key(secret),),
            )
            .fetchone()
        )
        if row is None or datetime.fromisoformat(row[3]) <= utc_now():
            return None
        return Session(row[0], Scope(row[1]), row[2], datetime.fromisoformat(row[3]))

    def end_session(self, secret: str) -> None:
        with self._tx() as con:
            con.execute("DELETE FROM dashboard_sessions WHERE session_sha256 = ?", (hash_key(secret),))

    # ------------------------------------------------------------------------------------------ share links

    def signing_key(self, name: str) -> bytes:
        """A random secret kept here (never in the warehouse, whose analyst copy many can read), made on first use."""
        with self._tx() as con:
            con.execute(
                "INSERT INTO signing_keys VALUES (?, ?) ON CONFLICT (name) DO NOTHING", (name, secrets.token_hex(32))
            )
            row = con.execute("SELECT secret FROM signing_keys WHERE name = ?", (name,)).fetchone()
        return bytes.fromhex(row[0])

    def put_share_link(self, link_id: str, row: dict[str, Any]) -> None:
        with self._tx() as con:
            con.execute(
                "INSERT INTO share_links VALUES (?, ?) ON CONFLICT (link_id) DO UPDATE SET row_json = excluded.row_json",
                (link_id, json.dumps(row, default=str)),
            )

    def share_links(self) -> dict[str, dict[str, Any]]:
        rows = self._con().execute("SELECT link_id, row_json FROM share_links")
        return {r[0]: json.loads(r[1]) for r in rows}

    # ------------------------------------------------------------------------------------------ idempotency

    def claim(self, key_id: str, idem_key: str, fingerprint: str) -> tuple[str, Any]:
        """Try to become the request that runs for ``(key_id, idem_key)``.

        Returns ``("run", None)`` for the one caller that should do the work, ``("replay", (status, headers,
        body))`` when a finished response is stored, ``("conflict", None)`` when the key was used with another
        request, ``("wait", None)`` while the first request still runs. Records older than 24 h are forgotten.
        """
        now = utc_now()
        with self._tx() as con:
            row = con.execute(
                "SELECT fingerprint, state, status, headers, body, created_at FROM idempotency"
                " WHERE key_id = ? AND idempotency_key = ?",
                (key_id, idem_key),
            ).fetchone()
            if row is not None and now - datetime.fromisoformat(row[5]) > IDEMPOTENCY_TTL:
                con.execute("DELETE FROM idempotency WHERE key_id = ? AND idempotency_key = ?", (key_id, idem_key))
                row = None
            if row is None:
                con.execute(
                    "INSERT INTO idempotency VALUES (?, ?, ?, 'pending', NULL, NULL, NULL, ?)",
                    (key_id, idem_key, fingerprint, _iso(now)),
                )
                return "run", None
            if row[0] != fingerprint:
                return "conflict", None
            if row[1] == "pending":
                return "wait", None
            return "replay", (int(row[2]), json.loads(row[3] or "{}"), bytes(row[4] or b""))

    def finish(self, key_id: str, idem_key: str, status: int, headers: dict[str, str], body: bytes) -> None:
        with self._tx() as con:
            con.execute(
                "UPDATE idempotency SET state = 'done', status = ?, headers = ?, body = ?"
                " WHERE key_id = ? AND idempotency_key = ?",
                (status, json.dumps(headers), body, key_id, idem_key),
            )

    def release(self, key_id: str, idem_key: str) -> None:
        """Forget a pending claim whose request failed in a retryable way (5xx), so a retry runs again."""
        with self._tx() as con:
            con.execute(
                "DELETE FROM idempotency WHERE key_id = ? AND idempotency_key = ? AND state = 'pending'",
                (key_id, idem_key),
            )

    def release_stale(self, key_id: str, idem_key: str, older_than: timedelta) -> None:
        """Forget a pending claim left by a process that died mid-request."""
        cutoff = _iso(utc_now() - older_than)
        with self._tx() as con:
            con.execute(
                "DELETE FROM idempotency WHERE key_id = ? AND idempotency_key = ? AND state = 'pending'"
                " AND created_at < ?",
                (key_id, idem_key, cutoff),
            )

    # ------------------------------------------------------------------------------------- registry overlay

    def put_overlay(self, rows: dict[str, dict[str, Any] | None], updated_at: dict[str, datetime]) -> None:
        """Record registry rows just written (``None`` = deleted) so reads see them before the next publish."""
        now = _iso(utc_now())
        with self._tx() as con:
            con.executemany(
                "INSERT INTO registry_overlay VALUES (?, ?, ?, ?) ON CONFLICT (video_id) DO UPDATE SET"
                " row_json = excluded.row_json, updated_at = excluded.updated_at, written_at = excluded.written_at",
                [
                    (vid, json.dumps(row, default=str) if row is not None else None, _iso(updated_at[vid]), now)
                    for vid, row in rows.items()
                ],
            )

    def overlay(self) -> dict[str, tuple[dict[str, Any] | None, datetime]]:
        rows = self._con().execute("SELECT video_id, row_json, updated_at FROM registry_overlay")
        return {r[0]: (json.loads(r[1]) if r[1] is not None else None, datetime.fromisoformat(r[2])) for r in rows}

    def drop_overlay(self, entries: dict[str, datetime]) -> None:
        """Forget overlay rows the published copy has caught up with (only if not rewritten since)."""
        if not entries:
            return
        with self._tx() as con:
            con.executemany(
                "DELETE FROM registry_overlay WHERE video_id = ? AND updated_at = ?",
                [(vid, _iso(at)) for vid, at in entries.items()],
            )
