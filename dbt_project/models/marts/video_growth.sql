{#- One row per video as of its last day in video_daily: gains over 1/7/14/30 days, the last 24 hours' rate,
    and how the video compares with the other videos of its account (account_id). Rebuilt in full: one row per video, and an
    account's median moves with any of its videos. -#}
{%- set windows = [1, 7, 14, 30] %}

with daily as not materialized (
    select video_id, day, views
    from {{ ref('video_daily') }}
),

snapshot_summary as (
    select video_id, last_observed_at, views
    from {{ ref('int_video_snapshot_summary') }}
),

snapshots as (
    select video_id, observed_at, views
    from {{ ref('stg_snapshots') }}
),

videos as (
    select video_id, platform, account, account_id
    from {{ ref('int_videos') }}
),

as_of as (
    select video_id, max(day) as as_of_day
    from daily
    group by video_id
),

views_back as (
    select
        a.video_id,
        a.as_of_day,
        max(d.views) filter (where d.day = a.as_of_day) as views,
        {%- for n in windows %}
        max(d.views) filter (where d.day = a.as_of_day - {{ n }}) as views_{{ n }}d_ago{{ "," if not loop.last }}
        {%- endfor %}
    from as_of as a
    join daily as d
        on a.video_id = d.video_id and d.day >= a.as_of_day - {{ windows | max }}
    group by a.video_id, a.as_of_day
),

last_snapshot as (
    select video_id, last_observed_at, views as last_views
    from snapshot_summary
),

day_ago as (
    select video_id, last_observed_at, last_views, last_observed_at - interval 24 hour as day_ago_at
    from last_snapshot
),

day_ago_bracketed as (
    -- the snapshots bracketing 24 h before the last one, found with one hash join and aggregate (no sort of
    -- the whole history, which an ASOF join over all snapshots would need); *_null keeps a bracket's null views
    select
        d.video_id,
        d.last_observed_at,
        d.last_views,
        d.day_ago_at,
        max(s.observed_at) filter (where s.observed_at <= d.day_ago_at) as prev_at,
        arg_max_null(s.views, s.observed_at) filter (where s.observed_at <= d.day_ago_at) as prev_views,
        min(s.observed_at) filter (where s.observed_at > d.day_ago_at) as next_at,
        arg_min_null(s.views, s.observed_at) filter (where s.observed_at > d.day_ago_at) as next_views
    from day_ago as d
    join snapshots as s
        on d.video_id = s.video_id
    group by d.video_id, d.last_observed_at, d.last_views, d.day_ago_at
),

hourly_rate as (
    select
        video_id,
        last_observed_at,
        -- no snapshot at or before 24 hours ago: the history is shorter than a day
        (last_views - {{ interpolate_metric('views', 'day_ago_at', rounded=false) }}) / 24.0 as views_per_hour_24h
    from day_ago_bracketed
),

with_account as (
    select
        b.*,
        v.platform,
        v.account,
        v.account_id
    from views_back as b
    join videos as v using (video_id)
),

account_medians as (
    -- the same median as account_latest.median_video_views (which reads this table)
    select
        account_id,
        count(views) as videos_with_views,
        median(views) as median_views
    from with_account
    where account_id is not null
    group by account_id
)

select
    w.video_id,
    w.platform,
    w.account,
    w.as_of_day,
    r.last_observed_at,
    w.views,
    {%- for n in windows %}
    w.views - w.views_{{ n }}d_ago as views_gained_{{ n }}d,
    {%- endfor %}
    {%- for n in windows %}
    case when w.views_{{ n }}d_ago <> 0 then 100.0 * (w.views - w.views_{{ n }}d_ago) / w.views_{{ n }}d_ago end
        as increase_{{ n }}d_pct,
    {%- endfor %}
    r.views_per_hour_24h,
    case
        when w.account_id is null or m.videos_with_views < {{ median_min_videos() }} or m.median_views = 0 then null
        else w.views / m.median_views
    end as outlier_multiplier,
    w.account_id
from with_account as w
left join hourly_rate as r using (video_id)
left join account_medians as m using (account_id)
