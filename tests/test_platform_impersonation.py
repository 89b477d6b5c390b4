"""Opt-in remedies against blocking: browser impersonation (curl_cffi) and cookies from a cookies.txt file,
through the real clients against the fake platform server on 127.0.0.1."""

from __future__ import annotations

import logging
import re
import socket
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from viewtrail import config
from viewtrail.cli import app
from viewtrail.domain.models import AccountToDiscover, Outcome, Platform, VideoToScrape
from viewtrail.platforms.accounts import build_account_client, discover_sync
from viewtrail.platforms.base import scrape_sync
from viewtrail.platforms.factory import build_client
from viewtrail.platforms.simulated.client import video_profile
from viewtrail.testing.fake_platform import FakePlatformServer

AT = datetime(2026, 11, 22, 12, 30)
TRACKED = AT - timedelta(days=90)
METRICS = ("views", "likes", "comments", "shares", "saves", "account", "posted_at", "duration_s", "title")
IDS = {
    Platform.TIKTOK: lambda i: f"72{i:017d}",
    Platform.X: lambda i: f"18{i:017d}",
    Platform.INSTAGRAM: lambda i: f"C{i:010d}",
    Platform.YOUTUBE: lambda i: f"sim{i:08d}",
}
TIKTOK_SECRET = "tt-chain-token-SECRET-0123456789"
SESSION_SECRET = "file-session-SECRET-9876543210"
YOUTUBE_SECRET = "youtube-login-SECRET-55555555"


def alive(platform: Platform, n: int) -> list[str]:
    found = []
    for i in range(4 * n):
        ext = IDS[platform](i)
        gone = video_profile(f"{platform.value}:{ext}").disappears_at(TRACKED)
        if gone is None or gone > AT + timedelta(days=1):
            found.append(ext)
    return found[:n]


def videos(platform: Platform, exts: list[str]) -> list[VideoToScrape]:
    return [VideoToScrape(f"{platform.value}:{e}", platform, e, f"https://example.invalid/{e}") for e in exts]


async def no_sleep(_: float) -> None:
    return None


def client(platform: Platform, base_url: str, tmp_path: Path, **overrides):
    settings = {
        "base_url": base_url,
        "api_key": "test-key",
        "rate_per_min": 1_000_000.0,
        "concurrency": 4,
        "sleep": no_sleep,
        "state_dir": tmp_path / "state",
        **overrides,
    }
    return build_client(platform, "real", **settings)


def scrape(platform: Platform, base_url: str, tmp_path: Path, exts: list[str], **overrides):
    results = list(scrape_sync(client(platform, base_url, tmp_path, **overrides), videos(platform, exts)))
    return sorted(results, key=lambda r: r.attempt.video_id)


def summary(results) -> list[tuple]:
    return [
        (
            r.attempt.video_id,
            r.attempt.outcome,
            r.attempt.http_status,
            r.attempt.tries,
            r.attempt.source,
            r.attempt.detail,
            None if r.observation is None else tuple(getattr(r.observation, m) for m in METRICS),
        )
        for r in results
    ]


def cookies_file(path: Path, *lines: tuple[str, str, str]) -> Path:
    rows = ["# Netscape HTTP Cookie File", "# exported for the tests"]
    rows += [f"{domain}\tTRUE\t/\tTRUE\t4102444800\t{name}\t{value}" for domain, name, value in lines]
    path.write_text("\n".join(rows) + "\n")
    return path


def sent_cookies(server: FakePlatformServer, path_part: str) -> list[dict[str, str]]:
    """The cookies of each recorded request whose path contains ``path_part``, as name -> value."""
    found = []
    for request in server.received:
        if path_part in request.path:
            pairs = [p.strip().split("=", 1) for p in request.headers.get("cookie", "").split(";") if "=" in p]
            found.append(dict(pairs) | {"#pairs": str(len(pairs))})
    return found


