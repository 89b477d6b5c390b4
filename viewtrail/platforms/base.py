"""The interface every platform client implements, and the settings real clients share.

A client turns registered videos (:class:`VideoToScrape`) into :class:`ScrapeResult` s: always one
:class:`Attempt` per input video, plus an :class:`Observation` when the outcome is ``ok``.

Plain Python: no Dagster, no DuckDB. ``scrape`` is an async generator so a batch of 10,000 videos streams
(results are yielded as they complete; memory stays flat); :func:`scrape_sync` drives it for sync callers.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx

from viewtrail.domain.models import Platform, ScrapeResult, VideoRef, VideoToScrape
from viewtrail.domain.platforms import platform_specs

__all__ = [
    "DEFAULT_USER_AGENT",
    "ClientSettings",
    "PlatformClient",
    "default_settings",
    "resolve_short_link_sync",
    "scrape_sync",
    "stream_sync",
]

#: A current desktop Chrome on Windows: platforms serve their normal public pages to it.
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

#: Production endpoints (each spec's ``base_url``); tests and the fake platform server override
#: ``ClientSettings.base_url``.
DEFAULT_BASE_URLS: dict[Platform, str] = {Platform(spec.name): spec.base_url for spec in platform_specs()}

#: Polite defaults per platform (each spec's): (concurrency, requests per minute).
DEFAULT_LIMITS: dict[Platform, tuple[int, float]] = {
    Platform(spec.name): (spec.concurrency, spec.rate_per_min) for spec in platform_specs()
}


async def _asyncio_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """How a real client talks to its platform. Every field has a polite default (see ``default_settings``).

    Secrets (``api_key``, ``session_id``, ``proxies``) are excluded from ``repr`` so they never reach a log line.
    """

    base_url: str
    concurrency: int = 4  # requests in flight at once
    rate_per_min: float = 60.0  # request-rate limit (token bucket, aiolimiter)
    timeout_s: float = 20.0  # per request (connect, read, write, pool)
    max_retries: int = 3  # extra tries per request after the first for 429 / 5xx / timeouts
    backoff_base_s: float = 1.0  # first backoff; doubles per retry, with jitter
    backoff_cap_s: float = 60.0  # longest single wait; a Retry-After beyond it ends the retries
    retry_budget: int = 200  # total retries one ``scrape`` call may spend across all videos
    breaker_threshold: int = 5  # consecutive blocked/rate_limited outcomes that stop the platform for the run
    user_agent: str = DEFAULT_USER_AGENT
    max_in_flight: int | None = None  # videos (or batches) scheduled at once; default 2 x concurrency
    batch_size: int = 50  # YouTube only: ids per videos.list call (1..50)
    daily_units: int = 10_000  # YouTube only: local daily quota budget, in API units
    api_key: str | None = field(default=None, repr=False)  # YouTube Data API key
    session_id: str | None = field(default=None, repr=False)  # Instagram ``sessionid`` cookie
    state_dir: Path | None = None  # where YouTube quota usage persists; default <data dir>/state
    #: Async sleep used for backoff waits; tests inject a recorder instead of waiting for real.
    sleep: Callable[[float], Awaitable[None]] = field(default=_asyncio_sleep, repr=False, compare=False)
    #: Naive-UTC clock used for attempted_at/observed_at and quota days; tests may inject one.
    clock: Callable[[], datetime] | None = field(default=None, repr=False, compare=False)
    #: Swappable transport (``httpx.MockTransport`` in tests, or a browser-impersonating transport).
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False, compare=False)
    extra_headers: dict[str, str] = field(default_factory=dict, repr=False)
    #: A browser curl_cffi impersonates (``"chrome"``...): its transport replaces httpx's (ignored when
    #: ``transport`` is given). The profile's User-Agent is sent instead of ``user_agent``.
    impersonate: str | None = None
    #: A Netscape cookies.txt read when the client is built; the platform's cookies go with every request.
    cookies_file: Path | None = None
    #: X only: the guest-token GraphQL route (``TweetResultByRestId``) asked for views syndication lacks.
    x_graphql: bool = True
    #: X only: one base for ``/1.1/guest/activate.json`` and ``/i/api/graphql/{id}/TweetResultByRestId``;
    #: ``None`` = production (``api.x.com`` and ``x.com``).
    x_graphql_base_url: str | None = None
    x_graphql_query_id: str = "2ICDjqPd81tulZcYrtpTuQ"
    #: The public bearer token of X's web app (the same for every visitor, from its JavaScript bundle).
    x_graphql_bearer: str = field(
        default="AAAAAAAAAAAAAAAAAAAAANRILgAAAAAAnNwIzUejRCOuH5E6I8xnZz4puTs%3D1Zv7ttfk8LF81IUq16cHjhLTvJu4FA33AGWWjCpTnA",
        repr=False,
    )
    x_graphql_rate_per_min: float = 6.0  # guests get ~95 GraphQL requests per 15 minutes
    #: Forward proxies (``http://[user:pass@]host:port``) requests spread over, least recently used first.
    proxies: tuple[str, ...] = field(default=(), repr=False)
    proxy_rest_base_s: float = 60.0  # first rest of a proxy that drew a 429 or a block; doubles per rest
    proxy_rest_cap_s: float = 1800.0  # longest rest of one proxy

    def with_overrides(self, **overrides: Any) -> ClientSettings:
        """A copy with the given fields replaced (unknown names raise ``TypeError``)."""
        return replace(self, **overrides)


def default_settings(platform: Platform | str, **overrides: Any) -> ClientSettings:
    """The polite defaults for ``platform`` with ``overrides`` applied (no environment is read here)."""
    platform = Platform(platform)
    concurrency, rate = DEFAULT_LIMITS[platform]
    base = ClientSettings(base_url=DEFAULT_BASE_URLS[platform], concurrency=concurrency, rate_per_min=rate)
    return replace(base, **overrides) if overrides else base


class PlatformClient(ABC):
    """Scrapes one platform. Instances are cheap; use one per platform per run and ``aclose`` it."""

    platform: Platform
    source: str  # value stored in raw.snapshots.source / raw.scrape_attempts.source
    observes_past: bool = False  # True only for the simulated platform (can observe any instant)

    @abstractmethod
    def scrape(
        self,
        videos: Iterable[VideoToScrape],
        *,
        run_id: str | None = None,
        partition_key: str | None = None,
    ) -> AsyncGenerator[ScrapeResult, None]:
        """Yield one :class:`ScrapeResult` per input video, in completion order, as results arrive.

        Implemented as an ``async def`` generator. ``videos`` is consumed lazily (bounded in-flight work).
        """

    def _own_videos(self, videos: Iterable[VideoToScrape]) -> Iterator[VideoToScrape]:
        """``videos``, lazily, refusing one of another platform (a mixed batch is a caller bug, not an outcome)."""
        for item in videos:
            if item.platform != self.platform:
                raise ValueError(
                    f"{item.video_id} is a {item.platform} video; the {self.platform.value} client only scrapes "
                    f"{self.platform.value} videos"
                )
            yield item

    async def resolve_short_link(self, url: str) -> VideoRef:
        """Follow a short link's redirects to the video it names (TikTok only)."""
        raise NotImplementedError(f"{self.platform.value} has no short links to resolve")

    async def aclose(self) -> None:  # noqa: B027 - optional hook, default no-op
        """Release network resources. The client stays usable (resources are re-created lazily)."""

    async def __aenter__(self) -> PlatformClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


