"""A forward HTTP proxy on 127.0.0.1 for tests of the real clients' proxy rotation.

It accepts absolute-URI requests (``GET http://127.0.0.1:8765/x/... HTTP/1.1``, as httpx sends them to an
``http://`` proxy), forwards them to the target with ``http.client`` and relays the answer. It counts what it
forwarded and remembers the ``Proxy-Authorization`` headers it saw; ``mode`` makes it answer every request
itself instead: ``"rate_limit"`` (HTTP 429) or ``"challenge"`` (HTTP 403 with a bot-check page).

    >>> with FakePlatformServer() as platform, FakeForwardProxy() as proxy:  # doctest: +SKIP
    ...     client = build_client("x", "real", base_url=platform.base_url("x"), proxies=(proxy.url,))
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["PROXY_MODES", "FakeForwardProxy"]

PROXY_MODES = ("forward", "rate_limit", "challenge")
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
_CHALLENGE_PAGE = b"<!doctype html><title>Just a moment...</title><p>Checking your browser before accessing.</p>"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet in tests

    def _relay(self) -> None:
        proxy = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        with proxy.lock:
            proxy.seen_authorizations.append(self.headers.get("Proxy-Authorization"))
            mode = proxy.mode
        if mode == "rate_limit":
            self._answer(429, {"Content-Type": "text/plain"}, b"Too Many Requests")
            return
        if mode == "challenge":
            self._answer(403, {"Content-Type": "text/html"}, _CHALLENGE_PAGE)
            return
        target = urlsplit(self.path)
        if target.scheme != "http" or not target.hostname:
            self._answer(400, {"Content-Type": "text/plain"}, b"absolute http:// URI expected")
            return
        path = target.path or "/"
        if target.query:
            path += f"?{target.query}"
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
        try:
            upstream.request(self.command, path, body=body, headers=headers)
            answer = upstream.getresponse()
            payload = answer.read()
            relayed = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
        finally:
            upstream.close()
        with proxy.lock:
            proxy.forwarded += 1
        self._answer(answer.status, relayed, payload)

    def _answer(self, status: int, headers: dict[str, str] | list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items() if isinstance(headers, dict) else headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = _relay  # http.server dispatches on these names
    do_POST = _relay
    do_HEAD = _relay


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakeForwardProxy


class FakeForwardProxy:
    """A threaded forward proxy on 127.0.0.1 (an ephemeral port unless ``port`` is given); a context manager."""

    def __init__(self, *, mode: str = "forward", port: int = 0, credentials: str | None = None) -> None:
        if mode not in PROXY_MODES:
            raise ValueError(f"mode={mode!r} is not a proxy mode: use one of {', '.join(PROXY_MODES)}.")
        self.mode = mode
        self.credentials = credentials  # "user:pass" put in `url`; the proxy accepts any credentials
        self.forwarded = 0
        self.seen_authorizations: list[str | None] = []
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.owner = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):  # an AF_UNIX-style address; this server listens on TCP, but the type allows it
            host = host.decode()
        userinfo = f"{self.credentials}@" if self.credentials else ""
        return f"http://{userinfo}{host}:{port}"

    @property
    def answered(self) -> int:
        """Requests it received (forwarded or answered itself)."""
        with self.lock:
            return len(self.seen_authorizations)

    def set_mode(self, mode: str) -> None:
        if mode not in PROXY_MODES:
            raise ValueError(f"mode={mode!r} is not a proxy mode: use one of {', '.join(PROXY_MODES)}.")
        with self.lock:
            self.mode = mode

    def start(self) -> FakeForwardProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for serve_forever, so only after start()
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeForwardProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
