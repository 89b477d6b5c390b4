"""YouTube accounts: Data API v3 ``channels.list`` for the metrics, the uploads playlist for recent videos.

Wire format (key in the ``X-Goog-Api-Key`` header, as for videos):

* ``GET {base_url}/channels?part=snippet,statistics,contentDetails`` with one filter: ``id=UC...`` when the
  channel id is known (it survives handle changes), else ``forUsername=NAME`` for legacy ``/user/NAME`` URLs,
  else ``forHandle=@handle``. ``items[0]``: ``id``, ``snippet.title``/``customUrl`` ("@handle"),
  ``statistics`` {subscriberCount, viewCount, videoCount: strings; hiddenSubscriberCount: bool} and
  ``contentDetails.relatedPlaylists.uploads`` ("UU..."). No ``items`` = no such channel (``not_found``).
* ``GET {base_url}/playlistItems?part=snippet,contentDetails&playlistId=UU...&maxResults=50&pageToken=``:
  ``contentDetails.videoId`` and ``videoPublishedAt`` (``snippet.publishedAt`` is when it joined the
  playlist), ``snippet.title``; ``nextPageToken``. Pages are read until ``latest_n`` videos (or ``since``).

Every call costs 1 unit of the same local daily budget the video client spends (``youtube_quota.json``); a
spent budget or ``quotaExceeded`` ends the account ``quota_exhausted``. A hidden subscriber count is ``None``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from viewtrail.domain.models import AccountObservation, AccountResult, AccountToDiscover, Outcome, Platform
from viewtrail.platforms.accounts.base import discovered_video
from viewtrail.platforms.accounts.http import Call, HttpAccountClient
from viewtrail.platforms.http import Fetched, RunContext, json_object, to_count
from viewtrail.platforms.youtube.client import YouTubeClient, parse_api_time

__all__ = ["YouTubeAccountClient", "channel_lookup", "channel_observation", "playlist_videos"]

PAGE_SIZE = 50


def channel_lookup(account: AccountToDiscover) -> dict[str, str]:
    """The ``channels.list`` filter for ``account``: its channel id when known, else its handle or username."""
    if account.platform_account_id:
        return {"id": account.platform_account_id}
    handle = (account.handle or "").lstrip("@")
    if "/user/" in account.url:
        return {"forUsername": handle}
    return {"forHandle": f"@{handle}"}


def channel_observation(account: AccountToDiscover, item: dict[str, Any], observed_at: datetime) -> AccountObservation:
    """Metrics of one ``channels.list`` item; ``KeyError``/``ValueError`` name the field that changed."""
    statistics = item.get("statistics")
    snippet = json_object(item, "snippet")
    if not isinstance(statistics, dict):
        raise KeyError("items[].statistics missing")
    channel_id = item.get("id")
    if not isinstance(channel_id, str) or not channel_id:
        raise KeyError("items[].id missing")
    hidden = statistics.get("hiddenSubscriberCount") is True
    custom_url = snippet.get("customUrl")
    handle = custom_url[1:] if isinstance(custom_url, str) and custom_url.startswith("@") else account.handle
    uploads = ((item.get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads")
    extra: dict[str, Any] = {"uploads_playlist": uploads} if uploads else {}
    if hidden:
        extra["subscribers_hidden"] = True
    return AccountObservation(
        account_id=account.account_id,
        observed_at=observed_at,
        followers=None if hidden else to_count(statistics.get("subscriberCount"), "statistics.subscriberCount"),
        following=None,  # not public on YouTube
        likes=None,  # no channel-wide like total
        video_count=to_count(statistics.get("videoCount"), "statistics.videoCount"),
        views=to_count(statistics.get("viewCount"), "statistics.viewCount"),
        handle=handle,
        display_name=snippet.get("title") or None,
        platform_account_id=channel_id,
        extra=extra,
    )


def playlist_videos(payload: dict[str, Any], handle: str | None) -> list[Any]:
    """The videos of one ``playlistItems.list`` page (items without a publish time are private/deleted)."""
    items = payload.get("items")
    if not isinstance(items, list):
        raise KeyError("playlistItems.list answer has no 'items' list")
    videos = []
    for item in items:
        if not isinstance(item, dict):
            continue
        details = json_object(item, "contentDetails")
        snippet = json_object(item, "snippet")
        if not details.get("videoPublishedAt"):
            continue
        video_id = details.get("videoId") or (snippet.get("resourceId") or {}).get("videoId")
        video = discovered_video(
            Platform.YOUTUBE,
            str(video_id),
            account=handle,
            posted_at=parse_api_time(details["videoPublishedAt"]),
            title=snippet.get("title"),
        )
        if video is not None:
            videos.append(video)
    return videos


class YouTubeAccountClient(HttpAccountClient):
    wire_class = YouTubeClient
    source = "youtube_api"
    wire: YouTubeClient

    def _headers(self) -> dict[str, str]:
        return {"X-Goog-Api-Key": self.settings.api_key or "", "Accept": "application/json"}

    def short_circuit(self, account: AccountToDiscover, ctx: RunContext) -> AccountResult | None:
        short = super().short_circuit(account, ctx)
        if short is not None:
            return short
        status = self.wire.quota_status()
        if not status["exhausted"]:
            return None
        detail = (
            f"daily quota spent ({status['units_used']}/{status['daily_units']} units); "
            f"resets {status['resets_at']:%Y-%m-%d %H:%M} UTC"
        )
        return self.result(self.begin(account), Outcome.QUOTA_EXHAUSTED, ctx, detail=detail)

    async def _call(self, call: Call, path: str, params: dict[str, str]) -> Fetched:
        fetched = await self.get(call, path, params=params, headers=self._headers())
        if fetched.tries:
            self.wire.quota.spend(self.now(), fetched.tries)
        return fetched

    async def _discover_one(self, account: AccountToDiscover, ctx: RunContext) -> AccountResult:
        call = self.begin(account)
        fetched = await self._call(
            call, "channels", {"part": "snippet,statistics,contentDetails", **channel_lookup(account)}
        )
        response = fetched.response
        if response is None or response.status_code != 200:
            outcome, detail = self.wire.classify_error(fetched)
            return self.result(call, outcome, ctx, detail=detail)
        try:
            payload = response.json()
        except ValueError:
            return self.result(call, Outcome.PARSE_ERROR, ctx, detail="channels.list answer is not JSON")
        items = payload.get("items") if isinstance(payload, dict) else None
        if not items:  # the API leaves out unknown channels (and sends no "items" key at all)
            lookup = ", ".join(f"{k}={v}" for k, v in channel_lookup(account).items())
            return self.result(call, Outcome.NOT_FOUND, ctx, detail=f"no channel for {lookup}")
        try:
            observation = channel_observation(account, items[0], self.now())
        except (KeyError, ValueError, TypeError) as exc:
            return self.result(call, Outcome.PARSE_ERROR, ctx, detail=str(exc))
        uploads = observation.extra.get("uploads_playlist")
        if not uploads or observation.video_count == 0:
            return self.result(call, Outcome.OK, ctx, observation=observation, videos=[])
        videos: list[Any] = []
        page_token = ""
        while True:
            params = {"part": "snippet,contentDetails", "playlistId": uploads, "maxResults": str(PAGE_SIZE)}
            if page_token:
                params["pageToken"] = page_token
            fetched = await self._call(call, "playlistItems", params)
            response = fetched.response
            if response is not None and response.status_code == 404:
                break  # a channel without uploads has no uploads playlist yet
            if response is None or response.status_code != 200:
                outcome, detail = self.wire.classify_error(fetched)
                return self.result(call, outcome, ctx, detail=detail)
            try:
                page = response.json()
                videos.extend(playlist_videos(page, observation.handle))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                return self.result(call, Outcome.PARSE_ERROR, ctx, detail=f"playlistItems.list: {exc}")
            page_token = page.get("nextPageToken") or ""
            oldest = min((v.posted_at for v in videos if v.posted_at), default=None)
            if (
                not page_token
                or len(videos) >= account.latest_n
                or (account.since is not None and oldest is not None and oldest < account.since)
            ):
                break
        return self.result(call, Outcome.OK, ctx, observation=observation, videos=videos)
