-- registry.campaign_tree: each campaign with itself (depth 0) and every campaign nested under it.
with source as (
    select * from {{ source('registry', 'campaign_tree') }}
)

select
    campaign_id,
    descendant_id,
    depth
from source
