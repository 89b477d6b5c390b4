"""Creator programs in the warehouse: one function per write (campaigns, members, terms, goals, the payout ledger)
and the finalization step that freezes payable views.

The rules are :mod:`viewtrail.domain.programs`; membership is resolved to videos by the views of migration 10
(``registry.campaign_videos``, ``registry.campaign_payers``), which the dbt marts read too. The ledger is
append-only: ``raw.payout_finalizations`` (one row per campaign and video, never rewritten: its primary key and
``ON CONFLICT DO NOTHING`` make a repeated or concurrent finalization a no-op) and ``raw.payout_entries``
(rejections, their reversals, adjustments, payments).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.programs import (
    GoalMetric,
    GoalPeriod,
    PayoutTerms,
    TermsVersion,
    Tier,
    payable_views,
    payout_minor,
    terms_in_force,
    tier_for,
    views_at,
    window_end,
    would_cycle,
)
from viewtrail.warehouse.transactions import Write, run_write, transaction

MEMBER_KINDS = ("video", "account", "creator", "label")
ENTRY_KINDS = ("rejection", "unrejection", "adjustment", "payment")
#: The reason an automatic rejection records (below the terms' auto-reject minimum at finalization).
BELOW_MINIMUM = "below_minimum"


class ProgramsError(InvalidInputError):
    """A campaign, terms, goal or ledger request that cannot be applied; the message says what to do."""


class ProgramsNotFound(ProgramsError):
    """The campaign, creator or goal a request names does not exist."""


def campaign_slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
    if not slug:
        raise ProgramsError(f"Campaign name {name!r} has no letters or digits; give it a name such as 'Spring launch'.")
    return slug


# -------------------------------------------------------------------------------------------------- campaigns


@dataclass(frozen=True, slots=True)
class Campaign:
    campaign_id: str
    name: str
    parent_id: str | None
    starts_on: date | None
    ends_on: date | None
    target_views: int | None
    target_by: date | None
    notes: str | None


_CAMPAIGN_COLUMNS = "campaign_id, name, parent_id, starts_on, ends_on, target_views, target_by, notes"


def _parents(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    return dict(con.execute("SELECT campaign_id, parent_id FROM registry.campaigns").fetchall())


def _require_campaign(con: duckdb.DuckDBPyConnection, campaign_id: str) -> None:
    if not con.execute("SELECT 1 FROM registry.campaigns WHERE campaign_id = ?", [campaign_id]).fetchall():
        raise ProgramsNotFound(f"There is no campaign {campaign_id!r}; `viewtrail campaign list` shows the campaigns.")


def create_campaign(con: duckdb.DuckDBPyConnection, campaign: Campaign, *, now: datetime) -> Campaign:
    """Store a new campaign (its parent must exist; the id must be new)."""
    if campaign.starts_on and campaign.ends_on and campaign.ends_on < campaign.starts_on:
        raise ProgramsError("The campaign ends before it starts; give an end date on or after the start date.")
    if campaign.target_views is not None and campaign.target_views <= 0:
        raise ProgramsError("A campaign's target is a positive number of views; e.g. --target 1M.")
    with transaction(con):
        if con.execute("SELECT 1 FROM registry.campaigns WHERE campaign_id = ?", [campaign.campaign_id]).fetchall():
            raise ProgramsError(f"A campaign {campaign.campaign_id!r} exists already; choose another name.")
        if campaign.parent_id is not None:
            _require_campaign(con, campaign.parent_id)
        con.execute(
            f"INSERT INTO registry.campaigns ({_CAMPAIGN_COLUMNS}, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                campaign.campaign_id,
                campaign.name,
                campaign.parent_id,
                campaign.starts_on,
                campaign.ends_on,
                campaign.target_views,
                campaign.target_by,
                campaign.notes,
                now,
                now,
            ],
        )
    return campaign


def nest_campaign(con: duckdb.DuckDBPyConnection, campaign_id: str, parent_id: str | None, *, now: datetime) -> None:
    """Make ``parent_id`` the parent of ``campaign_id`` (None: top level); a loop is refused."""
    with transaction(con):
        _require_campaign(con, campaign_id)
        if parent_id is not None:
            _require_campaign(con, parent_id)
        if would_cycle(_parents(con), campaign_id, parent_id):
            raise ProgramsError(
                f"Campaign {parent_id!r} is {campaign_id!r} or nested inside it, so it cannot hold it; "
                "choose a parent outside that campaign."
            )
        con.execute(
            "UPDATE registry.campaigns SET parent_id = ?, updated_at = ? WHERE campaign_id = ?",
            [parent_id, now, campaign_id],
        )


def list_campaigns(con: duckdb.DuckDBPyConnection) -> list[Campaign]:
    rows = con.execute(f"SELECT {_CAMPAIGN_COLUMNS} FROM registry.campaigns ORDER BY campaign_id").fetchall()
    return [Campaign(*row) for row in rows]


def add_members(
    con: duckdb.DuckDBPyConnection, campaign_id: str, kind: str, members: Sequence[str], *, now: datetime
) -> int:
    """Add videos, accounts, creators or labels to a campaign; returns how many were new."""
    if kind not in MEMBER_KINDS:
        raise ProgramsError(f"Members are one of {', '.join(MEMBER_KINDS)}; {kind!r} is none of them.")
    with transaction(con):
        _require_campaign(con, campaign_id)
        known = {
            "video": "SELECT video_id FROM registry.videos WHERE video_id = ?",
            "account": "SELECT account_id FROM registry.accounts WHERE account_id = ?",
            "creator": "SELECT creator_id FROM registry.creators WHERE creator_id = ?",
        }.get(kind)
        missing = [m for m in members if known and not con.execute(known, [m]).fetchall()]
        if missing:
            raise ProgramsError(
                f"No {kind} {missing[0]!r} in the registry; give ids as `viewtrail list`, `accounts` or "
                "`creator list` show them."
            )
        before = _count(con, "SELECT count(*) FROM registry.campaign_members WHERE campaign_id = ?", [campaign_id])
        for member in dict.fromkeys(members):
            con.execute(
                "INSERT INTO registry.campaign_members VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [campaign_id, kind, member, now],
            )
        after = _count(con, "SELECT count(*) FROM registry.campaign_members WHERE campaign_id = ?", [campaign_id])
    return after - before


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> int:
    return int(con.execute(sql, params).fetchall()[0][0])


def campaign_video_ids(con: duckdb.DuckDBPyConnection, campaign_id: str) -> list[str]:
    """The videos of a campaign, its sub-campaigns' included, each once."""
    rows = con.execute(
        "SELECT video_id FROM registry.campaign_videos WHERE campaign_id = ? ORDER BY video_id", [campaign_id]
    ).fetchall()
    return [video for (video,) in rows]


