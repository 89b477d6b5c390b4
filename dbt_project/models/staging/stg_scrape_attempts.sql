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
    partition_key
from {{ source('raw', 'scrape_attempts') }}