_DONE = object()

Item = TypeVar("Item")
Answer = TypeVar("Answer")


class _Closeable(Protocol):
    """A client whose connections :func:`stream_sync` closes on the loop that opened them."""

    async def aclose(self) -> None: ...


def _drive(client: _Closeable, start: Callable[[], AsyncGenerator[Item, None]]) -> Iterator[Item]:
    """Run the async generator ``start()`` on a private event loop, yielding its items one by one."""
    loop = asyncio.new_event_loop()
    agen = start()
    try:
        while True:
            try:
                result = loop.run_until_complete(agen.__anext__())
            except StopAsyncIteration:
                break
            yield result
    finally:
        try:
            loop.run_until_complete(agen.aclose())
            # Connections belong to this loop: close them here; the client re-creates them on next use.
            loop.run_until_complete(client.aclose())
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


async def stream_bounded(
    items: Iterator[Item],
    run: Callable[[Item], Awaitable[Answer]],
    *,
    limit: int,
    short_circuit: Callable[[Item], Answer | None],
) -> AsyncGenerator[Answer, None]:
    """``run(item)`` for every item, at most ``limit`` at once, each answer yielded as soon as it completes.

    Items are taken one at a time as slots free up, so ``short_circuit(item)`` (an answer without a request,
    e.g. a tripped circuit or an exhausted budget) sees the state left by the answers before it; its answers
    are yielded in turn. Whenever the stream ends (exhausted, closed early, cancelled) the unfinished tasks are
    cancelled and awaited: use it inside ``contextlib.aclosing`` so that happens at once.
    """
    pending: set[asyncio.Task[Answer]] = set()
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < limit:
                item = next(items, None)
                if item is None:
                    exhausted = True
                    break
                short = short_circuit(item)
                if short is not None:
                    yield short
                    continue
                pending.add(asyncio.ensure_future(run(item)))
            if not pending:
                break
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                yield task.result()
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def stream_sync(client: _Closeable, start: Callable[[], AsyncGenerator[Item, None]], *, name: str) -> Iterator[Item]:
    """Iterate the async generator ``start()`` (a method of ``client``) for synchronous callers.

    Works from plain threads (Dagster ops, the CLI). Called from inside a running event loop, it runs the
    generator on a helper thread so it never blocks or nests that loop. ``client.aclose()`` runs when the
    iteration ends (or is abandoned), so call it once per batch.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        yield from _drive(client, start)
        return

    # Inside a running loop (e.g. a notebook): run the generator on a helper thread's own loop. No timed waits
    # (they hang under a shifted clock): an abandoned iteration cancels the helper's task, which then closes the
    # generator and the client and ends, so the join below is short.
    items: queue.SimpleQueue[Any] = queue.SimpleQueue()
    running: dict[str, Any] = {}
    ready = threading.Event()

    async def pump() -> None:
        running["loop"], running["task"] = asyncio.get_running_loop(), asyncio.current_task()
        ready.set()
        try:
            async with contextlib.aclosing(start()) as agen:
                async for item in agen:
                    items.put(item)
        finally:
            await client.aclose()  # connections belong to this loop

    def worker() -> None:
        outcome: Any = _DONE
        try:
            asyncio.run(pump())
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer thread, which re-raises it
            outcome = exc
        finally:
            ready.set()
            items.put(outcome)

    thread = threading.Thread(target=worker, name=name, daemon=True)
    thread.start()
    ready.wait()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        if thread.is_alive() and "loop" in running:
            with contextlib.suppress(RuntimeError):  # the loop already closed: the helper is ending anyway
                running["loop"].call_soon_threadsafe(running["task"].cancel)
        thread.join()


def scrape_sync(client: PlatformClient, videos: Iterable[VideoToScrape], **kw: Any) -> Iterator[ScrapeResult]:
    """Run ``client.scrape(videos, **kw)`` for synchronous callers, streaming results as they complete
    (see :func:`stream_sync`)."""
    return stream_sync(client, lambda: client.scrape(videos, **kw), name=f"scrape-{client.platform.value}")


def run_sync(make: Callable[[], Coroutine[Any, Any, Answer]], *, name: str) -> Answer:
    """Await ``make()`` for a synchronous caller: with ``asyncio.run``, or from inside a running event loop (a
    notebook) on a helper thread with its own loop, so that loop is never blocked or nested."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    box: dict[str, Any] = {}

    def worker() -> None:
        try:
            box["answer"] = asyncio.run(make())
        except BaseException as exc:  # noqa: BLE001 - handed back to the calling thread, which re-raises it
            box["error"] = exc

    thread = threading.Thread(target=worker, name=name, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["answer"]


def resolve_short_link_sync(client: PlatformClient, url: str) -> VideoRef:
    """``client.resolve_short_link(url)`` for synchronous callers (the CLI); closes connections afterwards."""

    async def resolve() -> VideoRef:
        try:
            return await client.resolve_short_link(url)
        finally:
            await client.aclose()

    return run_sync(resolve, name="resolve-short-link")
