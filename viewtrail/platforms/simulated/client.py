"""The simulated platform: deterministic, made-up metrics for any video at any instant.

THIS IS A SIMULATION. Nothing here is real platform data. It is what ``make demo``, the tests and the
benchmarks run on (``VIEWTRAIL_{P}_MODE=simulated``, the default), and what the fake platform HTTP server
(:mod:`viewtrail.testing.fake_platform`) renders in each real platform's wire format.

:func:`simulate` is a pure function of ``(video_id, at, tracked_at, seed)``: every random-looking choice comes
from ``blake2b`` (:data:`viewtrail.domain.hashing.SIMULATION`) of the video id, the seed and (for per-hour events)
the hour since posting, never from Python's salted ``hash()`` or a global RNG, so backfills and re-runs
reproduce the same numbers in any process.
Nothing depends on the calendar: a video is posted some time before it was tracked (``tracked_at``, the
registry's ``added_at``), so a scenario replayed at another date gives the same curves, shifted.
The model is described in ``docs/simulation.md``.
"""

from __future__ import annotations

import base64
import functools
import math
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from viewtrail.clock import naive_utc, utc_now
from viewtrail.domain.hashing import SIMULATION
from viewtrail.domain.models import Attempt, Observation, Outcome, Platform, ScrapeResult, VideoRef, VideoToScrape
from viewtrail.domain.urls import canonical_url
from viewtrail.platforms.base import PlatformClient
from viewtrail.platforms.instagram.client import pk_to_shortcode, shortcode_to_pk

__all__ = [
    "ACCOUNTS",
    "account_post_id",
    "account_post_time",
    "DEFAULT_FAULT_RATE",
    "DISAPPEAR_RATE",
    "LAUNCH_SHARE",
    "SimulatedClient",
    "SimulatedState",
    "simulate",
    "video_profile",
]

#: Share of videos tracked at launch: posted 3 minutes to 2 hours before they were tracked. The others are
#: catalogue videos, posted 2 to 240 days (log-uniform) before they were tracked.
LAUNCH_SHARE = 0.5
LAUNCH_AGE_H = (0.05, 2.0)
CATALOGUE_AGE_H = (48.0, 240 * 24.0)

#: Share of (video, hour) pairs whose scrape fails transiently (timeout / upstream_error / rate_limited).
DEFAULT_FAULT_RATE = 0.015
#: Share of videos that disappear (``not_found`` from a deterministic instant 1 to 10 days after tracking on).
DISAPPEAR_RATE = 0.03
#: Share of (video, hour) pairs where the platform reports views ~1% low (a count correction).
CORRECTION_RATE = 0.03
CORRECTION_FACTOR = 0.99

_TRANSIENT_FAULTS = (Outcome.TIMEOUT, Outcome.UPSTREAM_ERROR, Outcome.RATE_LIMITED)

_HANDLES = (
    "ana.cooks",
    "dailyfitlab",
    "mika_travels",
    "urbanbeats",
    "thegardenguy",
    "techtinker",
    "lena.draws",
    "coastalkitchen",
    "pixelpuppy",
    "quietminutes",
    "streetsoccer",
    "moonlitvinyl",
)
#: A small pool per platform so several videos share an account (outlier-vs-account-median metrics work).
ACCOUNTS: dict[Platform, tuple[str, ...]] = {
    Platform.TIKTOK: _HANDLES,
    Platform.INSTAGRAM: tuple(h.replace("-", "_") for h in _HANDLES),
    Platform.YOUTUBE: tuple("".join(part.capitalize() for part in h.replace("_", ".").split(".")) for h in _HANDLES),
    Platform.X: tuple(h.replace(".", "_") for h in _HANDLES),
}

_ADJECTIVES = ("Quick", "Honest", "Tiny", "Late-night", "Budget", "Rainy-day", "Lazy", "Perfect", "Weird", "Simple")
_TOPICS = (
    "pasta",
    "morning run",
    "city walk",
    "bass line",
    "tomato harvest",
    "desk setup",
    "sketchbook tour",
    "fish tacos",
    "puppy training",
    "breathing break",
    "street match",
    "record haul",
)
_SUFFIXES = ("you need to try", "in 60 seconds", "(part 2)", "gone wrong", "- day 14", "I wish I knew sooner")

