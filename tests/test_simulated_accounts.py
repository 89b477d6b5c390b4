"""Simulated accounts: deterministic, relative to when the account was watched, consistent with the videos."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from viewtrail.domain.models import AccountToDiscover, Outcome, Platform, VideoToScrape
from viewtrail.platforms import build_client, scrape_sync
from viewtrail.platforms.accounts import build_account_client, discover_sync
from viewtrail.platforms.simulated.accounts import post_schedule, simulate_account
from viewtrail.platforms.simulated.client import account_post_id, account_post_time, simulate

ADDED = datetime(2026, 3, 2, 9, 30)


def account(platform: Platform, handle: str, at: datetime, added_at: datetime = ADDED, **kw) -> AccountToDiscover:
    return AccountToDiscover(
        account_id=f"{platform.value}:{handle}",
        platform=platform,
        handle=handle,
        url=f"https://example.invalid/{handle}",
        observe_at=at,
        added_at=added_at,
        **kw,
    )


def discover_one(platform: Platform, acc: AccountToDiscover, **kw):
    client = build_account_client(platform, "simulated", fault_rate=0.0, **kw)
    [result] = discover_sync(client, [acc])
    return result


@pytest.mark.parametrize("platform", list(Platform))
def test_same_inputs_same_answer_and_seed_changes_it(platform):
    at = ADDED + timedelta(days=10, hours=3)
    first = discover_one(platform, account(platform, "ana.cooks", at))
    again = discover_one(platform, account(platform, "ana.cooks", at))
    assert first == again
    other_seed = discover_one(platform, account(platform, "ana.cooks", at), seed=7)
    assert other_seed.observation.platform_account_id != first.observation.platform_account_id
    assert [v.ref for v in other_seed.videos] != [v.ref for v in first.videos] or platform is Platform.X


@pytest.mark.parametrize("platform", list(Platform))
def test_answers_are_relative_to_added_at_not_the_calendar(platform):
    shift = timedelta(days=400)
    here = simulate_account(f"{platform.value}:lena.draws", ADDED + timedelta(days=5), added_at=ADDED, fault_rate=0)
    later = simulate_account(
        f"{platform.value}:lena.draws", ADDED + shift + timedelta(days=5), added_at=ADDED + shift, fault_rate=0
    )
    assert (here.followers, here.following, here.video_count) == (later.followers, later.following, later.video_count)
    account_id = f"{platform.value}:lena.draws"
    at = ADDED + timedelta(days=5)
    schedule = [p.posted_at + shift for p in post_schedule(account_id, at, added_at=ADDED)]
    assert schedule == [p.posted_at for p in post_schedule(account_id, at + shift, added_at=ADDED + shift)]


@pytest.mark.parametrize("platform", [Platform.TIKTOK, Platform.YOUTUBE, Platform.INSTAGRAM])
def test_no_future_posts_newest_first_and_new_posts_appear_over_time(platform):
    handle = "urbanbeats"
    early = discover_one(platform, account(platform, handle, ADDED + timedelta(hours=1)))
    late = discover_one(platform, account(platform, handle, ADDED + timedelta(days=21)))
    for result in (early, late):
        posted = [v.posted_at for v in result.videos]
        assert posted and all(p <= result.attempt.attempted_at for p in posted)
        assert posted == sorted(posted, reverse=True)
        assert result.attempt.videos_listed == len(result.videos) <= max(30, 50)
    # Posts before it was watched form a catalogue; three weeks later there are newer ones on top.
    assert late.videos[0].posted_at > ADDED and early.videos[0].posted_at <= ADDED + timedelta(hours=1)
    assert late.observation.video_count > early.observation.video_count


def test_listing_sizes_follow_each_platforms_route():
    at = ADDED + timedelta(days=30)
    assert len(discover_one(Platform.INSTAGRAM, account(Platform.INSTAGRAM, "dailyfitlab", at)).videos) <= 12
    tiktok = discover_one(Platform.TIKTOK, account(Platform.TIKTOK, "dailyfitlab", at, latest_n=20))
    assert len(tiktok.videos) == 30  # two pages of 15
    x = discover_one(Platform.X, account(Platform.X, "dailyfitlab", at))
    assert x.attempt.outcome is Outcome.OK and x.attempt.videos_listed is None and x.videos == []
    assert x.observation.followers is not None and x.observation.video_count is None


@pytest.mark.parametrize("platform", list(Platform))
def test_followers_non_negative_and_plausible_over_a_year(platform):
    for i in range(25):
        account_id = f"{platform.value}:creator{i}"
        previous = None
        for day in range(0, 366, 61):
            sim = simulate_account(account_id, ADDED + timedelta(days=day), added_at=ADDED, fault_rate=0)
            if sim.followers is None:
                assert platform is Platform.YOUTUBE and sim.extra["subscribers_hidden"] is True
                continue
            assert 0 <= sim.followers <= 60_000_000
            if previous:  # at most a few percent a week either way
                assert 0.5 * previous <= sim.followers <= 4.0 * previous
            previous = sim.followers


def test_some_youtube_channels_hide_their_subscriber_count_as_null():
    hidden = [
        simulate_account(f"youtube:chan{i}", ADDED, added_at=ADDED, fault_rate=0).followers is None for i in range(200)
    ]
    assert 0 < sum(hidden) < 40


@pytest.mark.parametrize("platform", [Platform.TIKTOK, Platform.YOUTUBE, Platform.INSTAGRAM])
def test_discovered_videos_scrape_with_the_listed_posted_at_and_title(platform):
    at = ADDED + timedelta(days=9)
    result = discover_one(platform, account(platform, "moonlitvinyl", at))
    video_client = build_client(platform, "simulated", fault_rate=0.0)
    # The registry tracks a discovered video from the discovery on: its added_at is the discovery instant.
    videos = [
        VideoToScrape(v.ref.video_id, platform, v.ref.external_id, v.ref.url, v.ref.account, observe_at=at, added_at=at)
        for v in result.videos
    ]
    scraped = {r.attempt.video_id: r for r in scrape_sync(video_client, videos)}
    for listed in result.videos:
        observation = scraped[listed.ref.video_id].observation
        assert observation is not None
        assert (observation.posted_at, observation.title, observation.account) == (
            listed.posted_at,
            listed.title,
            "moonlitvinyl",
        )


def test_removed_posts_drop_out_of_the_listing():
    for i in range(40):
        sim = simulate_account(f"tiktok:poster{i}", ADDED + timedelta(days=60), added_at=ADDED, fault_rate=0)
        for post in sim.posts:
            state = simulate(f"tiktok:{post.external_id}", sim.at, tracked_at=sim.at, fault_rate=0)
            assert state.outcome is Outcome.OK


def test_post_ids_carry_their_posting_time_and_other_ids_do_not():
    posted = datetime(2026, 4, 5, 6, 7, 8)
    for platform in Platform:
        external_id = account_post_id(platform, posted, 12345)
        assert account_post_time(f"{platform.value}:{external_id}") == posted
    for video_id in (
        "tiktok:7300000000000000001",
        "youtube:dQw4w9WgXcQ",
        "instagram:Chunk8-jurw",
        "x:1703436713362870723",
    ):
        assert account_post_time(video_id) is None


def test_transient_faults_are_deterministic_and_carry_no_metrics():
    client = build_account_client(Platform.TIKTOK, "simulated", fault_rate=0.5)
    accounts = [account(Platform.TIKTOK, f"f{i}", ADDED + timedelta(hours=i)) for i in range(30)]
    first = list(discover_sync(client, accounts))
    assert first == list(discover_sync(client, accounts))
    failed = [r for r in first if r.attempt.outcome is not Outcome.OK]
    assert failed and all(r.observation is None and r.videos == [] for r in failed)
    assert all(r.attempt.videos_listed is None for r in failed)
