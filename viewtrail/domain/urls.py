"""Turn whatever a user pastes into one unambiguous video identity.

``parse_video_url`` maps every accepted form of a video link of a registered platform (and bare ids, and
``platform:external_id`` video ids) to a :class:`VideoRef` with a canonical URL, or to a :class:`ShortLink` when
only a redirect lookup can tell which video it is (TikTok short links). Everything else raises
:class:`InvalidVideoUrl` with one sentence saying what is wrong and what to do.

This module is the generic half: cleaning the input, finding the platform from the host (the hosts of the specs in
``viewtrail.domain.platforms``), video ids, and the sentences. Each platform's URL grammar
(``viewtrail/platforms/<name>/urls.py``, named by its spec's ``grammar`` and imported on first use) provides:

* ``ID_PATTERN`` (a compiled pattern the external id must fully match) and ``ID_RULE`` (it, in words);
* ``video_account(account)``: the handle a canonical video URL carries, or None;
* ``canonical_url(external_id, account)``: the one URL stored for a video;
* ``read_video(host, segments, query, shown)``: a :class:`VideoRef` or :class:`ShortLink`, else
  :class:`InvalidVideoUrl`;
* ``canonical_account_url(handle, platform_account_id)`` and ``read_account(host, segments)`` (an
  :class:`AccountRef`, or None when the path is not an account);
* optionally ``link_path(path, fragment)``: the path to read when a link carries it elsewhere.

Guarantees relied on by the registry and the CLI (checked by property tests):

* for any ``str`` input the only exception raised is :class:`InvalidVideoUrl`;
* normalization is idempotent: ``parse_video_url(ref.url) == ref`` for every result ``ref``
  (same for ``ShortLink.url``);
* the video id never depends on the account handle, the host variant, the query string or the path
  form (``/video/`` vs ``/photo/``, ``/reel/`` vs ``/p/``, ``youtu.be`` vs ``watch?v=``...).

Pure Python: no Dagster, DuckDB or httpx. Patterns are compiled once at import so bulk imports of
tens of thousands of links stay fast (a few microseconds per link). Canonical URLs: see ``docs/urls.md``.

``parse_account_url`` does the same for account (profile, channel) links, giving an :class:`AccountRef` whose
``account_id`` never depends on the host variant, the query, the profile tab or the handle's case. A video link
given where an account is expected (and the reverse) is rejected with a sentence naming the command to use
(``viewtrail track`` for videos, ``viewtrail watch`` for accounts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from viewtrail.domain.models import AccountRef, Platform, ShortLink, VideoRef
from viewtrail.domain.platforms import platform_spec, platform_specs, url_grammar

__all__ = [
    "PLATFORM_CHOICES",
    "PLATFORM_NAMES",
    "SUPPORTED_PLATFORMS",
    "InvalidVideoUrl",
    "canonical_account_url",
    "canonical_url",
    "handle_ref",
    "invalid_handle",
    "looks_like_video_id",
    "parse_account_url",
    "parse_many",
    "parse_platform",
    "parse_video_url",
    "show",
    "split_video_id",
    "video_ref",
]


class InvalidVideoUrl(ValueError):
    """Raised for input that is not a supported video link or id (or, by :func:`parse_account_url`, account
    link); the message is one sentence for the user."""


# --------------------------------------------------------------------------------------------------
# the registry's tables


def _aliases() -> dict[str, Platform]:
    return {name: Platform(spec.name) for spec in platform_specs() for name in spec.names}


def _hosts() -> dict[str, Platform]:
    return {host: Platform(spec.name) for spec in platform_specs() for host in spec.hosts}


def _article(words: str) -> str:
    """``"a"`` or ``"an"`` before ``words`` (by its first letter: good enough for platform names)."""
    return "an" if words[:1].lower() in "aeiou" else "a"


def _one_of(words: list[str]) -> str:
    """``"TikTok, YouTube, Instagram or X"``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


_PLATFORM_ALIASES = _aliases()
_HOST_PLATFORM = _hosts()
#: ``tiktok|youtube|instagram|x``: the platform names a command line accepts, as shown in hints.
PLATFORM_CHOICES = "|".join(spec.name for spec in platform_specs())
#: ``tiktok, youtube, instagram or x``: the platform names in option help.
PLATFORM_NAMES = _one_of([spec.name for spec in platform_specs()])
#: ``TikTok, YouTube, Instagram or X``: the supported platforms in sentences.
SUPPORTED_PLATFORMS = _one_of([spec.display_name for spec in platform_specs()])

