"""Build the right account client for a platform: the same modes and settings as the video clients.

``VIEWTRAIL_{P}_MODE`` (``simulated`` by default) picks simulated or real; real clients take the same
:class:`ClientSettings` (``VIEWTRAIL_{P}_*``, ``YOUTUBE_API_KEY``, ``INSTAGRAM_SESSIONID``) as
:func:`viewtrail.platforms.factory.build_client`. X accounts live on another host than X's video
endpoint (its spec's ``account_base_url``): without ``VIEWTRAIL_X_BASE_URL`` (or an explicit ``base_url``)
the X account client calls ``https://api.x.com``; with it, both share the configured endpoint (the fake platform serves both there).
"""

from __future__ import annotations

import importlib
from typing import Any

from viewtrail.domain.models import Platform
from viewtrail.domain.platforms import platform_spec, platform_specs
from viewtrail.domain.urls import parse_platform
from viewtrail.platforms.accounts.base import AccountClient
from viewtrail.platforms.factory import client_mode, real_client, resolve_settings, simulated_options

__all__ = ["ACCOUNT_BASE_URLS", "build_account_client"]

#: Production endpoints of the account routes where they differ from the video clients' defaults.
ACCOUNT_BASE_URLS: dict[Platform, str] = {
    Platform(spec.name): spec.account_base_url for spec in platform_specs() if spec.account_base_url
}


def build_account_client(platform: Platform | str, mode: str | None = None, **settings: Any) -> AccountClient:
    """The account client for ``platform`` in ``mode`` (``None`` = ``VIEWTRAIL_{P}_MODE``, default ``simulated``).

    Keyword arguments work as for ``build_client``: ClientSettings fields (or ``settings=ClientSettings(...)``)
    for real clients; other keywords (``seed``, ``fault_rate``) for the simulated one.
    """
    platform = parse_platform(platform)
    if client_mode(platform, mode) == "simulated":
        simulated = importlib.import_module("viewtrail.platforms.simulated.accounts")
        return simulated.SimulatedAccountClient(platform, **simulated_options(settings))
    resolved = resolve_settings(platform, settings, default_base_url=ACCOUNT_BASE_URLS.get(platform))
    class_path = platform_spec(platform.value).account_client
    client = real_client(class_path, resolved)
    if not isinstance(client, AccountClient):
        raise TypeError(f"{class_path} is not an AccountClient")
    return client