# ----------------------------------------------------------------------------------------------- impersonation
@pytest.mark.parametrize("platform", [Platform.TIKTOK, Platform.X, Platform.INSTAGRAM, Platform.YOUTUBE])
def test_an_impersonated_client_reads_exactly_what_the_httpx_client_reads(platform, tmp_path):
    exts = alive(platform, 6)
    with FakePlatformServer(at=AT, tracked_at=TRACKED, private_video_ids=frozenset({exts[0]})) as server:
        plain = scrape(platform, server.base_url(platform), tmp_path, exts)
        impersonated = scrape(platform, server.base_url(platform), tmp_path, exts, impersonate="chrome")
    assert summary(impersonated) == summary(plain)
    assert sum(r.attempt.outcome is Outcome.OK for r in plain) >= 4


def test_the_x_graphql_route_and_its_guest_token_post_work_through_the_impersonating_transport(tmp_path):
    exts = alive(Platform.X, 3)
    with FakePlatformServer(at=AT, tracked_at=TRACKED, x_views_graphql_only=True) as server:
        # one request at a time: which video's request fetches the guest token (one try more) is otherwise a race
        route = {"x_graphql_base_url": server.base_url("x") + "/gql", "x_graphql_rate_per_min": 1e6, "concurrency": 1}
        plain = scrape(Platform.X, server.base_url("x"), tmp_path, exts, **route)
        impersonated = scrape(Platform.X, server.base_url("x"), tmp_path, exts, impersonate="chrome", **route)
    assert [(r.attempt.outcome, r.attempt.source) for r in impersonated] == [(Outcome.OK, "x_graphql")] * 3
    assert summary(impersonated) == summary(plain)


def test_the_tiktok_challenge_is_solved_through_the_impersonating_transport(tmp_path):
    exts = alive(Platform.TIKTOK, 3)
    with FakePlatformServer(at=AT, tracked_at=TRACKED, tiktok_challenge="cookieless") as server:
        plain = scrape(Platform.TIKTOK, server.base_url("tiktok"), tmp_path, exts)
        impersonated = scrape(Platform.TIKTOK, server.base_url("tiktok"), tmp_path, exts, impersonate="chrome")
    assert [r.attempt.outcome for r in impersonated] == [Outcome.OK] * 3
    assert summary(impersonated) == summary(plain)


def test_the_browser_profile_supplies_the_user_agent(tmp_path):
    exts = alive(Platform.TIKTOK, 1)
    with FakePlatformServer(at=AT, tracked_at=TRACKED, record_requests=True) as server:
        scrape(Platform.TIKTOK, server.base_url("tiktok"), tmp_path, exts)
        scrape(Platform.TIKTOK, server.base_url("tiktok"), tmp_path, exts, impersonate="chrome")
    httpx_request, curl_request = server.received
    assert "Chrome/131" in httpx_request.headers["user-agent"]
    assert "Chrome/" in curl_request.headers["user-agent"] and "Chrome/131" not in curl_request.headers["user-agent"]
    assert "sec-ch-ua" in curl_request.headers  # a Chrome profile's client hints come along
    assert curl_request.headers["accept"].startswith("text/html")  # the client's own headers still go out


def test_a_timeout_is_the_same_outcome_with_and_without_impersonation(tmp_path):
    ext = alive(Platform.X, 1)
    overrides = {"timeout_s": 0.3, "max_retries": 0, "x_graphql": False}
    with FakePlatformServer(at=AT, tracked_at=TRACKED, fault_rate=1.0, faults=("timeout",), hang_s=5) as server:
        plain = scrape(Platform.X, server.base_url("x"), tmp_path, ext, **overrides)
        impersonated = scrape(Platform.X, server.base_url("x"), tmp_path, ext, impersonate="chrome", **overrides)
    assert summary(impersonated) == summary(plain)
    assert plain[0].attempt.outcome is Outcome.TIMEOUT
    assert plain[0].attempt.detail == "no answer within 0.3s (ReadTimeout)"


