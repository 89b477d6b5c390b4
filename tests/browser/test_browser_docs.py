"""`/docs` in a real browser: Swagger UI renders the API's OpenAPI 3.1 document with nothing loaded from outside."""

from __future__ import annotations

from browser_support import Browsing


def test_docs_renders_swagger_ui_offline(browsing: Browsing) -> None:
    page = browsing.page
    page.goto("/docs")
    # rendered from the document: its title and the operations of the API, grouped by tag
    page.locator(".swagger-ui .info .title").filter(has_text="viewtrail API").wait_for()
    page.locator(".opblock-summary-path", has_text="/v1/videos").first.wait_for()
    paths = set(page.locator(".opblock-summary-path").all_inner_texts())
    assert {"/v1/videos", "/v1/health", "/v1/creators"} <= {p.strip() for p in paths}
    browsing.screenshot(page, "api-docs")
    # an operation opens, with its parameters: the script is live, not a static page
    page.locator(".opblock-summary-path", has_text="/v1/health").first.click()
    page.locator(".opblock.is-open .opblock-section-header").first.wait_for()
    assert page.locator(".errors-wrapper").count() == 0  # Swagger UI's "cannot render this definition" box


def test_the_harness_catches_a_request_to_another_host_and_a_script_error(browser, server) -> None:
    """The guard every browser test relies on: a page asking another host is recorded (and gets nothing)."""
    session = Browsing.start(browser, server)
    try:
        session.page.goto("/v1/health")
        session.page.set_content(
            '<img src="http://example.invalid/pixel.png"><link rel="stylesheet" href="http://203.0.113.9/a.css">'
            "<script>throw new Error('boom')</script>"
        )
        session.page.wait_for_load_state("load")
    finally:
        session.context.close()
    assert sorted(session.foreign) == ["http://203.0.113.9/a.css", "http://example.invalid/pixel.png"]
    assert any("boom" in error for error in session.errors)
