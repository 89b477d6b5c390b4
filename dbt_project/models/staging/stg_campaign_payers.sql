-- registry.campaign_payers: the one campaign of each top-level tree that pays a video.
with source as (
    select * from {{ source('registry', 'campaign_payers') }}
)

select
    root_id,
    campaign_id,
    video_id,
    creator_id,
    posted_at
from source
