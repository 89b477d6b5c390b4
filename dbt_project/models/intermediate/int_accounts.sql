-- Every account known to the warehouse: the watched ones (registry) and those only known from their videos'
-- handles (account_id derived as in int_videos), with the handle the marts show.
with registered as (
    select account_id, platform, handle, url, is_active, discovery, labels
    from {{ ref('stg_accounts') }}
),

videos as (
    select account_id, platform, account
    from {{ ref('int_videos') }}
    where account_id is not null
),

video_accounts as (
    select account_id, any_value(platform) as platform, min(account) as handle
    from videos
    group by account_id
)

select
    coalesce(r.account_id, v.account_id) as account_id,
    coalesce(r.platform, v.platform) as platform,
    -- without a known handle (a channel watched by its id, not discovered yet) the id's own part stands in
    coalesce(
        r.handle,
        v.handle,
        substr(coalesce(r.account_id, v.account_id), strpos(coalesce(r.account_id, v.account_id), ':') + 1)
    ) as handle,
    r.account_id is not null as is_watched,
    coalesce(r.is_active, false) as is_active,
    r.url,
    r.discovery,
    coalesce(r.labels, cast([] as varchar[])) as labels
from registered as r
full outer join video_accounts as v
    on r.account_id = v.account_id
