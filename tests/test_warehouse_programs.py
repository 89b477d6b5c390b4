"""Creator programs in the warehouse: campaigns nest without loops and count a video once, the finalization step
freezes payable views exactly once under the terms in force, and the ledger (rejections, adjustments, payments)
only grows and balances."""

from __future__ import annotations

from datetime import timedelta

import pytest
from programs_support import T, add_creator, add_snapshots, add_video

from viewtrail.domain.programs import PayoutTerms, parse_tiers, single_cpm
from viewtrail.warehouse import open_warehouse
from viewtrail.warehouse import programs as wp
from viewtrail.warehouse.programs import Campaign, ProgramsError

D = timedelta(days=1)
H = timedelta(hours=1)


@pytest.fixture
def con(warehouse_path):
    with open_warehouse(warehouse_path) as connection:
        add_creator(connection, "ana", "tiktok:ana")
        add_creator(connection, "ben", "youtube:ben")
        yield connection


def campaign(con, campaign_id: str, parent: str | None = None) -> None:
    wp.create_campaign(con, Campaign(campaign_id, campaign_id.title(), parent, None, None, None, None, None), now=T)


def usd(cpm: int = 50, cap: int | None = 500_000, **kw) -> PayoutTerms:
    return PayoutTerms("USD", single_cpm(cpm), cap, **kw)


def finalizations(con):
    return con.execute(
        "SELECT campaign_id, video_id, payable_views, views_how, is_interpolated, amount_minor, terms_id"
        " FROM raw.payout_finalizations ORDER BY ALL"
    ).fetchall()


def test_nesting_refuses_a_loop_and_a_video_in_two_sub_campaigns_counts_once(con):
    campaign(con, "spring")
    campaign(con, "tiktok", "spring")
    campaign(con, "shorts", "tiktok")
    with pytest.raises(ProgramsError, match="cannot hold it"):
        wp.nest_campaign(con, "spring", "shorts", now=T)
    with pytest.raises(ProgramsError, match="cannot hold it"):
        wp.nest_campaign(con, "spring", "spring", now=T)
    add_video(con, "tiktok:1", account_id="tiktok:ana", posted_at=T, labels=["launch"])
    add_video(con, "tiktok:2", account_id="tiktok:ana", posted_at=T)
    add_video(con, "youtube:3", account_id="youtube:ben", posted_at=T, labels=["launch"])
    wp.add_members(con, "shorts", "video", ["tiktok:1"], now=T)
    wp.add_members(con, "tiktok", "creator", ["ana"], now=T)  # tiktok:1 again, and tiktok:2
    wp.add_members(con, "spring", "label", ["launch"], now=T)  # tiktok:1 a third time, and youtube:3
    assert wp.campaign_video_ids(con, "spring") == ["tiktok:1", "tiktok:2", "youtube:3"]
    assert wp.campaign_video_ids(con, "shorts") == ["tiktok:1"]
    with pytest.raises(ProgramsError, match="No video"):
        wp.add_members(con, "spring", "video", ["tiktok:404"], now=T)


def test_finalization_freezes_the_worked_example_once_and_a_late_snapshot_changes_nothing(con):
    campaign(con, "spring")
    add_video(con, "tiktok:1", account_id="tiktok:ana", posted_at=T, snapshots=[(T + 6 * D, 300_000)])
    add_video(con, "tiktok:2", account_id="tiktok:ana", posted_at=T, snapshots=[(T + 7 * D, 1_200_000)])
    wp.add_members(con, "spring", "creator", ["ana"], now=T)
    terms_id = wp.add_terms(con, "spring", usd(), creator_id=None, effective_from=T, now=T)

    summary = wp.finalize_payouts(con, now=T + 7 * D)
    assert (summary.finalized, summary.interpolated) == (1, 0)  # tiktok:1 has no snapshot after its end yet
    add_snapshots(con, "tiktok:1", [(T + 8 * D, 340_000)])
    assert wp.finalize_payouts(con, now=T + 8 * D).finalized == 1
    expected = [
        ("spring", "tiktok:1", 320_000, "interpolated", True, 16_000, terms_id),
        ("spring", "tiktok:2", 500_000, "observed", False, 25_000, terms_id),
    ]
    assert finalizations(con) == expected

    add_snapshots(con, "tiktok:1", [(T + 7 * D, 999_999), (T + 30 * D, 2_000_000)])  # late, after finalization
    assert wp.finalize_payouts(con, now=T + 30 * D).finalized == 0
    assert finalizations(con) == expected  # frozen for good
    (logged,) = con.execute("SELECT count(*) FROM meta.write_log WHERE kind = 'payout_finalization'").fetchall()[0]
    assert logged == 3


