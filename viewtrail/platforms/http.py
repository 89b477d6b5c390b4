"""Shared politeness and plumbing for the real (httpx) clients.

One :class:`HttpPlatformClient` per platform per run owns:

* one ``httpx.AsyncClient`` (connection reuse; re-created lazily per event loop, closed by ``aclose``),
  a browser-like User-Agent and a timeout on every request;
* a concurrency cap (``asyncio.Semaphore``) and a request-rate limit (``aiolimiter.AsyncLimiter``);
* retries of 429 / 5xx / timeouts / connection errors with exponential backoff and jitter (tenacity),
  honouring ``Retry-After`` (seconds or HTTP date) up to ``backoff_cap_s``; a per-run retry budget;
* a circuit breaker: after ``breaker_threshold`` consecutive ``blocked``/``rate_limited`` outcomes the
  platform is stopped for the rest of the run and the remaining videos yield ``circuit_open`` with no HTTP;
* streaming ``scrape``: tasks are fed lazily from the input iterator with a bounded number in flight.

Secrets (API key, session cookie, the cookies file's values) travel only in headers; requests spread over
``ClientSettings.proxies`` (see :mod:`viewtrail.platforms.proxies`), known only by index; every text that
leaves this module (attempt details, errors) passes through :meth:`HttpPlatformClient.scrub`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import ipaddress
import itertools
import logging
import random
import re
import time
from abc import abstractmethod
from collections.abc import AsyncGenerator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookiejar import Cookie
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from viewtrail import config
from viewtrail.clock import utc_now
from viewtrail.domain.errors import ViewtrailError
from viewtrail.domain.models import Attempt, Observation, Outcome, ScrapeResult, VideoToScrape
from viewtrail.platforms import trace
from viewtrail.platforms.base import ClientSettings, PlatformClient, stream_bounded
from viewtrail.platforms.cookies import is_platform_host, load_platform_cookies
from viewtrail.platforms.proxies import PROXY_EXTENSION, ProxyPool, proxy_secrets, routed_transport

__all__ = [
    "BREAKER_OUTCOMES",
    "Fetched",
    "HttpPlatformClient",
    "OfflineError",
    "RunContext",
    "parse_retry_after",
    "json_object",
    "scrub_url",
    "to_count",
]

log = logging.getLogger(__name__)

#: Outcomes that, repeated ``breaker_threshold`` times in a row, stop a platform for the rest of the run.
BREAKER_OUTCOMES = frozenset({Outcome.BLOCKED, Outcome.RATE_LIMITED})

_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
_SECRET_QUERY = re.compile(r"(?i)([?&;](?:key|api_key|apikey|access_token|token|sessionid|signature)=)[^&#\s\"']*")
_DETAIL_MAX = 300
_SECRET_COOKIE_MIN = 8  # shortest cookie value treated as a secret by scrub


class OfflineError(ViewtrailError):
    """Real scraping was asked for while ``VIEWTRAIL_OFFLINE`` forbids network calls."""


def scrub_url(text: str) -> str:
    """Remove secret-looking query parameters (``key=``, ``token=``...) from any text containing URLs."""
    return _SECRET_QUERY.sub(r"\1***", text)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); ``None`` if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def to_count(value: Any, name: str) -> int | None:
    """A platform count (int or numeric string) as ``int``; ``None`` stays ``None``; else ``ValueError``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} is a boolean, not a count")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"[0-9]+", text):
        return int(text)
    raise ValueError(f"{name} is not a count: {text[:30]!r}")


