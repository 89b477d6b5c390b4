-- registry.campaigns, one row per campaign; nesting through parent_id (acyclic, refused at write).
with source as (
    select * from {{ source('registry', 'campaigns') }}
)

select
    campaign_id,
    name,
    parent_id,
    starts_on,
    ends_on,
    target_views,
    target_by,
    notes
from source
