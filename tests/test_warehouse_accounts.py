"""Accounts registry: watch/unwatch, creators, discovery due-list, storing discovery results, the inbox."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.models import (
    AccountAttempt,
    AccountObservation,
    AccountResult,
    DiscoveredVideo,
    Outcome,
    Platform,
)
from viewtrail.domain.urls import canonical_url, parse_account_url, parse_video_url
from viewtrail.warehouse import TrackOutcome, open_warehouse, track_refs
from viewtrail.warehouse.accounts import (
    accept_inbox,
    accounts_due_for_discovery,
    add_creator,
    link_creator_accounts,
    list_accounts,
    list_creators,
    list_inbox,
    record_account_results,
    reject_inbox,
    remove_creator,
    resolve_account,
    unlink_creator_accounts,
    unwatch_accounts,
    watch_accounts,
)

NOW = datetime(2026, 11, 1, 12)
NASA = parse_account_url("https://www.tiktok.com/@nasa")
CHANNEL = parse_account_url("https://www.youtube.com/channel/UC_x5XG1OV2P6uZZ5FSM9Ttw")


def tiktok_video(n: int, posted_at: datetime | None, handle: str = "nasa") -> DiscoveredVideo:
    external_id = str(7300000000000000000 + n)
    ref = parse_video_url(canonical_url("tiktok", external_id, handle))
    return DiscoveredVideo(ref, posted_at=posted_at, title=f"video {n}")


def result(
    account_id: str,
    at: datetime,
    videos: list[DiscoveredVideo],
    *,
    platform: Platform = Platform.TIKTOK,
    outcome: Outcome = Outcome.OK,
    handle: str | None = "nasa",
    platform_account_id: str | None = "6543",
    followers: int | None = 1000,
    listed: bool = True,
) -> AccountResult:
    attempt = AccountAttempt(
        account_id, platform, at, outcome, source="test", run_id="r1", videos_listed=len(videos) if listed else None
    )
    observation = None
    if outcome is Outcome.OK:
        observation = AccountObservation(
            account_id,
            at,
            followers,
            10,
            5000,
            42,
            None,
            handle=handle,
            display_name="NASA",
            platform_account_id=platform_account_id,
            source="test",
            run_id="r1",
        )
    return AccountResult(attempt, observation, videos)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@pytest.fixture
def con(warehouse_path):
    with open_warehouse(warehouse_path) as connection:
        yield connection


def test_watch_is_an_upsert_never_a_duplicate(con):
    first = watch_accounts(con, [NASA], labels=["space"], now=NOW)
    assert [(r.account_id, r.outcome) for r in first] == [("tiktok:nasa", TrackOutcome.CREATED)]
    again = watch_accounts(
        con, [parse_account_url("m.tiktok.com/@NASA?lang=en")], latest_n=5, discovery="review", labels=["q4"], now=NOW
    )
    assert [(r.account_id, r.outcome) for r in again] == [("tiktok:nasa", TrackOutcome.UPDATED)]
    rows = con.sql(
        "SELECT account_id, handle, url, is_active, discovery, latest_n, discovery_cadence_hours, video_cadence,"
        " labels FROM registry.accounts"
    ).fetchall()
    assert rows == [
        ("tiktok:nasa", "nasa", "https://www.tiktok.com/@nasa", True, "review", 5, 6.0, "auto", ["space", "q4"])
    ]
    assert unwatch_accounts(con, ["tiktok:nasa", "tiktok:nobody"], now=NOW) == {
        "tiktok:nasa": "stopped",
        "tiktok:nobody": "unknown",
    }
    assert unwatch_accounts(con, ["tiktok:nasa"], now=NOW) == {"tiktok:nasa": "already stopped"}
    resumed = watch_accounts(con, [NASA], now=NOW)
    assert resumed[0].outcome is TrackOutcome.RESUMED
    assert con.sql("SELECT is_active, stopped_at, latest_n FROM registry.accounts").fetchall() == [(True, None, 5)]


def test_watch_rejects_bad_options_and_writes_nothing(con):
    for options, words in [
        ({"latest_n": -1}, "0"),
        ({"discovery": "sometimes"}, "auto, review or off"),
        ({"cadence_hours": 0}, "above 0"),
        ({"cadence": "often"}, "'auto'"),
    ]:
        with pytest.raises(InvalidInputError, match=words):
            watch_accounts(con, [NASA], now=NOW, **options)
    assert con.sql("SELECT count(*) FROM registry.accounts").fetchall() == [(0,)]


def test_videos_link_to_their_account_whichever_comes_first(con):
    before = parse_video_url(f"https://www.tiktok.com/@NASA/video/{7300000000000000001}")
    other = parse_video_url(f"https://www.tiktok.com/@someone/video/{7300000000000000002}")
    track_refs(con, [before, other], now=NOW)
    watch_accounts(con, [NASA], now=NOW)
    after = parse_video_url(f"https://www.tiktok.com/@nasa/video/{7300000000000000003}")
    track_refs(con, [after], now=NOW)
    rows = con.sql("SELECT video_id, account_id, source FROM registry.videos ORDER BY video_id").fetchall()
    assert rows == [
        ("tiktok:7300000000000000001", "tiktok:nasa", "manual"),
        ("tiktok:7300000000000000002", None, "manual"),
        ("tiktok:7300000000000000003", "tiktok:nasa", "manual"),
    ]


def test_a_tracked_video_found_on_a_watched_account_links_to_it_and_keeps_a_link_it_has(con):
    reposted = parse_video_url(f"https://www.tiktok.com/@fan_page/video/{7300000000000000001}")
    linked = parse_video_url(f"https://www.tiktok.com/@esa/video/{7300000000000000002}")
    watch_accounts(con, [parse_account_url("tiktok.com/@esa")], now=NOW)
    track_refs(con, [reposted, linked], now=NOW)
    watch_accounts(con, [NASA], now=NOW)
    listing = [tiktok_video(1, days_ago(1)), tiktok_video(2, days_ago(2))]
    record_account_results(con, [result("tiktok:nasa", NOW, listing)], now=NOW)
    rows = con.sql("SELECT video_id, account_id, source FROM registry.videos ORDER BY video_id").fetchall()
    assert rows == [
        ("tiktok:7300000000000000001", "tiktok:nasa", "manual"),  # found on nasa's page: linked there
        ("tiktok:7300000000000000002", "tiktok:esa", "manual"),  # already linked: unchanged
    ]


def test_creators_group_accounts(con):
    watch_accounts(con, [NASA, CHANNEL], creator="NASA Official", now=NOW)
    assert add_creator(con, "nasa official", now=NOW) is False  # same slug: the same creator
    assert [(r["creator_id"], r["accounts"]) for r in list_creators(con).iter_rows(named=True)] == [
        ("nasa-official", ["tiktok:nasa", "youtube:UC_x5XG1OV2P6uZZ5FSM9Ttw"])
    ]
    assert unlink_creator_accounts(con, "NASA Official", ["tiktok:nasa", "x:nasa"]) == {
        "tiktok:nasa": "unlinked",
        "x:nasa": "not linked",
    }
    assert link_creator_accounts(con, "NASA Official", ["tiktok:nasa"], now=NOW) == {"tiktok:nasa": "linked"}
    assert list_accounts(con, creator="nasa-official")["account_id"].to_list() == [
        "tiktok:nasa",
        "youtube:UC_x5XG1OV2P6uZZ5FSM9Ttw",
    ]
    with pytest.raises(InvalidInputError, match="watch it first"):
        link_creator_accounts(con, "NASA Official", ["x:nasa"], now=NOW)
    with pytest.raises(InvalidInputError, match="creator add"):
        link_creator_accounts(con, "Nobody", ["tiktok:nasa"], now=NOW)
    assert remove_creator(con, "NASA Official") is True
    assert remove_creator(con, "NASA Official") is False
    assert con.sql("SELECT count(*) FROM registry.creator_accounts").fetchall() == [(0,)]
    assert con.sql("SELECT count(*) FROM registry.accounts").fetchall() == [(2,)]


def test_resolve_account_by_id_or_url(con):
    watch_accounts(con, [NASA, CHANNEL], now=NOW)
    assert resolve_account(con, "tiktok:NASA") == "tiktok:nasa"
    assert resolve_account(con, "https://www.tiktok.com/@Nasa/") == "tiktok:nasa"
    assert resolve_account(con, "youtube:UC_x5XG1OV2P6uZZ5FSM9Ttw") == "youtube:UC_x5XG1OV2P6uZZ5FSM9Ttw"
    assert resolve_account(con, "x:nasa") is None


def test_accounts_due_for_discovery_follow_their_cadence(con):
    watch_accounts(con, [NASA], cadence_hours=6, now=NOW)
    watch_accounts(con, [parse_account_url("tiktok.com/@esa")], cadence_hours=1, now=NOW)
    watch_accounts(con, [parse_account_url("youtube.com/@nasa")], now=NOW)
    due = accounts_due_for_discovery(con, "tiktok", now=NOW)
    assert [a.account_id for a in due] == ["tiktok:esa", "tiktok:nasa"]
    assert due[1].latest_n == 30 and due[1].observe_at == NOW and due[1].url == "https://www.tiktok.com/@nasa"
    record_account_results(
        con,
        [result("tiktok:nasa", NOW, []), result("tiktok:esa", NOW, [], outcome=Outcome.RATE_LIMITED)],
        now=NOW,
    )
    assert accounts_due_for_discovery(con, "tiktok", now=NOW + timedelta(minutes=30)) == []
    later = NOW + timedelta(hours=2)
    assert [a.account_id for a in accounts_due_for_discovery(con, "tiktok", now=later)] == ["tiktok:esa"]
    unwatch_accounts(con, ["tiktok:esa"], now=later)
    assert [a.account_id for a in accounts_due_for_discovery(con, "tiktok", now=NOW + timedelta(hours=6))] == [
        "tiktok:nasa"
    ]


def test_first_discovery_takes_latest_n_then_only_new_videos(con):
    watch_accounts(con, [NASA], latest_n=2, labels=["space"], cadence=12, now=NOW)
    listing = [tiktok_video(n, days_ago(n)) for n in range(1, 6)]  # newest first: 1 day ago .. 5 days ago
    write = record_account_results(con, [result("tiktok:nasa", NOW, listing)], now=NOW, run_id="r1")
    assert write.new_video_ids == ["tiktok:7300000000000000001", "tiktok:7300000000000000002"]
    assert (write.attempts_inserted, write.snapshots_inserted, write.videos_registered) == (1, 1, 2)
    rows = con.sql(
        "SELECT video_id, account, account_id, source, labels, cadence, posted_at, is_active FROM registry.videos"
        " ORDER BY video_id"
    ).fetchall()
    assert rows[0] == (
        "tiktok:7300000000000000001",
        "nasa",
        "tiktok:nasa",
        "discovered",
        ["space"],
        "12",
        days_ago(1),
        True,
    )
    assert len(rows) == 2
    # the same results again: nothing changes
    again = record_account_results(con, [result("tiktok:nasa", NOW, listing)], now=NOW)
    assert (again.attempts_inserted, again.snapshots_inserted, again.new_video_ids) == (0, 0, [])
    assert con.sql("SELECT count(*) FROM raw.account_attempts").fetchall() == [(1,)]
    # six hours later: a new video; the older ones beyond latest_n stay out
    later = NOW + timedelta(hours=6)
    new_listing = [tiktok_video(0, NOW + timedelta(hours=1)), *listing]
    write = record_account_results(con, [result("tiktok:nasa", later, new_listing)], now=later)
    assert write.new_video_ids == ["tiktok:7300000000000000000"]
    assert con.sql("SELECT videos_listed, videos_new FROM raw.account_attempts ORDER BY attempted_at").fetchall() == [
        (5, 2),
        (6, 1),
    ]


def test_since_bounds_discovery_and_review_fills_the_inbox(con):
    watch_accounts(con, [NASA], discovery="review", since=days_ago(2.5), now=NOW)
    listing = [tiktok_video(n, days_ago(n)) for n in range(1, 6)]
    write = record_account_results(con, [result("tiktok:nasa", NOW, listing)], now=NOW)
    assert (write.videos_registered, write.inbox_added) == (0, 2)
    assert con.sql("SELECT count(*) FROM registry.videos").fetchall() == [(0,)]
    inbox = list_inbox(con)
    assert inbox["video_id"].to_list() == ["tiktok:7300000000000000001", "tiktok:7300000000000000002"]
    assert inbox["status"].to_list() == ["pending", "pending"]
    states, tracked = accept_inbox(con, ["tiktok:7300000000000000001"], now=NOW)
    assert states == {"tiktok:7300000000000000001": "accepted"}
    assert [t.video_id for t in tracked] == ["tiktok:7300000000000000001"]
    assert reject_inbox(con, ["tiktok:7300000000000000002", "tiktok:1"], now=NOW) == {
        "tiktok:7300000000000000002": "rejected",
        "tiktok:1": "unknown",
    }
    assert accept_inbox(con, ["tiktok:7300000000000000002"], now=NOW)[0] == {"tiktok:7300000000000000002": "rejected"}
    assert con.sql("SELECT video_id, account_id, source FROM registry.videos").fetchall() == [
        ("tiktok:7300000000000000001", "tiktok:nasa", "discovered")
    ]
    # a rejected video is never offered again
    later = NOW + timedelta(hours=6)
    assert record_account_results(con, [result("tiktok:nasa", later, listing)], now=later).inbox_added == 0
    assert list_inbox(con).height == 0


def test_discovery_off_records_metrics_only(con):
    watch_accounts(con, [NASA], discovery="off", now=NOW)
    write = record_account_results(con, [result("tiktok:nasa", NOW, [tiktok_video(1, days_ago(1))])], now=NOW)
    assert (write.snapshots_inserted, write.videos_registered, write.inbox_added) == (1, 0, 0)
    assert con.sql("SELECT followers, handle FROM raw.account_snapshots").fetchall() == [(1000, "nasa")]
    assert con.sql("SELECT videos_new FROM raw.account_attempts").fetchall() == [(None,)]


def test_a_renamed_handle_keeps_the_account_id(con):
    watch_accounts(con, [NASA], now=NOW)
    record_account_results(con, [result("tiktok:nasa", NOW, [])], now=NOW)
    later = NOW + timedelta(hours=6)
    # the client knows the account by its platform id; it reports the new handle
    renamed = result("tiktok:nasa_official", later, [tiktok_video(9, later, "nasa_official")], handle="nasa_official")
    write = record_account_results(con, [renamed], now=later)
    assert write.accounts_renamed == 1
    assert con.sql("SELECT account_id, handle, url, platform_account_id FROM registry.accounts").fetchall() == [
        ("tiktok:nasa", "nasa_official", "https://www.tiktok.com/@nasa_official", "6543")
    ]
    assert con.sql("SELECT DISTINCT account_id FROM raw.account_attempts").fetchall() == [("tiktok:nasa",)]
    assert con.sql("SELECT account_id FROM registry.videos").fetchall() == [("tiktok:nasa",)]
    # watching the new handle finds the same account
    assert watch_accounts(con, [parse_account_url("tiktok.com/@nasa_official")], now=later)[0].account_id == (
        "tiktok:nasa"
    )
    assert con.sql("SELECT count(*) FROM registry.accounts").fetchall() == [(1,)]


def test_a_channel_watched_by_id_learns_its_handle_and_keeps_its_url(con):
    watch_accounts(con, [CHANNEL], now=NOW)
    found = result(
        CHANNEL.account_id,
        NOW,
        [],
        platform=Platform.YOUTUBE,
        handle="NASA",
        platform_account_id="UC_x5XG1OV2P6uZZ5FSM9Ttw",
    )
    record_account_results(con, [found], now=NOW)
    assert con.sql("SELECT account_id, handle, url FROM registry.accounts").fetchall() == [
        ("youtube:UC_x5XG1OV2P6uZZ5FSM9Ttw", "NASA", "https://www.youtube.com/channel/UC_x5XG1OV2P6uZZ5FSM9Ttw")
    ]
    assert watch_accounts(con, [parse_account_url("youtube.com/@nasa")], now=NOW)[0].outcome is TrackOutcome.UPDATED


def test_a_platform_without_a_listing_stores_metrics_and_stays_on_first_discovery(con):
    x = parse_account_url("https://x.com/nasa")
    watch_accounts(con, [x], latest_n=1, now=NOW)
    record_account_results(con, [result("x:nasa", NOW, [], platform=Platform.X, listed=False)], now=NOW)
    assert con.sql("SELECT videos_listed, videos_new FROM raw.account_attempts").fetchall() == [(None, None)]
    assert con.sql("SELECT count(*) FROM raw.account_snapshots").fetchall() == [(1,)]


def test_failed_discovery_stores_the_attempt_only(con):
    watch_accounts(con, [NASA], now=NOW)
    write = record_account_results(con, [result("tiktok:nasa", NOW, [], outcome=Outcome.BLOCKED)], now=NOW)
    assert (write.attempts_inserted, write.snapshots_inserted) == (1, 0)
    assert con.sql("SELECT outcome, videos_new FROM raw.account_attempts").fetchall() == [("blocked", None)]
    assert con.sql("SELECT kind FROM meta.write_log").fetchall() == [("discovery",)]


def test_a_legacy_youtube_name_gives_way_to_the_handle(con):
    legacy = parse_account_url("https://www.youtube.com/user/NASAtelevision")
    watch_accounts(con, [legacy], now=NOW)
    found = result(
        legacy.account_id,
        NOW,
        [],
        platform=Platform.YOUTUBE,
        handle="NASA",
        platform_account_id="UC_x5XG1OV2P6uZZ5FSM9Ttw",
    )
    record_account_results(con, [found], now=NOW)
    assert con.sql("SELECT account_id, handle, url, platform_account_id FROM registry.accounts").fetchall() == [
        ("youtube:nasatelevision", "NASA", "https://www.youtube.com/@NASA", "UC_x5XG1OV2P6uZZ5FSM9Ttw")
    ]


def test_a_handle_learned_by_a_scrape_links_the_video(con):
    from viewtrail.domain.models import Attempt, Observation, ScrapeResult
    from viewtrail.warehouse import write_scrape_results

    video = parse_video_url("https://youtu.be/dQw4w9WgXcQ")
    track_refs(con, [video], now=NOW)
    watch_accounts(con, [parse_account_url("https://www.youtube.com/@RickAstley")], now=NOW)
    scraped = ScrapeResult(
        Attempt(video.video_id, Platform.YOUTUBE, NOW, Outcome.OK, source="test"),
        Observation(video.video_id, NOW, 10, 1, 0, None, None, account="rickastley", source="test"),
    )
    write_scrape_results(con, [scraped])
    assert con.sql("SELECT account, account_id FROM registry.videos").fetchall() == [
        ("rickastley", "youtube:rickastley")
    ]


def test_latest_zero_takes_only_videos_posted_after_the_first_discovery(con):
    watch_accounts(con, [NASA], latest_n=0, now=NOW)
    old = [tiktok_video(n, days_ago(n)) for n in (1, 2)]
    assert record_account_results(con, [result("tiktok:nasa", NOW, old)], now=NOW).new_video_ids == []
    later = NOW + timedelta(hours=6)
    fresh = tiktok_video(0, NOW + timedelta(hours=3))
    write = record_account_results(con, [result("tiktok:nasa", later, [fresh, *old])], now=later)
    assert write.new_video_ids == [fresh.ref.video_id]
