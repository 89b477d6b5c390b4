"""The base of every route group: one platform's handlers on the shared state, answering the faults all
platforms answer alike."""

from __future__ import annotations

import asyncio

from starlette.responses import Response
from starlette.routing import Route

from viewtrail.domain.models import Platform
from viewtrail.testing.fake_server.state import PREFIXES, ServerState
from viewtrail.testing.fake_server.wire import json_response


class Handlers:
    """One platform's request handlers on the shared state: latency, then the faults all platforms answer alike
    (429, 5xx, timeout), then the platform's own shapes (subclasses, one per platform)."""

    platform: Platform

    def __init__(self, state: ServerState) -> None:
        self.state = state

    @property
    def prefix(self) -> str:
        return PREFIXES[self.platform]

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def server_error(self) -> Response:
        """The platform's answer to a ``5xx`` fault."""
        raise NotImplementedError

    async def begin(self, key: str) -> tuple[str | None, Response | None]:
        """Count the request, draw its fault, wait the latency; a common fault's answer comes back ready."""
        kind = self.state.draw_fault(self.platform, key)
        await self._pause()
        return kind, await self._common_fault(kind)

    async def _pause(self) -> None:
        latency = self.state.settings.latency_ms
        if latency > 0:
            await asyncio.sleep(latency / 1000.0)

    async def _common_fault(self, kind: str | None) -> Response | None:
        state = self.state
        if kind == "429":
            return json_response(
                {"error": "rate limited (fake platform)"},
                429,
                headers={"Retry-After": f"{state.settings.retry_after_s:g}"},
            )
        if kind == "5xx":
            return self.server_error()
        if kind == "timeout":
            if state.release is None:
                state.release, state.loop = asyncio.Event(), asyncio.get_running_loop()
            try:  # hold the request; stop() releases held requests so shutdown stays quick and quiet
                await asyncio.wait_for(state.release.wait(), state.settings.hang_s)
            except TimeoutError:
                pass
            return Response("too late", status_code=504)
        return None
