{#-
  One row per creator and calendar day (the organisation's time zone, var viewtrail_timezone) on which the creator
  posted at least 7 videos, at least 2 of which a snapshot taken 2 h or more after posting shows below 100 views
  (viewtrail/domain/programs.py, overposting_incidents). is_amber: that day is within the last 7 days.
-#}
{%- set tz = var('viewtrail_timezone', 'UTC') %}

with as_of as (
    select cast(timezone('{{ tz }}', timezone('UTC', max(as_of_at))) as date) as today
    from {{ ref('stg_write_clock') }}
),

posts as (
    select
        ca.creator_id,
        v.video_id,
        v.posted_at,
        cast(timezone('{{ tz }}', timezone('UTC', v.posted_at)) as date) as day
    from {{ ref('stg_creator_accounts') }} as ca
    inner join {{ ref('stg_videos') }} as v on ca.account_id = v.account_id
    where v.posted_at is not null
),

low as (
    select distinct p.video_id
    from posts as p
    inner join {{ ref('stg_snapshots') }} as s
        on
            p.video_id = s.video_id
            and s.observed_at >= p.posted_at + interval 2 hour
            and s.views < 100
)

select
    p.creator_id,
    p.day,
    cast(count(*) as bigint) as videos,
    cast(count(l.video_id) as bigint) as low_view_videos,
    list_sort(list(p.video_id)) as video_ids,
    (max(a.today) - p.day) < 7 as is_amber
from posts as p
cross join as_of as a
left join low as l on p.video_id = l.video_id
group by p.creator_id, p.day
having count(*) >= 7 and count(l.video_id) >= 2
