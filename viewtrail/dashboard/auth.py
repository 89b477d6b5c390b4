"""Who may see and change what: sessions, login with an API key, the write scope and CSRF tokens.

Served on 127.0.0.1 (the default) the pages need no login: whoever reaches the loopback address is the machine's
user, and gets a session of the write scope on the first visit. Served on another address every page needs a
login with an API key of the read scope or more (``viewtrail api-key create``). Either way the session is a
random cookie (HttpOnly, SameSite=Strict; only its hash is stored) and every form that changes something carries
the session's CSRF token, checked here, so another site cannot make a browser change anything.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request

from viewtrail.api.store import Scope, Session, Store

COOKIE = "vt_session"
SESSION_TTL = timedelta(hours=12)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class PageError(Exception):
    """A user-facing failure shown as a page: its status and one sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LoginNeeded(Exception):
    """The page needs a login first (the server is not on the loopback address)."""


@dataclass(frozen=True, slots=True)
class Access:
    session: Session
    new_cookie: str | None = None  # a session made on this request: the cookie to set

    @property
    def can_write(self) -> bool:
        return self.session.scope.allows(Scope.WRITE)


def login_required_for(host: str) -> bool:
    """Whether the pages need a login when the server listens on ``host``."""
    return host not in LOCAL_HOSTS


def current(request: Request) -> Access | None:
    """The request's live session, if its cookie names one whose API key (if any) is still valid."""
    store: Store = request.app.state.service.store
    secret = request.cookies.get(COOKIE)
    session = store.session(secret) if secret else None
    if session is not None and session.key_id is None and request.app.state.dashboard_login_required:
        return None  # a loopback session (no login) opens nothing once the server listens elsewhere
    if session is not None and session.key_id is not None:
        key = store.key(session.key_id)
        if key is None or key.revoked_at is not None:
            return None
    return Access(session) if session is not None else None


def access(request: Request) -> Access:
    """The session of a page request: the cookie's, or on 127.0.0.1 a new local one; else :class:`LoginNeeded`."""
    found = current(request)
    if found is not None:
        return found
    if request.app.state.dashboard_login_required:
        raise LoginNeeded()
    store: Store = request.app.state.service.store
    secret, session = store.create_session(None, Scope.WRITE, SESSION_TTL)
    return Access(session, secret)


def same_origin(request: Request) -> bool:
    """Whether a form post came from this site's own pages (browsers send Origin on every POST; a client that
    sends none, such as a script, is not a cross-site request)."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def check_write(found: Access, csrf: str | None) -> None:
    """Refuse a change without the write scope or without the session's CSRF token."""
    if not hmac.compare_digest((csrf or "").encode(), found.session.csrf.encode()):
        raise PageError(403, "This form is out of date or came from another site; reload the page and try again.")
    if not found.can_write:
        raise PageError(
            403,
            f"Your API key has the {found.session.scope.value} scope; log in with a key created with"
            " `viewtrail api-key create --scope write` to change anything.",
        )
