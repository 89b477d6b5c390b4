"""Shared plumbing of the real account clients: they speak through the platform's video client.

An :class:`HttpAccountClient` owns one instance of its platform's real video client (``self.wire``) and
sends every request through ``wire.fetch``: the same connection pool, User-Agent, timeouts, concurrency cap,
rate limit, retries with backoff and ``Retry-After``, per-run retry budget, circuit breaker and secret
scrubbing as the video scrapes, configured by the same :class:`ClientSettings`. Outcomes feed the same breaker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import abstractmethod
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from viewtrail.domain.models import (
    AccountAttempt,
    AccountObservation,
    AccountResult,
    AccountToDiscover,
    DiscoveredVideo,
    Outcome,
)
from viewtrail.platforms.accounts.base import AccountClient, listing_limit
from viewtrail.platforms.base import ClientSettings, stream_bounded
from viewtrail.platforms.http import Fetched, HttpPlatformClient, RunContext

__all__ = ["Call", "HttpAccountClient"]

log = logging.getLogger(__name__)

_CIRCUIT_DETAIL = "not attempted: circuit breaker open for this run"


@dataclass(slots=True)
class Call:
    """The requests one account's discovery spent (retries included) and the last HTTP status seen."""

    account: AccountToDiscover
    started: datetime
    started_mono: float
    tries: int = 0
    http_status: int | None = None
    proxy_index: int | None = None  # the proxy of the last request
    fetches: list[Fetched] = field(default_factory=list)

    def add(self, fetched: Fetched) -> Fetched:
        self.tries += fetched.tries
        if fetched.status is not None:
            self.http_status = fetched.status
        self.proxy_index = fetched.proxy_index
        self.fetches.append(fetched)
        return fetched


class HttpAccountClient(AccountClient):
    """Base of the four real account clients. Subclasses set ``wire_class`` and implement :meth:`_discover_one`."""

    wire_class: type[HttpPlatformClient]

    def __init__(self, settings: ClientSettings) -> None:
        self.wire = self.wire_class(settings)
        self.settings = self.wire.settings  # as the wire completed them (e.g. a session from the cookies file)
        self.platform = self.wire.platform

    # ----------------------------------------------------------------------------------- helpers
    def now(self) -> datetime:
        return self.wire.now()

    async def aclose(self) -> None:
        await self.wire.aclose()

    def begin(self, account: AccountToDiscover) -> Call:
        return Call(account=account, started=self.now(), started_mono=time.monotonic())

    async def get(
        self,
        call: Call,
        path: str,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        follow_redirects: bool = False,
        method: str = "GET",
    ) -> Fetched:
        """``wire.fetch(path, ...)``, counted against ``call``."""
        fetched = await self.wire.fetch(
            path, params=params, headers=headers, follow_redirects=follow_redirects, method=method
        )
        return call.add(fetched)

    def result(
        self,
        call: Call,
        outcome: Outcome,
        ctx: RunContext,
        *,
        detail: str | None = None,
        observation: AccountObservation | None = None,
        videos: list[DiscoveredVideo] | None = None,
    ) -> AccountResult:
        """The result of one discovery; ``videos=None`` means the platform gave no listing (``videos_listed``
        null: X, private accounts), ``[]`` that it listed none."""
        ok = outcome is Outcome.OK
        listed = sorted(videos or [], key=lambda v: v.posted_at or datetime.min, reverse=True)
        listed = listed[: listing_limit(call.account)]
        videos_listed = len(listed) if ok and videos is not None else None
        attempt = AccountAttempt(
            account_id=call.account.account_id,
            platform=self.platform,
            attempted_at=call.started,
            outcome=outcome,
            http_status=call.http_status,
            detail=self.wire.scrub(detail) if detail else None,
            duration_ms=round((time.monotonic() - call.started_mono) * 1000.0, 3),
            tries=call.tries,
            source=self.source,
            run_id=ctx.run_id,
            partition_key=ctx.partition_key,
            videos_listed=videos_listed,
            proxy_index=call.proxy_index,
        )
        self.wire.settle_proxy(call.proxy_index, outcome)
        if observation is not None:
            observation.run_id = ctx.run_id
            observation.source = self.source
        return AccountResult(
            attempt=attempt,
            observation=observation if ok else None,
            videos=listed if ok else [],
        )

    def failure(self, call: Call, fetched: Fetched, ctx: RunContext) -> AccountResult | None:
        """The result for transport failures, 429 and 5xx (after retries), else ``None``."""
        generic = self.wire.generic_failure(fetched)
        return None if generic is None else self.result(call, generic[0], ctx, detail=generic[1])

    def short_circuit(self, account: AccountToDiscover, ctx: RunContext) -> AccountResult | None:
        """A result for an account that must not touch the network (breaker open, quota spent...)."""
        if not self.wire.breaker_open:
            return None
        return self.result(self.begin(account), Outcome.CIRCUIT_OPEN, ctx, detail=_CIRCUIT_DETAIL)

    # ------------------------------------------------------------------------------- discovery
    @abstractmethod
    async def _discover_one(self, account: AccountToDiscover, ctx: RunContext) -> AccountResult:
        """One result for ``account``; network trouble becomes an outcome, never an exception."""

    async def _guarded(self, account: AccountToDiscover, ctx: RunContext) -> AccountResult:
        call = self.begin(account)
        try:
            return self.short_circuit(account, ctx) or await self._discover_one(account, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - an unforeseen shape must not lose the other accounts' results
            log.warning("%s: unexpected %s while discovering an account", self.platform.value, type(exc).__name__)
            return self.result(call, Outcome.PARSE_ERROR, ctx, detail=f"unexpected {type(exc).__name__}: {exc}")

    async def discover(
        self,
        accounts: Iterable[AccountToDiscover],
        *,
        run_id: str | None = None,
        partition_key: str | None = None,
    ) -> AsyncGenerator[AccountResult, None]:
        ctx = RunContext(run_id=run_id, partition_key=partition_key)
        self.wire.reset_retry_budget()
        stream = stream_bounded(
            self._own_accounts(accounts),
            lambda account: self._guarded(account, ctx),
            limit=self.settings.max_in_flight or 2 * self.settings.concurrency,
            short_circuit=lambda account: self.short_circuit(account, ctx),
        )
        async with contextlib.aclosing(stream):
            async for result in stream:
                self.wire.record_outcome(result.attempt.outcome)
                yield result
