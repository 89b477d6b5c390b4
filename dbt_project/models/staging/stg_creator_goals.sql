-- registry.creator_goals, one row per goal.
with source as (
    select * from {{ source('registry', 'creator_goals') }}
)

select
    goal_id,
    creator_id,
    metric,
    period,
    target,
    starts_on,
    ends_on
from source