_DURATION_RANGE_S: dict[Platform, tuple[float, float]] = {
    Platform.TIKTOK: (7.0, 180.0),
    Platform.YOUTUBE: (25.0, 1500.0),
    Platform.INSTAGRAM: (5.0, 90.0),
    Platform.X: (4.0, 140.0),
}


#: Ids of the posts of simulated accounts carry their posting time, as real TikTok, X and Instagram ids do
#: (YouTube ids carry none: there the simulation packs it into the id's 64 bits). A 16-bit check tells them
#: apart from other ids, whose simulated posting time stays relative to when they were tracked.
_X_EPOCH_MS = 1288834974657  # X snowflake epoch
_INSTAGRAM_EPOCH_MS = 1314220021721  # Instagram media id epoch
_NONCE_BITS = {Platform.TIKTOK: 16, Platform.YOUTUBE: 16, Platform.X: 6, Platform.INSTAGRAM: 7}


def _post_check(platform: Platform, epoch_s: int, nonce: int) -> int:
    return SIMULATION.integer("account-post", platform.value, epoch_s, nonce, size=2)


def account_post_id(platform: Platform | str, posted_at: datetime, nonce: int) -> str:
    """The external id of a simulated account's post published at ``posted_at`` (whole seconds, naive UTC)."""
    platform = Platform(platform)
    epoch_s = int(naive_utc(posted_at).replace(tzinfo=UTC).timestamp())
    nonce &= (1 << _NONCE_BITS[platform]) - 1
    low = (nonce << 16) | _post_check(platform, epoch_s, nonce)
    if platform is Platform.TIKTOK:
        return str((epoch_s << 32) | low)
    if platform is Platform.X:
        return str(((epoch_s * 1000 - _X_EPOCH_MS) << 22) | low)
    if platform is Platform.INSTAGRAM:
        return pk_to_shortcode(((epoch_s * 1000 - _INSTAGRAM_EPOCH_MS) << 23) | low)
    raw = ((epoch_s << 32) | low).to_bytes(8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_post_id(platform: Platform, external_id: str) -> tuple[int, int, int] | None:
    """``(epoch_s, nonce, check)`` packed in ``external_id`` by :func:`account_post_id`, if it has that layout."""
    try:
        if platform is Platform.TIKTOK:
            number = int(external_id) if external_id.isdigit() else -1
            epoch_s, low = number >> 32, number & 0xFFFFFFFF
        elif platform is Platform.X:
            number = int(external_id) if external_id.isdigit() else -1
            millis, low = (number >> 22) + _X_EPOCH_MS, number & 0x3FFFFF
            epoch_s = millis // 1000 if millis % 1000 == 0 else -1
        elif platform is Platform.INSTAGRAM:
            number = shortcode_to_pk(external_id)
            millis, low = (number >> 23) + _INSTAGRAM_EPOCH_MS, number & 0x7FFFFF
            epoch_s = millis // 1000 if millis % 1000 == 0 else -1
        else:
            if len(external_id) != 11:
                return None
            number = int.from_bytes(base64.urlsafe_b64decode(external_id + "="), "big")
            epoch_s, low = number >> 32, number & 0xFFFFFFFF
    except ValueError:
        return None
    if number < 0 or epoch_s <= 0:
        return None
    return epoch_s, low >> 16, low & 0xFFFF


def account_post_time(video_id: str) -> datetime | None:
    """When a simulated account published ``video_id`` ("{platform}:{external_id}"), or ``None`` when the id
    is not one of theirs (see :func:`account_post_id`)."""
    prefix, sep, external_id = video_id.partition(":")
    try:
        platform = Platform(prefix)
    except ValueError:
        return None
    decoded = _decode_post_id(platform, external_id) if sep else None
    if decoded is None:
        return None
    epoch_s, nonce, check = decoded
    if nonce >> _NONCE_BITS[platform] or check != _post_check(platform, epoch_s, nonce):
        return None
    return datetime.fromtimestamp(epoch_s, UTC).replace(tzinfo=None)


@functools.lru_cache(maxsize=65_536)
def stable_video_key(video_id: str) -> str:
    """What a video's traits (and its replay schedule, see :mod:`viewtrail.planning.scheduling`) are hashed from: the
    id itself, except for a simulated account's post, whose id carries its absolute posting time (as real
    TikTok, X and Instagram ids do). Its key is the time-independent part (the nonce, drawn relative to when the
    account was watched), so the same simulation replayed at another date gives the same videos, observed at
    the same offsets, shifted in time."""
    if account_post_time(video_id) is None:
        return video_id
    platform = Platform(video_id.partition(":")[0])
    decoded = _decode_post_id(platform, video_id.partition(":")[2])
    assert decoded is not None
    return f"{platform.value}:account-post:{decoded[1]}"


def _platform_of(video_id: str) -> Platform:
    """The platform whose traits a video id is simulated with. Not :func:`viewtrail.domain.urls.split_video_id`
    (which validates and refuses): the simulation answers for any id, an unknown prefix counting as TikTok, and
    its outputs for such ids must stay what they were."""
    prefix, sep, _ = video_id.partition(":")
    try:
        return Platform(prefix) if sep else Platform.TIKTOK
    except ValueError:
        return Platform.TIKTOK


@dataclass(frozen=True, slots=True)
class VideoProfile:
    """The time-independent traits of one simulated video."""

    video_id: str
    platform: Platform
    launch: bool  # tracked at launch (young) rather than a catalogue video
    age_at_tracking_h: float  # hours between posting and being tracked
    account: str
    title: str
    duration_s: float
    scale: float  # views the launch burst converges to
    burst_tau_h: float  # launch burst time constant (hours)
    tail_tau_h: float  # long-tail time scale (hours)
    tail_weight: float  # long-tail views per log-unit, relative to scale
    like_rate: float
    comment_rate: float
    share_rate: float
    save_rate: float
    views_hidden: bool  # Instagram: no public view count for this post
    likes_hidden: bool  # Instagram: author hid the like count
    disappears_after_h: float | None  # hours after posting the video is removed (None: never)
    #: A simulated account's post: published at this instant whenever it was tracked (see account_post_id).
    published_at: datetime | None = None

    def posted_at(self, tracked_at: datetime) -> datetime:
        """When the video was posted, given when it was tracked (naive UTC, whole seconds)."""
        if self.published_at is not None:
            return self.published_at
        posted = naive_utc(tracked_at) - timedelta(hours=self.age_at_tracking_h)
        return posted.replace(microsecond=0)

    def disappears_at(self, tracked_at: datetime) -> datetime | None:
        if self.disappears_after_h is None:
            return None
        return self.posted_at(tracked_at) + timedelta(hours=self.disappears_after_h)


@dataclass(frozen=True, slots=True)
class SimulatedState:
    """What the simulated platform reports for one video at one instant.

    ``outcome`` is ``ok`` (metrics filled), a transient fault, or ``not_found`` once the video disappeared.
    The metrics and content fields are filled for every outcome (what the curve says), so the fake server
    and tests can compare; clients only emit an observation when ``outcome`` is ``ok``.
    A metric the platform does not expose is ``None``.
    """

    video_id: str
    platform: Platform
    at: datetime
    outcome: Outcome
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    title: str
    account: str
    posted_at: datetime
    duration_s: float
    corrected: bool  # views reported ~1% low this hour (a platform count correction)


def video_account(video_id: str, seed: int = 0) -> str:
    """The handle of the account that published ``video_id`` under ``seed``: the ``account`` of its profile, and so
    what a scrape of it reports (a watched account's post reports the registry's handle instead). One hash, not
    the profile's dozen: a fill of a million registry rows can ask it for each."""
    platform = _platform_of(video_id)
    handles = ACCOUNTS[platform]
    return handles[int(SIMULATION.unit(seed, stable_video_key(video_id), "account") * len(handles))]


@functools.lru_cache(maxsize=65_536)  # pure, and hashing a dozen traits dominates simulate()
def video_profile(video_id: str, seed: int = 0) -> VideoProfile:
    """The deterministic traits of ``video_id`` ("{platform}:{external_id}") under ``seed``."""
    platform = _platform_of(video_id)

    key = stable_video_key(video_id)

    def u(name: str) -> float:
        return SIMULATION.unit(seed, key, name)

    launch = u("launch") < LAUNCH_SHARE
    if launch:
        age_h = LAUNCH_AGE_H[0] + (LAUNCH_AGE_H[1] - LAUNCH_AGE_H[0]) * u("age")
    else:
        low_h, high_h = CATALOGUE_AGE_H
        age_h = math.exp(math.log(low_h) + (math.log(high_h) - math.log(low_h)) * u("age"))
    account = video_account(video_id, seed)
    title = " ".join(
        (
            _ADJECTIVES[int(u("t1") * len(_ADJECTIVES))],
            _TOPICS[int(u("t2") * len(_TOPICS))],
            _SUFFIXES[int(u("t3") * len(_SUFFIXES))],
        )
    )
    low, high = _DURATION_RANGE_S[platform]
    duration_s = float(round(low + (high - low) * u("duration") ** 2))
    # Heavy tail: Pareto(alpha=1.15) from 1,500 views, times an account multiplier (some accounts are bigger).
    account_multiplier = 0.5 + 2.5 * SIMULATION.unit(seed, platform.value, account, "account-size") ** 2
    pareto = (1.0 - u("scale")) ** (-1.0 / 1.15)
    scale = min(1_500.0 * pareto * account_multiplier, 60_000_000.0)
    disappears = u("disappears") < DISAPPEAR_RATE
    published_at = account_post_time(video_id)
    # Catalogue videos that disappear do so after they were tracked: a tracker only notices removals it sees.
    disappear_floor_h = 24.0 + (0.0 if launch or published_at is not None else age_h)
    disappears_after_h = disappear_floor_h + int(u("disappear-day") * 9 * 24) if disappears else None
    return VideoProfile(
        video_id=video_id,
        platform=platform,
        launch=launch,
        age_at_tracking_h=round(age_h * 3600.0) / 3600.0,
        account=account,
        title=title,
        duration_s=duration_s,
        scale=scale,
        burst_tau_h=4.0 + 44.0 * u("tau"),
        tail_tau_h=24.0 * (5.0 + 25.0 * u("tau2")),
        tail_weight=0.03 + 0.25 * u("tail"),
        like_rate=0.015 + 0.11 * u("likes"),
        comment_rate=0.0005 + 0.01 * u("comments"),
        share_rate=0.0005 + 0.02 * u("shares"),
        save_rate=0.0005 + 0.02 * u("saves"),
        views_hidden=platform is Platform.INSTAGRAM and u("views-hidden") < 0.30,
        likes_hidden=platform is Platform.INSTAGRAM and u("likes-hidden") < 0.05,
        disappears_after_h=disappears_after_h,
        published_at=published_at,
    )


def _cumulative_views(profile: VideoProfile, hours: float) -> float:
    if hours <= 0:
        return 0.0
    burst = 1.0 - math.exp(-hours / profile.burst_tau_h)
    tail = profile.tail_weight * math.log1p(hours / profile.tail_tau_h)
    return profile.scale * (burst + tail)


def simulate(
    video_id: str, at: datetime, seed: int = 0, *, tracked_at: datetime, fault_rate: float = DEFAULT_FAULT_RATE
) -> SimulatedState:
    """The simulated platform's answer for ``video_id`` at ``at`` for a video tracked since ``tracked_at``
    (naive UTC; aware datetimes are converted).

    Pure and deterministic. Before ``posted_at`` the counts are the posted_at values (zeros).
    """
    at = naive_utc(at)
    profile = video_profile(video_id, seed)
    platform = profile.platform
    posted_at = profile.posted_at(tracked_at)
    disappears_at = profile.disappears_at(tracked_at)
    hours = (at - posted_at).total_seconds() / 3600.0
    # Per-hour events are keyed by the hour since posting, not the calendar hour: a replay at another date
    # draws the same faults and corrections.
    hour_bucket = math.floor(hours)
    key = stable_video_key(video_id)

    raw_views = _cumulative_views(profile, hours)
    corrected = hours > 1 and SIMULATION.unit(seed, key, hour_bucket, "correction") < CORRECTION_RATE
    # Engagement follows the uncorrected curve so it stays monotone; only the view count is corrected.
    views = int(raw_views * (CORRECTION_FACTOR if corrected else 1.0))
    likes = int(raw_views * profile.like_rate)
    comments = int(raw_views * profile.comment_rate)
    shares: int | None = int(raw_views * profile.share_rate)
    saves: int | None = int(raw_views * profile.save_rate)
    views_out: int | None = views
    likes_out: int | None = likes
    if platform is Platform.YOUTUBE:
        shares = saves = None  # the Data API exposes neither
    elif platform is Platform.X:
        saves = None  # bookmarks are not public
    elif platform is Platform.INSTAGRAM:
        saves = None  # save counts are visible to the author only
        if profile.views_hidden:
            views_out = None
        if profile.likes_hidden:  # Instagram's switch hides likes and views together
            likes_out = views_out = None

    if disappears_at is not None and at >= disappears_at:
        outcome = Outcome.NOT_FOUND
    elif fault_rate > 0 and SIMULATION.unit(seed, key, hour_bucket, "fault") < fault_rate:
        pick = SIMULATION.unit(seed, key, hour_bucket, "fault-kind")
        outcome = _TRANSIENT_FAULTS[int(pick * len(_TRANSIENT_FAULTS))]
    else:
        outcome = Outcome.OK

    return SimulatedState(
        video_id=video_id,
        platform=platform,
        at=at,
        outcome=outcome,
        views=views_out,
        likes=likes_out,
        comments=comments,
        shares=shares,
        saves=saves,
        title=profile.title,
        account=profile.account,
        posted_at=posted_at,
        duration_s=profile.duration_s,
        corrected=corrected,
    )


_FAULT_DETAILS = {
    Outcome.TIMEOUT: "simulated timeout",
    Outcome.UPSTREAM_ERROR: "simulated upstream error (HTTP 503)",
    Outcome.RATE_LIMITED: "simulated rate limit (HTTP 429)",
    Outcome.NOT_FOUND: "simulated: the video was removed",
}
_FAULT_STATUS = {Outcome.UPSTREAM_ERROR: 503, Outcome.RATE_LIMITED: 429, Outcome.NOT_FOUND: 404}


class SimulatedClient(PlatformClient):
    """A :class:`~viewtrail.platforms.base.PlatformClient` over :func:`simulate` (no network, no sleeps).

    ``observed_at`` and ``attempted_at`` are ``video.observe_at`` (or now), naive UTC truncated to seconds.
    The video counts as tracked since ``video.added_at`` (or the observed instant when unknown).
    """

    observes_past = True
    source = "simulated"

    def __init__(self, platform: Platform | str, seed: int = 0, fault_rate: float | None = None, **_: object):
        self.platform = Platform(platform)
        self.seed = seed
        self.fault_rate = DEFAULT_FAULT_RATE if fault_rate is None else fault_rate

    def result_for(
        self, video: VideoToScrape, *, run_id: str | None = None, partition_key: str | None = None
    ) -> ScrapeResult:
        """The one result ``scrape`` yields for ``video`` (synchronous)."""
        at = naive_utc(video.observe_at or utc_now()).replace(microsecond=0)
        tracked_at = video.added_at or at
        state = simulate(video.video_id, at, self.seed, tracked_at=tracked_at, fault_rate=self.fault_rate)
        attempt = Attempt(
            video_id=video.video_id,
            platform=self.platform,
            attempted_at=at,
            outcome=state.outcome,
            http_status=200 if state.outcome is Outcome.OK else _FAULT_STATUS.get(state.outcome),
            detail=_FAULT_DETAILS.get(state.outcome),
            duration_ms=0.0,
            tries=1,
            source=self.source,
            run_id=run_id,
            partition_key=partition_key,
        )
        if state.outcome is not Outcome.OK:
            return ScrapeResult(attempt=attempt)
        observation = Observation(
            video_id=video.video_id,
            observed_at=at,
            views=state.views,
            likes=state.likes,
            comments=state.comments,
            shares=state.shares,
            saves=state.saves,
            title=state.title,
            # A simulated account's post belongs to that account, which the registry knows by its handle.
            account=video.account if video.account and account_post_time(video.video_id) else state.account,
            posted_at=state.posted_at,
            duration_s=state.duration_s,
            extra={"simulated": True},
            source=self.source,
            run_id=run_id,
        )
        return ScrapeResult(attempt=attempt, observation=observation)

    async def scrape(
        self,
        videos: Iterable[VideoToScrape],
        *,
        run_id: str | None = None,
        partition_key: str | None = None,
    ) -> AsyncGenerator[ScrapeResult, None]:
        for video in self._own_videos(videos):
            yield self.result_for(video, run_id=run_id, partition_key=partition_key)

    async def resolve_short_link(self, url: str) -> VideoRef:
        """TikTok only: a short link "redirects" to a deterministic simulated video (same link, same video)."""
        if self.platform is not Platform.TIKTOK:
            raise NotImplementedError(f"{self.platform.value} has no short links to resolve")
        number = int.from_bytes(SIMULATION.digest(self.seed, "short-link", url.strip())[:8], "big")
        external_id = "7" + str(number)[:18].zfill(18)
        video_id = f"tiktok:{external_id}"
        account = video_profile(video_id, self.seed).account
        return VideoRef(Platform.TIKTOK, external_id, canonical_url(Platform.TIKTOK, external_id, account), account)
