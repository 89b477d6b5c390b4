"""The ytdlp backend's reading of yt-dlp: its error messages as viewtrail outcomes, its info dict as metrics, and
the backend setting.

The messages are yt-dlp's own sentences, recorded two ways: as users pasted them into issue threads (the thread
is named beside each), and as yt-dlp 2026.11.23 raised them against the fake platform server's answers (which
copy the platforms' own shapes: a TikTok statusCode, a YouTube playabilityStatus, an X tombstone). The few
marked "reconstructed" put a platform's known reason text in yt-dlp's message form. Each is the text of
``DownloadError``, ``ERROR:`` prefix included, as the backend receives it.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from viewtrail import config
from viewtrail.domain.models import Outcome, Platform, VideoToScrape
from viewtrail.platforms.factory import client_backend
from viewtrail.platforms.ytdlp.client import _message
from viewtrail.platforms.ytdlp.metrics import observation_from_info
from viewtrail.platforms.ytdlp.outcomes import classify_message

RECORDED = [
    # yt-dlp/yt-dlp#10707, #10499 (2024) and #12175 (2025): YouTube's bot check on a flagged address
    (
        "ERROR: [youtube] tJ51nR4-tLs: Sign in to confirm you’re not a bot. This helps protect our community. "
        "Learn more",
        Outcome.BLOCKED,
    ),
    # StefanLobbenmeier/youtube-dl-gui#189 (2025): the same check, as yt-dlp words it since early 2025
    (
        "ERROR: [youtube] tpUr8xVxj-w: Sign in to confirm you’re not a bot. Use --cookies-from-browser or "
        "--cookies for the authentication. See  https://github.com/yt-dlp/yt-dlp/wiki/FAQ#how-do-i-pass-cookies-"
        "to-yt-dlp  for how to manually pass cookies.",
        Outcome.BLOCKED,
    ),
    # yt-dlp/yt-dlp#4455 (2022), KurtBestor/Hitomi-Downloader#4403: a private YouTube video
    (
        "ERROR: [youtube] M7mKMWjAxG8: Private video. Sign in if you've been granted access to this video",
        Outcome.PRIVATE,
    ),
    # reconstructed: YouTube's age-gate reason (ytdl-org/youtube-dl#22188) in yt-dlp's message form
    (
        "ERROR: [youtube] r_jCBNSsrWs: Sign in to confirm your age. This video may be inappropriate for some users.",
        Outcome.LOGIN_REQUIRED,
    ),
    # yt-dlp/yt-dlp#16605 (2026), bellingcat/tiktok-hashtag-analysis#40 (2025): TikTok's statusCode 10204
    ("ERROR: [TikTok] 7492044480611274030: Your IP address is blocked from accessing this post", Outcome.BLOCKED),
    # yt-dlp/yt-dlp#13007 (2025): TikTok changed its page
    (
        "ERROR: [TikTok] 7246823302692474154: Unable to extract webpage video data; please report this issue on  "
        "https://github.com/yt-dlp/yt-dlp/issues?q= , filling out the appropriate issue template.",
        Outcome.PARSE_ERROR,
    ),
    # yt-dlp 2026.11.23 against the fake server: TikTok statusCode 10216 (a private post)
    (
        "ERROR: [TikTok] 7123456789012345678: You do not have permission to view this post. Log into an account "
        "that has access. Use --cookies-from-browser or --cookies for the authentication. See  "
        "https://github.com/yt-dlp/yt-dlp/wiki/FAQ#how-do-i-pass-cookies-to-yt-dlp  for how to manually pass cookies",
        Outcome.PRIVATE,
    ),
    # yt-dlp 2026.11.23 against the fake server: X GraphQL tombstones of a deleted and of a protected post
    (
        "ERROR: [twitter] 1703436713362870723: Twitter API says: This Post was deleted by the Post author",
        Outcome.NOT_FOUND,
    ),
    (
        "ERROR: [twitter] 1703436713362870723: Twitter API says: You're unable to view this Post because this "
        "account owner limits who can view their Posts.",
        Outcome.PRIVATE,
    ),
    # yt-dlp 2026.11.23 against the fake server: an Instagram post page without the post (a login wall)
    (
        "ERROR: [Instagram] Chunk8-jurw: Instagram sent an empty media response. Check if this post is accessible "
        "in your browser without being logged-in. If it is not, then use --cookies-from-browser or --cookies for "
        "the authentication.",
        Outcome.BLOCKED,
    ),
    # reconstructed: yt-dlp's network-layer form ("Unable to download webpage: HTTP Error N: reason")
    (
        "ERROR: [Instagram] Chunk8-jurw: Unable to download webpage: HTTP Error 429: Too Many Requests",
        Outcome.RATE_LIMITED,
    ),
    ("ERROR: [TikTok] 7123: Unable to download webpage: HTTP Error 404: Not Found", Outcome.NOT_FOUND),
    (
        "ERROR: [twitter] 1790: Unable to download JSON metadata: HTTP Error 503: Service Unavailable",
        Outcome.UPSTREAM_ERROR,
    ),
    # reconstructed: YouTube's playability reasons for a region lock and a removed video, as yt-dlp raises them
    (
        "ERROR: [youtube] abcdefghijk: The uploader has not made this video available in your country",
        Outcome.GEO_RESTRICTED,
    ),
    ("ERROR: [youtube] abcdefghijk: Video unavailable. This video has been removed by the uploader", Outcome.NOT_FOUND),
]


@pytest.mark.parametrize(("message", "outcome"), RECORDED, ids=[f"{o.value}-{i}" for i, (_, o) in enumerate(RECORDED)])
def test_a_recorded_yt_dlp_message_maps_to_its_outcome(message, outcome):
    assert classify_message(message) is outcome


def test_a_message_no_rule_knows_is_a_parse_error_the_case_an_upgrade_of_yt_dlp_fixes():
    assert classify_message("ERROR: [TikTok] 1: Something new happened") is Outcome.PARSE_ERROR


def test_the_message_is_the_extractor_error_inside_the_download_error_without_colour():
    from yt_dlp.utils import DownloadError, ExtractorError

    inner = ExtractorError("\x1b[0;31mPrivate video\x1b[0m", expected=True)
    wrapped = DownloadError("ERROR: [youtube] x: Private video", exc_info=(ExtractorError, inner, None))
    assert _message(wrapped) == "Private video"
    assert _message(RuntimeError("ERROR: plain")) == "plain"


VIDEO = VideoToScrape("tiktok:1", Platform.TIKTOK, "1", "https://www.tiktok.com/@a/video/1")
AT = datetime(2026, 12, 1, 12, 0)


def test_every_count_yt_dlp_names_becomes_its_metric():
    info = {
        "view_count": 1000,
        "like_count": 90,
        "comment_count": 8,
        "repost_count": 7,
        "save_count": 6,
        "description": "the caption",
        "title": "the caption, truncated",
        "uploader": "a",
        "timestamp": 1_764_590_400,
        "duration": 31,
        "extractor_key": "TikTok",
    }
    observation = observation_from_info(VIDEO, info, AT)
    assert (observation.views, observation.likes, observation.comments, observation.shares, observation.saves) == (
        1000,
        90,
        8,
        7,
        6,
    )
    assert (observation.title, observation.account, observation.duration_s) == ("the caption", "a", 31.0)
    assert observation.posted_at == datetime(2025, 12, 1, 12, 0)


def test_a_count_yt_dlp_leaves_out_stays_null_never_zero():
    observation = observation_from_info(VIDEO, {"view_count": 5, "like_count": None}, AT)
    assert (observation.views, observation.likes, observation.comments, observation.shares, observation.saves) == (
        5,
        None,
        None,
        None,
        None,
    )


def test_a_count_that_is_not_one_is_refused_by_name():
    with pytest.raises(ValueError, match="like_count"):
        observation_from_info(VIDEO, {"view_count": 5, "like_count": "1.2K"}, AT)


def test_the_backend_setting_is_read_checked_and_named_in_its_error():
    settings = config.Settings.from_environ({"VIEWTRAIL_TIKTOK_BACKEND": "Auto"})
    assert settings.platform("tiktok").backend == "auto" and settings.platform("x").backend is None
    with pytest.raises(config.SettingsError, match="VIEWTRAIL_X_BACKEND='scrapy' is not a backend: use native, ytdlp"):
        config.Settings.from_environ({"VIEWTRAIL_X_BACKEND": "scrapy"})


def test_youtube_without_an_api_key_reads_through_yt_dlp_and_the_data_api_stays_the_default_with_one(monkeypatch):
    for name in ("YOUTUBE_API_KEY", "VIEWTRAIL_YOUTUBE_BACKEND", "VIEWTRAIL_TIKTOK_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    assert client_backend("youtube") == "ytdlp"
    assert client_backend("tiktok") == "native"
    monkeypatch.setenv("YOUTUBE_API_KEY", "AIzaKey")
    assert client_backend("youtube") == "native"
    monkeypatch.setenv("VIEWTRAIL_YOUTUBE_BACKEND", "ytdlp")
    assert client_backend("youtube") == "ytdlp"
    assert client_backend("youtube", "auto") == "auto"