def test_a_terms_edit_reaches_unfinalized_videos_only(con):
    campaign(con, "spring")
    add_video(con, "tiktok:1", account_id="tiktok:ana", posted_at=T, snapshots=[(T + 7 * D, 100_000)])
    add_video(con, "tiktok:2", account_id="tiktok:ana", posted_at=T + 5 * D, snapshots=[(T + 12 * D, 100_000)])
    wp.add_members(con, "spring", "account", ["tiktok:ana"], now=T)
    first = wp.add_terms(con, "spring", usd(cpm=50), creator_id=None, effective_from=T, now=T)
    wp.finalize_payouts(con, now=T + 7 * D)
    edit = wp.add_terms(con, "spring", usd(cpm=80), creator_id=None, effective_from=T + 8 * D, now=T + 8 * D)
    wp.finalize_payouts(con, now=T + 12 * D)
    assert [(r[1], r[5], r[6]) for r in finalizations(con)] == [("tiktok:1", 5_000, first), ("tiktok:2", 8_000, edit)]


def test_a_creator_override_sets_its_own_window_and_tiers(con):
    campaign(con, "spring")
    add_video(con, "tiktok:1", account_id="tiktok:ana", posted_at=T, snapshots=[(T + 3 * D, 200_000)])
    add_video(con, "youtube:2", account_id="youtube:ben", posted_at=T, snapshots=[(T + 3 * D, 200_000)])
    wp.add_members(con, "spring", "creator", ["ana", "ben"], now=T)
    wp.add_terms(con, "spring", usd(), creator_id=None, effective_from=T, now=T)
    tiered = PayoutTerms("USD", parse_tiers("0:20,100000:40"), None, window_hours=72)
    wp.add_terms(con, "spring", tiered, creator_id="ana", effective_from=T, now=T)
    wp.finalize_payouts(con, now=T + 3 * D)
    assert [(r[1], r[2], r[5]) for r in finalizations(con)] == [("tiktok:1", 200_000, 8_000)]  # ben: 7 days


def test_one_tree_pays_a_video_once(con):
    campaign(con, "spring")
    campaign(con, "tiktok", "spring")
    campaign(con, "launch", "spring")
    add_video(con, "tiktok:1", account_id="tiktok:ana", posted_at=T, labels=["launch"], snapshots=[(T + 7 * D, 10)])
    wp.add_members(con, "tiktok", "creator", ["ana"], now=T)
    wp.add_members(con, "launch", "label", ["launch"], now=T)
    wp.add_terms(con, "spring", usd(), creator_id=None, effective_from=T, now=T)
    wp.add_terms(con, "tiktok", usd(cpm=70), creator_id=None, effective_from=T, now=T)
    wp.finalize_payouts(con, now=T + 7 * D)
    assert [(r[0], r[1]) for r in finalizations(con)] == [("tiktok", "tiktok:1")]


def test_auto_reject_under_the_minimum_is_reversible_and_the_ledger_balances(con):
    campaign(con, "spring")
    add_video(con, "tiktok:1", account_id="tiktok:ana", posted_at=T, snapshots=[(T + 7 * D, 999)])
    add_video(con, "tiktok:2", account_id="tiktok:ana", posted_at=T, snapshots=[(T + 7 * D, 320_000)])
    wp.add_members(con, "spring", "creator", ["ana"], now=T)
    wp.add_terms(con, "spring", usd(min_views=1_000), creator_id=None, effective_from=T, now=T)
    assert wp.finalize_payouts(con, now=T + 7 * D).auto_rejected == 1
    assert wp.video_ledger(con, "spring", "tiktok:1").rejected

    wp.adjust(con, "spring", "ana", 1_500, "USD", reason="launch bonus", now=T + 8 * D)
    (payment,) = wp.mark_paid(con, "spring", "ana", reference="TR-1", now=T + 8 * D)
    assert (payment.videos, payment.amount_minor) == (1, 16_000 + 1_500)
    assert wp.mark_paid(con, "spring", "ana", reference="TR-2", now=T + 8 * D) == []  # nothing left to pay

    wp.unreject_video(con, "spring", "tiktok:1", reason="checked by hand", now=T + 9 * D)
    (late,) = wp.mark_paid(con, "spring", None, reference="TR-3", now=T + 9 * D)
    assert (late.creator_id, late.amount_minor) == ("ana", 50)  # 999 views at 0.50: 49.95 cents round to 50
    with pytest.raises(ProgramsError, match="negative adjustment"):
        wp.reject_video(con, "spring", "tiktok:2", reason=None, now=T + 9 * D)

    kinds = [k for (k,) in con.execute("SELECT entry_kind FROM raw.payout_entries ORDER BY entry_id").fetchall()]
    assert kinds == ["rejection", "adjustment", "payment", "payment", "unrejection", "payment"]
    balance = con.execute(
        """
        SELECT (SELECT sum(amount_minor) FROM raw.payout_finalizations)
             + (SELECT sum(amount_minor) FROM raw.payout_entries WHERE entry_kind = 'adjustment')
             - (SELECT sum(amount_minor) FROM raw.payout_entries WHERE entry_kind = 'payment')
        """
    ).fetchall()[0][0]
    assert balance == 0


