"""X's URL grammar: post ids, handles and every link form (see ``viewtrail.domain.urls``).

Canonical video URL ``https://x.com/{account}/status/{id}``, or ``https://x.com/i/status/{id}`` when the author
is unknown. Canonical account URL ``https://x.com/{handle}``. Legacy ``twitter.com/#!/user/status/id`` links
carry their path in the fragment.
"""

from __future__ import annotations

import re

from viewtrail.domain.models import AccountRef, Platform, VideoRef
from viewtrail.domain.urls import InvalidVideoUrl, handle_ref, invalid_handle, video_ref
from viewtrail.platforms.x.spec import SPEC

ID_PATTERN = re.compile(r"[0-9]{1,20}", re.ASCII)
ID_RULE = "1 to 20 digits"
_HANDLE = re.compile(r"[A-Za-z0-9_]{1,50}", re.ASCII)
_ACCOUNT_HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}", re.ASCII)

_NON_VIDEO = frozenset(
    {
        "home",
        "explore",
        "search",
        "notifications",
        "messages",
        "settings",
        "hashtag",
        "intent",
        "share",
        "compose",
        "login",
        "signup",
        "tos",
        "privacy",
    }
)
#: Profile tabs (``/user/media``...): the same account as its main page.
_TABS = frozenset({"with_replies", "media", "likes", "highlights", "articles", "superfollows"})
#: First path words that are X pages, never handles.
_RESERVED = frozenset(
    {
        *_NON_VIDEO,
        "i",
        "logout",
        "account",
        "jobs",
        "lists",
        "bookmarks",
        "communities",
        "premium",
        "verified",
        "who_to_follow",
        "download",
        "about",
        "en",
        "signin",
        "oauth",
        "tweet",
        "status",
    }
)


def link_path(path: str, fragment: str) -> str:
    """The path of a link; legacy ``twitter.com/#!/user/status/id`` links carry it in the fragment."""
    if path.strip("/") == "" and fragment.startswith("!/"):
        return fragment[1:]
    return path


def video_account(account: str | None) -> str | None:
    """The handle a canonical post URL carries, or None when it is missing or malformed."""
    if not account or account.lower() == "i" or not _HANDLE.fullmatch(account):
        return None
    return account


def canonical_url(external_id: str, account: str | None) -> str:
    return f"https://x.com/{account or 'i'}/status/{external_id}"


def read_video(host: str, segs: list[str], query: str, shown: str) -> VideoRef:
    if not segs:
        raise InvalidVideoUrl(f"{shown} has no post id: paste a link like {SPEC.video_example}.")
    head = segs[0].lower()
    if head == "i":
        rest = [s.lower() for s in segs[1:3]]
        if rest[:1] == ["status"]:
            return video_ref(Platform.X, segs[2] if len(segs) >= 3 else "", shown)
        if rest == ["web", "status"]:
            return video_ref(Platform.X, segs[3] if len(segs) >= 4 else "", shown)
        raise InvalidVideoUrl(f"{shown} is not an X post link: paste a link like {SPEC.video_example}.")
    if len(segs) >= 2 and segs[1].lower() in ("status", "statuses"):
        return video_ref(Platform.X, segs[2] if len(segs) >= 3 else "", shown, segs[0])
    if head in _NON_VIDEO or not _HANDLE.fullmatch(segs[0]):
        raise InvalidVideoUrl(f"{shown} is not an X post link: paste a link like {SPEC.video_example}.")
    raise InvalidVideoUrl(f"{shown} is an X profile, not a post: paste the link of one post (…/<user>/status/<id>).")


def canonical_account_url(handle: str | None, platform_account_id: str | None) -> str:
    if not handle or not _ACCOUNT_HANDLE.fullmatch(handle):
        raise invalid_handle(Platform.X, handle)
    return f"https://x.com/{handle}"


def read_account(host: str, segs: list[str]) -> AccountRef | None:
    if not segs or len(segs) > 2 or (len(segs) == 2 and segs[1].lower() not in _TABS):
        return None
    handle = segs[0]
    if handle.lower() in _RESERVED or not _ACCOUNT_HANDLE.fullmatch(handle):
        return None
    return handle_ref(Platform.X, handle)
