"""Every link form a user pastes maps to one video id; everything else gets a clear rejection."""

from __future__ import annotations

import pytest

from viewtrail.domain.models import Platform, ShortLink, VideoRef
from viewtrail.domain.urls import (
    InvalidVideoUrl,
    canonical_url,
    looks_like_video_id,
    parse_many,
    parse_video_url,
    split_video_id,
)

TT = "7234567890123456789"
TT2 = "7312345678901234567"
YT = "dQw4w9WgXcQ"
YT2 = "_-aB3cD4eF5"
IG = "C1a2B3c4D5e"
IG2 = "Chunk8-jurw"
IG_PRIVATE = "C1a2B3c4D5eAbCdEfGhIjKlMnOp_-q"
XID = "1790000000000000000"
XID2 = "20"

# (pasted text, platform argument, expected video_id, expected account)
ACCEPTED = [
    # TikTok
    (f"https://www.tiktok.com/@nasa/video/{TT}", None, f"tiktok:{TT}", "nasa"),
    (f"https://www.tiktok.com/@nasa/video/{TT}?is_from_webapp=1&sender_device=pc", None, f"tiktok:{TT}", "nasa"),
    (f"https://m.tiktok.com/@nasa/video/{TT}/", None, f"tiktok:{TT}", "nasa"),
    (f"tiktok.com/@Some.User_1/video/{TT2}", None, f"tiktok:{TT2}", "Some.User_1"),
    (f"http://WWW.TIKTOK.COM/@nasa/VIDEO/{TT}#comments", None, f"tiktok:{TT}", "nasa"),
    (f"  https://www.tiktok.com/@nasa/photo/{TT2}?lang=en  ", None, f"tiktok:{TT2}", "nasa"),
    (f"https://m.tiktok.com/v/{TT}.html", None, f"tiktok:{TT}", None),
    (f"https://www.tiktok.com/embed/v2/{TT}", None, f"tiktok:{TT}", None),
    (f"https://www.tiktok.com/@_/video/{TT}", None, f"tiktok:{TT}", None),
    # share links from the TikTok app
    (f"https://www.tiktok.com/share/video/{TT}", None, f"tiktok:{TT}", None),
    (f"https://www.tiktokv.com/share/video/{TT}/?u_code=abc&share_app_id=1233", None, f"tiktok:{TT}", None),
    (f"https://m.tiktokv.com/share/video/{TT2}", None, f"tiktok:{TT2}", None),
    (TT, "tiktok", f"tiktok:{TT}", None),
    (TT2, Platform.TIKTOK, f"tiktok:{TT2}", None),
    ("tiktok.com/@a/video/1", None, "tiktok:1", "a"),
    # YouTube
    (f"https://www.youtube.com/watch?v={YT}", None, f"youtube:{YT}", None),
    (
        f"https://www.youtube.com/watch?v={YT}&t=42s&list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG",
        None,
        f"youtube:{YT}",
        None,
    ),
    (f"https://www.youtube.com/watch?feature=share&v={YT}", None, f"youtube:{YT}", None),
    (f"youtube.com/watch?app=desktop&v={YT2}#t=30", None, f"youtube:{YT2}", None),
    (f"youtube.com/watch?v={YT2}/", None, f"youtube:{YT2}", None),
    # "&" escaped as "&amp;" by HTML source or a chat export
    (f"https://www.youtube.com/watch?v={YT}&amp;t=10", None, f"youtube:{YT}", None),
    (f"https://www.youtube.com/watch?feature=share&amp;v={YT}", None, f"youtube:{YT}", None),
    (f"https://www.youtube.com/watch?app=desktop&amp;feature=share&amp;v={YT2}&amp;t=10", None, f"youtube:{YT2}", None),
    (f"https://m.youtube.com/watch?v={YT}", None, f"youtube:{YT}", None),
    (f"https://music.youtube.com/watch?v={YT}&si=abc", None, f"youtube:{YT}", None),
    (f"https://youtu.be/{YT}", None, f"youtube:{YT}", None),
    (f"youtu.be/{YT2}?si=Zx81_Qp", None, f"youtube:{YT2}", None),
    (f"https://www.youtube.com/shorts/{YT}?feature=share", None, f"youtube:{YT}", None),
    (f"https://www.youtube.com/embed/{YT}?autoplay=1", None, f"youtube:{YT}", None),
    (f"https://www.youtube.com/live/{YT}", None, f"youtube:{YT}", None),
    (f"https://www.youtube.com/v/{YT}?version=3", None, f"youtube:{YT}", None),
    (f"https://www.youtube-nocookie.com/embed/{YT}", None, f"youtube:{YT}", None),
    (f"https://www.youtube.com/watch_popup?v={YT}", None, f"youtube:{YT}", None),
    (f"https://www.youtubekids.com/watch?v={YT}", None, f"youtube:{YT}", None),
    (f"youtubekids.com/watch?v={YT2}&hl=en", None, f"youtube:{YT2}", None),
    (f"HTTPS://WWW.YOUTUBE.COM/shorts/{YT}/", None, f"youtube:{YT}", None),
    (YT, "youtube", f"youtube:{YT}", None),
    (YT2, "YouTube", f"youtube:{YT2}", None),
    # Instagram
    (f"https://www.instagram.com/p/{IG}/", None, f"instagram:{IG}", None),
    (f"https://www.instagram.com/reel/{IG2}/?igsh=MTc4MmM1YmI2Ng==", None, f"instagram:{IG2}", None),
    (f"instagram.com/reels/{IG2}?utm_source=ig_web_copy_link", None, f"instagram:{IG2}", None),
    (f"https://www.instagram.com/tv/{IG}", None, f"instagram:{IG}", None),
    (f"https://www.instagram.com/nasa/p/{IG}/", None, f"instagram:{IG}", None),
    (f"https://www.instagram.com/nasa/reel/{IG2}/", None, f"instagram:{IG2}", None),
    (f"https://instagr.am/p/{IG}", None, f"instagram:{IG}", None),
    (f"https://www.instagram.com/p/{IG_PRIVATE}/", None, f"instagram:{IG_PRIVATE}", None),
    (IG, "instagram", f"instagram:{IG}", None),
    (IG2, "ig", f"instagram:{IG2}", None),
    # X
    (f"https://x.com/nasa/status/{XID}", None, f"x:{XID}", "nasa"),
    (f"https://twitter.com/NASA/status/{XID}?s=20&t=AbCdEf", None, f"x:{XID}", "NASA"),
    (f"https://mobile.twitter.com/nasa/status/{XID}/video/1", None, f"x:{XID}", "nasa"),
    (f"https://www.twitter.com/nasa/status/{XID}/photo/1", None, f"x:{XID}", "nasa"),
    (f"x.com/i/status/{XID}", None, f"x:{XID}", None),
    (f"https://x.com/i/web/status/{XID}", None, f"x:{XID}", None),
    (f"https://twitter.com/jack/statuses/{XID2}", None, f"x:{XID2}", "jack"),
    (f"https://twitter.com/#!/jack/status/{XID2}", None, f"x:{XID2}", "jack"),
    (XID, "x", f"x:{XID}", None),
    (XID2, "twitter", f"x:{XID2}", None),
    # video ids (what `untrack ID` receives)
    (f"youtube:{YT}", None, f"youtube:{YT}", None),
    (f"tiktok:{TT}", None, f"tiktok:{TT}", None),
    (f"instagram:{IG2}", None, f"instagram:{IG2}", None),
    (f"x:{XID}", "x", f"x:{XID}", None),
    # pasted from a CSV cell / chat
    (f'"https://youtu.be/{YT}"', None, f"youtube:{YT}", None),
    (f"<https://x.com/nasa/status/{XID}>", None, f"x:{XID}", "nasa"),
]


