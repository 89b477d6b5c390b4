-- Materialized: several marts read it, and it aggregates the whole snapshot history.
{{ config(materialized='table') }}
-- Per video: first/last snapshot times, snapshot count, and the latest snapshot's counters and content fields
-- (counters are the latest snapshot's own, null included; content fields take the latest non-null value: a
-- platform may omit a title in one response).
with snapshots as (
    select * from {{ ref('stg_snapshots') }}
)

select
    video_id,
    min(observed_at) as first_observed_at,
    max(observed_at) as last_observed_at,
    count(*) as snapshot_count,
    arg_max_null(views, observed_at) as views,
    arg_max_null(likes, observed_at) as likes,
    arg_max_null(comments, observed_at) as comments,
    arg_max_null(shares, observed_at) as shares,
    arg_max_null(saves, observed_at) as saves,
    arg_max(title, observed_at) filter (where title is not null) as title,
    arg_max(account, observed_at) filter (where account is not null) as account,
    arg_max(posted_at, observed_at) filter (where posted_at is not null) as posted_at,
    arg_max(duration_s, observed_at) filter (where duration_s is not null) as duration_s,
    arg_max_null(source, observed_at) as source,
    max(ingested_at) as last_ingested_at
from snapshots
group by video_id
