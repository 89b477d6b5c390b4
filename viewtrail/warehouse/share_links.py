"""``registry.share_links``: read-only links to a label's report (``viewtrail share``, the dashboard's
``/report/<token>``). Only the link's row is stored; its token is signed with a key kept outside the warehouse."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import duckdb

from viewtrail.domain.errors import InvalidInputError

_COLUMNS = "link_id, label, created_at, expires_at, revoked_at"


class UnknownShareLinkError(InvalidInputError):
    """No share link with that id."""


@dataclass(frozen=True, slots=True)
class ShareLink:
    link_id: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


def _has_table(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE schema_name = 'registry' AND table_name = 'share_links'"
    ).fetchone()
    return found is not None


def add_share_link(con: duckdb.DuckDBPyConnection, label: str, *, now: datetime, expires_at: datetime) -> ShareLink:
    """A new link to ``label``'s report; refused when no video has that label."""
    known = con.execute("SELECT 1 FROM registry.videos WHERE list_contains(labels, ?) LIMIT 1", [label]).fetchone()
    if known is None:
        raise InvalidInputError(
            f"No video has the label {label!r}; label videos first (`viewtrail track URL --label {label}`)."
        )
    link = ShareLink("sl_" + secrets.token_hex(6), label, now, expires_at, None)
    con.execute(
        f"INSERT INTO registry.share_links ({_COLUMNS}) VALUES (?, ?, ?, ?, NULL)",
        [link.link_id, link.label, link.created_at, link.expires_at],
    )
    return link


def revoke_share_link(con: duckdb.DuckDBPyConnection, link_id: str, *, now: datetime) -> ShareLink:
    """Revoke a link (revoking it again keeps the first revocation time)."""
    con.execute(
        "UPDATE registry.share_links SET revoked_at = coalesce(revoked_at, ?) WHERE link_id = ?", [now, link_id]
    )
    link = share_link(con, link_id)
    if link is None:
        raise UnknownShareLinkError(f"There is no share link {link_id!r}; `viewtrail share list` shows the ids.")
    return link


def share_link(con: duckdb.DuckDBPyConnection, link_id: str) -> ShareLink | None:
    if not _has_table(con):
        return None
    row = con.execute(f"SELECT {_COLUMNS} FROM registry.share_links WHERE link_id = ?", [link_id]).fetchone()
    return ShareLink(*row) if row else None


def list_share_links(con: duckdb.DuckDBPyConnection) -> list[ShareLink]:
    """Every link, newest first (empty on a copy published before share links existed)."""
    if not _has_table(con):
        return []
    rows = con.execute(f"SELECT {_COLUMNS} FROM registry.share_links ORDER BY created_at DESC, link_id").fetchall()
    return [ShareLink(*row) for row in rows]
