-- registry.campaign_videos: a campaign's videos, its sub-campaigns' included, each pair once.
with source as (
    select * from {{ source('registry', 'campaign_videos') }}
)

select
    campaign_id,
    video_id
from source
