-- raw.payout_finalizations: payable views and amounts frozen once per campaign and video.
with source as (
    select * from {{ source('raw', 'payout_finalizations') }}
)

select
    campaign_id,
    video_id,
    creator_id,
    posted_at,
    window_end,
    payable_views,
    views_observed,
    views_how,
    is_interpolated,
    terms_id,
    cpm_minor,
    amount_minor,
    currency,
    finalized_at
from source
