"""`viewtrail probe` through the real clients against the fake platform server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from viewtrail.cli import app
from viewtrail.domain.models import Platform
from viewtrail.platforms.simulated.client import simulate
from viewtrail.testing.fake_platform import FakePlatformServer
from viewtrail.warehouse import open_warehouse

AT = datetime(2026, 11, 22, 12)
TRACKED = AT - timedelta(days=90)  # the videos below were posted before it; gone ones are gone by AT
URLS = {
    Platform.TIKTOK: ("https://www.tiktok.com/@bob/video/7234567890123456789", "tiktok:7234567890123456789"),
    Platform.YOUTUBE: ("https://youtu.be/dQw4w9WgXcQ", "youtube:dQw4w9WgXcQ"),
    Platform.INSTAGRAM: ("https://www.instagram.com/p/Chunk8-jurw/", "instagram:Chunk8-jurw"),
    Platform.X: ("https://x.com/u/status/1790000000000000000", "x:1790000000000000000"),
}
GONE_TIKTOK = "https://www.tiktok.com/@bob/video/7234567890123400001"  # the simulation removed it before AT
FAKE_KEY = "AIzaFAKE-probe-key-0123456789"
FAKE_SESSION = "fake-session-id-%3A-secret-42"
REPORT_KEYS = {
    "input",
    "platform",
    "backend",
    "video_id",
    "url",
    "resolved_from",
    "ok",
    "outcome",
    "detail",
    "http_status",
    "tries",
    "source",
    "metrics",
    "video",
    "challenge",
    "events",
    "requests",
    "elapsed_ms",
    "hints",
}
REQUEST_KEYS = {"method", "url", "status", "elapsed_ms", "proxy_index", "error"}
runner = CliRunner()


@pytest.fixture(scope="module")
def server():
    with FakePlatformServer(at=AT, tracked_at=TRACKED) as running:
        yield running


@pytest.fixture
def fake(server, warehouse_path, monkeypatch):
    """The real clients pointed at the fake server, offline otherwise (the conftest fixture), no retries."""
    server.configure(fault_rate=0.0, youtube_quota_exceeded=False)
    for platform in Platform:
        name = platform.value.upper()
        monkeypatch.setenv(f"VIEWTRAIL_{name}_BASE_URL", server.base_url(platform))
        monkeypatch.setenv(f"VIEWTRAIL_{name}_MAX_RETRIES", "0")
        monkeypatch.setenv(f"VIEWTRAIL_{name}_RATE_PER_MIN", "100000")
    monkeypatch.setenv("VIEWTRAIL_X_GRAPHQL_BASE_URL", server.base_url(Platform.X) + "/gql")
    monkeypatch.setenv("YOUTUBE_API_KEY", FAKE_KEY)
    return server


def probe(*args: str, code: int):
    result = runner.invoke(app, ["probe", *args])
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    return result


def reports(*args: str, code: int) -> list[dict]:
    return json.loads(probe(*args, "--json", code=code).stdout)


@pytest.mark.parametrize("platform", list(Platform), ids=lambda p: p.value)
def test_an_ok_video_shows_its_metrics_route_and_requests(fake, platform):
    url, video_id = URLS[platform]
    expected = simulate(video_id, AT, tracked_at=TRACKED, fault_rate=0.0)
    text = probe(url, code=0).stdout
    assert text.startswith(f"{video_id}: ok in ")
    views = "hidden" if expected.views is None else f"{expected.views:,}"
    assert f"views {views}, likes " in text
    assert {"tiktok": "tiktok_web", "youtube": "youtube_api", "instagram": "instagram_web", "x": "x_syndication"}[
        platform.value
    ] in text
    assert "  http      200 (" in text and "try" not in text  # an ok video needs no hint

    (report,) = reports(url, code=0)
    assert report["ok"] is True and report["metrics"]["views"] == expected.views
    assert report["metrics"]["likes"] == expected.likes


def test_a_gone_video_says_it_is_gone_and_exits_1(fake):
    text = probe(GONE_TIKTOK, code=1).stdout
    assert "tiktok:7234567890123400001: not_found in " in text
    assert "statusCode 10202" in text  # the detail: what the platform said
    assert "1. it is gone" in text


def test_a_blocked_video_gets_the_access_ladder_in_order(fake):
    fake.configure(fault_rate=1.0, faults=("challenge",))
    text = probe(URLS[Platform.TIKTOK][0], code=1).stdout
    assert ": blocked in " in text and "challenge page" in text
    steps = re.findall(r"^ +(?:try)? +(\d)\. (.*)$", text, flags=re.MULTILINE)
    assert [number for number, _ in steps] == ["1", "2", "3"]
    for (_, step), variable in zip(
        steps,
        (
            "VIEWTRAIL_TIKTOK_IMPERSONATE=chrome",
            "VIEWTRAIL_TIKTOK_COOKIES_FILE=cookies.txt",
            "VIEWTRAIL_TIKTOK_PROXIES",
        ),
        strict=True,
    ):
        assert variable in step


def test_a_rate_limited_video_says_to_wait(fake):
    fake.configure(fault_rate=1.0, faults=("429",))
    (report,) = reports(URLS[Platform.X][0], code=1)
    assert (report["outcome"], report["http_status"]) == ("rate_limited", 429)
    assert "Retry-After" in report["detail"]
    assert report["hints"][0].startswith("wait") and "VIEWTRAIL_X_PROXIES" in report["hints"][1]
    assert [r["status"] for r in report["requests"]] == [429]


def test_json_is_one_array_with_stable_keys_per_url(fake):
    found = reports(URLS[Platform.YOUTUBE][0], GONE_TIKTOK, code=1)
    assert [r["outcome"] for r in found] == ["ok", "not_found"]
    for report in found:
        assert set(report) == REPORT_KEYS
        assert set(report["requests"][0]) == REQUEST_KEYS
        assert isinstance(report["elapsed_ms"], float) and report["challenge"] is None
    ok, gone = found
    assert (
        ok["source"] == "youtube_api"
        and ok["hints"] == []
        and set(ok["metrics"]) == {"views", "likes", "comments", "shares", "saves"}
    )
    assert gone["metrics"] is None and gone["video"] is None and gone["hints"]
    assert ok["requests"][0]["url"].startswith(fake.base_url(Platform.YOUTUBE) + "/videos?")


def test_verbose_adds_each_request_line(fake):
    url, video_id = URLS[Platform.TIKTOK]
    plain = probe(url, code=0).stdout
    verbose = probe(url, "--verbose", code=0).stdout
    line = f"GET {fake.base_url(Platform.TIKTOK)}/@bob/video/7234567890123456789 -> 200 in "
    assert line not in plain and line in verbose
    assert "  tries     1" in verbose


def test_several_urls_are_summed_up_and_any_failure_exits_1(fake):
    text = probe(URLS[Platform.X][0], GONE_TIKTOK, code=1).stdout
    assert text.rstrip().endswith("1 of 2 ok.")


def test_offline_refuses_a_public_host_with_one_sentence(fake, monkeypatch):
    monkeypatch.delenv("VIEWTRAIL_TIKTOK_BASE_URL")  # the real www.tiktok.com
    before = sum(fake.requests.values())
    result = probe(URLS[Platform.TIKTOK][0], code=2)
    (line,) = result.stderr.strip().splitlines()
    assert "VIEWTRAIL_OFFLINE is set" in line and "www.tiktok.com" in line
    assert result.stdout == "" and sum(fake.requests.values()) == before


def test_offline_refuses_a_short_link(fake):
    result = probe("https://vm.tiktok.com/ZMabc123/", code=2)
    (line,) = result.stderr.strip().splitlines()
    assert "short link" in line and "VIEWTRAIL_OFFLINE" in line


@pytest.mark.parametrize("bad", ["https://example.com/watch?v=x", "dQw4w9WgXcQ", "https://youtube.com/feed/trending"])
def test_a_url_that_is_no_video_is_one_sentence_and_exit_2(fake, bad):
    before = sum(fake.requests.values())
    result = probe(URLS[Platform.X][0], bad, code=2)
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""
    assert sum(fake.requests.values()) == before  # nothing probed, not even the good URL


def test_secrets_never_appear_in_any_output(fake, monkeypatch):
    monkeypatch.setenv("INSTAGRAM_SESSIONID", FAKE_SESSION)
    urls = (URLS[Platform.YOUTUBE][0], URLS[Platform.INSTAGRAM][0])
    outputs = [probe(*urls, *flags, code=0).output for flags in ((), ("--verbose",), ("--json",))]
    fake.configure(fault_rate=1.0, faults=("login", "5xx"))
    outputs.append(probe(*urls, "--json", "--verbose", code=1).output)
    for text in outputs:
        assert FAKE_KEY not in text and FAKE_SESSION not in text and "secret-42" not in text


def test_probe_never_creates_nor_changes_the_warehouse(fake, warehouse_path):
    probe(URLS[Platform.TIKTOK][0], GONE_TIKTOK, code=1)
    assert not warehouse_path.exists()
    with open_warehouse(warehouse_path):
        pass
    digest = hashlib.sha256(warehouse_path.read_bytes()).hexdigest()
    probe(*(url for url, _ in URLS.values()), code=0)
    assert hashlib.sha256(warehouse_path.read_bytes()).hexdigest() == digest


def test_a_spent_youtube_quota_names_the_key_and_the_reset(fake):
    fake.configure(youtube_quota_exceeded=True)
    (report,) = reports(URLS[Platform.YOUTUBE][0], code=1)
    assert report["outcome"] == "quota_exhausted" and "resets" in report["detail"]
    assert "midnight Pacific" in report["hints"][0] and "YOUTUBE_API_KEY" in report["hints"][1]


def test_a_bare_id_is_probed_with_platform_and_a_wrong_platform_is_bad_input(fake):
    assert probe("dQw4w9WgXcQ", "--platform", "youtube", code=0).stdout.startswith("youtube:dQw4w9WgXcQ: ok in ")
    result = probe(URLS[Platform.X][0], "--platform", "tiktok", code=2)
    assert len(result.stderr.strip().splitlines()) == 1 and "--platform" in result.stderr


# ------------------------------------------------------------------------------------------ --backend


@pytest.mark.parametrize("platform", list(Platform), ids=lambda p: p.value)
def test_backend_probes_each_video_through_both_parsers_side_by_side(fake, platform):
    url, video_id = URLS[platform]
    native, ytdlp = reports(url, "--backend", "native", "--backend", "ytdlp", code=0)
    assert (native["backend"], ytdlp["backend"]) == ("native", "ytdlp")
    assert native["video_id"] == ytdlp["video_id"] == video_id and ytdlp["source"] == "ytdlp"
    assert native["source"] != "ytdlp"
    for metric, value in ytdlp["metrics"].items():
        if value is not None:  # what yt-dlp reads, it reads as the native parser does
            assert native["metrics"][metric] == value, metric
    text = probe(url, "-b", "ytdlp", code=0).stdout
    assert text.startswith(f"{video_id} through ytdlp: ok in ") and "  route     ytdlp" in text


def test_auto_shows_the_fallback_on_a_changed_page(fake):
    url, video_id = URLS[Platform.TIKTOK]
    fake.configure(changed_page_ids={video_id})
    try:
        native, auto = reports(url, "--backend", "native", "--backend", "auto", code=1)
        text = probe(url, "--backend", "auto", "--verbose", code=0).stdout
    finally:
        fake.configure(changed_page_ids=set())
    assert native["outcome"] == "parse_error" and "--backend ytdlp" in native["hints"][0]
    assert auto["ok"] is True and auto["source"] == "ytdlp" and auto["events"] == ["fallback:ytdlp"]
    assert auto["detail"].startswith("read by yt-dlp after the native parser failed")
    assert len(auto["requests"]) == 2  # the page the native parser refused, then yt-dlp's
    assert "fallback:ytdlp" in text and "read by yt-dlp after the native parser failed" in text


def test_an_unknown_backend_is_one_sentence(fake):
    result = probe(URLS[Platform.X][0], "--backend", "scrapy", code=2)
    assert result.output.strip() == "--backend 'scrapy' is not a backend: use native, ytdlp, auto."
