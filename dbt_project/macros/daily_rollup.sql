{#- Sums of video_daily metrics and gains over a group of videos on a day, plus the number of videos and the
    group's engagement rate (over the videos whose views and engagements are both known). -#}
{% macro daily_rollup_columns(d='d') -%}
    count(*) as videos,
    {%- for m in snapshot_metrics() %}
    sum({{ d }}.{{ m }}) as {{ m }},
    {%- endfor %}
    {%- for m in snapshot_metrics() %}
    sum({{ d }}.{{ m }}_gained) as {{ m }}_gained,
    {%- endfor %}
    sum({{ d }}.engagements) as engagements,
    sum({{ d }}.engagements_gained) as engagements_gained,
    sum({{ d }}.engagements) filter (where {{ d }}.views is not null)
        / nullif(sum({{ d }}.views) filter (where {{ d }}.engagements is not null), 0) as engagement_rate
{%- endmacro %}

{#- An account's median video views count only with at least this many videos with known views (video_growth's
    outlier_multiplier and account_latest.median_video_views). -#}
{% macro median_min_videos() -%}
3
{%- endmacro %}

{% macro platforms() -%}
{{ return(['tiktok', 'youtube', 'instagram', 'x']) }}
{%- endmacro %}

{#- One `{metric}_share_{platform}` column per metric and platform: the platform's part of the group's sum, over
    the rows (`d`, with a `platform` column in `a`) whose value is known; null when nothing is known for the
    platform (no account there, or the platform hides the metric) or the sum is 0. -#}
{% macro platform_share_columns(metrics, d='d', a='a') -%}
    {%- for m in metrics %}
    {%- set outer_loop = loop %}
    {%- for p in platforms() %}
    sum({{ d }}.{{ m }}) filter (where {{ a }}.platform = '{{ p }}') / nullif(sum({{ d }}.{{ m }}), 0)
        as {{ m }}_share_{{ p }}{{ "," if not (loop.last and outer_loop.last) }}
    {%- endfor %}
    {%- endfor %}
{%- endmacro %}
