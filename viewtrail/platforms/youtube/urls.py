"""YouTube's URL grammar: ids, handles, channels and every link form (see ``viewtrail.domain.urls``).

Canonical video URL ``https://www.youtube.com/watch?v={id}``, whichever host (``youtube.com``, ``youtu.be``,
``youtubekids.com``...) the link came from. Canonical account URL
``https://www.youtube.com/@{handle}``, or ``/channel/{UC...}``, ``/c/{name}``, ``/user/{name}`` as given.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from viewtrail.domain.models import AccountRef, Platform, VideoRef
from viewtrail.domain.urls import InvalidVideoUrl, handle_ref, invalid_handle, show, video_ref
from viewtrail.platforms.youtube.spec import SPEC

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{11}", re.ASCII)
ID_RULE = "exactly 11 letters, digits, '-' or '_'"

_YOUTU_BE_HOSTS = frozenset({"youtu.be", "www.youtu.be"})
_CHANNEL_HOSTS = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com"})
_ID_PATHS = frozenset({"shorts", "embed", "live", "v", "e", "watch"})
#: Paths that name the video in ``?v=``: the site root, the player page and the pop-out player.
_WATCH_PATHS = frozenset({"", "watch", "watch_popup"})
_CHANNEL_PATHS = frozenset({"channel", "c", "user"})
_NON_VIDEO = frozenset(
    {"results", "feed", "playlist", "hashtag", "gaming", "premium", "account", "about", "account_notifications"}
)
_HANDLE = re.compile(r"[A-Za-z0-9_.-]{3,30}", re.ASCII)
_CHANNEL_ID = re.compile(r"UC[A-Za-z0-9_-]{22}", re.ASCII)
_LEGACY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}", re.ASCII)
#: Channel tabs (``/@user/videos``...): the same account as its main page.
_TABS = frozenset(
    {
        "home",
        "videos",
        "shorts",
        "streams",
        "featured",
        "about",
        "playlists",
        "channels",
        "posts",
        "community",
        "podcasts",
        "releases",
        "live",
        "search",
    }
)


def video_account(account: str | None) -> str | None:
    """YouTube video URLs never carry the channel."""
    return None


def canonical_url(external_id: str, account: str | None) -> str:
    return f"https://www.youtube.com/watch?v={external_id}"


def read_video(host: str, segs: list[str], query: str, shown: str) -> VideoRef:
    if host in _YOUTU_BE_HOSTS:
        return video_ref(Platform.YOUTUBE, segs[0] if segs else "", shown)
    params = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    head = segs[0].lower() if segs else ""
    if head in _WATCH_PATHS and "v" in params:
        # a slash typed after the query ("watch?v=<id>/") is the trailing-slash habit, not part of the id
        return video_ref(Platform.YOUTUBE, params["v"].rstrip("/"), shown)
    if head in _ID_PATHS and len(segs) >= 2:
        if head == "embed" and segs[1] == "videoseries":  # exact: "VIDEOSERIES" is a well-formed video id
            raise InvalidVideoUrl(
                f"{shown} is a YouTube playlist, not a video: paste the link of one video (watch?v=<id>)."
            )
        return video_ref(Platform.YOUTUBE, segs[1], shown)
    if head == "playlist" or (head in _WATCH_PATHS and "list" in params):
        raise InvalidVideoUrl(
            f"{shown} is a YouTube playlist, not a video: paste the link of one video (watch?v=<id>)."
        )
    if head.startswith("@") or head in _CHANNEL_PATHS:
        raise InvalidVideoUrl(f"{shown} is a YouTube channel, not a video: paste the link of one video (watch?v=<id>).")
    if head in _ID_PATHS or head in _WATCH_PATHS:
        raise InvalidVideoUrl(f"{shown} has no YouTube video id: paste a link like {SPEC.video_example}.")
    if head in _NON_VIDEO or len(segs) > 1:
        raise InvalidVideoUrl(f"{shown} is not a YouTube video link: paste a link like {SPEC.video_example}.")
    # youtube.com/<name>: legacy vanity channel URL
    raise InvalidVideoUrl(
        f"{shown} looks like a YouTube channel, not a video: paste the link of one video (watch?v=<id>)."
    )


def canonical_account_url(handle: str | None, platform_account_id: str | None) -> str:
    """By handle, or by channel id alone (``/channel/UC...``) when the handle is unknown."""
    if not handle and platform_account_id:
        if not _CHANNEL_ID.fullmatch(platform_account_id):
            raise InvalidVideoUrl(
                f"{show(platform_account_id)} is not a YouTube channel id (UC followed by 22 letters, digits, "
                f"'-' or '_'): paste the channel's link."
            )
        return f"https://www.youtube.com/channel/{platform_account_id}"
    if not handle or not _HANDLE.fullmatch(handle):
        raise invalid_handle(Platform.YOUTUBE, handle)
    return f"https://www.youtube.com/@{handle}"


def _by_channel_id(channel_id: str) -> AccountRef:
    return AccountRef(Platform.YOUTUBE, None, canonical_account_url(None, channel_id), channel_id)


def read_account(host: str, segs: list[str]) -> AccountRef | None:
    if len(segs) == 3 and segs[0].lower() in _CHANNEL_PATHS and segs[2].lower() in _TABS:
        segs = segs[:2]  # /channel/UC../videos, /c/name/shorts: the channel's main page
    if host not in _CHANNEL_HOSTS or not segs or len(segs) > 2:
        return None
    first = segs[0]
    if host == "music.youtube.com":  # YouTube Music names artists by channel id only
        if first.lower() == "channel" and len(segs) == 2 and _CHANNEL_ID.fullmatch(segs[1]):
            return _by_channel_id(segs[1])
        return None
    if first.startswith("@"):
        handle = first[1:]
        if (len(segs) == 2 and segs[1].lower() not in _TABS) or not _HANDLE.fullmatch(handle):
            return None
        return handle_ref(Platform.YOUTUBE, handle)
    if len(segs) < 2:
        return None
    kind, name = first.lower(), segs[1]
    if kind == "channel" and _CHANNEL_ID.fullmatch(name):
        return _by_channel_id(name)
    if kind in ("c", "user") and _LEGACY_NAME.fullmatch(name):
        # legacy custom and user names: the name stands in for the handle until discovery learns the real one
        return AccountRef(Platform.YOUTUBE, name, f"https://www.youtube.com/{kind}/{name}")
    return None