# --------------------------------------------------------------------------------------------------
# input shapes

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://", re.ASCII)
_BARE_TOKEN = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)
_VIDEO_ID = re.compile(r"([A-Za-z]+):([^\s/:?#]+)", re.ASCII)
_WHITESPACE = re.compile(r"\s")
_QUOTE_PAIRS = (('"', '"'), ("'", "'"), ("<", ">"), ("\u201c", "\u201d"), ("\u2018", "\u2019"))


def show(text: str) -> str:
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
        raise InvalidVideoUrl(f"Platform {platform!r} is not supported: use one of {PLATFORM_CHOICES}.")
    found = _PLATFORM_ALIASES.get(platform.strip().lower())
    if found is None:
        raise InvalidVideoUrl(f"Platform {show(platform)} is not supported: use one of {PLATFORM_CHOICES}.")
    return found


def _check_id(platform: Platform, external_id: str, shown: str) -> str:
    grammar = url_grammar(platform.value)
    if grammar.ID_PATTERN.fullmatch(external_id):
        return external_id
    spec = platform_spec(platform.value)
    label, expected = spec.display_name, grammar.ID_RULE
    if not external_id:
        raise InvalidVideoUrl(f"{shown} has no {label} video id: paste a link like {spec.video_example}.")
    if shown == show(external_id):
        raise InvalidVideoUrl(
            f"{shown} is not a valid {label} video id (it should be {expected}): check that it was copied completely."
        )
    raise InvalidVideoUrl(
        f"{shown} does not contain a valid {label} video id ({show(external_id)} should be {expected}): "
        f"check that the link was copied completely."
    )


def canonical_url(platform: Platform | str, external_id: str, account: str | None = None) -> str:
    """The one URL stored for a video; parsing it gives back the same ``VideoRef``.

    ``account`` is kept only where the canonical form carries it (TikTok, X) and only when it is a
    well-formed handle; otherwise the form for an unknown author is used.
    """
    plat = parse_platform(platform)
    _check_id(plat, external_id, show(external_id))
    grammar = url_grammar(plat.value)
    return grammar.canonical_url(external_id, grammar.video_account(account))


def video_ref(platform: Platform, external_id: str, shown: str, account: str | None = None) -> VideoRef:
    """The video a grammar read from a link: its id checked, its handle kept where the canonical URL carries it."""
    external_id = _check_id(platform, external_id, shown)
    grammar = url_grammar(platform.value)
    account = grammar.video_account(account)
    return VideoRef(platform, external_id, grammar.canonical_url(external_id, account), account)


# --------------------------------------------------------------------------------------------------
# video ids ("youtube:dQw4w9WgXcQ")


