"""Account links: every form of one account maps to one account id; video and account links point to each
other's command; nothing else crashes parsing (table tests and property tests)."""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.test_urls_properties import any_link, decorated, query_strings, url_alphabet
from viewtrail.domain.models import AccountRef, Platform
from viewtrail.domain.urls import InvalidVideoUrl, canonical_account_url, parse_account_url, parse_video_url

FAST = settings(max_examples=300, deadline=None)
CHANNEL_ID = "UC_x5XG1OV2P6uZZ5FSM9Ttw"

# (pasted text, account_id, handle, canonical URL)
ACCEPTED = [
    ("https://www.tiktok.com/@nasa", "tiktok:nasa", "nasa", "https://www.tiktok.com/@nasa"),
    ("tiktok.com/@NASA?lang=en&is_from_webapp=1", "tiktok:nasa", "NASA", "https://www.tiktok.com/@NASA"),
    ("https://m.tiktok.com/@some.user_1/", "tiktok:some.user_1", "some.user_1", "https://www.tiktok.com/@some.user_1"),
    ("https://www.youtube.com/@NASA", "youtube:nasa", "NASA", "https://www.youtube.com/@NASA"),
    ("m.youtube.com/@nasa/shorts", "youtube:nasa", "nasa", "https://www.youtube.com/@nasa"),
    (
        f"https://www.youtube.com/channel/{CHANNEL_ID}/videos",
        f"youtube:{CHANNEL_ID}",
        None,
        f"https://www.youtube.com/channel/{CHANNEL_ID}",
    ),
    (
        f"https://music.youtube.com/channel/{CHANNEL_ID}",
        f"youtube:{CHANNEL_ID}",
        None,
        f"https://www.youtube.com/channel/{CHANNEL_ID}",
    ),
    ("https://www.youtube.com/c/NASA", "youtube:nasa", "NASA", "https://www.youtube.com/c/NASA"),
    # channel tabs: the same channel as its main page
    ("https://www.youtube.com/@NASA/home", "youtube:nasa", "NASA", "https://www.youtube.com/@NASA"),
    ("https://www.youtube.com/@NASA/posts", "youtube:nasa", "NASA", "https://www.youtube.com/@NASA"),
    ("https://www.youtube.com/@NASA/search?query=moon", "youtube:nasa", "NASA", "https://www.youtube.com/@NASA"),
    (
        f"https://www.youtube.com/channel/{CHANNEL_ID}/channels",
        f"youtube:{CHANNEL_ID}",
        None,
        f"https://www.youtube.com/channel/{CHANNEL_ID}",
    ),
    (
        f"https://www.youtube.com/channel/{CHANNEL_ID}/playlists",
        f"youtube:{CHANNEL_ID}",
        None,
        f"https://www.youtube.com/channel/{CHANNEL_ID}",
    ),
    ("youtube.com/c/NASA/home", "youtube:nasa", "NASA", "https://www.youtube.com/c/NASA"),
    ("youtube.com/c/NASA/search?query=apollo", "youtube:nasa", "NASA", "https://www.youtube.com/c/NASA"),
    (
        "youtube.com/user/NASAtelevision/featured",
        "youtube:nasatelevision",
        "NASAtelevision",
        "https://www.youtube.com/user/NASAtelevision",
    ),
    ("https://www.instagram.com/nasa/", "instagram:nasa", "nasa", "https://www.instagram.com/nasa/"),
    ("instagram.com/nasa?igsh=abc", "instagram:nasa", "nasa", "https://www.instagram.com/nasa/"),
    ("https://www.instagram.com/nasa/reels/", "instagram:nasa", "nasa", "https://www.instagram.com/nasa/"),
    ("https://instagr.am/nasa.gov", "instagram:nasa.gov", "nasa.gov", "https://www.instagram.com/nasa.gov/"),
    ("https://x.com/NASA", "x:nasa", "NASA", "https://x.com/NASA"),
    ("https://twitter.com/nasa?s=20", "x:nasa", "nasa", "https://x.com/nasa"),
    ("https://mobile.twitter.com/nasa/media", "x:nasa", "nasa", "https://x.com/nasa"),
    ("https://twitter.com/#!/jack", "x:jack", "jack", "https://x.com/jack"),
    ('"<https://x.com/nasa>"', "x:nasa", "nasa", "https://x.com/nasa"),
]


@pytest.mark.parametrize(("text", "account_id", "handle", "url"), ACCEPTED)
def test_accepted_account_forms(text, account_id, handle, url):
    ref = parse_account_url(text)
    assert (ref.account_id, ref.handle, ref.url) == (account_id, handle, url)
    assert parse_account_url(ref.url) == ref


def test_a_channel_url_carries_the_platform_id():
    ref = parse_account_url(f"youtube.com/channel/{CHANNEL_ID}")
    assert ref == AccountRef(Platform.YOUTUBE, None, f"https://www.youtube.com/channel/{CHANNEL_ID}", CHANNEL_ID)


