-- Snapshots typed, one row per (video_id, observed_at). Exact duplicates cannot reach the marts: raw.snapshots'
-- primary key (video_id, observed_at) rejects them at load time (loaders use ON CONFLICT DO NOTHING). No
-- de-duplicating window here on purpose: every mart reads this view, and a window over all history costs more
-- than the whole incremental hour while removing nothing the key allows in.
with source as (
    select * from {{ source('raw', 'snapshots') }}
)

select
    cast(video_id as varchar) as video_id,
    cast(observed_at as timestamp) as observed_at,
    cast(views as bigint) as views,
    cast(likes as bigint) as likes,
    cast(comments as bigint) as comments,
    cast(shares as bigint) as shares,
    cast(saves as bigint) as saves,
    cast(title as varchar) as title,
    cast(account as varchar) as account,
    cast(posted_at as timestamp) as posted_at,
    cast(duration_s as double) as duration_s,
    source,
    run_id,
    cast(ingested_at as timestamp) as ingested_at
from source
