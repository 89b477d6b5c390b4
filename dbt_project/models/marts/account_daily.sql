{#- Per account (platform + account) per day. Rebuilt in full: a video's account can become known later, and the
    sums are cheap compared with video_daily. Videos whose account is unknown are left out. -#}
{%- set metrics = snapshot_metrics() %}

with daily as (
    select
        video_id,
        day,
        {%- for m in metrics %}
        {{ m }},
        {{ m }}_gained{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('video_daily') }}
),

engagement as (
    select video_id, day, engagements, engagements_gained
    from {{ ref('video_engagement') }}
),

videos as (
    select video_id, platform, account
    from {{ ref('int_videos') }}
    where account is not null
)

select
    v.platform,
    v.account,
    d.day,
    {{ daily_rollup_columns() }}
from daily as d
join engagement as e using (video_id, day)
join videos as v using (video_id)
group by v.platform, v.account, d.day
