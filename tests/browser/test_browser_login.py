"""The dashboard on an address other than 127.0.0.1 (here the loopback 127.0.0.2, so nothing leaves the
machine): every page asks for an API key, the session cookie is out of the page's scripts' reach, a read key
changes nothing, and a change without the session's CSRF token is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import Browsing, Demo, Server, serving


@pytest.fixture(scope="module")
def remote(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(demo, "127.0.0.2", tmp_path_factory.mktemp("serve-remote") / "serve.log") as running:
        yield running


def key(demo: Demo, scope: str) -> str:
    return json.loads(demo.viewtrail("api-key", "create", "--name", f"browser-{scope}", "--scope", scope, "--json"))[
        "key"
    ]


def log_in(session: Browsing, secret: str) -> None:
    page = session.page
    page.goto("/videos")
    page.wait_for_url("**/login?next=*")
    page.locator('input[name="key"]').fill(secret)
    page.locator("form.login button").click()
    page.wait_for_url("**/videos")


def test_pages_need_a_key_and_the_session_cookie_is_httponly_and_strict(browser, remote: Server) -> None:
    session = Browsing.start(browser, remote)
    try:
        page = session.page
        page.goto("/")
        page.wait_for_url("**/login?next=*")
        session.screenshot(page, "login")
        page.locator('input[name="key"]').fill("vt_not_a_key")
        page.locator("form.login button").click()
        page.get_by_role("alert").wait_for()  # a wrong key says so on the page
        assert page.locator("[data-kpi]").count() == 0

        log_in(session, key(remote.demo, "read"))
        assert page.locator("table.videos tbody tr").count() > 0
        cookie = next(c for c in session.context.cookies() if c["name"] == "vt_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert "vt_session" not in page.evaluate("document.cookie")  # scripts cannot read the session

        # a read key shows the pages but changes nothing: the paste box answers with a sentence, not a change
        page.locator('textarea[name="urls"]').fill("https://www.youtube.com/watch?v=jNQXAC9IVRw")
        page.locator("section.paste button").click()
        refused = page.get_by_role("alert")
        refused.wait_for()
        assert "has the read scope" in refused.inner_text()
        assert remote.get("/v1/videos/youtube:jNQXAC9IVRw", headers=_bearer(remote.demo)).status_code == 404
    finally:
        session.context.close()
    assert session.foreign == [] and session.errors == []


def test_a_change_without_the_sessions_csrf_token_is_refused(browser, remote: Server) -> None:
    session = Browsing.start(browser, remote)
    try:
        log_in(session, key(remote.demo, "write"))
        # the same browser (its session cookie goes along) posting as another site's form would: no token
        forged = session.context.request.post(
            f"{remote.url}/videos/track", form={"urls": "https://www.youtube.com/watch?v=9bZkp7q19f0"}
        )
        assert forged.status == 403 and "another site" in forged.text()
        assert remote.get("/v1/videos/youtube:9bZkp7q19f0", headers=_bearer(remote.demo)).status_code == 404
        # the page's own form carries the token: the same link is tracked
        page = session.page
        page.locator('textarea[name="urls"]').fill("https://www.youtube.com/watch?v=9bZkp7q19f0")
        page.locator("section.paste button").click()
        page.locator("table.results tbody tr").first.wait_for()
        assert page.locator("table.results tbody tr").first.get_attribute("data-status") == "created"
    finally:
        session.context.close()
    assert session.foreign == [] and session.errors == []


_KEYS: dict[Path, str] = {}


def _bearer(demo: Demo) -> dict[str, str]:
    if demo.data not in _KEYS:
        _KEYS[demo.data] = key(demo, "read")
    return {"Authorization": f"Bearer {_KEYS[demo.data]}"}
