"""Which videos a partition scrapes: cadences, even spreading over the hours, retries of transient faults.

Pure functions over :class:`VideoSchedule` rows (no Dagster, no network); one SQL reader,
:func:`load_video_schedules`, builds those rows from the warehouse.

Rules for an hour ``[H, H+1h)``, in order:

* not due when the video is inactive, ``availability = 'unavailable'`` or ``track_until <= H``;
* not due when it was registered after the hour ended (``added_at >= H+1h``): as of H it was not tracked, so
  re-running an old partition selects the same videos whatever was added since;
* due when the video was never attempted before ``H``;
* due when its last attempt before ``H`` ended in a transient outcome (rate limit, timeout, 5xx, blocked...);
* otherwise due when ``H`` is the video's slot for its cadence of N hours: ``(hour_index(H) + slot(video)) % N == 0``
  where ``slot`` is a stable hash of the video id. Videos with the same cadence are spread evenly over the
  N hours instead of all landing at midnight.

``auto`` cadence (the default) depends on the video's age at ``H`` (:data:`DEFAULT_AUTO_CADENCE`):
hourly for 48 h after ``posted_at``, every 6 h until day 7, daily until day 30, weekly after. The age is
measured from ``posted_at`` once a scrape has told us; before that (never scraped, or a platform that does
not say) from ``added_at``, i.e. a newly tracked video of unknown age is treated as new (hourly) for 48 h.
That errs on the side of more data for the videos users just added.

The state "as of H" only uses attempts strictly before H, so re-running a partition selects the same videos
(and with the simulated platform, the same observation instants): re-runs are idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from viewtrail import clock, config
from viewtrail.domain.cadence import DEFAULT_AUTO_CADENCE
from viewtrail.domain.hashing import STABLE
from viewtrail.domain.models import NOT_FOUND_STREAK_LIMIT, TRANSIENT_OUTCOMES, Outcome, Platform, ScrapeResult
from viewtrail.platforms.simulated.client import stable_video_key

HOUR = timedelta(hours=1)


def auto_cadence_from_env() -> tuple[tuple[float | None, int], ...]:
    """The ``auto`` cadence table in force: ``VIEWTRAIL_AUTO_CADENCE`` parsed by :func:`parse_auto_cadence` (in
    ``config.settings()``), else :data:`DEFAULT_AUTO_CADENCE`."""
    return config.settings().auto_cadence


_TRANSIENT_VALUES = frozenset(o.value for o in TRANSIENT_OUTCOMES)


@dataclass(frozen=True, slots=True)
class VideoSchedule:
    """What scheduling needs to know about one registered video, as of some instant."""

    video_id: str
    platform: Platform
    external_id: str
    url: str
    account: str | None
    is_active: bool
    availability: str
    cadence: str  # 'auto' or hours as text ('1'..'720')
    track_until: datetime | None
    posted_at: datetime | None
    added_at: datetime
    last_attempt_at: datetime | None = None
    last_outcome: str | None = None
    consecutive_not_found: int = 0


def hour_index(hour_start: datetime) -> int:
    """Hours since the Unix epoch (naive UTC)."""
    return int((hour_start - datetime(1970, 1, 1)).total_seconds() // 3600)


def slot(video_id: str, cadence_hours: int) -> int:
    """The video's stable slot within a cycle of ``cadence_hours`` hours."""
    return STABLE.integer("slot", stable_video_key(video_id)) % cadence_hours


def observe_offset(video_id: str) -> timedelta:
    """Stable offset of a video's observation within its hour, whole seconds in [0, 3600).

    Spreads simulated observations over the hour, and makes re-running a partition produce the same
    ``observed_at`` (so ``ON CONFLICT DO NOTHING`` keeps the rows identical).
    """
    return timedelta(seconds=STABLE.integer("offset", stable_video_key(video_id)) % 3600)


def observe_instant(video: VideoSchedule, hour_start: datetime) -> datetime:
    """The instant a replayed observation of ``video`` stands for in the hour starting at ``hour_start``:
    its stable offset within the hour, but never before the video was registered (whole seconds)."""
    at = hour_start + observe_offset(video.video_id)
    if video.added_at > at:
        at = min(video.added_at.replace(microsecond=0) + timedelta(seconds=1), hour_start + HOUR - timedelta(seconds=1))
    return at


def auto_cadence_hours(age_hours: float, table: Sequence[tuple[float | None, int]] = DEFAULT_AUTO_CADENCE) -> int:
    for bound, every in table:
        if bound is None or age_hours < bound:
            return every
    return table[-1][1]


def parse_cadence(cadence: str) -> int | None:
    """Hours for a fixed cadence, ``None`` for ``auto``. Raises ``ValueError`` naming the bad value."""
    text = str(cadence).strip().lower()
    if text == "auto":
        return None
    try:
        hours = int(text)
    except ValueError:
        raise ValueError(f"cadence {cadence!r} is neither 'auto' nor a number of hours (1..720)") from None
    if not 1 <= hours <= 720:
        raise ValueError(f"cadence {cadence!r} is out of range: use 'auto' or 1..720 hours")
    return hours


