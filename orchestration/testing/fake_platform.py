"""A fake platform HTTP server on 127.0.0.1 speaking each real client's wire format from the simulated curves.

A test and bench utility, never production: the numbers are :func:`orchestration.platforms.simulated.simulate`
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

Switches (constructor or :meth:`FakePlatformServer.configure` at runtime): ``latency_ms`` per request,
``fault_rate`` and the ``faults`` to draw from: ``"429"`` (with ``Retry-After: retry_after_s``), ``"5xx"``
(503), ``"timeout"`` (the answer never comes: the server holds the request ``hang_s``), ``"challenge"``
(TikTok's WAF page, Instagram's ``/challenge/`` redirect, X's empty ``{}``), ``"login"`` (TikTok's and
Instagram's login redirects, X's empty ``{}``), ``"malformed"`` (a payload with a changed shape).
YouTube has no challenge or login page: those draws answer 503 there. Whether a request faults is
deterministic in ``(seed, request path and query, how many times that request was seen)``, so a retry of
the same request may succeed. The simulation's own per-hour transient faults are off (the server injects its
own); videos the simulation has "disappeared" answer each platform's not-found shape.

Standalone: ``python -m orchestration.testing.fake_platform --port 8765`` then e.g.
``VIEWTRAIL_TIKTOK_MODE=real VIEWTRAIL_TIKTOK_BASE_URL=http://127.0.0.1:8765/tiktok``.
"""

from __future__ import annotations

import argparse
import asyncio
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

from orchestration.clock import utc_now
from orchestration.hashing import SIMULATION
from orchestration.models import Outcome, Platform
from orchestration.platforms.instagram import pk_to_shortcode, shortcode_to_pk
from orchestration.platforms.simulated import SimulatedState, simulate
from orchestration.platforms.x import syndication_token

__all__ = ["FAULTS", "FakePlatformServer", "FakePlatformSettings", "build_app", "short_link_video_id"]

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
        return replace(self, faults=tuple(self.faults), private_video_ids=frozenset(self.private_video_ids))


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
        detail = {"itemInfo": {"itemStruct": _tiktok_item(sim, external_id)}, "statusCode": 0, "statusMsg": ""}
        return HTMLResponse(_tiktok_page(detail, sim.title))

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


class _Instagram(_Handlers):
    """Logged-out post pages, the logged-in media API, and the login and challenge pages."""

    platform = Platform.INSTAGRAM

    def routes(self) -> list[Route]:
        ig = self.prefix
        return [
            Route(ig + "/p/{code}/", self.post),
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
            return HTMLResponse(_instagram_page(None, "Instagram"))
        video_id = f"instagram:{code}"
        sim = self.state.state(video_id)
        if sim.outcome is Outcome.NOT_FOUND:
            return HTMLResponse("<html><body><h2>Sorry, this page isn't available.</h2></body></html>", 404)
        if video_id in self.state.settings.private_video_ids:
            return HTMLResponse(_instagram_page({"xig_polaris_media": {"if_not_gated_logged_out": None}}, "Instagram"))
        media = _instagram_media(sim, code, shortcode_to_pk(code))
        polaris = {"xig_polaris_media": {"if_not_gated_logged_out": media, "__typename": "XIGPolarisMedia"}}
        return HTMLResponse(_instagram_page(polaris, f'{sim.account} on Instagram: "{sim.title}"'))

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
        return [Route(f"{self.prefix}/tweet-result", self.tweet_result)]

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
        if kind != "malformed":
            tweet["favorite_count"] = sim.likes
        return _json(tweet)


# ------------------------------------------------------------------------------------------------ app
_HANDLER_GROUPS: tuple[type[_Handlers], ...] = (_YouTube, _TikTok, _Instagram, _X)


def _accounts_module() -> Any:
    from orchestration.testing import fake_accounts  # imports this module: loaded on first use

    return fake_accounts


def build_app(state: _State) -> Starlette:
    """The ASGI app serving all four platforms (videos, then accounts) from ``state`` (settings read per request)."""
    groups = (*_HANDLER_GROUPS, *_accounts_module().ACCOUNT_HANDLER_GROUPS)
    return Starlette(routes=[route for group in groups for route in group(state).routes()])


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
        """Change one simulated account (see :class:`orchestration.testing.fake_accounts.FakeAccount`)."""
        self._state.accounts.configure(platform, handle, **changes)

    @property
    def requests(self) -> Counter[str]:
        """Requests served per platform name."""
        return self._state.requests

    @property
    def faults_served(self) -> Counter[str]:
        return self._state.faults_served

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
        prog="python -m orchestration.testing.fake_platform",
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
