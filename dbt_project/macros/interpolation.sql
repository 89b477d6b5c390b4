{#- A metric's value at the instant `at`, linearly interpolated in time between the bracketing snapshots
    `prev_*` (last at or before `at`) and `next_*` (first after `at`); without a next snapshot, the previous
    snapshot's value (never extrapolated: callers only ask for instants after the first snapshot).
    Null when the metric is null in either bracketing snapshot, except when a snapshot sits exactly at `at`
    (its value is then known, not interpolated). Rounded half away from zero unless rounded=false. -#}
{% macro interpolate_metric(metric, at, prev_at='prev_at', next_at='next_at', prev='prev_', next='next_', rounded=true) -%}
case
    when {{ prev }}{{ metric }} is null then null
    when {{ next_at }} is null or {{ prev_at }} = {{ at }} then {{ prev }}{{ metric }}
    when {{ next }}{{ metric }} is null then null
    else {% if rounded %}cast(round({% endif %}
        {{ prev }}{{ metric }}
        + ({{ next }}{{ metric }} - {{ prev }}{{ metric }})
          * (cast(date_diff('microsecond', {{ prev_at }}, {{ at }}) as double)
             / cast(date_diff('microsecond', {{ prev_at }}, {{ next_at }}) as double))
    {% if rounded %}) as bigint){% endif %}
end
{%- endmacro %}

{% macro snapshot_metrics() -%}
{{ return(['views', 'likes', 'comments', 'shares', 'saves']) }}
{%- endmacro %}

{% macro account_metrics() -%}
{{ return(['followers', 'following', 'likes', 'video_count', 'views']) }}
{%- endmacro %}