def test_a_refused_connection_is_the_same_outcome_with_and_without_impersonation(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}/tiktok"
    ext = alive(Platform.TIKTOK, 1)
    plain = scrape(Platform.TIKTOK, base, tmp_path, ext, max_retries=1)
    impersonated = scrape(Platform.TIKTOK, base, tmp_path, ext, max_retries=1, impersonate="chrome")
    for result in (plain[0], impersonated[0]):
        assert (result.attempt.outcome, result.attempt.tries) == (Outcome.UPSTREAM_ERROR, 2)
        assert result.attempt.detail.startswith("connection error: ConnectError: ")


@pytest.mark.parametrize("value", ["chrome", "Safari_IOS", "edge", "chrome_android", "firefox", "chrome124"])
def test_impersonation_targets_are_read_per_platform(value):
    settings = config.Settings.from_environ({"VIEWTRAIL_TIKTOK_IMPERSONATE": value}, cwd="/x")
    assert settings.platform("tiktok").client_overrides()["impersonate"] == value.lower()
    assert "impersonate" not in settings.platform("x").client_overrides()


def test_an_unknown_impersonation_target_is_one_sentence_listing_the_valid_ones():
    with pytest.raises(config.SettingsError) as error:
        config.Settings.from_environ({"VIEWTRAIL_X_IMPERSONATE": "netscape4"}, cwd="/x")
    message = str(error.value)
    assert message.startswith("VIEWTRAIL_X_IMPERSONATE='netscape4' is not a browser curl_cffi can impersonate")
    for target in ("chrome", "edge", "safari", "safari_ios", "chrome_android", "firefox", "chrome124"):
        assert re.search(rf"\b{target}\b", message)
    assert message.count(". ") == 0 and message.endswith(".")


# ----------------------------------------------------------------------------------------------------- cookies
def test_the_platforms_cookies_reach_the_fake_server_and_no_others(tmp_path):
    path = cookies_file(
        tmp_path / "cookies.txt",
        (".tiktok.com", "tt_chain_token", TIKTOK_SECRET),
        ("#HttpOnly_.www.tiktok.com", "sid_tt", "sid-value-123456"),
        (".youtube.com", "LOGIN_INFO", YOUTUBE_SECRET),
    )
    exts = alive(Platform.TIKTOK, 2)
    for impersonate in (None, "chrome"):
        with FakePlatformServer(at=AT, tracked_at=TRACKED, record_requests=True) as server:
            results = scrape(
                Platform.TIKTOK, server.base_url("tiktok"), tmp_path, exts, cookies_file=path, impersonate=impersonate
            )
        assert [r.attempt.outcome for r in results] == [Outcome.OK] * 2
        sent = sent_cookies(server, "/video/")
        assert len(sent) == 2
        for cookies in sent:
            assert cookies == {"tt_chain_token": TIKTOK_SECRET, "sid_tt": "sid-value-123456", "#pairs": "2"}


def test_challenge_cookies_are_merged_with_the_file_cookies(tmp_path):
    path = cookies_file(tmp_path / "cookies.txt", (".tiktok.com", "tt_chain_token", TIKTOK_SECRET))
    exts = alive(Platform.TIKTOK, 2)
    with FakePlatformServer(at=AT, tracked_at=TRACKED, tiktok_challenge="cookieless", record_requests=True) as server:
        results = scrape(Platform.TIKTOK, server.base_url("tiktok"), tmp_path, exts, cookies_file=path, max_in_flight=1)
    assert [r.attempt.outcome for r in results] == [Outcome.OK] * 2
    sent = sent_cookies(server, "/video/")
    assert len(sent) == 3  # the challenge, its answer, then the second video with the answer kept
    assert all(cookies["tt_chain_token"] == TIKTOK_SECRET for cookies in sent)
    assert "_wafchallengeid" not in sent[0] and all("_wafchallengeid" in cookies for cookies in sent[1:])


