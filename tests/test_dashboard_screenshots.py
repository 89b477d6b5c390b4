"""docs/dashboard.md shows every screenshot the browser tests write, and only those: no broken image, and no page
the browser tests photograph left out of the docs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_screenshot_the_browser_tests_take_is_in_docs_dashboard_md():
    taken = set()
    for test in (ROOT / "tests" / "browser").glob("test_*.py"):
        taken |= set(re.findall(r"""screenshot\([^,]+,\s*["']([\w-]+)["']\)""", test.read_text()))
    shown = set(re.findall(r"\]\(dashboard/([\w-]+)\.png\)", (ROOT / "docs" / "dashboard.md").read_text()))
    assert taken, "the browser tests take no screenshot"
    assert taken == shown, f"taken, not in docs: {sorted(taken - shown)}; in docs, never taken: {sorted(shown - taken)}"
    missing = [name for name in shown if not (ROOT / "docs" / "dashboard" / f"{name}.png").exists()]
    assert missing == [], f"docs/dashboard.md shows images that are not in docs/dashboard/: {missing}"
