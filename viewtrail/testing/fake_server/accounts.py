"""The fake platform's account routes: each real account client's wire format over the simulated accounts.

A test and bench utility (the numbers are :func:`viewtrail.platforms.simulated.accounts.simulate_account`,
a SIMULATION): mounted by :func:`viewtrail.testing.fake_server.app.build_app` under the same prefixes.

* YouTube ``GET /youtube/channels`` (``forHandle`` / ``id`` / ``forUsername``) and ``GET /youtube/playlistItems``
  (the uploads playlist, 50 per page, ``nextPageToken``);
* TikTok ``GET /tiktok/@{handle}`` (profile page with ``webapp.user-detail``) and
  ``GET /tiktok/api/creator/item_list/`` (by ``secUid``, older than ``cursor`` ms, ``count`` per page; requests
  without the web parameters get TikTok's empty 200 answer);
* Instagram ``GET /instagram/api/v1/users/web_profile_info/?username=`` (needs ``X-IG-App-ID``);
* X ``POST /x/1.1/guest/activate.json`` (needs the bearer) and ``GET /x/graphql/{queryId}/UserByScreenName`` /
  ``UserByRestId`` (needs a guest token this server issued).

Accounts are simulated as watched since the server's ``tracked_at`` and observed at its ``at`` (or now).
:meth:`FakePlatformServer.configure_account` changes one account: ``followers``, ``hidden_followers``
(YouTube), ``private``, ``missing`` (deleted), ``renamed_to`` (the old handle stops answering, the new one
serves the same account and ids), ``status`` (401 or 429 on every request for it) and ``extra_posts``
(``(external_id, posted_at, title)`` tuples published on top of the simulated ones).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from viewtrail.domain.hashing import SIMULATION
from viewtrail.domain.models import Platform
from viewtrail.platforms.simulated.accounts import SimulatedAccount, SimulatedPost, simulate_account
from viewtrail.platforms.x.accounts import WEB_BEARER
from viewtrail.testing.fake_server.handlers import Handlers
from viewtrail.testing.fake_server.state import FakeAccount, ServerState
from viewtrail.testing.fake_server.wire import TIKTOK_CHALLENGE, epoch, iso_z, json_response, tiktok_page, youtube_error

MAX_POSTS = 200  # posts the fake platform keeps per account (deep enough for any listing)


@dataclass(frozen=True, slots=True)
class _Found:
    account: SimulatedAccount
    changes: FakeAccount


def _simulate(state: ServerState, account_id: str) -> _Found | None:
    changes = state.accounts.overrides.get(account_id, FakeAccount())
    if changes.missing:
        return None
    sim = simulate_account(
        account_id, state.now(), state.settings.seed, added_at=state.tracked_at(), fault_rate=0.0, max_posts=MAX_POSTS
    )
    served = state.accounts.served
    served[sim.platform_account_id] = account_id
    if sim.extra.get("sec_uid"):
        served[str(sim.extra["sec_uid"])] = account_id
    updates: dict[str, Any] = {}
    if changes.renamed_to:
        updates["handle"] = changes.renamed_to
    if changes.followers is not None:
        updates["followers"] = changes.followers
    if changes.hidden_followers:
        updates["followers"] = None
    if changes.extra_posts:
        extra = [SimulatedPost(i, p, t) for i, p, t in changes.extra_posts if p <= sim.at]
        updates["posts"] = tuple(sorted((*extra, *sim.posts), key=lambda p: p.posted_at, reverse=True))
        if sim.video_count is not None:
            updates["video_count"] = sim.video_count + len(extra)
    return _Found(replace(sim, **updates) if updates else sim, changes)


def by_handle(state: ServerState, platform: Platform, handle: str) -> _Found | None:
    """The account a handle names now: renamed accounts answer under their new handle only."""
    key = handle.lstrip("@").lower()
    for account_id, changes in state.accounts.overrides.items():
        if account_id.startswith(f"{platform.value}:") and changes.renamed_to == key:
            return _simulate(state, account_id)
    if state.accounts.overrides.get(f"{platform.value}:{key}", FakeAccount()).renamed_to:
        return None
    return _simulate(state, f"{platform.value}:{key}")


def by_platform_id(state: ServerState, platform: Platform, platform_id: str) -> _Found | None:
    """The account with a stable id (channel id, rest_id, secUid), among those served or configured so far."""
    accounts = state.accounts
    candidates = [accounts.served[platform_id]] if platform_id in accounts.served else []
    candidates += [a for a in accounts.overrides if a.startswith(f"{platform.value}:")]
    for account_id in dict.fromkeys(candidates):
        found = _simulate(state, account_id)
        if found is not None and platform_id in (found.account.platform_account_id, found.account.extra.get("sec_uid")):
            return found
    if platform is Platform.YOUTUBE and platform_id.startswith("UC"):
        return _simulate(state, f"youtube:{platform_id}")  # a channel watched by its /channel/UC... URL
    return None


def _status_answer(found: _Found | None, answers: dict[int, Response]) -> Response | None:
    if found is None or found.changes.status is None:
        return None
    status = found.changes.status
    if status == 429:
        return json_response({"message": "rate limited (fake platform)"}, 429, headers={"Retry-After": "1"})
    return answers.get(status) or json_response({"message": f"HTTP {status} (fake platform)"}, status)


# ------------------------------------------------------------------------------------------- YouTube
class _YouTubeAccounts(Handlers):
    platform = Platform.YOUTUBE

    def routes(self) -> list[Route]:
        return [Route(f"{self.prefix}/channels", self.channels), Route(f"{self.prefix}/playlistItems", self.playlist)]

    def server_error(self) -> Response:
        return youtube_error(503, "backendError", "Backend Error")

    def _gate(self, request: Request) -> Response | None:
        if not request.headers.get("x-goog-api-key"):
            return youtube_error(400, "keyInvalid", "API key not valid. Please pass a valid API key.")
        if self.state.settings.youtube_quota_exceeded:
            return youtube_error(
                403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota."
            )
        return None

    async def channels(self, request: Request) -> Response:
        kind, failed = await self.begin(f"youtube/channels?{request.url.query}")
        if failed is not None:
            return failed
        if (gate := self._gate(request)) is not None:
            return gate
        q = request.query_params
        if "id" in q:
            found = by_platform_id(self.state, self.platform, q["id"].split(",")[0])
        elif "forHandle" in q or "forUsername" in q:
            found = by_handle(self.state, self.platform, q.get("forHandle") or q.get("forUsername", ""))
        else:
            return youtube_error(400, "missingRequiredParameter", "No filter selected.")
        status = _status_answer(found, {401: youtube_error(401, "unauthorized", "Unauthorized")})
        if status is not None:
            return status
        envelope = {"kind": "youtube#channelListResponse", "etag": "sim", "pageInfo": {"totalResults": 0}}
        if found is None:
            return json_response(envelope)  # unknown channels: no "items" key at all
        sim = found.account
        statistics: dict[str, Any] = {
            "viewCount": str(sim.views),
            "videoCount": str(sim.video_count),
            "hiddenSubscriberCount": sim.followers is None,
        }
        if sim.followers is not None:
            statistics["subscriberCount"] = str(sim.followers)
        item = {
            "kind": "youtube#channel",
            "id": sim.platform_account_id,
            "snippet": {"title": sim.display_name, "customUrl": f"@{sim.handle.lower()}", "description": "Simulated."},
            "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": "UU" + sim.platform_account_id[2:]}},
        }
        if kind != "malformed":
            item["statistics"] = statistics
        return json_response({**envelope, "pageInfo": {"totalResults": 1, "resultsPerPage": 5}, "items": [item]})

    async def playlist(self, request: Request) -> Response:
        kind, failed = await self.begin(f"youtube/playlistItems?{request.url.query}")
        if failed is not None:
            return failed
        if (gate := self._gate(request)) is not None:
            return gate
        playlist_id = request.query_params.get("playlistId", "")
        found = by_platform_id(self.state, self.platform, "UC" + playlist_id[2:]) if playlist_id else None
        if found is None:
            return youtube_error(
                404, "playlistNotFound", "The playlist identified with the request's playlistId cannot be found."
            )
        size = min(50, int(request.query_params.get("maxResults", "5")))
        token = request.query_params.get("pageToken", "")
        start = int(token.removeprefix("sim")) if token.startswith("sim") else 0
        posts = found.account.posts[start : start + size]
        items = [
            {
                "kind": "youtube#playlistItem",
                "snippet": {
                    "publishedAt": iso_z(post.posted_at),
                    "title": post.title,
                    "resourceId": {"kind": "youtube#video", "videoId": post.external_id},
                },
                "contentDetails": {"videoId": post.external_id, "videoPublishedAt": iso_z(post.posted_at)},
            }
            for post in posts
        ]
        body: dict[str, Any] = {"kind": "youtube#playlistItemListResponse", "items": items}
        if start + size < len(found.account.posts):
            body["nextPageToken"] = f"sim{start + size}"
        return json_response(body)


# -------------------------------------------------------------------------------------------- TikTok
def _tiktok_user_page(sim: SimulatedAccount, private: bool) -> str:
    stats = {
        "followerCount": sim.followers,
        "followingCount": sim.following,
        "heart": sim.likes,
        "heartCount": sim.likes,
        "videoCount": sim.video_count,
        "diggCount": 0,
        "friendCount": 0,
    }
    detail = {
        "userInfo": {
            "user": {
                "id": sim.platform_account_id,
                "uniqueId": sim.handle,
                "nickname": sim.display_name,
                "secUid": sim.extra.get("sec_uid"),
                "privateAccount": private,
                "verified": False,
            },
            "stats": {k: v for k, v in stats.items()},
            "statsV2": {k: str(v) for k, v in stats.items()},
            "itemList": [],
        },
        "statusCode": PRIVATE_STATUS if private else 0,
        "statusMsg": "",
    }
    page = tiktok_page({}, sim.display_name)
    return page.replace(
        '"webapp.video-detail": {}', '"webapp.user-detail": ' + json.dumps(detail).replace("</", "<\\/")
    )


PRIVATE_STATUS = 10222
_ITEM_LIST_REQUIRED = ("aid", "secUid", "cursor", "count", "device_id", "type")


class _TikTokAccounts(Handlers):
    platform = Platform.TIKTOK

    def routes(self) -> list[Route]:
        return [
            Route(self.prefix + "/@{handle}", self.user_page),
            Route(f"{self.prefix}/api/creator/item_list/", self.item_list),
        ]

    def server_error(self) -> Response:
        return HTMLResponse("<html><body>502 Bad Gateway</body></html>", 502)

    async def user_page(self, request: Request) -> Response:
        handle = request.path_params["handle"]
        kind, failed = await self.begin(f"tiktok/@{handle}")
        if failed is not None:
            return failed
        if kind == "challenge":
            return HTMLResponse(TIKTOK_CHALLENGE)
        if kind == "login":
            return RedirectResponse(f"{self.prefix}/login?redirect_url=%2F%40{handle}", status_code=302)
        if kind == "malformed":
            return HTMLResponse(tiktok_page({}))
        found = by_handle(self.state, self.platform, handle)
        status = _status_answer(found, {})
        if status is not None:
            return status
        if found is None:
            page = tiktok_page({}).replace(
                '"webapp.video-detail": {}',
                '"webapp.user-detail": {"statusCode": 10221, "statusMsg": "user doesn\'t exist", "userInfo": {}}',
            )
            return HTMLResponse(page)
        return HTMLResponse(_tiktok_user_page(found.account, found.changes.private))

    async def item_list(self, request: Request) -> Response:
        q = request.query_params
        kind, failed = await self.begin(f"tiktok/item_list?{q.get('secUid')}&{q.get('cursor')}")
        if failed is not None:
            return failed
        if kind in ("challenge", "login") or any(not q.get(name) for name in _ITEM_LIST_REQUIRED):
            return Response(b"", status_code=200, media_type="application/json")  # TikTok's refusal
        if kind == "malformed":
            return json_response({"itemList": "not a list", "statusCode": 0})
        found = by_platform_id(self.state, self.platform, q["secUid"])
        if found is None or found.changes.private:
            return json_response({"itemList": [], "hasMorePrevious": False, "statusCode": 0})
        cursor_s = int(q["cursor"]) // 1000
        count = min(35, int(q["count"]))
        older = [p for p in found.account.posts if epoch(p.posted_at) < cursor_s]
        page = older[:count]
        items = [self._item(found.account, post) for post in page]
        return json_response(
            {"itemList": items, "hasMorePrevious": len(older) > count, "hasMore": False, "statusCode": 0}
        )

    def _item(self, sim: SimulatedAccount, post: SimulatedPost) -> dict[str, Any]:
        return {
            "id": post.external_id,
            "desc": post.title,
            "createTime": epoch(post.posted_at),
            "author": {"id": sim.platform_account_id, "uniqueId": sim.handle, "secUid": sim.extra.get("sec_uid")},
            "stats": {"playCount": 0, "diggCount": 0, "commentCount": 0, "shareCount": 0, "collectCount": 0},
            "video": {"id": post.external_id, "duration": 15},
        }


# ----------------------------------------------------------------------------------------- Instagram
_PLEASE_WAIT = {"message": "Please wait a few minutes before you try again.", "require_login": True, "status": "fail"}


class _InstagramAccounts(Handlers):
    platform = Platform.INSTAGRAM

    def routes(self) -> list[Route]:
        return [Route(f"{self.prefix}/api/v1/users/web_profile_info/", self.profile)]

    def server_error(self) -> Response:
        return HTMLResponse("<html><body>Error</body></html>", 500)

    async def profile(self, request: Request) -> Response:
        username = request.query_params.get("username", "")
        kind, failed = await self.begin(f"instagram/web_profile_info/{username}")
        if failed is not None:
            return failed
        if kind == "challenge":
            return RedirectResponse(f"{self.prefix}/challenge/?next=/{username}/", status_code=302)
        if kind == "login":
            return RedirectResponse(f"{self.prefix}/accounts/login/?next=%2F{username}%2F", status_code=302)
        if request.headers.get("x-ig-app-id") != "936619743392459":
            return json_response({"message": "useragent mismatch", "status": "fail"}, 400)
        found = by_handle(self.state, self.platform, username)
        status = _status_answer(found, {401: json_response(_PLEASE_WAIT, 401)})
        if status is not None:
            return status
        if found is None:
            return json_response({"data": {"user": None}, "status": "ok"}, 404)
        sim, private = found.account, found.changes.private
        edges = [
            {
                "node": {
                    "__typename": "GraphVideo",
                    "id": post.external_id,
                    "shortcode": post.external_id,
                    "taken_at_timestamp": epoch(post.posted_at),
                    "is_video": True,
                    "product_type": "clips",
                    "video_view_count": 0,
                    "edge_liked_by": {"count": 0},
                    "edge_media_to_comment": {"count": 0},
                    "edge_media_to_caption": {"edges": [{"node": {"text": post.title}}]},
                }
            }
            for post in ([] if private else sim.posts[:12])
        ]
        user: dict[str, Any] = {
            "id": sim.platform_account_id,
            "username": sim.handle,
            "full_name": sim.display_name,
            "is_private": private,
            "is_verified": False,
            "edge_follow": {"count": sim.following},
            "edge_owner_to_timeline_media": {
                "count": sim.video_count,
                "page_info": {"has_next_page": len(sim.posts) > 12, "end_cursor": "sim"},
                "edges": edges,
            },
        }
        if kind != "malformed":
            user["edge_followed_by"] = {"count": sim.followers}
        return json_response({"data": {"user": user}, "status": "ok"})


# ------------------------------------------------------------------------------------------------- X
class _XAccounts(Handlers):
    platform = Platform.X

    def routes(self) -> list[Route]:
        return [
            Route(f"{self.prefix}/1.1/guest/activate.json", self.activate, methods=["POST"]),
            Route(self.prefix + "/graphql/{query_id}/{operation}", self.graphql),
        ]

    def server_error(self) -> Response:
        return json_response({"errors": [{"message": "Over capacity", "code": 130}]}, 503)

    async def activate(self, request: Request) -> Response:
        kind, failed = await self.begin("x/guest/activate")
        if failed is not None:
            return failed
        if request.headers.get("authorization") != f"Bearer {WEB_BEARER}" or kind in ("challenge", "login"):
            return json_response({"errors": [{"code": 99, "message": "Unable to verify your credentials"}]}, 403)
        accounts = self.state.accounts
        token = str(10**18 + SIMULATION.integer("guest-token", len(accounts.issued_guest_tokens), size=7))
        accounts.issued_guest_tokens.add(token)
        return json_response({"guest_token": token})

    async def graphql(self, request: Request) -> Response:
        operation = request.path_params["operation"]
        try:
            variables = json.loads(request.query_params.get("variables", "{}"))
        except ValueError:
            return json_response({"errors": [{"message": "variables is not JSON"}]}, 400)
        kind, failed = await self.begin(f"x/graphql/{operation}/{sorted(variables.items())}")
        if failed is not None:
            return failed
        if request.headers.get("x-guest-token") not in self.state.accounts.issued_guest_tokens:
            return json_response({"errors": [{"code": 239, "message": "Bad guest token"}]}, 403)
        if kind in ("challenge", "login"):
            return json_response({"errors": [{"code": 239, "message": "Bad guest token"}]}, 403)
        if operation == "UserByScreenName":
            found = by_handle(self.state, self.platform, str(variables.get("screen_name", "")))
        elif operation == "UserByRestId":
            found = by_platform_id(self.state, self.platform, str(variables.get("userId", "")))
        else:
            return Response("", status_code=404)
        status = _status_answer(found, {})
        if status is not None:
            return status
        if found is None:
            return json_response({"data": {}})
        sim = found.account
        legacy: dict[str, Any] = {
            "screen_name": sim.handle,
            "name": sim.display_name,
            "friends_count": sim.following,
            "statuses_count": sim.extra.get("posts"),
            "media_count": sim.extra.get("media_posts"),
            "favourites_count": 0,
            "protected": found.changes.private,
        }
        if kind != "malformed":
            legacy["followers_count"] = sim.followers
        result = {"__typename": "User", "id": "VXNlcjox", "rest_id": sim.platform_account_id, "legacy": legacy}
        return json_response({"data": {"user": {"result": result}}})


ACCOUNT_HANDLER_GROUPS: tuple[type[Handlers], ...] = (
    _YouTubeAccounts,
    _TikTokAccounts,
    _InstagramAccounts,
    _XAccounts,
)