@pytest.mark.parametrize(("text", "platform", "video_id", "account"), ACCEPTED)
def test_accepted_forms_map_to_the_video_id(text, platform, video_id, account):
    ref = parse_video_url(text, platform)
    assert isinstance(ref, VideoRef)
    assert ref.video_id == video_id
    assert ref.account == account
    assert ref.url == canonical_url(ref.platform, ref.external_id, ref.account)
    assert parse_video_url(ref.url) == ref  # idempotent: the stored URL parses to itself


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("https://vm.tiktok.com/ZMabc123/", "https://vm.tiktok.com/ZMabc123/"),
        ("vm.tiktok.com/ZMabc123?_r=1", "https://vm.tiktok.com/ZMabc123/"),
        ("https://vt.tiktok.com/ZSxYz987/", "https://vt.tiktok.com/ZSxYz987/"),
        ("https://www.tiktok.com/t/ZTRabcDEF/?t=1", "https://www.tiktok.com/t/ZTRabcDEF/"),
        ("tiktok.com/t/ZTRabcDEF", "https://www.tiktok.com/t/ZTRabcDEF/"),
    ],
)
def test_tiktok_short_links_need_a_redirect_lookup(text, url):
    link = parse_video_url(text)
    assert link == ShortLink(Platform.TIKTOK, url)
    assert parse_video_url(link.url) == link


