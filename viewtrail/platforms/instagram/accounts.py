"""Instagram accounts: the web profile info API (metrics and the ~12 newest posts).

Wire format: ``GET {base_url}/api/v1/users/web_profile_info/?username={handle}`` with ``X-IG-App-ID:
936619743392459`` (and ``Cookie: sessionid=...`` when ``INSTAGRAM_SESSIONID`` is set; redirects are never
followed, so the cookie cannot travel elsewhere) -> ``{"data": {"user": {id, username, full_name, is_private,
edge_followed_by.count, edge_follow.count, edge_owner_to_timeline_media {count, edges[].node {shortcode,
taken_at_timestamp, is_video, product_type, edge_media_to_caption}}}}, "status": "ok"}``. Only the first page
of posts comes with it (about 12); the video posts among them are listed.

Outcomes: ``data.user`` null or HTTP 404 -> ``not_found`` (no account has that username: deleted, or
renamed); 401 "Please wait a few minutes" or a redirect to the login page -> ``blocked`` without a session
(Instagram's anonymous throttle), ``login_required`` with one (cookie rejected); a private account -> ``ok``
with metrics only (``videos_listed`` null). Never ``not_found`` for a login wall.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from viewtrail.domain.models import AccountObservation, AccountResult, AccountToDiscover, Outcome, Platform
from viewtrail.platforms.accounts.base import discovered_video
from viewtrail.platforms.accounts.http import HttpAccountClient
from viewtrail.platforms.http import RunContext, to_count
from viewtrail.platforms.instagram.client import IG_APP_ID, InstagramClient, is_login_path

__all__ = ["InstagramAccountClient", "profile_observation", "profile_videos"]


def _edge_count(user: dict[str, Any], edge: str) -> int | None:
    node = user.get(edge)
    return to_count(node.get("count"), f"user.{edge}.count") if isinstance(node, dict) else None


def profile_observation(account: AccountToDiscover, user: dict[str, Any], observed_at: datetime) -> AccountObservation:
    """Metrics of a ``web_profile_info`` user; ``KeyError``/``ValueError`` name the field that changed."""
    if not user.get("id"):
        raise KeyError("data.user.id missing")
    if not isinstance(user.get("edge_followed_by"), dict):
        raise KeyError("data.user.edge_followed_by missing")
    extra: dict[str, Any] = {}
    for key in ("is_private", "is_verified", "is_business_account"):
        if user.get(key):
            extra[key.removeprefix("is_")] = True
    return AccountObservation(
        account_id=account.account_id,
        observed_at=observed_at,
        followers=_edge_count(user, "edge_followed_by"),
        following=_edge_count(user, "edge_follow"),
        likes=None,  # no account-wide like total
        video_count=_edge_count(user, "edge_owner_to_timeline_media"),  # all posts, photos included
        views=None,
        handle=user.get("username") or account.handle,
        display_name=user.get("full_name") or None,
        platform_account_id=str(user["id"]),
        extra=extra,
    )


def profile_videos(user: dict[str, Any], handle: str | None) -> list[Any]:
    """The video posts (reels and videos) among the profile's first page of posts."""
    media = user.get("edge_owner_to_timeline_media")
    edges = media.get("edges") if isinstance(media, dict) else None
    if not isinstance(edges, list):
        raise KeyError("data.user.edge_owner_to_timeline_media.edges missing")
    videos = []
    for edge in edges:
        node = edge.get("node") if isinstance(edge, dict) else None
        if not isinstance(node, dict) or not node.get("shortcode"):
            continue
        if not (node.get("is_video") or node.get("product_type") in ("clips", "igtv")):
            continue
        taken = node.get("taken_at_timestamp")
        captions = (node.get("edge_media_to_caption") or {}).get("edges") or []
        caption = ((captions[0] or {}).get("node") or {}).get("text") if captions else None
        video = discovered_video(
            Platform.INSTAGRAM,
            str(node["shortcode"]),
            account=handle,
            posted_at=datetime.fromtimestamp(int(str(taken)), UTC).replace(tzinfo=None) if taken else None,
            title=caption,
        )
        if video is not None:
            videos.append(video)
    return videos


class InstagramAccountClient(HttpAccountClient):
    wire_class = InstagramClient
    source = "instagram_web"

    async def _discover_one(self, account: AccountToDiscover, ctx: RunContext) -> AccountResult:
        call = self.begin(account)
        handle = (account.handle or "").lstrip("@")
        session = self.settings.session_id
        headers = {
            "X-IG-App-ID": IG_APP_ID,
            "Accept": "application/json",
            "X-Requested-With": "XMLHttpRequest",
            "Referer": f"https://www.instagram.com/{handle}/",
        }
        if session:
            headers["Cookie"] = self.wire.cookie_header({"sessionid": session})
        fetched = await self.get(call, "api/v1/users/web_profile_info/", params={"username": handle}, headers=headers)
        response = fetched.response
        wall = Outcome.LOGIN_REQUIRED if session else Outcome.BLOCKED
        wall_why = "session cookie rejected" if session else "Instagram's anonymous throttle; INSTAGRAM_SESSIONID helps"
        if response is not None and response.is_redirect:
            location = self.wire.relative_path(str(response.url.join(response.headers.get("Location", ""))))
            if is_login_path(location):
                return self.result(call, wall, ctx, detail=f"redirected to the login page ({wall_why})")
            return self.result(call, Outcome.BLOCKED, ctx, detail="unexpected redirect from web_profile_info")
        failure = self.failure(call, fetched, ctx)
        if failure is not None:
            return failure
        assert response is not None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        message = str(payload.get("message") or "") if isinstance(payload, dict) else ""
        if response.status_code in (401, 403):
            if "wait" in message.lower():
                return self.result(call, Outcome.BLOCKED, ctx, detail=f"HTTP {response.status_code} {message[:60]!r}")
            return self.result(call, wall, ctx, detail=f"HTTP {response.status_code} ({wall_why})")
        if message in ("login_required", "checkpoint_required"):
            return self.result(call, wall, ctx, detail=f"{message} ({wall_why})")
        renamed = " (deleted, or renamed)" if account.platform_account_id else ""
        if response.status_code == 404:
            return self.result(call, Outcome.NOT_FOUND, ctx, detail=f"HTTP 404: no account @{handle}{renamed}")
        if response.status_code != 200 or not isinstance(payload, dict):
            return self.result(
                call, Outcome.PARSE_ERROR, ctx, detail=f"web_profile_info answer not JSON (HTTP {response.status_code})"
            )
        data = payload.get("data")
        if not isinstance(data, dict):
            return self.result(call, Outcome.PARSE_ERROR, ctx, detail="web_profile_info answer has no 'data'")
        user = data.get("user")
        if user is None and "user" in data:
            return self.result(call, Outcome.NOT_FOUND, ctx, detail=f"data.user is null: no account @{handle}{renamed}")
        if not isinstance(user, dict):
            return self.result(call, Outcome.PARSE_ERROR, ctx, detail="web_profile_info answer has no data.user")
        try:
            observation = profile_observation(account, user, self.now())
            if user.get("is_private"):
                return self.result(
                    call, Outcome.OK, ctx, observation=observation, detail="private account: metrics only"
                )
            videos = profile_videos(user, observation.handle)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            return self.result(call, Outcome.PARSE_ERROR, ctx, detail=str(exc))
        return self.result(call, Outcome.OK, ctx, observation=observation, videos=videos)
