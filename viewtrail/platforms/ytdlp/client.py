"""The clients of the ``ytdlp`` and ``auto`` backends.

* :class:`YtDlpClient` reads every video through yt-dlp's extractor for its platform (``extract_info`` without
  download: no media is ever fetched), with the politeness of a real client of that platform (it is one: an
  :class:`~viewtrail.platforms.http.HttpPlatformClient` whose requests yt-dlp makes, see :mod:`.bridge`).
  Its attempts and observations record ``source = 'ytdlp'``.
* :class:`AutoClient` reads every video with the platform's native client and, for a video whose native read
  ends ``parse_error`` (the platform changed its page), asks yt-dlp through the native client's own ``fetch``:
  the same rate limit, concurrency, proxies, retry budget and breaker; the attempt's detail says so.

Outcomes come from yt-dlp's error messages (:mod:`.outcomes`), unless a request got no answer at all (timeout,
breaker, resting proxies): then that request's outcome is the attempt's.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import AsyncGenerator, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from http.cookiejar import Cookie
from typing import Any

from viewtrail.domain.models import Observation, Outcome, Platform, ScrapeResult, VideoRef, VideoToScrape
from viewtrail.domain.platforms import load_object, platform_spec
from viewtrail.domain.urls import canonical_url
from viewtrail.platforms import trace
from viewtrail.platforms.base import ClientSettings, PlatformClient
from viewtrail.platforms.http import HttpPlatformClient, RunContext
from viewtrail.platforms.ytdlp.bridge import Extracted, Extractions
from viewtrail.platforms.ytdlp.metrics import COUNTS, observation_from_info
from viewtrail.platforms.ytdlp.outcomes import classify_message
from viewtrail.platforms.ytdlp.routing import Routes

__all__ = ["SOURCE", "AutoClient", "YtDlpClient", "YtDlpReader", "ytdlp_version"]

#: ``source`` of the attempts and observations the yt-dlp backend produces.
SOURCE = "ytdlp"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: YouTube: the watch page and one player answer carry every count; the player's JavaScript (megabytes, needed
#: only to unscramble media URLs) and the other clients' configuration pages are not fetched.
_EXTRACTOR_ARGS = {"youtube": {"player_skip": ["configs", "js"]}}


def ytdlp_version() -> str:
    from yt_dlp.version import __version__

    return str(__version__)


def _message(error: BaseException) -> str:
    """yt-dlp's sentence for ``error``: the extractor's own error inside a ``DownloadError``, without colour or
    the ``ERROR:`` prefix."""
    inner = getattr(error, "exc_info", None)
    cause = inner[1] if isinstance(inner, tuple) and len(inner) > 1 and inner[1] is not None else error
    text = _ANSI.sub("", str(cause)).strip()
    return text.removeprefix("ERROR:").strip()


@dataclass(slots=True)
class Reading:
    """One video read through yt-dlp: its outcome, detail and observation, and what its requests cost."""

    outcome: Outcome
    detail: str | None
    observation: Observation | None
    tries: int
    http_status: int | None
    proxy_index: int | None


def _session_cookies(owner: HttpPlatformClient) -> list[Cookie]:
    """The cookies yt-dlp's jar starts with: the cookies file's, and Instagram's session cookie."""
    cookies = list(owner.file_cookies)
    session = owner.settings.session_id
    if session and owner.platform is Platform.INSTAGRAM and not any(c.name == "sessionid" for c in cookies):
        cookies.append(
            Cookie(
                0,
                "sessionid",
                session,
                None,
                False,
                ".instagram.com",
                True,
                True,
                "/",
                False,
                True,
                None,
                False,
                None,
                None,
                {},
            )  # fmt: skip
        )
    return cookies


