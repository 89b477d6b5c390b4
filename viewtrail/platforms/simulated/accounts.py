"""Simulated accounts: deterministic, made-up account metrics and posts (THIS IS A SIMULATION, not real data).

:func:`simulate_account` is a pure function of ``(account_id, at, seed)`` and the account's ``added_at``
(when it was watched): nothing depends on the calendar, so a scenario replayed at another date gives the
same curves, shifted. Every random-looking choice comes from ``blake2b`` (:data:`viewtrail.domain.hashing.SIMULATION`).

* Followers grow (or slowly shrink) log-linearly from a heavy-tailed size at ``added_at``, with a small daily
  wobble; following, likes and views totals follow the platform's public counters (``None`` where the
  platform shows none; a few YouTube channels hide their subscriber count).
* Posts come in weekly buckets counted from ``added_at``: a few per week, from a catalogue that starts
  ``catalogue_weeks`` before ``added_at`` up to ``at`` (never a future post). Post ids come from
  :func:`viewtrail.platforms.simulated.client.account_post_id`, which carries the posting time, so the simulated
  VIDEO client reports the same ``posted_at`` (and the same title) for a discovered video as the listing.
  Posts the video simulation has removed by ``at`` are not listed. A post's own traits (its view curve,
  whether it is removed) are keyed by its id like any simulated video's, and the id carries the absolute
  posting time: replayed at another date, the schedule and the account's counts shift, the posts' traits differ.
* Listings are as long as the real route's: YouTube and TikTok pages (50, 15) until ``latest_n``; Instagram
  the ~12 newest; X none at all (no logged-out route: ``videos_listed`` null, metrics only).
"""

from __future__ import annotations

import functools
import math
from collections.abc import AsyncGenerator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from viewtrail.clock import naive_utc, utc_now
from viewtrail.domain.hashing import SIMULATION
from viewtrail.domain.models import (
    AccountAttempt,
    AccountObservation,
    AccountResult,
    AccountToDiscover,
    Outcome,
    Platform,
)
from viewtrail.platforms.accounts.base import AccountClient, discovered_video, listing_limit
from viewtrail.platforms.simulated.client import (
    ACCOUNTS,
    DEFAULT_FAULT_RATE,
    account_post_id,
    simulate,
    video_profile,
)

__all__ = [
    "AccountProfile",
    "SimulatedAccount",
    "SimulatedAccountClient",
    "SimulatedPost",
    "account_profile",
    "listing_size",
    "post_schedule",
    "simulate_account",
]

_WEEK = timedelta(days=7)
_TRANSIENT_FAULTS = (Outcome.TIMEOUT, Outcome.UPSTREAM_ERROR, Outcome.RATE_LIMITED)
_FAULT_DETAILS = {
    Outcome.TIMEOUT: "simulated timeout",
    Outcome.UPSTREAM_ERROR: "simulated upstream error (HTTP 503)",
    Outcome.RATE_LIMITED: "simulated rate limit (HTTP 429)",
}
_FAULT_STATUS = {Outcome.UPSTREAM_ERROR: 503, Outcome.RATE_LIMITED: 429}
#: Share of YouTube channels that hide their subscriber count.
HIDDEN_SUBSCRIBERS_SHARE = 0.06
#: Posts per listing page of each platform's real route (None: no listing route logged out).
PAGE_SIZES: dict[Platform, int | None] = {
    Platform.YOUTUBE: 50,
    Platform.TIKTOK: 15,
    Platform.INSTAGRAM: 12,
    Platform.X: None,
}
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def listing_size(platform: Platform, account: AccountToDiscover) -> int | None:
    """How many posts the platform's real route returns for one discovery (``None``: no route)."""
    page = PAGE_SIZES[platform]
    if page is None:
        return None
    if platform is Platform.INSTAGRAM:
        return page  # one page comes with the profile
    return min(listing_limit(account), page * max(1, math.ceil(account.latest_n / page)))


