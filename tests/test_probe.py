"""viewtrail.app.probe: hints per outcome and platform, the challenge summary, and probing with injected clients."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest

from viewtrail.app.probe import (
    UNRESOLVED,
    ProbeRefused,
    challenge_state,
    hints_for,
    parse_targets,
    probe,
)
from viewtrail.domain.models import Outcome, Platform
from viewtrail.domain.urls import InvalidVideoUrl
from viewtrail.platforms import trace
from viewtrail.platforms.factory import build_client
from viewtrail.platforms.tiktok.client import TikTokClient
from viewtrail.testing.fake_platform import FakePlatformServer, short_link_video_id

AT = datetime(2026, 11, 22, 12)
TRACKED = AT - timedelta(days=90)
TIKTOK = "https://www.tiktok.com/@bob/video/7234567890123456789"


def test_every_outcome_but_ok_gets_a_hint_on_every_platform():
    for platform in Platform:
        assert hints_for(platform, Outcome.OK) == []
        for outcome in [*Outcome, UNRESOLVED, "an_outcome_added_later"]:
            if outcome != Outcome.OK:
                hints = hints_for(platform, outcome)
                assert hints and all(isinstance(h, str) and h for h in hints), (platform, outcome)


@pytest.mark.parametrize(
    ("platform", "outcome", "expected"),
    [
        (
            "tiktok",
            "blocked",
            ["VIEWTRAIL_TIKTOK_IMPERSONATE=chrome", "VIEWTRAIL_TIKTOK_COOKIES_FILE", "_TIKTOK_PROXIES"],
        ),
        ("x", "blocked", ["VIEWTRAIL_X_IMPERSONATE=chrome", "VIEWTRAIL_X_COOKIES_FILE", "VIEWTRAIL_X_PROXIES"]),
        ("youtube", "blocked", ["YOUTUBE_API_KEY"]),
        ("instagram", "rate_limited", ["wait", "VIEWTRAIL_INSTAGRAM_PROXIES"]),
        ("instagram", "login_required", ["INSTAGRAM_SESSIONID", "VIEWTRAIL_INSTAGRAM_COOKIES_FILE"]),
        ("instagram", "private", ["INSTAGRAM_SESSIONID", "VIEWTRAIL_INSTAGRAM_COOKIES_FILE"]),
        ("youtube", "quota_exhausted", ["midnight Pacific", "YOUTUBE_API_KEY"]),
        ("tiktok", "not_found", ["gone"]),
        ("tiktok", "geo_restricted", ["VIEWTRAIL_TIKTOK_PROXIES"]),
        ("x", "parse_error", ["--backend ytdlp", "report the output"]),
        ("tiktok", "parse_error", ["VIEWTRAIL_TIKTOK_BACKEND=auto", "pip install -U yt-dlp"]),
        ("x", "timeout", ["retry later"]),
        ("instagram", "upstream_error", ["retry later"]),
    ],
)
def test_hints_name_the_variable_to_set_in_the_order_to_try(platform, outcome, expected):
    hints = hints_for(platform, outcome)
    assert len(hints) == len(expected)
    for hint, fragment in zip(hints, expected, strict=True):
        assert fragment in hint


def test_the_challenge_state_is_the_last_challenge_event():
    assert challenge_state([]) is None
    assert challenge_state(["fallback:instagram_embed"]) is None
    assert challenge_state(["challenge_unsolved", "challenge_solved"]) == "solved"
    assert challenge_state(["challenge_solved", "retry", "challenge_unsolved:repeated"]) == "unsolved"


def test_bad_input_raises_before_anything_is_built():
    built = []
    with pytest.raises(InvalidVideoUrl, match="bare id"):
        probe([TIKTOK, "7234567890123456789"], make_client=built.append)
    with pytest.raises(InvalidVideoUrl, match="No video given"):
        parse_targets([])
    assert built == []


def _tiktok(server: FakePlatformServer):
    return build_client(Platform.TIKTOK, "real", base_url=server.base_url(Platform.TIKTOK), max_retries=0)


def test_probe_records_each_request_and_the_events_the_client_notes(warehouse_path):
    class NotingClient(TikTokClient):
        async def _scrape_batch(self, batch, ctx):
            trace.note("challenge_solved")
            return await super()._scrape_batch(batch, ctx)

    with FakePlatformServer(at=AT, tracked_at=TRACKED) as server:
        settings = _tiktok(server).settings
        (report,) = probe([TIKTOK], make_client=lambda platform: NotingClient(settings))
    assert report.ok and report.video_id == "tiktok:7234567890123456789" and report.source == "tiktok_web"
    assert report.challenge == "solved" and report.events == ["challenge_solved"]
    (request,) = report.requests
    assert (request.method, request.status) == ("GET", 200)
    assert urlsplit(request.url).path == "/tiktok/@bob/video/7234567890123456789"
    assert report.elapsed_ms >= request.elapsed_ms and report.hints == []
    assert report.metrics is not None and set(report.to_dict()["metrics"]) == {
        "views",
        "likes",
        "comments",
        "shares",
        "saves",
    }


def test_a_short_link_is_resolved_then_probed(warehouse_path, monkeypatch):
    monkeypatch.delenv("VIEWTRAIL_OFFLINE")  # the injected client below only ever calls the local server

    class LocalShortLinks(TikTokClient):
        """Follows vm.tiktok.com links on the fake server, which serves them under /tiktok/t/."""

        async def resolve_short_link(self, url):
            code = urlsplit(url).path.strip("/")
            return await super().resolve_short_link(f"{self.base_url}/t/{code}/")

    with FakePlatformServer(at=AT, tracked_at=TRACKED) as server:
        settings = _tiktok(server).settings

        def make(platform):
            return LocalShortLinks(settings)

        (report,) = probe(["https://vm.tiktok.com/ZMabc123/"], make_client=make)
        (broken,) = probe(["https://vm.tiktok.com/not-a-code/"], make_client=make)
    assert report.ok and report.resolved_from == "https://vm.tiktok.com/ZMabc123/"
    assert report.video_id == f"tiktok:{short_link_video_id('ZMabc123')}"
    assert broken.outcome == UNRESOLVED and broken.video_id is None and "short link" in broken.detail
    assert broken.hints and "full video URL" in broken.hints[0]


def test_offline_refuses_short_links_before_any_client_exists(warehouse_path):
    built = []
    with pytest.raises(ProbeRefused, match="VIEWTRAIL_OFFLINE"):
        probe(["https://vm.tiktok.com/ZMabc123/"], make_client=built.append)
    assert built == []


def test_a_youtube_video_read_through_yt_dlp_gets_the_web_hints_not_the_api_keys():
    assert "YOUTUBE_API_KEY" in hints_for("youtube", "blocked")[0]
    through_pages = hints_for("youtube", "blocked", "yt-dlp: Sign in to confirm you're not a bot", source="ytdlp")
    assert "VIEWTRAIL_YOUTUBE_IMPERSONATE=chrome" in through_pages[0]
    assert not any("YOUTUBE_API_KEY" in hint for hint in through_pages)
    assert "pip install -U yt-dlp" in hints_for("x", "parse_error", "yt-dlp: Unable to extract data", source="ytdlp")[0]
