"""X (Twitter): the public syndication endpoint used by embedded tweets.

Wire format: ``GET {base_url}/tweet-result?id={id}&token={token}&lang=en`` where ``token`` is what the embed
script computes in JavaScript: ``((Number(id) / 1e15) * Math.PI).toString(36).replace(/(0+|\\.)/g, '')``
(:func:`syndication_token` is a faithful port, including V8's shortest base-36 digits).

Fields: ``__typename`` (``Tweet``; ``TweetTombstone`` = withheld/protected), ``id_str``, ``text``,
``created_at``, ``favorite_count`` (likes), ``conversation_count`` (replies), ``user.screen_name``,
``video.viewCount`` and ``mediaDetails[].video_info.duration_millis`` on video posts. Retweet, quote and
bookmark counts are not in this payload (``shares`` is null unless ``retweet_count`` appears).

Views fallback: when syndication has no ``video.viewCount`` the client asks X's web GraphQL as a guest
(``POST /1.1/guest/activate.json`` with the public web bearer token -> ``guest_token``, cached for the run; then
``GET /i/api/graphql/{queryId}/TweetResultByRestId`` -> ``data.tweetResult.result.views.count`` and ``legacy``
retweet/quote/bookmark counts). It has its own rate limit, is off with ``VIEWTRAIL_X_GRAPHQL=0``, and is given up
for the run when activation fails. Observations it completed have ``source = x_graphql``. A null view count
(text posts, old videos, GraphQL refused) is normal, not an error.

Outcomes: 404 -> ``not_found``; a ``TweetTombstone`` whose text says the post was deleted -> ``not_found``, any
other tombstone (age-restricted, protected account, suspended account, withheld) -> ``private``; empty ``{}`` -> ``blocked`` (the endpoint
sends it for several unrelated reasons: unavailable, not deleted); 429 -> ``rate_limited`` after retries.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from datetime import UTC, datetime
from typing import Any

from aiolimiter import AsyncLimiter

from viewtrail.domain.models import Observation, Outcome, Platform, ScrapeResult, VideoToScrape
from viewtrail.platforms import trace
from viewtrail.platforms.base import ClientSettings
from viewtrail.platforms.http import HttpPlatformClient, RunContext, json_object, to_count

__all__ = ["XClient", "graphql_counts", "js_number_to_string", "syndication_token"]

_PRODUCTION_GUEST_URL = "https://api.x.com/1.1/guest/activate.json"
_PRODUCTION_GRAPHQL_URL = "https://x.com/i/api/graphql"
#: Feature flags X's web app sends with TweetResultByRestId (yt-dlp's list); unknown ones make it answer 400.
_GRAPHQL_FEATURES = {
    "creator_subscriptions_tweet_preview_api_enabled": True,
    "tweetypie_unmention_optimization_enabled": True,
    "responsive_web_edit_tweet_api_enabled": True,
    "graphql_is_translatable_rweb_tweet_is_translatable_enabled": True,
    "view_counts_everywhere_api_enabled": True,
    "longform_notetweets_consumption_enabled": True,
    "responsive_web_twitter_article_tweet_consumption_enabled": False,
    "tweet_awards_web_tipping_enabled": False,
    "freedom_of_speech_not_reach_fetch_enabled": True,
    "standardized_nudges_misinfo": True,
    "tweet_with_visibility_results_prefer_gql_limited_actions_policy_enabled": True,
    "longform_notetweets_rich_text_read_enabled": True,
    "longform_notetweets_inline_media_enabled": True,
    "responsive_web_graphql_exclude_directive_enabled": True,
    "verified_phone_label_enabled": False,
    "responsive_web_media_download_video_enabled": False,
    "responsive_web_graphql_skip_user_profile_image_extensions_enabled": False,
    "responsive_web_graphql_timeline_navigation_enabled": True,
    "responsive_web_enhance_cards_enabled": False,
}

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_TOKEN_STRIP = re.compile(r"(0+|\.)")
#: Tombstone texts that say the post itself is gone ("This Post was deleted by the Post author.").
_DELETED_TOMBSTONE = re.compile(r"\b(?:was|has been) deleted\b|\bdoes(?:n't| not) exist\b", re.IGNORECASE)
#: Feature switches the official embed (and react-tweet) send; the endpoint answers without them too.
_FEATURES = ";".join(
    [
        "tfw_timeline_list:",
        "tfw_follower_count_sunset:true",
        "tfw_tweet_edit_backend:on",
        "tfw_refsrc_session:on",
        "tfw_fosnr_soft_interventions_enabled:on",
        "tfw_show_birdwatch_pivots_enabled:on",
        "tfw_show_business_verified_badge:on",
        "tfw_duplicate_scribes_to_settings:on",
        "tfw_use_profile_image_shape_enabled:on",
        "tfw_show_blue_verified_badge:on",
        "tfw_legacy_timeline_sunset:true",
        "tfw_show_gov_verified_badge:on",
        "tfw_show_business_affiliate_badge:on",
        "tfw_tweet_edit_frontend:on",
    ]
)


def _exponent(value: float) -> int:
    """V8 ``Double(value).Exponent()``: value == significand * 2**exponent with a 53-bit significand."""
    if value == 0:
        return -1074
    _, exp = math.frexp(value)
    return max(exp - 53, -1074)


def js_number_to_string(value: float, radix: int = 36) -> str:
    """JavaScript's ``Number.prototype.toString(radix)`` for finite numbers (port of V8 DoubleToRadixCString)."""
    if not 2 <= radix <= 36:
        raise ValueError("radix must be in 2..36")
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    negative = value < 0
    value = -value if negative else value
    integer = math.floor(value)
    fraction = value - integer
    # Only as many fraction digits as the double's precision supports.
    delta = max(0.5 * (math.nextafter(value, math.inf) - value), math.nextafter(0.0, 1.0))
    fraction_digits: list[str] = []
    if fraction >= delta:
        while True:
            fraction *= radix
            delta *= radix
            digit = int(fraction)
            fraction_digits.append(_DIGITS[digit])
            fraction -= digit
            if fraction > 0.5 or (fraction == 0.5 and (digit & 1)):
                if fraction + delta > 1:
                    # Round up, propagating the carry through the digits written so far.
                    while True:
                        if not fraction_digits:
                            integer += 1
                            break
                        last = _DIGITS.index(fraction_digits.pop())
                        if last + 1 < radix:
                            fraction_digits.append(_DIGITS[last + 1])
                            break
                    break
            if not fraction >= delta:
                break
    whole = float(integer)  # V8 writes the integer digits from a double
    integer_digits: list[str] = []
    while _exponent(whole / radix) > 0:
        whole /= radix
        integer_digits.append("0")
    while True:
        remainder = math.fmod(whole, radix)
        integer_digits.append(_DIGITS[int(remainder)])
        whole = (whole - remainder) / radix
        if not whole > 0:
            break
    text = "".join(reversed(integer_digits))
    if fraction_digits:
        text += "." + "".join(fraction_digits)
    return "-" + text if negative else text