@dataclass(frozen=True, slots=True)
class AccountProfile:
    """The time-independent traits of one simulated account."""

    account_id: str
    platform: Platform
    handle: str
    display_name: str
    platform_account_id: str
    sec_uid: str | None  # TikTok only
    followers_at_added: float
    growth_per_day: float  # log-growth of followers per day
    following: int
    likes_per_follower: float  # TikTok heart total per follower
    views_per_follower: float  # YouTube view total per subscriber
    posts_per_week: float
    catalogue_weeks: int  # how long before it was watched the account started posting
    followers_hidden: bool


def _digits(seed: int, account_id: str, name: str, first: str, length: int) -> str:
    number = SIMULATION.integer(seed, account_id, name, size=8)
    return (first + str(number).zfill(19))[:length]


def _b64(seed: int, account_id: str, name: str, length: int) -> str:
    raw = SIMULATION.digest(seed, account_id, name, size=48)
    return "".join(_B64[b % 64] for b in raw)[:length]


@functools.lru_cache(maxsize=16_384)
def account_profile(account_id: str, seed: int = 0) -> AccountProfile:
    """The deterministic traits of ``account_id`` ("{platform}:{handle or platform id}") under ``seed``."""
    prefix, _, key = account_id.partition(":")
    platform = Platform(prefix)

    def u(name: str) -> float:
        return SIMULATION.unit(seed, account_id, name)

    is_platform_id = platform is Platform.YOUTUBE and key.startswith("UC") and len(key) == 24
    handle = ACCOUNTS[platform][int(u("handle") * len(ACCOUNTS[platform]))] if is_platform_id or not key else key
    if platform is Platform.YOUTUBE:
        platform_id = key if is_platform_id else "UC" + _b64(seed, account_id, "channel", 22)
    elif platform is Platform.TIKTOK:
        platform_id = _digits(seed, account_id, "user-id", "68", 19)
    elif platform is Platform.INSTAGRAM:
        platform_id = _digits(seed, account_id, "user-id", "4", 11)
    else:
        platform_id = _digits(seed, account_id, "rest-id", "1", 19)
    # Log-uniform sizes from 300 to 3 million followers: a few big accounts, many small ones.
    followers = math.exp(math.log(300.0) + (math.log(3_000_000.0) - math.log(300.0)) * u("size") ** 1.5)
    return AccountProfile(
        account_id=account_id,
        platform=platform,
        handle=handle,
        display_name=" ".join(part.capitalize() for part in handle.replace("_", ".").split(".") if part),
        platform_account_id=platform_id,
        sec_uid="MS4wLjABAAAA" + _b64(seed, account_id, "sec-uid", 64) if platform is Platform.TIKTOK else None,
        followers_at_added=followers,
        growth_per_day=-0.0015 + 0.0095 * u("growth"),
        following=int(20 + 1500 * u("following") ** 2),
        likes_per_follower=4.0 + 36.0 * u("likes"),
        views_per_follower=40.0 + 400.0 * u("views"),
        posts_per_week=1.0 + 5.0 * u("cadence"),
        catalogue_weeks=8 + int(150 * u("catalogue")),
        followers_hidden=platform is Platform.YOUTUBE and u("hidden") < HIDDEN_SUBSCRIBERS_SHARE,
    )


@dataclass(frozen=True, slots=True)
class SimulatedPost:
    external_id: str
    posted_at: datetime
    title: str


@dataclass(frozen=True, slots=True)
class SimulatedAccount:
    """What the simulated platform reports for one account at one instant (metrics ``None`` when not public)."""

    account_id: str
    platform: Platform
    at: datetime
    outcome: Outcome
    handle: str
    display_name: str
    platform_account_id: str
    followers: int | None
    following: int | None
    likes: int | None
    video_count: int | None
    views: int | None
    extra: dict[str, object] = field(default_factory=dict)
    posts: tuple[SimulatedPost, ...] = ()  # newest first


