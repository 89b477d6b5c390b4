"""YouTube, as the platform registry knows it (see ``viewtrail.domain.platforms``)."""

from types import MappingProxyType

from viewtrail.domain.platforms import PlatformSpec

SPEC = PlatformSpec(
    name="youtube",
    display_name="YouTube",
    aliases=("yt",),
    hosts=frozenset(
        {
            "youtube.com",
            "www.youtube.com",
            "m.youtube.com",
            "music.youtube.com",
            "youtube-nocookie.com",
            "www.youtube-nocookie.com",
            "youtu.be",
            "www.youtu.be",
            "youtubekids.com",
            "www.youtubekids.com",
        }
    ),
    grammar="viewtrail.platforms.youtube.urls",
    video_client="viewtrail.platforms.youtube.client:YouTubeClient",
    account_client="viewtrail.platforms.youtube.accounts:YouTubeAccountClient",
    base_url="https://www.googleapis.com/youtube/v3",
    concurrency=4,
    rate_per_min=600.0,  # an official API; 1 request carries 50 videos
    cookie_domains=("youtube.com", "google.com"),
    secrets=MappingProxyType({"api_key": "YOUTUBE_API_KEY"}),
    video_example="https://www.youtube.com/watch?v=<id>",
    account_example="https://www.youtube.com/@handle",
    account_word="channel",
    account_link_word="channel",
    # The Data API's endpoint stands in for the web hosts too: one fake server or mirror serves both backends.
    extractor_hosts=MappingProxyType(
        {host: "base_url" for host in ("www.youtube.com", "youtube.com", "m.youtube.com")}
    ),
)
