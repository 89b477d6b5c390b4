-- registry.videos, one row per tracked video; an empty account handle means unknown.
with source as (
    select * from {{ source('registry', 'videos') }}
)

select
    video_id,
    platform,
    external_id,
    url,
    nullif(trim(account), '') as account,
    account_id,
    source,
    is_active,
    cadence,
    track_until,
    labels,
    metadata,
    availability,
    consecutive_not_found,
    posted_at,
    added_at,
    updated_at,
    stopped_at
from source
