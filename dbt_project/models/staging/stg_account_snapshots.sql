-- Account snapshots typed, one row per (account_id, observed_at): raw.account_snapshots' primary key rejects
-- duplicates at load time, so no de-duplicating window here (the same reasoning as stg_snapshots).
with source as (
    select * from {{ source('raw', 'account_snapshots') }}
)

select
    cast(account_id as varchar) as account_id,
    cast(observed_at as timestamp) as observed_at,
    cast(followers as bigint) as followers,
    cast(following as bigint) as following,
    cast(likes as bigint) as likes,
    cast(video_count as bigint) as video_count,
    cast(views as bigint) as views,
    cast(nullif(trim(handle), '') as varchar) as handle,
    cast(display_name as varchar) as display_name,
    cast(platform_account_id as varchar) as platform_account_id,
    source,
    run_id,
    cast(ingested_at as timestamp) as ingested_at
from source
