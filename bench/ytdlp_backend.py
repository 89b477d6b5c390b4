"""Time per video of the native and the ytdlp backends, per platform, against the fake platform server.

For each platform it reads the same N videos one at a time (concurrency 1, one video in flight, rate limit not
binding) through the native client and through the ytdlp backend (yt-dlp's real extractor), in this one run, and
reports per backend: HTTP requests per video, milliseconds per video (wall clock; the fake server answers from
the same process, in a thread, with ``--latency-ms`` per request), that time as a multiple of the native
backend's (the floor, measured in the same run), and what the platform's default rate limit makes of the
requests per video: the seconds per video a polite scrape of many videos cannot go below.

YouTube's native client is the Data API (50 videos per request, 1 quota unit each); its ytdlp backend reads the
watch page and the player API, 2 requests per video, no quota and no key.

    .venv/bin/python bench/ytdlp_backend.py                 # writes docs/benchmarks.md (ytdlp section)
    .venv/bin/python bench/ytdlp_backend.py --no-write --videos 5 --platforms tiktok
"""

from __future__ import annotations

import argparse
import os
import platform as platform_module
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from benchmarks_md import BENCHMARKS_MD, write_section  # bench/ is on sys.path when a bench runs

from viewtrail.domain.models import Outcome, Platform, VideoToScrape
from viewtrail.platforms.base import default_settings, scrape_sync
from viewtrail.platforms.factory import build_client
from viewtrail.platforms.simulated.client import video_profile
from viewtrail.platforms.ytdlp.client import ytdlp_version
from viewtrail.testing.fake_platform import FakePlatformServer

SECTION = "ytdlp-bench"
AT = datetime(2026, 11, 22, 12, 30)
TRACKED = AT - timedelta(days=90)
EXTERNAL_ID = {
    Platform.TIKTOK: lambda i: f"73{i:017d}",
    Platform.YOUTUBE: lambda i: f"yb{i:09d}",
    Platform.INSTAGRAM: lambda i: f"D{i:010d}",
    Platform.X: lambda i: f"19{i:017d}",
}


@dataclass(frozen=True, slots=True)
class Measured:
    platform: Platform
    backend: str
    videos: int
    ok: int
    requests: int
    seconds: float

    @property
    def ms_per_video(self) -> float:
        return 1000.0 * self.seconds / self.videos

    @property
    def requests_per_video(self) -> float:
        return self.requests / self.videos


def alive(platform: Platform, n: int) -> list[VideoToScrape]:
    out = []
    for i in range(50 * n):
        ext = EXTERNAL_ID[platform](i)
        gone = video_profile(f"{platform.value}:{ext}").disappears_at(TRACKED)
        if gone is None or gone > AT + timedelta(days=1):
            out.append(VideoToScrape(f"{platform.value}:{ext}", platform, ext, f"https://example.invalid/{ext}"))
        if len(out) == n:
            break
    return out


def measure(server: FakePlatformServer, platform: Platform, backend: str, videos: list[VideoToScrape]) -> Measured:
    client = build_client(
        platform,
        "real",
        backend=backend,
        base_url=server.base_url(platform),
        x_graphql_base_url=server.base_url(Platform.X) + "/gql",
        api_key="bench-key",
        rate_per_min=1_000_000.0,
        concurrency=1,
        max_in_flight=1,
        breaker_threshold=1_000_000,
    )
    list(scrape_sync(client, videos[:1]))  # warm-up: imports, the first YoutubeDL, connections
    before = server.requests[platform.value]
    started = time.perf_counter()
    results = list(scrape_sync(client, videos))
    seconds = time.perf_counter() - started
    ok = sum(r.attempt.outcome is Outcome.OK for r in results)
    return Measured(platform, backend, len(videos), ok, server.requests[platform.value] - before, seconds)


def polite_seconds(measured: Measured) -> float:
    """Seconds per video the platform's default rate limit allows for this many requests per video."""
    return measured.requests_per_video * 60.0 / default_settings(measured.platform).rate_per_min


def table(rows: list[Measured]) -> str:
    native = {m.platform: m for m in rows if m.backend == "native"}
    lines = [
        "| platform | backend | ok | requests / video | ms / video (fake server) | x native | s / video at the default rate limit |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in rows:
        ratio = m.ms_per_video / native[m.platform].ms_per_video if m.platform in native else float("nan")
        lines.append(
            f"| {m.platform.value} | {m.backend} | {m.ok}/{m.videos} | {m.requests_per_video:.2f} | "
            f"{m.ms_per_video:.1f} | {ratio:.1f} | {polite_seconds(m):.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--platforms", default=",".join(p.value for p in Platform))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    platforms = [Platform(p) for p in args.platforms.split(",") if p]
    rows: list[Measured] = []
    with FakePlatformServer(latency_ms=args.latency_ms, at=AT, tracked_at=TRACKED) as server:
        for platform in platforms:
            videos = alive(platform, args.videos)
            for backend in ("native", "ytdlp"):
                rows.append(measure(server, platform, backend, videos))
    text = (
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform_module.machine()} ({os.cpu_count()} cores), Python "
        f"{sys.version.split()[0]}, yt-dlp {ytdlp_version()}: {args.videos} videos per platform and backend, one at "
        f"a time, the fake server answering each request after {args.latency_ms:g} ms. `python bench/ytdlp_backend.py`"
        "\n\n" + table(rows) + "\n\n"
        "The native YouTube client asks the Data API for 50 videos per request (1 quota unit); the ytdlp backend "
        "needs no key and no quota but 2 requests per video (the watch page and the player API). Instagram through "
        "yt-dlp asks the home page once (a session token, kept while the client lives), then 2 requests per post "
        "(its access ruling, the post page). X through yt-dlp is 2 requests per post (a guest token, the GraphQL "
        "post). TikTok is one page either way. The last column is the bound that matters for many videos: the "
        "requests per video over the platform's default requests per minute."
    )
    print(text)
    if not args.no_write:
        write_section(SECTION, "## yt-dlp backend: time per video\n\n" + text)
        print(f"wrote {BENCHMARKS_MD}")


if __name__ == "__main__":
    main()
