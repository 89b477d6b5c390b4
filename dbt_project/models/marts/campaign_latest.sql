{#-
  One row per campaign: its videos' latest totals (sub-campaigns included at any depth, each video once) and its
  target (views by a date): the first day its daily total reached the target and whether that was in time.
-#}
with campaigns as (
    select campaign_id, name, parent_id, starts_on, ends_on, target_views, target_by, notes
    from {{ ref('stg_campaigns') }}
),

tree as (
    select campaign_id, count(*) - 1 as sub_campaigns
    from {{ ref('stg_campaign_tree') }}
    group by campaign_id
),

totals as (
    select
        cv.campaign_id,
        count(*) as videos,
        count(distinct v.account_id) as accounts,
        sum(v.views) as views,
        sum({{ engagements('v.') }}) as engagements,
        max(v.last_observed_at) as as_of_at
    from {{ ref('stg_campaign_videos') }} as cv
    inner join {{ ref('video_latest') }} as v on cv.video_id = v.video_id
    group by cv.campaign_id
),

reached as (
    select d.campaign_id, min(d.day) as target_reached_on
    from {{ ref('campaign_daily') }} as d
    inner join campaigns as c on d.campaign_id = c.campaign_id
    where d.views >= c.target_views
    group by d.campaign_id
)

select
    c.campaign_id,
    c.name,
    c.parent_id,
    cast(coalesce(tr.sub_campaigns, 0) as bigint) as sub_campaigns,
    c.starts_on,
    c.ends_on,
    c.notes,
    cast(coalesce(t.videos, 0) as bigint) as videos,
    cast(coalesce(t.accounts, 0) as bigint) as accounts,
    coalesce(t.views, 0) as views,
    t.engagements,
    c.target_views,
    c.target_by,
    case when c.target_views > 0 then cast(coalesce(t.views, 0) as double) / c.target_views end as target_share,
    r.target_reached_on,
    case
        when c.target_views is null then null
        when r.target_reached_on is null then false
        else c.target_by is null or r.target_reached_on <= c.target_by
    end as target_met,
    t.as_of_at
from campaigns as c
left join tree as tr on c.campaign_id = tr.campaign_id
left join totals as t on c.campaign_id = t.campaign_id
left join reached as r on c.campaign_id = r.campaign_id
