"""build_client / settings_from_env: modes, environment, validation, offline guard."""

from __future__ import annotations

import dataclasses
import sys
import types

import httpx
import pytest

from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.models import Platform
from viewtrail.domain.platforms import platform_spec
from viewtrail.platforms import factory
from viewtrail.platforms.accounts import factory as account_factory
from viewtrail.platforms.accounts.factory import build_account_client
from viewtrail.platforms.base import DEFAULT_USER_AGENT, ClientSettings
from viewtrail.platforms.factory import build_client, client_mode, settings_from_env
from viewtrail.platforms.http import OfflineError
from viewtrail.platforms.instagram.client import InstagramClient
from viewtrail.platforms.tiktok.client import TikTokClient
from viewtrail.platforms.x.client import XClient
from viewtrail.platforms.youtube.client import YouTubeClient


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("YOUTUBE_API_KEY", "INSTAGRAM_SESSIONID", "VIEWTRAIL_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    for platform in Platform:
        for suffix in ("MODE", "BASE_URL", "CONCURRENCY", "RATE_PER_MIN", "TIMEOUT_S", "MAX_RETRIES"):
            monkeypatch.delenv(f"VIEWTRAIL_{platform.value.upper()}_{suffix}", raising=False)


def test_defaults_are_polite_per_platform():
    yt = settings_from_env("youtube")
    assert yt.base_url == "https://www.googleapis.com/youtube/v3" and yt.rate_per_min == 600
    assert settings_from_env("tiktok").rate_per_min == 60
    assert settings_from_env("instagram").rate_per_min == 20
    assert settings_from_env("x").base_url == "https://cdn.syndication.twimg.com"
    assert yt.user_agent == DEFAULT_USER_AGENT and yt.timeout_s > 0


def test_environment_then_overrides(monkeypatch):
    monkeypatch.setenv("VIEWTRAIL_TIKTOK_BASE_URL", "http://127.0.0.1:8765/tiktok/")
    monkeypatch.setenv("VIEWTRAIL_TIKTOK_CONCURRENCY", "16")
    monkeypatch.setenv("VIEWTRAIL_TIKTOK_RATE_PER_MIN", "6000")
    monkeypatch.setenv("VIEWTRAIL_YOUTUBE_DAILY_UNITS", "500")
    monkeypatch.setenv("YOUTUBE_API_KEY", "AIzaFromEnv")
    monkeypatch.setenv("INSTAGRAM_SESSIONID", "sess-from-env")
    tiktok = settings_from_env("tiktok", concurrency=2)
    assert tiktok.base_url == "http://127.0.0.1:8765/tiktok"
    assert tiktok.concurrency == 2 and tiktok.rate_per_min == 6000
    youtube = settings_from_env("youtube")
    assert youtube.daily_units == 500 and youtube.api_key == "AIzaFromEnv"
    assert settings_from_env("instagram").session_id == "sess-from-env"
    assert settings_from_env("x").session_id is None  # secrets only go to their own platform


@pytest.mark.parametrize(
    ("var", "value"),
    [("VIEWTRAIL_X_CONCURRENCY", "many"), ("VIEWTRAIL_X_CONCURRENCY", "0"), ("VIEWTRAIL_X_RATE_PER_MIN", "-1")],
)
def test_bad_environment_values_name_the_variable(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(InvalidInputError, match=var):
        settings_from_env("x")


def test_unknown_setting_is_a_type_error():
    with pytest.raises(TypeError, match="colour"):
        settings_from_env("x", colour="red")


def test_mode_selection(monkeypatch):
    assert client_mode("x") == "simulated"
    monkeypatch.setenv("VIEWTRAIL_X_MODE", "REAL")
    assert client_mode("x") == "real"
    assert client_mode("x", "simulated") == "simulated"
    with pytest.raises(InvalidInputError, match="simulated"):
        client_mode("x", "live")
    with pytest.raises(InvalidInputError, match="platform"):
        client_mode("vimeo")


def test_real_clients_by_platform(monkeypatch, tmp_path):
    transport = httpx.MockTransport(lambda r: httpx.Response(200))
    monkeypatch.setenv("YOUTUBE_API_KEY", "AIzaFromEnv")
    built = {p: build_client(p, "real", transport=transport, state_dir=tmp_path) for p in Platform}
    assert isinstance(built[Platform.YOUTUBE], YouTubeClient)
    assert isinstance(built[Platform.TIKTOK], TikTokClient)
    assert isinstance(built[Platform.INSTAGRAM], InstagramClient)
    assert isinstance(built[Platform.X], XClient)
    assert {c.source for c in built.values()} == {"youtube_api", "tiktok_web", "instagram_web", "x_syndication"}
    assert all(not c.observes_past for c in built.values())


def test_a_spec_naming_a_class_that_is_not_a_client_is_refused(monkeypatch):
    """A plugin's spec may name any class: building a real client from it fails loudly, naming it."""
    not_a_client = "viewtrail.platforms.base:ClientSettings"  # constructible from settings, but no client
    spec = dataclasses.replace(platform_spec("x"), video_client=not_a_client, account_client=not_a_client)
    monkeypatch.setattr(factory, "platform_spec", lambda name: spec)
    monkeypatch.setattr(account_factory, "platform_spec", lambda name: spec)
    with pytest.raises(TypeError, match="ClientSettings is not a PlatformClient"):
        build_client("x", "real", base_url="http://127.0.0.1:9/x")
    with pytest.raises(TypeError, match="ClientSettings is not an AccountClient"):
        build_account_client("x", "real", base_url="http://127.0.0.1:9/x")


def test_explicit_settings_object(tmp_path):
    settings = ClientSettings(base_url="http://127.0.0.1:9/x", transport=httpx.MockTransport(lambda r: None))
    client = build_client("x", "real", settings=settings, concurrency=7)
    assert client.settings.concurrency == 7 and client.base_url == "http://127.0.0.1:9/x"


def test_simulated_mode_builds_the_simulated_client_with_its_own_arguments(monkeypatch):
    created = {}

    class FakeSimulated:
        def __init__(self, platform, **kwargs):
            created.update(platform=platform, **kwargs)

    module = types.ModuleType("viewtrail.platforms.simulated.client")
    module.SimulatedClient = FakeSimulated
    monkeypatch.setitem(sys.modules, "viewtrail.platforms.simulated.client", module)
    client = build_client("tiktok", seed=3, concurrency=9)  # real-client settings are not passed on
    assert isinstance(client, FakeSimulated)
    assert created == {"platform": Platform.TIKTOK, "seed": 3}


def test_offline_forbids_real_clients_on_public_hosts_but_allows_loopback(monkeypatch):
    monkeypatch.setenv("VIEWTRAIL_OFFLINE", "1")
    with pytest.raises(OfflineError, match="VIEWTRAIL_OFFLINE"):
        build_client("x", "real")
    assert isinstance(build_client("x", "real", base_url="http://127.0.0.1:8080"), XClient)
