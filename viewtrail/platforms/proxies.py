"""Spreading one platform's requests over forward proxies (``ClientSettings.proxies``).

* One ``httpx.AsyncClient`` per client keeps its cookies; its transport is a :class:`ProxyRoutingTransport`
  holding one inner transport per proxy and sending each request through the proxy named by the request
  extension :data:`PROXY_EXTENSION` (httpx copies extensions onto redirects, so a redirect stays on its proxy).
* :class:`ProxyPool` picks the least recently used proxy that is not resting. A proxy that drew a 429 or a
  ``blocked`` outcome rests ``proxy_rest_base_s``, doubling per rest in a row up to ``proxy_rest_cap_s``;
  resting again while resting changes nothing; an ``ok`` outcome through it resets the doubling.

Proxies are known by their index in ``ClientSettings.proxies`` only: their URLs carry credentials and never
reach a log line, an attempt or the warehouse.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import httpx

from viewtrail.domain.models import Outcome
from viewtrail.platforms.base import ClientSettings

__all__ = [
    "PROXY_EXTENSION",
    "ProxyPool",
    "ProxyRoutingTransport",
    "TransportFactory",
    "proxy_secrets",
    "proxy_transport",
    "routed_transport",
]

log = logging.getLogger(__name__)

#: Request extension naming the proxy (its index) a request goes through.
PROXY_EXTENSION = "viewtrail_proxy_index"

#: Builds the inner transport that sends through one proxy URL.
TransportFactory = Callable[[ClientSettings, str], httpx.AsyncBaseTransport]


def proxy_transport(settings: ClientSettings, proxy: str) -> httpx.AsyncBaseTransport:
    """The inner transport for ``proxy``: plain httpx through it, curl_cffi's when the client impersonates a
    browser, or ``settings.transport`` when one is injected (a mock sees every request with its proxy index in
    the extensions)."""
    if settings.transport is not None:
        return settings.transport
    if settings.impersonate:
        from viewtrail.platforms.impersonation import ImpersonatingTransport  # curl_cffi: only when asked for

        return ImpersonatingTransport(settings.impersonate, max_clients=settings.concurrency, proxy=proxy)
    size = max(1, settings.concurrency)
    return httpx.AsyncHTTPTransport(
        proxy=proxy, limits=httpx.Limits(max_connections=size, max_keepalive_connections=size)
    )


def routed_transport(
    settings: ClientSettings, pool: ProxyPool, factory: TransportFactory = proxy_transport
) -> ProxyRoutingTransport:
    """One routing transport over ``factory(settings, proxy)`` for each of ``settings.proxies``."""
    return ProxyRoutingTransport([factory(settings, proxy) for proxy in settings.proxies], pool)


def proxy_secrets(proxies: Sequence[str]) -> list[str]:
    """Every text that would reveal a proxy (URL, ``user:pass@host:port``, ``host:port``, password),
    longest first so the longest match is masked whole."""
    secrets: set[str] = set()
    for proxy in proxies:
        url = httpx.URL(proxy)
        netloc = proxy.split("://", 1)[-1].rstrip("/")
        secrets.update({proxy, netloc, netloc.rpartition("@")[2]})
        if url.password:
            secrets.update({url.password, netloc.rpartition("@")[0]})
    return sorted((s for s in secrets if s), key=len, reverse=True)


class ProxyPool:
    """Which proxy serves the next request, and which ones rest (times from the client's clock)."""

    def __init__(self, count: int, *, base_s: float, cap_s: float, now: Callable[[], datetime], name: str) -> None:
        self.count = count
        self._base_s = base_s
        self._cap_s = cap_s
        self._now = now
        self._name = name
        self._ticks = itertools.count(1)
        self._last_used = [0] * count
        self._rest_until: list[datetime | None] = [None] * count
        self._rests_in_a_row = [0] * count
        self._rest_reason: list[Outcome | None] = [None] * count

    def resting(self, index: int) -> bool:
        until = self._rest_until[index]
        return until is not None and until > self._now()

    def _use(self, candidates: Sequence[int]) -> int:
        index = min(candidates, key=lambda i: self._last_used[i])
        self._last_used[index] = next(self._ticks)
        return index

    def acquire(self) -> int | None:
        """The least recently used proxy that is not resting (now marked used), or ``None`` if all rest."""
        ready = [i for i in range(self.count) if not self.resting(i)]
        return self._use(ready) if ready else None

    def acquire_any(self) -> int:
        """The least recently used proxy, resting or not (requests made outside ``fetch``)."""
        return self._use(range(self.count))

    def acquire_soonest(self) -> int:
        """The proxy whose rest ends first (after the client waited for it)."""
        index = min(range(self.count), key=lambda i: self._rest_until[i] or datetime.min)
        self._last_used[index] = next(self._ticks)
        return index

    def seconds_until_one_is_back(self) -> float:
        now = self._now()
        return max(0.0, min(((until or now) - now).total_seconds() for until in self._rest_until))

    def resting_outcome(self) -> Outcome:
        """``rate_limited`` when a resting proxy drew a 429, else ``blocked``."""
        reasons = {self._rest_reason[i] for i in range(self.count) if self.resting(i)}
        return Outcome.RATE_LIMITED if Outcome.RATE_LIMITED in reasons else Outcome.BLOCKED

    def rest(self, index: int, reason: Outcome) -> None:
        """Send proxy ``index`` to rest after ``reason``; nothing changes when it already rests."""
        if self.resting(index):
            return
        self._rests_in_a_row[index] += 1
        seconds = min(self._cap_s, self._base_s * 2 ** (self._rests_in_a_row[index] - 1))
        self._rest_until[index] = self._now() + timedelta(seconds=seconds)
        self._rest_reason[index] = reason
        resting = sum(self.resting(i) for i in range(self.count))
        log.warning(
            "%s: proxy %d rests %.0fs after %s (%d of %d proxies resting)",
            self._name,
            index,
            seconds,
            reason.value,
            resting,
            self.count,
        )

    def served(self, index: int) -> None:
        """An ``ok`` outcome through proxy ``index``: its next rest starts from the base again."""
        self._rests_in_a_row[index] = 0


class ProxyRoutingTransport(httpx.AsyncBaseTransport):
    """Sends each request through the inner transport of the proxy its extension names."""

    def __init__(self, transports: Sequence[httpx.AsyncBaseTransport], pool: ProxyPool) -> None:
        self._transports = list(transports)
        self._pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = request.extensions.get(PROXY_EXTENSION)
        if index is None:
            index = self._pool.acquire_any()
            request.extensions[PROXY_EXTENSION] = index
        return await self._transports[index].handle_async_request(request)

    async def aclose(self) -> None:
        closed: set[int] = set()
        for transport in self._transports:
            if id(transport) not in closed:
                closed.add(id(transport))
                await transport.aclose()