def split_video_id(video_id: str) -> tuple[Platform, str]:
    """``("youtube", "dQw4w9WgXcQ")`` from ``"youtube:dQw4w9WgXcQ"``; the id is validated for its platform."""
    if not isinstance(video_id, str):
        raise InvalidVideoUrl(f"Video id {video_id!r} is not text: pass an id like youtube:dQw4w9WgXcQ.")
    text = video_id.strip()
    shown = show(text)
    match = _VIDEO_ID.fullmatch(text)
    if match is None:
        raise InvalidVideoUrl(
            f"{shown} is not a video id: video ids look like {{platform}}:{{id}}, e.g. youtube:dQw4w9WgXcQ."
        )
    platform = _PLATFORM_ALIASES.get(match.group(1).lower())
    if platform is None or match.group(1).lower() not in Platform._value2member_map_:
        raise InvalidVideoUrl(
            f"{shown} names an unknown platform {show(match.group(1))}: video ids start with "
            f"{PLATFORM_CHOICES} followed by ':'."
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
# account links


def invalid_handle(platform: Platform, handle: str | None) -> InvalidVideoUrl:
    """The error for a handle that is not well-formed for ``platform``."""
    spec = platform_spec(platform.value)
    return InvalidVideoUrl(
        f"{show(handle or '')} is not a valid {spec.display_name} handle: paste the account's link, like "
        f"{spec.account_example}."
    )


def canonical_account_url(
    platform: Platform | str, handle: str | None = None, platform_account_id: str | None = None
) -> str:
    """The URL stored for an account known by its handle (or, for YouTube, by its channel id alone).

    Raises :class:`InvalidVideoUrl` when the handle is not well-formed for its platform.
    """
    plat = parse_platform(platform)
    return str(url_grammar(plat.value).canonical_account_url(handle, platform_account_id))


def handle_ref(platform: Platform, handle: str) -> AccountRef:
    """The account a grammar read from a link by its handle."""
    return AccountRef(platform, handle, canonical_account_url(platform, handle))


def _read_video(platform: Platform, host: str, segs: list[str], query: str, shown: str) -> VideoRef | ShortLink:
    result: VideoRef | ShortLink = url_grammar(platform.value).read_video(host, segs, query, shown)
    return result


def _account_or_none(platform: Platform, host: str, segs: list[str]) -> AccountRef | None:
    account: AccountRef | None = url_grammar(platform.value).read_account(host, segs)
    return account


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
    shown = show(raw)
    if _WHITESPACE.search(raw):
        raise InvalidVideoUrl(f"{shown} contains spaces: paste one link per line, without spaces.")

    if _BARE_TOKEN.fullmatch(raw):
        if expected is None:
            raise InvalidVideoUrl(f"{shown} is a bare id: say which platform with --platform {PLATFORM_CHOICES}.")
        return video_ref(expected, raw, shown)

    id_match = _VIDEO_ID.fullmatch(raw)
    if id_match is not None and id_match.group(1).lower() in Platform._value2member_map_:
        found, external_id = split_video_id(raw)
        _check_platform(found, expected, shown)
        return video_ref(found, external_id, shown)

    found, host, segs, query = _split_link(raw, shown, "video")
    _check_platform(found, expected, shown)
    try:
        return _read_video(found, host, segs, query, shown)
    except InvalidVideoUrl:
        account = _account_or_none(found, host, segs)
        if account is None:
            raise
        spec = platform_spec(found.value)
        word = spec.post_word
        raise InvalidVideoUrl(
            f"{shown} is {spec.phrase(spec.account_word)}, not a {word}: watch the account and its new {word}s with "
            f"`viewtrail watch`, or paste the link of one {word} ({spec.video_example})."
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
            f"{shown} is on an unsupported host ({show(host)}): paste {_article(SUPPORTED_PLATFORMS)} "
            f"{SUPPORTED_PLATFORMS} {kind} link."
        )
    path = parts.path
    link_path = getattr(url_grammar(found.value), "link_path", None)
    if link_path is not None:  # e.g. legacy twitter.com/#!/user/status/id
        path = link_path(path, parts.fragment)
    segs = [seg for seg in unquote(path).split("/") if seg]
    # links copied out of HTML source or some chat exports arrive with "&" escaped as "&amp;"
    return found, host, segs, parts.query.replace("&amp;", "&")


def parse_account_url(text: str) -> AccountRef:
    """Parse a pasted account link (a profile or channel of a registered platform).

    Raises :class:`InvalidVideoUrl` (and nothing else) for anything unusable; for a video link the sentence
    says to use ``viewtrail track``.
    """
    if not isinstance(text, str):
        raise InvalidVideoUrl(f"Expected a link as text, got {type(text).__name__}: pass the URL as a string.")
    raw = _strip(text)
    if not raw:
        raise InvalidVideoUrl("The link is empty: paste an account URL such as https://www.tiktok.com/@user.")
    shown = show(raw)
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
        video = _read_video(found, host, segs, query, shown)
    except InvalidVideoUrl:
        video = None
    if video is not None:
        spec = platform_spec(found.value)
        short = isinstance(video, ShortLink)
        kind = f"{spec.phrase('short link')} to a {spec.post_word}" if short else spec.phrase(spec.post_word)
        raise InvalidVideoUrl(
            f"{shown} is {kind}, not an account: track it with `viewtrail track`, or paste the "
            f"account's link ({spec.account_example}) to watch it."
        )
    spec = platform_spec(found.value)
    link = spec.phrase(f"{spec.account_link_word} link")
    raise InvalidVideoUrl(f"{shown} is not {link}: paste one like {spec.account_example}.")


def _check_platform(found: Platform, expected: Platform | None, shown: str) -> None:
    if expected is not None and found is not expected:
        raise InvalidVideoUrl(
            f"{shown} is a {platform_spec(found.value).display_name} link but --platform {expected.value} was given: "
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