@pytest.mark.parametrize(
    "forms",
    [
        [
            f"https://www.tiktok.com/@nasa/video/{TT}",
            f"m.tiktok.com/@someoneelse/photo/{TT}?x=1",
            TT,
            f"https://m.tiktok.com/v/{TT}.html",
            f"https://www.tiktokv.com/share/video/{TT}",
            f"tiktok:{TT}",
        ],
        [
            f"https://www.youtube.com/watch?v={YT}&t=1",
            f"https://youtu.be/{YT}",
            f"youtube.com/shorts/{YT}",
            f"https://music.youtube.com/watch?v={YT}",
            f"https://www.youtube.com/watch_popup?v={YT}",
            f"https://www.youtubekids.com/watch?v={YT}",
            YT,
        ],
        [
            f"https://www.instagram.com/p/{IG2}/",
            f"instagram.com/reel/{IG2}?igsh=x",
            f"https://www.instagram.com/nasa/reel/{IG2}/",
            IG2,
        ],
        [
            f"https://x.com/nasa/status/{XID}",
            f"https://twitter.com/i/web/status/{XID}",
            f"mobile.twitter.com/NASA/status/{XID}/video/1",
            XID,
        ],
    ],
)
def test_the_same_video_in_different_forms_is_one_video(forms):
    platform = parse_video_url(forms[0]).platform
    assert len({parse_video_url(form, platform).video_id for form in forms}) == 1


def test_instagram_shortcodes_keep_their_case():
    upper, lower = parse_video_url("instagram.com/p/ABCDEfghij1"), parse_video_url("instagram.com/p/abcdefghij1")
    assert upper.external_id == "ABCDEfghij1"
    assert upper.video_id != lower.video_id


def test_account_is_informational_only():
    a = parse_video_url(f"tiktok.com/@alice/video/{TT}")
    b = parse_video_url(f"tiktok.com/@bob/video/{TT}")
    assert (a.video_id, a.account, b.account) == (b.video_id, "alice", "bob")


# (pasted text, platform argument, words the message must contain)
REJECTED = [
    ("", None, ["empty"]),
    ("   ", None, ["empty"]),
    ("https://www.tiktok.com/@nasa", None, ["TikTok profile", "not a video", "/video/"]),
    ("https://www.tiktok.com/@nasa/", None, ["TikTok profile"]),
    ("https://www.tiktok.com/", None, ["no TikTok video id"]),
    ("https://www.tiktok.com/@nasa/video/", None, ["no TikTok video id"]),
    ("https://www.tiktok.com/@nasa/video/12ab34", None, ["valid TikTok video id", "digits"]),
    ("https://www.tiktok.com/@nasa/video/12345678901234567890123456", None, ["valid TikTok video id"]),
    ("https://www.tiktok.com/tag/cats", None, ["hashtag", "not a video"]),
    ("https://vm.tiktok.com/", None, ["short link"]),
    ("https://www.tiktok.com/share/video/", None, ["no TikTok video id"]),
    ("https://www.tiktokv.com/share/video/12ab34", None, ["valid TikTok video id"]),
    ("https://www.tiktokv.com/@nasa/video/7234567890123456789", None, ["not a TikTok video share link"]),
    ("https://www.youtube.com/@nasa", None, ["YouTube channel", "not a video"]),
    ("https://www.youtube.com/channel/UC_x5XG1OV2P6uZZ5FSM9Ttw", None, ["YouTube channel"]),
    ("https://www.youtube.com/c/NASA", None, ["YouTube channel"]),
    ("https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG", None, ["playlist", "not a video"]),
    ("https://www.youtube.com/watch?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG", None, ["playlist"]),
    ("https://www.youtube.com/watch?app=desktop&amp;list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG", None, ["playlist"]),
    ("https://www.youtube.com/embed/videoseries?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG", None, ["playlist"]),
    ("https://www.youtube.com/watch?v=dQw4w9WgXc", None, ["valid YouTube video id", "11"]),
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQQ", None, ["valid YouTube video id"]),
    ("https://youtu.be/", None, ["no YouTube video id"]),
    ("https://www.youtube.com/watch", None, ["no YouTube video id"]),
    ("https://www.youtube.com/watch_popup", None, ["no YouTube video id"]),
    ("https://www.youtube.com/watch_popup?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG", None, ["playlist"]),
    ("https://www.youtube.com/shorts/", None, ["no YouTube video id"]),
    ("https://www.instagram.com/nasa/", None, ["Instagram profile", "not a post"]),
    ("https://www.instagram.com/nasa/reels/", None, ["Instagram profile"]),
    ("https://www.instagram.com/p/", None, ["no Instagram shortcode"]),
    ("https://www.instagram.com/p/abc/", None, ["valid Instagram video id"]),
    ("https://www.instagram.com/stories/nasa/3141592653589793238/", None, ["story"]),
    ("https://x.com/nasa", None, ["X profile", "not a post"]),
    ("https://x.com/nasa/status/", None, ["no X video id"]),
    ("https://x.com/nasa/status/12x4", None, ["valid X video id", "digits"]),
    ("https://x.com/home", None, ["not an X post link"]),
    ("https://example.com/watch?v=dQw4w9WgXcQ", None, ["unsupported host", "example.com"]),
    ("https://www.tiktok.com.evil.example/@nasa/video/1", None, ["unsupported host"]),
    ("ftp://youtube.com/watch?v=dQw4w9WgXcQ", None, ["not a web link"]),
    ("https://youtu.be/dQw4w9WgXcQ https://youtu.be/dQw4w9WgXcQ", None, ["spaces"]),
    ("http://[::1", None, ["not a valid link"]),
    (YT, None, ["bare id", "--platform", "tiktok|youtube|instagram|x"]),
    (TT, None, ["bare id", "--platform"]),
    ("abc", "youtube", ["valid YouTube video id"]),
    (TT, "myspace", ["Platform", "not supported", "tiktok|youtube|instagram|x"]),
    (f"https://youtu.be/{YT}", "tiktok", ["YouTube link", "--platform tiktok"]),
    (f"youtube:{YT}", "x", ["YouTube link", "--platform x"]),
    ("youtube:abc", None, ["valid YouTube video id"]),
]


