"""yt-dlp's requests sent through viewtrail's HTTP machinery.

yt-dlp sends every request through request handlers (``yt_dlp.networking``). :class:`ViewtrailRH` is the only
handler of the ``YoutubeDL`` built here, and it hands each request to a viewtrail client's
:meth:`~viewtrail.platforms.http.HttpPlatformClient.fetch`: the platform's concurrency cap and rate limit, its
retries with backoff and ``Retry-After``, its proxies (rotation and rest), its browser impersonation, its
timeouts, its circuit breaker and the probe's trace apply to yt-dlp's requests exactly as to the native
parser's. :class:`~viewtrail.platforms.ytdlp.routing.Routes` points them at the configured endpoints.

yt-dlp's extractors are synchronous: an extraction runs on a worker thread of its own, and each of its
requests is a ``fetch`` scheduled on the client's event loop, whose answer the worker waits for. yt-dlp keeps
its cookies in its own jar (the extractors read and set them there): the cookies file's cookies and the
Instagram session are copied into it, so yt-dlp never opens, let alone writes, the user's file, and its cache
is off (``cachedir: False``): it writes nothing anywhere.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import email.message
import functools
import io
import queue
import threading
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.cookiejar import Cookie
from typing import Any
from urllib.parse import urljoin, urlsplit

from yt_dlp import YoutubeDL
from yt_dlp.networking import Response
from yt_dlp.networking.exceptions import HTTPError, TransportError
from yt_dlp.networking.impersonate import ImpersonateRequestHandler, ImpersonateTarget

from viewtrail.domain.models import Outcome
from viewtrail.platforms.http import Fetched, HttpPlatformClient
from viewtrail.platforms.ytdlp.routing import Routes, UnroutedHost

__all__ = ["Exchange", "Extractions", "ViewtrailRH"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10
#: Request headers httpx (or the impersonating transport) sets itself: yt-dlp's values would contradict it.
_LEFT_TO_HTTPX = frozenset({"accept-encoding", "content-length", "host", "connection", "transfer-encoding"})
#: Response headers describing the body as it travelled; httpx hands over the decoded body.
_ENCODED_BODY = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class _Closed(Exception):
    """The scrape that started this extraction ended: the worker stops at its next request."""


@dataclass(slots=True)
class Exchange:
    """One extraction's requests: what they cost and how the last one ended. Shared by the worker thread (which
    sends) and the event loop (which fetches); read by the client when the extraction ends."""

    owner: HttpPlatformClient
    routes: Routes
    loop: asyncio.AbstractEventLoop
    tries: int = 0
    requests: int = 0
    last: Fetched | None = None
    failure: tuple[Outcome, str] | None = None  # a request that got no answer (timeout, breaker, refused host)
    closed: bool = False
    _futures: set[concurrent.futures.Future[Fetched]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Fetched:
        """``owner.fetch`` on the owner's loop, waited for on the calling (worker) thread."""
        if self.closed:
            raise _Closed()
        future = asyncio.run_coroutine_threadsafe(
            self.owner.fetch(url, headers=headers, method=method, content=body), self.loop
        )
        with self._lock:
            self._futures.add(future)
        try:
            fetched = future.result()
        except concurrent.futures.CancelledError:
            raise _Closed() from None
        finally:
            with self._lock:
                self._futures.discard(future)
        self.requests += 1
        self.tries += fetched.tries
        self.last = fetched
        if fetched.failure is not None:
            self.failure = fetched.failure
        return fetched

    def close(self) -> None:
        """Stop the extraction: its pending request is cancelled and its next one refused."""
        self.closed = True
        with self._lock:
            pending = list(self._futures)
        for future in pending:
            future.cancel()


def _body(data: Any) -> bytes | None:
    if data is None:
        return None
    if isinstance(data, bytes):
        return data
    if hasattr(data, "read"):
        return bytes(data.read())
    return b"".join(bytes(chunk) for chunk in data)


