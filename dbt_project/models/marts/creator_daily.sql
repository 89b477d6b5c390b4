{#- Per creator per day: the creator's accounts (registry.creator_accounts) summed across platforms, with each
    platform's share. An account-day counts when the account has tracked videos that day (account_daily),
    followers history that day (account_metrics_daily) or a video posted that day. Rebuilt in full: links between
    creators and accounts can change; a warehouse without creators reads only the empty link table's accounts. -#}
{%- set shared = ['views', 'engagements', 'followers'] %}

with links as (
    select creator_id, account_id
    from {{ ref('stg_creator_accounts') }}
),

accounts as (
    select account_id, platform
    from {{ ref('int_accounts') }}
),

account_videos as (
    select account_id, day, videos, views, views_gained, engagements, engagements_gained
    from {{ ref('account_daily') }}
),

account_metrics as (
    select account_id, day, followers, followers_gained
    from {{ ref('account_metrics_daily') }}
),

videos as (
    select account_id, posted_at
    from {{ ref('video_latest') }}
    where account_id is not null and posted_at is not null
),

linked as (
    select distinct account_id
    from links
),

account_days as (
    -- each value comes from exactly one of the three inputs: the sums only gather them on one row
    select
        account_id,
        day,
        sum(videos) as videos,
        sum(videos_posted) as videos_posted,
        sum(views) as views,
        sum(views_gained) as views_gained,
        sum(engagements) as engagements,
        sum(engagements_gained) as engagements_gained,
        sum(followers) as followers,
        sum(followers_gained) as followers_gained
    from (
        select v.*
        from account_videos as v
        semi join linked using (account_id)
        union all by name
        select m.*
        from account_metrics as m
        semi join linked using (account_id)
        union all by name
        select p.account_id, cast(p.posted_at as date) as day, count(*) as videos_posted
        from videos as p
        semi join linked using (account_id)
        group by all
    ) as parts
    group by account_id, day
)

select
    l.creator_id,
    d.day,
    count(*) as accounts,
    cast(coalesce(sum(d.videos), 0) as bigint) as videos,
    cast(coalesce(sum(d.videos_posted), 0) as bigint) as videos_posted,
    sum(d.views) as views,
    sum(d.views_gained) as views_gained,
    sum(d.engagements) as engagements,
    sum(d.engagements_gained) as engagements_gained,
    sum(d.followers) as followers,
    sum(d.followers_gained) as followers_gained,
    sum(d.engagements) filter (where d.followers is not null)
        / nullif(sum(d.followers) filter (where d.engagements is not null), 0) as engagement_rate_by_followers,
    {{ platform_share_columns(shared) }}
from account_days as d
join links as l using (account_id)
join accounts as a using (account_id)
group by l.creator_id, d.day
