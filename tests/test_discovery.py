"""Discovery planning (which watched accounts an hour discovers) and its staged batches."""

from __future__ import annotations

from datetime import datetime, timedelta

from viewtrail.clock import pinned
from viewtrail.domain.models import (
    AccountAttempt,
    AccountObservation,
    AccountResult,
    AccountToDiscover,
    DiscoveredVideo,
    Outcome,
    Platform,
    VideoRef,
)
from viewtrail.pipeline import staging
from viewtrail.planning.discovery import WatchedAccount, execute_discoveries, plan_discoveries
from viewtrail.planning.scheduling import hours_in

START = datetime(2030, 3, 4)


def _watched(handle: str, *, added_at: datetime = START, cadence: float = 6, last: datetime | None = None):
    account = AccountToDiscover(
        account_id=f"tiktok:{handle}", platform=Platform.TIKTOK, handle=handle, url=f"https://www.tiktok.com/@{handle}"
    )
    return WatchedAccount(account=account, cadence_hours=cadence, added_at=added_at, last_attempted_at=last)


def test_a_replay_discovers_each_account_every_cadence_hours_from_when_it_was_watched():
    hours = hours_in(START, START + timedelta(days=1))
    plan = plan_discoveries(
        [_watched("a"), _watched("b", added_at=START + timedelta(hours=5, minutes=30))], hours, observes_past=True
    )
    by_account: dict[str, list[datetime]] = {}
    for step in plan.steps:
        for account in step.accounts:
            assert step.hour <= account.observe_at < step.hour + timedelta(hours=1)
            by_account.setdefault(account.handle, []).append(account.observe_at)
    assert len(by_account["a"]) == 4  # hours 0, 6, 12, 18
    assert by_account["b"][0] > START + timedelta(hours=5, minutes=30)  # never observed before it was watched
    for times in by_account.values():
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert all(timedelta(hours=5) <= gap <= timedelta(hours=7) for gap in gaps)


def test_an_account_attempted_recently_is_not_due_until_its_cadence_has_passed():
    hour = START + timedelta(hours=10)
    recent = _watched("a", last=hour - timedelta(hours=2))
    old = _watched("b", last=hour - timedelta(hours=6))
    plan = plan_discoveries([recent, old], [hour], observes_past=True)
    assert [a.handle for step in plan.steps for a in step.accounts] == ["b"]


def test_a_replay_observes_the_same_instants_when_run_again():
    hours = hours_in(START, START + timedelta(hours=30))
    first = plan_discoveries([_watched("a"), _watched("b")], hours, observes_past=True)
    again = plan_discoveries([_watched("a"), _watched("b")], hours, observes_past=True)
    assert first == again


def test_a_real_client_plans_only_the_last_hour_and_observes_now():
    hours = hours_in(START, START + timedelta(hours=3))
    with pinned(START + timedelta(hours=3, minutes=2)):
        plan = plan_discoveries([_watched("a")], hours, observes_past=False)
    assert [s.hour for s in plan.steps] == [hours[-1]]
    assert plan.steps[0].accounts[0].observe_at == START + timedelta(hours=3, minutes=2)


def test_a_targeted_plan_discovers_named_accounts_whatever_their_cadence():
    hour = START + timedelta(hours=10)
    plan = plan_discoveries([_watched("a", last=hour)], [hour], observes_past=True, targeted=True)
    assert [a.handle for step in plan.steps for a in step.accounts] == ["a"]


def _result(account: AccountToDiscover, run_id: str | None, key: str) -> AccountResult:
    at = account.observe_at
    attempt = AccountAttempt(
        account.account_id,
        account.platform,
        at,
        Outcome.OK,
        http_status=200,
        source="simulated",
        run_id=run_id,
        partition_key=key,
        videos_listed=1,
    )
    observation = AccountObservation(
        account.account_id,
        at,
        followers=10,
        following=None,
        likes=5,
        video_count=1,
        views=None,
        handle=account.handle,
        extra={"sec_uid": "MS4w"},
    )
    video = DiscoveredVideo(
        VideoRef(Platform.TIKTOK, "7300000000000000001", "https://www.tiktok.com/@a/video/7300000000000000001", "a"),
        posted_at=at - timedelta(hours=1),
        title="t",
    )
    return AccountResult(attempt, observation, [video])


def test_discoveries_stage_and_load_back_unchanged_grouped_by_hour(tmp_path):
    hours = hours_in(START, START + timedelta(hours=13))
    plan = plan_discoveries([_watched("a"), _watched("b")], hours, observes_past=True)
    outcome = execute_discoveries(
        plan, lambda accounts, run_id, key: [_result(a, run_id, key) for a in accounts], run_id="run-1"
    )
    assert outcome.outcome_counts() == {"ok": 6}
    path = staging.stage_accounts(tmp_path, Platform.TIKTOK, "batch-1", outcome.steps)
    assert staging.load_accounts(path) == outcome.steps
    assert staging.load_accounts(staging.account_batch_dir(tmp_path, Platform.TIKTOK, "never")) is None
