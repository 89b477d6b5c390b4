"""TikTok's URL grammar: ids, handles and every link form (see ``viewtrail.domain.urls`` for the contract).

Canonical video URL ``https://www.tiktok.com/@{account}/video/{id}``; when the handle is unknown the placeholder
handle ``_`` is used (``https://www.tiktok.com/@_/video/{id}``), which TikTok redirects to the real author and
which parses back to ``account=None``. Share links (``/share/video/<id>`` on ``tiktok.com`` or ``tiktokv.com``)
carry the id but not the author. Short links (``vm.tiktok.com/<code>/``, ``tiktok.com/t/<code>/``) become
:class:`ShortLink` s. Canonical account URL ``https://www.tiktok.com/@{handle}``.
"""

from __future__ import annotations

import re

from viewtrail.domain.models import AccountRef, Platform, ShortLink, VideoRef
from viewtrail.domain.urls import InvalidVideoUrl, handle_ref, invalid_handle, video_ref
from viewtrail.platforms.tiktok.spec import SHARE_HOSTS, SHORT_LINK_HOSTS, SPEC

ID_PATTERN = re.compile(r"[0-9]{1,25}", re.ASCII)
ID_RULE = "1 to 25 digits"
_SHORT_CODE = re.compile(r"[A-Za-z0-9_-]{3,40}", re.ASCII)
_HANDLE = re.compile(r"[A-Za-z0-9_.]{1,50}", re.ASCII)
#: Placeholder handle used in canonical URLs when the author is unknown (TikTok handles have at least two
#: characters, so ``_`` can never be a real one).
UNKNOWN_HANDLE = "_"

_NON_VIDEO = {
    "tag": "hashtag page",
    "music": "sound page",
    "discover": "discover page",
    "search": "search page",
    "explore": "explore page",
    "foryou": "feed",
    "following": "feed",
    "live": "live page",
}


def video_account(account: str | None) -> str | None:
    """The handle a canonical video URL carries, or None when it is missing or malformed."""
    if not account or account == UNKNOWN_HANDLE or not _HANDLE.fullmatch(account):
        return None
    return account


def canonical_url(external_id: str, account: str | None) -> str:
    return f"https://www.tiktok.com/@{account or UNKNOWN_HANDLE}/video/{external_id}"


def read_video(host: str, segs: list[str], query: str, shown: str) -> VideoRef | ShortLink:
    if host in SHORT_LINK_HOSTS:
        if not segs:
            raise InvalidVideoUrl(f"{shown} is a TikTok short link without its code: copy the whole link.")
        code = segs[0]
        if not _SHORT_CODE.fullmatch(code):
            raise InvalidVideoUrl(f"{shown} is a TikTok short link with a malformed code: copy the whole link.")
        return ShortLink(Platform.TIKTOK, f"https://{host}/{code}/")
    if not segs:
        raise InvalidVideoUrl(f"{shown} has no TikTok video id: paste a link like {SPEC.video_example}.")
    first = segs[0]
    head = first.lower()
    if head == "share" and len(segs) >= 2 and segs[1].lower() == "video":  # /share/video/<id>, from the app
        return video_ref(Platform.TIKTOK, segs[2] if len(segs) >= 3 else "", shown)
    if host in SHARE_HOSTS:
        raise InvalidVideoUrl(f"{shown} is not a TikTok video share link: paste a link like {SPEC.video_example}.")
    if head == "t":
        if len(segs) < 2 or not _SHORT_CODE.fullmatch(segs[1]):
            raise InvalidVideoUrl(f"{shown} is a TikTok short link without a valid code: copy the whole link.")
        return ShortLink(Platform.TIKTOK, f"https://www.tiktok.com/t/{segs[1]}/")
    if first.startswith("@"):
        handle = first[1:]
        if len(segs) >= 2 and segs[1].lower() in ("video", "photo"):
            return video_ref(Platform.TIKTOK, segs[2] if len(segs) >= 3 else "", shown, handle)
        raise InvalidVideoUrl(
            f"{shown} is a TikTok profile, not a video: paste the link of one video (…/@user/video/<id>)."
        )
    if head in ("v", "video") and len(segs) >= 2:  # m.tiktok.com/v/<id>.html, tiktok.com/video/<id>
        vid = segs[1]
        if vid.lower().endswith(".html"):
            vid = vid[:-5]
        return video_ref(Platform.TIKTOK, vid, shown)
    if head == "embed" and len(segs) >= 2:  # /embed/<id>, /embed/v2/<id>
        return video_ref(Platform.TIKTOK, segs[2] if segs[1].lower() == "v2" and len(segs) >= 3 else segs[1], shown)
    if head == "player" and len(segs) >= 3 and segs[1].lower() == "v1":
        return video_ref(Platform.TIKTOK, segs[2], shown)
    kind = _NON_VIDEO.get(head)
    if kind:
        raise InvalidVideoUrl(f"{shown} is a TikTok {kind}, not a video: paste the link of one video.")
    raise InvalidVideoUrl(f"{shown} is not a TikTok video link: paste a link like {SPEC.video_example}.")


def canonical_account_url(handle: str | None, platform_account_id: str | None) -> str:
    if not handle or handle == UNKNOWN_HANDLE or not _HANDLE.fullmatch(handle):
        raise invalid_handle(Platform.TIKTOK, handle)
    return f"https://www.tiktok.com/@{handle}"


def read_account(host: str, segs: list[str]) -> AccountRef | None:
    if host in SHORT_LINK_HOSTS or host in SHARE_HOSTS or len(segs) != 1 or not segs[0].startswith("@"):
        return None
    handle = segs[0][1:]
    if handle == UNKNOWN_HANDLE or not _HANDLE.fullmatch(handle):
        return None
    return handle_ref(Platform.TIKTOK, handle)
