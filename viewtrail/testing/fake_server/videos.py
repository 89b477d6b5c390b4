"""The video routes of the fake platform: each real video client's wire format over the simulated curves
(routes and switches: :mod:`viewtrail.testing.fake_platform`)."""

from __future__ import annotations

import base64
import hashlib
import json
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from viewtrail.domain.hashing import SIMULATION
from viewtrail.domain.models import Outcome, Platform
from viewtrail.platforms.instagram.client import pk_to_shortcode, shortcode_to_pk
from viewtrail.platforms.simulated.client import SimulatedState
from viewtrail.platforms.x.client import syndication_token
from viewtrail.testing.fake_server.handlers import Handlers
from viewtrail.testing.fake_server.wire import (
    TIKTOK_CHALLENGE,
    epoch,
    iso_z,
    json_response,
    tiktok_page,
    youtube_error,
)

#: The bearer the fake GraphQL route expects: the production default of ``ClientSettings.x_graphql_bearer``.
X_WEB_BEARER = (
    "AAAAAAAAAAAAAAAAAAAAANRILgAAAAAAnNwIzUejRCOuH5E6I8xnZz4puTs%3D1Zv7ttfk8LF81IUq16cHjhLTvJu4FA33AGWWjCpTnA"
)
FAKE_GUEST_TOKEN = "1863000000000000000"


def _iso_duration(seconds: float) -> str:
    total = int(round(seconds))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


# ------------------------------------------------------------------------------------------- YouTube


def _youtube_item(state: SimulatedState, external_id: str) -> dict[str, Any]:
    statistics = {"viewCount": str(state.views), "favoriteCount": "0"}
    if state.likes is not None:
        statistics["likeCount"] = str(state.likes)
    if state.comments is not None:
        statistics["commentCount"] = str(state.comments)
    return {
        "kind": "youtube#video",
        "etag": f"sim-{external_id}",
        "id": external_id,
        "snippet": {
            "publishedAt": iso_z(state.posted_at),
            "channelId": "UCsim" + state.account,
            "title": state.title,
            "description": "A simulated video (not real data).",
            "channelTitle": state.account,
            "categoryId": "22",
            "liveBroadcastContent": "none",
        },
        "contentDetails": {"duration": _iso_duration(state.duration_s), "dimension": "2d", "definition": "hd"},
        "statistics": statistics,
    }


def _youtube_playability(state: SimulatedState | None, private: bool) -> dict[str, Any]:
    if state is None or state.outcome is Outcome.NOT_FOUND:
        return {"status": "ERROR", "reason": "This video isn't available anymore"}
    if private:
        return {
            "status": "LOGIN_REQUIRED",
            "reason": "Private video",
            "messages": ["This is a private video. Please sign in to verify that you may see it."],
        }
    return {"status": "OK", "playableInEmbed": True}


def _youtube_channel_id(account: str) -> str:
    """A well-formed channel id (``UC`` + 22 characters) for a simulated account."""
    return "UC" + base64.urlsafe_b64encode(hashlib.sha256(account.encode()).digest()).decode()[:22]


def _youtube_player(state: SimulatedState | None, external_id: str, private: bool) -> dict[str, Any]:
    """A player response (``ytInitialPlayerResponse``, ``/youtubei/v1/player``): playability, the video's details
    and its microformat; no streaming data (counts are what the backends read)."""
    player: dict[str, Any] = {"playabilityStatus": _youtube_playability(state, private)}
    if player["playabilityStatus"]["status"] != "OK":
        return player
    assert state is not None
    posted = state.posted_at.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    channel_id = _youtube_channel_id(state.account)
    player["videoDetails"] = {
        "videoId": external_id,
        "title": state.title,
        "lengthSeconds": str(int(state.duration_s)),
        "channelId": channel_id,
        "shortDescription": "A simulated video (not real data).",
        "viewCount": str(state.views),
        "author": state.account,
        "isLiveContent": False,
    }
    player["microformat"] = {
        "playerMicroformatRenderer": {
            "title": {"simpleText": state.title},
            "lengthSeconds": str(int(state.duration_s)),
            "ownerProfileUrl": f"http://www.youtube.com/@{state.account}",
            "ownerChannelName": state.account,
            "externalChannelId": channel_id,
            "viewCount": str(state.views),
            "publishDate": posted,
            "uploadDate": posted,
            "category": "People & Blogs",
        }
    }
    return player


