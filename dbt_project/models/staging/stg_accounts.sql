-- registry.accounts, one row per watched account; an empty handle means not known yet.
with source as (
    select * from {{ source('registry', 'accounts') }}
)

select
    account_id,
    platform,
    nullif(trim(handle), '') as handle,
    platform_account_id,
    url,
    is_active,
    discovery,
    latest_n,
    since,
    discovery_cadence_hours,
    labels,
    metadata,
    added_at,
    updated_at,
    stopped_at
from source