# ------------------------------------------------------------------------------------------------------ terms


def add_terms(
    con: duckdb.DuckDBPyConnection,
    campaign_id: str,
    terms: PayoutTerms,
    *,
    creator_id: str | None,
    effective_from: datetime,
    now: datetime,
) -> int:
    """Append a terms version (campaign-wide, or one creator's override); returns its id. Versions are never edited:
    a new one reaches the videos finalized from ``effective_from`` on."""
    with transaction(con):
        _require_campaign(con, campaign_id)
        if (
            creator_id is not None
            and not con.execute("SELECT 1 FROM registry.creators WHERE creator_id = ?", [creator_id]).fetchall()
        ):
            raise ProgramsNotFound(f"No creator {creator_id!r}; `viewtrail creator list` shows the creators.")
        terms_id = _count(con, "SELECT coalesce(max(terms_id), 0) + 1 FROM registry.payout_terms", [])
        con.execute(
            "INSERT INTO registry.payout_terms VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                terms_id,
                campaign_id,
                creator_id,
                effective_from,
                terms.currency,
                [t.from_views for t in terms.tiers],
                [t.cpm_minor for t in terms.tiers],
                terms.cap_views,
                terms.window_hours,
                terms.min_views,
                now,
            ],
        )
    return terms_id


def load_terms(con: duckdb.DuckDBPyConnection, campaign_id: str | None = None) -> list[TermsVersion]:
    """Every terms version (of one campaign), oldest first."""
    rows = con.execute(
        "SELECT terms_id, campaign_id, creator_id, effective_from, currency, tier_from_views, tier_cpm_minor,"
        " cap_views, window_hours, min_views FROM registry.payout_terms"
        " WHERE ? IS NULL OR campaign_id = ? ORDER BY terms_id",
        [campaign_id, campaign_id],
    ).fetchall()
    return [
        TermsVersion(
            int(tid),
            cid,
            creator,
            effective,
            PayoutTerms(
                currency,
                tuple(Tier(int(a), int(b)) for a, b in zip(froms, cpms, strict=True)),
                None if cap is None else int(cap),
                int(window),
                int(minimum),
            ),
        )
        for tid, cid, creator, effective, currency, froms, cpms, cap, window, minimum in rows
    ]


