"""Planted secrets (YouTube key, Instagram session cookie) never reach logs, attempts, observations or errors."""

from __future__ import annotations

import logging

import httpx
import pytest
from fixtures.platform_support import SleepRecorder, fixture_json, fixture_text, run, video

from viewtrail.domain.models import Platform
from viewtrail.platforms.factory import build_client

KEY = "AIzaSyPLANTED-secret-key-1234567890abc"
SESSION = "58291%3APLANTEDsessionCookie%3A27%3AAYfSecret"


@pytest.fixture
def planted(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("YOUTUBE_API_KEY", KEY)
    monkeypatch.setenv("INSTAGRAM_SESSIONID", SESSION)
    monkeypatch.setenv("VIEWTRAIL_DATA_DIR", str(tmp_path))
    caplog.set_level(logging.DEBUG)  # root, httpx and httpcore included (levels restored after the test)
    for name in ("httpx", "httpcore", "viewtrail", "orchestration"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def echoing(answers):
    """Hostile upstream: echoes the request's secrets back in bodies, headers and exception messages."""
    calls = []

    def handler(request):
        calls.append(request)
        secret_bits = f"{request.headers.get('X-Goog-Api-Key', '')} {request.headers.get('Cookie', '')}"
        kind = answers[min(len(calls), len(answers)) - 1]
        if kind == "connect_error":
            raise httpx.ConnectError(f"cannot reach {request.url}?key={KEY} ({secret_bits})")
        if kind == "timeout":
            raise httpx.ReadTimeout(f"timed out talking to {request.url} with {secret_bits}")
        if isinstance(kind, tuple):
            status, body = kind
            return httpx.Response(status, text=body, headers={"X-Echo": secret_bits.strip()})
        return kind

    return handler, calls


def everything_text(results, caplog, extra=()):
    parts = [caplog.text, *extra]
    for record in caplog.records:
        parts.append(str(record.args))
    for r in results:
        parts.append(repr(r.attempt))
        parts.append(repr(r.observation))
    return "\n".join(parts)


def test_youtube_key_never_leaks(planted, tmp_path):
    ok_body = fixture_text("youtube", "videos_list_ok.json")
    bad_key = fixture_json("youtube", "error_key_invalid.json")
    bad_key["error"]["message"] = f"API key not valid: {KEY}"  # even if Google echoed it
    import json

    answers = [
        (200, ok_body),
        "connect_error",
        "connect_error",
        "timeout",
        "timeout",
        (503, f"backend error for key {KEY}"),
        (503, "again"),
        (400, json.dumps(bad_key)),
    ]
    handler, calls = echoing(answers)
    client = build_client(
        "youtube",
        "real",
        transport=httpx.MockTransport(handler),
        sleep=SleepRecorder(),
        max_retries=1,
        batch_size=1,
        concurrency=1,
        max_in_flight=1,
        rate_per_min=1e6,
        state_dir=tmp_path,
    )
    ids = ["dQw4w9WgXcQ", "Ks-_Mh1QhMc", "jNQXAC9IVRw", "5qap5aO4i9A", "AAAAAAAAAAA"]
    results = run(client, [video("youtube", i) for i in ids])
    assert len(calls) == 8  # every path above was exercised
    assert calls[0].headers["X-Goog-Api-Key"] == KEY  # the key is sent, in a header
    outcomes = [r.attempt.outcome.value for r in results]
    assert outcomes == ["ok", "upstream_error", "timeout", "upstream_error", "blocked"]
    text = everything_text(results, planted, [repr(client.settings), repr(client), str(client.quota_status())])
    assert "HTTP Request" in planted.text  # httpx's own request log was captured...
    assert KEY not in text  # ...and the key is nowhere
    assert "AIzaSyPLANTED" not in text


def test_missing_key_error_does_not_echo_anything_secret(monkeypatch, planted):
    monkeypatch.delenv("YOUTUBE_API_KEY")
    with pytest.raises(Exception) as info:
        build_client("youtube", "real", backend="native")
    assert "YOUTUBE_API_KEY" in str(info.value) and SESSION not in str(info.value)


def test_instagram_session_never_leaks(planted):
    api_ok = fixture_text("instagram", "media_info_ok.json")
    answers = [
        (200, api_ok),
        (401, f'{{"message": "login_required", "echo": "{SESSION}"}}'),
        "connect_error",
        "connect_error",
        (500, f"oops {SESSION}"),
        (500, "oops"),
    ]
    handler, calls = echoing(answers)
    client = build_client(
        "instagram",
        "real",
        transport=httpx.MockTransport(handler),
        sleep=SleepRecorder(),
        max_retries=1,
        concurrency=1,
        max_in_flight=1,
        rate_per_min=1e6,
    )
    results = run(
        client, [video(Platform.INSTAGRAM, c) for c in ("C92v-tXSRzs", "C8xHidden01", "Chunk8-jurw", "CkAAAAAAAAA")]
    )
    assert calls[0].headers["Cookie"] == f"sessionid={SESSION}"
    assert [r.attempt.outcome.value for r in results] == ["ok", "login_required", "upstream_error", "upstream_error"]
    text = everything_text(results, planted, [repr(client.settings), repr(client)])
    assert "HTTP Request" in planted.text
    assert SESSION not in text and "PLANTEDsessionCookie" not in text


def test_key_stays_out_of_httpcore_debug_logs_over_a_real_socket(planted, tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = fixture_text("youtube", "videos_list_ok.json").encode()
    seen_keys = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            seen_keys.append(self.headers.get("X-Goog-Api-Key"))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        client = build_client(
            "youtube",
            "real",
            base_url=f"http://127.0.0.1:{httpd.server_address[1]}/youtube/v3",
            state_dir=tmp_path,
            rate_per_min=1e6,
        )
        results = run(client, [video("youtube", "dQw4w9WgXcQ")])
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert seen_keys == [KEY]
    assert results[0].attempt.outcome.value == "ok"
    assert any(r.name.startswith("httpcore") for r in planted.records)  # the wire-level log was on
    assert KEY not in everything_text(results, planted)
