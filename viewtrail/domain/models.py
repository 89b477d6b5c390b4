"""Domain types shared by the registry, the platform clients and the warehouse.

Plain dataclasses and enums: no Dagster, no DuckDB, no httpx.
All datetimes are naive and mean UTC (the warehouse stores naive UTC ``TIMESTAMP``s).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from viewtrail.domain.platforms import platform_specs

if TYPE_CHECKING:  # what mypy sees: the built-in platforms (a platform added by a package is known at run time only)

    class Platform(StrEnum):
        TIKTOK = "tiktok"
        YOUTUBE = "youtube"
        INSTAGRAM = "instagram"
        X = "x"

else:
    #: One member per registered platform (``viewtrail.domain.platforms``), in registry order:
    #: ``Platform.TIKTOK``, ``Platform("tiktok")``, ``list(Platform)``.
    Platform = StrEnum(
        "Platform", [(spec.name.upper(), spec.name) for spec in platform_specs()], module=__name__, qualname="Platform"
    )


class Outcome(StrEnum):
    """How one scrape attempt of one video ended. Exactly one per attempt."""

    OK = "ok"
    NOT_FOUND = "not_found"  # the platform says unambiguously the video is gone
    PRIVATE = "private"  # exists, not readable anonymously (private post/account, tombstone)
    GEO_RESTRICTED = "geo_restricted"  # exists, withheld in the viewer's region (TikTok cross_border_violation)
    LOGIN_REQUIRED = "login_required"  # exists, platform wants a login to show it
    BLOCKED = "blocked"  # challenge page, login wall without proof of deletion, suspicious status
    RATE_LIMITED = "rate_limited"  # 429 / platform rate limit after retries ran out
    QUOTA_EXHAUSTED = "quota_exhausted"  # daily API quota used up (YouTube): wait for reset
    UPSTREAM_ERROR = "upstream_error"  # 5xx after retries ran out
    TIMEOUT = "timeout"  # no answer in time after retries ran out
    PARSE_ERROR = "parse_error"  # payload changed shape; detail names the missing field
    CIRCUIT_OPEN = "circuit_open"  # not attempted: the platform's breaker tripped earlier in this run


#: Outcomes that say nothing about the video itself: retry later, never count as data.
TRANSIENT_OUTCOMES: frozenset[Outcome] = frozenset(
    {
        Outcome.BLOCKED,
        Outcome.RATE_LIMITED,
        Outcome.QUOTA_EXHAUSTED,
        Outcome.UPSTREAM_ERROR,
        Outcome.TIMEOUT,
        Outcome.CIRCUIT_OPEN,
    }
)

#: What each outcome means, whether it is transient (retry soon, says nothing about the video) and whether it
#: counts toward the ``not_found`` streak that marks a video unavailable. Seeded into ``meta.outcomes``.
OUTCOME_MEANINGS: dict[Outcome, str] = {
    Outcome.OK: "observed: the counters were read",
    Outcome.NOT_FOUND: "the platform says unambiguously the video is gone (deleted or never existed)",
    Outcome.PRIVATE: "exists but is not readable anonymously (private post or account, tombstone)",
    Outcome.GEO_RESTRICTED: "exists but is withheld in the region the scraper reads from",
    Outcome.LOGIN_REQUIRED: "exists; the platform wants a login to show it (age gate, rejected session)",
    Outcome.BLOCKED: "the platform refused this client (challenge, login wall, page shell); says nothing of the video",
    Outcome.RATE_LIMITED: "HTTP 429 or a platform rate limit after the retries ran out",
    Outcome.QUOTA_EXHAUSTED: "the daily API quota is used up (YouTube); waits for the reset",
    Outcome.UPSTREAM_ERROR: "HTTP 5xx or a connection error after the retries ran out",
    Outcome.TIMEOUT: "no answer in time after the retries ran out",
    Outcome.PARSE_ERROR: "the payload changed shape; the detail names the missing field",
    Outcome.CIRCUIT_OPEN: "not attempted: the platform's circuit breaker tripped earlier in the run",
}

#: After this many ``not_found`` outcomes in a row a video is marked unavailable and no longer scraped.
NOT_FOUND_STREAK_LIMIT = 3


@dataclass(frozen=True, slots=True)
class VideoRef:
    """A video identified without ambiguity: ``video_id == f"{platform}:{external_id}"``."""

    platform: Platform
    external_id: str
    url: str  # canonical URL
    account: str | None = None  # handle when the pasted URL names it

    @property
    def video_id(self) -> str:
        return f"{self.platform.value}:{self.external_id}"


@dataclass(frozen=True, slots=True)
class ShortLink:
    """A short link (``vm.tiktok.com/...``, ``tiktok.com/t/...``) that needs a redirect lookup."""

    platform: Platform
    url: str


@dataclass(frozen=True, slots=True)
class VideoToScrape:
    """What a platform client needs to scrape one registered video."""

    video_id: str
    platform: Platform
    external_id: str
    url: str
    account: str | None = None
    #: The instant this observation stands for. Real clients observe "now" and ignore it;
    #: the simulated platform returns the metrics as of this instant (reproducible backfills).
    observe_at: datetime | None = None
    #: When the video was registered (``registry.videos.added_at``); the simulated platform posts it before.
    added_at: datetime | None = None


@dataclass(slots=True)
class Observation:
    """One row of ``raw.snapshots``. A metric the platform hides is ``None``, never 0."""

    video_id: str
    observed_at: datetime
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    title: str | None = None  # title, or caption when the platform has no title
    account: str | None = None  # handle
    posted_at: datetime | None = None
    duration_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # platform-specific extras (reposts, quotes...)
    source: str = "unknown"  # "simulated", "youtube_api", "tiktok_web", "instagram_web", "x_syndication", "import"
    run_id: str | None = None


@dataclass(slots=True)
class Attempt:
    """One row of ``raw.scrape_attempts``."""

    video_id: str
    platform: Platform
    attempted_at: datetime
    outcome: Outcome
    http_status: int | None = None
    detail: str | None = None  # short, human-readable, never contains a secret
    duration_ms: float | None = None
    tries: int = 1  # HTTP requests spent on this attempt, retries included
    source: str = "unknown"
    run_id: str | None = None
    partition_key: str | None = None
    proxy_index: int | None = None  # which of the platform's proxies served it (0-based); None = no proxy


@dataclass(slots=True)
class ScrapeResult:
    """What a client yields per video: always an attempt; an observation only when ``outcome == ok``."""

    attempt: Attempt
    observation: Observation | None = None


class DiscoveryMode(StrEnum):
    """What discovery does with a watched account's new videos."""

    AUTO = "auto"  # register them at once (tracked like any video)
    REVIEW = "review"  # hold them in the inbox until accepted or rejected
    OFF = "off"  # account metrics only


