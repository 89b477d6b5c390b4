"""TikTok, as the platform registry knows it (see ``viewtrail.domain.platforms``)."""

from types import MappingProxyType

from viewtrail.domain.platforms import PlatformSpec

#: Hosts of TikTok's short links (``vm.tiktok.com/<code>/``), which only a redirect lookup resolves.
SHORT_LINK_HOSTS = frozenset({"vm.tiktok.com", "vt.tiktok.com"})
#: Hosts of the share links the TikTok app hands out (``www.tiktokv.com/share/video/<id>``): nothing else lives there.
SHARE_HOSTS = frozenset({"tiktokv.com", "www.tiktokv.com", "m.tiktokv.com"})

SPEC = PlatformSpec(
    name="tiktok",
    display_name="TikTok",
    aliases=("tt",),
    hosts=frozenset({"tiktok.com", "www.tiktok.com", "m.tiktok.com"}) | SHORT_LINK_HOSTS | SHARE_HOSTS,
    grammar="viewtrail.platforms.tiktok.urls",
    video_client="viewtrail.platforms.tiktok.client:TikTokClient",
    account_client="viewtrail.platforms.tiktok.accounts:TikTokAccountClient",
    base_url="https://www.tiktok.com",
    concurrency=4,
    rate_per_min=60.0,
    cookie_domains=("tiktok.com",),
    video_example="https://www.tiktok.com/@user/video/<id>",
    account_example="https://www.tiktok.com/@user",
    resolves_short_links=True,
    extractor_hosts=MappingProxyType(
        {host: "base_url" for host in ("www.tiktok.com", "tiktok.com", "m.tiktok.com", "www.tiktokv.com")}
    ),
)
