"""The simulated platform: deterministic curves, platform nulls, faults and disappearing videos."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from viewtrail import clock
from viewtrail.domain.models import TRANSIENT_OUTCOMES, Outcome, Platform, VideoToScrape
from viewtrail.platforms.base import PlatformClient, scrape_sync
from viewtrail.platforms.factory import build_client
from viewtrail.platforms.simulated.client import (
    CATALOGUE_AGE_H,
    CORRECTION_FACTOR,
    LAUNCH_AGE_H,
    LAUNCH_SHARE,
    SimulatedClient,
    simulate,
    video_account,
    video_profile,
)

NOW = datetime(2026, 11, 22, 12)
#: When the videos below count as tracked: they were posted before it.
TRACKED = NOW - timedelta(days=10)
IDS = {
    Platform.TIKTOK: [f"tiktok:72{i:017d}" for i in range(300)],
    Platform.YOUTUBE: [f"youtube:vid{i:08d}" for i in range(300)],
    Platform.INSTAGRAM: [f"instagram:C{i:010d}" for i in range(300)],
    Platform.X: [f"x:18{i:017d}" for i in range(300)],
}
ALL_IDS = [v for ids in IDS.values() for v in ids]


def _video(video_id: str, at: datetime | None, added_at: datetime | None = TRACKED) -> VideoToScrape:
    platform, _, external = video_id.partition(":")
    return VideoToScrape(
        video_id, Platform(platform), external, f"https://example.invalid/{external}", observe_at=at, added_at=added_at
    )


def sim(video_id: str, at: datetime, **kwargs) -> object:
    return simulate(video_id, at, tracked_at=TRACKED, **kwargs)


def test_same_video_and_instant_give_the_same_state_in_another_process():
    here = [sim(v, NOW) for v in ALL_IDS[::50]]
    assert here == [sim(v, NOW) for v in ALL_IDS[::50]]
    code = (
        "from datetime import datetime; from viewtrail.platforms.simulated.client import simulate;"
        f"print([simulate(v, datetime(2026, 11, 22, 12), tracked_at=datetime(2026, 11, 12, 12)).views"
        f" for v in {ALL_IDS[::50]!r}])"
    )
    # A fresh interpreter has a different hash() salt: the numbers must not depend on it.
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "123"}
    )
    assert other.stdout.strip() == str([s.views for s in here])


def test_video_account_is_the_handle_a_scrape_reports():
    """video_account (what bench/scale.py's fill registers) is the profile's account, which the client reports."""
    for seed in (0, 3):
        assert [video_account(v, seed) for v in ALL_IDS] == [video_profile(v, seed).account for v in ALL_IDS]
    client = SimulatedClient(Platform.TIKTOK, fault_rate=0.0)
    observed = [(v, client.result_for(_video(v, NOW)).observation) for v in IDS[Platform.TIKTOK][:40]]
    observed = [(v, o) for v, o in observed if o is not None]  # not the removed ones
    assert len(observed) > 20
    assert all(o.account == video_account(v) for v, o in observed)
    assert len({video_account(v) for v in IDS[Platform.X]}) > 5  # several accounts per platform


def test_seed_changes_the_world():
    assert [sim(v, NOW, seed=1).views for v in ALL_IDS[:20]] != [sim(v, NOW).views for v in ALL_IDS[:20]]


def test_videos_are_posted_before_they_were_tracked_with_a_launch_and_catalogue_mix_and_zeros_before_it():
    launches = 0
    for video_id in ALL_IDS:
        profile = video_profile(video_id)
        posted_at = profile.posted_at(TRACKED)
        age_h = (TRACKED - posted_at).total_seconds() / 3600
        low, high = LAUNCH_AGE_H if profile.launch else CATALOGUE_AGE_H
        assert low - 0.01 <= age_h <= high + 0.01, (video_id, age_h)
        launches += profile.launch
        before = sim(video_id, posted_at - timedelta(days=3))
        assert before.posted_at == posted_at
        assert all(value in (0, None) for value in (before.views, before.likes, before.comments))
    assert abs(launches / len(ALL_IDS) - LAUNCH_SHARE) < 0.05


def test_the_calendar_does_not_matter_a_replay_a_year_later_is_the_same_curve_shifted():
    later = timedelta(days=365)
    for video_id in ALL_IDS[::7]:
        for at in (TRACKED + timedelta(hours=h, minutes=17) for h in (0, 5, 30, 200)):
            here = simulate(video_id, at, tracked_at=TRACKED)
            there = simulate(video_id, at + later, tracked_at=TRACKED + later)
            assert there.posted_at == here.posted_at + later
            assert (there.outcome, there.views, there.likes, there.corrected) == (
                here.outcome,
                here.views,
                here.likes,
                here.corrected,
            )


def test_views_grow_except_small_corrections_and_engagement_never_shrinks():
    hours = [TRACKED - timedelta(days=240) + timedelta(hours=h) for h in range(0, 24 * 250, 7)]
    corrections = 0
    for video_id in ALL_IDS[::10]:
        states = [sim(video_id, at, fault_rate=0) for at in hours]
        for prev, cur in zip(states, states[1:], strict=False):
            for name in ("likes", "comments", "shares", "saves"):
                a, b = getattr(prev, name), getattr(cur, name)
                if a is not None:
                    assert b >= a, (video_id, name, prev.at)
            if prev.views is not None and cur.views < prev.views:
                assert cur.corrected, (video_id, cur.at)
                assert cur.views >= int(prev.views * CORRECTION_FACTOR) - 1
                corrections += 1
    assert corrections > 0  # corrections really happen


def test_heavy_tail_and_per_video_ratios():
    late = NOW + timedelta(days=30)
    views = sorted(sim(v, late).views for v in IDS[Platform.TIKTOK] + IDS[Platform.X])
    median = views[len(views) // 2]
    assert 1_000 <= median <= 50_000
    assert views[-1] >= 100 * median  # a few outliers far above the typical video
    ratios = {round(sim(v, late).likes / sim(v, late).views, 3) for v in IDS[Platform.TIKTOK][:50]}
    assert len(ratios) > 30


def test_platform_nulls():
    youtube = [sim(v, NOW) for v in IDS[Platform.YOUTUBE]]
    assert all(s.shares is None and s.saves is None and s.views is not None for s in youtube)
    assert all(s.saves is None and s.shares is not None for s in (sim(v, NOW) for v in IDS[Platform.X]))
    insta = [sim(v, NOW) for v in IDS[Platform.INSTAGRAM]]
    hidden_views = sum(s.views is None for s in insta) / len(insta)
    assert 0.2 < hidden_views < 0.4
    assert any(s.likes is None for s in insta) and sum(s.likes is None for s in insta) < 0.15 * len(insta)
    tiktok = [sim(v, NOW) for v in IDS[Platform.TIKTOK]]
    assert all(None not in (s.views, s.likes, s.comments, s.shares, s.saves) for s in tiktok)


def test_disappeared_videos_stay_not_found():
    gone = [v for v in ALL_IDS if video_profile(v).disappears_at(TRACKED) is not None]
    assert 0 < len(gone) < 0.06 * len(ALL_IDS)
    for video_id in gone:
        when = video_profile(video_id).disappears_at(TRACKED)
        assert when >= TRACKED + timedelta(hours=24)  # a tracker sees the removal of a video it tracks
        assert sim(video_id, when - timedelta(seconds=1), fault_rate=0).outcome is Outcome.OK
        for days in (0, 1, 30, 365):
            assert sim(video_id, when + timedelta(days=days)).outcome is Outcome.NOT_FOUND


def test_transient_faults_are_rare_deterministic_and_transient():
    outcomes = [sim(v, NOW + timedelta(hours=h)).outcome for v in ALL_IDS[::3] for h in range(10)]
    faults = [o for o in outcomes if o in TRANSIENT_OUTCOMES]
    assert 0.003 < len(faults) / len(outcomes) < 0.04
    assert set(faults) <= {Outcome.TIMEOUT, Outcome.UPSTREAM_ERROR, Outcome.RATE_LIMITED}
    assert not [
        v
        for v in ALL_IDS
        if sim(v, NOW, fault_rate=1.0).outcome is Outcome.OK and video_profile(v).disappears_at(TRACKED) is None
    ]


def test_build_client_simulated_by_default_and_client_contract(monkeypatch):
    for platform in Platform:
        monkeypatch.delenv(f"VIEWTRAIL_{platform.value.upper()}_MODE", raising=False)
        client = build_client(platform, seed=3, concurrency=8)
        assert isinstance(client, SimulatedClient) and isinstance(client, PlatformClient)
        assert client.platform is platform and client.seed == 3 and client.observes_past
    client = build_client(Platform.TIKTOK, mode="simulated")
    at = datetime(2026, 10, 1, 5, 0, 7, 654321)
    videos = [_video(v, at) for v in IDS[Platform.TIKTOK][:100]]
    results = list(scrape_sync(client, videos, run_id="r1", partition_key="2026-10-01-05:00"))
    assert [r.attempt.video_id for r in results] == [v.video_id for v in videos]
    for result in results:
        state = sim(result.attempt.video_id, at.replace(microsecond=0))
        assert result.attempt.attempted_at == at.replace(microsecond=0)
        assert result.attempt.outcome is state.outcome
        assert result.attempt.source == "simulated" and result.attempt.run_id == "r1"
        if state.outcome is Outcome.OK:
            obs = result.observation
            assert obs.observed_at == result.attempt.attempted_at and obs.views == state.views
            assert obs.account == state.account and obs.posted_at == state.posted_at
        else:
            assert result.observation is None


def test_without_observe_at_the_client_observes_now():
    client = SimulatedClient(Platform.X, fault_rate=0)

    async def run():
        return [r async for r in client.scrape([_video(IDS[Platform.X][0], None)])]

    later = datetime(2031, 5, 4, 3, 2, 1)
    with clock.pinned(later):
        (result,) = asyncio.run(run())
    # "now" is the one injectable clock's
    assert later <= result.attempt.attempted_at < later + timedelta(minutes=5)
    assert result.attempt.attempted_at.microsecond == 0


def test_short_links_resolve_deterministically_on_tiktok_only():
    tiktok = SimulatedClient(Platform.TIKTOK)
    a = asyncio.run(tiktok.resolve_short_link("https://vm.tiktok.com/ZMabc/"))
    assert a == asyncio.run(tiktok.resolve_short_link("https://vm.tiktok.com/ZMabc/"))
    assert a.platform is Platform.TIKTOK and a.external_id.isdigit()
    with pytest.raises(NotImplementedError):
        asyncio.run(SimulatedClient(Platform.YOUTUBE).resolve_short_link("https://youtu.be/x"))


def test_a_client_refuses_another_platforms_videos():
    client = SimulatedClient(Platform.YOUTUBE)
    with pytest.raises(ValueError, match="only scrapes youtube"):
        list(scrape_sync(client, [_video(IDS[Platform.TIKTOK][0], NOW)]))
