{#- Per label per day; a video with several labels counts in each. Rebuilt in full: labels can change. -#}
{%- set metrics = snapshot_metrics() %}

with daily as (
    select
        video_id,
        day,
        {%- for m in metrics %}
        {{ m }},
        {{ m }}_gained{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('video_daily') }}
),

engagement as (
    select video_id, day, engagements, engagements_gained
    from {{ ref('video_engagement') }}
),

videos as (
    select video_id, labels
    from {{ ref('int_videos') }}
),

video_labels as (
    select distinct video_id, unnest(labels) as label
    from videos
)

select
    l.label,
    d.day,
    {{ daily_rollup_columns() }}
from daily as d
join engagement as e using (video_id, day)
join video_labels as l using (video_id)
group by l.label, d.day
