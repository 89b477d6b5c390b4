{#-
  One row per campaign per UTC day: the totals of its videos, its sub-campaigns' included at any depth, each video
  counted once however it arrives (registry.campaign_videos). A video counts from the day of its first snapshot
  (video_daily). Day values are video_daily's: end-of-day views, interpolated between snapshots.
-#}
with campaign_videos as (
    select campaign_id, video_id
    from {{ ref('stg_campaign_videos') }}
),

daily as (
    select video_id, day, views, views_gained, likes, comments, shares, saves
    from {{ ref('video_daily') }}
)

select
    cv.campaign_id,
    d.day,
    cast(count(*) as bigint) as videos,
    sum(d.views) as views,
    sum(d.views_gained) as views_gained,
    sum({{ engagements('d.') }}) as engagements
from campaign_videos as cv
inner join daily as d on cv.video_id = d.video_id
group by cv.campaign_id, d.day
