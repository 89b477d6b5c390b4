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
  Engagement per video per day, same grain as video_daily. Incremental runs rewrite the video_daily rows that
  the latest video_daily run rewrote (their snapshots_ingested_through is newer than ours), computing the
  first of them from the day before so engagements_gained is right. The pre-hook drops the videos deleted since
  the last build (macros/deleted_videos.sql).
-#}

with daily as not materialized (
    select video_id, day, views, likes, comments, shares, saves, views_gained, snapshots_ingested_through
    from {{ ref('video_daily') }}
),

{% if is_incremental() -%}
-- incremental scope: the video_daily rows rewritten since our own high-water mark, plus the day before each
-- video's first rewritten day (it only feeds that day's gain and is not written)
changed as (
    select video_id, min(day) as from_day
    from daily
    where snapshots_ingested_through > (
        select coalesce(max(previous.snapshots_ingested_through), timestamp '-infinity') from {{ this }} as previous
    )
    group by video_id
),

source_days as (
    select d.*, c.from_day
    from daily as d
    join changed as c using (video_id)
    where d.day >= c.from_day - 1
),
{%- else -%}
source_days as (
    select *, date '0001-01-01' as from_day
    from daily
),
{%- endif %}

with_engagements as (
    select
        *,
        {{ engagements() }} as engagements
    from source_days
),

with_gains as (
    select
        *,
        engagements - lag(engagements) over (partition by video_id order by day) as engagements_gained
    from with_engagements
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
from with_gains
where day >= from_day