@pytest.mark.parametrize("variable", [None, "variable-session-SECRET-1111"])
def test_instagram_takes_its_session_from_the_cookies_file_unless_the_variable_is_set(variable, tmp_path, monkeypatch):
    path = cookies_file(
        tmp_path / "cookies.txt",
        (".instagram.com", "sessionid", SESSION_SECRET),
        (".instagram.com", "csrftoken", "csrf-token-value-0000"),
    )
    if variable:
        monkeypatch.setenv(config.INSTAGRAM_SESSIONID, variable)
    monkeypatch.setenv("VIEWTRAIL_INSTAGRAM_COOKIES_FILE", str(path))
    exts = alive(Platform.INSTAGRAM, 2)
    with FakePlatformServer(at=AT, tracked_at=TRACKED, record_requests=True) as server:
        results = scrape(Platform.INSTAGRAM, server.base_url("instagram"), tmp_path, exts)
    assert [(r.attempt.outcome, r.attempt.source) for r in results] == [(Outcome.OK, "instagram_api")] * 2
    for cookies in sent_cookies(server, "/api/v1/media/"):
        assert cookies == {"sessionid": variable or SESSION_SECRET, "csrftoken": "csrf-token-value-0000", "#pairs": "2"}


def test_cookie_values_stay_out_of_details_logs_and_probe_output(tmp_path, monkeypatch, caplog):
    path = cookies_file(
        tmp_path / "cookies.txt",
        (".instagram.com", "sessionid", SESSION_SECRET),
        (".instagram.com", "ig_did", "SHORT1"),
    )
    monkeypatch.setenv("VIEWTRAIL_INSTAGRAM_COOKIES_FILE", str(path))
    exts = alive(Platform.INSTAGRAM, 3)
    caplog.set_level(logging.DEBUG)
    with FakePlatformServer(at=AT, tracked_at=TRACKED, fault_rate=0.5, faults=("5xx", "login", "429")) as server:
        built = client(Platform.INSTAGRAM, server.base_url("instagram"), tmp_path, retry_budget=2)
        results = list(scrape_sync(built, videos(Platform.INSTAGRAM, exts)))
        monkeypatch.setenv("VIEWTRAIL_INSTAGRAM_BASE_URL", server.base_url("instagram"))
        monkeypatch.setenv("VIEWTRAIL_INSTAGRAM_MAX_RETRIES", "0")
        server.configure(fault_rate=0.0)
        probe = CliRunner().invoke(app, ["probe", f"https://www.instagram.com/p/{exts[0]}/", "--verbose", "--json"])
    assert probe.exit_code == 0, probe.output
    assert built.scrub(f"cookie sessionid={SESSION_SECRET}") == "cookie sessionid=***"
    assert built.scrub("SHORT1 stays") == "SHORT1 stays"  # too short to be a secret; masking it would garble text
    texts = [probe.output, caplog.text, repr(built.settings), *(repr(r) for r in results)]
    assert not [text for text in texts if SESSION_SECRET in text]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "does not exist"),
        (f".tiktok.com\tTRUE\t/\tTRUE\t0\ttt_chain_token\t{TIKTOK_SECRET}\n", "is not a Netscape cookies.txt file"),
        (
            f"# Netscape HTTP Cookie File\n.tiktok.com\tTRUE\t/\tnot-a-flag\t{TIKTOK_SECRET}\n",
            "is not a Netscape cookies.txt file",
        ),
        (f"# Netscape HTTP Cookie File\n.youtube.com\tTRUE\t/\tTRUE\t0\tLOGIN\t{TIKTOK_SECRET}\n", "holds no cookies"),
    ],
    ids=["missing", "no header", "malformed line", "other site only"],
)
def test_an_unusable_cookies_file_is_one_sentence_naming_the_variable_and_path(content, problem, tmp_path):
    path = tmp_path / "cookies.txt"
    if content is not None:
        path.write_text(content)
    with pytest.raises(config.SettingsError) as error:
        client(Platform.TIKTOK, "http://127.0.0.1:9/tiktok", tmp_path, cookies_file=path)
    message = str(error.value)
    assert message.startswith(f"VIEWTRAIL_TIKTOK_COOKIES_FILE={str(path)!r} {problem}")
    assert TIKTOK_SECRET not in message and message.endswith(".")
    assert error.value.__suppress_context__ or error.value.__cause__ is None


