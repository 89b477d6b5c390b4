"""TikTok short links through the fake platform server, resolved by the real TikTok client."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from fixtures.platform_support import SleepRecorder

from viewtrail.domain.models import Outcome, Platform, VideoToScrape
from viewtrail.platforms.base import scrape_sync
from viewtrail.platforms.factory import build_client
from viewtrail.platforms.simulated.client import video_profile
from viewtrail.platforms.tiktok.client import ShortLinkError
from viewtrail.testing.fake_platform import FakePlatformServer, short_link_video_id

AT = datetime(2026, 11, 22, 12)
#: The simulated videos count as tracked since (they were posted before it).
TRACKED = AT - timedelta(days=90)


def tiktok_client(server: FakePlatformServer, tmp_path, **overrides):
    settings = {
        "base_url": server.base_url(Platform.TIKTOK),
        "rate_per_min": 1_000_000.0,
        "sleep": SleepRecorder(),
        "backoff_base_s": 0.01,
        "state_dir": tmp_path / "state",
        "max_retries": 0,
    }
    return build_client(Platform.TIKTOK, "real", **(settings | overrides))


def resolve(client, url: str):
    async def run():
        try:
            return await client.resolve_short_link(url)
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_short_link_resolves_to_the_video_it_redirects_to_and_that_video_scrapes(tmp_path):
    with FakePlatformServer(at=AT, tracked_at=TRACKED) as server:
        url = f"{server.base_url(Platform.TIKTOK)}/t/ZTabc123/"
        ref = resolve(tiktok_client(server, tmp_path), url)
        expected_id = short_link_video_id("ZTabc123")
        assert (ref.platform, ref.external_id) == (Platform.TIKTOK, expected_id)
        assert ref.account == video_profile(f"tiktok:{expected_id}").account
        assert ref.url.startswith("https://www.tiktok.com/@")  # stored canonical URL names the public host
        # Same code, same video; another code, another video.
        assert resolve(tiktok_client(server, tmp_path), url).external_id == expected_id
        assert resolve(tiktok_client(server, tmp_path), url.replace("ZTabc123", "ZTxyz789")).external_id != expected_id

        video = VideoToScrape(ref.video_id, Platform.TIKTOK, ref.external_id, ref.url)
        (result,) = scrape_sync(tiktok_client(server, tmp_path), [video])
        assert result.attempt.outcome is Outcome.OK
        assert result.observation is not None and result.observation.account == ref.account


def test_short_link_that_leads_nowhere_or_to_a_login_is_a_clear_error_not_a_video(tmp_path):
    with FakePlatformServer(at=AT, tracked_at=TRACKED) as server:
        with pytest.raises(ShortLinkError, match="short link"):
            resolve(tiktok_client(server, tmp_path), f"{server.base_url(Platform.TIKTOK)}/t/not-a-code/")
        server.configure(fault_rate=1.0, faults=("login",))
        with pytest.raises(ShortLinkError, match="login"):
            resolve(tiktok_client(server, tmp_path), f"{server.base_url(Platform.TIKTOK)}/t/ZTabc123/")