def _youtube_watch_page(state: SimulatedState | None, external_id: str, private: bool) -> str:
    """The watch page as yt-dlp's YouTube extractor reads it: ``ytInitialPlayerResponse`` and ``ytInitialData``
    (likes in the primary info, the channel in the secondary info, comments in the item section)."""
    player = _youtube_player(state, external_id, private)
    data: dict[str, Any] = {"contents": {"twoColumnWatchNextResults": {"results": {"results": {"contents": []}}}}}
    title = "YouTube"
    if state is not None and "videoDetails" in player:
        title = f"{state.title} - YouTube"
        primary: dict[str, Any] = {"title": {"runs": [{"text": state.title}]}}
        if state.likes is not None:
            like_text = f"like this video along with {state.likes:,} other people"
            button = {"buttonViewModel": {"accessibilityText": like_text, "title": str(state.likes)}}
            primary["videoActions"] = {
                "menuRenderer": {
                    "topLevelButtons": [
                        {
                            "segmentedLikeDislikeButtonViewModel": {
                                "likeButtonViewModel": {
                                    "likeButtonViewModel": {
                                        "toggleButtonViewModel": {
                                            "toggleButtonViewModel": {"defaultButtonViewModel": button}
                                        }
                                    }
                                }
                            }
                        }
                    ]
                }
            }
        owner = {"videoOwnerRenderer": {"title": {"runs": [{"text": state.account}]}}}
        contents: list[dict[str, Any]] = [
            {"videoPrimaryInfoRenderer": primary},
            {"videoSecondaryInfoRenderer": {"owner": owner}},
        ]
        if state.comments is not None:
            header = {"commentsEntryPointHeaderRenderer": {"commentCount": {"simpleText": f"{state.comments:,}"}}}
            contents.append(
                {"itemSectionRenderer": {"sectionIdentifier": "comment-item-section", "contents": [header]}}
            )
        data["contents"]["twoColumnWatchNextResults"]["results"]["results"]["contents"] = contents

    def blob(value: dict[str, Any]) -> str:
        return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")

    scripts = (
        f"<script>var ytInitialPlayerResponse = {blob(player)};</script>"
        f"<script>var ytInitialData = {blob(data)};</script>"
    )
    return f"<!DOCTYPE html><html><head><title>{escape(title)}</title></head><body>{scripts}</body></html>"


