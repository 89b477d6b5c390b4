"""What one scrape did on the wire, for ``viewtrail probe``: each HTTP exchange and the notable events.

Recording is off unless a caller opens :func:`capture`; then the real clients append to the open trace
(a context variable, so concurrent asyncio tasks started inside the capture share it). Nothing here holds
a secret: URLs are recorded after the client's scrubbing, and no header or cookie is ever recorded.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(slots=True)
class RequestRecord:
    """One HTTP exchange: the request line (scrubbed), the status it got, and how long it took."""

    method: str
    url: str
    status: int | None
    elapsed_ms: float | None = None
    proxy_index: int | None = None
    error: str | None = None


@dataclass(slots=True)
class Trace:
    requests: list[RequestRecord] = field(default_factory=list)
    #: Notable events in the order they happened, e.g. ``"challenge_solved"``, ``"fallback:instagram_embed"``.
    events: list[str] = field(default_factory=list)


_current: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("viewtrail_trace", default=None)


@contextmanager
def capture() -> Iterator[Trace]:
    """Record what the clients do inside the ``with`` block into the yielded :class:`Trace`."""
    trace = Trace()
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)


def record_request(record: RequestRecord) -> None:
    trace = _current.get()
    if trace is not None:
        trace.requests.append(record)


def note(event: str) -> None:
    """Record a notable event (no-op unless a capture is open). ``event`` must not contain a secret."""
    trace = _current.get()
    if trace is not None:
        trace.events.append(event)