# ------------------------------------------------------------------------------------------------ finalization


@dataclass(frozen=True, slots=True)
class FinalizeSummary:
    finalized: int
    auto_rejected: int
    interpolated: int


def finalize_payouts(con: duckdb.DuckDBPyConnection, *, now: datetime, run_id: str | None = None) -> FinalizeSummary:
    """Freeze the payable views and amount of every campaign video whose counting window has ended and can be
    known, under the terms version in force now, exactly once. One write: a crash before its commit leaves
    nothing, and a re-run redoes only what is missing."""
    return run_write(con, lambda write: _finalize(con, write, now), kind="payout_finalization", run_id=run_id)


def _finalize(con: duckdb.DuckDBPyConnection, write: Write, now: datetime) -> FinalizeSummary:
    versions: dict[str, list[TermsVersion]] = defaultdict(list)
    for version in load_terms(con):
        versions[version.campaign_id].append(version)
    candidates = con.execute(
        """
        SELECT p.campaign_id, p.video_id, p.creator_id, p.posted_at
        FROM registry.campaign_payers AS p
        ANTI JOIN raw.payout_finalizations AS f USING (campaign_id, video_id)
        WHERE p.posted_at IS NOT NULL AND p.posted_at < ?
        """,
        [now],
    ).fetchall()
    due = []
    for campaign_id, video_id, creator_id, posted_at in candidates:
        in_force = terms_in_force(versions[campaign_id], creator_id=creator_id, at=now)
        if in_force is not None and window_end(posted_at, in_force.terms) <= now:
            due.append((campaign_id, video_id, creator_id, posted_at, in_force))
    if not due:
        return FinalizeSummary(0, 0, 0)
    history: dict[str, list[tuple[datetime, int | None]]] = defaultdict(list)
    video_ids = sorted({row[1] for row in due})
    for video_id, observed_at, views in con.execute(
        "SELECT video_id, observed_at, views FROM raw.snapshots WHERE video_id IN (SELECT unnest(?::TEXT[]))",
        [video_ids],
    ).fetchall():
        history[video_id].append((observed_at, views))
    finalized = rejected = interpolated = 0
    next_entry = _count(con, "SELECT coalesce(max(entry_id), 0) + 1 FROM raw.payout_entries", [])
    for campaign_id, video_id, creator_id, posted_at, version in due:
        end = window_end(posted_at, version.terms)
        frozen = views_at(end, history[video_id], posted_at=posted_at, now=now)
        if frozen is None:
            continue
        terms = version.terms
        payable = payable_views(frozen.views, terms)
        stored = con.execute(
            "INSERT INTO raw.payout_finalizations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING 1",
            [
                campaign_id,
                video_id,
                creator_id,
                posted_at,
                end,
                payable,
                frozen.views,
                frozen.how.value,
                frozen.interpolated,
                version.version_id,
                tier_for(payable, terms).cpm_minor,
                payout_minor(frozen.views, terms),
                terms.currency,
                write.ingested_at,
            ],
        ).fetchall()
        if not stored:
            continue
        finalized += 1
        interpolated += frozen.interpolated
        if frozen.views < terms.min_views:
            con.execute(
                "INSERT INTO raw.payout_entries (entry_id, entry_kind, campaign_id, video_id, creator_id, reason,"
                " recorded_at) VALUES (?, 'rejection', ?, ?, ?, ?, ?)",
                [next_entry, campaign_id, video_id, creator_id, BELOW_MINIMUM, write.ingested_at],
            )
            next_entry += 1
            rejected += 1
    return FinalizeSummary(finalized, rejected, interpolated)


