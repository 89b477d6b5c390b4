{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['video_id', 'day'],
    on_schema_change='fail',
    post_hook="delete from {{ this }} where video_id in (select distinct video_id from {{ this }} except select distinct video_id from {{ ref('stg_snapshots') }})",
  )
}}
{#-
  One row per video per UTC day, from the day of its first snapshot to the day of its last, without gaps.
  A day's value is the metric at the end of the day (next day 00:00), linearly interpolated in time between
  the bracketing snapshots (ASOF joins), or the last snapshot's value on the last day.

  Reading order: import -> scope (which videos and days to compute) -> day spine -> brackets -> values -> gains.
  The import CTE is `not materialized`: it is read several times, and DuckDB would otherwise copy every snapshot
  (12M rows at 100k videos) into a temporary result instead of scanning the columns each step needs.
  Only the scope differs between a full build (every video, every day) and an incremental run (the videos with
  newly ingested snapshots, from the first day they can change: macros/video_daily_incremental.sql); the rest
  is the same SQL either way. The post-hook drops videos whose snapshots were deleted (`viewtrail delete`).
-#}
{%- set metrics = snapshot_metrics() %}

with snapshots as not materialized (
    select video_id, observed_at, ingested_at, {{ metrics | join(', ') }}
    from {{ ref('stg_snapshots') }}
),

{% if is_incremental() -%}
{{ video_daily_incremental_scope('snapshots') }}
{%- else -%}
video_snapshots as not materialized (
    select * from snapshots
),

scope as (
    select
        video_id,
        cast(min(observed_at) as date) as from_day,
        cast(min(observed_at) as date) as compute_from_day,
        cast(max(observed_at) as date) as last_day
    from video_snapshots
    group by video_id
),
{%- endif %}

spine as (
    -- the days computed: compute_from_day (one before from_day when it exists, for from_day's gains) .. last_day
    select
        video_id,
        from_day,
        cast(unnest(generate_series(
            cast(compute_from_day as timestamp), cast(last_day as timestamp), interval 1 day
        )) as date) as day
    from scope
),

day_ends as (
    select video_id, from_day, day, cast(day as timestamp) + interval 1 day as day_end
    from spine
),

bracketed as (
    -- the last snapshot at or before the end of the day, and the first one after it
    select
        d.video_id,
        d.from_day,
        d.day,
        d.day_end,
        prev_snap.observed_at as prev_at,
        next_snap.observed_at as next_at,
        {%- for m in metrics %}
        prev_snap.{{ m }} as prev_{{ m }},
        next_snap.{{ m }} as next_{{ m }}{{ "," if not loop.last }}
        {%- endfor %}
    from day_ends as d
    asof left join video_snapshots as prev_snap
        on d.video_id = prev_snap.video_id and d.day_end >= prev_snap.observed_at
    asof left join video_snapshots as next_snap
        on d.video_id = next_snap.video_id and d.day_end < next_snap.observed_at
),

observations_per_day as (
    select video_id, cast(observed_at as date) as day, count(*) as observations
    from video_snapshots
    group by all
),

day_values as (
    select
        b.video_id,
        b.from_day,
        b.day,
        {%- for m in metrics %}
        {{ interpolate_metric(m, 'b.day_end', prev_at='b.prev_at', next_at='b.next_at', prev='b.prev_', next='b.next_') }} as {{ m }},
        {%- endfor %}
        coalesce(o.observations, 0) as observations
    from bracketed as b
    left join observations_per_day as o
        on b.video_id = o.video_id and b.day = o.day
),

with_gains as (
    select
        *,
        {%- for m in metrics %}
        {{ m }} - lag({{ m }}) over w as {{ m }}_gained,
        {%- endfor %}
    from day_values
    window w as (partition by video_id order by day)
)

select
    video_id,
    day,
    {%- for m in metrics %}
    {{ m }},
    {%- endfor %}
    {%- for m in metrics %}
    {{ m }}_gained,
    {%- endfor %}
    cast(observations as integer) as observations,
    observations = 0 as is_interpolated,
    (select max(all_snapshots.ingested_at) from snapshots as all_snapshots) as snapshots_ingested_through
from with_gains
where day >= from_day
