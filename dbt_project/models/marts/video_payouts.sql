{#-
  One row per campaign and video it pays (registry.campaign_payers, plus every finalized pair): the payout's state
  and amount. States (viewtrail/domain/programs.py): rejected (the latest rejection or unrejection entry is a
  rejection), paid, finalized (frozen in raw.payout_finalizations), active (inside the counting window of the terms
  in force), finalizing (window over, terms in force, not frozen yet) and pending_terms (window over, no terms).
  "Now" is the instant of the latest write to the warehouse (stg_write_clock), never the wall clock.
-#}
with as_of as (
    select max(as_of_at) as as_of_at
    from {{ ref('stg_write_clock') }}
),

finals as (
    select * from {{ ref('stg_payout_finalizations') }}
),

pairs as (
    select
        coalesce(f.campaign_id, p.campaign_id) as campaign_id,
        coalesce(f.video_id, p.video_id) as video_id,
        coalesce(f.creator_id, p.creator_id) as creator_id,
        coalesce(f.posted_at, p.posted_at) as posted_at
    from {{ ref('stg_campaign_payers') }} as p
    full outer join finals as f on p.campaign_id = f.campaign_id and p.video_id = f.video_id
),

in_effect as (
    -- the newest version in effect per campaign and creator (creator_id null: the campaign's own terms)
    select t.*
    from {{ ref('stg_payout_terms') }} as t
    cross join as_of
    where t.effective_from <= as_of.as_of_at
    qualify row_number() over (
        partition by t.campaign_id, t.creator_id order by t.effective_from desc, t.terms_id desc
    ) = 1
),

entries as (
    select * from {{ ref('stg_payout_entries') }}
),

decisions as (
    select
        campaign_id,
        video_id,
        arg_max(entry_kind, entry_id) as last_kind,
        arg_max(reason, entry_id) as last_reason
    from entries
    where entry_kind in ('rejection', 'unrejection') and video_id is not null
    group by campaign_id, video_id
),

payments as (
    select campaign_id, video_id, string_agg(reference, ', ' order by entry_id) as paid_reference
    from entries
    where entry_kind = 'payment' and video_id is not null
    group by campaign_id, video_id
),

joined as (
    select
        p.*,
        coalesce(o.terms_id, c.terms_id) as terms_now,
        coalesce(o.window_hours, c.window_hours, {{ 7 * 24 }}) as window_hours_now,
        coalesce(o.currency, c.currency) as currency_now,
        f.video_id is not null as is_finalized,
        coalesce(d.last_kind = 'rejection', false) as is_rejected,
        d.last_reason,
        pay.paid_reference,
        as_of.as_of_at
    from pairs as p
    cross join as_of
    left join in_effect as o on p.campaign_id = o.campaign_id and p.creator_id = o.creator_id
    left join in_effect as c on p.campaign_id = c.campaign_id and c.creator_id is null
    left join finals as f on p.campaign_id = f.campaign_id and p.video_id = f.video_id
    left join decisions as d on p.campaign_id = d.campaign_id and p.video_id = d.video_id
    left join payments as pay on p.campaign_id = pay.campaign_id and p.video_id = pay.video_id
)

select
    j.campaign_id,
    j.video_id,
    j.creator_id,
    j.posted_at,
    case
        when j.is_rejected then 'rejected'
        when j.is_finalized and j.paid_reference is not null then 'paid'
        when j.is_finalized then 'finalized'
        when j.posted_at is null or j.as_of_at < j.posted_at + to_hours(j.window_hours_now) then 'active'
        when j.terms_now is not null then 'finalizing'
        else 'pending_terms'
    end as state,
    coalesce(f.window_end, j.posted_at + to_hours(j.window_hours_now)) as window_end,
    f.views_observed,
    f.payable_views,
    f.views_how,
    f.is_interpolated,
    coalesce(f.terms_id, j.terms_now) as terms_id,
    f.cpm_minor,
    f.amount_minor,
    coalesce(f.currency, j.currency_now) as currency,
    case when j.is_rejected then j.last_reason end as rejection_reason,
    j.paid_reference,
    f.finalized_at,
    j.as_of_at
from joined as j
left join finals as f on j.campaign_id = f.campaign_id and j.video_id = f.video_id
