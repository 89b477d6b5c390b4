"""The fake platform server itself: the ASGI app of every route group, the background-thread server tests use,
and the standalone command (``python -m viewtrail.testing.fake_platform``)."""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from starlette.applications import Starlette

from viewtrail.domain.models import Platform
from viewtrail.testing.fake_server.accounts import ACCOUNT_HANDLER_GROUPS
from viewtrail.testing.fake_server.state import FAULTS, PREFIXES, FakePlatformSettings, ReceivedRequest, ServerState
from viewtrail.testing.fake_server.videos import VIDEO_HANDLER_GROUPS


def _recording(app: Any, state: ServerState) -> Any:
    """``app`` keeping each request's path and headers in ``state.received`` while ``record_requests`` is on."""

    async def recorded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and state.settings.record_requests:
            headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
            state.received.append(ReceivedRequest(scope["path"], headers))
        await app(scope, receive, send)

    return recorded


def build_app(state: ServerState) -> Any:
    """The ASGI app serving all four platforms (videos, then accounts) from ``state`` (settings read per request)."""
    groups = (*VIDEO_HANDLER_GROUPS, *ACCOUNT_HANDLER_GROUPS)
    return _recording(Starlette(routes=[route for group in groups for route in group(state).routes()]), state)


class FakePlatformServer:
    """Runs the fake platform on 127.0.0.1 (a free port) in a background thread; use as a context manager.

    >>> with FakePlatformServer(latency_ms=50, fault_rate=0.05) as server:   # doctest: +SKIP
    ...     client = build_client("tiktok", "real", base_url=server.base_url("tiktok"))
    """

    def __init__(
        self,
        latency_ms: float = 0.0,
        fault_rate: float = 0.0,
        faults: Iterable[str] = FAULTS,
        retry_after_s: float = 1.0,
        seed: int = 0,
        *,
        port: int = 0,
        **switches: Any,
    ) -> None:
        settings = FakePlatformSettings(
            latency_ms=latency_ms, fault_rate=fault_rate, faults=tuple(faults), retry_after_s=retry_after_s, seed=seed
        )
        self._state = ServerState(replace(settings, **switches).validated())
        self._requested_port = port
        self.port: int | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------------------------- switches
    @property
    def settings(self) -> FakePlatformSettings:
        return self._state.settings

    @property
    def tracked_at(self) -> datetime:
        """The instant the simulated videos count as tracked from (see ``FakePlatformSettings.tracked_at``)."""
        return self._state.tracked_at()

    def configure(self, **switches: Any) -> None:
        """Change switches at runtime (latency_ms, fault_rate, faults, retry_after_s, youtube_quota_exceeded...)."""
        names = {f.name for f in fields(FakePlatformSettings)}
        unknown = set(switches) - names
        if unknown:
            raise TypeError(f"unknown fake platform switches: {', '.join(sorted(unknown))}")
        if "faults" in switches:
            switches["faults"] = tuple(switches["faults"])
        self._state.settings = replace(self._state.settings, **switches).validated()

    def configure_account(self, platform: Platform | str, handle: str, **changes: Any) -> None:
        """Change one simulated account (see :class:`viewtrail.testing.fake_server.state.FakeAccount`)."""
        self._state.accounts.configure(platform, handle, **changes)

    @property
    def requests(self) -> Counter[str]:
        """Requests served per platform name."""
        return self._state.requests

    @property
    def faults_served(self) -> Counter[str]:
        return self._state.faults_served

    @property
    def received(self) -> list[ReceivedRequest]:
        """The requests seen while the ``record_requests`` switch was on, oldest first."""
        return self._state.received

    def base_url(self, platform: Platform | str) -> str:
        if self.port is None:
            raise RuntimeError("the fake platform server is not running: use it as a context manager")
        return f"http://127.0.0.1:{self.port}{PREFIXES[Platform(platform)]}"

    # ------------------------------------------------------------------------------- lifecycle
    def start(self) -> FakePlatformServer:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._requested_port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(self._state),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            backlog=2048,
        )
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # not the main thread
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="fake-platform", daemon=True
        )
        self._thread.start()
        deadline = 10.0
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the fake platform server failed to start")
            deadline -= 0.01
            if deadline <= 0:
                raise RuntimeError("the fake platform server did not start within 10 s")
            time.sleep(0.01)  # not Event().wait(0.01): under faketime a timed lock wait lasts as long as the shift
        return self

    def stop(self) -> None:
        state = self._state
        if state.release is not None and state.loop is not None and not state.loop.is_closed():
            state.loop.call_soon_threadsafe(state.release.set)  # let requests held by "timeout" faults end
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakePlatformServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m viewtrail.testing.fake_platform",
        description="Serve the SIMULATED platform in the real platforms' wire formats on 127.0.0.1 "
        "(prefixes /youtube /tiktok /instagram /x).",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated subset of {','.join(FAULTS)}")
    parser.add_argument("--retry-after-s", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import uvicorn

    settings = FakePlatformSettings(
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        faults=tuple(f for f in args.faults.split(",") if f),
        retry_after_s=args.retry_after_s,
        seed=args.seed,
    ).validated()
    print(f"fake platform (simulated data) on http://127.0.0.1:{args.port}/{{youtube,tiktok,instagram,x}}", flush=True)
    uvicorn.run(
        build_app(ServerState(settings)),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        backlog=2048,
    )
