"""Instagram, as the platform registry knows it (see ``viewtrail.domain.platforms``)."""

from types import MappingProxyType

from viewtrail.domain.platforms import PlatformSpec

SPEC = PlatformSpec(
    name="instagram",
    display_name="Instagram",
    aliases=("ig",),
    hosts=frozenset({"instagram.com", "www.instagram.com", "m.instagram.com", "instagr.am", "www.instagr.am"}),
    grammar="viewtrail.platforms.instagram.urls",
    video_client="viewtrail.platforms.instagram.client:InstagramClient",
    account_client="viewtrail.platforms.instagram.accounts:InstagramAccountClient",
    base_url="https://www.instagram.com",
    concurrency=2,
    rate_per_min=20.0,  # instaloader's experience: ~200 requests / 11 min before 429s
    cookie_domains=("instagram.com",),
    secrets=MappingProxyType({"session_id": "INSTAGRAM_SESSIONID"}),
    video_example="https://www.instagram.com/p/<shortcode>/",
    account_example="https://www.instagram.com/user/",
    article="an",
    post_word="post",
    extractor_hosts=MappingProxyType(
        {host: "base_url" for host in ("www.instagram.com", "instagram.com", "i.instagram.com")}
    ),
)