class _YouTube(Handlers):
    """Data API v3 ``videos.list``, and the watch page (no key needed) that yt-dlp reads."""

    platform = Platform.YOUTUBE

    def routes(self) -> list[Route]:
        return [
            Route(f"{self.prefix}/videos", self.videos),
            Route(f"{self.prefix}/watch", self.watch),
            Route(f"{self.prefix}/youtubei/v1/player", self.player, methods=["POST"]),
        ]

    def _sim(self, external_id: str) -> SimulatedState | None:
        return self.state.state(f"youtube:{external_id}") if len(external_id) == 11 else None

    def _private(self, external_id: str) -> bool:
        return f"youtube:{external_id}" in self.state.settings.private_video_ids

    async def player(self, request: Request) -> Response:
        """The innertube player API yt-dlp asks once per video (``{"videoId": ...}`` posted as JSON)."""
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = {}
        external_id = str(body.get("videoId", "")) if isinstance(body, dict) else ""
        _, failed = await self.begin(f"youtube/player/{external_id}")
        if failed is not None:
            return failed
        return json_response(_youtube_player(self._sim(external_id), external_id, self._private(external_id)))

    async def watch(self, request: Request) -> Response:
        external_id = request.query_params.get("v", "")
        kind, failed = await self.begin(f"youtube/watch?v={external_id}")
        if failed is not None:
            return failed
        if kind == "malformed":
            return HTMLResponse("<html><head><title>YouTube</title></head><body>Something went wrong</body></html>")
        return HTMLResponse(_youtube_watch_page(self._sim(external_id), external_id, self._private(external_id)))

    def server_error(self) -> Response:
        return youtube_error(503, "backendError", "Backend Error")

    async def videos(self, request: Request) -> Response:
        kind, failed = await self.begin(f"youtube?{request.url.query}")
        if failed is not None:
            return failed
        settings = self.state.settings
        if not request.headers.get("x-goog-api-key"):
            return youtube_error(400, "keyInvalid", "API key not valid. Please pass a valid API key.")
        if settings.youtube_quota_exceeded:
            return youtube_error(
                403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota."
            )
        ids = [i for i in request.query_params.get("id", "").split(",") if i]
        if not ids:
            return youtube_error(400, "missingRequiredParameter", "No filter selected.")
        if kind == "malformed":
            return json_response(
                {"kind": "youtube#videoListResponse", "items": [{"id": i, "snippet": {}} for i in ids]}
            )
        items = []
        for external_id in ids[:50]:
            video_id = f"youtube:{external_id}"
            sim = self.state.state(video_id)
            if sim.outcome is Outcome.NOT_FOUND or video_id in settings.private_video_ids:
                continue  # the Data API simply leaves unknown/removed/private ids out
            items.append(_youtube_item(sim, external_id))
        return json_response(
            {
                "kind": "youtube#videoListResponse",
                "etag": "sim",
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            }
        )


# -------------------------------------------------------------------------------------------- TikTok

_CHALLENGE_COOKIE = "_wafchallengeid"
_CHALLENGE_EXTRA_COOKIE = "waforiginalreid"


def _tiktok_challenge_data(seed: int) -> tuple[dict[str, Any], int]:
    """The puzzle (``cs`` JSON) and its answer: ``sha256(prefix + str(nonce))`` with a small nonce."""
    digest = SIMULATION.digest(seed, "fake-tiktok-challenge")
    prefix, nonce = digest[:16], int.from_bytes(digest[16:20], "big") % 5000
    expected = hashlib.sha256(prefix + str(nonce).encode()).digest()
    data = {
        "v": {"a": base64.b64encode(prefix).decode(), "b": 1, "c": base64.b64encode(expected).decode()},
        "s": "fake-session",
        "e": "fake",
    }
    return data, nonce


def _tiktok_challenge_page(seed: int, solvable: bool = True) -> str:
    data, _ = _tiktok_challenge_data(seed)
    if not solvable:
        data = {"v": {"a": data["v"]["a"]}}  # no expected digest: nothing to solve against
    encoded = base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")
    return (
        '<!DOCTYPE html><html><head><meta charset="UTF-8"><title>Please wait...</title></head><body>'
        "<p>Please wait...</p>"
        f'<div id="cs" class="{encoded}" style="display:none"></div>'
        f'<div id="wci" class="{_CHALLENGE_COOKIE}" style="display:none"></div>'
        f'<div id="rci" class="{_CHALLENGE_EXTRA_COOKIE}" style="display:none"></div>'
        '<div id="rs" class="fake-original-request" style="display:none"></div>'
        "<script>/* solves the puzzle, sets the cookies, reloads */</script></body></html>"
    )


def _tiktok_challenge_passed(request: Request, seed: int) -> bool:
    """Whether the request carries a correct answer to the server's puzzle."""
    raw = request.cookies.get(_CHALLENGE_COOKIE)
    if not raw:
        return False
    try:
        answer = json.loads(base64.b64decode(raw))
    except ValueError:
        return False
    data, nonce = _tiktok_challenge_data(seed)
    return (
        isinstance(answer, dict)
        and answer.get("v") == data["v"]
        and answer.get("d") == base64.b64encode(str(nonce).encode()).decode()
        and request.cookies.get(_CHALLENGE_EXTRA_COOKIE) == "fake-original-request"
    )


