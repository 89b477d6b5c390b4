-- registry.payout_terms: append-only versions (creator_id null: the campaign's own terms).
with source as (
    select * from {{ source('registry', 'payout_terms') }}
)

select
    terms_id,
    campaign_id,
    creator_id,
    effective_from,
    currency,
    tier_from_views,
    tier_cpm_minor,
    cap_views,
    window_hours,
    min_views
from source