class YtDlpReader:
    """Reads videos through yt-dlp with ``owner``'s HTTP machinery (its own for the ytdlp backend, the native
    client's for ``auto``)."""

    def __init__(self, owner: HttpPlatformClient) -> None:
        self.owner = owner
        self.version = ytdlp_version()
        settings = owner.settings
        params: dict[str, Any] = {
            "quiet": True,
            "noprogress": True,
            "skip_download": True,
            "simulate": True,
            "noplaylist": True,
            "cachedir": False,  # yt-dlp writes nothing: no cache, no cookies file
            "socket_timeout": settings.timeout_s,
            "ignore_no_formats_error": True,  # counts are all we read; formats may need a JS runtime
            "check_formats": False,
            "extractor_retries": 0,  # retries are fetch's, within the client's retry budget
            "retries": 0,
            "geo_bypass": False,  # no faked X-Forwarded-For: a region lock is an outcome, not a puzzle
            "color": {"stdout": "never", "stderr": "never"},
            "extractor_args": _EXTRACTOR_ARGS,
        }
        self.extractions = Extractions(owner, Routes.for_settings(owner.platform, settings), params,
                                       _session_cookies(owner))  # fmt: skip

    async def read(self, video: VideoToScrape) -> Reading:
        # The canonical link, whatever form was pasted: the one each extractor surely recognises.
        extracted = await self.extractions.extract(canonical_url(video.platform, video.external_id, video.account))
        return self._reading(video, extracted)

    def _reading(self, video: VideoToScrape, extracted: Extracted) -> Reading:
        exchange = extracted.exchange
        last = exchange.last
        status = last.status if last is not None else None
        proxy = last.proxy_index if last is not None else None

        def reading(outcome: Outcome, detail: str | None, observation: Observation | None = None) -> Reading:
            return Reading(outcome, detail, observation, exchange.tries, status, proxy)

        if extracted.error is not None:
            message = _message(extracted.error)
            if exchange.failure is not None:  # a request without an answer: its outcome, not yt-dlp's prose
                outcome, detail = exchange.failure
                return reading(outcome, detail)
            return reading(classify_message(message), f"yt-dlp: {message}")
        info = extracted.info
        if info is None:
            return reading(Outcome.PARSE_ERROR, "yt-dlp returned no information")
        if info.get("_type") in ("playlist", "multi_video", "url", "url_transparent"):
            return reading(Outcome.PARSE_ERROR, f"yt-dlp read a {info.get('_type')}, not one video")
        try:
            observation = observation_from_info(video, info, self.owner.now())
        except (ValueError, TypeError, OverflowError) as error:
            return reading(Outcome.PARSE_ERROR, f"yt-dlp: {error}")
        observation.extra["ytdlp_version"] = self.version  # which release read it, when one reads differently
        if all(getattr(observation, name) is None for name in COUNTS):
            # An unplayable video (private, removed, region-locked) is only a warning to yt-dlp when formats are
            # not required, and it answers without counts: the warning says why.
            for warning in reversed(extracted.warnings):
                outcome = classify_message(warning)
                if outcome is not Outcome.PARSE_ERROR:
                    return reading(outcome, f"yt-dlp: {_ANSI.sub('', warning)}")
            return reading(Outcome.PARSE_ERROR, "yt-dlp read the page but found no counts")
        return reading(Outcome.OK, None, observation)