def _tiktok_item(state: SimulatedState, external_id: str) -> dict[str, Any]:
    stats = {
        "diggCount": state.likes,
        "shareCount": state.shares,
        "commentCount": state.comments,
        "playCount": state.views,
        "collectCount": state.saves,
    }
    return {
        "id": external_id,
        "desc": state.title,
        "createTime": str(epoch(state.posted_at)),
        "video": {"id": external_id, "height": 1024, "width": 576, "duration": int(state.duration_s), "format": "mp4"},
        "author": {"id": "sim", "uniqueId": state.account, "nickname": state.account, "privateAccount": False},
        "stats": stats,
        "statsV2": {k: str(v) for k, v in stats.items()} | {"repostCount": "0"},
        "privateItem": False,
        "isAd": False,
    }


def _abbreviated(count: int | None) -> str:
    """A count as a display string in thousands or millions: ``"0.1K"``, ``"12.3K"``, ``"3.4M"``."""
    value = count or 0
    return f"{value / 1_000_000:.1f}M" if value >= 1_000_000 else f"{value / 1000:.1f}K"


def short_link_video_id(code: str, seed: int = 0) -> str:
    """The TikTok video id the fake short link ``/tiktok/t/{code}`` redirects to (deterministic)."""
    return "7" + str(int.from_bytes(SIMULATION.digest(seed, "fake-short-link", code)[:8], "big"))[:18].zfill(18)


class _TikTok(Handlers):
    """Video pages, short links and the login page."""

    platform = Platform.TIKTOK

    def routes(self) -> list[Route]:
        tt = self.prefix
        return [
            Route(tt + "/@{user}/video/{video_id}", self.video),
            Route(f"{tt}/login", self.login),
            Route(tt + "/t/{code}", self.short_link),
            Route(tt + "/t/{code}/", self.short_link),
            Route("/@{user}/video/{video_id}", self.video),  # where short links lead (see short_link)
            Route("/login", self.login),
        ]

    def server_error(self) -> Response:
        return HTMLResponse("<html><body>502 Bad Gateway</body></html>", 502)

    async def video(self, request: Request) -> Response:
        user, external_id = request.path_params["user"], request.path_params["video_id"]
        kind, failed = await self.begin(f"tiktok/{user}/{external_id}")
        if failed is not None:
            return failed
        if kind == "challenge":
            return HTMLResponse(TIKTOK_CHALLENGE)
        if kind == "login":
            return RedirectResponse(f"{self.prefix}/login?redirect_url=%2Fvideo", status_code=302)
        challenge = self.challenge(request)
        if challenge is not None:
            return challenge
        if kind == "malformed":
            return HTMLResponse(tiktok_page({}, raw='{"__DEFAULT_SCOPE__": {"webapp.video-detail": {"itemInf'))
        video_id = f"tiktok:{external_id}"
        if not external_id.isdigit():
            return HTMLResponse(tiktok_page({"statusCode": 10202, "statusMsg": "item not exist"}))
        sim = self.state.state(video_id)
        if sim.outcome is Outcome.NOT_FOUND:
            return HTMLResponse(tiktok_page({"statusCode": 10202, "statusMsg": "item not exist"}))
        if video_id in self.state.settings.private_video_ids:
            return HTMLResponse(tiktok_page({"statusCode": 10216, "statusMsg": "author_secret"}))
        if video_id in self.state.settings.deleted_video_ids:
            return HTMLResponse(
                tiktok_page({"statusCode": 10204, "statusMsg": "item_privacy_authorization&status_deleted"})
            )
        if video_id in self.state.settings.geo_restricted_video_ids:
            return HTMLResponse(tiktok_page({"statusCode": 10204, "statusMsg": "cross_border_violation_ur"}))
        item = _tiktok_item(sim, external_id)
        if video_id in self.state.settings.changed_page_ids:
            item["statsV2"] = {key: _abbreviated(value) for key, value in item["stats"].items()}
        detail = {"itemInfo": {"itemStruct": item}, "statusCode": 0, "statusMsg": ""}
        return HTMLResponse(tiktok_page(detail, sim.title))

    def challenge(self, request: Request) -> Response | None:
        """The proof-of-work page when the ``tiktok_challenge`` switch asks for it, else ``None``."""
        mode, seed = self.state.settings.tiktok_challenge, self.state.settings.seed
        if mode == "off" or (mode == "cookieless" and _tiktok_challenge_passed(request, seed)):
            return None
        self.state.faults_served["tiktok_challenge"] += 1
        return HTMLResponse(_tiktok_challenge_page(seed, solvable=mode != "unsolvable"))

    async def short_link(self, request: Request) -> Response:
        # vm.tiktok.com/{code} and tiktok.com/t/{code} answer a redirect to the video page. The target is the
        # UNPREFIXED page path (also served), because TikTokClient.resolve_short_link rebuilds the final path on
        # www.tiktok.com and parses it as a public URL.
        code = request.path_params["code"]
        kind, failed = await self.begin(f"tiktok/t/{code}")
        if failed is not None:
            return failed
        if kind == "login":
            return RedirectResponse(f"/login?redirect_url=%2Ft%2F{code}", status_code=302)
        if not code.isalnum():
            return HTMLResponse("<html><body>Page not available</body></html>", 404)
        external_id = short_link_video_id(code, self.state.settings.seed)
        account = self.state.state(f"tiktok:{external_id}").account
        return RedirectResponse(f"/@{account}/video/{external_id}?_r=1", status_code=301)

    async def login(self, request: Request) -> Response:
        return HTMLResponse("<html><head><title>Log in | TikTok</title></head><body>Log in</body></html>")


