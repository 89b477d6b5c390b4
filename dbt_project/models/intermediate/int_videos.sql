-- Every video known to the warehouse, tracked or only imported, with the platform and account it belongs to.
-- The registry is authoritative; a video that has snapshots but no registry row (imported history) still
-- counts, with its platform from the video id and its account from its latest snapshot.
-- account_id: the registry's, else the watched account with the video's handle on its platform, else
-- `{platform}:{handle lower-cased}` (the id the account gets when it is watched); null without a handle.
with registry as (
    select video_id, platform, account, account_id, labels
    from {{ ref('stg_videos') }}
),

snapshot_summary as (
    select video_id, account
    from {{ ref('int_video_snapshot_summary') }}
),

watched_handles as (
    -- one account per handle and platform (two rows only if a renamed account's old handle was watched anew:
    -- the active one wins)
    select platform, lower(handle) as handle_key, account_id
    from {{ ref('stg_accounts') }}
    where handle is not null
    qualify row_number() over (partition by platform, lower(handle) order by is_active desc, account_id asc) = 1
),

videos as (
    select
        coalesce(v.video_id, s.video_id) as video_id,
        coalesce(v.platform, split_part(s.video_id, ':', 1)) as platform,
        coalesce(v.account, s.account) as account,
        v.account_id as registered_account_id,
        coalesce(v.labels, cast([] as varchar[])) as labels,
        v.video_id is not null as is_registered
    from registry as v
    full outer join snapshot_summary as s
        on v.video_id = s.video_id
)

select
    v.video_id,
    v.platform,
    v.account,
    coalesce(v.registered_account_id, w.account_id, v.platform || ':' || lower(v.account)) as account_id,
    v.labels,
    v.is_registered
from videos as v
left join watched_handles as w
    on v.platform = w.platform and lower(v.account) = w.handle_key
