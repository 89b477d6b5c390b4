{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['video_id', 'day'],
    on_schema_change='fail',
    pre_hook="{{ drop_deleted_videos('snapshots_ingested_through') }}",
  )
}}
{#-
  Engagement per video per day, same grain as video_daily, whose rows carry the engagements and their gains: this
  adds the rates. Incremental runs rewrite the video_daily rows that the latest video_daily run rewrote (their
  snapshots_ingested_through is newer than ours). The pre-hook drops the videos deleted since the last build
  (macros/deleted_videos.sql).
-#}

with daily as (
    select video_id, day, views, views_gained, engagements, engagements_gained, snapshots_ingested_through
    from {{ ref('video_daily') }}
    {%- if is_incremental() %}
    -- video_daily appends each run's rows: the zone maps of snapshots_ingested_through skip the older ones
    where snapshots_ingested_through > (
        select coalesce(max(previous.snapshots_ingested_through), timestamp '-infinity') from {{ this }} as previous
    )
    {%- endif %}
)

select
    video_id,
    day,
    views,
    views_gained,
    engagements,
    engagements_gained,
    case when views > 0 then engagements / views end as engagement_rate,
    case when views_gained > 0 then engagements_gained / views_gained end as daily_engagement_rate,
    snapshots_ingested_through
from daily
