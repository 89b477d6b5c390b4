"""Build the right client for a platform from explicit settings and the configuration.

Configuration (``config.settings()``, used only for settings not passed explicitly; ``{P}`` is a registered
platform's name in capitals, ``TIKTOK``, ``YOUTUBE``...):

* ``VIEWTRAIL_{P}_MODE``: ``simulated`` (default) or ``real``
* ``VIEWTRAIL_{P}_BASE_URL``: endpoint override (the fake platform server, a proxy)
* ``VIEWTRAIL_{P}_PROXIES``: forward proxies the requests spread over (see ``viewtrail.platforms.proxies``)
* ``VIEWTRAIL_{P}_CONCURRENCY``, ``VIEWTRAIL_{P}_RATE_PER_MIN``, ``VIEWTRAIL_{P}_TIMEOUT_S``,
  ``VIEWTRAIL_{P}_MAX_RETRIES``
* the platform's secrets (its spec's ``secrets``): ``YOUTUBE_API_KEY`` (required for real YouTube),
  ``INSTAGRAM_SESSIONID`` (optional; unlocks Instagram play counts); ``VIEWTRAIL_YOUTUBE_DAILY_UNITS`` (default 10000)
* ``VIEWTRAIL_{P}_IMPERSONATE`` (a browser curl_cffi impersonates), ``VIEWTRAIL_{P}_COOKIES_FILE`` (cookies.txt)
* ``VIEWTRAIL_{P}_BACKEND``: how real mode reads videos: ``native`` (viewtrail's own parser), ``ytdlp`` (yt-dlp's
  extractors, see ``viewtrail.platforms.ytdlp``) or ``auto`` (native, yt-dlp for a video whose page changed);
  unset: ``native``, except YouTube without ``YOUTUBE_API_KEY``, read through ``ytdlp``
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from viewtrail import config
from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.models import Platform
from viewtrail.domain.platforms import load_object, platform_spec
from viewtrail.domain.urls import InvalidVideoUrl, parse_platform
from viewtrail.platforms.base import ClientSettings, PlatformClient, default_settings
from viewtrail.platforms.http import HttpPlatformClient

__all__ = [
    "BACKENDS",
    "MODES",
    "build_client",
    "build_native_client",
    "client_backend",
    "client_mode",
    "real_client",
    "settings_from_env",
]

MODES = config.MODES
BACKENDS = config.BACKENDS

_SETTING_NAMES = frozenset(f.name for f in dataclasses.fields(ClientSettings))


def _platform(platform: Platform | str) -> Platform:
    """The platform a caller names, parsed by the one parser (``urls.parse_platform``), as an input error."""
    try:
        return parse_platform(platform)
    except InvalidVideoUrl:
        choices = ", ".join(p.value for p in Platform)
        raise InvalidInputError(f"Unknown platform {platform!r}: use one of {choices}.") from None


def client_mode(platform: Platform | str, mode: str | None = None) -> str:
    """``mode`` if given, else ``VIEWTRAIL_{P}_MODE``, else ``simulated``; validated."""
    platform = _platform(platform)
    if mode is None:
        return config.settings().platform(platform).mode  # validated there
    chosen = mode.strip().lower()
    if chosen not in MODES:
        raise InvalidInputError(f"mode={chosen!r} is not a client mode: use 'simulated' or 'real'.")
    return chosen


def client_backend(platform: Platform | str, backend: str | None = None, settings: ClientSettings | None = None) -> str:
    """``backend`` if given, else ``VIEWTRAIL_{P}_BACKEND``, else ``native``, except YouTube without an API key (in
    ``settings``, default the configuration's): the Data API needs one, so its videos are read through yt-dlp."""
    platform = _platform(platform)
    if backend is None:
        configured = config.settings().platform(platform).backend
        if configured is not None:
            return configured
        api_key = settings.api_key if settings is not None else config.settings().platform(platform).api_key
        return "ytdlp" if platform is Platform.YOUTUBE and not api_key else "native"
    chosen = backend.strip().lower()
    if chosen not in BACKENDS:
        raise InvalidInputError(f"backend={chosen!r} is not a backend: use {', '.join(BACKENDS)}.")
    return chosen


def settings_from_env(platform: Platform | str, **overrides: Any) -> ClientSettings:
    """Real-client settings: polite defaults, then the configuration (``VIEWTRAIL_{P}_*`` and the platform's
    secret), then ``overrides`` (highest)."""
    platform = _platform(platform)
    unknown = set(overrides) - _SETTING_NAMES
    if unknown:
        raise TypeError(f"unknown client settings: {', '.join(sorted(unknown))}")
    configured = config.settings().platform(platform).client_overrides()
    return default_settings(platform, **{**configured, **overrides})


def simulated_options(settings: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments meant for a simulated client (``seed``, ``fault_rate``...): the real-client settings
    are ignored there."""
    return {k: v for k, v in settings.items() if k not in _SETTING_NAMES and k != "settings"}


def resolve_settings(
    platform: Platform | str, settings: dict[str, Any], *, default_base_url: str | None = None
) -> ClientSettings:
    """A real client's settings from a builder's keyword arguments: ``settings=ClientSettings(...)`` (a
    complete object, other keywords overriding it) or ClientSettings fields over the environment.
    ``default_base_url`` replaces the platform's default endpoint when neither the keywords nor the
    configuration name one (account routes living on another host)."""
    platform = _platform(platform)
    settings = dict(settings)
    explicit = settings.pop("settings", None)
    if explicit is not None:
        if not isinstance(explicit, ClientSettings):
            raise TypeError("settings= must be a ClientSettings")
        return explicit.with_overrides(**settings) if settings else explicit
    if default_base_url and "base_url" not in settings and config.settings().platform(platform).base_url is None:
        settings["base_url"] = default_base_url
    return settings_from_env(platform, **settings)


def real_client(class_path: str, settings: ClientSettings) -> object:
    """The real client a spec names (``"module:Class"``) built with ``settings``; the caller checks its kind (a
    plugin's spec may name anything)."""
    client_class = load_object(class_path)
    if not callable(client_class):
        raise TypeError(f"{class_path} is not a client class")
    return client_class(settings)


def build_native_client(platform: Platform | str, settings: ClientSettings) -> PlatformClient:
    """The platform's own real client (its spec's ``video_client``) built with ``settings``."""
    platform = _platform(platform)
    class_path = platform_spec(platform.value).video_client
    client = real_client(class_path, settings)
    if not isinstance(client, PlatformClient):
        raise TypeError(f"{class_path} is not a PlatformClient")
    return client


def build_client(
    platform: Platform | str, mode: str | None = None, *, backend: str | None = None, **settings: Any
) -> PlatformClient:
    """The client for ``platform`` in ``mode`` (``None`` = ``VIEWTRAIL_{P}_MODE``, default ``simulated``).

    Real mode: ``settings`` are :class:`ClientSettings` fields overriding the environment, or
    ``settings=ClientSettings(...)`` to pass a complete object; ``backend`` (``None`` = ``VIEWTRAIL_{P}_BACKEND``)
    picks the native client, yt-dlp, or both (``auto``). Simulated mode: keyword arguments that are not
    ClientSettings fields (e.g. ``seed``) go to ``SimulatedClient(platform, ...)``; real-client settings and the
    backend are ignored there.
    """
    platform = _platform(platform)
    chosen = client_mode(platform, mode)
    if chosen == "simulated":
        simulated = importlib.import_module("viewtrail.platforms.simulated.client")
        return simulated.SimulatedClient(platform, **simulated_options(settings))
    resolved = resolve_settings(platform, settings)
    reader = client_backend(platform, backend, resolved)
    if reader == "ytdlp":
        from viewtrail.platforms.ytdlp.client import YtDlpClient  # yt-dlp loads only for its backends

        return YtDlpClient(platform, resolved)
    native = build_native_client(platform, resolved)
    if reader == "auto":
        if not isinstance(native, HttpPlatformClient):
            raise InvalidInputError(
                f"{config.platform_variable(platform, 'BACKEND')}=auto needs a client built on viewtrail's HTTP "
                "machinery, which this platform's is not: use native or ytdlp."
            )
        from viewtrail.platforms.ytdlp.client import AutoClient

        return AutoClient(native)
    return native
