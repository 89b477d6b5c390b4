{#- Per label per day; a video with several labels counts in each. Rebuilt in full: labels can change. -#}
with video_labels as (
    select distinct video_id, unnest(labels) as label
    from {{ ref('int_videos') }}
)

select
    l.label,
    d.day,
    {{ daily_rollup_columns() }}
from {{ ref('video_daily') }} as d
join {{ ref('video_engagement') }} as e using (video_id, day)
join video_labels as l using (video_id)
group by l.label, d.day