def cadence_hours(
    video: VideoSchedule, at: datetime, table: Sequence[tuple[float | None, int]] = DEFAULT_AUTO_CADENCE
) -> int:
    """The video's cadence in hours at instant ``at``."""
    try:
        fixed = parse_cadence(video.cadence)
    except ValueError:
        fixed = None  # a corrupt registry value must not stop the whole partition: fall back to auto
    if fixed is not None:
        return fixed
    anchor = video.posted_at or video.added_at
    age_hours = max((at - anchor).total_seconds() / 3600.0, 0.0)
    return auto_cadence_hours(age_hours, table)


def is_tracked(video: VideoSchedule, hour_start: datetime) -> bool:
    if not video.is_active or video.availability != "available":
        return False
    return video.track_until is None or video.track_until > hour_start


def is_due(
    video: VideoSchedule, hour_start: datetime, table: Sequence[tuple[float | None, int]] = DEFAULT_AUTO_CADENCE
) -> bool:
    """Whether ``video`` is scraped in the hour starting at ``hour_start`` (state as of ``hour_start``)."""
    if not is_tracked(video, hour_start) or video.added_at >= hour_start + HOUR:
        return False
    if video.last_attempt_at is None:
        return True
    if video.last_outcome in _TRANSIENT_VALUES and video.last_attempt_at < hour_start:
        return True
    every = cadence_hours(video, hour_start, table)
    return (hour_index(hour_start) + slot(video.video_id, every)) % every == 0


def due_videos(
    videos: Iterable[VideoSchedule],
    hour_start: datetime,
    table: Sequence[tuple[float | None, int]] = DEFAULT_AUTO_CADENCE,
) -> list[VideoSchedule]:
    return [v for v in videos if is_due(v, hour_start, table)]


def hours_in(start: datetime, end: datetime) -> list[datetime]:
    """Hour starts in ``[start, end)``."""
    first = clock.hour_start(start)
    hours, at = [], first
    while at < end:
        hours.append(at)
        at += HOUR
    return hours


def advance(video: VideoSchedule, result: ScrapeResult) -> VideoSchedule:
    """The video's schedule state after ``result`` (mirrors what the warehouse write does to the registry)."""
    attempt = result.attempt
    outcome = Outcome(attempt.outcome).value
    # keyword arguments of replace(): a value type per field
    changes: dict[str, Any] = {"last_attempt_at": attempt.attempted_at, "last_outcome": outcome}
    if outcome == Outcome.OK.value:
        changes["consecutive_not_found"] = 0
        if result.observation is not None and result.observation.posted_at and video.posted_at is None:
            changes["posted_at"] = result.observation.posted_at
        if result.observation is not None and result.observation.account and not video.account:
            changes["account"] = result.observation.account
    elif outcome == Outcome.NOT_FOUND.value:
        streak = video.consecutive_not_found + 1
        changes["consecutive_not_found"] = streak
        if streak >= NOT_FOUND_STREAK_LIMIT:
            changes["availability"] = "unavailable"
    return replace(video, **changes)


_SCHEDULE_SQL = """
WITH last_attempt AS (
    SELECT video_id, max(attempted_at) AS last_attempt_at,
           arg_max(outcome, attempted_at) AS last_outcome
    FROM raw.scrape_attempts
    WHERE attempted_at < $as_of
    GROUP BY video_id
)
SELECT v.video_id, v.platform, v.external_id, v.url, v.account, v.is_active, v.availability, v.cadence,
       v.track_until, v.posted_at, v.added_at, a.last_attempt_at, a.last_outcome, v.consecutive_not_found
FROM registry.videos v
LEFT JOIN last_attempt a USING (video_id)
WHERE v.platform = $platform
ORDER BY v.video_id
"""


def load_video_schedules(
    con, platform: Platform | str, as_of: datetime, video_ids: Sequence[str] | None = None
) -> list[VideoSchedule]:
    """Registered videos of ``platform`` with their last attempt strictly before ``as_of``.

    ``video_ids`` limits the result to those videos (targeted runs). The registry columns
    (availability, posted_at, not-found streak) are the current ones: a video found gone stays gone.
    """
    rows = con.execute(_SCHEDULE_SQL, {"as_of": as_of, "platform": Platform(platform).value}).fetchall()
    wanted = set(video_ids) if video_ids is not None else None
    videos = []
    for row in rows:
        if wanted is not None and row[0] not in wanted:
            continue
        videos.append(
            VideoSchedule(
                video_id=row[0],
                platform=Platform(row[1]),
                external_id=row[2],
                url=row[3],
                account=row[4],
                is_active=bool(row[5]),
                availability=row[6],
                cadence=row[7],
                track_until=row[8],
                posted_at=row[9],
                added_at=row[10],
                last_attempt_at=row[11],
                last_outcome=row[12],
                consecutive_not_found=int(row[13] or 0),
            )
        )
    return videos
