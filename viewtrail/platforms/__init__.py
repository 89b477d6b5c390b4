"""Platform clients: one interface (:mod:`.base`); per platform a folder (``tiktok/``, ``youtube/``...) with its
URL grammar, real clients and spec; a simulated client for all.

Build clients with :func:`viewtrail.platforms.factory.build_client`. The names below load on first use, so the
platform registry can read ``viewtrail.platforms.<name>.spec`` without loading httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from viewtrail.platforms.base import (
        ClientSettings,
        PlatformClient,
        default_settings,
        resolve_short_link_sync,
        scrape_sync,
    )
    from viewtrail.platforms.factory import build_client, settings_from_env

__all__ = [
    "ClientSettings",
    "PlatformClient",
    "build_client",
    "default_settings",
    "resolve_short_link_sync",
    "scrape_sync",
    "settings_from_env",
]

_HOMES = {
    "ClientSettings": "viewtrail.platforms.base",
    "PlatformClient": "viewtrail.platforms.base",
    "default_settings": "viewtrail.platforms.base",
    "resolve_short_link_sync": "viewtrail.platforms.base",
    "scrape_sync": "viewtrail.platforms.base",
    "build_client": "viewtrail.platforms.factory",
    "settings_from_env": "viewtrail.platforms.factory",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
