"""Browser impersonation for the real clients: an ``httpx`` transport that sends requests through curl_cffi.

``VIEWTRAIL_{P}_IMPERSONATE=chrome`` (or any other target, see :func:`viewtrail.config.impersonation_targets`) makes the
platform's client speak with a real browser's TLS and HTTP/2 fingerprint (curl-impersonate), which anti-bot
systems check before they look at a single header. Only the last hop changes: the ``httpx.AsyncClient`` keeps
handling retries, limits, redirects (curl never follows one: ``allow_redirects=False``), cookies (curl's own jar
is off), outcomes and the trace, exactly as with httpx's own transport.

The browser profile supplies ``User-Agent`` and ``Accept-Encoding`` (and the client-hint headers of that browser):
a Chrome fingerprint announcing another browser's User-Agent, or httpx's, gives the client away, so the client's
``user_agent`` setting is not sent while impersonating. curl decompresses bodies itself, so the answer reaches
httpx without ``Content-Encoding``/``Content-Length``. curl errors become the httpx errors the clients already
classify: timeouts -> ``httpx.ConnectTimeout``/``httpx.ReadTimeout``, connection, TLS and DNS failures ->
``httpx.ConnectError``, anything else -> ``httpx.TransportError``.
"""

from __future__ import annotations

from typing import TypeGuard, get_args

import httpx
from curl_cffi import requests as curl_requests
from curl_cffi.requests import exceptions as curl_errors

__all__ = ["ImpersonatingTransport"]

#: Request headers httpx adds that the browser profile (or curl itself) must supply instead.
_LEFT_TO_CURL = frozenset(
    {"user-agent", "accept-encoding", "connection", "host", "content-length", "transfer-encoding"}
)
#: Response headers describing the body as it travelled, not the decompressed body curl hands over.
_DESCRIBE_ENCODED_BODY = frozenset({"content-encoding", "content-length", "transfer-encoding"})
_CONNECT_PHASE = ("connect", "resolving")  # curl: "Connection timed out after...", "Resolving timed out..."
_CURL_METHODS = frozenset(get_args(curl_requests.HttpMethod))


def _is_curl_method(method: str) -> TypeGuard[curl_requests.HttpMethod]:
    """Whether curl_cffi sends ``method`` (its sessions name the methods they accept)."""
    return method in _CURL_METHODS


def _timeout(request: httpx.Request) -> float | tuple[float, float] | None:
    """httpx's per-phase timeouts as curl's ``(connect, read)`` pair (curl bounds their sum overall)."""
    timeouts = request.extensions.get("timeout") or {}
    connect, read = timeouts.get("connect"), timeouts.get("read")
    if connect and read:
        return (connect, read)
    return connect or read or None


def _httpx_error(exc: curl_errors.RequestException, request: httpx.Request) -> httpx.TransportError:
    message = str(exc)
    if isinstance(exc, curl_errors.Timeout):
        lowered = message.lower()
        if any(phase in lowered for phase in _CONNECT_PHASE):
            return httpx.ConnectTimeout(message, request=request)
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, curl_errors.ConnectionError | curl_errors.ProxyError):  # SSLError, DNSError included
        return httpx.ConnectError(message, request=request)
    return httpx.TransportError(message, request=request)


class ImpersonatingTransport(httpx.AsyncBaseTransport):
    """Send httpx requests with curl_cffi's ``AsyncSession`` impersonating ``target`` (e.g. ``"chrome"``).

    Bound to the event loop it is first used on (as the client's other per-loop objects are).
    """

    def __init__(self, target: str, *, max_clients: int = 10, proxy: str | None = None) -> None:
        self.target = target
        # discard_cookies: httpx's cookie jar is the only one, so a cookie is never sent twice.
        self._session: curl_requests.AsyncSession[curl_requests.Response] = curl_requests.AsyncSession(
            impersonate=target, max_clients=max(1, max_clients), discard_cookies=True, proxy=proxy
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        headers = [(name, value) for name, value in request.headers.multi_items() if name.lower() not in _LEFT_TO_CURL]
        body = await request.aread()
        if not _is_curl_method(request.method):
            raise httpx.UnsupportedProtocol(f"curl_cffi cannot send a {request.method} request", request=request)
        try:
            answer = await self._session.request(
                request.method,
                str(request.url),
                headers=headers,
                data=body or None,
                timeout=_timeout(request),
                allow_redirects=False,
            )
        except curl_errors.RequestException as exc:
            raise _httpx_error(exc, request) from exc
        response_headers = [
            (name, value)
            for name, value in answer.headers.multi_items()
            if value is not None and name.lower() not in _DESCRIBE_ENCODED_BODY
        ]
        return httpx.Response(
            answer.status_code,
            headers=response_headers,
            content=answer.content,
            request=request,
            extensions={"reason_phrase": (answer.reason or "").encode("latin-1", "replace")},
        )

    async def aclose(self) -> None:
        await self._session.close()
