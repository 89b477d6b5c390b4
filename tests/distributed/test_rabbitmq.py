"""The Celery topology with RabbitMQ as the broker (docs/deploy.md accepts Redis or RabbitMQ): the same cases as
``test_celery.py`` on Redis, each test in a RabbitMQ vhost of its own, with Celery's ``rpc://`` result backend (the
default viewtrail picks for an AMQP broker: results go back to the run's process over the broker, no second
service)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.distributed import cluster as topology
from tests.distributed import test_celery as on_redis
from tests.distributed.conftest import pg_url, s3_environment


@pytest.fixture
def cluster(
    tmp_path: Path, pg_database: str, s3_bucket: str, s3_endpoint: str, rabbitmq_broker: str
) -> Iterator[topology.Cluster]:
    made = topology.make_cluster(
        tmp_path, pg_url, pg_database, s3_bucket, s3_environment(s3_endpoint), broker=rabbitmq_broker, backend="rpc://"
    )
    try:
        yield made
    finally:
        made.stop()


@pytest.mark.timeout(900)
def test_on_rabbitmq_the_hourly_job_on_two_scrape_workers_and_one_warehouse_worker_lands_the_rows_of_an_in_process_run(
    cluster: topology.Cluster, tmp_path: Path
):
    on_redis.test_the_hourly_job_on_two_scrape_workers_and_one_warehouse_worker_lands_the_rows_of_an_in_process_run(
        cluster, tmp_path
    )


@pytest.mark.timeout(900)
def test_on_rabbitmq_a_scrape_worker_killed_mid_scrape_loses_and_duplicates_nothing_once_the_partition_is_re_run(
    cluster: topology.Cluster, tmp_path: Path
):
    on_redis.test_a_worker_killed_mid_step_loses_and_duplicates_nothing_once_the_partition_is_re_run(
        cluster, tmp_path, "scrape1", "scrape", "scrape"
    )
