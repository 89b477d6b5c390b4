{#-
  One row per creator goal and calendar period (day, week from Monday, or month, in the organisation's time zone,
  the dbt var viewtrail_timezone = VIEWTRAIL_TIMEZONE), from the period holding the goal's start to the one
  holding today (or the goal's end). The rules are viewtrail/domain/programs.py's evaluate_goal:
  pace = actual / (target x share of the period elapsed); a reached target is Completed at once; a running or
  just-closed period (48 h settling) is On Track (pace >= 1), Behind Pace (0.70 <= pace < 1) or At Risk; once
  settled, Completed or Missed. posts count the creator's videos posted inside the period's local bounds;
  views, engagement and followers sum creator_daily's gains over the period's dates (UTC days).
  "Now" is the instant of the latest write to the warehouse (stg_write_clock).
-#}
{%- set tz = var('viewtrail_timezone', 'UTC') %}

with as_of as (
    select
        max(as_of_at) as as_of_at,
        cast(timezone('{{ tz }}', timezone('UTC', max(as_of_at))) as date) as today
    from {{ ref('stg_write_clock') }}
),

goals as (
    select
        g.*,
        case g.period when 'day' then interval 1 day when 'week' then interval 7 day else interval 1 month end
            as step
    from {{ ref('stg_creator_goals') }} as g
),

periods as (
    select
        g.goal_id,
        g.creator_id,
        g.metric,
        g.period,
        g.target,
        cast(unnest(generate_series(
            cast(date_trunc(g.period, g.starts_on) as timestamp),
            cast(greatest(
                date_trunc(g.period, g.starts_on),
                date_trunc(g.period, least(coalesce(g.ends_on, a.today), a.today))
            ) as timestamp),
            g.step
        )) as date) as period_start,
        g.step
    from goals as g
    cross join as_of as a
),

bounds as (
    select
        *,
        cast(period_start + step as date) as period_end,
        timezone('UTC', timezone('{{ tz }}', cast(period_start as timestamp))) as start_at,
        timezone('UTC', timezone('{{ tz }}', cast(period_start + step as timestamp))) as end_at
    from periods
),

creator_videos as (
    select ca.creator_id, v.video_id, v.posted_at
    from {{ ref('stg_creator_accounts') }} as ca
    inner join {{ ref('stg_videos') }} as v on ca.account_id = v.account_id
),

posts as (
    select b.goal_id, b.period_start, count(cv.video_id) as posts
    from bounds as b
    inner join creator_videos as cv
        on b.creator_id = cv.creator_id and b.start_at <= cv.posted_at and b.end_at > cv.posted_at
    group by b.goal_id, b.period_start
),

gains as (
    select
        b.goal_id,
        b.period_start,
        sum(d.views_gained) as views,
        sum(d.engagements_gained) as engagement,
        sum(d.followers_gained) as followers
    from bounds as b
    inner join {{ ref('creator_daily') }} as d
        on b.creator_id = d.creator_id and b.period_start <= d.day and b.period_end > d.day
    group by b.goal_id, b.period_start
),

scraped as (
    select cv.creator_id, max(s.observed_at) as last_scraped_at
    from creator_videos as cv
    inner join {{ ref('stg_snapshots') }} as s on cv.video_id = s.video_id
    group by cv.creator_id
),

measured as (
    select
        b.goal_id,
        b.creator_id,
        b.metric,
        b.period,
        b.period_start,
        b.period_end,
        b.start_at,
        b.end_at,
        b.target,
        cast(case b.metric
            when 'posts' then coalesce(p.posts, 0)
            when 'views' then coalesce(g.views, 0)
            when 'engagement' then coalesce(g.engagement, 0)
            else coalesce(g.followers, 0)
        end as double) as actual,
        sc.last_scraped_at,
        a.as_of_at
    from bounds as b
    cross join as_of as a
    left join posts as p on b.goal_id = p.goal_id and b.period_start = p.period_start
    left join gains as g on b.goal_id = g.goal_id and b.period_start = g.period_start
    left join scraped as sc on b.creator_id = sc.creator_id
),

paced as (
    select
        *,
        case
            when as_of_at < start_at then null
            when as_of_at < end_at
                then target * (epoch_us(as_of_at - start_at) / cast(epoch_us(end_at - start_at) as double))
            else target
        end as due,
        last_scraped_at is null or as_of_at - last_scraped_at > interval 24 hour as is_stale
    from measured
)

select
    goal_id,
    creator_id,
    metric,
    period,
    period_start,
    period_end,
    target,
    actual,
    case when due is null then null when due > 0 then actual / due else 1.0 end as pace,
    case
        when as_of_at < start_at then 'On Track'
        when actual >= target then 'Completed'
        when as_of_at >= end_at + interval 48 hour then 'Missed'
        when due <= 0 or actual / due >= 1 then 'On Track'
        when actual / due >= 0.7 then 'Behind Pace'
        else 'At Risk'
    end as status,
    as_of_at < start_at as not_yet_started,
    as_of_at >= start_at and as_of_at < end_at as period_in_progress,
    as_of_at >= end_at and as_of_at < end_at + interval 48 hour as period_recently_ended,
    as_of_at >= start_at and is_stale as scrape_stale,
    last_scraped_at,
    as_of_at
from paced