def syndication_token(tweet_id: str | int) -> str:
    """The ``token`` query parameter the syndication endpoint expects for ``tweet_id``."""
    number = float(int(str(tweet_id)))  # Number("...") rounds to the nearest double, as int->float does
    return _TOKEN_STRIP.sub("", js_number_to_string((number / 1e15) * math.pi, 36))


def _parse_created(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")  # legacy v1.1 format
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def tweet_observation(video: VideoToScrape, tweet: dict[str, Any], observed_at: datetime) -> Observation:
    if "favorite_count" not in tweet:
        raise KeyError("tweet.favorite_count missing")
    user = json_object(tweet, "user")
    video_info = json_object(tweet, "video")
    duration_ms = video_info.get("durationMs")
    for media in tweet.get("mediaDetails") or []:
        millis = ((media or {}).get("video_info") or {}).get("duration_millis") if isinstance(media, dict) else None
        if duration_ms is None and millis is not None:
            duration_ms = millis
    extra: dict[str, Any] = {}
    for key in ("quote_count", "bookmark_count"):
        if tweet.get(key) is not None:
            extra[key.removesuffix("_count") + "s"] = to_count(tweet[key], f"tweet.{key}")
    return Observation(
        video_id=video.video_id,
        observed_at=observed_at,
        views=to_count(video_info.get("viewCount"), "tweet.video.viewCount"),
        likes=to_count(tweet.get("favorite_count"), "tweet.favorite_count"),
        comments=to_count(tweet.get("conversation_count"), "tweet.conversation_count"),
        shares=to_count(tweet.get("retweet_count"), "tweet.retweet_count"),
        saves=None,
        title=tweet.get("text") or None,
        account=user.get("screen_name") or None,
        posted_at=_parse_created(tweet.get("created_at")),
        duration_s=float(duration_ms) / 1000.0 if duration_ms else None,
        extra=extra,
    )


def graphql_counts(payload: object) -> dict[str, int | None] | None:
    """``views``, ``shares`` (retweets), ``quotes``, ``bookmarks`` from a TweetResultByRestId answer.

    ``None`` when the answer has no readable tweet (tombstone, unavailable, errors): the caller keeps what
    syndication gave. ``views`` is ``None`` when X shows no view count for the post.
    """
    data = payload.get("data") if isinstance(payload, dict) else None
    tweet_result = data.get("tweetResult") if isinstance(data, dict) else None
    result = tweet_result.get("result") if isinstance(tweet_result, dict) else None
    if not isinstance(result, dict):
        return None
    if result.get("__typename") == "TweetWithVisibilityResults":
        result = result.get("tweet")
        if not isinstance(result, dict):
            return None
    if result.get("__typename") not in ("Tweet", None) or "tombstone" in result:
        return None
    legacy = json_object(result, "legacy")
    views = json_object(result, "views")
    return {
        "views": to_count(views.get("count"), "tweetResult.result.views.count"),
        "shares": to_count(legacy.get("retweet_count"), "legacy.retweet_count"),
        "quotes": to_count(legacy.get("quote_count"), "legacy.quote_count"),
        "bookmarks": to_count(legacy.get("bookmark_count"), "legacy.bookmark_count"),
    }


class XClient(HttpPlatformClient):
    platform = Platform.X
    source = "x_syndication"

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        self._guest_token: str | None = None
        self._graphql_off = not settings.x_graphql  # also set for the run when guest activation fails
        self._graphql_limiter: tuple[asyncio.AbstractEventLoop, AsyncLimiter] | None = None
        self._activations = 0  # guest-token requests sent this run
        self._secrets = (*self._secrets, settings.x_graphql_bearer)

    def _graphql_urls(self) -> tuple[str, str]:
        base = self.settings.x_graphql_base_url
        if base is None:
            return _PRODUCTION_GUEST_URL, _PRODUCTION_GRAPHQL_URL
        base = base.rstrip("/")
        return f"{base}/1.1/guest/activate.json", f"{base}/i/api/graphql"

    async def _graphql_slot(self) -> None:
        loop = asyncio.get_running_loop()
        if self._graphql_limiter is None or self._graphql_limiter[0] is not loop:
            rate = self.settings.x_graphql_rate_per_min
            self._graphql_limiter = (loop, AsyncLimiter(1.0, 60.0 / rate))
        await self._graphql_limiter[1].acquire()

    async def _activate_guest(self) -> str | None:
        """A guest token (one per run); ``None`` turns the GraphQL route off for the rest of the run."""
        if self._guest_token is not None:
            return self._guest_token
        url, _ = self._graphql_urls()
        state = self._loop_state()
        await self._graphql_slot()
        self._activations += 1
        try:
            async with state.semaphore:
                await state.limiter.acquire()
                response = await state.http.post(
                    url, headers={"Authorization": f"Bearer {self.settings.x_graphql_bearer}"}, content=b""
                )
                await response.aread()
            trace.record_request(trace.RequestRecord("POST", self.scrub(url), response.status_code))
            token = response.json().get("guest_token") if response.status_code == 200 else None
        except Exception as exc:  # noqa: BLE001 - an optional route: any failure just turns it off
            trace.record_request(trace.RequestRecord("POST", self.scrub(url), None, error=type(exc).__name__))
            token = None
        if not isinstance(token, str) or not token:
            self._graphql_off = True
            trace.note("x_graphql_unavailable")
            return None
        self._guest_token = token
        self._secrets = (*self._secrets, token)
        return token

    async def _graphql_views(self, external_id: str) -> tuple[dict[str, int | None] | None, int]:
        """TweetResultByRestId counts and the requests spent; ``None`` counts when the route gave nothing."""
        activations, spent = self._activations, 0
        for _ in range(2):  # a second time with a fresh guest token when the first one was refused
            token = await self._activate_guest()
            spent = self._activations - activations
            if token is None:
                return None, spent
            _, graphql = self._graphql_urls()
            variables = {"tweetId": external_id, "withCommunity": False, "includePromotedContent": False}
            await self._graphql_slot()
            fetched = await self.fetch(
                f"{graphql}/{self.settings.x_graphql_query_id}/TweetResultByRestId",
                params={
                    "variables": json.dumps(variables, separators=(",", ":")),
                    "features": json.dumps(_GRAPHQL_FEATURES, separators=(",", ":")),
                    "fieldToggles": json.dumps({"withArticleRichContentState": False}, separators=(",", ":")),
                },
                headers={
                    "Authorization": f"Bearer {self.settings.x_graphql_bearer}",
                    "x-guest-token": token,
                    "Accept": "application/json",
                },
            )
            spent = self._activations - activations + fetched.tries
            response = fetched.response
            if response is None:
                return None, spent
            if response.status_code in (401, 403):
                self._guest_token = None
                continue
            if response.status_code != 200:
                return None, spent
            try:
                return graphql_counts(response.json()), spent
            except ValueError:
                return None, spent
        return None, spent

    async def _scrape_batch(self, batch: list[VideoToScrape], ctx: RunContext) -> list[ScrapeResult]:
        return [await self._scrape_one(video, ctx) for video in batch]

    async def _scrape_one(self, video: VideoToScrape, ctx: RunContext) -> ScrapeResult:
        started, mono = self.now(), time.monotonic()
        if not video.external_id.isdigit():
            return self.result(
                video,
                Outcome.PARSE_ERROR,
                started=started,
                started_mono=mono,
                ctx=ctx,
                detail="external_id is not a numeric tweet id",
            )
        fetched = await self.fetch(
            "tweet-result",
            params={
                "id": video.external_id,
                "lang": "en",
                "features": _FEATURES,
                "token": syndication_token(video.external_id),
            },
            headers={
                "Accept": "application/json",
                "Origin": "https://platform.twitter.com",
                "Referer": "https://platform.twitter.com/",
            },
        )

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

        failure = self.generic_failure(fetched)
        if failure is not None:
            return done(*failure)
        response = fetched.response
        assert response is not None
        if response.status_code == 404:
            return done(Outcome.NOT_FOUND, "HTTP 404 from tweet-result")
        if response.status_code != 200:
            return done(Outcome.BLOCKED, f"unexpected HTTP {response.status_code}")
        try:
            tweet = response.json()
        except ValueError:
            return done(Outcome.PARSE_ERROR, "tweet-result answer is not JSON")
        if not isinstance(tweet, dict):
            return done(Outcome.PARSE_ERROR, "tweet-result answer is not an object")
        if not tweet:
            return done(Outcome.BLOCKED, "empty {} from tweet-result (unavailable)")
        typename = tweet.get("__typename")
        if typename == "TweetTombstone":
            tombstone = (
                ((tweet.get("tombstone") or {}).get("text") or {}).get("text", "")
                if isinstance(tweet.get("tombstone"), dict)
                else ""
            )
            outcome = Outcome.NOT_FOUND if _DELETED_TOMBSTONE.search(str(tombstone)) else Outcome.PRIVATE
            return done(outcome, f"TweetTombstone {str(tombstone)[:80]}".rstrip())
        if typename not in (None, "Tweet"):
            return done(Outcome.PARSE_ERROR, f"unexpected __typename {str(typename)[:30]}")
        if str(tweet.get("id_str", video.external_id)) != video.external_id:
            return done(Outcome.PARSE_ERROR, "tweet.id_str is not the requested id")
        try:
            observation = tweet_observation(video, tweet, self.now())
        except (ValueError, KeyError, TypeError) as exc:
            return done(Outcome.PARSE_ERROR, str(exc))
        if observation.views is None and not self._graphql_off:
            trace.note("fallback:x_graphql")
            try:
                counts, spent = await self._graphql_views(video.external_id)
            except ValueError:  # a count of an unexpected type: keep what syndication gave
                counts, spent = None, 0
            fetched.tries += spent
            if counts is not None and counts["views"] is not None:
                observation.views = counts["views"]
                if observation.shares is None:
                    observation.shares = counts["shares"]
                for name in ("quotes", "bookmarks"):
                    if counts[name] is not None:
                        observation.extra[name] = counts[name]
                return self.result(
                    video,
                    Outcome.OK,
                    started=started,
                    started_mono=mono,
                    ctx=ctx,
                    fetched=fetched,
                    observation=observation,
                    route="x_graphql",
                )
        return done(Outcome.OK, observation=observation)
