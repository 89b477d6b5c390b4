"""Where yt-dlp's requests go: the production hosts its extractors call, or the endpoints configured for them.

A platform's spec lists the hosts its yt-dlp extractor calls (``PlatformSpec.extractor_hosts``), each with the
ClientSettings field of the endpoint that stands in for it. When such an endpoint is configured (the fake
platform server, a mirror), a request to one of its hosts goes there with its path and query unchanged, and a
request to any host that no configured endpoint stands in for is refused: a configured client never reaches
the real platform behind the user's back. With nothing configured every request goes where yt-dlp sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from viewtrail.domain.models import Platform
from viewtrail.domain.platforms import platform_spec
from viewtrail.platforms.base import ClientSettings, default_settings

__all__ = ["Routes", "UnroutedHost"]


class UnroutedHost(Exception):
    """A request to a host no configured endpoint stands in for, while endpoints are configured."""


@dataclass(frozen=True, slots=True)
class Routes:
    """The rewrite rules of one client: production host -> configured endpoint (only the overridden ones)."""

    rewrites: dict[str, str]
    confined: bool  # True when any endpoint is configured: unlisted hosts are refused

    @classmethod
    def for_settings(cls, platform: Platform, settings: ClientSettings) -> Routes:
        defaults = default_settings(platform)
        rewrites: dict[str, str] = {}
        for host, field_name in platform_spec(platform.value).extractor_hosts.items():
            configured = getattr(settings, field_name, None)
            if configured and configured != getattr(defaults, field_name, None):
                rewrites[host] = str(configured).rstrip("/")
        return cls(rewrites, confined=bool(rewrites))

    def outbound(self, url: str) -> str:
        """The URL to send for yt-dlp's ``url``; raises :class:`UnroutedHost` for a host that must not be called."""
        if not self.confined:
            return url
        parts = urlsplit(url)
        base = self.rewrites.get((parts.hostname or "").lower())
        if base is None:
            raise UnroutedHost(f"{parts.hostname} is not routed to a configured endpoint")
        path = parts.path or "/"
        query = f"?{parts.query}" if parts.query else ""
        return f"{base}{path}{query}"

    def inbound(self, url: str, original: str) -> str:
        """The production URL yt-dlp should see for a response from ``url`` (reached for ``original``), so its
        extractors read paths (``/login``, ``/accounts/login``) as the platform's own."""
        if not self.confined:
            return url
        original_host = (urlsplit(original).hostname or "").lower()
        candidates = [(original_host, self.rewrites[original_host])] if original_host in self.rewrites else []
        candidates += sorted(self.rewrites.items(), key=lambda item: -len(item[1]))
        for host, base in candidates:
            if url == base or url.startswith(base + "/") or url.startswith(base + "?"):
                rest = urlsplit(url[len(base) :] or "/")
                return urlunsplit(("https", host, rest.path or "/", rest.query, ""))
        return url
