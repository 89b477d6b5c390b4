{#- Per video: the groups the rollup marts sum it into (its account, with the account's platform and handle, and its
    labels) and its days in video_daily, with the groups and days it had before its last change of group.

    The rollups (label_daily, account_daily) are incremental: an hourly run recomputes the (group, day) rows whose
    video_daily rows changed. A video that changes group without new snapshots (relabelled or moved to another
    account in the registry, its account renamed, or deleted) changes no video_daily row, and the rows it leaves
    are those of its previous group, which the registry no longer knows: this table keeps them. Each run compares
    every video's groups with the stored ones (one row per video, whatever the history's length) and rewrites the
    rows that differ, stamping a change of group with the write clock (`changed_at`: at or after every snapshot
    stored before it, so a rollup applies the changes stamped at or after its own high-water mark). A deleted
    video keeps a row without groups, its previous ones in the previous_* columns. -#}
{{
  config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='video_id',
    on_schema_change='fail',
  )
}}
-- depends_on: {{ ref('stg_write_clock') }}

with videos as (
    select video_id, account_id, labels
    from {{ ref('int_videos') }}
),

accounts as (
    select account_id, platform, handle
    from {{ ref('int_accounts') }}
),

summary as (
    select video_id, first_observed_at, last_observed_at
    from {{ ref('int_video_snapshot_summary') }}
),

current_groups as (
    select
        v.video_id,
        v.account_id,
        a.platform as account_platform,
        a.handle as account_handle,
        v.labels,
        cast(s.first_observed_at as date) as first_day,
        cast(s.last_observed_at as date) as last_day
    from videos as v
    left join accounts as a using (account_id)
    left join summary as s using (video_id)
)

{% if is_incremental() -%}
,

clock as (
    -- no clock row (never written): every stamp counts as new
    select coalesce(max(as_of_at), timestamp 'infinity') as as_of_at
    from {{ ref('stg_write_clock') }}
),

compared as (
    select
        coalesce(c.video_id, p.video_id) as video_id,
        c.account_id,
        c.account_platform,
        c.account_handle,
        c.labels,
        c.first_day,
        c.last_day,
        p.account_id as stored_account_id,
        p.labels as stored_labels,
        p.first_day as stored_first_day,
        p.last_day as stored_last_day,
        p.previous_account_id,
        p.previous_labels,
        p.previous_first_day,
        p.previous_last_day,
        p.changed_at,
        (
            c.account_id is distinct from p.account_id
            or c.account_platform is distinct from p.account_platform
            or c.account_handle is distinct from p.account_handle
            or c.labels is distinct from p.labels
        ) as group_changed,
        (c.first_day is distinct from p.first_day or c.last_day is distinct from p.last_day) as days_changed
    from current_groups as c
    full outer join {{ this }} as p using (video_id)
)

select
    video_id,
    account_id,
    account_platform,
    account_handle,
    labels,
    first_day,
    last_day,
    case when group_changed then stored_account_id else previous_account_id end as previous_account_id,
    case when group_changed then stored_labels else previous_labels end as previous_labels,
    case when group_changed then stored_first_day else previous_first_day end as previous_first_day,
    case when group_changed then stored_last_day else previous_last_day end as previous_last_day,
    case when group_changed then (select clock.as_of_at from clock) else changed_at end as changed_at
from compared
where group_changed or days_changed
{%- else %}

select
    video_id,
    account_id,
    account_platform,
    account_handle,
    labels,
    first_day,
    last_day,
    cast(null as varchar) as previous_account_id,
    cast(null as varchar[]) as previous_labels,
    cast(null as date) as previous_first_day,
    cast(null as date) as previous_last_day,
    -- nothing pending: a full build rebuilds the rollups too
    timestamp '-infinity' as changed_at
from current_groups
{%- endif %}
