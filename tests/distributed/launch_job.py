"""Launch one run of a viewtrail job the way the daemon's run worker does (a reconstructable job of the code location
executed in this process, its steps submitted to the job's executor: Celery, when VIEWTRAIL_CELERY_BROKER is set),
with the run config and tags a sensor or the UI would give it.

Usage: python launch_job.py JOB RUN_CONFIG_JSON TAGS_JSON [ASSET_KEY ...]   (keys as ``raw/tiktok_snapshots``)

Prints one line: ``<run id> <status>``."""

from __future__ import annotations

import json
import os
import sys
import warnings

warnings.simplefilter("ignore")


def main() -> None:
    from dagster import AssetKey, DagsterInstance, execute_job
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    job, run_config, tags, *keys = sys.argv[1:]
    repository = ReconstructableRepository.for_module(
        "orchestration.definitions", "defs", working_directory=os.getcwd()
    )
    selection = [AssetKey.from_user_string(k) for k in keys] or None
    with DagsterInstance.get() as instance:
        with execute_job(
            repository.get_reconstructable_job(job),
            instance,
            run_config=json.loads(run_config),
            tags=json.loads(tags),
            asset_selection=selection,
            raise_on_error=False,
        ) as result:
            print(result.run_id, "success" if result.success else "failure", flush=True)
    sys.exit(0 if result.success else 1)


if __name__ == "__main__":
    main()
