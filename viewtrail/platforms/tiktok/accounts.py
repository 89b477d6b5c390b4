"""TikTok accounts: the public profile page for the metrics, the web ``item_list`` route for recent videos.

Wire format:

* ``GET {base_url}/@{handle}`` (redirects followed): HTML whose ``__UNIVERSAL_DATA_FOR_REHYDRATION__`` script
  holds ``__DEFAULT_SCOPE__["webapp.user-detail"]`` -> ``statusCode`` and ``userInfo`` {``user`` {id, secUid,
  uniqueId, nickname, privateAccount}, ``stats`` (numbers) / ``statsV2`` (strings, preferred) {followerCount,
  followingCount, heartCount, videoCount}}.
* ``GET {base_url}/api/creator/item_list/?secUid=..&cursor=<ms>&type=1&count=15&device_id=..&verifyFp=..`` plus
  the static web parameters, as yt-dlp's ``TikTokUserIE`` builds them (no signature): ``itemList[]``
  (itemStructs, newest first), ``hasMorePrevious``; the next cursor is the last item's ``createTime`` in ms.

Outcomes: statusCode 10221 ("user doesn't exist") / 10202 (page not found) -> ``not_found`` (the handle has
no account: deleted, or renamed); 10222 without counts -> ``private``; a private account whose counts show
-> ``ok`` with metrics only (``videos_listed`` null); challenge page / login redirect / empty ``item_list``
answer -> ``blocked`` / ``login_required``, never ``not_found``. The user id is ``platform_account_id``;
``secUid`` goes to ``extra``.
"""

from __future__ import annotations

import math
import random
import string
from datetime import UTC, datetime
from typing import Any

from viewtrail.domain.models import AccountObservation, AccountResult, AccountToDiscover, Outcome, Platform
from viewtrail.platforms.accounts.base import discovered_video, listing_limit
from viewtrail.platforms.accounts.http import Call, HttpAccountClient
from viewtrail.platforms.base import ClientSettings
from viewtrail.platforms.http import RunContext, json_object, to_count
from viewtrail.platforms.tiktok.client import TikTokClient, parse_universal_data

__all__ = ["TikTokAccountClient", "item_list_query", "item_list_videos", "parse_user_page", "user_observation"]

PAGE_SIZE = 15
NOT_FOUND_CODES = {10221: "user doesn't exist", 10202: "page not found"}
PRIVATE_CODE = 10222
_TIKTOK_LAUNCH_MS = 1472706000000  # before TikTok existed: a cursor this old means the list is exhausted
_WEEK_MS = 7 * 86_400_000

#: The static web parameters of ``/api/creator/item_list/`` (yt-dlp ``TikTokUserIE._build_web_query``).
_WEB_QUERY = {
    "aid": "1988",
    "app_language": "en",
    "app_name": "tiktok_web",
    "browser_language": "en-US",
    "browser_name": "Mozilla",
    "browser_online": "true",
    "browser_platform": "Win32",
    "browser_version": "5.0 (Windows)",
    "channel": "tiktok_web",
    "cookie_enabled": "true",
    "count": str(PAGE_SIZE),
    "device_platform": "web_pc",
    "focus_state": "true",
    "from_page": "user",
    "history_len": "2",
    "is_fullscreen": "false",
    "is_page_visible": "true",
    "language": "en",
    "os": "windows",
    "priority_region": "",
    "referer": "",
    "region": "US",
    "screen_height": "1080",
    "screen_width": "1920",
    "type": "1",  # newest to oldest
    "tz_name": "UTC",
    "webcast_language": "en",
}


def item_list_query(sec_uid: str, cursor_ms: int, device_id: str) -> dict[str, str]:
    """The query of one ``item_list`` page (a fresh ``verifyFp`` each time, as the web app sends)."""
    return {
        **_WEB_QUERY,
        "cursor": str(cursor_ms),
        "device_id": device_id,
        "secUid": sec_uid,
        "verifyFp": "verify_" + "".join(random.choices(string.hexdigits, k=7)),
    }


