"""A fake platform HTTP server on 127.0.0.1 speaking each real client's wire format from the simulated curves.

A test and bench utility, never production: the numbers are :func:`viewtrail.platforms.simulated.client.simulate`
(a SIMULATION, not real data). Each platform lives under a path prefix, so a real client pointed at
``server.base_url(platform)`` parses the answers exactly as it parses the real platform:

* YouTube ``GET /youtube/videos?part=..&id=a,b`` (Data API v3 ``videos.list``; counts as strings; missing ids
  absent from ``items``; needs an ``X-Goog-Api-Key`` header; ``youtube_quota_exceeded`` switch -> 403
  ``quotaExceeded``);
* TikTok ``GET /tiktok/@{user}/video/{id}`` (HTML with ``__UNIVERSAL_DATA_FOR_REHYDRATION__``; gone videos
  answer ``statusCode`` 10202) and short links ``GET /tiktok/t/{code}`` (301 to ``/@{user}/video/{id}``, a
  deterministic video per code, see :func:`short_link_video_id`; non-alphanumeric codes 404);
* Instagram ``GET /instagram/p/{code}/`` (logged-out page with ``data-sjs`` JSON; gone posts 404) and
  ``GET /instagram/api/v1/media/{pk}/info/`` (the logged-in media API);
* X ``GET /x/tweet-result?id=..&token=..`` (syndication JSON; the token must be the embed script's; gone
  tweets 404; ``private_video_ids`` answer a ``TweetTombstone``).

Platform cases beyond the simulation (switches): ``tiktok_challenge`` ``"cookieless"`` answers TikTok's
proof-of-work "Please wait..." page to requests without a valid solution cookie and verifies the cookie
(``"always"``: the challenge repeats even when solved, ``"unsolvable"``: its puzzle data is unreadable);
``deleted_video_ids`` answer TikTok 10204 ``item_privacy_authorization&status_deleted`` and X's "deleted" tombstone;
``geo_restricted_video_ids`` answer TikTok 10204 ``cross_border_violation_ur``; ``instagram_shell_ids`` answer
Instagram's logged-out page shell while ``/p/{code}/embed/captioned/`` serves the post; ``x_views_graphql_only``
leaves ``video.viewCount`` out of syndication while ``/x/gql/1.1/guest/activate.json`` and
``/x/gql/i/api/graphql/{queryId}/TweetResultByRestId`` (guest token and web bearer checked) carry the views.

Switches (constructor or :meth:`FakePlatformServer.configure` at runtime): ``latency_ms`` per request,
``fault_rate`` and the ``faults`` to draw from: ``"429"`` (with ``Retry-After: retry_after_s``), ``"5xx"``
(503), ``"timeout"`` (the answer never comes: the server holds the request ``hang_s``), ``"challenge"``
(TikTok's WAF page, Instagram's ``/challenge/`` redirect, X's empty ``{}``), ``"login"`` (TikTok's and
Instagram's login redirects, X's empty ``{}``), ``"malformed"`` (a payload with a changed shape).
YouTube has no challenge or login page: those draws answer 503 there. Whether a request faults is
deterministic in ``(seed, request path and query, how many times that request was seen)``, so a retry of
the same request may succeed. The simulation's own per-hour transient faults are off (the server injects its
own); videos the simulation has "disappeared" answer each platform's not-found shape.

Standalone: ``python -m viewtrail.testing.fake_platform --port 8765`` then e.g.
``VIEWTRAIL_TIKTOK_MODE=real VIEWTRAIL_TIKTOK_BASE_URL=http://127.0.0.1:8765/tiktok``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from html import escape
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from viewtrail.clock import utc_now
from viewtrail.domain.hashing import SIMULATION
from viewtrail.domain.models import Outcome, Platform
from viewtrail.platforms.instagram.client import pk_to_shortcode, shortcode_to_pk
from viewtrail.platforms.simulated.client import SimulatedState, simulate
from viewtrail.platforms.x.client import syndication_token

__all__ = [
    "FAULTS",
    "FakePlatformServer",
    "FakePlatformSettings",
    "ReceivedRequest",
    "build_app",
    "short_link_video_id",
]

#: The bearer the fake GraphQL route expects: the production default of ``ClientSettings.x_graphql_bearer``.
X_WEB_BEARER = (
    "AAAAAAAAAAAAAAAAAAAAANRILgAAAAAAnNwIzUejRCOuH5E6I8xnZz4puTs%3D1Zv7ttfk8LF81IUq16cHjhLTvJu4FA33AGWWjCpTnA"
)
FAKE_GUEST_TOKEN = "1863000000000000000"
FAULTS = ("429", "5xx", "timeout", "challenge", "login", "malformed")
PREFIXES: dict[Platform, str] = {p: f"/{p.value}" for p in Platform}


@dataclass(frozen=True, slots=True)
class FakePlatformSettings:
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    faults: tuple[str, ...] = FAULTS
    retry_after_s: float = 1.0
    seed: int = 0
    hang_s: float = 30.0  # how long a "timeout" fault holds the request (clients time out first)
    youtube_quota_exceeded: bool = False
    private_video_ids: frozenset[str] = frozenset()
    tiktok_challenge: str = "off"  # off | cookieless | always | unsolvable
    deleted_video_ids: frozenset[str] = frozenset()
    geo_restricted_video_ids: frozenset[str] = frozenset()
    instagram_shell_ids: frozenset[str] = frozenset()
    x_views_graphql_only: bool = False
    #: Keep the path and headers of every request (:attr:`FakePlatformServer.received`), for header assertions.
    record_requests: bool = False
    #: Fixed simulated instant (naive UTC) instead of the wall clock: answers comparable exactly in tests.
    at: datetime | None = None
    #: When the simulated videos count as tracked (they are posted before it); default: ``at``, else the
    #: instant the server started. The same instant gives the same curves as the simulated client.
    tracked_at: datetime | None = None

    def validated(self) -> FakePlatformSettings:
        unknown = set(self.faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}: use some of {', '.join(FAULTS)}")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be within 0..1")
        if self.tiktok_challenge not in ("off", "cookieless", "always", "unsolvable"):
            raise ValueError("tiktok_challenge must be off, cookieless, always or unsolvable")
        return replace(
            self,
            faults=tuple(self.faults),
            private_video_ids=frozenset(self.private_video_ids),
            deleted_video_ids=frozenset(self.deleted_video_ids),
            geo_restricted_video_ids=frozenset(self.geo_restricted_video_ids),
            instagram_shell_ids=frozenset(self.instagram_shell_ids),
        )


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request as the server saw it: its path and headers (names lower-cased)."""

    path: str
    headers: dict[str, str]


