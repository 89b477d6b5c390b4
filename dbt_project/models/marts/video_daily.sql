{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['video_id', 'day'],
    on_schema_change='fail',
    pre_hook=[
      "{{ drop_deleted_videos('snapshots_ingested_through') }}",
      "{{ video_daily_full_build_by_bucket() }}",
    ],
    post_hook="drop table if exists {{ video_daily_bucket_table() }}",
  )
}}
{#-
  One row per video per UTC day, from the day of its first snapshot to the day of its last, without gaps.
  A day's value is the metric at the end of the day (next day 00:00), linearly interpolated in time between
  the bracketing snapshots, or the last snapshot's value on the last day. Engagements (likes + comments + shares +
  saves, unknown shares or saves as 0) and what the day gained ride along, so that video_engagement and the
  roll-ups read this one table (joining it to video_engagement cost a 140M x 140M-row join at 1M videos x 365 days).

  Reading order: import -> scope (which videos and days to compute) -> segments between snapshots -> days -> values -> gains,
  all in macros/daily_history.sql (account_metrics_daily is the same SQL over account snapshots).
  The import CTE is `not materialized`: it is read several times, and DuckDB would otherwise copy every snapshot
  (12M rows at 100k videos) into a temporary result instead of scanning the columns each step needs.
  Only the scope differs between a full build (every video, every day) and an incremental run (the videos with
  newly ingested snapshots, from the first day they can change: daily_history_incremental_scope); the rest
  is the same SQL either way. The pre-hook drops the videos deleted (`viewtrail delete`) since the last build
  (macros/deleted_videos.sql).
-#}
{%- if not is_incremental() and video_daily_buckets() > 1 %}
{#- a full build, computed bucket by bucket by the pre-hook (macros/video_daily.sql) -#}
select * from {{ video_daily_bucket_table() }}
{%- else %}
{{ video_daily_sql() }}
{%- endif %}
