"""Instagram: the logged-out post page, and the logged-in media info API when a session cookie is set.

Wire format:
* logged out: ``GET {base_url}/p/{shortcode}/`` (redirects followed). The media sits in
  ``<script type="application/json" data-sjs>`` blocks:
  ``require[..]["__bbox"]["require"][..] -> ["RelayPrefetchedStreamCache", "next", [], [key, {"__bbox":
  {"result": {"data": {"xig_polaris_media": {"if_not_gated_logged_out": MEDIA}}}}}]]``. The client searches
  every data-sjs block for ``xig_polaris_media`` (robust to the wrapper changing).
* with ``INSTAGRAM_SESSIONID`` (or a ``sessionid`` in ``VIEWTRAIL_INSTAGRAM_COOKIES_FILE``):
  ``GET {base_url}/api/v1/media/{pk}/info/`` with headers ``X-IG-App-ID:
  936619743392459`` and ``Cookie: sessionid=...`` (no redirects followed, so the cookie never travels
  elsewhere) -> ``{"items": [MEDIA], "status": "ok"}``. On "media not found" it falls back to the page.

MEDIA: ``pk``, ``code``, ``taken_at`` (epoch), ``like_count``, ``comment_count``, ``caption.text``,
``user.username``, ``video_duration``, and views as ``play_count``/``ig_play_count``/``view_count`` when
present (usually only with a session). ``like_and_view_counts_disabled`` -> likes/views null;
``comments_disabled`` -> comments null.

Fallback: when the post page is a shell (HTTP 200, titled "Instagram", login forms and data-sjs blocks but no
post data: Instagram's answer to clients it distrusts) or gated for logged-out viewers, the client reads the
public embed page ``/p/{shortcode}/embed/captioned/`` (its ``window.__additionalDataLoaded('extra', {...})``
JSON holds ``shortcode_media`` with ``edge_media_preview_like.count``, ``edge_media_to_comment.count``, the
caption and ``owner.username``, or an API-like ``items[0]``); such results have ``source = instagram_embed``.
A shell whose embed gives nothing is ``blocked`` (transient), never ``parse_error``.

Outcomes: a redirect to ``/accounts/login`` (or ``/``) without a session -> ``blocked`` (Instagram throttles
anonymous clients that way; public posts render logged out), with a session -> ``login_required`` (cookie
rejected); media gated for logged-out viewers -> ``login_required`` (or ``private`` for the long shortcodes of
private posts); HTTP 404 or "Sorry, this page isn't available" -> ``not_found``. Never ``not_found`` for a
login wall.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from viewtrail.domain.models import Observation, Outcome, Platform, ScrapeResult, VideoToScrape
from viewtrail.platforms import trace
from viewtrail.platforms.base import ClientSettings
from viewtrail.platforms.http import Fetched, HttpPlatformClient, RunContext, to_count

__all__ = [
    "InstagramClient",
    "find_embed_media",
    "find_media",
    "is_login_path",
    "is_page_shell",
    "pk_to_shortcode",
    "shortcode_to_pk",
]

IG_APP_ID = "936619743392459"
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}
_SJS = re.compile(r"<script\b[^>]*\bdata-sjs\b[^>]*>(.*?)</script>", re.DOTALL)
_NOT_AVAILABLE = re.compile(r"Sorry, this page isn(?:'|&#0*39;|&#x0*27;|’)t available", re.IGNORECASE)
_PRIVATE_PAGE = re.compile(r"This (?:account|profile) is private", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>\s*(.*?)\s*</title>", re.DOTALL | re.IGNORECASE)
_EMBED_DATA = re.compile(r"window\.__additionalDataLoaded\s*\(\s*[^,]+,\s*")
_PRIVATE_SUFFIX = 28  # private posts carry 28 extra characters after the 11-character shortcode


def shortcode_to_pk(shortcode: str) -> int:
    """``Chunk8-jurw`` -> 2913440072144448240 (base 64 over ``A-Za-z0-9-_``; private-post suffix ignored)."""
    code = shortcode[:-_PRIVATE_SUFFIX] if len(shortcode) > _PRIVATE_SUFFIX else shortcode
    if not code:
        raise ValueError("empty shortcode")
    value = 0
    for char in code:
        if char not in _INDEX:
            raise ValueError(f"{char!r} is not a shortcode character")
        value = value * 64 + _INDEX[char]
    return value


def pk_to_shortcode(pk: int | str) -> str:
    value = int(str(pk).split("_")[0])
    if value < 0:
        raise ValueError("negative media pk")
    chars = []
    while True:
        value, digit = divmod(value, 64)
        chars.append(_ALPHABET[digit])
        if value == 0:
            return "".join(reversed(chars))


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def find_media(page: str) -> tuple[bool, dict[str, Any] | None]:
    """``(found_polaris, media)`` from the post page's data-sjs JSON blocks.

    ``found_polaris`` is True when an ``xig_polaris_media`` object exists (the post page rendered);
    ``media`` is its ``if_not_gated_logged_out`` object, or ``None`` when gated.
    """
    found = False
    for block in _SJS.findall(page):
        if "xig_polaris_media" not in block:
            continue
        try:
            data = json.loads(block)
        except ValueError:
            continue
        for node in _walk(data):
            if "xig_polaris_media" not in node:
                continue
            found = True
            polaris = node["xig_polaris_media"]
            if not isinstance(polaris, dict):
                continue
            media = polaris.get("if_not_gated_logged_out")
            if isinstance(media, dict):
                return True, media
            if "like_count" in polaris or "taken_at" in polaris:
                return True, polaris
    return found, None


def is_page_shell(page: str) -> bool:
    """The logged-out page shell: titled just "Instagram", app scripts (data-sjs) but no post data.

    A page with a prefetched query result (``RelayPrefetchedStreamCache``) is not a shell: its data moved, which
    is a changed format (``parse_error``).
    """
    title = _TITLE.search(page)
    return bool(
        title
        and title.group(1).strip() == "Instagram"
        and "xig_polaris_media" not in page
        and "RelayPrefetchedStreamCache" not in page
    )


def _edge_count(node: Any, name: str) -> Any:
    edge = node.get(name) if isinstance(node, dict) else None
    return edge.get("count") if isinstance(edge, dict) else None


def find_embed_media(page: str) -> dict[str, Any] | None:
    """A media object (API field names) from the embed page's ``__additionalDataLoaded`` JSON, or ``None``."""
    match = _EMBED_DATA.search(page)
    if match is None:
        return None
    try:
        data, _ = json.JSONDecoder().raw_decode(page, match.end())
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    items = data.get("items")
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0]
    graphql = data.get("graphql")
    node = graphql.get("shortcode_media") if isinstance(graphql, dict) else data.get("shortcode_media")
    if not isinstance(node, dict):
        return None
    likes = _edge_count(node, "edge_media_preview_like")
    if likes is None:
        likes = _edge_count(node, "edge_liked_by")
    comments = _edge_count(node, "edge_media_to_comment")
    if comments is None:
        comments = _edge_count(node, "edge_media_to_parent_comment")
    captions = (node.get("edge_media_to_caption") or {}).get("edges") or []
    caption = captions[0].get("node", {}).get("text") if captions and isinstance(captions[0], dict) else None
    media: dict[str, Any] = {
        "like_count": likes,
        "comment_count": comments,
        "caption": {"text": caption} if caption else None,
        "owner": node.get("owner"),
        "taken_at": node.get("taken_at_timestamp"),
        "video_duration": node.get("video_duration"),
        "video_view_count": node.get("video_view_count"),
        "like_and_view_counts_disabled": node.get("like_and_view_counts_disabled"),
        "comments_disabled": node.get("comments_disabled"),
    }
    if node.get("id") is not None:
        media["pk"] = node["id"]
    return media


