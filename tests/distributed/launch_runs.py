"""Launch runs of a viewtrail job the way the daemon's run worker does: a reconstructable job of the code location
executed in this process, its steps submitted to the job's executor (Celery, when VIEWTRAIL_CELERY_BROKER is set).

Usage: python launch_runs.py JOB PARTITION_START PARTITION_END PLATFORMS [ROUNDS BARRIER_DIR SIDE]

Prints one line per run: ``<run id> <status>``. With ROUNDS, launches that many runs one after the other, each at
the same instant as the other SIDE's: both sides write ``<round>.<side>`` into BARRIER_DIR and wait for each
other's before launching."""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

warnings.simplefilter("ignore")


def _barrier(directory: Path, round_: int, side: str) -> None:
    (directory / f"{round_}.{side}").touch()
    deadline = time.monotonic() + 600
    while len(list(directory.glob(f"{round_}.*"))) < 2:
        if time.monotonic() > deadline:
            raise SystemExit(f"the other launcher never reached round {round_}")
        time.sleep(0.01)


def main() -> None:
    if os.environ.get("VT_TEST_FAST_TICKS"):
        # dagster-celery's run loop checks its tasks once a second; the many-runs test checks them more often
        import dagster_celery.core_execution_loop

        dagster_celery.core_execution_loop.TICK_SECONDS = 0.1
    from dagster import AssetKey, DagsterInstance, execute_job
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    job, start, end, platforms = sys.argv[1:5]
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    barrier = Path(sys.argv[6]) if len(sys.argv) > 6 else None
    side = sys.argv[7] if len(sys.argv) > 7 else "a"
    repository = ReconstructableRepository.for_module(
        "orchestration.definitions", "defs", working_directory=os.getcwd()
    )
    recon = repository.get_reconstructable_job(job)
    prefix = "scrapes" if job == "scrape_snapshots" else "discovery"
    raw = "{}_snapshots" if job == "scrape_snapshots" else "{}_accounts"
    plan = "{}" if job == "scrape_snapshots" else "{}_accounts"
    selection = [
        k
        for p in platforms.split(",")
        for k in (AssetKey(["plans", plan.format(p)]), AssetKey([prefix, p]), AssetKey(["raw", raw.format(p)]))
    ]
    tags = {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}
    failed = False
    with DagsterInstance.get() as instance:
        for round_ in range(rounds):
            if barrier is not None:
                _barrier(barrier, round_, side)
            with execute_job(recon, instance, tags=tags, asset_selection=selection, raise_on_error=False) as result:
                print(result.run_id, "success" if result.success else "failure", flush=True)
                failed = failed or not result.success
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
