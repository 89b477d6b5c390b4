{#- One row per video: registry fields, the latest snapshot, and the scrape attempt history in brief.
    Videos with imported history but no registry row are included (is_registered = false). -#}

with videos as (
    select video_id, platform, account, account_id, labels, is_registered
    from {{ ref('int_videos') }}
),

registry as (
    select
        video_id, external_id, url, metadata, is_active, cadence, track_until, added_at, stopped_at,
        availability, consecutive_not_found, posted_at
    from {{ ref('stg_videos') }}
),

snapshot_summary as (
    select
        video_id, title, posted_at, duration_s, views, likes, comments, shares, saves, first_observed_at,
        last_observed_at, snapshot_count
    from {{ ref('int_video_snapshot_summary') }}
),

attempt_summary as (
    select
        video_id, first_attempt_at, last_attempt_at, attempt_count, last_outcome, last_http_status, last_detail,
        consecutive_failures
    from {{ ref('int_video_attempt_summary') }}
)

select
    iv.video_id,
    iv.platform,
    coalesce(v.external_id, substr(iv.video_id, strpos(iv.video_id, ':') + 1)) as external_id,
    v.url,
    iv.account,
    iv.labels,
    v.metadata,
    iv.is_registered,
    coalesce(v.is_active, false) as is_active,
    case
        when not iv.is_registered then 'untracked'
        when v.is_active then 'active'
        else 'stopped'
    end as status,
    v.cadence,
    v.track_until,
    v.added_at,
    v.stopped_at,
    v.availability,
    v.consecutive_not_found,
    s.title,
    coalesce(v.posted_at, s.posted_at) as posted_at,
    s.duration_s,
    s.views,
    s.likes,
    s.comments,
    s.shares,
    s.saves,
    s.first_observed_at,
    s.last_observed_at,
    coalesce(s.snapshot_count, 0) as snapshot_count,
    a.first_attempt_at,
    a.last_attempt_at,
    coalesce(a.attempt_count, 0) as attempt_count,
    a.last_outcome,
    a.last_http_status,
    a.last_detail,
    coalesce(a.consecutive_failures, 0) as consecutive_failures,
    iv.account_id
from videos as iv
left join registry as v using (video_id)
left join snapshot_summary as s using (video_id)
left join attempt_summary as a using (video_id)