@dataclass(slots=True)
class _State:
    settings: FakePlatformSettings
    seen: Counter[str] = field(default_factory=Counter)  # request key -> times seen (fault determinism)
    requests: Counter[str] = field(default_factory=Counter)  # platform -> requests served
    faults_served: Counter[str] = field(default_factory=Counter)  # fault kind -> times injected
    release: asyncio.Event | None = None  # set on stop(): requests held by "timeout" faults return at once
    loop: asyncio.AbstractEventLoop | None = None
    started_at: datetime = field(default_factory=lambda: utc_now().replace(microsecond=0))
    accounts: Any = field(default_factory=lambda: _accounts_module().AccountsState())  # account routes' state
    received: list[ReceivedRequest] = field(default_factory=list)  # with the record_requests switch

    def now(self) -> datetime:
        at = self.settings.at
        return at if at is not None else utc_now()

    def tracked_at(self) -> datetime:
        return self.settings.tracked_at or self.settings.at or self.started_at

    def draw_fault(self, platform: Platform, key: str) -> str | None:
        self.requests[platform.value] += 1
        self.seen[key] += 1
        s = self.settings
        if s.fault_rate <= 0 or not s.faults:
            return None
        count = self.seen[key]
        if SIMULATION.unit(s.seed, "fake-fault", key, count) >= s.fault_rate:
            return None
        kind = s.faults[int(SIMULATION.unit(s.seed, "fake-fault-kind", key, count) * len(s.faults))]
        if platform is Platform.YOUTUBE and kind in ("challenge", "login"):
            kind = "5xx"
        self.faults_served[kind] += 1
        return kind

    def state(self, video_id: str) -> SimulatedState:
        return simulate(video_id, self.now(), self.settings.seed, tracked_at=self.tracked_at(), fault_rate=0.0)


