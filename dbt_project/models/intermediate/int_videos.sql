-- Every video known to the warehouse, tracked or only imported, with the platform and account it belongs to.
-- The registry is authoritative; a video that has snapshots but no registry row (imported history) still
-- counts, with its platform from the video id and its account from its latest snapshot.
with registry as (
    select video_id, platform, account, labels
    from {{ ref('stg_videos') }}
),

snapshot_summary as (
    select video_id, account
    from {{ ref('int_video_snapshot_summary') }}
)

select
    coalesce(v.video_id, s.video_id) as video_id,
    coalesce(v.platform, split_part(s.video_id, ':', 1)) as platform,
    coalesce(v.account, s.account) as account,
    coalesce(v.labels, cast([] as varchar[])) as labels,
    v.video_id is not null as is_registered
from registry as v
full outer join snapshot_summary as s
    on v.video_id = s.video_id
