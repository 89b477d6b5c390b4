"""Property tests: no input crashes URL parsing, and normalization is idempotent for every accepted form."""

from __future__ import annotations

import string

from hypothesis import example, given, settings
from hypothesis import strategies as st

from viewtrail.domain.models import Platform, ShortLink, VideoRef
from viewtrail.domain.urls import InvalidVideoUrl, looks_like_video_id, parse_video_url, split_video_id

FAST = settings(max_examples=300, deadline=None)

SHORTCODE_CHARS = string.ascii_letters + string.digits + "-_"

tiktok_ids = st.from_regex(r"[1-9][0-9]{14,20}", fullmatch=True)
# "videoseries" is the one 11-char path word YouTube reserves (embedded playlists)
youtube_ids = st.text(SHORTCODE_CHARS, min_size=11, max_size=11).filter(lambda v: v != "videoseries")
instagram_codes = st.text(SHORTCODE_CHARS, min_size=5, max_size=50)
x_ids = st.from_regex(r"[1-9][0-9]{0,19}", fullmatch=True)
tiktok_handles = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.]{1,23}", fullmatch=True)
x_handles = st.from_regex(r"[A-Za-z0-9_]{2,15}", fullmatch=True).filter(lambda h: h.lower() != "i")
ig_users = st.from_regex(r"[a-z0-9_][a-z0-9_.]{2,20}", fullmatch=True).filter(
    lambda u: u not in {"p", "reel", "reels", "tv"}
)

# query values and fragments as they appear in shared links (igsh=, si=, s=20&t=..., utm_*)
query_strings = st.lists(
    st.tuples(
        st.from_regex(r"[a-z_]{1,12}", fullmatch=True).filter(lambda k: k != "v"),
        st.text(string.ascii_letters + string.digits + "-_=%.", max_size=20),
    ),
    max_size=4,
).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs))


@st.composite
def decorated(draw, host: str, path: str, query_allowed: bool = True) -> str:
    """Wrap a host and path the way users paste them: scheme or not, case, slash, query, fragment, spaces."""
    scheme = draw(st.sampled_from(["https://", "http://", "", "HTTPS://", "//"]))
    if draw(st.booleans()):
        host = host.upper()
    url = scheme + host + path
    if draw(st.booleans()):
        url += "/"
    if query_allowed:
        query = draw(query_strings)
        if query:
            url += "?" + query
    if draw(st.booleans()):
        url += "#" + draw(st.text(string.ascii_letters + string.digits, max_size=8))
    pad = draw(st.sampled_from(["", " ", "\t", "\n", "  "]))
    return pad + url + pad


@st.composite
def tiktok_links(draw):
    vid, handle = draw(tiktok_ids), draw(tiktok_handles)
    kind = draw(st.sampled_from(["video", "photo", "share"]))
    if kind == "share":
        host = draw(st.sampled_from(["www.tiktok.com", "www.tiktokv.com", "m.tiktokv.com"]))
        return draw(decorated(host, f"/share/video/{vid}")), Platform.TIKTOK, vid
    host = draw(st.sampled_from(["www.tiktok.com", "m.tiktok.com", "tiktok.com"]))
    return draw(decorated(host, f"/@{handle}/{kind}/{vid}")), Platform.TIKTOK, vid


@st.composite
def youtube_links(draw):
    vid = draw(youtube_ids)
    form = draw(
        st.sampled_from(["watch", "watch_popup", "kids", "youtu.be", "shorts", "embed", "live", "v", "nocookie"])
    )
    if form == "youtu.be":
        return draw(decorated("youtu.be", f"/{vid}")), Platform.YOUTUBE, vid
    if form == "nocookie":
        return draw(decorated("www.youtube-nocookie.com", f"/embed/{vid}")), Platform.YOUTUBE, vid
    host = draw(st.sampled_from(["www.youtube.com", "youtube.com", "m.youtube.com", "music.youtube.com"]))
    if form == "kids":
        host, form = draw(st.sampled_from(["www.youtubekids.com", "youtubekids.com"])), "watch"
    if form in ("watch", "watch_popup"):
        before, after = draw(query_strings), draw(query_strings)
        joiner = draw(st.sampled_from(["&", "&amp;"]))  # "&amp;": copied out of HTML
        query = joiner.join(part for part in (before, f"v={vid}", after) if part)
        return draw(decorated(host, f"/{form}?{query}", query_allowed=False)), Platform.YOUTUBE, vid
    return draw(decorated(host, f"/{form}/{vid}")), Platform.YOUTUBE, vid


