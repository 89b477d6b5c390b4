{#- video_daily's SQL (the model is this plus its config), for every video or, on a full build, one bucket of them.

    A full build of a large warehouse computes video_daily in buckets of videos (var video_daily_buckets, default 8,
    by hash(video_id)): the day rows and the window of gains are videos x days rows, and in one query
    their sorts outgrow DuckDB's memory limit (at 100k videos x 365 days, a 600MB limit ran out of memory in one
    query and not in 4 buckets); per bucket they are a bucket's size. The pre-hook writes the buckets one query each
    into a scratch table the model then copies; the post-hook drops it. With 1 bucket, or on an incremental run
    (the touched videos only), the model is the one query. -#}
{% macro video_daily_sql(bucket=none, buckets=1) %}
{%- set metrics = snapshot_metrics() %}

with snapshots as not materialized (
    select video_id, observed_at, ingested_at, {{ metrics | join(', ') }}
    from {{ ref('stg_snapshots') }}
),

{{ daily_history_scope('snapshots', 'video_id', bucket, buckets) }}

{{ daily_history('snapshots', 'video_id', metrics, derived={'engagements': engagements()}) }}
{% endmacro %}

{% macro video_daily_buckets() %}
{{ return(var('video_daily_buckets', 8) | int) }}
{% endmacro %}

{% macro video_daily_bucket_table() %}
{#- no `this` while dbt parses the project's hooks -#}
{%- if this is none %}{{ return('') }}{% endif -%}
{{ return(this.incorporate(path={"identifier": this.identifier ~ "__by_bucket"})) }}
{% endmacro %}

{#- Pre-hook: on a full build in buckets, the scratch table of every bucket's rows. -#}
{% macro video_daily_full_build_by_bucket() %}
{%- set buckets = video_daily_buckets() -%}
{%- if not is_incremental() and buckets > 1 -%}
{%- for bucket in range(buckets) %}
{% if loop.first %}create or replace table {{ video_daily_bucket_table() }} as{% else %}insert into {{ video_daily_bucket_table() }}{% endif %}
{{ video_daily_sql(bucket, buckets) }};
{%- endfor %}
{%- else -%}
select 1
{%- endif -%}
{% endmacro %}
