{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['account_id', 'day'],
    on_schema_change='fail',
    post_hook="delete from {{ this }} where account_id in (select distinct account_id from {{ this }} except select distinct account_id from {{ ref('stg_account_snapshots') }})",
  )
}}
{#-
  One row per account per UTC day, from the day of its first account snapshot to the day of its last, without
  gaps: video_daily's SQL (macros/daily_history.sql) over raw.account_snapshots, so the end-of-day values,
  interpolation, gains, observations and is_interpolated mean exactly what they mean in video_daily. Incremental
  in the same way; a build with no new account snapshots reads none. The post-hook drops accounts whose
  snapshots were deleted.
-#}
{%- set metrics = account_metrics() %}

with snapshots as not materialized (
    select account_id, observed_at, ingested_at, {{ metrics | join(', ') }}
    from {{ ref('stg_account_snapshots') }}
),

{{ daily_history_scope('snapshots', 'account_id') }}

{{ daily_history('snapshots', 'account_id', metrics) }}
