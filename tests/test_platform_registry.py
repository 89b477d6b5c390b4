"""A platform is registered once: its spec alone makes it known everywhere (enum, URLs, settings, assets, CLI).

The toy fifth platform is registered the way a separately installed package would do it: an entry point of the
group ``viewtrail.platforms`` (a ``.dist-info`` on ``sys.path``), seen by a fresh interpreter, since the
``Platform`` enum is built once per process from the registry.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from viewtrail.domain.models import Platform
from viewtrail.domain.platforms import BUILTIN_PLATFORMS, platform_specs

ROOT = Path(__file__).resolve().parents[1]

TOY_PLATFORM = '''
"""A toy platform: videos at https://toy.example/v/<digits>, accounts at https://toy.example/u/<handle>."""

import re

from viewtrail.domain.platforms import PlatformSpec

SPEC = PlatformSpec(
    name="toy",
    display_name="Toy",
    hosts=frozenset({"toy.example", "www.toy.example"}),
    grammar="toy_platform",
    video_client="toy_platform:NoClient",
    account_client="toy_platform:NoClient",
    base_url="https://api.toy.example",
    video_example="https://toy.example/v/<id>",
    account_example="https://toy.example/u/<handle>",
)

ID_PATTERN = re.compile(r"[0-9]{1,12}", re.ASCII)
ID_RULE = "1 to 12 digits"


def video_account(account):
    return None


def canonical_url(external_id, account):
    return f"https://toy.example/v/{external_id}"


def read_video(host, segs, query, shown):
    from viewtrail.domain.models import Platform
    from viewtrail.domain.urls import InvalidVideoUrl, video_ref

    if len(segs) == 2 and segs[0] == "v":
        return video_ref(Platform("toy"), segs[1], shown)
    raise InvalidVideoUrl(f"{shown} is not a Toy video link: paste a link like {SPEC.video_example}.")


def canonical_account_url(handle, platform_account_id):
    from viewtrail.domain.models import Platform
    from viewtrail.domain.urls import invalid_handle

    if not handle or not handle.isalnum():
        raise invalid_handle(Platform("toy"), handle)
    return f"https://toy.example/u/{handle}"


def read_account(host, segs):
    from viewtrail.domain.models import Platform
    from viewtrail.domain.urls import handle_ref

    if len(segs) == 2 and segs[0] == "u" and segs[1].isalnum():
        return handle_ref(Platform("toy"), segs[1])
    return None
'''

PROBE = """
import json, os

from typer.testing import CliRunner

from viewtrail import config
from viewtrail.domain.models import Platform, VideoRef
from viewtrail.domain.urls import InvalidVideoUrl, parse_account_url, parse_platform, parse_video_url, split_video_id

seen = {"members": [p.value for p in Platform], "enum": Platform("toy") is Platform.TOY is parse_platform("Toy")}
ref = parse_video_url("https://www.toy.example/v/42")
seen["video"] = [ref.platform.value, ref.external_id, ref.url, ref == VideoRef(Platform.TOY, "42", ref.url)]
seen["video_id"] = [split_video_id("toy:42")[0].value, parse_video_url("42", platform="toy").url]
account = parse_account_url("https://toy.example/u/ann")
seen["account"] = [account.platform.value, account.handle, account.url]
try:
    parse_video_url("https://elsewhere.example/v/1")
except InvalidVideoUrl as error:
    seen["unsupported_host"] = str(error)

from orchestration.defs.resources import platform_clients_from_env

settings = config.Settings.from_environ(
    {"VIEWTRAIL_TOY_MODE": "real", "VIEWTRAIL_TOY_BASE_URL": "http://127.0.0.1:9/toy/"}, cwd=os.getcwd()
)
resource = platform_clients_from_env(settings)
seen["resource"] = [resource.mode("toy"), resource.base_url("toy"), resource.mode("tiktok")]

from orchestration.definitions import defs

keys = {"/".join(key.path) for key in defs().resolve_all_asset_keys()}
seen["assets"] = sorted(key for key in keys if "toy" in key)

from viewtrail.cli import app

seen["cli_help"] = CliRunner().invoke(app, ["track", "--help"], terminal_width=200).output
seen["cli_error"] = CliRunner().invoke(app, ["track", "https://elsewhere.example/v/1"]).output
print(json.dumps(seen))
"""


def _with_toy_platform(tmp_path: Path) -> dict:
    """What a fresh interpreter sees once the toy platform's package is installed (on ``sys.path``)."""
    (tmp_path / "toy_platform.py").write_text(textwrap.dedent(TOY_PLATFORM))
    dist = tmp_path / "toy_platform-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-platform\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[viewtrail.platforms]\ntoy = toy_platform:SPEC\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]),
        "VIEWTRAIL_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_registered_platform_is_seen_everywhere(tmp_path):
    seen = _with_toy_platform(tmp_path)

    assert seen["members"] == [*BUILTIN_PLATFORMS, "toy"] and seen["enum"]
    assert seen["video"] == ["toy", "42", "https://toy.example/v/42", True]
    assert seen["video_id"] == ["toy", "https://toy.example/v/42"]
    assert seen["account"] == ["toy", "ann", "https://toy.example/u/ann"]
    assert "TikTok, YouTube, Instagram, X or Toy" in seen["unsupported_host"]
    assert seen["resource"] == ["real", "http://127.0.0.1:9/toy", "simulated"]
    assert seen["assets"] == [
        "discovery/toy",
        "plans/toy",
        "plans/toy_accounts",
        "raw/toy_accounts",
        "raw/toy_snapshots",
        "scrapes/toy",
    ]
    assert "tiktok, youtube, instagram, x or toy" in " ".join(seen["cli_help"].split())
    assert "Toy" in seen["cli_error"]


def test_the_enum_mypy_sees_lists_the_built_in_platforms():
    """models.py spells the built-ins out for mypy (under TYPE_CHECKING); it must match the registry."""
    source = (ROOT / "viewtrail" / "domain" / "models.py").read_text()
    stub = source.split("if TYPE_CHECKING:", 1)[1].split("else:", 1)[0]
    assert re.findall(r'^\s+([A-Z]+) = "([a-z]+)"$', stub, re.MULTILINE) == [
        (name.upper(), name) for name in BUILTIN_PLATFORMS
    ]
    assert [p.value for p in Platform] == [spec.name for spec in platform_specs()] == list(BUILTIN_PLATFORMS)


def test_dbt_accepts_exactly_the_registered_platforms():
    """dbt's ``accepted_values`` of every ``platform`` column and its ``platforms()`` macro (the per-platform
    share columns) list the registry's platforms, in registry order."""
    names = [spec.name for spec in platform_specs()]
    checked = 0
    for path in sorted((ROOT / "dbt_project" / "models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            for column in model.get("columns", []):
                for test in column.get("data_tests", []):
                    if isinstance(test, dict) and "accepted_values" in test and column["name"] == "platform":
                        values = test["accepted_values"].get("arguments", test["accepted_values"])["values"]
                        assert values == names, f"{path.name}: {model['name']}.platform"
                        checked += 1
    assert checked >= 6
    macro = (ROOT / "dbt_project" / "macros" / "daily_rollup.sql").read_text()
    listed = re.search(r"macro platforms\(\).*?return\(\[(.*?)\]\)", macro, re.DOTALL)
    assert listed is not None and re.findall(r"'([a-z]+)'", listed.group(1)) == names
