"""Instagram's URL grammar: shortcodes, handles and every link form (see ``viewtrail.domain.urls``).

Canonical video URL ``https://www.instagram.com/p/{shortcode}/`` (reels and TV posts share the shortcode space;
the account is never taken from Instagram URLs because the canonical URL cannot carry it). Canonical account URL
``https://www.instagram.com/{handle}/``.
"""

from __future__ import annotations

import re

from viewtrail.domain.models import AccountRef, Platform, VideoRef
from viewtrail.domain.urls import InvalidVideoUrl, handle_ref, invalid_handle, video_ref
from viewtrail.platforms.instagram.spec import SPEC

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{5,50}", re.ASCII)
ID_RULE = "5 to 50 letters, digits, '-' or '_'"
_HANDLE = re.compile(r"[A-Za-z0-9_.]{1,30}", re.ASCII)

_POST_PATHS = frozenset({"p", "reel", "reels", "tv"})
_NON_VIDEO = {
    "stories": "story (stories are not tracked)",
    "explore": "explore page",
    "accounts": "account page",
    "direct": "direct-message page",
    "about": "information page",
    "legal": "information page",
}
#: Profile tabs (``/user/reels/``...): the same account as its main page.
_TABS = frozenset({"reels", "tagged", "guides", "feed", "channel"})
#: First path words that are Instagram pages, never usernames.
_RESERVED = frozenset(
    {
        *_POST_PATHS,
        *_NON_VIDEO,
        "developer",
        "web",
        "api",
        "graphql",
        "challenge",
        "emails",
        "session",
        "privacy",
        "terms",
        "help",
        "press",
        "jobs",
        "blog",
        "oauth",
        "static",
        "topics",
        "directory",
        "lite",
        "nametag",
        "create",
        "archive",
        "your_activity",
        "insights",
        "threads",
        "ar",
        "s",
        "_u",
        "_n",
    }
)


def video_account(account: str | None) -> str | None:
    """Instagram post URLs never carry the account."""
    return None


def canonical_url(external_id: str, account: str | None) -> str:
    return f"https://www.instagram.com/p/{external_id}/"


def read_video(host: str, segs: list[str], query: str, shown: str) -> VideoRef:
    if not segs:
        raise InvalidVideoUrl(f"{shown} has no Instagram shortcode: paste a link like {SPEC.video_example}.")
    head = segs[0].lower()
    if head not in _POST_PATHS and len(segs) >= 3 and segs[1].lower() in _POST_PATHS:
        segs = segs[1:]  # /{username}/p/{code}, /{username}/reel/{code}
        head = segs[0].lower()
    if head in _POST_PATHS:
        if len(segs) < 2:
            raise InvalidVideoUrl(f"{shown} has no Instagram shortcode: paste a link like {SPEC.video_example}.")
        return video_ref(Platform.INSTAGRAM, segs[1], shown)
    kind = _NON_VIDEO.get(head)
    if kind:
        raise InvalidVideoUrl(f"{shown} is an Instagram {kind}, not a post: paste the link of one post or reel.")
    raise InvalidVideoUrl(
        f"{shown} is an Instagram profile, not a post: paste the link of one post or reel (…/p/<shortcode>/)."
    )


def canonical_account_url(handle: str | None, platform_account_id: str | None) -> str:
    if not handle or not _HANDLE.fullmatch(handle):
        raise invalid_handle(Platform.INSTAGRAM, handle)
    return f"https://www.instagram.com/{handle}/"


def read_account(host: str, segs: list[str]) -> AccountRef | None:
    if not segs or len(segs) > 2 or (len(segs) == 2 and segs[1].lower() not in _TABS):
        return None
    handle = segs[0]
    if handle.lower() in _RESERVED or not _HANDLE.fullmatch(handle):
        return None
    return handle_ref(Platform.INSTAGRAM, handle)
