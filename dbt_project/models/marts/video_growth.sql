{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='video_id',
    on_schema_change='fail',
    pre_hook="{{ drop_deleted_videos('snapshots_ingested_through') }}",
  )
}}
-- depends_on: {{ ref('int_video_groups') }}
{#- One row per video as of its last day in video_daily: gains over 1/7/14/30 days, the last 24 hours' rate,
    and how the video compares with the other videos of its account (account_id).

    Incremental (delete+insert on video_id): a run recomputes from video_daily and the snapshots only the videos
    whose video_daily rows changed since its mark (the write clock of its previous run, as in the rollups:
    macros/rollups.sql), reading their last 31 days; the other videos of the accounts those videos are in, were in
    or that a video joined or left (int_video_groups), keep their stored values and get their account's new median
    (outlier_multiplier); a video that changed platform, handle or account without new snapshots keeps its values
    under its new account. The pre-hook drops the videos deleted since the last run (macros/deleted_videos.sql). -#}
{%- set windows = [1, 7, 14, 30] %}

with videos as (
    select video_id, platform, account, account_id
    from {{ ref('int_videos') }}
),

{% if is_incremental() -%}
watermark as (
    select coalesce(max(previous.snapshots_ingested_through), timestamp '-infinity') as through
    from {{ this }} as previous
),

changed_days as (
    -- video_daily appends each run's rows: the zone maps of snapshots_ingested_through skip the older ones
    select video_id, day
    from {{ ref('video_daily') }}
    where snapshots_ingested_through > (select w.through from watermark as w)
),

recomputed as (
    select distinct video_id
    from changed_days
),

window_days as (
    -- a recomputed video's last day is among its changed days: its 30-day window starts after the earliest one
    select cast(unnest(generate_series(
        cast(min(day) - {{ windows | max }} as timestamp), cast(max(day) as timestamp), interval 1 day
    )) as date) as day
    from changed_days
),

daily as not materialized (
    select d.video_id, d.day, d.views
    from {{ ref('video_daily') }} as d
    semi join window_days using (day)
    semi join recomputed using (video_id)
),

snapshot_summary as (
    select s.video_id, s.last_observed_at, s.views
    from {{ ref('int_video_snapshot_summary') }} as s
    semi join recomputed using (video_id)
),

snapshots as (
    select s.video_id, s.observed_at, s.views
    from {{ ref('stg_snapshots') }} as s
    semi join recomputed using (video_id)
),
{%- else -%}
daily as not materialized (
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
{%- endif %}

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

computed as (
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
        w.account_id
    from with_account as w
    left join hourly_rate as r using (video_id)
),

{% if is_incremental() -%}
moved as (
    -- platform, handle or account changed without new snapshots
    select v.video_id
    from videos as v
    join {{ this }} as p using (video_id)
    where
        v.platform is distinct from p.platform
        or v.account is distinct from p.account
        or v.account_id is distinct from p.account_id
),

group_changes as (
    select account_id, previous_account_id
    from {{ ref('int_video_groups') }}
    where changed_at >= (select w.through from watermark as w)
),

touched_accounts as (
    select v.account_id from videos as v semi join recomputed using (video_id)
    union
    select v.account_id from videos as v semi join moved using (video_id)
    union
    select p.account_id from {{ this }} as p semi join recomputed using (video_id)
    union
    select account_id from group_changes
    union
    select previous_account_id from group_changes
),

kept as (
    -- the stored values of the other videos of the touched accounts (and of the moved ones), under their
    -- current platform, handle and account
    select
        p.video_id,
        v.platform,
        v.account,
        p.as_of_day,
        p.last_observed_at,
        p.views,
        {%- for n in windows %}
        p.views_gained_{{ n }}d,
        {%- endfor %}
        {%- for n in windows %}
        p.increase_{{ n }}d_pct,
        {%- endfor %}
        p.views_per_hour_24h,
        v.account_id
    from {{ this }} as p
    join videos as v using (video_id)
    where
        (v.account_id in (select t.account_id from touched_accounts as t) or v.video_id in (select m.video_id from moved as m))
        and v.video_id not in (select r.video_id from recomputed as r)
),

growth_rows as (
    select * from computed
    union all by name
    select * from kept
),
{%- else -%}
growth_rows as (
    select * from computed
),
{%- endif %}

account_medians as (
    -- the same median as account_latest.median_video_views (which reads this table)
    select
        account_id,
        count(views) as videos_with_views,
        median(views) as median_views
    from growth_rows
    where account_id is not null
    group by account_id
)

select
    g.video_id,
    g.platform,
    g.account,
    g.as_of_day,
    g.last_observed_at,
    g.views,
    {%- for n in windows %}
    g.views_gained_{{ n }}d,
    {%- endfor %}
    {%- for n in windows %}
    g.increase_{{ n }}d_pct,
    {%- endfor %}
    g.views_per_hour_24h,
    case
        when g.account_id is null or m.videos_with_views < {{ median_min_videos() }} or m.median_views = 0 then null
        else g.views / m.median_views
    end as outlier_multiplier,
    g.account_id,
    {{ rollup_mark() }} as snapshots_ingested_through
from growth_rows as g
left join account_medians as m using (account_id)
