"""Share links: signed, expiring, revocable read-only links to a label's report (``viewtrail share``, the
dashboard's Share page, ``/report/<token>``).

A token is ``<link id>.<signature>``: the signature is an HMAC-SHA256 of the link id, its label and its expiry
under a key the caller keeps outside the warehouse (the dashboard's store), so a token cannot be guessed or
altered, and the warehouse (whose analyst copy many people read) holds nothing that opens a report. The link's
row says whether it is still valid: past ``expires_at`` or once revoked, the token opens nothing.
``after_write(link)`` runs right after each write, so the server sees a new or revoked link at once, before
the next build publishes it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import timedelta

from viewtrail.clock import utc_now
from viewtrail.domain.errors import InvalidInputError
from viewtrail.warehouse import share_links as store
from viewtrail.warehouse.connection import OpenWarehouse
from viewtrail.warehouse.share_links import ShareLink
from viewtrail.warehouse.transactions import transaction

MAX_DAYS = 365
AfterShareWrite = Callable[[ShareLink], None]


def _signature(link: ShareLink, key: bytes) -> str:
    message = f"{link.link_id}|{link.label}|{link.expires_at.isoformat()}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_for(link: ShareLink, key: bytes) -> str:
    return f"{link.link_id}.{_signature(link, key)}"


def link_id_of(token: str) -> str | None:
    """The link id a token names (not yet verified); None when it is not shaped like a token."""
    link_id, dot, signature = token.partition(".")
    return link_id if dot and link_id.startswith("sl_") and signature else None


def verify(token: str, link: ShareLink, key: bytes) -> bool:
    """Whether ``token`` was signed for ``link`` (its id, label and expiry) with ``key``."""
    return hmac.compare_digest(token, token_for(link, key))


def check_days(days: int | str | None) -> int:
    try:
        value = int(str(days).strip()) if days is not None else 30
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_DAYS:
        raise InvalidInputError(f"A share link lasts 1 to {MAX_DAYS} days; {days!r} is not in that range.")
    return value


def create_share_link(
    label: str,
    days: int | str | None,
    *,
    key: bytes,
    open_warehouse: OpenWarehouse,
    after_write: AfterShareWrite | None = None,
) -> tuple[ShareLink, str]:
    """A link to ``label``'s report valid for ``days`` days, and its token."""
    label = label.strip()
    if not label:
        raise InvalidInputError("Name the label whose report the link shows, e.g. launch.")
    lasting = check_days(days)
    now = utc_now()
    with open_warehouse() as con, transaction(con):
        link = store.add_share_link(con, label, now=now, expires_at=now + timedelta(days=lasting))
    if after_write is not None:
        after_write(link)
    return link, token_for(link, key)


def revoke_share_link(
    link_id: str, *, open_warehouse: OpenWarehouse, after_write: AfterShareWrite | None = None
) -> ShareLink:
    with open_warehouse() as con, transaction(con):
        link = store.revoke_share_link(con, link_id.strip(), now=utc_now())
    if after_write is not None:
        after_write(link)
    return link


def list_share_links(*, open_warehouse: OpenWarehouse) -> list[ShareLink]:
    with open_warehouse() as con:
        return store.list_share_links(con)


__all__ = [
    "ShareLink",
    "check_days",
    "create_share_link",
    "link_id_of",
    "list_share_links",
    "revoke_share_link",
    "token_for",
    "verify",
]
