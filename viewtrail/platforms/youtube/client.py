"""YouTube: the official Data API v3 ``videos.list`` (up to 50 ids and 1 quota unit per call).

Wire format: ``GET {base_url}/videos?part=snippet,statistics,contentDetails&id=a,b,c&maxResults=50`` with the
key in the ``X-Goog-Api-Key`` header (never in the URL, so it cannot reach httpx's request log).

Quota: every call costs 1 unit against a local daily budget (``daily_units``) persisted in
``<data dir>/state/youtube_quota.json`` keyed by the Pacific date (the API's quota day). A
``quotaExceeded`` answer, or the local budget running out, stops YouTube calls until midnight
America/Los_Angeles: the batch and all remaining YouTube videos end ``quota_exhausted`` without a request.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from viewtrail import config
from viewtrail.clock import utc_now
from viewtrail.domain.errors import ViewtrailError
from viewtrail.domain.models import Observation, Outcome, Platform, ScrapeResult, VideoToScrape
from viewtrail.platforms.base import ClientSettings
from viewtrail.platforms.http import Fetched, HttpPlatformClient, RunContext, to_count

__all__ = [
    "MissingApiKeyError",
    "QuotaTracker",
    "YouTubeClient",
    "parse_api_time",
    "parse_iso8601_duration",
    "quota_status_from_env",
]

log = logging.getLogger(__name__)

PACIFIC = ZoneInfo("America/Los_Angeles")
_QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded", "dailyLimitExceededUnreg"})
_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})
_KEY_REASONS = frozenset(
    {
        "keyInvalid",
        "keyExpired",
        "API_KEY_INVALID",
        "accessNotConfigured",
        "forbidden",
        "ipRefererBlocked",
        "SERVICE_DISABLED",
    }
)
_DURATION = re.compile(
    r"P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)


class MissingApiKeyError(ViewtrailError):
    """Real YouTube mode without ``YOUTUBE_API_KEY``."""


def parse_iso8601_duration(text: str) -> float | None:
    """``PT3M34S`` -> 214.0; ``P0D`` (live/upcoming) -> None; anything else -> ``ValueError``."""
    match = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match or text.strip() in ("P", "PT"):
        raise ValueError(f"duration is not ISO-8601: {str(text)[:30]!r}")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    seconds = parts["w"] * 604800 + parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    return seconds or None


def parse_api_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


class QuotaTracker:
    """Units spent today (Pacific quota day), persisted as JSON so separate runs share one budget."""

    def __init__(self, path: Path, daily_units: int) -> None:
        self.path = path
        self.daily_units = daily_units
        # In-memory copy: the budget still holds within a run when the state file cannot be written.
        self._memory: dict[str, Any] = {}
        self._warned = False

    @staticmethod
    def quota_day(now_utc: datetime) -> str:
        return now_utc.replace(tzinfo=UTC).astimezone(PACIFIC).date().isoformat()

    @staticmethod
    def resets_at(now_utc: datetime) -> datetime:
        """Next midnight America/Los_Angeles, as naive UTC."""
        local = now_utc.replace(tzinfo=UTC).astimezone(PACIFIC)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=PACIFIC)
        return midnight.astimezone(UTC).replace(tzinfo=None)

    def _load(self, day: str) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict) or data.get("quota_day") != day:
            data = {"quota_day": day, "units_used": 0, "exhausted": False}
        memory = self._memory if self._memory.get("quota_day") == day else {}
        data["units_used"] = max(int(data.get("units_used", 0)), int(memory.get("units_used", 0)))
        data["exhausted"] = bool(data.get("exhausted")) or bool(memory.get("exhausted"))
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self._memory = dict(data)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".youtube_quota.", suffix=".tmp")
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle)
            os.replace(tmp, self.path)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning(
                    "youtube: cannot persist quota usage to %s (%s); counting in memory for this run",
                    self.path,
                    type(exc).__name__,
                )

    def status(self, now_utc: datetime) -> dict[str, Any]:
        data = self._load(self.quota_day(now_utc))
        used = int(data.get("units_used", 0))
        return {
            "quota_day": data["quota_day"],
            "units_used": used,
            "daily_units": self.daily_units,
            "units_left": max(0, self.daily_units - used),
            "exhausted": bool(data.get("exhausted")) or used >= self.daily_units,
            "resets_at": self.resets_at(now_utc),
        }

    def spend(self, now_utc: datetime, units: int = 1) -> None:
        data = self._load(self.quota_day(now_utc))  # re-read: another process may have spent units
        data["units_used"] = int(data.get("units_used", 0)) + units
        self._save(data)

    def mark_exhausted(self, now_utc: datetime) -> None:
        data = self._load(self.quota_day(now_utc))
        data["exhausted"] = True
        self._save(data)


def _error_reasons(payload: Any) -> list[str]:
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return []
    reasons = [e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict)]
    reasons += [d.get("reason") for d in error.get("details") or [] if isinstance(d, dict)]
    if isinstance(error.get("status"), str):
        reasons.append(error["status"])
    return [r for r in reasons if isinstance(r, str)]


class YouTubeClient(HttpPlatformClient):
    platform = Platform.YOUTUBE
    source = "youtube_api"

    def __init__(self, settings: ClientSettings) -> None:
        if not settings.api_key:
            raise MissingApiKeyError(
                "YOUTUBE_API_KEY is not set: create a YouTube Data API v3 key in the Google Cloud console and "
                "export it, or set VIEWTRAIL_YOUTUBE_BACKEND=ytdlp to read the watch pages instead."
            )
        super().__init__(settings)
        self.batch_size = max(1, min(50, settings.batch_size))
        state_dir = settings.state_dir or (config.data_dir() / "state")
        self.quota = QuotaTracker(Path(state_dir) / "youtube_quota.json", settings.daily_units)

    # ---------------------------------------------------------------------------- quota
    def quota_status(self) -> dict[str, Any]:
        """Units used / left today, whether exhausted, and when the quota resets (naive UTC)."""
        return self.quota.status(self.now())

    def quota_resets_at(self) -> datetime:
        """Next quota reset: midnight America/Los_Angeles, as naive UTC."""
        return self.quota.resets_at(self.now())

    def _short_circuit(self, batch: list[VideoToScrape], ctx: RunContext) -> list[ScrapeResult] | None:
        short = super()._short_circuit(batch, ctx)
        if short is not None:
            return short
        status = self.quota_status()
        if not status["exhausted"]:
            return None
        detail = (
            f"daily quota spent ({status['units_used']}/{status['daily_units']} units); "
            f"resets {status['resets_at']:%Y-%m-%d %H:%M} UTC"
        )
        started, mono = self.now(), time.monotonic()
        return [
            self.result(v, Outcome.QUOTA_EXHAUSTED, started=started, started_mono=mono, ctx=ctx, detail=detail)
            for v in batch
        ]

    # ------------------------------------------------------------------------- requests
    def is_retryable(self, response: httpx.Response) -> bool:
        if response.status_code == 403:
            try:
                return bool(set(_error_reasons(response.json())) & _RATE_REASONS)
            except ValueError:
                return False
        return super().is_retryable(response)

    async def _scrape_batch(self, batch: list[VideoToScrape], ctx: RunContext) -> list[ScrapeResult]:
        # Re-check just before spending: other batches in flight may have used the last units.
        short = self._short_circuit(batch, ctx)
        if short is not None:
            return short
        started, mono = self.now(), time.monotonic()
        ids = list(dict.fromkeys(v.external_id for v in batch))
        fetched = await self.fetch(
            "videos",
            params={"part": "snippet,statistics,contentDetails", "id": ",".join(ids), "maxResults": "50"},
            headers={"X-Goog-Api-Key": self.settings.api_key or "", "Accept": "application/json"},
        )
        if fetched.tries:
            self.quota.spend(self.now(), fetched.tries)

        def all_(outcome: Outcome, detail: str) -> list[ScrapeResult]:
            return [
                self.result(v, outcome, started=started, started_mono=mono, ctx=ctx, fetched=fetched, detail=detail)
                for v in batch
            ]

        response = fetched.response
        if response is None or response.status_code != 200:
            failure = self.classify_error(fetched)
            return all_(*failure)
        try:
            payload = response.json()
        except ValueError:
            return all_(Outcome.PARSE_ERROR, "videos.list answer is not JSON")
        items = payload.get("items") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            return all_(Outcome.PARSE_ERROR, "videos.list answer has no 'items' list")
        by_id = {item.get("id"): item for item in items if isinstance(item, dict)}
        observed_at = self.now()
        results = []
        for video in batch:
            item = by_id.get(video.external_id)
            if item is None:
                results.append(
                    self.result(
                        video,
                        Outcome.NOT_FOUND,
                        started=started,
                        started_mono=mono,
                        ctx=ctx,
                        fetched=fetched,
                        detail="id absent from videos.list items",
                    )
                )
                continue
            try:
                observation = self._observation(video, item, observed_at)
            except (ValueError, TypeError, KeyError) as exc:
                results.append(
                    self.result(
                        video,
                        Outcome.PARSE_ERROR,
                        started=started,
                        started_mono=mono,
                        ctx=ctx,
                        fetched=fetched,
                        detail=str(exc),
                    )
                )
                continue
            results.append(
                self.result(
                    video,
                    Outcome.OK,
                    started=started,
                    started_mono=mono,
                    ctx=ctx,
                    fetched=fetched,
                    observation=observation,
                )
            )
        return results

    def classify_error(self, fetched: Fetched) -> tuple[Outcome, str]:
        """Outcome of a non-200 Data API answer (any endpoint): quota, rate limit, refused key, 5xx..."""
        response = fetched.response
        try:
            reasons = _error_reasons(response.json()) if response is not None else []
        except ValueError:
            reasons = []
        reason_text = ",".join(dict.fromkeys(reasons)) or "no reason given"
        if set(reasons) & _QUOTA_REASONS:
            self.quota.mark_exhausted(self.now())
            log.warning("youtube: quotaExceeded; no more YouTube calls until %s UTC", self.quota_resets_at())
            return Outcome.QUOTA_EXHAUSTED, f"quotaExceeded; resets {self.quota_resets_at():%Y-%m-%d %H:%M} UTC"
        generic = self.generic_failure(fetched)
        if generic is not None:
            return generic
        assert response is not None
        status = response.status_code
        if status == 403 and set(reasons) & _RATE_REASONS:
            return Outcome.RATE_LIMITED, f"HTTP 403 {reason_text} after {fetched.tries} tries"
        if set(reasons) & _KEY_REASONS or status in (400, 401, 403):
            # The key (or project) is refused: every further call would fail the same way.
            self.breaker_open = True
            return Outcome.BLOCKED, f"HTTP {status} {reason_text}: API key refused; check YOUTUBE_API_KEY"
        return Outcome.UPSTREAM_ERROR, f"unexpected HTTP {status} {reason_text}"

    def _observation(self, video: VideoToScrape, item: dict[str, Any], observed_at: datetime) -> Observation:
        snippet = item.get("snippet")
        statistics = item.get("statistics")
        details = item.get("contentDetails")
        if not isinstance(snippet, dict):
            raise KeyError("items[].snippet missing")
        if not isinstance(statistics, dict):
            raise KeyError("items[].statistics missing")
        duration = details.get("duration") if isinstance(details, dict) else None
        published = snippet.get("publishedAt")
        extra = {
            k: v
            for k, v in {
                "channel_id": snippet.get("channelId"),
                "live_broadcast_content": snippet.get("liveBroadcastContent"),
            }.items()
            if v not in (None, "", "none")
        }
        return Observation(
            video_id=video.video_id,
            observed_at=observed_at,
            views=to_count(statistics.get("viewCount"), "statistics.viewCount"),
            likes=to_count(statistics.get("likeCount"), "statistics.likeCount"),  # absent = hidden
            comments=to_count(statistics.get("commentCount"), "statistics.commentCount"),  # absent = disabled
            shares=None,  # not exposed by the Data API
            saves=None,
            title=snippet.get("title"),
            account=snippet.get("channelTitle"),
            posted_at=parse_api_time(published) if isinstance(published, str) else None,
            duration_s=parse_iso8601_duration(duration) if isinstance(duration, str) else None,
            extra=extra,
        )


def quota_status_from_env(now_utc: datetime | None = None) -> dict[str, Any]:
    """Today's YouTube quota usage as the next real client would see it; needs no API key (for status commands).

    Reads ``VIEWTRAIL_YOUTUBE_DAILY_UNITS`` and ``<VIEWTRAIL_DATA_DIR>/state/youtube_quota.json``.
    """
    from viewtrail.platforms.factory import settings_from_env

    settings = settings_from_env(Platform.YOUTUBE)
    state_dir = settings.state_dir or (config.data_dir() / "state")
    tracker = QuotaTracker(Path(state_dir) / "youtube_quota.json", settings.daily_units)
    return tracker.status(now_utc or utc_now())