def json_object(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """``parent[key]`` when it is a JSON object, else ``{}``: a part a platform left out or changed reads as empty."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class RunContext:
    run_id: str | None
    partition_key: str | None


@dataclass(slots=True)
class Fetched:
    """The end of one logical request, retries included.

    ``response`` is the last HTTP response (its body already read), or ``None`` when no usable response
    came back; then ``failure`` holds the outcome (timeout, connection error, circuit open) and a detail.
    """

    tries: int
    response: httpx.Response | None = None
    failure: tuple[Outcome, str] | None = None
    proxy_index: int | None = None  # the proxy (index in ClientSettings.proxies) of the last try

    @property
    def status(self) -> int | None:
        return self.response.status_code if self.response is not None else None


class _RetryableResponse(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


class _CircuitOpen(Exception):
    pass


class _AllProxiesResting(Exception):
    def __init__(self, outcome: Outcome, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


class _LoopState:
    """Objects bound to one event loop: the httpx client, the semaphore, the rate limiter."""

    def __init__(
        self, settings: ClientSettings, loop: asyncio.AbstractEventLoop, proxy_pool: ProxyPool | None = None
    ) -> None:
        self.loop = loop
        limits = httpx.Limits(
            max_connections=max(1, settings.concurrency), max_keepalive_connections=max(1, settings.concurrency)
        )
        headers = {
            "User-Agent": settings.user_agent,
            "Accept-Language": "en-US,en;q=0.9",
            **settings.extra_headers,
        }
        transport = settings.transport
        if proxy_pool is not None:
            transport = routed_transport(settings, proxy_pool)
        elif transport is None and settings.impersonate:
            from viewtrail.platforms.impersonation import ImpersonatingTransport  # curl_cffi: only when asked for

            transport = ImpersonatingTransport(settings.impersonate, max_clients=settings.concurrency)
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout_s),
            limits=limits,
            headers=headers,
            transport=transport,
            follow_redirects=False,
            max_redirects=5,
        )
        self.semaphore = asyncio.Semaphore(max(1, settings.concurrency))
        # Token bucket holding at most `concurrency` requests: polite, no minute-sized bursts.
        burst = max(1.0, min(float(settings.concurrency), settings.rate_per_min))
        self.limiter = AsyncLimiter(burst, burst * 60.0 / settings.rate_per_min)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _chunks(items: Iterator[VideoToScrape], size: int) -> Iterator[list[VideoToScrape]]:
    while True:
        chunk = list(itertools.islice(items, size))
        if not chunk:
            return
        yield chunk


class _StopPolicy(stop_base):
    """Stop retrying when tries run out, the run's retry budget is spent, the breaker opened,
    or the server asks for a longer pause than we are willing to wait."""

    def __init__(self, client: HttpPlatformClient) -> None:
        self.client = client
        self.by_attempts = stop_after_attempt(client.settings.max_retries + 1)

    def __call__(self, retry_state: RetryCallState) -> bool:
        client = self.client
        if self.by_attempts(retry_state) or client._retries_left <= 0 or client.breaker_open:
            return True
        delay = client._retry_after(retry_state)
        return delay is not None and delay > client.settings.backoff_cap_s


class HttpPlatformClient(PlatformClient):
    """Base of the four real clients. Subclasses implement :meth:`_scrape_batch` (and set ``batch_size``)."""

    batch_size: int = 1

    def __init__(self, settings: ClientSettings) -> None:
        if settings.concurrency < 1 or settings.rate_per_min <= 0:
            raise ValueError("concurrency must be >= 1 and rate_per_min > 0")
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        if config.offline() and settings.transport is None and not _is_loopback(self.base_url):
            raise OfflineError(
                f"VIEWTRAIL_OFFLINE is set, so the real {self.platform.value} client may not call "
                f"{urlsplit(self.base_url).hostname}: unset VIEWTRAIL_OFFLINE or use simulated mode."
            )
        self.file_cookies: tuple[Cookie, ...] = ()
        if settings.cookies_file is not None:
            self.file_cookies = load_platform_cookies(settings.cookies_file, self.platform)
        # Short values (flags such as "1" or "en") are no secret, and masking them would garble every detail.
        cookie_values = tuple(c.value for c in self.file_cookies if c.value and len(c.value) >= _SECRET_COOKIE_MIN)
        self._secrets = (*(s for s in (settings.api_key, settings.session_id) if s), *cookie_values)
        self._secrets = (*self._secrets, *proxy_secrets(settings.proxies or ()))
        self._proxy_pool = (
            ProxyPool(
                len(settings.proxies),
                base_s=settings.proxy_rest_base_s,
                cap_s=settings.proxy_rest_cap_s,
                now=self.now,
                name=self.platform.value,
            )
            if settings.proxies
            else None
        )
        self._state: _LoopState | None = None
        self._consecutive_bad = 0
        self.breaker_open = False
        self._retries_left = settings.retry_budget

    # ----------------------------------------------------------------------------------- helpers
    def now(self) -> datetime:
        """Naive UTC now (or the injected clock)."""
        if self.settings.clock is not None:
            return self.settings.clock()
        return utc_now()

    def scrub(self, text: object) -> str:
        """``text`` without secrets: known secret values masked, secret query params removed, shortened."""
        out = str(text)
        for secret in self._secrets:
            out = out.replace(secret, "***")
        out = scrub_url(out)
        return out if len(out) <= _DETAIL_MAX else out[: _DETAIL_MAX - 1] + "…"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def relative_path(self, url: str) -> str:
        """Path of ``url`` relative to ``base_url``'s path (a fake server may mount platforms under a prefix)."""
        path = urlsplit(url).path or "/"
        prefix = urlsplit(self.base_url).path.rstrip("/")
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            path = path[len(prefix) :] or "/"
        return path

    def _loop_state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        if self._state is None or self._state.loop is not loop:
            # A client built on another (closed) loop cannot be reused; drop it and start fresh.
            self._state = _LoopState(self.settings, loop, self._proxy_pool)
            self._add_file_cookies(self._state.http.cookies)
        return self._state

    def _add_file_cookies(self, jar: httpx.Cookies) -> None:
        """The cookies file's cookies, for their own domains and for the host of ``base_url`` (a proxy, the fake
        server), whose scheme may be plain http: the copy there is not marked secure."""
        host = urlsplit(self.base_url).hostname
        for cookie in self.file_cookies:
            jar.jar.set_cookie(cookie)
            if host and not is_platform_host(host, self.platform):
                jar.set(cookie.name, cookie.value or "", domain=host, path="/")

    def cookie_header(self, cookies: dict[str, str]) -> str:
        """A ``Cookie`` header value: the cookies file's cookies with ``cookies`` merged in (theirs win).

        An explicit ``Cookie`` header replaces the client's cookie jar on that request, so callers that send one
        (TikTok's challenge answer, Instagram's session) build it here to keep the file's cookies."""
        merged = {c.name: c.value or "" for c in self.file_cookies}
        merged.update(cookies)
        return "; ".join(f"{name}={value}" for name, value in merged.items())

    async def aclose(self) -> None:
        state, self._state = self._state, None
        if state is not None and state.loop is asyncio.get_running_loop():
            await state.http.aclose()

    # ------------------------------------------------------------------------------- requests
    def _retry_after(self, retry_state: RetryCallState) -> float | None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, _RetryableResponse):
            return parse_retry_after(exc.response.headers.get("Retry-After"))
        return None

    def _wait(self, retry_state: RetryCallState) -> float:
        delay = self._retry_after(retry_state)
        if delay is not None:
            return min(delay, self.settings.backoff_cap_s)
        # Exponential backoff with full jitter on top: base * 2**(n-1) + U(0, base), capped.
        base = self.settings.backoff_base_s
        exponential = base * 2 ** (retry_state.attempt_number - 1)
        return min(self.settings.backoff_cap_s, exponential + random.uniform(0, base))

    def _before_sleep(self, retry_state: RetryCallState) -> None:
        self._retries_left -= 1
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        log.info("%s: retrying after %s (wait %.1fs)", self.platform.value, self.scrub(exc), wait)

    async def _take_proxy(self) -> int | None:
        """The proxy for the next try (``None`` without proxies). When every proxy rests, wait for the first
        to come back if that is within ``backoff_cap_s``, else raise :class:`_AllProxiesResting`."""
        pool = self._proxy_pool
        if pool is None:
            return None
        index = pool.acquire()
        if index is not None:
            return index
        wait = pool.seconds_until_one_is_back()
        if wait > self.settings.backoff_cap_s:
            outcome = pool.resting_outcome()
            log.warning(
                "%s: all %d proxies rest (the first is back in %.0fs, beyond the %.0fs backoff cap); "
                "this attempt ends %s",
                self.platform.value,
                pool.count,
                wait,
                self.settings.backoff_cap_s,
                outcome.value,
            )
            raise _AllProxiesResting(outcome, f"all {pool.count} proxies rest (the first is back in {wait:.0f}s)")
        log.info("%s: all %d proxies rest; waiting %.1fs for the first", self.platform.value, pool.count, wait)
        await self.settings.sleep(wait)
        index = pool.acquire()
        return index if index is not None else pool.acquire_soonest()  # an injected clock may not have moved

    def is_retryable(self, response: httpx.Response) -> bool:
        """Whether a response is worth another try (subclasses add platform-specific signals)."""
        return response.status_code in _RETRY_STATUSES

    async def fetch(
        self,
        path_or_url: str,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = False,
        method: str = "GET",
        content: bytes | None = None,
    ) -> Fetched:
        """A request (GET unless ``method`` says otherwise, with ``content`` as its body) with politeness, retries
        and the breaker. Never raises for network trouble."""
        url = path_or_url if "://" in path_or_url else self.url(path_or_url)
        fetched = Fetched(tries=0)
        if self.breaker_open:
            fetched.failure = (Outcome.CIRCUIT_OPEN, "not attempted: circuit breaker open for this run")
            return fetched
        state = self._loop_state()

        async def once() -> httpx.Response:
            if self.breaker_open:
                raise _CircuitOpen()
            async with state.semaphore:
                await state.limiter.acquire()
                proxy = await self._take_proxy()
                fetched.proxy_index = proxy
                fetched.tries += 1
                sent = time.monotonic()
                try:
                    response = await state.http.request(
                        method,
                        url,
                        params=params,
                        headers=headers,
                        content=content,
                        follow_redirects=follow_redirects,
                        extensions={PROXY_EXTENSION: proxy} if proxy is not None else None,
                    )
                    await response.aread()
                except httpx.HTTPError as exc:
                    trace.record_request(
                        trace.RequestRecord(
                            method, self.scrub(url), None, proxy_index=proxy, error=self.scrub(type(exc).__name__)
                        )
                    )
                    raise
                for step in (*response.history, response):
                    trace.record_request(
                        trace.RequestRecord(
                            step.request.method,
                            self.scrub(step.request.url),
                            step.status_code,
                            elapsed_ms=round((time.monotonic() - sent) * 1000.0, 1),
                            proxy_index=proxy,
                        )
                    )
            fetched.tries += len(response.history)
            fetched.response = response
            if proxy is not None and response.status_code == 429:
                self._rest_proxy(proxy, Outcome.RATE_LIMITED)
            if self.is_retryable(response):
                raise _RetryableResponse(response)
            return response

        retrying = AsyncRetrying(
            stop=_StopPolicy(self),
            wait=self._wait,
            retry=retry_if_exception_type((_RetryableResponse, httpx.TimeoutException, httpx.TransportError)),
            sleep=self.settings.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        try:
            await retrying(once)
        except _RetryableResponse:
            pass  # fetched.response holds the last 429/5xx; the platform classifies it
        except _CircuitOpen:
            if fetched.response is None:
                fetched.failure = (Outcome.CIRCUIT_OPEN, "not attempted: circuit breaker open for this run")
        except _AllProxiesResting as exc:
            fetched.response = None
            fetched.proxy_index = None
            fetched.failure = (exc.outcome, exc.detail)
        except httpx.TimeoutException as exc:
            fetched.response = None
            fetched.failure = (
                Outcome.TIMEOUT,
                self.scrub(f"no answer within {self.settings.timeout_s:g}s ({type(exc).__name__})"),
            )
        except httpx.TooManyRedirects:
            fetched.response = None
            fetched.failure = (Outcome.BLOCKED, "redirect loop")
        except httpx.TransportError as exc:
            fetched.response = None
            fetched.failure = (Outcome.UPSTREAM_ERROR, self.scrub(f"connection error: {type(exc).__name__}: {exc}"))
        return fetched

    def generic_failure(self, fetched: Fetched) -> tuple[Outcome, str] | None:
        """Outcome for transport failures, 429 and 5xx (after retries), else ``None``."""
        if fetched.failure is not None:
            return fetched.failure
        response = fetched.response
        assert response is not None
        status = response.status_code
        retry_after = response.headers.get("Retry-After")
        suffix = f" (Retry-After: {self.scrub(retry_after)})" if retry_after else ""
        if status == 429:
            return Outcome.RATE_LIMITED, f"HTTP 429 after {fetched.tries} tries{suffix}"
        if status == 408:
            return Outcome.TIMEOUT, f"HTTP 408 after {fetched.tries} tries"
        if status >= 500:
            return Outcome.UPSTREAM_ERROR, f"HTTP {status} after {fetched.tries} tries{suffix}"
        return None

    # --------------------------------------------------------------------------------- results
    def result(
        self,
        video: VideoToScrape,
        outcome: Outcome,
        *,
        started: datetime,
        started_mono: float,
        ctx: RunContext,
        fetched: Fetched | None = None,
        detail: str | None = None,
        observation: Observation | None = None,
        route: str | None = None,
    ) -> ScrapeResult:
        """One attempt (and its observation when ``ok``); ``route`` names the endpoint that produced it
        (e.g. ``instagram_embed``), stored as ``source``; default: the client's main route ``self.source``."""
        source = route or self.source
        attempt = Attempt(
            video_id=video.video_id,
            platform=self.platform,
            attempted_at=started,
            outcome=outcome,
            http_status=fetched.status if fetched is not None else None,
            detail=self.scrub(detail) if detail else None,
            duration_ms=round((time.monotonic() - started_mono) * 1000.0, 3),
            tries=fetched.tries if fetched is not None else 0,
            source=source,
            run_id=ctx.run_id,
            partition_key=ctx.partition_key,
            proxy_index=fetched.proxy_index if fetched is not None else None,
        )
        self.settle_proxy(attempt.proxy_index, outcome)
        if observation is not None:
            observation.run_id = ctx.run_id
            observation.source = source
        return ScrapeResult(attempt=attempt, observation=observation if outcome is Outcome.OK else None)

    def settle_proxy(self, index: int | None, outcome: Outcome) -> None:
        """A finished attempt's outcome through proxy ``index``: ``blocked`` rests the proxy (429s rest it
        inside :meth:`fetch` already), ``ok`` resets its back-off."""
        if index is None or self._proxy_pool is None:
            return
        if outcome is Outcome.BLOCKED:
            self._rest_proxy(index, Outcome.BLOCKED)
        elif outcome is Outcome.OK:
            self._proxy_pool.served(index)

    def _rest_proxy(self, index: int, reason: Outcome) -> None:
        if self._proxy_pool is not None:
            self._proxy_pool.rest(index, reason)

    def _account(self, result: ScrapeResult) -> None:
        self.record_outcome(result.attempt.outcome)

    def reset_retry_budget(self) -> None:
        """Give a new run (a ``scrape`` or an account discovery) its full ``retry_budget``."""
        self._retries_left = self.settings.retry_budget

    def record_outcome(self, outcome: Outcome) -> None:
        """Feed one finished attempt's outcome (video or account) to the circuit breaker."""
        if outcome in BREAKER_OUTCOMES:
            self._consecutive_bad += 1
            if not self.breaker_open and self._consecutive_bad >= self.settings.breaker_threshold:
                self.breaker_open = True
                log.warning(
                    "%s: %d blocked/rate-limited outcomes in a row; stopping this platform for the rest of the run",
                    self.platform.value,
                    self._consecutive_bad,
                )
        elif outcome not in (Outcome.CIRCUIT_OPEN, Outcome.QUOTA_EXHAUSTED):
            self._consecutive_bad = 0

    def _short_circuit(self, batch: list[VideoToScrape], ctx: RunContext) -> list[ScrapeResult] | None:
        """Results for a batch that must not touch the network (breaker open, quota spent...)."""
        if not self.breaker_open:
            return None
        started, mono = self.now(), time.monotonic()
        return [
            self.result(
                v,
                Outcome.CIRCUIT_OPEN,
                started=started,
                started_mono=mono,
                ctx=ctx,
                detail="not attempted: circuit breaker open for this run",
            )
            for v in batch
        ]

    @abstractmethod
    async def _scrape_batch(self, batch: list[VideoToScrape], ctx: RunContext) -> list[ScrapeResult]:
        """One result per video of ``batch`` (``len(batch) <= batch_size``)."""

    async def _guarded_batch(self, batch: list[VideoToScrape], ctx: RunContext) -> list[ScrapeResult]:
        started, mono = self.now(), time.monotonic()
        try:
            results = await self._scrape_batch(batch, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug or an unforeseen shape must not lose the other videos' results
            log.warning("%s: unexpected %s while scraping", self.platform.value, type(exc).__name__)
            detail = f"unexpected {type(exc).__name__}: {exc}"
            return [
                self.result(v, Outcome.PARSE_ERROR, started=started, started_mono=mono, ctx=ctx, detail=detail)
                for v in batch
            ]
        if len(results) != len(batch):  # defensive: the contract is one result per input video
            seen = {r.attempt.video_id for r in results}
            results = list(results) + [
                self.result(
                    v,
                    Outcome.PARSE_ERROR,
                    started=started,
                    started_mono=mono,
                    ctx=ctx,
                    detail="client produced no result for this video",
                )
                for v in batch
                if v.video_id not in seen
            ]
        return results

    async def scrape(
        self,
        videos: Iterable[VideoToScrape],
        *,
        run_id: str | None = None,
        partition_key: str | None = None,
    ) -> AsyncGenerator[ScrapeResult, None]:
        ctx = RunContext(run_id=run_id, partition_key=partition_key)
        self.reset_retry_budget()
        stream = stream_bounded(
            _chunks(self._own_videos(videos), max(1, self.batch_size)),
            lambda batch: self._guarded_batch(batch, ctx),
            limit=self.settings.max_in_flight or 2 * self.settings.concurrency,
            short_circuit=lambda batch: self._short_circuit(batch, ctx),
        )
        async with contextlib.aclosing(stream):
            async for results in stream:
                for result in results:
                    self._account(result)
                    yield result