@st.composite
def instagram_links(draw):
    code = draw(instagram_codes)
    host = draw(st.sampled_from(["www.instagram.com", "instagram.com", "instagr.am"]))
    kind = draw(st.sampled_from(["p", "reel", "reels", "tv"]))
    prefix = f"/{draw(ig_users)}" if draw(st.booleans()) and kind in ("p", "reel") else ""
    return draw(decorated(host, f"{prefix}/{kind}/{code}")), Platform.INSTAGRAM, code


@st.composite
def x_links(draw):
    vid = draw(x_ids)
    host = draw(st.sampled_from(["x.com", "www.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com"]))
    owner = draw(st.one_of(x_handles, st.just("i"), st.just("i/web")))
    suffix = draw(st.sampled_from(["", "/video/1", "/photo/1", "/photo/2"]))
    return draw(decorated(host, f"/{owner}/status/{vid}{suffix}")), Platform.X, vid


any_link = st.one_of(tiktok_links(), youtube_links(), instagram_links(), x_links())


@FAST
@given(any_link)
def test_every_accepted_form_normalizes_idempotently(case):
    text, platform, external_id = case
    ref = parse_video_url(text)
    assert isinstance(ref, VideoRef)
    assert (ref.platform, ref.external_id) == (platform, external_id)
    again = parse_video_url(ref.url)
    assert again == ref
    assert parse_video_url(again.url) == again
    assert parse_video_url(ref.video_id).video_id == ref.video_id
    assert looks_like_video_id(ref.video_id)
    assert split_video_id(ref.video_id) == (platform, external_id)
    # the --platform hint agrees with the link, so it changes nothing
    assert parse_video_url(text, platform) == ref


@FAST
@given(st.sampled_from(list(Platform)), st.data())
def test_bare_ids_with_a_platform_round_trip(platform, data):
    strategy = {
        Platform.TIKTOK: tiktok_ids,
        Platform.YOUTUBE: youtube_ids,
        Platform.INSTAGRAM: instagram_codes,
        Platform.X: x_ids,
    }[platform]
    external_id = data.draw(strategy)
    ref = parse_video_url(external_id, platform.value)
    assert ref.video_id == f"{platform.value}:{external_id}"
    assert parse_video_url(ref.url) == ref


@FAST
@given(
    st.sampled_from(["vm.tiktok.com", "vt.tiktok.com", "www.tiktok.com/t", "tiktok.com/t"]),
    st.from_regex(r"[A-Za-z0-9]{6,12}", fullmatch=True),
    st.data(),
)
def test_short_links_normalize_idempotently(prefix, code, data):
    host, _, path = prefix.partition("/")
    text = data.draw(decorated(host, (f"/{path}" if path else "") + f"/{code}"))
    link = parse_video_url(text)
    assert isinstance(link, ShortLink)
    assert link.url.endswith(f"/{code}/")
    assert parse_video_url(link.url) == link


def _only_invalid_video_url(text, platform=None):
    try:
        result = parse_video_url(text, platform)
    except InvalidVideoUrl as error:
        message = str(error)
        assert message and "\n" not in message
        return
    assert isinstance(result, VideoRef | ShortLink)
    assert parse_video_url(result.url) == result


@settings(max_examples=500, deadline=None)
@given(st.text(), st.sampled_from([None, "tiktok", "youtube", "instagram", "x"]))
@example("http://[::1", None)
@example("https://youtube.com\uff0f@evil.example/watch?v=dQw4w9WgXcQ", None)
@example("youtube.com/watch?v=\u0661\u0662\u0663", None)
@example("x.com/nasa/status/\u0661\u0662\u0663", None)
@example("https://tiktok.com:notaport/@a/video/1", None)
@example("x:", None)
@example(":", "x")
def test_arbitrary_text_raises_only_invalid_video_url(text, platform):
    _only_invalid_video_url(text, platform)


url_alphabet = st.sampled_from(
    list("/:?#&=@.%-_~+![]")
    + list("aAvVpPiI019")
    + [
        "www.",
        "youtube.com",
        "youtu.be",
        "tiktok.com",
        "instagram.com",
        "x.com",
        "twitter.com",
        "status",
        "video",
        "reel",
        "watch",
        "shorts",
        "https://",
        "@",
        "%2F",
        "%40",
        "\u212a",
        "\u0661",
        " ",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(url_alphabet, max_size=25).map("".join), st.sampled_from([None, "tiktok", "youtube", "x", "ig"]))
def test_url_like_noise_raises_only_invalid_video_url(text, platform):
    _only_invalid_video_url(text, platform)


@FAST
@given(any_link, st.integers(min_value=0, max_value=200), st.text(max_size=3))
def test_mangled_links_raise_only_invalid_video_url(case, cut, junk):
    text = case[0].strip()
    _only_invalid_video_url(text[:cut] + junk + text[cut:])
