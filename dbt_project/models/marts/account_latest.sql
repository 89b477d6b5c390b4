{#- One row per account (int_accounts: watched, or only known from its videos): registry fields, the latest
    account snapshot, follower growth, its videos in brief (median views as video_growth's outlier_multiplier
    uses it, posting rate) and the discovery attempts in brief. Rebuilt in full: one row per account, and an
    account's videos and creators can change. -#}
{%- set metrics = account_metrics() %}

with accounts as (
    select account_id, platform, handle, is_watched, is_active, url, discovery, labels
    from {{ ref('int_accounts') }}
),

account_snapshots as (
    select account_id, observed_at, display_name, {{ metrics | join(', ') }}
    from {{ ref('stg_account_snapshots') }}
),

metrics_daily as (
    select account_id, day, followers
    from {{ ref('account_metrics_daily') }}
),

videos as (
    select video_id, account_id, posted_at, last_observed_at, likes, comments, shares, saves, views
    from {{ ref('video_latest') }}
    where account_id is not null
),

growth as (
    select account_id, views
    from {{ ref('video_growth') }}
    where account_id is not null
),

attempts as (
    select account_id, attempted_at, outcome
    from {{ ref('stg_account_attempts') }}
),

links as (
    select creator_id, account_id
    from {{ ref('stg_creator_accounts') }}
),

snapshot_summary as (
    -- counters are the latest snapshot's own (null included: a hidden count is unknown now, not the older value)
    select
        account_id,
        min(observed_at) as first_observed_at,
        max(observed_at) as last_observed_at,
        count(*) as snapshot_count,
        {%- for m in metrics %}
        arg_max_null({{ m }}, observed_at) as {{ m }},
        {%- endfor %}
        arg_max(display_name, observed_at) filter (where display_name is not null) as display_name
    from account_snapshots
    group by account_id
),

last_days as (
    select account_id, max(day) as last_day
    from metrics_daily
    group by account_id
),

followers_back as (
    select
        l.account_id,
        max(m.followers) filter (where m.day = l.last_day) as followers_last_day,
        max(m.followers) filter (where m.day = l.last_day - 7) as followers_7d_ago,
        max(m.followers) filter (where m.day = l.last_day - 30) as followers_30d_ago
    from last_days as l
    join metrics_daily as m
        on l.account_id = m.account_id and m.day in (l.last_day, l.last_day - 7, l.last_day - 30)
    group by l.account_id
),

video_summary as (
    select
        account_id,
        count(*) as tracked_videos,
        sum(views) as tracked_video_views,
        sum({{ engagements() }}) as tracked_video_engagements,
        max(posted_at) as last_posted_at,
        max(last_observed_at) as videos_last_observed_at
    from videos
    group by account_id
),

medians as (
    -- video_growth's base of outlier_multiplier: the median of views of all the account's videos
    select account_id, count(views) as videos_with_views, median(views) as median_views
    from growth
    group by account_id
),

as_of as (
    select
        a.account_id,
        greatest(s.last_observed_at, v.videos_last_observed_at) as as_of_at
    from accounts as a
    left join snapshot_summary as s using (account_id)
    left join video_summary as v using (account_id)
),

posting as (
    select
        o.account_id,
        count(v.video_id) / 4.0 as posts_per_week
    from as_of as o
    left join videos as v
        on
            o.account_id = v.account_id
            and o.as_of_at - interval 28 day < v.posted_at
            and o.as_of_at >= v.posted_at
    where o.as_of_at is not null
    group by o.account_id
),

attempts_with_last_ok as (
    select
        *,
        max(case when outcome = 'ok' then attempted_at end) over (partition by account_id) as last_ok_at
    from attempts
),

attempt_summary as (
    select
        account_id,
        max(attempted_at) as last_attempt_at,
        arg_max(outcome, attempted_at) as last_outcome,
        cast(
            count(*) filter (
                where attempted_at > coalesce(last_ok_at, timestamp '-infinity')
            ) as integer
        ) as consecutive_failures
    from attempts_with_last_ok
    group by account_id
),

creators as (
    select account_id, list_sort(list(creator_id)) as creator_ids
    from links
    group by account_id
)

select
    a.account_id,
    a.platform,
    a.handle as account,
    s.display_name,
    a.url,
    a.is_watched,
    a.is_active,
    a.discovery,
    a.labels,
    coalesce(c.creator_ids, cast([] as varchar[])) as creator_ids,
    s.first_observed_at,
    s.last_observed_at,
    coalesce(s.snapshot_count, 0) as snapshot_count,
    {%- for m in metrics %}
    s.{{ m }},
    {%- endfor %}
    f.followers_last_day - f.followers_7d_ago as followers_gained_7d,
    f.followers_last_day - f.followers_30d_ago as followers_gained_30d,
    coalesce(v.tracked_videos, 0) as tracked_videos,
    v.tracked_video_views,
    v.tracked_video_engagements,
    coalesce(m.videos_with_views, 0) as videos_with_views,
    case when m.videos_with_views >= {{ median_min_videos() }} then m.median_views end as median_video_views,
    v.last_posted_at,
    o.as_of_at,
    p.posts_per_week,
    t.last_attempt_at,
    t.last_outcome,
    coalesce(t.consecutive_failures, 0) as consecutive_failures
from accounts as a
left join snapshot_summary as s using (account_id)
left join followers_back as f using (account_id)
left join video_summary as v using (account_id)
left join medians as m using (account_id)
left join as_of as o using (account_id)
left join posting as p using (account_id)
left join attempt_summary as t using (account_id)
left join creators as c using (account_id)
