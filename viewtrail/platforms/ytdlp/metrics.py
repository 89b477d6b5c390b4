"""yt-dlp's info dict as one viewtrail observation.

yt-dlp names its counts the same way for every site: ``view_count``, ``like_count``, ``comment_count``,
``repost_count`` (TikTok's shares, X's reposts) and ``save_count`` (TikTok's collects). A count yt-dlp leaves
out, or sets to ``None``, stays ``None`` here: a hidden metric is never a zero.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from viewtrail.domain.models import Observation, Platform, VideoToScrape
from viewtrail.platforms.http import to_count

__all__ = ["COUNTS", "observation_from_info"]

#: viewtrail's metric -> yt-dlp's field.
COUNTS = {
    "views": "view_count",
    "likes": "like_count",
    "comments": "comment_count",
    "shares": "repost_count",
    "saves": "save_count",
}
#: Where each platform's handle is in the info dict, most telling first.
_ACCOUNT_FIELDS: dict[Platform, tuple[str, ...]] = {
    Platform.TIKTOK: ("uploader", "channel"),
    Platform.YOUTUBE: ("channel", "uploader", "uploader_id"),
    Platform.INSTAGRAM: ("channel", "uploader_id"),
    Platform.X: ("uploader_id", "uploader"),
}
#: Platforms whose posts have a caption rather than a title: yt-dlp's ``title`` is made up from it.
_CAPTIONED = frozenset({Platform.TIKTOK, Platform.INSTAGRAM, Platform.X})


def _text(info: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = info.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _posted_at(info: dict[str, Any]) -> datetime | None:
    stamp = info.get("timestamp")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool) and stamp > 0:
        return datetime.fromtimestamp(stamp, UTC).replace(tzinfo=None)
    day = info.get("upload_date")
    if isinstance(day, str) and len(day) == 8 and day.isdigit():
        return datetime.strptime(day, "%Y%m%d")
    return None


def observation_from_info(video: VideoToScrape, info: dict[str, Any], observed_at: datetime) -> Observation:
    """The observation of ``video`` from yt-dlp's ``info``; ``ValueError`` names a count that is not one."""

    def count(name: str) -> int | None:
        return to_count(info.get(COUNTS[name]), COUNTS[name])

    duration = info.get("duration")
    captioned = video.platform in _CAPTIONED
    extra: dict[str, Any] = {"extractor": str(info.get("extractor_key") or info.get("extractor") or "")}
    channel_id = info.get("channel_id")
    if isinstance(channel_id, str) and channel_id:
        extra["channel_id"] = channel_id
    return Observation(
        video_id=video.video_id,
        observed_at=observed_at,
        views=count("views"),
        likes=count("likes"),
        comments=count("comments"),
        shares=count("shares"),
        saves=count("saves"),
        title=_text(info, "description", "title") if captioned else _text(info, "title", "fulltitle"),
        account=_text(info, *_ACCOUNT_FIELDS.get(video.platform, ("uploader", "channel"))),
        posted_at=_posted_at(info),
        duration_s=float(duration) if isinstance(duration, int | float) and duration > 0 else None,
        extra=extra,
    )
