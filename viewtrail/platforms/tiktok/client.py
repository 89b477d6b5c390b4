"""TikTok: the public video page and its ``__UNIVERSAL_DATA_FOR_REHYDRATION__`` JSON.

Wire format: ``GET {base_url}/@{account or _}/video/{id}`` (redirects followed, at most 5), HTML with
``<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{...}</script>`` whose
``__DEFAULT_SCOPE__["webapp.video-detail"]`` holds ``statusCode`` and ``itemInfo.itemStruct``.

Outcomes:
* ``statusCode`` 0 with an ``itemStruct`` -> ``ok`` (counts from ``statsV2`` else ``stats``, strings or ints);
* 10216 (private post) / 10222 (private account) -> ``private``;
* ``isContentClassified`` without video data -> ``login_required`` (age-gated);
* a redirect to ``/login`` -> ``login_required``;
* 10204 is read by its ``statusMsg``: a deleted message (``item_privacy_authorization&status_deleted``,
  ``status_deleted``...) -> ``not_found``; ``cross_border_violation_ur`` (withheld in the viewer's region; the post
  exists) -> ``geo_restricted``. Any other 10204 -> ``blocked`` (TikTok also sends it to blocked clients), with the
  message in the detail; it becomes ``not_found`` only when this client already read a video page successfully
  in the same run (so the client is demonstrably not blocked); 10202 (page not found) and HTTP 404 ->
  ``not_found``;
* challenge page (no data script; ``id="cs"``/``wci``/``rci`` elements or "Please wait..."): solved natively
  (:func:`solve_challenge`, a port of yt-dlp's ``_solve_challenge_and_set_cookies``) and the page fetched again
  with the cookies the page names. The cookies stay in the client for the rest of the run, so later videos do
  not pay the challenge again. An unsolvable challenge, or a second challenge right after a solved one ->
  ``blocked``.

A browser-impersonating transport (``VIEWTRAIL_TIKTOK_IMPERSONATE``, curl_cffi) is the next remedy when challenges
keep coming, then cookies from a logged-in browser (``VIEWTRAIL_TIKTOK_COOKIES_FILE``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from viewtrail.domain.errors import ViewtrailError
from viewtrail.domain.models import Observation, Outcome, Platform, ScrapeResult, VideoRef, VideoToScrape
from viewtrail.platforms import trace
from viewtrail.platforms.base import ClientSettings
from viewtrail.platforms.http import Fetched, HttpPlatformClient, RunContext, json_object, to_count

__all__ = [
    "PRIVATE_CODES",
    "ShortLinkError",
    "TikTokClient",
    "item_observation",
    "parse_universal_data",
    "parse_video_page",
    "solve_challenge",
]

_DATA_SCRIPT = re.compile(
    r"<script[^>]*\bid=[\"']__UNIVERSAL_DATA_FOR_REHYDRATION__[\"'][^>]*>(.*?)</script>", re.DOTALL
)
_CHALLENGE = re.compile(r"""\bid=["'](?:cs|wci|rci)["']|Please wait\.\.\.""")
PRIVATE_CODES = {10216: "private post", 10222: "private account"}
NOT_FOUND_CODES = {10202: "page not found"}
AMBIGUOUS_GONE = 10204
#: 10204 messages that say the post itself was deleted (pages captured Sept 2026).
_DELETED_MESSAGES = re.compile(r"status_deleted|item_deleted|item is deleted|video_deleted", re.IGNORECASE)
#: 10204 message of a post withheld in the viewer's region (the post exists; its oEmbed works).
_REGION_MESSAGES = re.compile(r"cross_border_violation", re.IGNORECASE)
#: Largest nonce the page's script tries (yt-dlp tries the same range before giving up).
CHALLENGE_MAX_NONCE = 1_000_000


class ShortLinkError(ViewtrailError, ValueError):
    """A short link that does not lead to a TikTok video."""


def parse_universal_data(html: str, final_path: str = "") -> tuple[Outcome | None, str | None, dict[str, Any]]:
    """``(failure, detail, __DEFAULT_SCOPE__)`` of any TikTok web page (video or user page).

    ``failure`` is ``None`` when the page carries its data script; else the outcome (login redirect,
    challenge page, broken JSON) and a detail, with an empty scope.
    """
    if final_path.startswith("/login"):
        return Outcome.LOGIN_REQUIRED, "redirected to /login", {}
    match = _DATA_SCRIPT.search(html)
    if match is None:
        if _CHALLENGE.search(html):
            return Outcome.BLOCKED, "challenge page (no data script)", {}
        return Outcome.BLOCKED, "no __UNIVERSAL_DATA_FOR_REHYDRATION__ script in page", {}
    try:
        data = json.loads(match.group(1))
    except ValueError:
        return Outcome.PARSE_ERROR, "__UNIVERSAL_DATA_FOR_REHYDRATION__ is not valid JSON", {}
    scope = data.get("__DEFAULT_SCOPE__") if isinstance(data, dict) else None
    if not isinstance(scope, dict):
        return Outcome.PARSE_ERROR, "missing __DEFAULT_SCOPE__", {}
    return None, None, scope


def _element_class(html: str, element_id: str) -> str | None:
    """The ``class`` attribute of the element whose ``id`` is ``element_id`` (attribute order free)."""
    for tag in re.finditer(r"<[a-zA-Z][^>]*>", html):
        text = tag.group(0)
        if re.search(rf"""\bid\s*=\s*["']{re.escape(element_id)}["']""", text):
            value = re.search(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)')""", text)
            return (value.group(1) if value.group(1) is not None else value.group(2)) if value else None
    return None


def solve_challenge(html: str) -> dict[str, str] | None:
    """Cookies that answer TikTok's "Please wait..." proof-of-work page, or ``None`` when it cannot be solved.

    The ``cs`` element's class is base64 JSON ``{"v": {"a": base64 prefix, "c": base64 SHA-256 digest}, ...}``;
    the answer is the smallest decimal nonce ``n`` with ``sha256(prefix + str(n)) == digest``, stored as
    ``d = base64(str(n))`` in the same JSON, which goes base64-encoded into the cookie named by the ``wci``
    element's class (``_wafchallengeid`` in 2026). The optional ``rci`` element names a second cookie whose
    value is the ``rs`` element's class.
    """
    encoded = _element_class(html, "cs")
    cookie_name = _element_class(html, "wci")
    if not encoded or not cookie_name:
        return None
    try:
        data = json.loads(base64.b64decode(encoded + "==="))
        expected = base64.b64decode(data["v"]["c"])
        base_hash = hashlib.sha256(base64.b64decode(data["v"]["a"]))
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(data, dict) or len(expected) != base_hash.digest_size:
        return None  # not a SHA-256 digest: no nonce can match
    for nonce in range(CHALLENGE_MAX_NONCE + 1):
        number = str(nonce).encode()
        attempt = base_hash.copy()
        attempt.update(number)
        if attempt.digest() == expected:
            data["d"] = base64.b64encode(number).decode()
            break
    else:
        return None
    cookies = {cookie_name: base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()}
    extra_name, extra_value = _element_class(html, "rci"), _element_class(html, "rs")
    if extra_name and extra_value:
        cookies[extra_name] = extra_value
    return cookies


def is_challenge_page(html: str) -> bool:
    return _DATA_SCRIPT.search(html) is None and _CHALLENGE.search(html) is not None


def parse_video_page(html: str, final_path: str = "") -> tuple[Outcome, str | None, dict[str, Any] | None, int]:
    """Classify a video page: ``(outcome, detail, itemStruct or None, statusCode)``.

    ``ok`` means the itemStruct is present; the caller turns it into an observation. 10204 is returned as
    ``blocked`` here; the client may upgrade it to ``not_found`` (see module docs).
    """
    failure, failure_detail, scope = parse_universal_data(html, final_path)
    if failure is not None:
        return failure, failure_detail, None, -1
    detail = scope.get("webapp.video-detail")
    if not isinstance(detail, dict):
        return Outcome.PARSE_ERROR, "missing __DEFAULT_SCOPE__['webapp.video-detail']", None, -1
    try:
        status = int(str(detail.get("statusCode", 0) or 0))
    except ValueError:
        return Outcome.PARSE_ERROR, "webapp.video-detail.statusCode is not a number", None, -1
    item = (detail.get("itemInfo") or {}).get("itemStruct") if isinstance(detail.get("itemInfo"), dict) else None
    status_msg = str(detail.get("statusMsg") or "")[:60]
    if status in PRIVATE_CODES:
        return Outcome.PRIVATE, f"statusCode {status} ({PRIVATE_CODES[status]})", None, status
    if status in NOT_FOUND_CODES:
        return Outcome.NOT_FOUND, f"statusCode {status} ({NOT_FOUND_CODES[status]})", None, status
    if status == AMBIGUOUS_GONE:
        if _DELETED_MESSAGES.search(status_msg):
            return Outcome.NOT_FOUND, f"statusCode 10204 {status_msg} (deleted)", None, status
        if _REGION_MESSAGES.search(status_msg):
            return Outcome.GEO_RESTRICTED, f"statusCode 10204 {status_msg} (withheld in this region)", None, status
        shown = f" statusMsg {status_msg!r}" if status_msg else ""
        return (
            Outcome.BLOCKED,
            f"statusCode 10204{shown} (unavailable: deleted video or blocked client)",
            None,
            status,
        )
    if status != 0:
        return Outcome.BLOCKED, f"unexpected statusCode {status} {status_msg}".rstrip(), None, status
    if not isinstance(item, dict) or not item:
        return Outcome.PARSE_ERROR, "missing webapp.video-detail.itemInfo.itemStruct", None, status
    if not isinstance(item.get("video"), dict) and item.get("isContentClassified"):
        return Outcome.LOGIN_REQUIRED, "age-restricted (isContentClassified): login required", None, status
    if item.get("privateItem") is True:
        return Outcome.PRIVATE, "itemStruct.privateItem", None, status
    return Outcome.OK, None, item, status


def item_observation(video: VideoToScrape, item: dict[str, Any], observed_at: datetime) -> Observation:
    """Observation from an ``itemStruct``; ``ValueError``/``KeyError`` name the field that changed."""
    stats_v2 = json_object(item, "statsV2")
    stats = json_object(item, "stats")
    if not stats_v2 and not stats:
        raise KeyError("itemStruct.stats and itemStruct.statsV2 missing")

    def count(key: str) -> int | None:
        return to_count(stats_v2.get(key, stats.get(key)), f"itemStruct.stats.{key}")

    views, likes, comments = count("playCount"), count("diggCount"), count("commentCount")
    shares, saves = count("shareCount"), count("collectCount")
    author = item.get("author")
    account = author.get("uniqueId") if isinstance(author, dict) else (author if isinstance(author, str) else None)
    created = item.get("createTime")
    posted_at = (
        datetime.fromtimestamp(int(str(created)), UTC).replace(tzinfo=None)
        if created not in (None, "", 0, "0")
        else None
    )
    video_info = json_object(item, "video")
    duration = video_info.get("duration")
    extra: dict[str, Any] = {}
    reposts = stats_v2.get("repostCount", stats.get("repostCount"))
    if reposts is not None:
        extra["reposts"] = to_count(reposts, "itemStruct.statsV2.repostCount")
    if item.get("imagePost"):
        extra["photo_post"] = True
    return Observation(
        video_id=video.video_id,
        observed_at=observed_at,
        views=views,
        likes=likes,
        comments=comments,
        shares=shares,
        saves=saves,
        title=item.get("desc") or None,
        account=account or None,
        posted_at=posted_at,
        duration_s=float(duration) if duration is not None and duration not in ("", 0, "0") else None,
        extra=extra,
    )


class TikTokClient(HttpPlatformClient):
    platform = Platform.TIKTOK
    source = "tiktok_web"

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        self._pages_read = 0  # successful video pages this client has parsed: proves we are not blocked
        self._challenge_cookies: dict[str, str] = {}  # answers to the challenge page, reused for the run

    async def _fetch_page(self, path: str) -> Fetched:
        headers = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
        if self._challenge_cookies:
            headers["Cookie"] = self.cookie_header(self._challenge_cookies)  # the cookies file's too
        return await self.fetch(path, headers=headers, follow_redirects=True)

    async def _scrape_batch(self, batch: list[VideoToScrape], ctx: RunContext) -> list[ScrapeResult]:
        return [await self._scrape_one(video, ctx) for video in batch]

    async def _scrape_one(self, video: VideoToScrape, ctx: RunContext) -> ScrapeResult:
        started, mono = self.now(), time.monotonic()
        path = f"@{video.account or '_'}/video/{video.external_id}"
        fetched = await self._fetch_page(path)
        challenge_detail: str | None = None
        if fetched.response is not None and fetched.status == 200 and is_challenge_page(fetched.response.text):
            cookies = solve_challenge(fetched.response.text)
            if cookies is None:
                trace.note("challenge_unsolved")
                challenge_detail = "challenge page could not be solved"
            else:
                trace.note("challenge_solved")
                self._challenge_cookies.update(cookies)
                tries = fetched.tries
                fetched = await self._fetch_page(path)
                fetched.tries += tries
                if fetched.response is not None and is_challenge_page(fetched.response.text):
                    trace.note("challenge_unsolved")
                    self._challenge_cookies.clear()  # rejected: the next video starts without them
                    challenge_detail = "challenge page again after solving it"

        def done(outcome: Outcome, detail: str | None = None, observation: Observation | None = None) -> ScrapeResult:
            return self.result(
                video,
                outcome,
                started=started,
                started_mono=mono,
                ctx=ctx,
                fetched=fetched,
                detail=detail,
                observation=observation,
            )

        response = fetched.response
        if response is not None and self.relative_path(str(response.url)).startswith("/login"):
            return done(Outcome.LOGIN_REQUIRED, "redirected to /login")
        failure = self.generic_failure(fetched)
        if failure is not None:
            return done(*failure)
        assert response is not None
        if response.status_code == 404:
            return done(Outcome.NOT_FOUND, "HTTP 404")
        if response.status_code in (401, 403):
            return done(Outcome.BLOCKED, f"HTTP {response.status_code}")
        if response.status_code != 200:
            return done(Outcome.BLOCKED, f"unexpected HTTP {response.status_code}")
        if challenge_detail is not None:
            return done(Outcome.BLOCKED, challenge_detail)
        outcome, detail, item, status = parse_video_page(response.text, self.relative_path(str(response.url)))
        if status == AMBIGUOUS_GONE and outcome is Outcome.BLOCKED and self._pages_read > 0:
            # This client read other pages fine in this run, so 10204 is about the video, not about us.
            return done(Outcome.NOT_FOUND, f"{detail} while other pages load")
        if outcome is not Outcome.OK:
            return done(outcome, detail)
        assert item is not None
        if str(item.get("id", video.external_id)) != video.external_id:
            return done(Outcome.PARSE_ERROR, f"itemStruct.id {str(item.get('id'))[:25]} is not the requested id")
        try:
            observation = item_observation(video, item, self.now())
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            return done(Outcome.PARSE_ERROR, str(exc))
        self._pages_read += 1
        return done(Outcome.OK, observation=observation)

    async def resolve_short_link(self, url: str) -> VideoRef:
        """Follow ``vm.tiktok.com`` / ``vt.tiktok.com`` / ``tiktok.com/t/`` redirects to the video.

        HEAD first (cheap), GET when HEAD is refused. Raises :class:`ShortLinkError` (one sentence) when the
        link leads nowhere useful, or the network fails.
        """
        from viewtrail.domain.urls import InvalidVideoUrl, parse_video_url

        state = self._loop_state()
        shown = self.scrub(url)
        final_url: str | None = None
        last_error = ""
        for method in ("HEAD", "GET"):
            try:
                async with state.semaphore:
                    await state.limiter.acquire()
                    response = await state.http.request(method, url, follow_redirects=True)
                    await response.aread()
            except Exception as exc:  # noqa: BLE001 - any network trouble becomes one clear error
                last_error = f"{type(exc).__name__}"
                continue
            if response.status_code < 400 or response.history:
                final_url = str(response.url)
                break
            last_error = f"HTTP {response.status_code}"
        if final_url is None:
            raise ShortLinkError(
                f"Could not follow the TikTok short link {shown} ({last_error}): try again later "
                "or paste the full video URL."
            )
        parts = urlsplit(final_url)
        if parts.path.startswith("/login"):
            raise ShortLinkError(f"TikTok asked for a login while resolving {shown}: paste the full video URL.")
        # Rebuild on the public host so links resolved through a proxy or the fake server parse the same way.
        public = f"https://www.tiktok.com{parts.path}"
        try:
            ref = parse_video_url(public)
        except InvalidVideoUrl:
            raise ShortLinkError(
                f"The TikTok short link {shown} leads to {self.scrub(parts.path)}, which is not a "
                "video: paste the full video URL."
            ) from None
        if not isinstance(ref, VideoRef):
            raise ShortLinkError(
                f"The TikTok short link {shown} redirects to another short link: paste the full video URL."
            )
        return ref
