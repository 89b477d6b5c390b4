-- raw.account_attempts as it is, attempted_at typed (primary key account_id, attempted_at).
with source as (
    select * from {{ source('raw', 'account_attempts') }}
)

select
    account_id,
    platform,
    cast(attempted_at as timestamp) as attempted_at,
    outcome,
    http_status,
    detail,
    duration_ms,
    tries,
    source,
    run_id,
    partition_key,
    videos_listed,
    videos_new,
    proxy_index
from source
