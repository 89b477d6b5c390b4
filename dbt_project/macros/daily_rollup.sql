{#- Sums of video_daily metrics and gains over a group of videos on a day, plus the number of videos and the
    group's engagement rate (over the videos whose views and engagements are both known). -#}
{% macro daily_rollup_columns(d='d', e='e') -%}
    count(*) as videos,
    {%- for m in snapshot_metrics() %}
    sum({{ d }}.{{ m }}) as {{ m }},
    {%- endfor %}
    {%- for m in snapshot_metrics() %}
    sum({{ d }}.{{ m }}_gained) as {{ m }}_gained,
    {%- endfor %}
    sum({{ e }}.engagements) as engagements,
    sum({{ e }}.engagements_gained) as engagements_gained,
    sum({{ e }}.engagements) filter (where {{ d }}.views is not null)
        / nullif(sum({{ d }}.views) filter (where {{ e }}.engagements is not null), 0) as engagement_rate
{%- endmacro %}