class YtDlpClient(HttpPlatformClient):
    """The ``ytdlp`` backend of one platform."""

    source = SOURCE

    def __init__(self, platform: Platform, settings: ClientSettings) -> None:
        self.platform = platform  # before the base reads it (cookies, the offline check)
        super().__init__(settings)
        self.reader = YtDlpReader(self)

    async def _scrape_batch(self, batch: list[VideoToScrape], ctx: RunContext) -> list[ScrapeResult]:
        return [await self._scrape_one(video, ctx) for video in batch]

    async def _scrape_one(self, video: VideoToScrape, ctx: RunContext) -> ScrapeResult:
        started, mono = self.now(), time.monotonic()
        if self.breaker_open:
            return self.result(video, Outcome.CIRCUIT_OPEN, started=started, started_mono=mono, ctx=ctx,
                               detail="not attempted: circuit breaker open for this run")  # fmt: skip
        reading = await self.reader.read(video)
        return _result(self, video, reading, started, mono, ctx)

    async def resolve_short_link(self, url: str) -> VideoRef:
        """Short links are a redirect lookup, the native client's (yt-dlp has no extractor for them alone)."""
        native_class = load_object(platform_spec(self.platform.value).video_client)
        native = native_class(self.settings) if callable(native_class) else None
        if not isinstance(native, PlatformClient):
            raise NotImplementedError(f"{self.platform.value} has no short links to resolve")
        try:
            return await native.resolve_short_link(url)
        finally:
            await native.aclose()


def _result(
    client: HttpPlatformClient,
    video: VideoToScrape,
    reading: Reading,
    started: datetime,
    mono: float,
    ctx: RunContext,
    detail: str | None = None,
    tries: int = 0,
) -> ScrapeResult:
    result = client.result(
        video,
        reading.outcome,
        started=started,
        started_mono=mono,
        ctx=ctx,
        detail=detail if detail is not None else reading.detail,
        observation=reading.observation,
        route=SOURCE,
    )
    result.attempt.tries = reading.tries + tries
    result.attempt.http_status = reading.http_status
    result.attempt.proxy_index = reading.proxy_index
    return result


class AutoClient(PlatformClient):
    """The ``auto`` backend: the native client, and yt-dlp for the videos whose native read is a ``parse_error``."""

    def __init__(self, native: HttpPlatformClient) -> None:
        self.native = native
        self.platform = native.platform
        self.source = native.source
        self._reader: YtDlpReader | None = None

    @property
    def reader(self) -> YtDlpReader:
        if self._reader is None:  # yt-dlp loads on the first fallback only
            self._reader = YtDlpReader(self.native)
        return self._reader

    async def scrape(
        self,
        videos: Iterable[VideoToScrape],
        *,
        run_id: str | None = None,
        partition_key: str | None = None,
    ) -> AsyncGenerator[ScrapeResult, None]:
        ctx = RunContext(run_id=run_id, partition_key=partition_key)
        waiting: dict[str, VideoToScrape] = {}

        def remembered(items: Iterable[VideoToScrape]) -> Iterator[VideoToScrape]:
            for item in items:
                waiting[item.video_id] = item
                yield item

        stream = self.native.scrape(remembered(videos), run_id=run_id, partition_key=partition_key)
        async with contextlib.aclosing(stream):
            async for result in stream:
                video = waiting.pop(result.attempt.video_id, None)
                if result.attempt.outcome is Outcome.PARSE_ERROR and video is not None and not self.native.breaker_open:
                    result = await self._fall_back(video, result, ctx)
                yield result

    async def _fall_back(self, video: VideoToScrape, native: ScrapeResult, ctx: RunContext) -> ScrapeResult:
        trace.note("fallback:ytdlp")
        started, mono = self.native.now(), time.monotonic()
        reading = await self.reader.read(video)
        said = native.attempt.detail or "parse_error"
        if reading.outcome is Outcome.OK:
            detail = f"read by yt-dlp after the native parser failed ({said})"
        else:
            detail = f"native parser: {said}; yt-dlp: {reading.detail or reading.outcome.value}"
        result = _result(self.native, video, reading, started, mono, ctx, detail=detail, tries=native.attempt.tries)
        self.native.record_outcome(reading.outcome)
        return result

    def scrub(self, text: object) -> str:
        """``text`` without the native client's secrets (the probe scrubs what it prints with it)."""
        return self.native.scrub(text)

    async def resolve_short_link(self, url: str) -> VideoRef:
        return await self.native.resolve_short_link(url)

    async def aclose(self) -> None:
        await self.native.aclose()
