{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['label', 'day'],
    on_schema_change='fail',
    post_hook="{{ rollup_drop_placeholders() }}",
  )
}}
-- depends_on: {{ ref('int_video_groups') }}
{#- Per label per day; a video with several labels counts in each. Incremental (delete+insert on label, day): a run
    rewrites the (label, day) rows whose videos' video_daily rows changed or whose videos changed labels
    (macros/rollups.sql), from every video the label has on those days; a full build sums every day. -#}
{%- set metrics = snapshot_metrics() %}

with
{% if is_incremental() -%}
{{ rollup_incremental_scope('label', 'unnest(labels)', 'unnest(previous_labels)') }}
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
    select video_id, labels
    from {{ ref('int_videos') }}
),

video_labels as (
    select distinct video_id, unnest(labels) as label
    from videos
),

sums as (
    select
        l.label,
        d.day,
        {{ daily_rollup_columns() }}
    from daily as d
    join video_labels as l using (video_id)
    {%- if is_incremental() %}
    semi join touched as t on l.label = t.label and d.day = t.day
    {%- endif %}
    group by l.label, d.day
)

select
    label,
    day,
    videos,
    {%- for m in metrics %}
    {{ m }},
    {%- endfor %}
    {%- for m in metrics %}
    {{ m }}_gained,
    {%- endfor %}
    engagements,
    engagements_gained,
    engagement_rate,
    {{ rollup_mark() }} as snapshots_ingested_through
from (
    select * from sums
    {%- if is_incremental() %}
    union all by name
    -- touched rows no video has any more: a placeholder replaces the stale row, the post-hook drops it
    select label, day, cast(0 as bigint) as videos
    from touched
    anti join sums using (label, day)
    {%- endif %}
) as rows
