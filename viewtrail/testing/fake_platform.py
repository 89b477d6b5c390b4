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
``/x/gql/i/api/graphql/{queryId}/TweetResultByRestId`` (guest token and web bearer checked) carry the views;
``x_graphql_rate_limited`` answers X's GraphQL route with 429 (syndication still answers);
``changed_page_ids`` answer TikTok pages whose ``statsV2`` counts are display strings ("1.2K"): viewtrail's own
parser ends ``parse_error`` there while yt-dlp still reads them (the ``auto`` backend's fallback).

What yt-dlp's extractors ask for (the ``ytdlp`` backend) is served too: the YouTube watch page
``GET /youtube/watch?v=..`` (``ytInitialPlayerResponse`` and ``ytInitialData``) and the player API
``POST /youtube/youtubei/v1/player``; Instagram's home page ``GET /instagram/`` (the LSD token, a csrftoken
cookie), ``GET /instagram/api/v1/web/get_ruling_for_content/`` and the post page without its trailing slash; X's
GraphQL answer with the author, the date and the video, and tombstones for deleted and protected posts.

Switches (constructor or :meth:`FakePlatformServer.configure` at runtime): ``latency_ms`` per request,
``fault_rate`` and the ``faults`` to draw from: ``"429"`` (with ``Retry-After: retry_after_s``), ``"5xx"``
(503), ``"timeout"`` (the answer never comes: the server holds the request ``hang_s``), ``"challenge"``
(TikTok's WAF page, Instagram's ``/challenge/`` redirect, X's empty ``{}``), ``"login"`` (TikTok's and
Instagram's login redirects, X's empty ``{}``), ``"malformed"`` (a payload with a changed shape).
YouTube has no challenge or login page: those draws answer 503 there. Whether a request faults is
deterministic in ``(seed, request path and query, how many times that request was seen)``, so a retry of
the same request may succeed. The simulation's own per-hour transient faults are off (the server injects its
own); videos the simulation has "disappeared" answer each platform's not-found shape.

The account routes are described in :mod:`viewtrail.testing.fake_server.accounts`; the code lives in
:mod:`viewtrail.testing.fake_server`, this module is its public face.

Standalone: ``python -m viewtrail.testing.fake_platform --port 8765`` then e.g.
``VIEWTRAIL_TIKTOK_MODE=real VIEWTRAIL_TIKTOK_BASE_URL=http://127.0.0.1:8765/tiktok``.
"""

from __future__ import annotations

from viewtrail.testing.fake_server.app import FakePlatformServer, build_app, main
from viewtrail.testing.fake_server.state import FAULTS, FakeAccount, FakePlatformSettings, ReceivedRequest
from viewtrail.testing.fake_server.videos import short_link_video_id

__all__ = [
    "FAULTS",
    "FakeAccount",
    "FakePlatformServer",
    "FakePlatformSettings",
    "ReceivedRequest",
    "build_app",
    "main",
    "short_link_video_id",
]

if __name__ == "__main__":
    main()