# ------------------------------------------------------------------------------------------------- the ledger


@dataclass(frozen=True, slots=True)
class VideoLedger:
    """Where one video stands in one campaign's ledger."""

    finalized: bool
    rejected: bool
    paid: bool
    creator_id: str | None
    amount_minor: int | None
    currency: str | None


def video_ledger(con: duckdb.DuckDBPyConnection, campaign_id: str, video_id: str) -> VideoLedger:
    final = con.execute(
        "SELECT creator_id, amount_minor, currency FROM raw.payout_finalizations WHERE campaign_id = ? AND video_id = ?",
        [campaign_id, video_id],
    ).fetchall()
    last = con.execute(
        "SELECT entry_kind FROM raw.payout_entries WHERE campaign_id = ? AND video_id = ?"
        " AND entry_kind IN ('rejection', 'unrejection') ORDER BY entry_id DESC LIMIT 1",
        [campaign_id, video_id],
    ).fetchall()
    paid = con.execute(
        "SELECT 1 FROM raw.payout_entries WHERE campaign_id = ? AND video_id = ? AND entry_kind = 'payment'",
        [campaign_id, video_id],
    ).fetchall()
    creator, amount, currency = final[0] if final else (None, None, None)
    if not final:
        payer = con.execute(
            "SELECT creator_id FROM registry.campaign_payers WHERE campaign_id = ? AND video_id = ?",
            [campaign_id, video_id],
        ).fetchall()
        creator = payer[0][0] if payer else None
    return VideoLedger(bool(final), bool(last) and last[0][0] == "rejection", bool(paid), creator, amount, currency)


def _append_entry(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    campaign_id: str,
    *,
    now: datetime,
    video_id: str | None = None,
    creator_id: str | None = None,
    amount_minor: int | None = None,
    currency: str | None = None,
    reason: str | None = None,
    reference: str | None = None,
) -> int:
    entry_id = _count(con, "SELECT coalesce(max(entry_id), 0) + 1 FROM raw.payout_entries", [])
    con.execute(
        "INSERT INTO raw.payout_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [entry_id, kind, campaign_id, video_id, creator_id, amount_minor, currency, reason, reference, now],
    )
    return entry_id


def _require_payable_video(con: duckdb.DuckDBPyConnection, campaign_id: str, video_id: str) -> None:
    _require_campaign(con, campaign_id)
    if not con.execute(
        "SELECT 1 FROM registry.campaign_payers WHERE campaign_id = ? AND video_id = ?"
        " UNION ALL SELECT 1 FROM raw.payout_finalizations WHERE campaign_id = ? AND video_id = ?",
        [campaign_id, video_id, campaign_id, video_id],
    ).fetchall():
        raise ProgramsError(
            f"Campaign {campaign_id!r} does not pay video {video_id!r}; `viewtrail payouts list --campaign "
            f"{campaign_id}` shows the videos it pays."
        )


