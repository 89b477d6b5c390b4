"""Every step names its Celery queue, and every step that writes the warehouse is on the one-writer queue.

Without a Celery broker (the default) the tag changes nothing; with one, a step without it would go to Celery's
default queue, which no viewtrail worker serves, and a warehouse write on the scrape queue could run on a host
without the warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.defs.queues import QUEUE_TAG, SCRAPE_QUEUE, WAREHOUSE_QUEUE


@pytest.fixture(scope="module")
def definitions(tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("queues")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIEWTRAIL_DATA_DIR", str(data))
        patch.setenv("VIEWTRAIL_WAREHOUSE", str(Path(data) / "warehouse.duckdb"))
        from orchestration.definitions import defs

        yield defs()


def _steps(definitions):
    for job in definitions.resolve_all_job_defs():
        if job.name.startswith("__"):
            continue
        for node in job.graph.iterate_op_defs():
            yield job.name, node


def test_every_step_of_every_job_names_a_queue_and_every_pooled_step_is_on_the_warehouse_queue(definitions):
    seen = {}
    for job, op in _steps(definitions):
        queue = op.tags.get(QUEUE_TAG)
        assert queue in (SCRAPE_QUEUE, WAREHOUSE_QUEUE), f"{job}: {op.name} names no queue ({QUEUE_TAG})"
        if op.pool == "duckdb":
            assert queue == WAREHOUSE_QUEUE, f"{job}: {op.name} writes the warehouse but goes to {queue}"
        seen[op.name] = queue
    assert seen["scrapes__tiktok"] == SCRAPE_QUEUE and seen["raw__tiktok_snapshots"] == WAREHOUSE_QUEUE
    assert seen["viewtrail_dbt"] == WAREHOUSE_QUEUE and seen["analytics_copy"] == WAREHOUSE_QUEUE
    assert {q for name, q in seen.items() if name.startswith(("scrapes__", "discovery__"))} == {SCRAPE_QUEUE}
    # the plans read the warehouse: on its host, so the scrape workers need no warehouse file
    assert {q for name, q in seen.items() if name.startswith("plans__")} == {WAREHOUSE_QUEUE}