# ----------------------------------------------------------------------------------------- Instagram
def _instagram_media(state: SimulatedState, code: str, pk: int) -> dict[str, Any]:
    media: dict[str, Any] = {
        "pk": str(pk),
        "id": f"{pk}_1",
        "code": code,
        "media_type": 2,
        "product_type": "clips",
        "taken_at": epoch(state.posted_at),
        "caption": {"text": state.title},
        "user": {"username": state.account, "is_private": False},
        "owner": {"username": state.account},
        "like_count": state.likes if state.likes is not None else 0,
        "comment_count": state.comments,
        "like_and_view_counts_disabled": state.likes is None,
        "comments_disabled": None,
        "video_duration": state.duration_s,
    }
    if state.views is not None:
        media["play_count"] = state.views
    if state.shares is not None:
        media["reshare_count"] = state.shares
    return media


def _instagram_page(polaris: dict[str, Any] | None, title: str) -> str:
    blocks = [
        '{"require":[["ScheduledServerJS","handle",null,[{"__bbox":{"define":[["PolarisSiteData",[],'
        '{"country_code":"US"},1]]}}]]]}'
    ]
    if polaris is not None:
        payload = {
            "require": [
                [
                    "ScheduledServerJS",
                    "handle",
                    None,
                    [
                        {
                            "__bbox": {
                                "require": [
                                    [
                                        "RelayPrefetchedStreamCache",
                                        "next",
                                        [],
                                        [
                                            "adp_PolarisPostRootQueryRelayPreloader_sim",
                                            {
                                                "__bbox": {
                                                    "complete": True,
                                                    "result": {"data": polaris, "extensions": {"is_final": True}},
                                                }
                                            },
                                        ],
                                    ]
                                ]
                            }
                        }
                    ],
                ]
            ]
        }
        blocks.append(json.dumps(payload, ensure_ascii=False).replace("</", "<\\/"))
    scripts = "".join(f'<script type="application/json" data-sjs>{b}</script>' for b in blocks)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8" /><title>{escape(title)}</title></head>'
        f"<body>{scripts}</body></html>"
    )