def reject_video(
    con: duckdb.DuckDBPyConnection, campaign_id: str, video_id: str, *, reason: str | None, now: datetime
) -> None:
    """Reject a video's payout in a campaign (before or after its finalization, not once paid)."""
    with transaction(con):
        _require_payable_video(con, campaign_id, video_id)
        state = video_ledger(con, campaign_id, video_id)
        if state.rejected:
            raise ProgramsError(f"Video {video_id!r} is already rejected in {campaign_id!r}.")
        if state.paid:
            raise ProgramsError(
                f"Video {video_id!r} has been paid in {campaign_id!r}; record a negative adjustment instead."
            )
        _append_entry(
            con, "rejection", campaign_id, video_id=video_id, creator_id=state.creator_id, reason=reason, now=now
        )


def unreject_video(
    con: duckdb.DuckDBPyConnection, campaign_id: str, video_id: str, *, reason: str | None, now: datetime
) -> None:
    """Reverse a rejection (an automatic one too): the video pays its frozen amount again."""
    with transaction(con):
        _require_payable_video(con, campaign_id, video_id)
        state = video_ledger(con, campaign_id, video_id)
        if not state.rejected:
            raise ProgramsError(f"Video {video_id!r} is not rejected in {campaign_id!r}; nothing to reverse.")
        _append_entry(
            con, "unrejection", campaign_id, video_id=video_id, creator_id=state.creator_id, reason=reason, now=now
        )


def adjust(
    con: duckdb.DuckDBPyConnection,
    campaign_id: str,
    creator_id: str,
    amount_minor: int,
    currency: str,
    *,
    reason: str,
    now: datetime,
) -> int:
    """Record an adjustment (a bonus, or a negative correction) to a creator's balance in a campaign."""
    if amount_minor == 0:
        raise ProgramsError("An adjustment of 0 changes nothing; give a positive or negative amount.")
    if not reason.strip():
        raise ProgramsError("Say why with --reason: an adjustment without a reason cannot be audited.")
    with transaction(con):
        _require_campaign(con, campaign_id)
        if not con.execute("SELECT 1 FROM registry.creators WHERE creator_id = ?", [creator_id]).fetchall():
            raise ProgramsNotFound(f"No creator {creator_id!r}; `viewtrail creator list` shows the creators.")
        return _append_entry(
            con,
            "adjustment",
            campaign_id,
            creator_id=creator_id,
            amount_minor=amount_minor,
            currency=currency,
            reason=reason.strip(),
            now=now,
        )


@dataclass(frozen=True, slots=True)
class Payment:
    creator_id: str | None
    currency: str
    videos: int
    amount_minor: int


def mark_paid(
    con: duckdb.DuckDBPyConnection, campaign_id: str, creator_id: str | None, *, reference: str, now: datetime
) -> list[Payment]:
    """Pay what is due in a campaign (to one creator, or to every creator): one payment entry per finalized,
    accepted, unpaid video, and one for the adjustments not yet paid; all with the reference given."""
    if not reference.strip():
        raise ProgramsError("Give the payment's reference (--reference, e.g. the bank transfer id).")
    with transaction(con):
        _require_campaign(con, campaign_id)
        videos = con.execute(
            """
            WITH last_decision AS (
                SELECT video_id, arg_max(entry_kind, entry_id) AS kind FROM raw.payout_entries
                WHERE campaign_id = ? AND entry_kind IN ('rejection', 'unrejection') GROUP BY video_id
            )
            SELECT f.video_id, f.creator_id, f.amount_minor, f.currency FROM raw.payout_finalizations AS f
            LEFT JOIN last_decision AS d USING (video_id)
            WHERE f.campaign_id = ? AND (? IS NULL OR f.creator_id = ?) AND coalesce(d.kind, '') <> 'rejection'
              AND NOT EXISTS (SELECT 1 FROM raw.payout_entries AS p WHERE p.entry_kind = 'payment'
                              AND p.campaign_id = f.campaign_id AND p.video_id = f.video_id)
            ORDER BY f.video_id
            """,
            [campaign_id, campaign_id, creator_id, creator_id],
        ).fetchall()
        adjustments = con.execute(
            """
            SELECT creator_id, currency, sum(CASE WHEN entry_kind = 'adjustment' THEN amount_minor
                                                  ELSE -amount_minor END) AS open
            FROM raw.payout_entries
            WHERE campaign_id = ? AND (? IS NULL OR creator_id = ?) AND video_id IS NULL
              AND entry_kind IN ('adjustment', 'payment')
            GROUP BY creator_id, currency HAVING open <> 0
            """,
            [campaign_id, creator_id, creator_id],
        ).fetchall()
        totals: dict[tuple[str | None, str], list[int]] = defaultdict(lambda: [0, 0])
        for video_id, creator, amount, currency in videos:
            _append_entry(
                con,
                "payment",
                campaign_id,
                video_id=video_id,
                creator_id=creator,
                amount_minor=amount,
                currency=currency,
                reference=reference.strip(),
                now=now,
            )
            totals[(creator, currency)][0] += 1
            totals[(creator, currency)][1] += amount
        for creator, currency, open_amount in adjustments:
            _append_entry(
                con,
                "payment",
                campaign_id,
                creator_id=creator,
                amount_minor=int(open_amount),
                currency=currency,
                reference=reference.strip(),
                now=now,
            )
            totals[(creator, currency)][1] += int(open_amount)
    return [Payment(c, cur, n, amount) for (c, cur), (n, amount) in sorted(totals.items(), key=str)]