# (pasted text, words the message must contain)
REJECTED = [
    ("", ["empty"]),
    ("@nasa", ["not an account link", "full link"]),
    ("nasa", ["not an account link"]),
    ("https://www.tiktok.com/@nasa/video/7234567890123456789", ["TikTok video", "`viewtrail track`"]),
    ("https://vm.tiktok.com/ZMabc123/", ["short link", "`viewtrail track`"]),
    ("https://youtu.be/dQw4w9WgXcQ", ["YouTube video", "`viewtrail track`"]),
    ("https://www.youtube.com/shorts/dQw4w9WgXcQ", ["`viewtrail track`"]),
    ("https://www.instagram.com/reel/C1a2B3c4D5e/", ["Instagram post", "`viewtrail track`"]),
    ("https://x.com/nasa/status/1790000000000000000", ["X post", "`viewtrail track`"]),
    ("https://www.tiktok.com/tag/cats", ["not a TikTok account link"]),
    ("https://www.tiktok.com/@_", ["not a TikTok account link"]),
    ("https://www.tiktokv.com/@nasa", ["not a TikTok account link"]),
    ("https://www.tiktokv.com/share/video/7234567890123456789", ["TikTok video", "`viewtrail track`"]),
    ("https://www.youtube.com/nasa", ["not a YouTube channel link", "@handle"]),
    ("https://www.youtube.com/channel/UCshort", ["not a YouTube channel link"]),
    ("https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG", ["not a YouTube channel link"]),
    ("https://music.youtube.com/@nasa", ["not a YouTube channel link"]),
    ("https://www.youtube.com/@nasa/community/extra", ["not a YouTube channel link"]),
    ("https://www.youtube.com/watch_popup?v=dQw4w9WgXcQ", ["YouTube video", "`viewtrail track`"]),
    ("https://www.youtubekids.com/watch?v=dQw4w9WgXcQ", ["YouTube video", "`viewtrail track`"]),
    *[
        (f"https://www.instagram.com/{page}/", ["not an Instagram account link"])
        for page in ("p", "reel", "reels", "explore", "accounts", "stories", "tv", "direct", "about", "developer")
    ],
    ("https://www.instagram.com/stories/nasa/3141592653589793238/", ["not an Instagram account link"]),
    ("https://www.instagram.com/explore/tags/space/", ["not an Instagram account link"]),
    *[
        (f"https://x.com/{page}", ["not an X account link"])
        for page in (
            "home",
            "search",
            "explore",
            "settings",
            "messages",
            "notifications",
            "compose",
            "intent",
            "share",
            "hashtag",
            "i",
            "login",
            "tos",
        )
    ],
    ("https://x.com/i/lists/123", ["not an X account link"]),
    ("https://x.com/hashtag/space", ["not an X account link"]),
    ("https://x.com/nasa/followers/extra", ["not an X account link"]),
    ("https://x.com/this_handle_is_far_too_long", ["not an X account link"]),
    ("https://example.com/@nasa", ["unsupported host", "account link"]),
    ("ftp://x.com/nasa", ["not a web link"]),
    ("https://x.com/nasa https://x.com/esa", ["spaces"]),
]


@pytest.mark.parametrize(("text", "words"), REJECTED)
def test_account_rejections_say_what_is_wrong(text, words):
    with pytest.raises(InvalidVideoUrl) as caught:
        parse_account_url(text)
    message = str(caught.value)
    for word in words:
        assert word in message, message
    assert "\n" not in message and message.endswith(".")


@pytest.mark.parametrize(
    ("text", "noun"),
    [
        ("https://www.tiktok.com/@nasa", "TikTok profile"),
        ("https://www.youtube.com/@nasa", "YouTube channel"),
        (f"https://www.youtube.com/channel/{CHANNEL_ID}", "YouTube channel"),
        ("https://www.instagram.com/nasa/", "Instagram profile"),
        ("https://x.com/nasa", "X profile"),
    ],
)
def test_an_account_link_given_as_a_video_names_watch(text, noun):
    with pytest.raises(InvalidVideoUrl) as caught:
        parse_video_url(text)
    assert noun in str(caught.value) and "`viewtrail watch`" in str(caught.value)


def test_canonical_account_url_validates_the_handle():
    assert canonical_account_url("x", "nasa") == "https://x.com/nasa"
    assert canonical_account_url("youtube", None, CHANNEL_ID) == f"https://www.youtube.com/channel/{CHANNEL_ID}"
    with pytest.raises(InvalidVideoUrl, match="not a valid TikTok handle"):
        canonical_account_url("tiktok", "no spaces allowed")


# ----------------------------------------------------------------------------------------- properties

