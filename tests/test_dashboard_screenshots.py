"""docs/dashboard.md shows every screenshot in docs/dashboard/ (written there by the browser tests), and every
image it shows is there: no broken image, no screenshot left out of the docs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_docs_dashboard_md_shows_exactly_the_screenshots_in_docs_dashboard():
    files = {path.stem for path in (ROOT / "docs" / "dashboard").glob("*.png")}
    shown = set(re.findall(r"\]\(dashboard/([\w-]+)\.png\)", (ROOT / "docs" / "dashboard.md").read_text()))
    assert files, "docs/dashboard/ holds no screenshot: run make test-browser"
    assert shown == files, f"not shown in docs/dashboard.md: {sorted(files - shown)}; missing: {sorted(shown - files)}"
