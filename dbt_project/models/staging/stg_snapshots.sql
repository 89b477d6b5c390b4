-- Snapshots typed and de-duplicated: one row per (video_id, observed_at). raw.snapshots' primary key already
-- forbids duplicates; this keeps the marts correct even if a future loader or an attached copy lacks it
-- (the earliest ingested row wins, which is also what ON CONFLICT DO NOTHING keeps).
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
from {{ source('raw', 'snapshots') }}
qualify row_number() over (partition by video_id, observed_at order by ingested_at, source, run_id) = 1
