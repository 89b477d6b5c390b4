"""`/docs` works offline: Swagger UI's page references only its own origin, and the server has the assets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from api_support import api_env
from fastapi.testclient import TestClient

from viewtrail.api.app import create_app

# every URL the page names: attributes (src, href) and the strings its script loads (the OpenAPI document)
_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


@pytest.fixture
def client(tmp_path: Path):
    with api_env(tmp_path):
        yield TestClient(create_app())


def test_docs_names_only_same_origin_urls_and_they_are_served(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = [a or b for a, b in _URL.findall(page.text)]
    assert len(urls) >= 4, urls  # the stylesheet, the icon, the script, the document
    foreign = [url for url in urls if not url.startswith("/") or url.startswith("//")]
    assert foreign == [], f"/docs loads from another origin: {foreign}"
    kinds = {}
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 200, url
        kinds[url.rsplit(".", 1)[-1]] = answer
    assert kinds["js"].headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert kinds["css"].headers["content-type"].startswith("text/css")
    assert kinds["json"].json()["openapi"].startswith("3.1")
    # the bundle renders OpenAPI 3.1 documents (Swagger UI 5 or newer), and the page never asks the online
    # validator (it would send the document to a third party)
    assert int(re.search(rb'PACKAGE_VERSION:"(\d+)\.', kinds["js"].content).group(1)) >= 5
    assert '"validatorUrl": null' in page.text


def test_redoc_is_not_served(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