def _instagram_shell() -> str:
    """The logged-out page shell: titled "Instagram", login form and app scripts, no post data."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8" /><title>Instagram</title></head><body>'
        '<form id="loginForm"><input name="username"/><input name="password" type="password"/></form>'
        + "".join(_instagram_page(None, "x").split("<body>")[1].split("</body>")[:1])
        + "</body></html>"
    )


def _instagram_embed(state: SimulatedState, code: str, pk: int) -> str:
    """The public embed page: ``window.__additionalDataLoaded('extra', {"shortcode_media": ...})``."""
    node = {
        "__typename": "GraphVideo",
        "id": str(pk),
        "shortcode": code,
        "is_video": True,
        "taken_at_timestamp": epoch(state.posted_at),
        "edge_media_preview_like": {"count": state.likes if state.likes is not None else 0, "edges": []},
        "edge_media_to_comment": {"count": state.comments if state.comments is not None else 0},
        "edge_media_to_caption": {"edges": [{"node": {"text": state.title}}]},
        "owner": {"id": "1", "username": state.account, "is_private": False},
        "video_duration": state.duration_s,
        "like_and_view_counts_disabled": state.likes is None,
        "comments_disabled": state.comments is None,
    }
    payload = json.dumps({"shortcode_media": node}, ensure_ascii=False).replace("</", "<\\/")
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Instagram</title></head><body>'
        f'<blockquote class="instagram-media">{escape(state.title)}</blockquote>'
        f"<script>window.__additionalDataLoaded('extra',{payload});</script></body></html>"
    )


class _Instagram(Handlers):
    """Logged-out post pages, the logged-in media API, and the login and challenge pages."""

    platform = Platform.INSTAGRAM

    def routes(self) -> list[Route]:
        ig = self.prefix
        return [
            Route(f"{ig}/", self.home),
            Route(ig + "/api/v1/web/get_ruling_for_content/", self.ruling),
            Route(ig + "/p/{code}", self.post),
            Route(ig + "/p/{code}/", self.post),
            Route(ig + "/p/{code}/embed/captioned/", self.embed),
            Route(ig + "/api/v1/media/{pk}/info/", self.media_info),
            Route(f"{ig}/accounts/login/", self.login),
            Route(f"{ig}/challenge/", self.login),
        ]

    def server_error(self) -> Response:
        return HTMLResponse("<html><body>Error</body></html>", 500)

    async def post(self, request: Request) -> Response:
        code = request.path_params["code"]
        kind, failed = await self.begin(f"instagram/p/{code}")
        if failed is not None:
            return failed
        if kind == "challenge":
            return RedirectResponse(f"{self.prefix}/challenge/?next=/p/{code}/", status_code=302)
        if kind == "login":
            return RedirectResponse(f"{self.prefix}/accounts/login/?next=%2Fp%2F{code}%2F", status_code=302)
        if kind == "malformed":
            return HTMLResponse(_instagram_page(None, "Post on Instagram"))
        video_id = f"instagram:{code}"
        if video_id in self.state.settings.instagram_shell_ids:
            return HTMLResponse(_instagram_shell())
        sim = self.state.state(video_id)
        if sim.outcome is Outcome.NOT_FOUND:
            return HTMLResponse("<html><body><h2>Sorry, this page isn't available.</h2></body></html>", 404)
        if video_id in self.state.settings.private_video_ids:
            return HTMLResponse(_instagram_page({"xig_polaris_media": {"if_not_gated_logged_out": None}}, "Instagram"))
        media = _instagram_media(sim, code, shortcode_to_pk(code))
        polaris = {"xig_polaris_media": {"if_not_gated_logged_out": media, "__typename": "XIGPolarisMedia"}}
        return HTMLResponse(_instagram_page(polaris, f'{sim.account} on Instagram: "{sim.title}"'))

    async def home(self, request: Request) -> Response:
        """The logged-out home page: yt-dlp takes its session's LSD token from it, and the csrftoken cookie."""
        _, failed = await self.begin("instagram/home")
        if failed is not None:
            return failed
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8" /><title>Instagram</title></head><body>'
            '<script type="application/json" data-sjs>{"require":[["LSD",[],{"token":"FakeLsdToken"},323]]}</script>'
            '<script>requireLazy(["LSD"],function(){});["LSD",[],{"token":"FakeLsdToken"},323]</script></body></html>'
        )
        response = HTMLResponse(page)
        response.set_cookie("csrftoken", "FakeCsrfToken0123456789", path="/")
        return response

    async def ruling(self, request: Request) -> Response:
        """``/api/v1/web/get_ruling_for_content/``: whether a post may be shown logged out."""
        target = request.query_params.get("target_id", "")
        _, failed = await self.begin(f"instagram/ruling/{target}")
        if failed is not None:
            return failed
        return json_response({"status": "ok"})

    async def embed(self, request: Request) -> Response:
        code = request.path_params["code"]
        kind, failed = await self.begin(f"instagram/embed/{code}")
        if failed is not None:
            return failed
        sim = self.state.state(f"instagram:{code}")
        if sim.outcome is Outcome.NOT_FOUND:
            return HTMLResponse("<html><body>Sorry, this page isn't available.</body></html>", 404)
        if f"instagram:{code}" in self.state.settings.private_video_ids:  # private posts do not embed
            return HTMLResponse("<html><head><title>Instagram</title></head><body></body></html>")
        return HTMLResponse(_instagram_embed(sim, code, shortcode_to_pk(code)))

    async def media_info(self, request: Request) -> Response:
        pk = request.path_params["pk"]
        kind, failed = await self.begin(f"instagram/api/{pk}")
        if failed is not None:
            return failed
        if kind in ("challenge", "login") or "sessionid=" not in request.headers.get("cookie", ""):
            return RedirectResponse(f"{self.prefix}/accounts/login/", status_code=302)
        if kind == "malformed":
            return json_response({"items": [], "status": "ok"})
        try:
            code = pk_to_shortcode(int(pk))
        except ValueError:
            return json_response({"message": "Invalid media_id", "status": "fail"}, 400)
        sim = self.state.state(f"instagram:{code}")
        if sim.outcome is Outcome.NOT_FOUND:
            return json_response({"message": "Media not found or unavailable", "status": "fail"}, 400)
        return json_response({"items": [_instagram_media(sim, code, int(pk))], "num_results": 1, "status": "ok"})

    async def login(self, request: Request) -> Response:
        return HTMLResponse("<html><head><title>Login • Instagram</title></head><body>Log in</body></html>")