def _iso_z(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(at: datetime) -> int:
    return int(at.replace(tzinfo=UTC).timestamp())


def _iso_duration(seconds: float) -> str:
    total = int(round(seconds))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        headers=headers,
        media_type="application/json; charset=utf-8",
    )


class _Handlers:
    """One platform's request handlers on the shared state: latency, then the faults all platforms answer alike
    (429, 5xx, timeout), then the platform's own shapes (subclasses, one per platform)."""

    platform: Platform

    def __init__(self, state: _State) -> None:
        self.state = state

    @property
    def prefix(self) -> str:
        return PREFIXES[self.platform]

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def server_error(self) -> Response:
        """The platform's answer to a ``5xx`` fault."""
        raise NotImplementedError

    async def begin(self, key: str) -> tuple[str | None, Response | None]:
        """Count the request, draw its fault, wait the latency; a common fault's answer comes back ready."""
        kind = self.state.draw_fault(self.platform, key)
        await self._pause()
        return kind, await self._common_fault(kind)

    async def _pause(self) -> None:
        latency = self.state.settings.latency_ms
        if latency > 0:
            await asyncio.sleep(latency / 1000.0)

    async def _common_fault(self, kind: str | None) -> Response | None:
        state = self.state
        if kind == "429":
            return _json(
                {"error": "rate limited (fake platform)"},
                429,
                headers={"Retry-After": f"{state.settings.retry_after_s:g}"},
            )
        if kind == "5xx":
            return self.server_error()
        if kind == "timeout":
            if state.release is None:
                state.release, state.loop = asyncio.Event(), asyncio.get_running_loop()
            try:  # hold the request; stop() releases held requests so shutdown stays quick and quiet
                await asyncio.wait_for(state.release.wait(), state.settings.hang_s)
            except TimeoutError:
                pass
            return Response("too late", status_code=504)
        return None


# ------------------------------------------------------------------------------------------- YouTube
def _youtube_error(status: int, reason: str, message: str) -> Response:
    return _json(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [
                    {
                        "message": message,
                        "domain": "youtube.quota" if reason == "quotaExceeded" else "global",
                        "reason": reason,
                    }
                ],
            }
        },
        status,
    )


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
            "publishedAt": _iso_z(state.posted_at),
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


class _YouTube(_Handlers):
    """Data API v3 ``videos.list``."""

    platform = Platform.YOUTUBE

    def routes(self) -> list[Route]:
        return [Route(f"{self.prefix}/videos", self.videos)]

    def server_error(self) -> Response:
        return _youtube_error(503, "backendError", "Backend Error")

    async def videos(self, request: Request) -> Response:
        kind, failed = await self.begin(f"youtube?{request.url.query}")
        if failed is not None:
            return failed
        settings = self.state.settings
        if not request.headers.get("x-goog-api-key"):
            return _youtube_error(400, "keyInvalid", "API key not valid. Please pass a valid API key.")
        if settings.youtube_quota_exceeded:
            return _youtube_error(
                403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota."
            )
        ids = [i for i in request.query_params.get("id", "").split(",") if i]
        if not ids:
            return _youtube_error(400, "missingRequiredParameter", "No filter selected.")
        if kind == "malformed":
            return _json({"kind": "youtube#videoListResponse", "items": [{"id": i, "snippet": {}} for i in ids]})
        items = []
        for external_id in ids[:50]:
            video_id = f"youtube:{external_id}"
            sim = self.state.state(video_id)
            if sim.outcome is Outcome.NOT_FOUND or video_id in settings.private_video_ids:
                continue  # the Data API simply leaves unknown/removed/private ids out
            items.append(_youtube_item(sim, external_id))
        return _json(
            {
                "kind": "youtube#videoListResponse",
                "etag": "sim",
                "items": items,
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            }
        )


