"""X (Twitter), as the platform registry knows it (see ``viewtrail.domain.platforms``)."""

from types import MappingProxyType

from viewtrail.domain.platforms import PlatformSpec

SPEC = PlatformSpec(
    name="x",
    display_name="X",
    aliases=("twitter",),
    hosts=frozenset(
        {
            "x.com",
            "www.x.com",
            "mobile.x.com",
            "twitter.com",
            "www.twitter.com",
            "mobile.twitter.com",
            # embed-fixer mirrors people paste into chats; same path scheme and ids as x.com
            "fxtwitter.com",
            "vxtwitter.com",
            "fixupx.com",
            "fixvx.com",
        }
    ),
    grammar="viewtrail.platforms.x.urls",
    video_client="viewtrail.platforms.x.client:XClient",
    account_client="viewtrail.platforms.x.accounts:XAccountClient",
    base_url="https://cdn.syndication.twimg.com",
    account_base_url="https://api.x.com",  # account routes live on another host than syndication
    concurrency=4,
    rate_per_min=120.0,
    cookie_domains=("x.com", "twitter.com"),
    video_example="https://x.com/<user>/status/<id>",
    account_example="https://x.com/user",
    article="an",
    post_word="post",
    # yt-dlp reads posts through the guest GraphQL route (the GraphQL base) and falls back to syndication.
    extractor_hosts=MappingProxyType(
        {
            "cdn.syndication.twimg.com": "base_url",
            "api.x.com": "x_graphql_base_url",
            "x.com": "x_graphql_base_url",
            "api.twitter.com": "x_graphql_base_url",
            "twitter.com": "x_graphql_base_url",
        }
    ),
)