tiktok_handles = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.]{1,23}", fullmatch=True)
youtube_handles = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{2,29}", fullmatch=True)
channel_ids = st.text(string.ascii_letters + string.digits + "-_", min_size=22, max_size=22).map(lambda s: "UC" + s)
instagram_handles = st.from_regex(r"[a-z0-9_][a-z0-9_.]{2,29}", fullmatch=True).filter(
    lambda h: (
        h not in {"p", "tv", "reel", "reels", "explore", "accounts", "stories", "direct", "about", "legal"}
        and h not in {"developer", "web", "api", "graphql", "challenge", "emails", "session", "privacy", "terms"}
        and h not in {"help", "press", "jobs", "blog", "oauth", "static", "topics", "directory", "lite", "nametag"}
        and h not in {"create", "archive", "your_activity", "insights", "threads", "ar", "_u", "_n"}
    )
)
x_handles = st.from_regex(r"[A-Za-z0-9_]{4,15}", fullmatch=True).filter(
    lambda h: (
        h.lower() not in {"home", "explore", "search", "settings", "messages", "hashtag", "intent", "share"}
        and h.lower() not in {"compose", "login", "signup", "privacy", "logout", "account", "jobs", "lists", "premium"}
        and h.lower() not in {"bookmarks", "communities", "verified", "who_to_follow", "download", "about", "signin"}
        and h.lower() not in {"oauth", "tweet", "status", "notifications"}
    )
)


@st.composite
def account_links(draw):
    platform = draw(st.sampled_from(list(Platform)))
    if platform is Platform.TIKTOK:
        handle = draw(tiktok_handles)
        host = draw(st.sampled_from(["www.tiktok.com", "m.tiktok.com", "tiktok.com"]))
        return draw(decorated(host, f"/@{handle}")), f"tiktok:{handle.lower()}"
    if platform is Platform.YOUTUBE:
        host = draw(st.sampled_from(["www.youtube.com", "m.youtube.com", "youtube.com"]))
        tab = draw(
            st.sampled_from(
                ["", "/home", "/videos", "/shorts", "/streams", "/featured", "/posts", "/channels", "/playlists"]
                + ["/search"]
            )
        )
        form = draw(st.sampled_from(["@", "channel", "c", "user"]))
        if form == "channel":
            channel = draw(channel_ids)
            return draw(decorated(host, f"/channel/{channel}{tab}")), f"youtube:{channel}"
        handle = draw(youtube_handles)
        path = f"/@{handle}" if form == "@" else f"/{form}/{handle}"
        return draw(decorated(host, path + tab)), f"youtube:{handle.lower()}"
    if platform is Platform.INSTAGRAM:
        handle = draw(instagram_handles)
        host = draw(st.sampled_from(["www.instagram.com", "instagram.com", "m.instagram.com", "instagr.am"]))
        tab = draw(st.sampled_from(["", "/reels", "/tagged"]))
        return draw(decorated(host, f"/{handle}{tab}")), f"instagram:{handle.lower()}"
    handle = draw(x_handles)
    host = draw(st.sampled_from(["x.com", "www.x.com", "twitter.com", "mobile.twitter.com", "www.twitter.com"]))
    tab = draw(st.sampled_from(["", "/media", "/with_replies", "/likes"]))
    return draw(decorated(host, f"/{handle}{tab}")), f"x:{handle.lower()}"


@FAST
@given(account_links())
def test_every_account_form_normalizes_idempotently(case):
    text, account_id = case
    ref = parse_account_url(text)
    assert ref.account_id == account_id
    assert parse_account_url(ref.url) == ref


@FAST
@given(account_links())
def test_an_account_link_is_never_a_video_and_names_watch(case):
    with pytest.raises(InvalidVideoUrl) as caught:
        parse_video_url(case[0])
    assert "`viewtrail watch`" in str(caught.value)


@FAST
@given(any_link)
def test_a_video_link_is_never_an_account_and_names_track(case):
    with pytest.raises(InvalidVideoUrl) as caught:
        parse_account_url(case[0])
    assert "`viewtrail track`" in str(caught.value)


def _only_invalid_url(text):
    try:
        ref = parse_account_url(text)
    except InvalidVideoUrl as error:
        assert str(error) and "\n" not in str(error)
        return
    assert isinstance(ref, AccountRef)
    assert parse_account_url(ref.url) == ref


@settings(max_examples=500, deadline=None)
@given(st.text())
@example("http://[::1")
@example("https://x.com\uff0f@evil.example/nasa")
@example("tiktok.com/@\u212a")
def test_arbitrary_text_raises_only_invalid_video_url(text):
    _only_invalid_url(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(url_alphabet, max_size=25).map("".join))
def test_url_like_noise_raises_only_invalid_video_url(text):
    _only_invalid_url(text)


@FAST
@given(account_links(), st.integers(min_value=0, max_value=120), st.text(max_size=3), query_strings)
def test_mangled_account_links_raise_only_invalid_video_url(case, cut, junk, query):
    text = case[0].strip()
    _only_invalid_url(text[:cut] + junk + text[cut:] + ("?" + query if query else ""))