def _first_count(media: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        if media.get(key) is not None:
            return to_count(media[key], key)
    return None


_VIEW_KEYS = ("play_count", "ig_play_count", "view_count", "video_view_count", "video_play_count")
#: With a session: Instagram's own plays first (``play_count`` can include Facebook cross-post plays).
_SESSION_VIEW_KEYS = ("ig_play_count", "play_count", "view_count", "video_view_count", "video_play_count")


def media_observation(
    video: VideoToScrape, media: dict[str, Any], observed_at: datetime, *, logged_in: bool = False
) -> Observation:
    """Observation from a media object (page or API); ``ValueError``/``KeyError`` name the changed field."""
    if "like_count" not in media and "comment_count" not in media:
        raise KeyError("media.like_count and media.comment_count missing")
    hidden = bool(media.get("like_and_view_counts_disabled"))
    likes = None if hidden else _first_count(media, "like_count")
    views = None if hidden else _first_count(media, *(_SESSION_VIEW_KEYS if logged_in else _VIEW_KEYS))
    comments = None if media.get("comments_disabled") else _first_count(media, "comment_count")
    caption = media.get("caption")
    user = media.get("user") or media.get("owner")
    taken_at = media.get("taken_at")
    duration = media.get("video_duration")
    extra = {k: media[k] for k in ("media_type", "product_type", "pk") if media.get(k) is not None}
    if "pk" in extra:
        extra["pk"] = str(extra["pk"])
    return Observation(
        video_id=video.video_id,
        observed_at=observed_at,
        views=views,
        likes=likes,
        comments=comments,
        shares=_first_count(media, "reshare_count", "share_count"),
        saves=_first_count(media, "save_count"),
        title=(caption.get("text") if isinstance(caption, dict) else None) or None,
        account=user.get("username") if isinstance(user, dict) else None,
        posted_at=datetime.fromtimestamp(int(str(taken_at)), UTC).replace(tzinfo=None) if taken_at else None,
        duration_s=float(duration) if duration else None,
        extra=extra,
    )


def is_login_path(path: str) -> bool:
    return path.startswith("/accounts/login") or path in ("", "/") or path.startswith("/challenge")


class InstagramClient(HttpPlatformClient):
    platform = Platform.INSTAGRAM
    source = "instagram_web"

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        # A logged-in browser's cookies carry the session: INSTAGRAM_SESSIONID, when set, still wins.
        file_session = next((c.value for c in self.file_cookies if c.name == "sessionid" and c.value), None)
        if self.settings.session_id is None and file_session:
            self.settings = self.settings.with_overrides(session_id=file_session)

    async def _scrape_batch(self, batch: list[VideoToScrape], ctx: RunContext) -> list[ScrapeResult]:
        return [await self._scrape_one(video, ctx) for video in batch]

    async def _scrape_one(self, video: VideoToScrape, ctx: RunContext) -> ScrapeResult:
        started, mono = self.now(), time.monotonic()
        tries = 0

        def done(
            outcome: Outcome,
            fetched: Fetched,
            detail: str | None = None,
            observation: Observation | None = None,
            route: str | None = None,
        ) -> ScrapeResult:
            fetched.tries += tries  # requests spent before this one (the API call, when it fell back)
            return self.result(
                video,
                outcome,
                started=started,
                started_mono=mono,
                ctx=ctx,
                fetched=fetched,
                detail=detail,
                observation=observation,
                route=route,
            )

        async def embed_or(outcome: Outcome, fetched: Fetched, detail: str) -> ScrapeResult:
            """The embed page's answer when it has the post, else ``outcome`` (its request counted)."""
            trace.note("fallback:instagram_embed")
            embed = await self.fetch(
                f"p/{video.external_id}/embed/captioned/",
                headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
                follow_redirects=False,
            )
            fetched.tries += embed.tries
            response = embed.response
            media = find_embed_media(response.text) if response is not None and response.status_code == 200 else None
            if media is None:
                return done(outcome, fetched, f"{detail}; embed page has no post data")
            try:
                observation = media_observation(video, media, self.now())
            except (ValueError, KeyError, TypeError, OverflowError) as exc:
                return done(Outcome.PARSE_ERROR, fetched, f"embed page: {exc}", route="instagram_embed")
            return done(Outcome.OK, fetched, observation=observation, route="instagram_embed")

        if session_id := self.settings.session_id:
            api_outcome, api_fetched, api_detail, api_observation = await self._scrape_api(video, session_id)
            if api_outcome is not None:
                return done(api_outcome, api_fetched, api_detail, api_observation, route="instagram_api")
            tries = api_fetched.tries  # "media not found" with a session: ask the public page which it is

        fetched = await self.fetch(
            f"p/{video.external_id}/",
            headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
            follow_redirects=True,
        )
        response = fetched.response
        if response is not None and is_login_path(self.relative_path(str(response.url))):
            return done(Outcome.BLOCKED, fetched, "redirected to the login page (Instagram's anonymous rate limit)")
        failure = self.generic_failure(fetched)
        if failure is not None:
            return done(failure[0], fetched, failure[1])
        assert response is not None
        page = response.text
        if response.status_code == 404 or (
            response.status_code == 200 and _NOT_AVAILABLE.search(page) and "xig_polaris_media" not in page
        ):
            return done(Outcome.NOT_FOUND, fetched, "post page says it isn't available")
        if response.status_code != 200:
            return done(Outcome.BLOCKED, fetched, f"unexpected HTTP {response.status_code}")
        found, media = find_media(page)
        if media is None:
            if found:
                if len(video.external_id) > _PRIVATE_SUFFIX or _PRIVATE_PAGE.search(page):
                    return done(Outcome.PRIVATE, fetched, "private post")
                return await embed_or(Outcome.LOGIN_REQUIRED, fetched, "post gated for logged-out viewers")
            if _PRIVATE_PAGE.search(page):
                return done(Outcome.PRIVATE, fetched, "private account")
            if is_page_shell(page):
                return await embed_or(Outcome.BLOCKED, fetched, "page shell without post data (client distrusted)")
            if _SJS.search(page):
                return done(Outcome.PARSE_ERROR, fetched, "no xig_polaris_media in data-sjs JSON")
            return done(Outcome.BLOCKED, fetched, "no data-sjs JSON in page (login wall or challenge)")
        try:
            observation = media_observation(video, media, self.now())
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            return done(Outcome.PARSE_ERROR, fetched, str(exc))
        return done(Outcome.OK, fetched, observation=observation)

    async def _scrape_api(
        self, video: VideoToScrape, session_id: str
    ) -> tuple[Outcome | None, Fetched, str | None, Observation | None]:
        """Media info logged in with ``session_id``. Outcome ``None`` means: fall back to the public page."""
        try:
            pk = shortcode_to_pk(video.external_id)
        except ValueError as exc:
            return Outcome.PARSE_ERROR, Fetched(tries=0), f"bad shortcode: {exc}", None
        fetched = await self.fetch(
            f"api/v1/media/{pk}/info/",
            headers={
                "X-IG-App-ID": IG_APP_ID,
                "Cookie": self.cookie_header({"sessionid": session_id}),
                "Accept": "application/json",
                "X-Requested-With": "XMLHttpRequest",
            },
            follow_redirects=False,
        )
        response = fetched.response
        if response is not None and response.is_redirect:
            location = response.headers.get("Location", "")
            if is_login_path(self.relative_path(str(response.url.join(location)))):
                return Outcome.LOGIN_REQUIRED, fetched, "session cookie rejected (redirect to login)", None
            return Outcome.BLOCKED, fetched, "unexpected redirect from media info API", None
        failure = self.generic_failure(fetched)
        if failure is not None:
            return failure[0], fetched, failure[1], None
        assert response is not None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        message = str(payload.get("message", "")) if isinstance(payload, dict) else ""
        if response.status_code in (401, 403) or message in ("login_required", "checkpoint_required"):
            return Outcome.LOGIN_REQUIRED, fetched, f"session cookie rejected ({message or response.status_code})", None
        if response.status_code in (400, 404) or "not found" in message.lower():
            return None, fetched, None, None
        if response.status_code != 200 or not isinstance(payload, dict):
            return Outcome.PARSE_ERROR, fetched, f"media info answer not JSON (HTTP {response.status_code})", None
        items = payload.get("items")
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            return Outcome.PARSE_ERROR, fetched, "media info answer has no items[0]", None
        try:
            observation = media_observation(video, items[0], self.now(), logged_in=True)
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            return Outcome.PARSE_ERROR, fetched, str(exc), None
        return Outcome.OK, fetched, None, observation