@dataclass(frozen=True, slots=True)
class AccountRef:
    """An account identified by its handle: ``account_id == f"{platform}:{handle.lower()}"``.

    ``platform_account_id`` is the platform's stable id when the URL carries it (YouTube ``/channel/UC...``);
    then ``handle`` may be ``None`` until discovery learns it.
    """

    platform: Platform
    handle: str | None
    url: str  # canonical URL
    platform_account_id: str | None = None

    @property
    def account_id(self) -> str:
        key = self.handle.lower() if self.handle else self.platform_account_id
        return f"{self.platform.value}:{key}"


@dataclass(frozen=True, slots=True)
class AccountToDiscover:
    """What an account client needs to list one watched account's metrics and recent videos."""

    account_id: str
    platform: Platform
    handle: str | None
    url: str
    platform_account_id: str | None = None
    latest_n: int = 30
    since: datetime | None = None  # ignore videos posted before
    #: The instant this discovery stands for (the simulated platform answers as of it; real clients ignore it).
    observe_at: datetime | None = None
    added_at: datetime | None = None


@dataclass(slots=True)
class AccountObservation:
    """One row of ``raw.account_snapshots``. A count the platform hides is ``None``, never 0."""

    account_id: str
    observed_at: datetime
    followers: int | None
    following: int | None
    likes: int | None  # total likes/hearts received, where the platform exposes it
    video_count: int | None
    views: int | None  # total views, where the platform exposes it (YouTube)
    handle: str | None = None
    display_name: str | None = None
    platform_account_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    source: str = "unknown"
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class DiscoveredVideo:
    """A recent video of a watched account, as listed by the platform (newest first)."""

    ref: VideoRef
    posted_at: datetime | None = None
    title: str | None = None


@dataclass(slots=True)
class AccountAttempt:
    """One row of ``raw.account_attempts``: one discovery of one account, in the videos' outcome taxonomy."""

    account_id: str
    platform: Platform
    attempted_at: datetime
    outcome: Outcome
    http_status: int | None = None
    detail: str | None = None
    duration_ms: float | None = None
    tries: int = 1
    source: str = "unknown"
    run_id: str | None = None
    partition_key: str | None = None
    videos_listed: int | None = None  # None when the platform has no logged-out route for recent posts
    proxy_index: int | None = None  # which of the platform's proxies served its last request; None = no proxy


@dataclass(slots=True)
class AccountResult:
    """What an account client yields per account: always an attempt; metrics and videos when ``ok``."""

    attempt: AccountAttempt
    observation: AccountObservation | None = None
    videos: list[DiscoveredVideo] = field(default_factory=list)
