"""The daily retention clean-up deletes finished runs older than the retention with their event logs, and keeps
younger ones and runs still going."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter, asset, materialize

from orchestration.defs.maintenance import delete_old_runs
from viewtrail import clock


@asset
def tiny() -> int:
    return 1


def test_finished_runs_older_than_the_retention_are_deleted_with_their_event_logs():
    with DagsterInstance.ephemeral() as instance:
        finished = [materialize([tiny], instance=instance).run_id for _ in range(3)]
        running = DagsterRun(job_name="__ASSET_JOB", run_id="f" * 36, status=DagsterRunStatus.STARTED)
        instance.add_run(running)
        assert all(instance.all_logs(run_id) for run_id in finished)

        assert delete_old_runs(instance, timedelta(days=7)) == 0  # all of today: kept
        with clock.pinned(clock.utc_now() + timedelta(days=5)):
            assert delete_old_runs(instance, timedelta(days=7)) == 0  # five days old: kept
        with clock.pinned(clock.utc_now() + timedelta(days=8)):
            assert delete_old_runs(instance, timedelta(days=7)) == 3  # eight days old: gone

        assert {r.run_id for r in instance.get_runs(RunsFilter())} == {running.run_id}
        assert all(instance.all_logs(run_id) == [] for run_id in finished)


def test_the_captured_stdout_and_stderr_of_a_deleted_run_go_with_it():
    with DagsterInstance.local_temp() as instance:
        run_id = materialize([tiny], instance=instance).run_id
        logs = Path(instance.compute_log_manager._base_dir)  # the local manager keeps one directory per run
        assert (logs / run_id).is_dir()
        with clock.pinned(clock.utc_now() + timedelta(days=8)):
            assert delete_old_runs(instance, timedelta(days=7)) == 1
        assert not (logs / run_id).exists()