# ------------------------------------------------------------------------------------------------- X
class _X(Handlers):
    """The syndication endpoint ``tweet-result``."""

    platform = Platform.X

    def routes(self) -> list[Route]:
        return [
            Route(f"{self.prefix}/tweet-result", self.tweet_result),
            Route(f"{self.prefix}/gql/1.1/guest/activate.json", self.guest_activate, methods=["POST"]),
            Route(self.prefix + "/gql/i/api/graphql/{query_id}/TweetResultByRestId", self.tweet_by_rest_id),
        ]

    async def guest_activate(self, request: Request) -> Response:
        _, failed = await self.begin("x/guest/activate")
        if failed is not None:
            return failed
        if request.headers.get("authorization") != f"Bearer {X_WEB_BEARER}":
            return json_response({"errors": [{"code": 99, "message": "Unable to verify your credentials"}]}, 403)
        return json_response({"guest_token": FAKE_GUEST_TOKEN})

    async def tweet_by_rest_id(self, request: Request) -> Response:
        try:
            variables = json.loads(request.query_params.get("variables", "{}"))
        except ValueError:
            variables = {}
        external_id = str(variables.get("tweetId", ""))
        _, failed = await self.begin(f"x/gql/{external_id}")
        if failed is not None:
            return failed
        if self.state.settings.x_graphql_rate_limited:
            return json_response({"errors": [{"code": 88, "message": "Rate limit exceeded."}]}, 429)
        if (
            request.headers.get("authorization") != f"Bearer {X_WEB_BEARER}"
            or request.headers.get("x-guest-token") != FAKE_GUEST_TOKEN
        ):
            return json_response({"errors": [{"code": 239, "message": "Bad guest token."}]}, 403)
        sim = self.state.state(f"x:{external_id}")
        if not external_id.isdigit() or sim.outcome is Outcome.NOT_FOUND:
            return json_response({"data": {"tweetResult": {}}})
        tombstone = self._tombstone(f"x:{external_id}")
        if tombstone is not None:
            return json_response({"data": {"tweetResult": {"result": tombstone}}})
        media = {
            "type": "video",
            "id_str": external_id,
            "media_url_https": f"https://pbs.twimg.com/ext_tw_video_thumb/{external_id}/pu/img/sim.jpg",
            "video_info": {"duration_millis": int(sim.duration_s * 1000), "variants": []},
        }
        result = {
            "__typename": "Tweet",
            "rest_id": external_id,
            "views": {"count": str(sim.views), "state": "EnabledWithCount"},
            "core": {"user_results": {"result": {"legacy": {"screen_name": sim.account, "name": sim.account}}}},
            "legacy": {
                "id_str": external_id,
                "created_at": sim.posted_at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
                "extended_entities": {"media": [media]},
                "full_text": sim.title,
                "favorite_count": sim.likes,
                "reply_count": sim.comments,
                "retweet_count": sim.shares,
                "quote_count": 0,
                "bookmark_count": 0,
            },
        }
        return json_response({"data": {"tweetResult": {"result": result}}})

    def server_error(self) -> Response:
        return json_response({"errors": [{"message": "Over capacity"}]}, 503)

    def _tombstone(self, video_id: str) -> dict[str, Any] | None:
        """The ``TweetTombstone`` syndication and GraphQL answer for a deleted or protected post, else ``None``."""
        settings = self.state.settings
        if video_id in settings.deleted_video_ids:
            text = "This Post was deleted by the Post author. Learn more"
        elif video_id in settings.private_video_ids:
            text = "You're unable to view this Post because this account owner limits who can view their Posts."
        else:
            return None
        return {"__typename": "TweetTombstone", "tombstone": {"text": {"text": text}}}

    async def tweet_result(self, request: Request) -> Response:
        external_id = request.query_params.get("id", "")
        kind, failed = await self.begin(f"x/{external_id}")
        if failed is not None:
            return failed
        if not external_id.isdigit() or request.query_params.get("token") != syndication_token(external_id):
            return json_response({"error": "bad request: id or token"}, 400)
        if kind in ("challenge", "login"):
            return json_response({})
        video_id = f"x:{external_id}"
        sim = self.state.state(video_id)
        if sim.outcome is Outcome.NOT_FOUND:
            return Response("", status_code=404)
        tombstone = self._tombstone(video_id)
        if tombstone is not None:
            return json_response(tombstone)
        tweet: dict[str, Any] = {
            "__typename": "Tweet",
            "lang": "en",
            "created_at": sim.posted_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "id_str": external_id,
            "text": sim.title,
            "user": {"id_str": "1", "name": sim.account, "screen_name": sim.account},
            "mediaDetails": [{"type": "video", "video_info": {"duration_millis": int(sim.duration_s * 1000)}}],
            "video": {
                "durationMs": int(sim.duration_s * 1000),
                "viewCount": sim.views,
                "videoId": {"type": "tweet", "id": external_id},
            },
            "conversation_count": sim.comments,
            "retweet_count": sim.shares,
        }
        if self.state.settings.x_views_graphql_only:
            del tweet["video"]["viewCount"]
        if kind != "malformed":
            tweet["favorite_count"] = sim.likes
        return json_response(tweet)


#: The video route groups, one per platform.
VIDEO_HANDLER_GROUPS: tuple[type[Handlers], ...] = (_YouTube, _TikTok, _Instagram, _X)