def _week_posts(profile: AccountProfile, origin: datetime, week: int, seed: int) -> list[SimulatedPost]:
    """The posts of week ``week`` (0 = the week starting at ``origin``, the account's ``added_at``)."""
    if week < -profile.catalogue_weeks:
        return []
    aid = profile.account_id
    count = int(profile.posts_per_week * (0.4 + 1.2 * SIMULATION.unit(seed, aid, week, "posts")))
    posts = []
    for index in range(count):
        offset_s = int(SIMULATION.unit(seed, aid, week, index, "offset") * _WEEK.total_seconds())
        posted_at = origin + week * _WEEK + timedelta(seconds=offset_s)
        nonce = SIMULATION.integer(seed, aid, week, index, "nonce", size=4)
        external_id = account_post_id(profile.platform, posted_at, nonce)
        title = video_profile(f"{profile.platform.value}:{external_id}", seed).title
        posts.append(SimulatedPost(external_id, posted_at, title))
    return posts


def post_schedule(account_id: str, at: datetime, seed: int = 0, *, added_at: datetime) -> Iterator[SimulatedPost]:
    """Every post ``account_id`` published at or before ``at``, newest first, removed ones included."""
    origin = naive_utc(added_at).replace(microsecond=0)
    return _posts_before(account_profile(account_id, seed), origin, naive_utc(at), seed)


def _posts_before(profile: AccountProfile, origin: datetime, at: datetime, seed: int) -> Iterator[SimulatedPost]:
    """Posts published at or before ``at``, newest first."""
    week = math.floor((at - origin) / _WEEK)
    while week >= -profile.catalogue_weeks:
        for post in sorted(_week_posts(profile, origin, week, seed), key=lambda p: p.posted_at, reverse=True):
            if post.posted_at <= at:
                yield post
        week -= 1


def _post_count(profile: AccountProfile, origin: datetime, at: datetime, seed: int) -> int:
    week = math.floor((at - origin) / _WEEK)
    full = sum(
        int(profile.posts_per_week * (0.4 + 1.2 * SIMULATION.unit(seed, profile.account_id, w, "posts")))
        for w in range(-profile.catalogue_weeks, week)
    )
    return full + sum(1 for p in _week_posts(profile, origin, week, seed) if p.posted_at <= at)


def _round_subscribers(count: int) -> int:
    """YouTube shows subscriber counts above 1,000 rounded down to three significant figures."""
    if count < 1000:
        return count
    step = 10 ** (len(str(count)) - 3)
    return count - count % step


def simulate_account(
    account_id: str,
    at: datetime,
    seed: int = 0,
    *,
    added_at: datetime,
    fault_rate: float = DEFAULT_FAULT_RATE,
    max_posts: int = 50,
) -> SimulatedAccount:
    """The simulated platform's answer for ``account_id`` at ``at``, watched since ``added_at`` (naive UTC).

    ``posts`` holds the ``max_posts`` newest posts published by ``at`` (none for X), newest first.
    """
    at = naive_utc(at).replace(microsecond=0)
    origin = naive_utc(added_at).replace(microsecond=0)
    profile = account_profile(account_id, seed)
    platform = profile.platform
    days = (at - origin).total_seconds() / 86_400.0
    wobble = 1.0 + 0.004 * (SIMULATION.unit(seed, account_id, math.floor(days), "wobble") - 0.5)
    followers = max(0, int(profile.followers_at_added * math.exp(profile.growth_per_day * days) * wobble))
    posted = _post_count(profile, origin, at, seed)
    video_count: int | None = posted
    extra: dict[str, object] = {"simulated": True}
    following: int | None = profile.following + int(max(0.0, days) * 0.05)
    likes: int | None = None
    views: int | None = None
    shown_followers: int | None = followers
    if platform is Platform.YOUTUBE:
        following = None
        views = int(followers * profile.views_per_follower + posted * 500)
        shown_followers = None if profile.followers_hidden else _round_subscribers(followers)
        if profile.followers_hidden:
            extra["subscribers_hidden"] = True
    elif platform is Platform.TIKTOK:
        likes = int(followers * profile.likes_per_follower)
        extra["sec_uid"] = profile.sec_uid
    elif platform is Platform.X:
        extra.update(posts=posted * 3, media_posts=posted)
        video_count = None  # X counts posts and media, not videos
    posts: list[SimulatedPost] = []
    if PAGE_SIZES[platform] is not None:
        for post in _posts_before(profile, origin, at, seed):
            if len(posts) >= max_posts:
                break
            state = simulate(f"{platform.value}:{post.external_id}", at, seed, tracked_at=at, fault_rate=0.0)
            if state.outcome is not Outcome.NOT_FOUND:  # removed posts drop out of the listing
                posts.append(post)
    hour = math.floor(days * 24)
    outcome = Outcome.OK
    if fault_rate > 0 and SIMULATION.unit(seed, account_id, hour, "account-fault") < fault_rate:
        pick = SIMULATION.unit(seed, account_id, hour, "account-fault-kind")
        outcome = _TRANSIENT_FAULTS[int(pick * len(_TRANSIENT_FAULTS))]
    return SimulatedAccount(
        account_id=account_id,
        platform=platform,
        at=at,
        outcome=outcome,
        handle=profile.handle,
        display_name=profile.display_name,
        platform_account_id=profile.platform_account_id,
        followers=shown_followers,
        following=following,
        likes=likes,
        video_count=video_count,
        views=views,
        extra=extra,
        posts=tuple(posts),
    )


