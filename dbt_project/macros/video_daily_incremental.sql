{#- The incremental part of video_daily: which videos and days an incremental run recomputes.

    Emits CTEs (each followed by a comma) that replace, on an incremental run, the full build's `video_snapshots`
    (the snapshots the computation reads) and `scope` (one row per video to compute: `from_day`, the first day
    written; `compute_from_day`, the first day computed, one earlier when the video has it so that from_day's
    gains are right; `last_day`). `snapshots` names the model's import CTE of stg_snapshots.

    Videos recomputed: those with snapshots ingested after the previous run (the high-water mark
    `snapshots_ingested_through` stored in every row). Days recomputed: from the day before the snapshot that
    precedes the earliest new one, up to the video's last day. Those are exactly the days whose brackets,
    observation counts or gains a new snapshot can change: a late snapshot (backfill, import) re-interpolates the
    days it brackets, a new latest snapshot extends the history. Only snapshots from the bracket before the end of
    the day before from_day are read, so an hourly run never sorts a touched video's whole history.
-#}
{% macro video_daily_incremental_scope(snapshots='snapshots') %}
watermark as (
    select coalesce(max(snapshots_ingested_through), timestamp '-infinity') as ingested_through
    from {{ this }}
),

new_snapshots as (
    select video_id, min(observed_at) as first_new_at
    from {{ snapshots }}
    where ingested_at > (select ingested_through from watermark)
    group by video_id
),

touched_snapshots as materialized (
    -- the whole history of the touched videos, read once: the steps below only look at these videos
    select s.*
    from {{ snapshots }} as s
    semi join new_snapshots as n using (video_id)
),

touched as (
    -- per touched video: the snapshot just before its earliest new one, and its very first snapshot
    select
        n.video_id,
        n.first_new_at,
        max(s.observed_at) filter (where s.observed_at < n.first_new_at) as before_new_at,
        min(s.observed_at) as first_at
    from new_snapshots as n
    join touched_snapshots as s using (video_id)
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
    select
        r.video_id,
        r.from_day,
        r.first_at,
        least(
            cast(r.from_day - 1 as timestamp),
            coalesce(max(s.observed_at) filter (where s.observed_at <= cast(r.from_day as timestamp)), timestamp '-infinity')
        ) as floor_at
    from recompute_from as r
    join touched_snapshots as s using (video_id)
    group by r.video_id, r.from_day, r.first_at
),

video_snapshots as (
    select s.*
    from touched_snapshots as s
    join floors as f using (video_id)
    where s.observed_at >= f.floor_at
),

scope as (
    select
        f.video_id,
        f.from_day,
        -- the video's true first day bounds the extra day (video_snapshots starts at the floor)
        greatest(cast(f.first_at as date), f.from_day - 1) as compute_from_day,
        cast(max(v.observed_at) as date) as last_day
    from floors as f
    join video_snapshots as v using (video_id)
    group by f.video_id, f.from_day, f.first_at
),
{% endmacro %}
