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

  Incremental runs recompute, for each video that received snapshots ingested after the previous run
  (high-water mark `snapshots_ingested_through`), every day from the day before the snapshot preceding the
  earliest new one up to its last day: exactly the days whose brackets, observation counts or gains can change.
  The post-hook drops videos whose snapshots were deleted (`viewtrail delete`).
-#}
{%- set metrics = snapshot_metrics() %}

with snapshots as (
    select video_id, observed_at, ingested_at, {{ metrics | join(', ') }}
    from {{ ref('stg_snapshots') }}
),

{% if is_incremental() %}
watermark as (
    select coalesce(max(snapshots_ingested_through), timestamp '-infinity') as ingested_through
    from {{ this }}
),

new_snapshots as (
    select video_id, min(observed_at) as first_new_at
    from snapshots
    where ingested_at > (select ingested_through from watermark)
    group by video_id
),

touched as (
    -- per touched video: the snapshot just before its earliest new one, and its very first snapshot
    select
        n.video_id,
        n.first_new_at,
        max(s.observed_at) as before_new_at,
        least(min(s.observed_at), n.first_new_at) as first_at
    from new_snapshots as n
    left join snapshots as s
        on s.video_id = n.video_id and s.observed_at < n.first_new_at
    group by n.video_id, n.first_new_at
),

recompute_from as (
    -- the previous snapshot's day bounds the first day whose bracket includes the new snapshot; one more day
    -- before it covers an end-of-day instant that falls exactly on that previous snapshot
    select
        video_id,
        first_at,
        cast(coalesce(before_new_at, first_new_at) as date) - 1 as from_day
    from touched
),

floors as (
    -- the oldest snapshot the recomputation needs: the bracket before the end of the day before from_day
    -- (reading only from there keeps an hourly run from sorting each touched video's whole history)
    select
        r.video_id,
        r.from_day,
        r.first_at,
        least(
            cast(r.from_day - 1 as timestamp),
            coalesce(max(s.observed_at), timestamp '-infinity')
        ) as floor_at
    from recompute_from as r
    left join snapshots as s
        on s.video_id = r.video_id and s.observed_at <= cast(r.from_day as timestamp)
    group by r.video_id, r.from_day, r.first_at
),

video_snapshots as (
    select s.*
    from snapshots as s
    join floors as f
        on s.video_id = f.video_id and s.observed_at >= f.floor_at
),
{% else %}
video_snapshots as (
    select * from snapshots
),
{% endif %}

bounds as (
    select
        video_id,
        cast(min(observed_at) as date) as first_day,
        cast(max(observed_at) as date) as last_day
    from video_snapshots
    group by video_id
),

compute_range as (
    -- days whose values we compute: one extra day before the output range gives the first output day's gain
    select
        b.video_id,
        b.last_day,
        {% if is_incremental() -%}
        f.from_day,
        -- the video's true first day (video_snapshots starts at the floor, not at the first snapshot)
        greatest(cast(f.first_at as date), f.from_day - 1) as compute_from_day
        {%- else -%}
        b.first_day as from_day,
        b.first_day as compute_from_day
        {%- endif %}
    from bounds as b
    {% if is_incremental() -%}
    join floors as f using (video_id)
    {%- endif %}
),

spine as (
    select
        video_id,
        from_day,
        cast(unnest(generate_series(
            cast(compute_from_day as timestamp), cast(last_day as timestamp), interval 1 day
        )) as date) as day
    from compute_range
),

day_ends as (
    select video_id, from_day, day, cast(day as timestamp) + interval 1 day as day_end
    from spine
),

bracketed as (
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
        on o.video_id = b.video_id and o.day = b.day
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
    (select max(ingested_at) from snapshots) as snapshots_ingested_through
from with_gains
where day >= from_day
