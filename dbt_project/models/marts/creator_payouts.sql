{#-
  One row per campaign, creator and currency: the creator's payout balance. accrued = the finalized amounts of
  videos not rejected; adjustments and paid come from the ledger; due = accrued + adjustments - paid, so a row
  whose every payout was marked paid owes 0. creator_id is null for videos of accounts without a creator.
-#}
with videos as (
    select campaign_id, creator_id, currency, state, amount_minor
    from {{ ref('video_payouts') }}
),

entries as (
    select campaign_id, creator_id, currency, entry_kind, amount_minor
    from {{ ref('stg_payout_entries') }}
    where entry_kind in ('adjustment', 'payment')
),

keys as (
    select campaign_id, creator_id, currency from videos
    union
    select campaign_id, creator_id, currency from entries
),

by_videos as (
    select
        campaign_id,
        creator_id,
        currency,
        count(*) as videos,
        count(*) filter (where state in ('active', 'finalizing', 'pending_terms')) as videos_open,
        count(*) filter (where state = 'pending_terms') as videos_pending_terms,
        count(*) filter (where state in ('finalized', 'paid')) as videos_finalized,
        count(*) filter (where state = 'paid') as videos_paid,
        count(*) filter (where state = 'rejected') as videos_rejected,
        sum(amount_minor) filter (where state in ('finalized', 'paid')) as accrued_minor
    from videos
    group by campaign_id, creator_id, currency
),

by_entries as (
    select
        campaign_id,
        creator_id,
        currency,
        sum(amount_minor) filter (where entry_kind = 'adjustment') as adjustments_minor,
        sum(amount_minor) filter (where entry_kind = 'payment') as paid_minor
    from entries
    group by campaign_id, creator_id, currency
),

balances as (
    select
        k.campaign_id,
        k.creator_id,
        k.currency,
        cast(coalesce(v.videos, 0) as bigint) as videos,
        cast(coalesce(v.videos_open, 0) as bigint) as videos_open,
        cast(coalesce(v.videos_pending_terms, 0) as bigint) as videos_pending_terms,
        cast(coalesce(v.videos_finalized, 0) as bigint) as videos_finalized,
        cast(coalesce(v.videos_paid, 0) as bigint) as videos_paid,
        cast(coalesce(v.videos_rejected, 0) as bigint) as videos_rejected,
        cast(coalesce(v.accrued_minor, 0) as bigint) as accrued_minor,
        cast(coalesce(e.adjustments_minor, 0) as bigint) as adjustments_minor,
        cast(coalesce(e.paid_minor, 0) as bigint) as paid_minor
    from keys as k
    left join by_videos as v
        on
            k.campaign_id = v.campaign_id
            and k.creator_id is not distinct from v.creator_id
            and k.currency is not distinct from v.currency
    left join by_entries as e
        on
            k.campaign_id = e.campaign_id
            and k.creator_id is not distinct from e.creator_id
            and k.currency is not distinct from e.currency
)

select
    *,
    accrued_minor + adjustments_minor - paid_minor as due_minor
from balances