def test_a_crash_inside_the_finalization_stores_nothing_and_the_rerun_stores_each_once(con, monkeypatch):
    campaign(con, "spring")
    for n in range(3):
        add_video(con, f"tiktok:{n}", account_id="tiktok:ana", posted_at=T, snapshots=[(T + 7 * D, 1_000 * n)])
    wp.add_members(con, "spring", "creator", ["ana"], now=T)
    wp.add_terms(con, "spring", usd(min_views=500), creator_id=None, effective_from=T, now=T)
    calls = []
    real = wp.views_at

    def dies_on_the_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(wp, "views_at", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        wp.finalize_payouts(con, now=T + 7 * D)
    assert finalizations(con) == []
    assert con.execute("SELECT count(*) FROM raw.payout_entries").fetchall() == [(0,)]
    monkeypatch.setattr(wp, "views_at", real)
    assert wp.finalize_payouts(con, now=T + 7 * D).finalized == 3
    assert wp.finalize_payouts(con, now=T + 7 * D).finalized == 0
    assert len(finalizations(con)) == 3
    assert con.execute("SELECT count(*) FROM raw.payout_entries").fetchall() == [(1,)]  # tiktok:0, auto-rejected


def test_goals_are_stored_listed_and_removed(con):
    from datetime import date

    from viewtrail.domain.programs import GoalMetric, GoalPeriod

    goal = wp.add_goal(
        con, "ana", GoalMetric.POSTS, GoalPeriod.WEEK, 15, starts_on=date(2027, 3, 1), ends_on=None, now=T
    )
    assert wp.list_goals(con, "ana") == [goal]
    with pytest.raises(ProgramsError, match="No creator"):
        wp.add_goal(con, "zed", GoalMetric.POSTS, GoalPeriod.WEEK, 15, starts_on=date(2027, 3, 1), ends_on=None, now=T)
    wp.remove_goal(con, goal.goal_id)
    assert wp.list_goals(con) == []


# A finalization killed inside its transaction, after some rows were inserted: the process stalls on the third
# video's window (views_at), having stored the first two in the open transaction, and the parent SIGKILLs it.
KILLED_FINALIZATION = """
import sys, time
from datetime import datetime
from viewtrail.warehouse import open_warehouse
from viewtrail.warehouse import programs as wp

real, calls = wp.views_at, []
def stalls_on_the_third(*args, **kwargs):
    calls.append(1)
    if len(calls) == 3:
        print("stalled", flush=True)
        time.sleep(3600)
    return real(*args, **kwargs)

wp.views_at = stalls_on_the_third
with open_warehouse(sys.argv[1]) as con:
    wp.finalize_payouts(con, now=datetime.fromisoformat(sys.argv[2]))
"""


def test_a_finalization_killed_mid_write_leaves_nothing_and_the_rerun_stores_each_once(warehouse_path):
    import signal
    import subprocess
    import sys

    with open_warehouse(warehouse_path) as con:
        add_creator(con, "ana", "tiktok:ana")
        campaign(con, "spring")
        for n in range(4):
            add_video(con, f"tiktok:{n}", account_id="tiktok:ana", posted_at=T, snapshots=[(T + 7 * D, 1_000 * n)])
        wp.add_members(con, "spring", "creator", ["ana"], now=T)
        wp.add_terms(con, "spring", usd(min_views=500), creator_id=None, effective_from=T, now=T)
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_FINALIZATION, str(warehouse_path), (T + 7 * D).isoformat()],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "stalled"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    with open_warehouse(warehouse_path) as con:
        assert finalizations(con) == []  # the two rows of the killed transaction are gone
        assert wp.finalize_payouts(con, now=T + 7 * D).finalized == 4
        assert wp.finalize_payouts(con, now=T + 8 * D).finalized == 0
        assert [r[5] for r in finalizations(con)] == [0, 50, 100, 150]
        assert con.execute("SELECT count(*) FROM raw.payout_entries").fetchall() == [(1,)]  # tiktok:0 rejected
