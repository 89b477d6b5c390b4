"""Real clients over real sockets (127.0.0.1 only): keep-alive connection reuse and timeouts."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fixtures.platform_support import SleepRecorder, fixture_json, run, video

from viewtrail.domain.models import Outcome
from viewtrail.platforms.factory import build_client

TWEET = json.dumps(fixture_json("x", "tweet_video.json")).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    peers: set = set()
    user_agents: set = set()
    slow = False

    def do_GET(self):
        Handler.peers.add(self.client_address)
        Handler.user_agents.add(self.headers.get("User-Agent"))
        if Handler.slow:
            time.sleep(0.5)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(TWEET)))
        self.end_headers()
        self.wfile.write(TWEET)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def server():
    Handler.peers = set()
    Handler.user_agents = set()
    Handler.slow = False
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_connections_are_reused_across_requests(server):
    client = build_client("x", "real", base_url=server, concurrency=2, rate_per_min=1e6)
    results = run(client, [video("x", "1703436713362870723") for _ in range(20)])
    assert [r.attempt.outcome for r in results] == [Outcome.OK] * 20
    assert len(Handler.peers) <= 2  # 20 requests over at most `concurrency` keep-alive connections
    assert all(ua.startswith("Mozilla/5.0") for ua in Handler.user_agents)


def test_slow_server_times_out_after_bounded_retries(server):
    Handler.slow = True
    client = build_client(
        "x", "real", base_url=server, timeout_s=0.1, max_retries=1, rate_per_min=1e6, sleep=SleepRecorder()
    )
    [result] = run(client, [video("x", "1703436713362870723")])
    assert result.attempt.outcome is Outcome.TIMEOUT
    assert result.attempt.tries == 2