def test_the_cookies_file_is_read_from_the_configuration_relative_to_the_working_directory(tmp_path):
    settings = config.Settings.from_environ({"VIEWTRAIL_X_COOKIES_FILE": "secrets/x.txt"}, cwd=tmp_path)
    assert settings.platform("x").client_overrides()["cookies_file"] == tmp_path / "secrets" / "x.txt"
    assert "cookies_file" not in settings.platform("tiktok").client_overrides()


def test_instagram_account_discovery_sends_the_file_session_with_the_other_cookies(tmp_path):
    path = cookies_file(
        tmp_path / "cookies.txt",
        (".instagram.com", "sessionid", SESSION_SECRET),
        (".instagram.com", "csrftoken", "csrf-token-value-0000"),
    )
    handle = "ana.cooks"
    wanted = AccountToDiscover(
        account_id=f"instagram:{handle}", platform=Platform.INSTAGRAM, handle=handle, url="https://example.invalid/a"
    )
    with FakePlatformServer(at=AT, tracked_at=TRACKED, record_requests=True) as server:
        accounts = build_account_client(
            "instagram", "real", base_url=server.base_url("instagram"), rate_per_min=1e6, cookies_file=path
        )
        [result] = discover_sync(accounts, [wanted])
    assert result.attempt.outcome is Outcome.OK, result.attempt.detail
    assert sent_cookies(server, "web_profile_info") == [
        {"sessionid": SESSION_SECRET, "csrftoken": "csrf-token-value-0000", "#pairs": "2"}
    ]


def test_cookie_values_echoed_by_a_hostile_upstream_are_masked_everywhere(tmp_path, caplog):
    path = cookies_file(tmp_path / "cookies.txt", (".tiktok.com", "tt_chain_token", TIKTOK_SECRET))
    seen = []

    def echo(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie", ""))
        if len(seen) == 1:
            raise httpx.ConnectError(f"cannot reach {request.url} with {seen[-1]}")
        return httpx.Response(403, text=f"denied {seen[-1]}", headers={"X-Echo": seen[-1]})

    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "viewtrail", "orchestration"):
        caplog.set_level(logging.DEBUG, logger=name)
    built = build_client(
        "tiktok",
        "real",
        transport=httpx.MockTransport(echo),
        cookies_file=path,
        sleep=no_sleep,
        max_retries=0,
        concurrency=1,
        max_in_flight=1,
        rate_per_min=1e6,
    )
    results = list(scrape_sync(built, videos(Platform.TIKTOK, alive(Platform.TIKTOK, 2))))
    assert seen == [f"tt_chain_token={TIKTOK_SECRET}"] * 2  # production host, https: the cookie went out
    assert sorted(r.attempt.outcome for r in results) == sorted([Outcome.UPSTREAM_ERROR, Outcome.BLOCKED])
    texts = [caplog.text, repr(built.settings), repr(built), *(repr(r) for r in results)]
    assert not [text for text in texts if TIKTOK_SECRET in text]
    assert any("***" in (r.attempt.detail or "") for r in results)


def test_a_compressed_answer_reaches_httpx_decompressed_with_headers_describing_it():
    import asyncio
    import gzip
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from viewtrail.platforms.impersonation import ImpersonatingTransport

    page = "<html>" + "views " * 2000 + "</html>"
    body = gzip.compress(page.encode())

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Set-Cookie", "a=1; Path=/")
            self.send_header("Set-Cookie", "b=2; Path=/")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    async def fetch() -> httpx.Response:
        async with httpx.AsyncClient(transport=ImpersonatingTransport("chrome")) as http:
            return await http.get(f"http://127.0.0.1:{httpd.server_address[1]}/page")

    try:
        response = asyncio.run(fetch())
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert response.status_code == 200 and response.text == page
    assert "content-encoding" not in response.headers
    assert response.headers["content-length"] == str(len(page))  # the body httpx holds, not the one on the wire
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
