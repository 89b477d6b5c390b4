"""Account clients: a watched account's metrics and recent videos, one client per platform.

Build them with :func:`viewtrail.platforms.accounts.factory.build_account_client` (simulated by default,
like the video clients) and drive them from sync code with :func:`discover_sync`.
"""

from viewtrail.platforms.accounts.base import AccountClient, discover_sync, listing_limit
from viewtrail.platforms.accounts.factory import build_account_client

__all__ = ["AccountClient", "build_account_client", "discover_sync", "listing_limit"]