# -------------------------------------------------------------------------------------------- TikTok
_TIKTOK_CHALLENGE = (
    '<!DOCTYPE html><html><head><meta charset="UTF-8"><title>Please wait...</title></head><body>'
    '<p>Please wait...</p><div id="cs" class="eyJ2IjoxfQ" style="display:none"></div>'
    '<div id="wci" class="_wafchallengeid" style="display:none"></div></body></html>'
)


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


def _tiktok_page(detail: dict[str, Any], title: str = "TikTok", raw: str | None = None) -> str:
    body = (
        raw
        if raw is not None
        else json.dumps(
            {
                "__DEFAULT_SCOPE__": {
                    "webapp.app-context": {"language": "en", "region": "US"},
                    "webapp.video-detail": detail,
                },
                "__REMIX_VERSION__": "2.0.0",
            },
            ensure_ascii=False,
        ).replace("</", "<\\/")
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/><title>{escape(title)} | TikTok</title></head>'
        f'<body><div id="app"></div><script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">'
        f"{body}</script></body></html>"
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
        "createTime": str(_epoch(state.posted_at)),
        "video": {"id": external_id, "height": 1024, "width": 576, "duration": int(state.duration_s), "format": "mp4"},
        "author": {"id": "sim", "uniqueId": state.account, "nickname": state.account, "privateAccount": False},
        "stats": stats,
        "statsV2": {k: str(v) for k, v in stats.items()} | {"repostCount": "0"},
        "privateItem": False,
        "isAd": False,
    }


def short_link_video_id(code: str, seed: int = 0) -> str:
    """The TikTok video id the fake short link ``/tiktok/t/{code}`` redirects to (deterministic)."""
    return "7" + str(int.from_bytes(SIMULATION.digest(seed, "fake-short-link", code)[:8], "big"))[:18].zfill(18)


class _TikTok(_Handlers):
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
            return HTMLResponse(_TIKTOK_CHALLENGE)
        if kind == "login":
            return RedirectResponse(f"{self.prefix}/login?redirect_url=%2Fvideo", status_code=302)
        challenge = self.challenge(request)
        if challenge is not None:
            return challenge
        if kind == "malformed":
            return HTMLResponse(_tiktok_page({}, raw='{"__DEFAULT_SCOPE__": {"webapp.video-detail": {"itemInf'))
        video_id = f"tiktok:{external_id}"
        if not external_id.isdigit():
            return HTMLResponse(_tiktok_page({"statusCode": 10202, "statusMsg": "item not exist"}))
        sim = self.state.state(video_id)
        if sim.outcome is Outcome.NOT_FOUND:
            return HTMLResponse(_tiktok_page({"statusCode": 10202, "statusMsg": "item not exist"}))
        if video_id in self.state.settings.private_video_ids:
            return HTMLResponse(_tiktok_page({"statusCode": 10216, "statusMsg": "author_secret"}))
        if video_id in self.state.settings.deleted_video_ids:
            return HTMLResponse(
                _tiktok_page({"statusCode": 10204, "statusMsg": "item_privacy_authorization&status_deleted"})
            )
        if video_id in self.state.settings.geo_restricted_video_ids:
            return HTMLResponse(_tiktok_page({"statusCode": 10204, "statusMsg": "cross_border_violation_ur"}))
        detail = {"itemInfo": {"itemStruct": _tiktok_item(sim, external_id)}, "statusCode": 0, "statusMsg": ""}
        return HTMLResponse(_tiktok_page(detail, sim.title))

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
        "taken_at": _epoch(state.posted_at),
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
        "taken_at_timestamp": _epoch(state.posted_at),
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


