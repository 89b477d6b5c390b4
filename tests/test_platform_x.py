"""X syndication client: token port and recorded tweet-result payloads (httpx.MockTransport, no network)."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from fixtures.platform_support import client_for, fixture_json, run, video

from viewtrail.domain.models import Outcome
from viewtrail.platforms.x.client import js_number_to_string, syndication_token

# Expected values generated with node (V8) from the embed script's own expression:
#   ((Number(id) / 1e15) * Math.PI).toString(36).replace(/(0+|\.)/g, '')
NODE_TOKENS = {
    "1703436713362870723": "44ni5iyte19",
    "20": "6dq1a2xwd93",
    "1": "bhi2ay3f28n",
    "1234": "axpx6z8p6b",
    "1234567890123456789": "2zqic77uqyk",
    "1859265374629003264": "4i91yk1o244",
    "1649427428389150720": "3zxtui3m1ku",
    "1577730467436138524": "3tol417ti8o",
    "1000000000000000000": "2f9lc2ug9mm",
    "999999999999999999": "2f9lc2ug9mm",
    "1440000000000000000": "3hnw5vghny1",
    "463440424141459456": "14fxvks611f",
    "1800000000000000001": "4d2v7cbm2xj",
    "1500000000000000000": "3mwe49oefy",
    "1588208913153531904": "3uli72gi88g",
    "1796123581321345589": "4cqoshk8agd",
}

# Number.prototype.toString(36) in node for a few awkward doubles (rounding, carries, huge, tiny, negative).
NODE_RADIX36 = {
    0.1: "0.3lllllllllm",
    1 / 3: "0.c",
    123.456: "3f.gez4w97ry",
    0.5: "0.i",
    35.99999999: "z.zzzzze8cw",
    1e-7: "0.000061oezo085tl",
    -42.75: "-16.r",
    1e21: "5v1j4f4ds7c000",
    2.0**53 + 2: "2gosa7pa2gy",
}


@pytest.mark.parametrize(("tweet_id", "token"), sorted(NODE_TOKENS.items()))
def test_token_matches_javascript(tweet_id, token):
    assert syndication_token(tweet_id) == token


@pytest.mark.parametrize(("value", "text"), list(NODE_RADIX36.items()))
def test_number_to_base36_matches_v8(value, text):
    assert js_number_to_string(value, 36) == text


def one(handler, tweet_id="1703436713362870723"):
    [result] = run(client_for("x", handler), [video("x", tweet_id)])
    return result


def test_video_tweet_reads_likes_replies_views_and_duration():
    requests = []

    def handler(request):
        requests.append(request)
        return httpx.Response(200, json=fixture_json("x", "tweet_video.json"))

    result = one(handler)
    [request] = requests
    assert request.url.path == "/tweet-result"
    assert request.url.params["id"] == "1703436713362870723"
    assert request.url.params["token"] == "44ni5iyte19"
    assert result.attempt.outcome is Outcome.OK
    obs = result.observation
    assert (obs.views, obs.likes, obs.comments, obs.shares, obs.saves) == (4857212, 21687, 3120, None, None)
    assert obs.account == "X"
    assert obs.posted_at == datetime(2023, 9, 17, 13, 37, 26)
    assert obs.duration_s == pytest.approx(141.2)
    assert obs.source == "x_syndication"


def test_text_tweet_has_no_views():
    result = one(lambda r: httpx.Response(200, json=fixture_json("x", "tweet_text_only.json")), "1859265374629003264")
    obs = result.observation
    assert result.attempt.outcome is Outcome.OK
    assert obs.views is None and obs.duration_s is None
    assert (obs.likes, obs.comments, obs.account) == (1048, 97, "XDevelopers")


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (404, None, Outcome.NOT_FOUND),
        (200, "tombstone.json", Outcome.PRIVATE),
        (200, "empty.json", Outcome.BLOCKED),
        (200, "tweet_changed_shape.json", Outcome.PARSE_ERROR),
    ],
)
def test_recorded_answers_map_to_outcomes(status, body, outcome):
    def handler(request):
        if body is None:
            return httpx.Response(status, text="")
        return httpx.Response(status, json=fixture_json("x", body))

    result = one(handler, "1859265374629003264")
    assert result.attempt.outcome is outcome
    assert result.observation is None


def test_changed_shape_detail_names_the_missing_field():
    result = one(
        lambda r: httpx.Response(200, json=fixture_json("x", "tweet_changed_shape.json")), "1859265374629003264"
    )
    assert "favorite_count" in result.attempt.detail


def test_non_json_body_is_parse_error():
    assert one(lambda r: httpx.Response(200, text="<html>oops</html>")).attempt.outcome is Outcome.PARSE_ERROR


def test_non_numeric_id_is_rejected_without_a_request():
    calls = []
    result = one(lambda r: calls.append(r) or httpx.Response(200), "abc")
    assert result.attempt.outcome is Outcome.PARSE_ERROR and calls == [] and result.attempt.tries == 0