# ------------------------------------------------------------------------------------------------------ goals


@dataclass(frozen=True, slots=True)
class Goal:
    goal_id: int
    creator_id: str
    metric: GoalMetric
    period: GoalPeriod
    target: float
    starts_on: date
    ends_on: date | None


def add_goal(
    con: duckdb.DuckDBPyConnection,
    creator_id: str,
    metric: GoalMetric,
    period: GoalPeriod,
    target: float,
    *,
    starts_on: date,
    ends_on: date | None,
    now: datetime,
) -> Goal:
    if target <= 0:
        raise ProgramsError("A goal's target must be more than 0; e.g. 15 posts per week.")
    if ends_on is not None and ends_on < starts_on:
        raise ProgramsError("The goal ends before it starts; give an end date on or after the start date.")
    with transaction(con):
        if not con.execute("SELECT 1 FROM registry.creators WHERE creator_id = ?", [creator_id]).fetchall():
            raise ProgramsNotFound(f"No creator {creator_id!r}; `viewtrail creator list` shows the creators.")
        # never a removed goal's id: the alert events it fired name it, and their dedup keys are keyed by it
        goal_id = _count(
            con,
            "SELECT greatest((SELECT coalesce(max(goal_id), 0) FROM registry.creator_goals),"
            " (SELECT coalesce(max((numbers->>'goal_id')::BIGINT), 0) FROM raw.alert_events"
            "  WHERE kind = 'creator_goal')) + 1",
            [],
        )
        con.execute(
            "INSERT INTO registry.creator_goals VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [goal_id, creator_id, metric.value, period.value, target, starts_on, ends_on, now],
        )
    return Goal(goal_id, creator_id, metric, period, target, starts_on, ends_on)


def list_goals(con: duckdb.DuckDBPyConnection, creator_id: str | None = None) -> list[Goal]:
    rows = con.execute(
        "SELECT goal_id, creator_id, metric, period, target, starts_on, ends_on FROM registry.creator_goals"
        " WHERE ? IS NULL OR creator_id = ? ORDER BY goal_id",
        [creator_id, creator_id],
    ).fetchall()
    return [Goal(int(g), c, GoalMetric(m), GoalPeriod(p), float(t), s, e) for g, c, m, p, t, s, e in rows]


def remove_goal(con: duckdb.DuckDBPyConnection, goal_id: int) -> None:
    with transaction(con):
        if not con.execute("SELECT 1 FROM registry.creator_goals WHERE goal_id = ?", [goal_id]).fetchall():
            raise ProgramsNotFound(f"No goal {goal_id}; `viewtrail goal list` shows the goals and their ids.")
        con.execute("DELETE FROM registry.creator_goals WHERE goal_id = ?", [goal_id])
