-- raw.payout_entries: the append-only ledger entries, in the order recorded (entry_id).
with source as (
    select * from {{ source('raw', 'payout_entries') }}
)

select
    entry_id,
    entry_kind,
    campaign_id,
    video_id,
    creator_id,
    amount_minor,
    currency,
    reason,
    reference,
    recorded_at
from source