@pytest.mark.parametrize(("text", "platform", "words"), REJECTED)
def test_rejections_say_what_is_wrong(text, platform, words):
    with pytest.raises(InvalidVideoUrl) as caught:
        parse_video_url(text, platform)
    message = str(caught.value)
    for word in words:
        assert word in message, message
    assert "\n" not in message
    assert message.rstrip().endswith(".")


def test_invalid_video_url_is_a_value_error():
    with pytest.raises(ValueError):
        parse_video_url("https://www.tiktok.com/@nasa")


@pytest.mark.parametrize(
    ("platform", "external_id", "account", "url"),
    [
        ("tiktok", TT, "nasa", f"https://www.tiktok.com/@nasa/video/{TT}"),
        ("tiktok", TT, None, f"https://www.tiktok.com/@_/video/{TT}"),
        (Platform.YOUTUBE, YT, "ignored", f"https://www.youtube.com/watch?v={YT}"),
        ("instagram", IG, None, f"https://www.instagram.com/p/{IG}/"),
        ("x", XID, "nasa", f"https://x.com/nasa/status/{XID}"),
        ("x", XID, None, f"https://x.com/i/status/{XID}"),
        ("x", XID, "not a handle", f"https://x.com/i/status/{XID}"),
    ],
)
def test_canonical_url(platform, external_id, account, url):
    assert canonical_url(platform, external_id, account) == url


def test_canonical_url_rejects_a_malformed_id():
    with pytest.raises(InvalidVideoUrl, match="YouTube"):
        canonical_url("youtube", "short")


def test_split_video_id_and_looks_like_video_id():
    assert split_video_id(f"youtube:{YT}") == (Platform.YOUTUBE, YT)
    assert split_video_id(f" tiktok:{TT} ") == (Platform.TIKTOK, TT)
    assert looks_like_video_id(f"instagram:{IG}")
    assert looks_like_video_id(f"x:{XID}")
    for text in [f"https://youtu.be/{YT}", YT, "youtube:short", f"myspace:{TT}", "", f"x:{XID}/video"]:
        assert not looks_like_video_id(text), text
    with pytest.raises(InvalidVideoUrl, match="unknown platform"):
        split_video_id(f"myspace:{TT}")
    with pytest.raises(InvalidVideoUrl, match="not a video id"):
        split_video_id(f"https://youtu.be/{YT}")


def test_parse_video_url_takes_a_url_a_video_id_or_a_bare_id():
    expected = parse_video_url(f"https://youtu.be/{YT}")
    assert parse_video_url(f"youtube:{YT}") == expected
    assert parse_video_url(YT, "youtube") == expected
    assert parse_video_url(f"https://www.youtube.com/watch?v={YT}") == expected
    assert parse_video_url(expected.url) == expected


def test_parse_many_returns_errors_in_place():
    results = parse_many([f"https://youtu.be/{YT}", "https://example.com/a", f"tiktok:{TT}"])
    assert isinstance(results[0], VideoRef) and results[0].video_id == f"youtube:{YT}"
    assert isinstance(results[1], InvalidVideoUrl) and "unsupported host" in str(results[1])
    assert isinstance(results[2], VideoRef) and results[2].video_id == f"tiktok:{TT}"


def test_parse_many_with_platform_for_bare_ids():
    assert [r.video_id for r in parse_many([XID, XID2], "x")] == [f"x:{XID}", f"x:{XID2}"]


def test_bulk_parse_keeps_ten_thousand_distinct_videos():
    links = [f"https://www.tiktok.com/@user{i}/video/{7234567890123450000 + i}?lang=en" for i in range(10_000)]
    results = parse_many(links)
    assert len({r.video_id for r in results}) == 10_000
