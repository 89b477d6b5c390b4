"""Turn whatever a user pastes into one unambiguous video identity.

``parse_video_url`` maps every accepted form of a TikTok, YouTube, Instagram or X video link (and bare
ids, and ``platform:external_id`` video ids) to a :class:`VideoRef` with a canonical URL, or to a
:class:`ShortLink` when only a redirect lookup can tell which video it is (TikTok short links).
Everything else raises :class:`InvalidVideoUrl` with one sentence saying what is wrong and what to do.

Guarantees relied on by the registry and the CLI (checked by property tests):

* for any ``str`` input the only exception raised is :class:`InvalidVideoUrl`;
* normalization is idempotent: ``parse_video_url(ref.url) == ref`` for every result ``ref``
  (same for ``ShortLink.url``);
* the video id never depends on the account handle, the host variant, the query string or the path
  form (``/video/`` vs ``/photo/``, ``/reel/`` vs ``/p/``, ``youtu.be`` vs ``watch?v=``...).

Pure Python: no Dagster, DuckDB or httpx. Patterns are compiled once at import so bulk imports of
tens of thousands of links stay fast (a few microseconds per link).

Canonical URLs (see ``docs/urls.md``):

* TikTok ``https://www.tiktok.com/@{account}/video/{id}``; when the handle is unknown the placeholder
  handle ``_`` is used (``https://www.tiktok.com/@_/video/{id}``), which TikTok redirects to the real
  author and which parses back to ``account=None``.
* YouTube ``https://www.youtube.com/watch?v={id}``
* Instagram ``https://www.instagram.com/p/{shortcode}/`` (reels and TV posts share the shortcode space;
  the account is never taken from Instagram URLs because the canonical URL cannot carry it).
* X ``https://x.com/{account}/status/{id}``, or ``https://x.com/i/status/{id}`` when unknown.

``parse_account_url`` does the same for account (profile, channel) links, giving an :class:`AccountRef` whose
``account_id`` never depends on the host variant, the query, the profile tab or the handle's case. A video link
given where an account is expected (and the reverse) is rejected with a sentence naming the command to use
(``viewtrail track`` for videos, ``viewtrail watch`` for accounts). Canonical account URLs:
``https://www.tiktok.com/@{handle}``, ``https://www.youtube.com/@{handle}`` (or ``/channel/{UC...}``,
``/c/{name}``, ``/user/{name}`` as given), ``https://www.instagram.com/{handle}/``, ``https://x.com/{handle}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

from viewtrail.domain.models import AccountRef, Platform, ShortLink, VideoRef

__all__ = [
    "InvalidVideoUrl",
    "canonical_account_url",
    "canonical_url",
    "looks_like_video_id",
    "parse_account_url",
    "parse_many",
    "parse_platform",
    "parse_video_url",
    "split_video_id",
]


class InvalidVideoUrl(ValueError):
    """Raised for input that is not a supported video link or id (or, by :func:`parse_account_url`, account
    link); the message is one sentence for the user."""


# --------------------------------------------------------------------------------------------------
# ids and handles (re.ASCII: ``\d`` and case folding must never admit non-ASCII look-alikes)

_TIKTOK_ID = re.compile(r"[0-9]{1,25}", re.ASCII)
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}", re.ASCII)
_INSTAGRAM_CODE = re.compile(r"[A-Za-z0-9_-]{5,50}", re.ASCII)
_X_ID = re.compile(r"[0-9]{1,20}", re.ASCII)
_TIKTOK_SHORT_CODE = re.compile(r"[A-Za-z0-9_-]{3,40}", re.ASCII)

_TIKTOK_HANDLE = re.compile(r"[A-Za-z0-9_.]{1,50}", re.ASCII)
_X_HANDLE = re.compile(r"[A-Za-z0-9_]{1,50}", re.ASCII)
#: Placeholder handle used in canonical TikTok URLs when the author is unknown (TikTok handles have
#: at least two characters, so ``_`` can never be a real one).
TIKTOK_UNKNOWN_HANDLE = "_"

_ID_RULES: dict[Platform, tuple[re.Pattern[str], str]] = {
    Platform.TIKTOK: (_TIKTOK_ID, "1 to 25 digits"),
    Platform.YOUTUBE: (_YOUTUBE_ID, "exactly 11 letters, digits, '-' or '_'"),
    Platform.INSTAGRAM: (_INSTAGRAM_CODE, "5 to 50 letters, digits, '-' or '_'"),
    Platform.X: (_X_ID, "1 to 20 digits"),
}

_LABEL = {
    Platform.TIKTOK: "TikTok",
    Platform.YOUTUBE: "YouTube",
    Platform.INSTAGRAM: "Instagram",
    Platform.X: "X",
}

_EXAMPLE = {
    Platform.TIKTOK: "https://www.tiktok.com/@user/video/<id>",
    Platform.YOUTUBE: "https://www.youtube.com/watch?v=<id>",
    Platform.INSTAGRAM: "https://www.instagram.com/p/<shortcode>/",
    Platform.X: "https://x.com/<user>/status/<id>",
}

_PLATFORM_ALIASES = {
    "tiktok": Platform.TIKTOK,
    "tt": Platform.TIKTOK,
    "youtube": Platform.YOUTUBE,
    "yt": Platform.YOUTUBE,
    "instagram": Platform.INSTAGRAM,
    "ig": Platform.INSTAGRAM,
    "x": Platform.X,
    "twitter": Platform.X,
}

_PLATFORM_CHOICES = "tiktok|youtube|instagram|x"

# --------------------------------------------------------------------------------------------------
# hosts

_TIKTOK_HOSTS = frozenset({"tiktok.com", "www.tiktok.com", "m.tiktok.com"})
_TIKTOK_SHORT_HOSTS = frozenset({"vm.tiktok.com", "vt.tiktok.com"})
_YOUTUBE_HOSTS = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com"})
_YOUTUBE_NOCOOKIE_HOSTS = frozenset({"youtube-nocookie.com", "www.youtube-nocookie.com"})
_YOUTU_BE_HOSTS = frozenset({"youtu.be", "www.youtu.be"})
_INSTAGRAM_HOSTS = frozenset({"instagram.com", "www.instagram.com", "m.instagram.com", "instagr.am", "www.instagr.am"})
_X_HOSTS = frozenset(
    {
        "x.com",
        "www.x.com",
        "mobile.x.com",
        "twitter.com",
        "www.twitter.com",
        "mobile.twitter.com",
        # embed-fixer mirrors people paste into chats; same path scheme and ids as x.com
        "fxtwitter.com",
        "vxtwitter.com",
        "fixupx.com",
        "fixvx.com",
    }
)

_HOST_PLATFORM: dict[str, Platform] = {}
for _hosts, _platform in (
    (_TIKTOK_HOSTS | _TIKTOK_SHORT_HOSTS, Platform.TIKTOK),
    (_YOUTUBE_HOSTS | _YOUTUBE_NOCOOKIE_HOSTS | _YOUTU_BE_HOSTS, Platform.YOUTUBE),
    (_INSTAGRAM_HOSTS, Platform.INSTAGRAM),
    (_X_HOSTS, Platform.X),
):
    for _host in _hosts:
        _HOST_PLATFORM[_host] = _platform

# --------------------------------------------------------------------------------------------------
# input shapes

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://", re.ASCII)
_BARE_TOKEN = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)
_VIDEO_ID = re.compile(r"([A-Za-z]+):([^\s/:?#]+)", re.ASCII)
_WHITESPACE = re.compile(r"\s")
_QUOTE_PAIRS = (('"', '"'), ("'", "'"), ("<", ">"), ("\u201c", "\u201d"), ("\u2018", "\u2019"))


def _show(text: str) -> str:
    """The input as quoted in error messages: printable, one line, not too long."""
    shown = "".join(ch if ch.isprintable() else " " for ch in text)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"'{shown}'"


def parse_platform(platform: Platform | str) -> Platform:
    """``Platform`` from a value or a name as typed on the command line (``x``, ``twitter``, ``YouTube``...)."""
    if isinstance(platform, Platform):
        return platform
    if not isinstance(platform, str):
        raise InvalidVideoUrl(f"Platform {platform!r} is not supported: use one of {_PLATFORM_CHOICES}.")
    found = _PLATFORM_ALIASES.get(platform.strip().lower())
    if found is None:
        raise InvalidVideoUrl(f"Platform {_show(platform)} is not supported: use one of {_PLATFORM_CHOICES}.")
    return found


def _check_id(platform: Platform, external_id: str, shown: str) -> str:
    pattern, expected = _ID_RULES[platform]
    if pattern.fullmatch(external_id):
        return external_id
    label = _LABEL[platform]
    if not external_id:
        raise InvalidVideoUrl(f"{shown} has no {label} video id: paste a link like {_EXAMPLE[platform]}.")
    if shown == _show(external_id):
        raise InvalidVideoUrl(
            f"{shown} is not a valid {label} video id (it should be {expected}): check that it was copied completely."
        )
    raise InvalidVideoUrl(
        f"{shown} does not contain a valid {label} video id ({_show(external_id)} should be {expected}): "
        f"check that the link was copied completely."
    )


def _tiktok_account(account: str | None) -> str | None:
    if not account or account == TIKTOK_UNKNOWN_HANDLE or not _TIKTOK_HANDLE.fullmatch(account):
        return None
    return account


def _x_account(account: str | None) -> str | None:
    if not account or account.lower() == "i" or not _X_HANDLE.fullmatch(account):
        return None
    return account


def canonical_url(platform: Platform | str, external_id: str, account: str | None = None) -> str:
    """The one URL stored for a video; parsing it gives back the same ``VideoRef``.

    ``account`` is kept only where the canonical form carries it (TikTok, X) and only when it is a
    well-formed handle; otherwise the form for an unknown author is used.
    """
    plat = parse_platform(platform)
    _check_id(plat, external_id, _show(external_id))
    if plat is Platform.TIKTOK:
        handle = _tiktok_account(account) or TIKTOK_UNKNOWN_HANDLE
        return f"https://www.tiktok.com/@{handle}/video/{external_id}"
    if plat is Platform.YOUTUBE:
        return f"https://www.youtube.com/watch?v={external_id}"
    if plat is Platform.INSTAGRAM:
        return f"https://www.instagram.com/p/{external_id}/"
    handle = _x_account(account) or "i"
    return f"https://x.com/{handle}/status/{external_id}"


def _ref(platform: Platform, external_id: str, shown: str, account: str | None = None) -> VideoRef:
    external_id = _check_id(platform, external_id, shown)
    if platform is Platform.TIKTOK:
        account = _tiktok_account(account)
    elif platform is Platform.X:
        account = _x_account(account)
    else:
        account = None
    return VideoRef(platform, external_id, canonical_url(platform, external_id, account), account)


# --------------------------------------------------------------------------------------------------
# video ids ("youtube:dQw4w9WgXcQ")


def split_video_id(video_id: str) -> tuple[Platform, str]:
    """``("youtube", "dQw4w9WgXcQ")`` from ``"youtube:dQw4w9WgXcQ"``; the id is validated for its platform."""
    if not isinstance(video_id, str):
        raise InvalidVideoUrl(f"Video id {video_id!r} is not text: pass an id like youtube:dQw4w9WgXcQ.")
    text = video_id.strip()
    shown = _show(text)
    match = _VIDEO_ID.fullmatch(text)
    if match is None:
        raise InvalidVideoUrl(
            f"{shown} is not a video id: video ids look like {{platform}}:{{id}}, e.g. youtube:dQw4w9WgXcQ."
        )
    platform = _PLATFORM_ALIASES.get(match.group(1).lower())
    if platform is None or match.group(1).lower() not in Platform._value2member_map_:
        raise InvalidVideoUrl(
            f"{shown} names an unknown platform {_show(match.group(1))}: video ids start with "
            f"{_PLATFORM_CHOICES} followed by ':'."
        )
    return platform, _check_id(platform, match.group(2), shown)


def looks_like_video_id(text: str) -> bool:
    """True when ``text`` is a well-formed ``platform:external_id`` video id (not a URL)."""
    try:
        split_video_id(text)
    except InvalidVideoUrl:
        return False
    return True


# --------------------------------------------------------------------------------------------------
# per-platform path readers: (segments, query, shown) -> VideoRef | ShortLink

_TIKTOK_NON_VIDEO = {
    "tag": "hashtag page",
    "music": "sound page",
    "discover": "discover page",
    "search": "search page",
    "explore": "explore page",
    "foryou": "feed",
    "following": "feed",
    "live": "live page",
}


def _tiktok(host: str, segs: list[str], query: str, shown: str) -> VideoRef | ShortLink:
    if host in _TIKTOK_SHORT_HOSTS:
        if not segs:
            raise InvalidVideoUrl(f"{shown} is a TikTok short link without its code: copy the whole link.")
        code = segs[0]
        if not _TIKTOK_SHORT_CODE.fullmatch(code):
            raise InvalidVideoUrl(f"{shown} is a TikTok short link with a malformed code: copy the whole link.")
        return ShortLink(Platform.TIKTOK, f"https://{host}/{code}/")
    if not segs:
        raise InvalidVideoUrl(f"{shown} has no TikTok video id: paste a link like {_EXAMPLE[Platform.TIKTOK]}.")
    first = segs[0]
    head = first.lower()
    if head == "t":
        if len(segs) < 2 or not _TIKTOK_SHORT_CODE.fullmatch(segs[1]):
            raise InvalidVideoUrl(f"{shown} is a TikTok short link without a valid code: copy the whole link.")
        return ShortLink(Platform.TIKTOK, f"https://www.tiktok.com/t/{segs[1]}/")
    if first.startswith("@"):
        handle = first[1:]
        if len(segs) >= 2 and segs[1].lower() in ("video", "photo"):
            return _ref(Platform.TIKTOK, segs[2] if len(segs) >= 3 else "", shown, handle)
        raise InvalidVideoUrl(
            f"{shown} is a TikTok profile, not a video: paste the link of one video (…/@user/video/<id>)."
        )
    if head in ("v", "video") and len(segs) >= 2:  # m.tiktok.com/v/<id>.html, tiktok.com/video/<id>
        vid = segs[1]
        if vid.lower().endswith(".html"):
            vid = vid[:-5]
        return _ref(Platform.TIKTOK, vid, shown)
    if head == "embed" and len(segs) >= 2:  # /embed/<id>, /embed/v2/<id>
        return _ref(Platform.TIKTOK, segs[2] if segs[1].lower() == "v2" and len(segs) >= 3 else segs[1], shown)
    if head == "player" and len(segs) >= 3 and segs[1].lower() == "v1":
        return _ref(Platform.TIKTOK, segs[2], shown)
    kind = _TIKTOK_NON_VIDEO.get(head)
    if kind:
        raise InvalidVideoUrl(f"{shown} is a TikTok {kind}, not a video: paste the link of one video.")
    raise InvalidVideoUrl(f"{shown} is not a TikTok video link: paste a link like {_EXAMPLE[Platform.TIKTOK]}.")


_YOUTUBE_ID_PATHS = frozenset({"shorts", "embed", "live", "v", "e", "watch"})
_YOUTUBE_CHANNEL_PATHS = frozenset({"channel", "c", "user"})
_YOUTUBE_NON_VIDEO = frozenset(
    {"results", "feed", "playlist", "hashtag", "gaming", "premium", "account", "about", "account_notifications"}
)


def _youtube(host: str, segs: list[str], query: str, shown: str) -> VideoRef:
    if host in _YOUTU_BE_HOSTS:
        return _ref(Platform.YOUTUBE, segs[0] if segs else "", shown)
    params = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    head = segs[0].lower() if segs else ""
    if head in ("", "watch") and "v" in params:
        # a slash typed after the query ("watch?v=<id>/") is the trailing-slash habit, not part of the id
        return _ref(Platform.YOUTUBE, params["v"].rstrip("/"), shown)
    if head in _YOUTUBE_ID_PATHS and len(segs) >= 2:
        if head == "embed" and segs[1] == "videoseries":  # exact: "VIDEOSERIES" is a well-formed video id
            raise InvalidVideoUrl(
                f"{shown} is a YouTube playlist, not a video: paste the link of one video (watch?v=<id>)."
            )
        return _ref(Platform.YOUTUBE, segs[1], shown)
    if head == "playlist" or (head in ("", "watch") and "list" in params):
        raise InvalidVideoUrl(
            f"{shown} is a YouTube playlist, not a video: paste the link of one video (watch?v=<id>)."
        )
    if head.startswith("@") or head in _YOUTUBE_CHANNEL_PATHS:
        raise InvalidVideoUrl(f"{shown} is a YouTube channel, not a video: paste the link of one video (watch?v=<id>).")
    if head in _YOUTUBE_ID_PATHS or not segs:
        raise InvalidVideoUrl(f"{shown} has no YouTube video id: paste a link like {_EXAMPLE[Platform.YOUTUBE]}.")
    if head in _YOUTUBE_NON_VIDEO or len(segs) > 1:
        raise InvalidVideoUrl(f"{shown} is not a YouTube video link: paste a link like {_EXAMPLE[Platform.YOUTUBE]}.")
    # youtube.com/<name>: legacy vanity channel URL
    raise InvalidVideoUrl(
        f"{shown} looks like a YouTube channel, not a video: paste the link of one video (watch?v=<id>)."
    )


_INSTAGRAM_POST_PATHS = frozenset({"p", "reel", "reels", "tv"})
_INSTAGRAM_NON_VIDEO = {
    "stories": "story (stories are not tracked)",
    "explore": "explore page",
    "accounts": "account page",
    "direct": "direct-message page",
    "about": "information page",
    "legal": "information page",
}


def _instagram(host: str, segs: list[str], query: str, shown: str) -> VideoRef:
    if not segs:
        raise InvalidVideoUrl(f"{shown} has no Instagram shortcode: paste a link like {_EXAMPLE[Platform.INSTAGRAM]}.")
    head = segs[0].lower()
    if head not in _INSTAGRAM_POST_PATHS and len(segs) >= 3 and segs[1].lower() in _INSTAGRAM_POST_PATHS:
        segs = segs[1:]  # /{username}/p/{code}, /{username}/reel/{code}
        head = segs[0].lower()
    if head in _INSTAGRAM_POST_PATHS:
        if len(segs) < 2:
            raise InvalidVideoUrl(
                f"{shown} has no Instagram shortcode: paste a link like {_EXAMPLE[Platform.INSTAGRAM]}."
            )
        return _ref(Platform.INSTAGRAM, segs[1], shown)
    kind = _INSTAGRAM_NON_VIDEO.get(head)
    if kind:
        raise InvalidVideoUrl(f"{shown} is an Instagram {kind}, not a post: paste the link of one post or reel.")
    raise InvalidVideoUrl(
        f"{shown} is an Instagram profile, not a post: paste the link of one post or reel (…/p/<shortcode>/)."
    )


_X_NON_VIDEO = frozenset(
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


def _x(host: str, segs: list[str], query: str, shown: str) -> VideoRef:
    if not segs:
        raise InvalidVideoUrl(f"{shown} has no post id: paste a link like {_EXAMPLE[Platform.X]}.")
    head = segs[0].lower()
    if head == "i":
        rest = [s.lower() for s in segs[1:3]]
        if rest[:1] == ["status"]:
            return _ref(Platform.X, segs[2] if len(segs) >= 3 else "", shown)
        if rest == ["web", "status"]:
            return _ref(Platform.X, segs[3] if len(segs) >= 4 else "", shown)
        raise InvalidVideoUrl(f"{shown} is not an X post link: paste a link like {_EXAMPLE[Platform.X]}.")
    if len(segs) >= 2 and segs[1].lower() in ("status", "statuses"):
        return _ref(Platform.X, segs[2] if len(segs) >= 3 else "", shown, segs[0])
    if head in _X_NON_VIDEO or not _X_HANDLE.fullmatch(segs[0]):
        raise InvalidVideoUrl(f"{shown} is not an X post link: paste a link like {_EXAMPLE[Platform.X]}.")
    raise InvalidVideoUrl(f"{shown} is an X profile, not a post: paste the link of one post (…/<user>/status/<id>).")


_READERS = {Platform.TIKTOK: _tiktok, Platform.YOUTUBE: _youtube, Platform.INSTAGRAM: _instagram, Platform.X: _x}


# --------------------------------------------------------------------------------------------------
# account links: (host, segments) -> AccountRef, or None when the path is not an account


_YOUTUBE_HANDLE = re.compile(r"[A-Za-z0-9_.-]{3,30}", re.ASCII)
_YOUTUBE_CHANNEL_ID = re.compile(r"UC[A-Za-z0-9_-]{22}", re.ASCII)
_YOUTUBE_LEGACY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}", re.ASCII)
_INSTAGRAM_HANDLE = re.compile(r"[A-Za-z0-9_.]{1,30}", re.ASCII)
_X_ACCOUNT_HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}", re.ASCII)

_ACCOUNT_NOUN = {
    Platform.TIKTOK: "a TikTok profile",
    Platform.YOUTUBE: "a YouTube channel",
    Platform.INSTAGRAM: "an Instagram profile",
    Platform.X: "an X profile",
}
_POST_NOUN = {
    Platform.TIKTOK: "a TikTok video",
    Platform.YOUTUBE: "a YouTube video",
    Platform.INSTAGRAM: "an Instagram post",
    Platform.X: "an X post",
}
_ACCOUNT_LINK_NOUN = {
    Platform.TIKTOK: "a TikTok account link",
    Platform.YOUTUBE: "a YouTube channel link",
    Platform.INSTAGRAM: "an Instagram account link",
    Platform.X: "an X account link",
}

_ACCOUNT_EXAMPLE = {
    Platform.TIKTOK: "https://www.tiktok.com/@user",
    Platform.YOUTUBE: "https://www.youtube.com/@handle",
    Platform.INSTAGRAM: "https://www.instagram.com/user/",
    Platform.X: "https://x.com/user",
}

#: Profile and channel tabs (``/@user/videos``, ``/user/reels/``...): the same account as its main page.
_YOUTUBE_TABS = frozenset(
    {"videos", "shorts", "streams", "featured", "about", "playlists", "community", "podcasts", "releases", "live"}
)
_INSTAGRAM_TABS = frozenset({"reels", "tagged", "guides", "feed", "channel"})
_X_TABS = frozenset({"with_replies", "media", "likes", "highlights", "articles", "superfollows"})

#: First path words that are Instagram pages, never usernames.
_INSTAGRAM_RESERVED = frozenset(
    {
        *_INSTAGRAM_POST_PATHS,
        *_INSTAGRAM_NON_VIDEO,
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

#: First path words that are X pages, never handles.
_X_RESERVED = frozenset(
    {
        *_X_NON_VIDEO,
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


def canonical_account_url(
    platform: Platform | str, handle: str | None = None, platform_account_id: str | None = None
) -> str:
    """The URL stored for an account known by its handle (or, for YouTube, by its channel id alone).

    Raises :class:`InvalidVideoUrl` when the handle is not well-formed for its platform.
    """
    plat = parse_platform(platform)
    if plat is Platform.YOUTUBE and not handle and platform_account_id:
        if not _YOUTUBE_CHANNEL_ID.fullmatch(platform_account_id):
            raise InvalidVideoUrl(
                f"{_show(platform_account_id)} is not a YouTube channel id (UC followed by 22 letters, digits, "
                f"'-' or '_'): paste the channel's link."
            )
        return f"https://www.youtube.com/channel/{platform_account_id}"
    pattern, build = _ACCOUNT_FORMS[plat]
    if not handle or not pattern.fullmatch(handle) or (plat is Platform.TIKTOK and handle == TIKTOK_UNKNOWN_HANDLE):
        raise InvalidVideoUrl(
            f"{_show(handle or '')} is not a valid {_LABEL[plat]} handle: paste the account's link, like "
            f"{_ACCOUNT_EXAMPLE[plat]}."
        )
    return build(handle)


_ACCOUNT_FORMS = {
    Platform.TIKTOK: (_TIKTOK_HANDLE, lambda h: f"https://www.tiktok.com/@{h}"),
    Platform.YOUTUBE: (_YOUTUBE_HANDLE, lambda h: f"https://www.youtube.com/@{h}"),
    Platform.INSTAGRAM: (_INSTAGRAM_HANDLE, lambda h: f"https://www.instagram.com/{h}/"),
    Platform.X: (_X_ACCOUNT_HANDLE, lambda h: f"https://x.com/{h}"),
}


def _handle_ref(platform: Platform, handle: str) -> AccountRef:
    return AccountRef(platform, handle, canonical_account_url(platform, handle))


def _tiktok_account_path(host: str, segs: list[str]) -> AccountRef | None:
    if host in _TIKTOK_SHORT_HOSTS or len(segs) != 1 or not segs[0].startswith("@"):
        return None
    handle = segs[0][1:]
    if handle == TIKTOK_UNKNOWN_HANDLE or not _TIKTOK_HANDLE.fullmatch(handle):
        return None
    return _handle_ref(Platform.TIKTOK, handle)


def _youtube_account_path(host: str, segs: list[str]) -> AccountRef | None:
    if host not in _YOUTUBE_HOSTS or not segs or len(segs) > 2:
        return None
    first = segs[0]
    if host == "music.youtube.com":  # YouTube Music names artists by channel id only
        if first.lower() == "channel" and len(segs) == 2 and _YOUTUBE_CHANNEL_ID.fullmatch(segs[1]):
            return AccountRef(Platform.YOUTUBE, None, canonical_account_url(Platform.YOUTUBE, None, segs[1]), segs[1])
        return None
    if first.startswith("@"):
        handle = first[1:]
        if (len(segs) == 2 and segs[1].lower() not in _YOUTUBE_TABS) or not _YOUTUBE_HANDLE.fullmatch(handle):
            return None
        return _handle_ref(Platform.YOUTUBE, handle)
    if len(segs) < 2:
        return None
    kind, name = first.lower(), segs[1]
    if kind == "channel" and _YOUTUBE_CHANNEL_ID.fullmatch(name):
        return AccountRef(Platform.YOUTUBE, None, canonical_account_url(Platform.YOUTUBE, None, name), name)
    if kind in ("c", "user") and _YOUTUBE_LEGACY_NAME.fullmatch(name):
        # legacy custom and user names: the name stands in for the handle until discovery learns the real one
        return AccountRef(Platform.YOUTUBE, name, f"https://www.youtube.com/{kind}/{name}")
    return None


def _youtube_channel_tab(segs: list[str]) -> list[str]:
    """``/channel/UC../videos`` and ``/c/name/shorts``: drop the tab so the channel reads as its main page."""
    if len(segs) == 3 and segs[0].lower() in _YOUTUBE_CHANNEL_PATHS and segs[2].lower() in _YOUTUBE_TABS:
        return segs[:2]
    return segs


def _instagram_account_path(host: str, segs: list[str]) -> AccountRef | None:
    if not segs or len(segs) > 2 or (len(segs) == 2 and segs[1].lower() not in _INSTAGRAM_TABS):
        return None
    handle = segs[0]
    if handle.lower() in _INSTAGRAM_RESERVED or not _INSTAGRAM_HANDLE.fullmatch(handle):
        return None
    return _handle_ref(Platform.INSTAGRAM, handle)


def _x_account_path(host: str, segs: list[str]) -> AccountRef | None:
    if not segs or len(segs) > 2 or (len(segs) == 2 and segs[1].lower() not in _X_TABS):
        return None
    handle = segs[0]
    if handle.lower() in _X_RESERVED or not _X_ACCOUNT_HANDLE.fullmatch(handle):
        return None
    return _handle_ref(Platform.X, handle)


_ACCOUNT_READERS = {
    Platform.TIKTOK: _tiktok_account_path,
    Platform.YOUTUBE: lambda host, segs: _youtube_account_path(host, _youtube_channel_tab(segs)),
    Platform.INSTAGRAM: _instagram_account_path,
    Platform.X: _x_account_path,
}


def _account_or_none(platform: Platform, host: str, segs: list[str]) -> AccountRef | None:
    return _ACCOUNT_READERS[platform](host, segs)


# --------------------------------------------------------------------------------------------------
# entry points


def _strip(text: str) -> str:
    text = text.strip()
    for left, right in _QUOTE_PAIRS:  # "https://..." pasted from a CSV cell or chat
        if len(text) >= 2 and text[0] == left and text[-1] == right:
            text = text[1:-1].strip()
    return text


def parse_video_url(text: str, platform: Platform | str | None = None) -> VideoRef | ShortLink:
    """Parse a pasted video link, a ``platform:id`` video id, or a bare id (with ``platform``).

    ``platform`` (from ``--platform``) is required for bare ids and, when given with a link or a video id,
    must agree with it. Raises :class:`InvalidVideoUrl` (and nothing else) for anything unusable.
    """
    if not isinstance(text, str):
        raise InvalidVideoUrl(f"Expected a link as text, got {type(text).__name__}: pass the URL as a string.")
    expected = parse_platform(platform) if platform is not None and platform != "" else None
    raw = _strip(text)
    if not raw:
        raise InvalidVideoUrl("The link is empty: paste a video URL such as https://www.youtube.com/watch?v=<id>.")
    shown = _show(raw)
    if _WHITESPACE.search(raw):
        raise InvalidVideoUrl(f"{shown} contains spaces: paste one link per line, without spaces.")

    if _BARE_TOKEN.fullmatch(raw):
        if expected is None:
            raise InvalidVideoUrl(f"{shown} is a bare id: say which platform with --platform {_PLATFORM_CHOICES}.")
        return _ref(expected, raw, shown)

    id_match = _VIDEO_ID.fullmatch(raw)
    if id_match is not None and id_match.group(1).lower() in Platform._value2member_map_:
        found, external_id = split_video_id(raw)
        _check_platform(found, expected, shown)
        return _ref(found, external_id, shown)

    found, host, segs, query = _split_link(raw, shown, "video")
    _check_platform(found, expected, shown)
    try:
        return _READERS[found](host, segs, query, shown)
    except InvalidVideoUrl:
        account = _account_or_none(found, host, segs)
        if account is None:
            raise
        word = "post" if found in (Platform.INSTAGRAM, Platform.X) else "video"
        raise InvalidVideoUrl(
            f"{shown} is {_ACCOUNT_NOUN[found]}, not a {word}: watch the account and its new {word}s with "
            f"`viewtrail watch`, or paste the link of one {word} ({_EXAMPLE[found]})."
        ) from None


def _split_link(raw: str, shown: str, kind: str) -> tuple[Platform, str, list[str], str]:
    """``(platform, host, path segments, query)`` of a pasted link (scheme optional)."""
    scheme = _SCHEME.match(raw)
    if scheme is not None:
        if scheme.group(1).lower() not in ("http", "https"):
            raise InvalidVideoUrl(f"{shown} is not a web link: paste an http(s) {kind} URL.")
        url = raw
    elif raw.startswith("//"):
        url = "https:" + raw
    else:
        url = "https://" + raw
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise InvalidVideoUrl(f"{shown} is not a valid link: check it was copied completely.") from None
    host = (host or "").rstrip(".")
    if not host:
        raise InvalidVideoUrl(f"{shown} has no host: paste the full {kind} URL.")
    found = _HOST_PLATFORM.get(host)
    if found is None:
        raise InvalidVideoUrl(
            f"{shown} is on an unsupported host ({_show(host)}): paste a TikTok, YouTube, Instagram or X {kind} link."
        )
    path = parts.path
    if found is Platform.X and path.strip("/") == "" and parts.fragment.startswith("!/"):
        path = parts.fragment[1:]  # legacy twitter.com/#!/user/status/id
    segs = [seg for seg in unquote(path).split("/") if seg]
    return found, host, segs, parts.query


def parse_account_url(text: str) -> AccountRef:
    """Parse a pasted account link (TikTok or Instagram profile, YouTube channel, X profile).

    Raises :class:`InvalidVideoUrl` (and nothing else) for anything unusable; for a video link the sentence
    says to use ``viewtrail track``.
    """
    if not isinstance(text, str):
        raise InvalidVideoUrl(f"Expected a link as text, got {type(text).__name__}: pass the URL as a string.")
    raw = _strip(text)
    if not raw:
        raise InvalidVideoUrl("The link is empty: paste an account URL such as https://www.tiktok.com/@user.")
    shown = _show(raw)
    if _WHITESPACE.search(raw):
        raise InvalidVideoUrl(f"{shown} contains spaces: paste one link per line, without spaces.")
    if raw.startswith("@") or _BARE_TOKEN.fullmatch(raw) or _VIDEO_ID.fullmatch(raw):
        raise InvalidVideoUrl(
            f"{shown} is not an account link: paste the account's full link, like https://www.tiktok.com/@user "
            f"or https://www.youtube.com/@handle."
        )
    found, host, segs, query = _split_link(raw, shown, "account")
    account = _account_or_none(found, host, segs)
    if account is not None:
        return account
    try:
        video = _READERS[found](host, segs, query, shown)
    except InvalidVideoUrl:
        video = None
    if video is not None:
        kind = "a TikTok short link to a video" if isinstance(video, ShortLink) else _POST_NOUN[found]
        raise InvalidVideoUrl(
            f"{shown} is {kind}, not an account: track it with `viewtrail track`, or paste the "
            f"account's link ({_ACCOUNT_EXAMPLE[found]}) to watch it."
        )
    raise InvalidVideoUrl(f"{shown} is not {_ACCOUNT_LINK_NOUN[found]}: paste one like {_ACCOUNT_EXAMPLE[found]}.")


def _check_platform(found: Platform, expected: Platform | None, shown: str) -> None:
    if expected is not None and found is not expected:
        raise InvalidVideoUrl(
            f"{shown} is a {_LABEL[found]} link but --platform {expected.value} was given: "
            f"drop --platform or correct it."
        )


def parse_many(
    texts: Iterable[str], platform: Platform | str | None = None
) -> list[VideoRef | ShortLink | InvalidVideoUrl]:
    """Parse many links (bulk import); one result per input, errors returned in place, never raised.

    Raises :class:`InvalidVideoUrl` only when ``platform`` itself is not a platform name.
    """
    expected = parse_platform(platform) if platform is not None and platform != "" else None
    results: list[VideoRef | ShortLink | InvalidVideoUrl] = []
    append = results.append
    for text in texts:
        try:
            append(parse_video_url(text, expected))
        except InvalidVideoUrl as error:
            append(error)
    return results
