{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['account_id', 'day'],
    on_schema_change='fail',
    post_hook="{{ rollup_drop_placeholders() }}",
  )
}}
-- depends_on: {{ ref('int_video_groups') }}
{#- Per account per day: sums over the account's videos present that day, with the account's followers that day.
    Keyed by account_id (int_videos: a video's account is the registry's, else the watched account with its
    handle, else one derived from the handle), so a renamed account stays one account; platform and account (the
    handle) describe it. Videos whose account is unknown are left out. Incremental (delete+insert on account_id,
    day): a run rewrites the (account, day) rows whose videos' video_daily rows or followers changed, or whose
    videos changed account (a video's account can become known later, an account can be renamed:
    macros/rollups.sql), from every video the account has on those days; a full build sums every day. -#}
{%- set metrics = snapshot_metrics() %}

with
{% if is_incremental() -%}
{%- set followers_changed -%}
select account_id, day
from {{ ref('account_metrics_daily') }}
where snapshots_ingested_through > (select through from watermark)
{%- endset %}
{{ rollup_incremental_scope('account_id', 'account_id', 'previous_account_id', extra=followers_changed) }}
{%- endif %}

daily as (
    select
        d.video_id,
        d.day,
        {%- for m in metrics %}
        d.{{ m }},
        d.{{ m }}_gained,
        {%- endfor %}
        d.engagements,
        d.engagements_gained
    from {{ ref('video_daily') }} as d
    {%- if is_incremental() %}
    semi join touched_days using (day)
    {%- endif %}
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
    join videos as v using (video_id)
    {%- if is_incremental() %}
    semi join touched as t on v.account_id = t.account_id and d.day = t.day
    {%- endif %}
    group by v.account_id, d.day
),

rows as (
    select * from by_account
    {%- if is_incremental() %}
    union all by name
    -- touched rows no video has any more: a placeholder replaces the stale row, the post-hook drops it
    select account_id, day, cast(0 as bigint) as videos
    from touched
    anti join by_account using (account_id, day)
    {%- endif %}
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
    case when m.followers > 0 then b.engagements / m.followers end as engagement_rate_by_followers,
    {{ rollup_mark() }} as snapshots_ingested_through
from rows as b
-- a left join: a placeholder's account may be gone (every account of int_videos is in int_accounts)
left join accounts as a using (account_id)
left join account_metrics as m using (account_id, day)
