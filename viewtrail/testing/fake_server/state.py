"""The fake platform server's state: its switches, what it counted and received, and the test-controlled
changes to simulated accounts. Every route (videos and accounts) reads and updates one :class:`ServerState`."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from viewtrail.clock import utc_now
from viewtrail.domain.hashing import SIMULATION
from viewtrail.domain.models import Platform
from viewtrail.platforms.simulated.client import SimulatedState, simulate

FAULTS = ("429", "5xx", "timeout", "challenge", "login", "malformed")
PREFIXES: dict[Platform, str] = {p: f"/{p.value}" for p in Platform}


@dataclass(frozen=True, slots=True)
class FakePlatformSettings:
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    faults: tuple[str, ...] = FAULTS
    retry_after_s: float = 1.0
    seed: int = 0
    hang_s: float = 30.0  # how long a "timeout" fault holds the request (clients time out first)
    youtube_quota_exceeded: bool = False
    private_video_ids: frozenset[str] = frozenset()
    tiktok_challenge: str = "off"  # off | cookieless | always | unsolvable
    deleted_video_ids: frozenset[str] = frozenset()
    geo_restricted_video_ids: frozenset[str] = frozenset()
    instagram_shell_ids: frozenset[str] = frozenset()
    x_views_graphql_only: bool = False
    #: X's guest GraphQL route answers 429 (guests get ~95 requests per 15 minutes); syndication still answers.
    x_graphql_rate_limited: bool = False
    #: TikTok pages of these videos carry ``statsV2`` counts as abbreviated display strings ("1.2K"): a format
    #: change viewtrail's own parser refuses (``parse_error``) while yt-dlp, reading ``stats``, still reads them.
    changed_page_ids: frozenset[str] = frozenset()
    #: Keep the path and headers of every request (:attr:`FakePlatformServer.received`), for header assertions.
    record_requests: bool = False
    #: Fixed simulated instant (naive UTC) instead of the wall clock: answers comparable exactly in tests.
    at: datetime | None = None
    #: When the simulated videos count as tracked (they are posted before it); default: ``at``, else the
    #: instant the server started. The same instant gives the same curves as the simulated client.
    tracked_at: datetime | None = None

    def validated(self) -> FakePlatformSettings:
        unknown = set(self.faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}: use some of {', '.join(FAULTS)}")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be within 0..1")
        if self.tiktok_challenge not in ("off", "cookieless", "always", "unsolvable"):
            raise ValueError("tiktok_challenge must be off, cookieless, always or unsolvable")
        return replace(
            self,
            faults=tuple(self.faults),
            private_video_ids=frozenset(self.private_video_ids),
            deleted_video_ids=frozenset(self.deleted_video_ids),
            geo_restricted_video_ids=frozenset(self.geo_restricted_video_ids),
            instagram_shell_ids=frozenset(self.instagram_shell_ids),
            changed_page_ids=frozenset(self.changed_page_ids),
        )


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request as the server saw it: its path and headers (names lower-cased)."""

    path: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class FakeAccount:
    """Test-controlled changes to one simulated account (``None``/``False``: as simulated)."""

    followers: int | None = None
    hidden_followers: bool = False
    private: bool = False
    missing: bool = False
    renamed_to: str | None = None
    status: int | None = None
    extra_posts: tuple[tuple[str, datetime, str], ...] = ()


@dataclass(slots=True)
class AccountsState:
    overrides: dict[str, FakeAccount] = field(default_factory=dict)  # original account_id -> changes
    issued_guest_tokens: set[str] = field(default_factory=set)
    #: Stable ids (channel id, rest_id, secUid) of accounts served so far -> their original account_id.
    served: dict[str, str] = field(default_factory=dict)

    def configure(self, platform: Platform | str, handle: str, **changes: Any) -> None:
        account_id = f"{Platform(platform).value}:{handle.lower()}"
        current = self.overrides.get(account_id, FakeAccount())
        if "extra_posts" in changes:
            changes["extra_posts"] = tuple(changes["extra_posts"])
        if changes.get("renamed_to"):
            changes["renamed_to"] = changes["renamed_to"].lower()
        self.overrides[account_id] = replace(current, **changes)


@dataclass(slots=True)
class ServerState:
    settings: FakePlatformSettings
    seen: Counter[str] = field(default_factory=Counter)  # request key -> times seen (fault determinism)
    requests: Counter[str] = field(default_factory=Counter)  # platform -> requests served
    faults_served: Counter[str] = field(default_factory=Counter)  # fault kind -> times injected
    release: asyncio.Event | None = None  # set on stop(): requests held by "timeout" faults return at once
    loop: asyncio.AbstractEventLoop | None = None
    started_at: datetime = field(default_factory=lambda: utc_now().replace(microsecond=0))
    accounts: AccountsState = field(default_factory=AccountsState)  # the account routes' state
    received: list[ReceivedRequest] = field(default_factory=list)  # with the record_requests switch

    def now(self) -> datetime:
        at = self.settings.at
        return at if at is not None else utc_now()

    def tracked_at(self) -> datetime:
        return self.settings.tracked_at or self.settings.at or self.started_at

    def draw_fault(self, platform: Platform, key: str) -> str | None:
        self.requests[platform.value] += 1
        self.seen[key] += 1
        s = self.settings
        if s.fault_rate <= 0 or not s.faults:
            return None
        count = self.seen[key]
        if SIMULATION.unit(s.seed, "fake-fault", key, count) >= s.fault_rate:
            return None
        kind = s.faults[int(SIMULATION.unit(s.seed, "fake-fault-kind", key, count) * len(s.faults))]
        if platform is Platform.YOUTUBE and kind in ("challenge", "login"):
            kind = "5xx"
        self.faults_served[kind] += 1
        return kind

    def state(self, video_id: str) -> SimulatedState:
        return simulate(video_id, self.now(), self.settings.seed, tracked_at=self.tracked_at(), fault_rate=0.0)
