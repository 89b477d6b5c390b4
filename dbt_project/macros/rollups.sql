{#- The incremental part of the rollups of video_daily by group (label_daily by label, account_daily by account_id):
    which (group, day) rows a run rewrites. Emits CTEs (each followed by a comma): `touched` (key, day) and
    `touched_days` (day), for the model's own sums to be restricted to.

    A (group, day) row changes when one of its video_daily rows changed (video_daily rewrites the days a new snapshot
    can change, past days included when a snapshot after a gap re-interpolates them: those rows carry a newer
    snapshots_ingested_through), or when a video joined or left the group (int_video_groups: relabelled, moved to
    another account, account renamed, deleted; the days it has in its new group and had in its old one). `extra`:
    more (key, day) rows, a select (account_daily: days whose followers changed).

    The high-water mark is the write clock of the rollup's previous run (snapshots_ingested_through, the same in every
    row a run writes): every write after it stamps a later ingested_at, so each row video_daily rewrote since has a
    later mark; a change of group is stamped at or after it. A touched (group, day) whose videos all left gets a
    placeholder row with `videos = 0` that replaces the stale one (delete+insert on the key); the post-hook
    (rollup_drop_placeholders) removes it. -#}
{% macro rollup_incremental_scope(key, current_keys, previous_keys, extra=none) %}
watermark as (
    select coalesce(max(previous.snapshots_ingested_through), timestamp '-infinity') as through
    from {{ this }} as previous
),

groups as (
    select video_id, labels, account_id, previous_labels, previous_account_id, first_day, last_day,
        previous_first_day, previous_last_day, changed_at
    from {{ ref('int_video_groups') }}
),

changed_video_days as (
    -- video_daily appends each run's rows: the zone maps of snapshots_ingested_through skip the older ones
    select video_id, day
    from {{ ref('video_daily') }}
    where snapshots_ingested_through > (select through from watermark)
),

group_changes as (
    -- the videos that changed group since the mark: their days in the new group and in the old one
    select {{ current_keys }} as {{ key }}, first_day, last_day
    from groups
    where changed_at >= (select through from watermark)
    union all
    select {{ previous_keys }} as {{ key }}, previous_first_day as first_day, previous_last_day as last_day
    from groups
    where changed_at >= (select through from watermark)
),

touched as (
    select distinct {{ key }}, day
    from (
        select g.{{ key }}, c.day
        from changed_video_days as c
        join (select video_id, {{ current_keys }} as {{ key }} from groups) as g using (video_id)
        union all
        select
            {{ key }},
            cast(unnest(generate_series(
                cast(first_day as timestamp), cast(last_day as timestamp), interval 1 day
            )) as date) as day
        from group_changes
        where first_day is not null and last_day is not null
        {%- if extra %}
        union all
        {{ extra }}
        {%- endif %}
    ) as parts
    where {{ key }} is not null
),

touched_days as (
    select distinct day
    from touched
),
{% endmacro %}

{#- The high-water mark a rollup's run stores in its rows: the write clock (stg_write_clock) as the run starts. -#}
{% macro rollup_mark() -%}
(select coalesce(max(clock.as_of_at), timestamp '-infinity') from {{ ref('stg_write_clock') }} as clock)
{%- endmacro %}

{#- Post-hook of the rollups: drop the placeholder rows of (group, day) rows whose videos all left. -#}
{% macro rollup_drop_placeholders() -%}
delete from {{ this }} where videos = 0
{%- endmacro %}
