"""Instagram client against recorded post pages and media-info answers (httpx.MockTransport, no network)."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from fixtures.platform_support import client_for, fixture_json, fixture_text, run, video

from viewtrail.domain.models import Outcome
from viewtrail.platforms.instagram.client import pk_to_shortcode, shortcode_to_pk

CODE = "C92v-tXSRzs"
SESSION = "63014312846%3AfakeSessionValue%3A12%3AAYd-test"


def html(name, status=200):
    body = fixture_text("instagram", name)
    return lambda request: httpx.Response(status, text=body, headers={"Content-Type": "text/html; charset=utf-8"})


def one(handler, code=CODE, **overrides):
    [result] = run(client_for("instagram", handler, **overrides), [video("instagram", code)])
    return result


def test_shortcode_pk_round_trip():
    assert shortcode_to_pk("Chunk8-jurw") == 2913440072144448240
    assert pk_to_shortcode(2913440072144448240) == "Chunk8-jurw"
    assert pk_to_shortcode("2913440072144448240_25025320") == "Chunk8-jurw"
    for code in ("C92v-tXSRzs", "B_abc-12345", "CkA"):
        assert pk_to_shortcode(shortcode_to_pk(code)) == code
    # private posts carry 28 extra characters after the shortcode
    assert shortcode_to_pk("Chunk8-jurw" + "x" * 28) == 2913440072144448240
    with pytest.raises(ValueError):
        shortcode_to_pk("bad code!")


def test_logged_out_reel_page_reads_likes_comments_and_leaves_views_null():
    paths = []
    body = fixture_text("instagram", "post_ok_reel.html")

    def handler(request):
        paths.append(request.url.path)
        return httpx.Response(200, text=body)

    result = one(handler)
    assert paths == [f"/p/{CODE}/"]
    assert result.attempt.outcome is Outcome.OK
    obs = result.observation
    assert (obs.likes, obs.comments) == (18342, 214)
    assert obs.views is None  # not shown logged out: null, never 0
    assert obs.shares is None and obs.saves is None
    assert obs.account == "coastal.lens"
    assert obs.title.startswith("Sunset session at the pier")
    assert obs.posted_at == datetime(2024, 7, 17, 14, 0, 0)
    assert obs.duration_s == pytest.approx(28.466)
    assert obs.extra == {"media_type": 2, "product_type": "clips", "pk": "3420193850131127020"}
    assert obs.source == "instagram_web"


def test_hidden_like_counts_and_disabled_comments_are_null():
    result = one(html("post_hidden_counts.html"))
    obs = result.observation
    assert result.attempt.outcome is Outcome.OK
    assert obs.likes is None and obs.views is None and obs.comments is None
    assert obs.title is None and obs.duration_s is None


@pytest.mark.parametrize(
    ("name", "status", "outcome"),
    [
        ("not_found.html", 404, Outcome.NOT_FOUND),
        ("not_found.html", 200, Outcome.NOT_FOUND),
        ("post_gated.html", 200, Outcome.LOGIN_REQUIRED),
        ("post_changed_shape.html", 200, Outcome.PARSE_ERROR),
        ("login_page.html", 200, Outcome.BLOCKED),  # a login form instead of the post, no redirect
    ],
)
def test_recorded_pages_map_to_outcomes(name, status, outcome):
    result = one(html(name, status))
    assert result.attempt.outcome is outcome
    assert result.observation is None


def test_gated_long_shortcode_is_private():
    assert one(html("post_gated.html"), code=CODE + "A" * 28).attempt.outcome is Outcome.PRIVATE


def test_login_redirect_is_blocked_never_not_found():
    login = fixture_text("instagram", "login_page.html")

    def handler(request):
        if request.url.path.startswith("/accounts/login"):
            return httpx.Response(200, text=login)
        return httpx.Response(302, headers={"Location": f"https://www.instagram.com/accounts/login/?next=/p/{CODE}/"})

    result = one(handler)
    assert result.attempt.outcome is Outcome.BLOCKED
    assert "login" in result.attempt.detail
    assert result.attempt.tries == 2


def test_session_cookie_uses_media_info_api_for_play_counts():
    requests = []

    def handler(request):
        requests.append(request)
        return httpx.Response(200, json=fixture_json("instagram", "media_info_ok.json"))

    result = one(handler, session_id=SESSION)
    [request] = requests
    assert request.url.path == f"/api/v1/media/{shortcode_to_pk(CODE)}/info/"
    assert request.headers["X-IG-App-ID"] == "936619743392459"
    assert request.headers["Cookie"] == f"sessionid={SESSION}"
    obs = result.observation
    assert result.attempt.outcome is Outcome.OK
    # ig_play_count (Instagram's own plays) wins over play_count (which can include Facebook cross-post plays)
    assert (obs.views, obs.likes, obs.comments, obs.shares, obs.saves) == (398201, 18342, 214, 655, 1203)


def test_rejected_session_is_login_required():
    def handler(request):
        return httpx.Response(401, json=fixture_json("instagram", "media_info_login_required.json"))

    assert one(handler, session_id=SESSION).attempt.outcome is Outcome.LOGIN_REQUIRED


def test_session_redirect_to_login_is_login_required_and_not_followed():
    requests = []

    def handler(request):
        requests.append(request.url.path)
        return httpx.Response(302, headers={"Location": "https://www.instagram.com/accounts/login/"})

    assert one(handler, session_id=SESSION).attempt.outcome is Outcome.LOGIN_REQUIRED
    assert len(requests) == 1  # the cookie-bearing request never follows redirects


def test_media_not_found_with_session_asks_the_public_page():
    def handler(request):
        if request.url.path.startswith("/api/v1/"):
            return httpx.Response(400, json=fixture_json("instagram", "media_info_not_found.json"))
        return httpx.Response(404, text=fixture_text("instagram", "not_found.html"))

    result = one(handler, session_id=SESSION)
    assert result.attempt.outcome is Outcome.NOT_FOUND and result.attempt.tries == 2
