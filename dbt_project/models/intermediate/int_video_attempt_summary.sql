{#- Per video: scrape attempt history summarised (last outcome, failures since the last success).

    Materialized (video_latest reads it) and incremental like int_video_snapshot_summary: a video's row depends only
    on its own attempts, so a run recomputes, from all their attempts, the videos with attempts ingested after the
    previous run (the newest last_ingested_at stored), and keeps the others' rows as they are; the pre-hook drops
    the videos deleted (`viewtrail delete`) since the last build. Same rows as a full rebuild; as a view it
    aggregated every attempt of the history each hour (3-7 s at 100k videos x 365 days). An earlier version's view
    of the same name is replaced by a full build on the next run (dbt's incremental materialization does that). -#}
{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='video_id',
    on_schema_change='fail',
    pre_hook="{{ drop_deleted_videos('last_ingested_at') }}",
  )
}}

with attempts as not materialized (
    select video_id, attempted_at, outcome, http_status, detail, ingested_at
    from {{ ref('stg_scrape_attempts') }}
),

{% if is_incremental() -%}
-- incremental scope: every attempt of the videos that received attempts since the previous run
changed_videos as (
    select distinct video_id
    from attempts
    where ingested_at > (
        select coalesce(max(previous.last_ingested_at), timestamp '-infinity') from {{ this }} as previous
    )
),

video_attempts as (
    select a.*
    from attempts as a
    semi join changed_videos using (video_id)
),
{%- else -%}
video_attempts as (
    select * from attempts
),
{%- endif %}

with_last_ok as (
    select
        *,
        max(case when outcome = 'ok' then attempted_at end) over (partition by video_id) as last_ok_at
    from video_attempts
)

select
    video_id,
    count(*) as attempt_count,
    min(attempted_at) as first_attempt_at,
    max(attempted_at) as last_attempt_at,
    arg_max(outcome, attempted_at) as last_outcome,
    arg_max_null(http_status, attempted_at) as last_http_status,
    arg_max_null(detail, attempted_at) as last_detail,
    max(last_ok_at) as last_ok_at,
    cast(count(*) filter (where attempted_at > coalesce(last_ok_at, timestamp '-infinity')) as integer)
        as consecutive_failures,
    max(ingested_at) as last_ingested_at
from with_last_ok
group by video_id