class _HeaderPairs:
    """Response headers for yt-dlp's ``Response`` (it reads ``items()``), repeated names (Set-Cookie) kept."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._pairs = list(pairs)

    def items(self) -> list[tuple[str, str]]:
        return self._pairs


class _CookieSource:
    """What ``CookieJar.extract_cookies`` reads of a response: its headers, as ``info()``."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._message = email.message.Message()
        for name, value in pairs:
            self._message[name] = value

    def info(self) -> email.message.Message:
        return self._message


class ViewtrailRH(ImpersonateRequestHandler):
    """The request handler of viewtrail's ``YoutubeDL``: every request through the bound :class:`Exchange`.

    Proxies are viewtrail's (yt-dlp is given none), so are redirects (followed here, hop by hop, each through
    ``fetch`` and the routes) and the impersonation target (the client's transport applies it to every request:
    this handler claims the targets yt-dlp asks for only when the client impersonates a browser).
    """

    _SUPPORTED_URL_SCHEMES = ("http", "https")
    _SUPPORTED_PROXY_SCHEMES = None
    _SUPPORTED_FEATURES = None
    _SUPPORTED_IMPERSONATE_TARGET_MAP: dict[ImpersonateTarget, Any] = {}

    exchange: Exchange | None = None

    def _check_extensions(self, extensions: dict[str, Any]) -> None:
        super()._check_extensions(extensions)
        for name in ("cookiejar", "timeout", "legacy_ssl", "keep_header_casing", "impersonate"):
            extensions.pop(name, None)

    def _send(self, request: Any) -> Response:
        exchange = self.exchange
        if exchange is None:
            raise TransportError("no viewtrail client is bound to this extraction")
        headers = {k: v for k, v in self._get_headers(request).items() if k.lower() not in _LEFT_TO_HTTPX}
        explicit_cookie = headers.pop("Cookie", None)  # an extractor's own Cookie header wins over the jar
        cookiejar = self._get_cookiejar(request)
        method, url, body = request.method, request.url, _body(request.data)
        for _ in range(_MAX_REDIRECTS + 1):
            cookie = explicit_cookie or cookiejar.get_cookie_header(url)
            sent = dict(headers, Cookie=cookie) if cookie else headers
            try:
                target = exchange.routes.outbound(url)
            except UnroutedHost as refused:
                exchange.failure = (Outcome.PARSE_ERROR, f"yt-dlp asked for an unserved host: {refused}")
                raise TransportError(str(refused)) from None
            try:
                fetched = exchange.send(method, target, sent, body)
            except _Closed:
                raise TransportError("the scrape ended") from None
            answer = fetched.response
            if answer is None:
                outcome, detail = fetched.failure or (Outcome.UPSTREAM_ERROR, "no answer")
                raise TransportError(f"{outcome.value}: {detail}")
            pairs = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in _ENCODED_BODY]
            seen_as = exchange.routes.inbound(str(answer.url), url)
            cookiejar.extract_cookies(_CookieSource(pairs), urllib.request.Request(seen_as))
            location = answer.headers.get("location")
            if answer.status_code in _REDIRECTS and location:
                url = exchange.routes.inbound(urljoin(str(answer.url), location), url)
                if answer.status_code == 303 or (answer.status_code in (301, 302) and method == "POST"):
                    method, body = "GET", None
                    headers.pop("Content-Type", None)
                continue
            response = Response(
                io.BytesIO(answer.content),
                url=seen_as,
                headers=_HeaderPairs(pairs),  # yt-dlp reads items() only
                status=answer.status_code,
                reason=answer.reason_phrase or None,
            )
            if not 200 <= answer.status_code < 300:
                raise HTTPError(response)
            return response
        exchange.failure = (Outcome.BLOCKED, "redirect loop")
        raise TransportError("redirect loop")