class _Instagram(_Handlers):
    """Logged-out post pages, the logged-in media API, and the login and challenge pages."""

    platform = Platform.INSTAGRAM

    def routes(self) -> list[Route]:
        ig = self.prefix
        return [
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
            return _json({"items": [], "status": "ok"})
        try:
            code = pk_to_shortcode(int(pk))
        except ValueError:
            return _json({"message": "Invalid media_id", "status": "fail"}, 400)
        sim = self.state.state(f"instagram:{code}")
        if sim.outcome is Outcome.NOT_FOUND:
            return _json({"message": "Media not found or unavailable", "status": "fail"}, 400)
        return _json({"items": [_instagram_media(sim, code, int(pk))], "num_results": 1, "status": "ok"})

    async def login(self, request: Request) -> Response:
        return HTMLResponse("<html><head><title>Login • Instagram</title></head><body>Log in</body></html>")


# ------------------------------------------------------------------------------------------------- X
class _X(_Handlers):
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
            return _json({"errors": [{"code": 99, "message": "Unable to verify your credentials"}]}, 403)
        return _json({"guest_token": FAKE_GUEST_TOKEN})

    async def tweet_by_rest_id(self, request: Request) -> Response:
        try:
            variables = json.loads(request.query_params.get("variables", "{}"))
        except ValueError:
            variables = {}
        external_id = str(variables.get("tweetId", ""))
        _, failed = await self.begin(f"x/gql/{external_id}")
        if failed is not None:
            return failed
        if (
            request.headers.get("authorization") != f"Bearer {X_WEB_BEARER}"
            or request.headers.get("x-guest-token") != FAKE_GUEST_TOKEN
        ):
            return _json({"errors": [{"code": 239, "message": "Bad guest token."}]}, 403)
        sim = self.state.state(f"x:{external_id}")
        if not external_id.isdigit() or sim.outcome is Outcome.NOT_FOUND:
            return _json({"data": {"tweetResult": {}}})
        result = {
            "__typename": "Tweet",
            "rest_id": external_id,
            "views": {"count": str(sim.views), "state": "EnabledWithCount"},
            "legacy": {
                "id_str": external_id,
                "full_text": sim.title,
                "favorite_count": sim.likes,
                "reply_count": sim.comments,
                "retweet_count": sim.shares,
                "quote_count": 0,
                "bookmark_count": 0,
            },
        }
        return _json({"data": {"tweetResult": {"result": result}}})

    def server_error(self) -> Response:
        return _json({"errors": [{"message": "Over capacity"}]}, 503)

    async def tweet_result(self, request: Request) -> Response:
        external_id = request.query_params.get("id", "")
        kind, failed = await self.begin(f"x/{external_id}")
        if failed is not None:
            return failed
        if not external_id.isdigit() or request.query_params.get("token") != syndication_token(external_id):
            return _json({"error": "bad request: id or token"}, 400)
        if kind in ("challenge", "login"):
            return _json({})
        video_id = f"x:{external_id}"
        sim = self.state.state(video_id)
        if sim.outcome is Outcome.NOT_FOUND:
            return Response("", status_code=404)
        if video_id in self.state.settings.deleted_video_ids:
            return _json(
                {
                    "__typename": "TweetTombstone",
                    "tombstone": {"text": {"text": "This Post was deleted by the Post author. Learn more"}},
                }
            )
        if video_id in self.state.settings.private_video_ids:
            return _json(
                {
                    "__typename": "TweetTombstone",
                    "tombstone": {
                        "text": {
                            "text": "You're unable to view "
                            "this Post because this account owner limits who can view their Posts."
                        }
                    },
                }
            )
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
        return _json(tweet)


# ------------------------------------------------------------------------------------------------ app
_HANDLER_GROUPS: tuple[type[_Handlers], ...] = (_YouTube, _TikTok, _Instagram, _X)


def _accounts_module() -> Any:
    from viewtrail.testing import fake_accounts  # imports this module: loaded on first use

    return fake_accounts


def _recording(app: Any, state: _State) -> Any:
    """``app`` keeping each request's path and headers in ``state.received`` while ``record_requests`` is on."""

    async def recorded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and state.settings.record_requests:
            headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
            state.received.append(ReceivedRequest(scope["path"], headers))
        await app(scope, receive, send)

    return recorded


def build_app(state: _State) -> Any:
    """The ASGI app serving all four platforms (videos, then accounts) from ``state`` (settings read per request)."""
    groups = (*_HANDLER_GROUPS, *_accounts_module().ACCOUNT_HANDLER_GROUPS)
    return _recording(Starlette(routes=[route for group in groups for route in group(state).routes()]), state)


class FakePlatformServer:
    """Runs the fake platform on 127.0.0.1 (a free port) in a background thread; use as a context manager.

    >>> with FakePlatformServer(latency_ms=50, fault_rate=0.05) as server:   # doctest: +SKIP
    ...     client = build_client("tiktok", "real", base_url=server.base_url("tiktok"))
    """

    def __init__(
        self,
        latency_ms: float = 0.0,
        fault_rate: float = 0.0,
        faults: Iterable[str] = FAULTS,
        retry_after_s: float = 1.0,
        seed: int = 0,
        *,
        port: int = 0,
        **switches: Any,
    ) -> None:
        settings = FakePlatformSettings(
            latency_ms=latency_ms, fault_rate=fault_rate, faults=tuple(faults), retry_after_s=retry_after_s, seed=seed
        )
        self._state = _State(replace(settings, **switches).validated())
        self._requested_port = port
        self.port: int | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------------------------- switches
    @property
    def settings(self) -> FakePlatformSettings:
        return self._state.settings

    @property
    def tracked_at(self) -> datetime:
        """The instant the simulated videos count as tracked from (see ``FakePlatformSettings.tracked_at``)."""
        return self._state.tracked_at()

    def configure(self, **switches: Any) -> None:
        """Change switches at runtime (latency_ms, fault_rate, faults, retry_after_s, youtube_quota_exceeded...)."""
        names = {f.name for f in fields(FakePlatformSettings)}
        unknown = set(switches) - names
        if unknown:
            raise TypeError(f"unknown fake platform switches: {', '.join(sorted(unknown))}")
        if "faults" in switches:
            switches["faults"] = tuple(switches["faults"])
        self._state.settings = replace(self._state.settings, **switches).validated()

    def configure_account(self, platform: Platform | str, handle: str, **changes: Any) -> None:
        """Change one simulated account (see :class:`viewtrail.testing.fake_accounts.FakeAccount`)."""
        self._state.accounts.configure(platform, handle, **changes)

    @property
    def requests(self) -> Counter[str]:
        """Requests served per platform name."""
        return self._state.requests

    @property
    def faults_served(self) -> Counter[str]:
        return self._state.faults_served

    @property
    def received(self) -> list[ReceivedRequest]:
        """The requests seen while the ``record_requests`` switch was on, oldest first."""
        return self._state.received

    def base_url(self, platform: Platform | str) -> str:
        if self.port is None:
            raise RuntimeError("the fake platform server is not running: use it as a context manager")
        return f"http://127.0.0.1:{self.port}{PREFIXES[Platform(platform)]}"

    # ------------------------------------------------------------------------------- lifecycle
    def start(self) -> FakePlatformServer:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._requested_port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(self._state),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            backlog=2048,
        )
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # not the main thread
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="fake-platform", daemon=True
        )
        self._thread.start()
        deadline = 10.0
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the fake platform server failed to start")
            deadline -= 0.01
            if deadline <= 0:
                raise RuntimeError("the fake platform server did not start within 10 s")
            time.sleep(0.01)  # not Event().wait(0.01): under faketime a timed lock wait lasts as long as the shift
        return self

    def stop(self) -> None:
        state = self._state
        if state.release is not None and state.loop is not None and not state.loop.is_closed():
            state.loop.call_soon_threadsafe(state.release.set)  # let requests held by "timeout" faults end
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> FakePlatformServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m viewtrail.testing.fake_platform",
        description="Serve the SIMULATED platform in the real platforms' wire formats on 127.0.0.1 "
        "(prefixes /youtube /tiktok /instagram /x).",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma-separated subset of {','.join(FAULTS)}")
    parser.add_argument("--retry-after-s", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import uvicorn

    settings = FakePlatformSettings(
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        faults=tuple(f for f in args.faults.split(",") if f),
        retry_after_s=args.retry_after_s,
        seed=args.seed,
    ).validated()
    print(f"fake platform (simulated data) on http://127.0.0.1:{args.port}/{{youtube,tiktok,instagram,x}}", flush=True)
    uvicorn.run(
        build_app(_State(settings)),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        backlog=2048,
    )


if __name__ == "__main__":
    main()
