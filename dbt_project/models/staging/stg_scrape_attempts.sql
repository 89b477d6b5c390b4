-- raw.scrape_attempts as it is, attempted_at typed (primary key video_id, attempted_at).
with source as (
    select * from {{ source('raw', 'scrape_attempts') }}
)

select
    video_id,
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
    proxy_index,
    ingested_at
from source