def parse_user_page(html: str, final_path: str = "") -> tuple[Outcome | None, str | None, dict[str, Any]]:
    """``(failure, detail, webapp.user-detail)``; ``failure`` is ``None`` when ``userInfo`` can be read."""
    failure, detail, scope = parse_universal_data(html, final_path)
    if failure is not None:
        return failure, detail, {}
    user_detail = scope.get("webapp.user-detail")
    if not isinstance(user_detail, dict):
        return Outcome.PARSE_ERROR, "missing __DEFAULT_SCOPE__['webapp.user-detail']", {}
    try:
        status = int(str(user_detail.get("statusCode", 0) or 0))
    except ValueError:
        return Outcome.PARSE_ERROR, "webapp.user-detail.statusCode is not a number", {}
    info = json_object(user_detail, "userInfo")
    has_counts = isinstance(info.get("user"), dict) and bool(info.get("statsV2") or info.get("stats"))
    if status in NOT_FOUND_CODES:
        return Outcome.NOT_FOUND, f"statusCode {status} ({NOT_FOUND_CODES[status]})", {}
    if status == PRIVATE_CODE and not has_counts:
        return Outcome.PRIVATE, f"statusCode {status} (private account)", {}
    if status not in (0, PRIVATE_CODE):
        return Outcome.BLOCKED, f"unexpected statusCode {status} {str(user_detail.get('statusMsg') or '')[:60]}", {}
    if not has_counts:
        return Outcome.PARSE_ERROR, "missing webapp.user-detail.userInfo.user or stats", {}
    return None, None, user_detail


def user_observation(
    account: AccountToDiscover, user_detail: dict[str, Any], observed_at: datetime
) -> AccountObservation:
    """Metrics from ``webapp.user-detail``; ``KeyError``/``ValueError`` name the field that changed."""
    info = user_detail["userInfo"]
    user = info["user"]
    stats_v2 = json_object(info, "statsV2")
    stats = json_object(info, "stats")

    def count(key: str) -> int | None:
        return to_count(stats_v2.get(key, stats.get(key)), f"userInfo.stats.{key}")

    user_id = user.get("id")
    if not user_id:
        raise KeyError("userInfo.user.id missing")
    extra: dict[str, Any] = {}
    if user.get("secUid"):
        extra["sec_uid"] = str(user["secUid"])
    if user.get("privateAccount"):
        extra["private"] = True
    if user.get("verified"):
        extra["verified"] = True
    return AccountObservation(
        account_id=account.account_id,
        observed_at=observed_at,
        followers=count("followerCount"),
        following=count("followingCount"),
        likes=count("heartCount") if "heartCount" in stats_v2 or "heartCount" in stats else count("heart"),
        video_count=count("videoCount"),
        views=None,  # no account-wide view total
        handle=user.get("uniqueId") or account.handle,
        display_name=user.get("nickname") or None,
        platform_account_id=str(user_id),
        extra=extra,
    )


def item_list_videos(items: list[Any], handle: str | None) -> list[Any]:
    """Discovered videos from ``itemList`` itemStructs (items without an id are skipped)."""
    videos = []
    for item in items:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        created = item.get("createTime")
        posted_at = (
            datetime.fromtimestamp(int(str(created)), UTC).replace(tzinfo=None)
            if created not in (None, "", 0, "0")
            else None
        )
        author = item.get("author")
        author_handle = author.get("uniqueId") if isinstance(author, dict) else None
        video = discovered_video(
            Platform.TIKTOK,
            str(item["id"]),
            account=author_handle or handle,
            posted_at=posted_at,
            title=item.get("desc"),
        )
        if video is not None:
            videos.append(video)
    return videos


