"""Platform clients: one interface (:mod:`.base`), four real httpx clients and a simulated one.

Build clients with :func:`viewtrail.platforms.factory.build_client`.
"""

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
