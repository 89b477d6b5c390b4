{#- One row per creator: the latest of each of its accounts (account_latest) summed across platforms, with each
    platform's share. Rebuilt in full (one row per creator). -#}
{%- set shared = ['views', 'engagements', 'followers'] %}

with creators as (
    select creator_id, name, labels
    from {{ ref('stg_creators') }}
),

links as (
    select creator_id, account_id
    from {{ ref('stg_creator_accounts') }}
),

account_latest as (
    select
        account_id,
        platform,
        followers,
        tracked_videos as videos,
        tracked_video_views as views,
        tracked_video_engagements as engagements,
        posts_per_week,
        as_of_at
    from {{ ref('account_latest') }}
)

select
    c.creator_id,
    c.name,
    c.labels,
    count(d.account_id) as accounts,
    list_sort(list_distinct(list(d.platform))) as platforms,
    cast(coalesce(sum(d.videos), 0) as bigint) as videos,
    sum(d.views) as views,
    sum(d.engagements) as engagements,
    sum(d.followers) as followers,
    sum(d.engagements) filter (where d.followers is not null)
        / nullif(sum(d.followers) filter (where d.engagements is not null), 0) as engagement_rate_by_followers,
    sum(d.posts_per_week) as posts_per_week,
    max(d.as_of_at) as as_of_at,
    {{ platform_share_columns(shared, a='d') }}
from creators as c
left join links as l using (creator_id)
left join account_latest as d
    on l.account_id = d.account_id
group by c.creator_id, c.name, c.labels
