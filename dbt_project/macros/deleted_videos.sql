{#- Pre-hook of the incremental models keyed by video_id: before the build's rows go in, delete the rows of the
    videos removed by `viewtrail delete` since the model's last build. meta.deleted_videos stamps each deletion with
    the write clock (deleted_through >= every ingested_at stored before it), and `watermark` is the model's
    high-water mark column (the newest ingested_at the last build read): deletions at or after it are the ones this
    build has not applied. The lookup reads the log's few new rows, not every video of the mart against every
    snapshot. A video tracked again after its deletion loses only its old rows: this build recomputes it from its
    new snapshots. -#}
{% macro drop_deleted_videos(watermark) %}
{%- if is_incremental() -%}
delete from {{ this }}
where video_id in (
    select deleted.video_id
    from {{ source('meta', 'deleted_videos') }} as deleted
    where deleted.deleted_through >= (
        select coalesce(max(previous.{{ watermark }}), timestamp '-infinity') from {{ this }} as previous
    )
)
{%- else -%}
select 1
{%- endif -%}
{% endmacro %}