class SimulatedAccountClient(AccountClient):
    """An :class:`AccountClient` over :func:`simulate_account` (no network, no sleeps).

    ``attempted_at``/``observed_at`` are ``account.observe_at`` (or now), naive UTC in whole seconds; the
    account counts as watched since ``account.added_at`` (or the observed instant when unknown).
    """

    observes_past = True
    source = "simulated"

    def __init__(self, platform: Platform | str, seed: int = 0, fault_rate: float | None = None, **_: object):
        self.platform = Platform(platform)
        self.seed = seed
        self.fault_rate = DEFAULT_FAULT_RATE if fault_rate is None else fault_rate

    def result_for(
        self, account: AccountToDiscover, *, run_id: str | None = None, partition_key: str | None = None
    ) -> AccountResult:
        """The one result ``discover`` yields for ``account`` (synchronous)."""
        at = naive_utc(account.observe_at or utc_now()).replace(microsecond=0)
        size = listing_size(self.platform, account)
        state = simulate_account(
            account.account_id,
            at,
            self.seed,
            added_at=account.added_at or at,
            fault_rate=self.fault_rate,
            max_posts=size or 0,
        )
        ok = state.outcome is Outcome.OK
        videos = [
            video
            for post in state.posts
            if (
                video := discovered_video(
                    self.platform, post.external_id, account=state.handle, posted_at=post.posted_at, title=post.title
                )
            )
        ]
        attempt = AccountAttempt(
            account_id=account.account_id,
            platform=self.platform,
            attempted_at=at,
            outcome=state.outcome,
            http_status=200 if ok else _FAULT_STATUS.get(state.outcome),
            detail=_FAULT_DETAILS.get(state.outcome),
            duration_ms=0.0,
            tries=1,
            source=self.source,
            run_id=run_id,
            partition_key=partition_key,
            videos_listed=(len(videos) if size is not None else None) if ok else None,
        )
        if not ok:
            return AccountResult(attempt=attempt)
        observation = AccountObservation(
            account_id=account.account_id,
            observed_at=at,
            followers=state.followers,
            following=state.following,
            likes=state.likes,
            video_count=state.video_count,
            views=state.views,
            handle=state.handle,
            display_name=state.display_name,
            platform_account_id=state.platform_account_id,
            extra=dict(state.extra),
            source=self.source,
            run_id=run_id,
        )
        return AccountResult(attempt=attempt, observation=observation, videos=videos)

    async def discover(
        self,
        accounts: Iterable[AccountToDiscover],
        *,
        run_id: str | None = None,
        partition_key: str | None = None,
    ) -> AsyncGenerator[AccountResult, None]:
        for account in self._own_accounts(accounts):
            yield self.result_for(account, run_id=run_id, partition_key=partition_key)
