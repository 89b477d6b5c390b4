{#- Per account (platform + account) per day. Rebuilt in full: a video's account can become known later, and
    the sums are cheap compared with video_daily. Videos whose account is unknown are left out. -#}
select
    v.platform,
    v.account,
    d.day,
    {{ daily_rollup_columns() }}
from {{ ref('video_daily') }} as d
join {{ ref('video_engagement') }} as e using (video_id, day)
join {{ ref('int_videos') }} as v using (video_id)
where v.account is not null
group by v.platform, v.account, d.day
