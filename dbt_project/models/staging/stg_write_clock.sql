-- meta.write_clock: "now" for the marts that need it (payout states, goal pace), the instant of the latest write
-- to the warehouse by the injectable clock, so a build reads no wall clock and replays at any date.
with source as (
    select * from {{ source('meta', 'write_clock') }}
)

select last_ingested_at as as_of_at
from source
