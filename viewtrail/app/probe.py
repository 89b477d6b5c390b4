"""A live, one-off scrape of a few videos, to see why one fails: ``viewtrail probe`` (and the HTTP API) call it.

Each video is scraped once through the real client of its platform, built exactly as real mode builds it
(:func:`viewtrail.platforms.factory.build_client` with the settings from the environment), whatever
``VIEWTRAIL_{P}_MODE`` says; ``backends`` probes it through each backend named (``native``, ``ytdlp``, ``auto``)
one after the other, to compare viewtrail's own parser with yt-dlp's. Around each scrape :func:`viewtrail.platforms.trace.capture` records every
HTTP exchange (scrubbed URL, status, time) and the notable events (a challenge solved or not, a fallback
route). The result is a :class:`ProbeReport` per video, with what to try next when it did not end ``ok``.

Nothing is written to the warehouse: a probe is a look, not an observation (the YouTube client still counts
the quota unit it spends, in its own state file). Plain Python: no Dagster, no DuckDB.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from viewtrail import config
from viewtrail.domain.errors import ViewtrailError
from viewtrail.domain.models import Outcome, Platform, ShortLink, VideoRef, VideoToScrape
from viewtrail.domain.urls import InvalidVideoUrl, parse_platform, parse_video_url

__all__ = [
    "METRICS",
    "PROBE_RUN_ID",
    "UNRESOLVED",
    "ProbeRefused",
    "ProbeReport",
    "ProbeTarget",
    "RequestLine",
    "challenge_state",
    "check_allowed",
    "check_backends",
    "hints_for",
    "parse_targets",
    "probe",
    "probe_async",
]

#: ``run_id`` the probe's attempts carry (they are never stored; the value only names them in logs).
PROBE_RUN_ID = "probe"
#: Outcome of a short link that led to no video (the redirect lookup failed).
UNRESOLVED = "unresolved"
METRICS = ("views", "likes", "comments", "shares", "saves")
_CHALLENGE_EVENTS = {"challenge_solved": "solved", "challenge_unsolved": "unsolved"}


class ProbeRefused(ViewtrailError):
    """The probe may not run as configured (offline mode, a missing key); nothing was requested."""


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    """One argument: the text given and the video it names, or the short link that names it."""

    text: str
    ref: VideoRef | ShortLink

    @property
    def platform(self) -> Platform:
        return self.ref.platform


@dataclass(frozen=True, slots=True)
class RequestLine:
    """One HTTP exchange of a probe, as recorded by the client (URL scrubbed of secrets)."""

    method: str
    url: str
    status: int | None
    elapsed_ms: float | None
    proxy_index: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "elapsed_ms": self.elapsed_ms,
            "proxy_index": self.proxy_index,
            "error": self.error,
        }


@dataclass(slots=True)
class ProbeReport:
    """What probing one video found. :meth:`to_dict` is the stable JSON shape (docs/cli.md, ``probe``)."""

    input: str
    platform: Platform
    video_id: str | None  # None when a short link could not be resolved
    url: str
    outcome: str  # an Outcome value, or UNRESOLVED
    detail: str | None = None
    resolved_from: str | None = None  # the short link this video was reached through
    http_status: int | None = None
    tries: int = 0
    source: str | None = None  # the route: the observation's source when there is one, else the attempt's
    metrics: dict[str, int | None] | None = None
    video: dict[str, Any] | None = None  # title, account, posted_at (ISO, UTC), duration_s
    events: list[str] = field(default_factory=list)
    requests: list[RequestLine] = field(default_factory=list)
    elapsed_ms: float = 0.0
    hints: list[str] = field(default_factory=list)
    backend: str | None = None  # the backend asked for (native, ytdlp, auto); None = the configured one

    @property
    def ok(self) -> bool:
        return self.outcome == Outcome.OK.value

    @property
    def challenge(self) -> str | None:
        return challenge_state(self.events)

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "platform": self.platform.value,
            "backend": self.backend,
            "video_id": self.video_id,
            "url": self.url,
            "resolved_from": self.resolved_from,
            "ok": self.ok,
            "outcome": self.outcome,
            "detail": self.detail,
            "http_status": self.http_status,
            "tries": self.tries,
            "source": self.source,
            "metrics": self.metrics,
            "video": self.video,
            "challenge": self.challenge,
            "events": list(self.events),
            "requests": [r.to_dict() for r in self.requests],
            "elapsed_ms": self.elapsed_ms,
            "hints": list(self.hints),
        }


def challenge_state(events: Iterable[str]) -> str | None:
    """``"solved"``/``"unsolved"`` after the last challenge event of a scrape, ``None`` when there was none."""
    state = None
    for event in events:
        name = event.split(":", 1)[0]
        state = _CHALLENGE_EVENTS.get(name, state)
    return state


# ------------------------------------------------------------------------------------------------- input


def parse_targets(texts: Sequence[str], platform: Platform | str | None = None) -> list[ProbeTarget]:
    """The videos named by ``texts``, in order (duplicates kept: a probe of the same URL twice is two probes).

    Raises :class:`InvalidVideoUrl` for the first text that is no video reference (its one-sentence message).
    """
    expected = parse_platform(platform) if platform else None
    if not texts:
        raise InvalidVideoUrl("No video given: pass one or more video URLs, e.g. https://youtu.be/<id>.")
    return [ProbeTarget(text, parse_video_url(text, expected)) for text in texts]


def _client_factory(backend: str | None = None) -> Callable[[Platform], Any]:
    from viewtrail.platforms.factory import build_client

    return lambda platform: build_client(platform, "real", backend=backend)


def check_backends(backends: Sequence[str]) -> list[str]:
    """The backends named (lower case, in order, each once); :class:`ProbeRefused` names an unknown one."""
    chosen = list(dict.fromkeys(b.strip().lower() for b in backends))
    unknown = [b for b in chosen if b not in config.BACKENDS]
    if unknown:
        raise ProbeRefused(f"--backend {unknown[0]!r} is not a backend: use {', '.join(config.BACKENDS)}.")
    return chosen


def check_allowed(targets: Sequence[ProbeTarget], make_client: Callable[[Platform], Any] | None = None) -> None:
    """Raise :class:`ProbeRefused` (one sentence) when the configuration forbids probing ``targets``.

    ``VIEWTRAIL_OFFLINE`` allows only a loopback base URL (the fake platform server): the real client refuses
    to exist otherwise, and a short link always leads to the public host.
    """
    from viewtrail.platforms.http import OfflineError
    from viewtrail.platforms.youtube.client import MissingApiKeyError

    make = make_client or _client_factory()
    if config.offline():
        for target in targets:
            if isinstance(target.ref, ShortLink):
                raise ProbeRefused(
                    f"VIEWTRAIL_OFFLINE is set, so the short link {target.text} cannot be followed: "
                    "probe the full video URL, or unset VIEWTRAIL_OFFLINE."
                )
    for platform in dict.fromkeys(t.platform for t in targets):
        try:
            make(platform)
        except OfflineError:
            from viewtrail.platforms.factory import settings_from_env

            host = urlsplit(settings_from_env(platform).base_url).hostname
            raise ProbeRefused(
                f"VIEWTRAIL_OFFLINE is set, so viewtrail may not call {host} to probe {platform.value}: unset "
                f"VIEWTRAIL_OFFLINE, or point {config.platform_variable(platform, 'BASE_URL')} at a local server."
            ) from None
        except MissingApiKeyError:
            raise ProbeRefused(
                f"{config.YOUTUBE_API_KEY} is not set, so YouTube cannot be probed through the Data API: create a "
                "YouTube Data API v3 key in the Google Cloud console and export it, or probe with --backend ytdlp."
            ) from None


# ------------------------------------------------------------------------------------------------- hints


def _var(platform: Platform, suffix: str) -> str:
    return config.platform_variable(platform, suffix)


def _access_ladder(platform: Platform) -> list[str]:
    session = f" (or {config.INSTAGRAM_SESSIONID}, its sessionid cookie)" if platform is Platform.INSTAGRAM else ""
    return [
        f"set {_var(platform, 'IMPERSONATE')}=chrome (a browser's TLS fingerprint) and probe again",
        f"then export the cookies of a logged-in browser session and set "
        f"{_var(platform, 'COOKIES_FILE')}=cookies.txt{session}",
        f"then route requests through other addresses with {_var(platform, 'PROXIES')}",
    ]


def hints_for(
    platform: Platform | str, outcome: str, detail: str | None = None, source: str | None = None
) -> list[str]:
    """What to try next after ``outcome`` on ``platform``, most promising first; empty for ``ok``. ``source``
    ``ytdlp`` means the web pages were read (no Data API, so YouTube's key and quota are not the cause)."""
    platform = Platform(platform)
    outcome = str(outcome)
    if outcome == Outcome.OK.value:
        return []
    youtube = platform is Platform.YOUTUBE and source != "ytdlp"
    instagram = platform is Platform.INSTAGRAM
    if outcome == Outcome.BLOCKED.value:
        if youtube:
            return [
                f"the API key was refused: check {config.YOUTUBE_API_KEY} (a YouTube Data API v3 key of a project "
                "with the API enabled and no IP or referrer restriction that excludes this machine)"
            ]
        return _access_ladder(platform)
    if outcome == Outcome.RATE_LIMITED.value:
        if youtube:
            return [f"wait a minute and probe again: the API limits requests per minute per {config.YOUTUBE_API_KEY}"]
        return [
            "wait a few minutes (longer than any Retry-After in the detail) and probe again",
            f"lower {_var(platform, 'RATE_PER_MIN')}, or spread requests over {_var(platform, 'PROXIES')}",
        ]
    if outcome == Outcome.QUOTA_EXHAUSTED.value:
        return [
            f"the daily YouTube quota ({config.YOUTUBE_DAILY_UNITS} units a day, 10000 by default) is spent: it "
            "resets at midnight Pacific time (the detail says when, in UTC)",
            f"or set {config.YOUTUBE_API_KEY} to a key of another Google Cloud project",
        ]
    if outcome in (Outcome.LOGIN_REQUIRED.value, Outcome.PRIVATE.value):
        private = outcome == Outcome.PRIVATE.value
        if instagram:
            who = "an account allowed to see the post" if private else "a logged-in browser session"
            return [
                f"set {config.INSTAGRAM_SESSIONID} to the sessionid cookie of {who}",
                f"or export that session's cookies and set {_var(platform, 'COOKIES_FILE')}=cookies.txt",
            ]
        if private:
            return [
                "the video is private: only its owner, or an account it allows, can see it",
                f"if such an account is yours, export its cookies and set {_var(platform, 'COOKIES_FILE')}=cookies.txt",
            ]
        return [
            f"the platform wants a login (age-restricted or login wall): export the cookies of a logged-in browser "
            f"session and set {_var(platform, 'COOKIES_FILE')}=cookies.txt"
        ]
    if outcome == Outcome.NOT_FOUND.value:
        if youtube:
            return ["it is gone: the API no longer returns it (deleted, made private, or a wrong id); check the URL"]
        return ["it is gone: the platform says the video was deleted or never existed; check the URL"]
    if outcome == Outcome.GEO_RESTRICTED:
        return [f"it is withheld in this region: set {_var(platform, 'PROXIES')} to a proxy in another region"]
    if outcome == Outcome.PARSE_ERROR.value and source == "ytdlp":
        return [
            "yt-dlp could not read it: upgrade yt-dlp (.venv/bin/pip install -U yt-dlp) and probe again",
            "or probe it with --backend native; if neither reads it, report the output of viewtrail probe --verbose",
        ]
    if outcome == Outcome.PARSE_ERROR.value:
        return [
            "the platform changed its format (the detail names what is missing): probe it with --backend ytdlp, "
            f"and if yt-dlp reads it set {_var(platform, 'BACKEND')}=auto until viewtrail's parser is fixed",
            "if yt-dlp fails too, upgrade it (.venv/bin/pip install -U yt-dlp) and probe again; report the output "
            "of viewtrail probe --verbose",
        ]
    if outcome == Outcome.TIMEOUT.value:
        return [f"retry later; if it keeps timing out, raise {_var(platform, 'TIMEOUT_S')}"]
    if outcome == Outcome.UPSTREAM_ERROR.value:
        return ["the platform answered with a server error: retry later"]
    if outcome == UNRESOLVED:
        return ["open the short link in a browser and probe the full video URL it leads to"]
    return ["retry later; run viewtrail probe --verbose to see each request"]


# ------------------------------------------------------------------------------------------------- probing


def _scrubber(client: Any) -> Callable[[str], str]:
    scrub = getattr(client, "scrub", None)
    return scrub if callable(scrub) else str


async def _probe_one(
    target: ProbeTarget, make_client: Callable[[Platform], Any], backend: str | None = None
) -> ProbeReport:
    from viewtrail.platforms import trace

    started = time.monotonic()
    report = ProbeReport(
        input=target.text, platform=target.platform, video_id=None, url=target.ref.url, outcome="", backend=backend
    )
    with trace.capture() as recorded:
        client = make_client(target.platform)
        scrub = _scrubber(client)
        try:
            ref: VideoRef | None
            if isinstance(target.ref, ShortLink):
                report.resolved_from = target.ref.url
                try:
                    ref = await client.resolve_short_link(target.ref.url)
                except ViewtrailError as error:
                    report.outcome, report.detail = UNRESOLVED, scrub(str(error))
                    ref = None
            else:
                ref = target.ref
            if ref is not None:
                report.video_id, report.url = ref.video_id, ref.url
                video = VideoToScrape(ref.video_id, ref.platform, ref.external_id, ref.url, account=ref.account)
                async for result in client.scrape([video], run_id=PROBE_RUN_ID):
                    _fill(report, result)
        finally:
            await client.aclose()
    report.events = [scrub(event) for event in recorded.events]
    report.requests = [
        RequestLine(r.method, scrub(r.url), r.status, r.elapsed_ms, r.proxy_index, r.error and scrub(r.error))
        for r in recorded.requests
    ]
    report.elapsed_ms = round((time.monotonic() - started) * 1000.0, 1)
    report.hints = hints_for(report.platform, report.outcome, report.detail, report.source)
    return report


def _fill(report: ProbeReport, result: Any) -> None:
    attempt, observation = result.attempt, result.observation
    report.outcome = str(attempt.outcome)
    report.detail = attempt.detail
    report.http_status = attempt.http_status
    report.tries = attempt.tries
    report.source = observation.source if observation is not None else attempt.source
    if observation is not None:
        report.metrics = {name: getattr(observation, name) for name in METRICS}
        report.video = {
            "title": observation.title,
            "account": observation.account,
            "posted_at": observation.posted_at.isoformat() if observation.posted_at else None,
            "duration_s": observation.duration_s,
        }


async def probe_async(
    targets: Sequence[ProbeTarget],
    *,
    make_client: Callable[[Platform], Any] | None = None,
    backends: Sequence[str] = (),
) -> list[ProbeReport]:
    """Probe ``targets`` one after the other (a fresh client each: one probe's breaker or pages never colour
    another's), after :func:`check_allowed`; with ``backends``, each target through each of them in turn. For
    callers inside an event loop (the HTTP API)."""
    if make_client is not None or not backends:
        make = make_client or _client_factory()
        check_allowed(targets, make)
        return [await _probe_one(target, make) for target in targets]
    chosen = check_backends(backends)
    makers = {backend: _client_factory(backend) for backend in chosen}
    for make in makers.values():
        check_allowed(targets, make)
    return [await _probe_one(target, makers[backend], backend) for target in targets for backend in chosen]


def probe(
    texts: Sequence[str],
    platform: Platform | str | None = None,
    *,
    make_client: Callable[[Platform], Any] | None = None,
    backends: Sequence[str] = (),
) -> list[ProbeReport]:
    """Parse ``texts`` and probe them (through each of ``backends`` when given); for synchronous callers (the CLI).

    Raises :class:`InvalidVideoUrl` for a text that is no video reference and :class:`ProbeRefused` when the
    configuration forbids probing, both before any request.
    """
    targets = parse_targets(texts, platform)
    from viewtrail.platforms.base import run_sync  # the platform stack loads only when probing

    return run_sync(lambda: probe_async(targets, make_client=make_client, backends=backends), name="probe")
