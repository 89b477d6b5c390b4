-- registry.creator_accounts: which accounts belong to which creator (primary key creator_id, account_id).
with source as (
    select * from {{ source('registry', 'creator_accounts') }}
)

select
    creator_id,
    account_id,
    added_at
from source