class TikTokAccountClient(HttpAccountClient):
    wire_class = TikTokClient
    source = "tiktok_web"

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        # One random web device per client, as the web app has (yt-dlp draws from the same range).
        self.device_id = str(random.randint(7250000000000000000, 7325099899999994577))

    async def _discover_one(self, account: AccountToDiscover, ctx: RunContext) -> AccountResult:
        call = self.begin(account)
        handle = (account.handle or account.platform_account_id or "").lstrip("@")
        fetched = await self.get(
            call,
            f"@{handle}",
            headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
            follow_redirects=True,
        )
        response = fetched.response
        final_path = self.wire.relative_path(str(response.url)) if response is not None else ""
        if final_path.startswith("/login"):
            return self.result(call, Outcome.LOGIN_REQUIRED, ctx, detail="redirected to /login")
        failure = self.failure(call, fetched, ctx)
        if failure is not None:
            return failure
        assert response is not None
        if response.status_code != 200:
            return self.result(call, Outcome.BLOCKED, ctx, detail=f"unexpected HTTP {response.status_code}")
        outcome, detail, user_detail = parse_user_page(response.text, final_path)
        if outcome is Outcome.NOT_FOUND and account.platform_account_id:
            detail = f"{detail}: no account has the handle @{handle} any more (deleted, or renamed)"
        if outcome is not None:
            return self.result(call, outcome, ctx, detail=detail)
        try:
            observation = user_observation(account, user_detail, self.now())
        except (KeyError, ValueError, TypeError) as exc:
            return self.result(call, Outcome.PARSE_ERROR, ctx, detail=str(exc))
        if observation.extra.get("private"):
            return self.result(call, Outcome.OK, ctx, observation=observation, detail="private account: metrics only")
        if observation.video_count == 0:
            return self.result(call, Outcome.OK, ctx, observation=observation, videos=[])
        sec_uid = observation.extra.get("sec_uid")
        if not sec_uid:
            return self.result(call, Outcome.PARSE_ERROR, ctx, detail="userInfo.user.secUid missing")
        return await self._list(call, account, observation, str(sec_uid), user_detail, ctx)

    async def _list(
        self,
        call: Call,
        account: AccountToDiscover,
        observation: AccountObservation,
        sec_uid: str,
        user_detail: dict[str, Any],
        ctx: RunContext,
    ) -> AccountResult:
        videos: list[Any] = []
        seen: set[str] = set()
        cursor = int(self.now().replace(tzinfo=UTC).timestamp() * 1000)
        for _page in range(math.ceil(listing_limit(account) / PAGE_SIZE) + 2):
            fetched = await self.get(
                call,
                "api/creator/item_list/",
                params=item_list_query(sec_uid, cursor, self.device_id),
                headers={"Accept": "application/json", "Referer": f"https://www.tiktok.com/@{observation.handle}"},
            )
            failure = self.failure(call, fetched, ctx)
            if failure is not None:
                return failure
            response = fetched.response
            assert response is not None
            if response.status_code != 200:
                return self.result(
                    call, Outcome.BLOCKED, ctx, detail=f"item_list: unexpected HTTP {response.status_code}"
                )
            if not response.content.strip():
                # TikTok answers refused (unsigned, bot-checked) list requests with 200 and an empty body.
                page_items = (user_detail.get("userInfo") or {}).get("itemList") or []
                if not videos and page_items:
                    videos = item_list_videos(page_items, observation.handle)
                    break
                return self.result(call, Outcome.BLOCKED, ctx, detail="item_list: empty answer (request refused)")
            try:
                payload = response.json()
                items = payload.get("itemList") or []
                if not isinstance(items, list):
                    raise TypeError("itemList is not a list")
            except (ValueError, AttributeError, TypeError) as exc:
                return self.result(call, Outcome.PARSE_ERROR, ctx, detail=f"item_list: {exc}")
            fresh = [v for v in item_list_videos(items, observation.handle) if v.ref.external_id not in seen]
            seen.update(v.ref.external_id for v in fresh)
            videos.extend(fresh)
            old_cursor = cursor
            last_created = items[-1].get("createTime") if items and isinstance(items[-1], dict) else None
            cursor = int(str(last_created)) * 1000 if last_created not in (None, "", 0, "0") else old_cursor
            if cursor >= old_cursor:
                cursor = old_cursor - _WEEK_MS  # nothing older in this window: look a week further back
            oldest = min((v.posted_at for v in videos if v.posted_at), default=None)
            if (
                not payload.get("hasMorePrevious")
                or cursor < _TIKTOK_LAUNCH_MS
                or len(videos) >= account.latest_n
                or (account.since is not None and oldest is not None and oldest < account.since)
            ):
                break
        return self.result(call, Outcome.OK, ctx, observation=observation, videos=videos)
