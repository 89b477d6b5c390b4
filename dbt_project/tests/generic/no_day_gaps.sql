{#- Fails for each video whose days are not contiguous (video_daily has one row per day, no gaps). -#}
{% test no_day_gaps(model, partition_by='video_id', day_column='day') %}
select {{ partition_by }}, min({{ day_column }}) as first_day, max({{ day_column }}) as last_day, count(*) as days
from {{ model }}
group by {{ partition_by }}
having count(*) <> date_diff('day', min({{ day_column }}), max({{ day_column }})) + 1
{% endtest %}
