-- Per video: scrape attempt history summarised (last outcome, failures since the last success).
with attempts as (
    select video_id, attempted_at, outcome, http_status, detail
    from {{ ref('stg_scrape_attempts') }}
),

with_last_ok as (
    select
        *,
        max(case when outcome = 'ok' then attempted_at end) over (partition by video_id) as last_ok_at
    from attempts
)

select
    video_id,
    count(*) as attempt_count,
    min(attempted_at) as first_attempt_at,
    max(attempted_at) as last_attempt_at,
    arg_max(outcome, attempted_at) as last_outcome,
    arg_max_null(http_status, attempted_at) as last_http_status,
    arg_max_null(detail, attempted_at) as last_detail,
    max(last_ok_at) as last_ok_at,
    cast(count(*) filter (where attempted_at > coalesce(last_ok_at, timestamp '-infinity')) as integer)
        as consecutive_failures
from with_last_ok
group by video_id