class _Logger:
    """yt-dlp's messages: warnings kept for the attempt's detail, the rest dropped (no terminal output)."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def debug(self, message: str) -> None:
        pass

    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        self.warnings.append(message)

    def error(self, message: str) -> None:
        pass


class _YoutubeDL(YoutubeDL):  # yt-dlp ships no type information: YoutubeDL is Any to mypy
    """A ``YoutubeDL`` whose only request handler is ``handler`` (a :class:`ViewtrailRH` class)."""

    def __init__(self, params: dict[str, Any], handler: type[ViewtrailRH], logger: _Logger) -> None:
        self._viewtrail_handler = handler
        self.viewtrail_logger = logger
        super().__init__(params)

    @functools.cached_property
    def _request_director(self) -> Any:
        return self.build_request_director([self._viewtrail_handler])

    def bind(self, exchange: Exchange | None) -> None:
        for handler in self._request_director.handlers.values():
            handler.exchange = exchange


@dataclass(slots=True)
class Extracted:
    """How one extraction ended: yt-dlp's info dict, or the error it raised; and the exchange's accounting."""

    exchange: Exchange
    info: dict[str, Any] | None = None
    error: BaseException | None = None
    warnings: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


class Extractions:
    """yt-dlp extractions whose requests go through ``owner.fetch``: one idle ``YoutubeDL`` per finished
    extraction is kept for the next (yt-dlp is not thread-safe: each runs one extraction at a time)."""

    def __init__(self, owner: HttpPlatformClient, routes: Routes, params: dict[str, Any], cookies: list[Cookie]):
        self.owner = owner
        self.routes = routes
        self.params = params
        self.cookies = cookies
        targets: dict[ImpersonateTarget, Any] = {}
        if owner.settings.impersonate:
            targets = {ImpersonateTarget(): owner.settings.impersonate}  # any target yt-dlp asks for
        self.handler: type[ViewtrailRH] = type(
            "ViewtrailRH", (ViewtrailRH,), {"_SUPPORTED_IMPERSONATE_TARGET_MAP": targets}
        )
        self._idle: queue.SimpleQueue[_YoutubeDL] = queue.SimpleQueue()

    def _take(self) -> _YoutubeDL:
        try:
            ydl = self._idle.get_nowait()
        except queue.Empty:
            logger = _Logger()
            ydl = _YoutubeDL({**self.params, "logger": logger}, self.handler, logger)
            for cookie in self.cookies:
                ydl.cookiejar.set_cookie(cookie)
        ydl.viewtrail_logger.warnings.clear()
        return ydl

    def _run(self, ydl: _YoutubeDL, exchange: Exchange, url: str) -> Extracted:
        """On the worker thread: one ``extract_info`` without download, its error kept, never raised."""
        outcome = Extracted(exchange)
        started = time.monotonic()
        ydl.bind(exchange)
        try:
            info = ydl.extract_info(url, download=False, process=False)
            outcome.info = info if isinstance(info, dict) else None
        except Exception as error:  # noqa: BLE001 - every error is classified by the caller
            outcome.error = error
        finally:
            ydl.bind(None)
            outcome.warnings = list(ydl.viewtrail_logger.warnings)
            outcome.elapsed_s = time.monotonic() - started
        return outcome

    async def extract(self, url: str) -> Extracted:
        """Extract ``url`` on a worker thread; cancelling the caller stops the worker at its next request."""
        loop = asyncio.get_running_loop()
        exchange = Exchange(self.owner, self.routes, loop)
        done: asyncio.Future[Extracted] = loop.create_future()
        context = contextvars.copy_context()  # the probe's trace follows the requests the worker schedules
        ydl = self._take()

        def settle(result: Extracted) -> None:
            if not done.done():
                done.set_result(result)

        def work() -> None:
            result = context.run(self._run, ydl, exchange, url)
            self._idle.put(ydl)
            try:
                loop.call_soon_threadsafe(settle, result)
            except RuntimeError:
                pass  # the loop closed: nobody waits any more

        threading.Thread(target=work, name=f"ytdlp-{urlsplit(url).hostname}", daemon=True).start()
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            exchange.close()
            raise
