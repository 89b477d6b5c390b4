"""The real account clients against the fake platform's account routes over 127.0.0.1."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from viewtrail.domain.models import AccountToDiscover, Outcome, Platform, VideoToScrape
from viewtrail.platforms import build_client, scrape_sync
from viewtrail.platforms.accounts import build_account_client, discover_sync
from viewtrail.testing.fake_platform import FakePlatformServer

AT = datetime(2026, 6, 10, 12, 0)
TRACKED = datetime(2026, 6, 1, 8, 0)
LISTING = [Platform.TIKTOK, Platform.YOUTUBE, Platform.INSTAGRAM]


@pytest.fixture(scope="module")
def server():
    with FakePlatformServer(at=AT, tracked_at=TRACKED) as fake:
        yield fake


def account(platform: Platform, handle: str | None, *, platform_account_id: str | None = None, **kw):
    return AccountToDiscover(
        account_id=f"{platform.value}:{(handle or platform_account_id).lower()}",
        platform=platform,
        handle=handle,
        url=f"https://example.invalid/{handle}",
        platform_account_id=platform_account_id,
        **kw,
    )


def real(server, platform: Platform, tmp_path, **kw):
    settings = {"base_url": server.base_url(platform), "rate_per_min": 1e6, "state_dir": tmp_path / "state"}
    if platform is Platform.YOUTUBE:
        settings["api_key"] = "fake-key"
    return build_account_client(platform, "real", **{**settings, **kw})


def discover(server, platform, tmp_path, acc, **kw):
    [result] = discover_sync(real(server, platform, tmp_path, **kw), [acc])
    return result


@pytest.mark.parametrize("platform", list(Platform))
def test_real_clients_read_the_simulated_accounts(server, tmp_path, platform):
    result = discover(server, platform, tmp_path, account(platform, "ana.cooks"))
    simulated = next(
        discover_sync(
            build_account_client(platform, "simulated", fault_rate=0.0),
            [account(platform, "ana.cooks", observe_at=AT, added_at=TRACKED)],
        )
    )
    assert result.attempt.outcome is Outcome.OK, result.attempt.detail
    got, want = result.observation, simulated.observation
    assert (got.followers, got.following, got.video_count, got.platform_account_id) == (
        want.followers,
        want.following,
        want.video_count,
        want.platform_account_id,
    )
    assert [(v.ref, v.posted_at, v.title) for v in result.videos] == [
        (v.ref, v.posted_at, v.title) for v in simulated.videos
    ]
    assert result.attempt.videos_listed == simulated.attempt.videos_listed


@pytest.mark.parametrize("platform", LISTING)
def test_a_discovered_video_scrapes_with_the_listed_posted_at(server, tmp_path, platform):
    result = discover(server, platform, tmp_path, account(platform, "techtinker"))
    listed = result.videos[0]
    settings = {"base_url": server.base_url(platform), "rate_per_min": 1e6, "state_dir": tmp_path / "state"}
    if platform is Platform.YOUTUBE:
        settings["api_key"] = "fake-key"
    video = VideoToScrape(listed.ref.video_id, platform, listed.ref.external_id, listed.ref.url, listed.ref.account)
    [scraped] = scrape_sync(build_client(platform, "real", **settings), [video])
    assert scraped.attempt.outcome is Outcome.OK
    assert (scraped.observation.posted_at, scraped.observation.title) == (listed.posted_at, listed.title)


def test_follower_changes_and_a_hidden_subscriber_count(server, tmp_path):
    server.configure_account("tiktok", "growing", followers=123_456)
    assert (
        discover(server, Platform.TIKTOK, tmp_path, account(Platform.TIKTOK, "growing")).observation.followers
        == 123_456
    )
    server.configure_account("youtube", "shy", hidden_followers=True)
    shy = discover(server, Platform.YOUTUBE, tmp_path, account(Platform.YOUTUBE, "shy"))
    assert shy.attempt.outcome is Outcome.OK and shy.observation.followers is None
    assert shy.observation.views is not None


def test_new_posts_show_up_first(server, tmp_path):
    new_id = "7512000000000000001"
    server.configure_account("tiktok", "poster", extra_posts=[(new_id, AT - timedelta(minutes=5), "brand new")])
    result = discover(server, Platform.TIKTOK, tmp_path, account(Platform.TIKTOK, "poster"))
    assert result.videos[0].ref.external_id == new_id and result.videos[0].title == "brand new"


@pytest.mark.parametrize("platform", list(Platform))
def test_a_missing_account_is_not_found(server, tmp_path, platform):
    server.configure_account(platform, "deleted.one", missing=True)
    result = discover(server, platform, tmp_path, account(platform, "deleted.one"))
    assert result.attempt.outcome is Outcome.NOT_FOUND and result.observation is None


def test_a_renamed_handle_keeps_its_stable_id(server, tmp_path):
    for platform in (Platform.YOUTUBE, Platform.X, Platform.TIKTOK):
        before = discover(server, platform, tmp_path, account(platform, "oldname"))
        stable_id = before.observation.platform_account_id
        server.configure_account(platform, "oldname", renamed_to="newname")
        renamed = discover(server, platform, tmp_path, account(platform, "newname"))
        assert renamed.observation.platform_account_id == stable_id and renamed.observation.handle == "newname"
        old = discover(server, platform, tmp_path, account(platform, "oldname"))
        if platform is Platform.TIKTOK:  # profile pages are by handle only: the old one is gone
            assert old.attempt.outcome is Outcome.NOT_FOUND
        else:  # YouTube and X look the account up by its id once known
            by_id = discover(server, platform, tmp_path, account(platform, "oldname", platform_account_id=stable_id))
            assert by_id.attempt.outcome is Outcome.OK and by_id.observation.handle.lower() == "newname"


def test_please_wait_and_rate_limits(server, tmp_path):
    server.configure_account("instagram", "throttled", status=401)
    wait = discover(server, Platform.INSTAGRAM, tmp_path, account(Platform.INSTAGRAM, "throttled"))
    assert wait.attempt.outcome is Outcome.BLOCKED and "wait" in wait.attempt.detail.lower()
    server.configure_account("youtube", "busy", status=429)
    busy = discover(server, Platform.YOUTUBE, tmp_path, account(Platform.YOUTUBE, "busy"), max_retries=1)
    assert busy.attempt.outcome is Outcome.RATE_LIMITED and busy.attempt.tries == 2


def test_a_private_account_gives_metrics_only(server, tmp_path):
    for platform in (Platform.TIKTOK, Platform.INSTAGRAM):
        server.configure_account(platform, "closed", private=True)
        result = discover(server, platform, tmp_path, account(platform, "closed"))
        assert result.attempt.outcome is Outcome.OK and result.observation.followers is not None
        assert result.attempt.videos_listed is None and result.videos == []
