{#- A metric's value at the instant `at`, linearly interpolated in time between the bracketing snapshots
    `prev_*` (last at or before `at`) and `next_*` (first after `at`); without a next snapshot, the previous
    snapshot's value (never extrapolated: callers only ask for instants after the first snapshot).
    Null when the metric is null in either bracketing snapshot. Rounded half away from zero. -#}
{% macro interpolate_metric(metric, at, prev_at='prev_at', next_at='next_at', prev='prev_', next='next_') -%}
case
    when {{ prev }}{{ metric }} is null then null
    when {{ next_at }} is null or {{ prev_at }} = {{ at }} then {{ prev }}{{ metric }}
    when {{ next }}{{ metric }} is null then null
    else cast(round(
        {{ prev }}{{ metric }}
        + ({{ next }}{{ metric }} - {{ prev }}{{ metric }})
          * (cast(date_diff('microsecond', {{ prev_at }}, {{ at }}) as double)
             / cast(date_diff('microsecond', {{ prev_at }}, {{ next_at }}) as double))
    ) as bigint)
end
{%- endmacro %}

{% macro snapshot_metrics() -%}
{{ return(['views', 'likes', 'comments', 'shares', 'saves']) }}
{%- endmacro %}
