{#- Per account per day: sums over the account's videos present that day, with the account's followers that day.
    Keyed by account_id (int_videos: a video's account is the registry's, else the watched account with its
    handle, else one derived from the handle), so a renamed account stays one account; platform and account (the
    handle) describe it. Rebuilt in full: a video's account can become known later, and the sums are cheap
    compared with video_daily. Videos whose account is unknown are left out. -#}
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
    select video_id, account_id
    from {{ ref('int_videos') }}
    where account_id is not null
),

accounts as (
    select account_id, platform, handle
    from {{ ref('int_accounts') }}
),

account_metrics as (
    select account_id, day, followers
    from {{ ref('account_metrics_daily') }}
),

by_account as (
    select
        v.account_id,
        d.day,
        {{ daily_rollup_columns() }}
    from daily as d
    join engagement as e using (video_id, day)
    join videos as v using (video_id)
    group by v.account_id, d.day
)

select
    a.platform,
    a.handle as account,
    b.day,
    b.videos,
    {%- for m in metrics %}
    b.{{ m }},
    {%- endfor %}
    {%- for m in metrics %}
    b.{{ m }}_gained,
    {%- endfor %}
    b.engagements,
    b.engagements_gained,
    b.engagement_rate,
    b.account_id,
    m.followers,
    case when m.followers > 0 then b.engagements / m.followers end as engagement_rate_by_followers
from by_account as b
join accounts as a using (account_id)
left join account_metrics as m using (account_id, day)
