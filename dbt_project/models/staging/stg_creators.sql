-- registry.creators, one row per creator.
with source as (
    select * from {{ source('registry', 'creators') }}
)

select
    creator_id,
    name,
    labels,
    metadata,
    added_at,
    updated_at
from source
