"""The product package starts without Dagster and reaches the pipeline only through its orchestrator port."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from viewtrail.app import orchestrator

REPO = Path(__file__).resolve().parents[1]


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.strip()


def test_the_cli_and_every_product_module_load_without_dagster_or_the_code_location():
    code = (
        "import importlib, pkgutil, sys, viewtrail\n"
        "for m in pkgutil.walk_packages(viewtrail.__path__, 'viewtrail.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('dagster', 'dagster_dbt', 'orchestration')))\n"
    )
    assert run_python(code) == "[]"


def test_the_installed_orchestrator_is_dagster_and_launches_nothing_until_asked(monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with orchestrator.open_orchestrator() as opened:
        assert type(opened).__module__ == "orchestration.runs"
        assert opened.report_inline_snapshots(["youtube"]) is False  # no DAGSTER_HOME: no instance to tell


def test_a_missing_orchestrator_is_one_sentence_naming_the_fix(monkeypatch):
    monkeypatch.setattr(orchestrator, "entry_points", lambda **_: [])
    with pytest.raises(orchestrator.OrchestratorMissingError, match=r"reinstall viewtrail.*pip install -e \."):
        with orchestrator.open_orchestrator():
            pass


def test_the_fake_platform_server_still_starts_under_its_earlier_documented_name():
    for module in ("viewtrail.testing.fake_platform", "orchestration.testing.fake_platform"):
        done = subprocess.run(
            [sys.executable, "-m", module, "--help"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0 and "--port" in done.stdout, (module, done.stderr)
