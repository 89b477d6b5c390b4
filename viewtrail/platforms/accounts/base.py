"""The interface every account client implements.

An account client turns watched accounts (:class:`AccountToDiscover`) into :class:`AccountResult` s: always
one :class:`AccountAttempt` per account, plus the account's metrics (:class:`AccountObservation`) and its
recent videos (newest first) when the outcome is ``ok``. Outcomes use the videos' taxonomy (:class:`Outcome`).

Plain Python: no Dagster, no DuckDB. ``discover`` is an async generator; :func:`discover_sync` drives it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Iterable, Iterator
from datetime import datetime
from typing import Any

from viewtrail.domain.models import AccountResult, AccountToDiscover, DiscoveredVideo, Platform, VideoRef
from viewtrail.platforms.base import stream_sync

__all__ = ["LISTING_CAP", "AccountClient", "discover_sync", "discovered_video", "listing_limit"]

#: A discovery lists at most ``max(latest_n, LISTING_CAP)`` videos.
LISTING_CAP = 50


def listing_limit(account: AccountToDiscover) -> int:
    """How many of an account's newest videos one discovery may return."""
    return max(account.latest_n, LISTING_CAP)


class AccountClient(ABC):
    """Discovers one platform's watched accounts. Use one per platform per run and ``aclose`` it."""

    platform: Platform
    source: str  # value stored in raw.account_snapshots.source / raw.account_attempts.source
    observes_past: bool = False  # True only for the simulated platform (answers as of ``observe_at``)

    @abstractmethod
    def discover(
        self,
        accounts: Iterable[AccountToDiscover],
        *,
        run_id: str | None = None,
        partition_key: str | None = None,
    ) -> AsyncGenerator[AccountResult, None]:
        """Yield one :class:`AccountResult` per input account, in completion order (an ``async def`` generator).

        ``AccountResult.videos`` is newest first, at most :func:`listing_limit`; ``attempt.videos_listed`` is
        ``None`` when the platform has no logged-out route for recent posts (then ``videos`` is empty).
        """

    def _own_accounts(self, accounts: Iterable[AccountToDiscover]) -> Iterator[AccountToDiscover]:
        """``accounts``, lazily, refusing one of another platform (a mixed batch is a caller bug)."""
        for account in accounts:
            if account.platform != self.platform:
                raise ValueError(
                    f"{account.account_id} is a {account.platform} account; the {self.platform.value} account "
                    f"client only discovers {self.platform.value} accounts"
                )
            yield account

    async def aclose(self) -> None:  # noqa: B027 - optional hook, default no-op
        """Release network resources. The client stays usable (resources are re-created lazily)."""

    async def __aenter__(self) -> AccountClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def discover_sync(client: AccountClient, accounts: Iterable[AccountToDiscover], **kw: Any) -> Iterator[AccountResult]:
    """Run ``client.discover(accounts, **kw)`` for synchronous callers, streaming results as they complete."""
    return stream_sync(client, lambda: client.discover(accounts, **kw), name=f"discover-{client.platform.value}")


def discovered_video(
    platform: Platform,
    external_id: str,
    *,
    account: str | None,
    posted_at: datetime | None,
    title: str | None,
) -> DiscoveredVideo | None:
    """A listed video with its canonical URL, or ``None`` when the platform listed a malformed id."""
    from viewtrail.domain.urls import InvalidVideoUrl, canonical_url

    try:
        url = canonical_url(platform, external_id, account)
    except (InvalidVideoUrl, ValueError):
        return None
    return DiscoveredVideo(ref=VideoRef(platform, external_id, url, account), posted_at=posted_at, title=title or None)
