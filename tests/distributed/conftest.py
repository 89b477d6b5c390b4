"""Fixtures of the distributed suite (``make test-distributed``): real PostgreSQL, a broker and an S3 server.

Each test gets its own PostgreSQL database, Redis key prefix (a database number) or RabbitMQ vhost, and bucket,
and removes them after: other suites may be running on the same services at the same time. A service that is down fails the test with a
sentence saying which and how to start it (``.ci/run`` starts them before this suite)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.distributed import cluster as topology

PG_HOST = os.environ.get("VIEWTRAIL_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("VIEWTRAIL_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("VIEWTRAIL_TEST_PG_USER", "postgres")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def pg_url(database: str, driver: str = "") -> str:
    scheme = f"postgresql+{driver}" if driver else "postgresql"
    return f"{scheme}://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def _admin():
    import psycopg2

    con = psycopg2.connect(pg_url("postgres"))
    con.autocommit = True
    return con


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database of this test (its name), dropped afterwards with whatever still uses it."""
    if not _reachable(PG_HOST, PG_PORT):
        pytest.fail(f"PostgreSQL is not listening on {PG_HOST}:{PG_PORT}; start it (see .ci/run) and run again.")
    name = f"vt_test_{uuid.uuid4().hex[:12]}"
    con = _admin()
    try:
        with con.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield name
    finally:
        with con.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 (in this process, a thread), for the whole session."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


#: What a host needs to reach the test S3 server (boto3 reads these itself).
def s3_environment(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A bucket of this test on the S3 server (the process's boto3 pointed at it), emptied and removed after."""
    import boto3

    from viewtrail.pipeline import object_staging

    for name, value in s3_environment(s3_endpoint).items():
        monkeypatch.setenv(name, value)
    object_staging._client.cache_clear()
    client = boto3.client("s3")
    bucket = f"vt-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    try:
        yield bucket
    finally:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=item["Key"])
        client.delete_bucket(Bucket=bucket)
        object_staging._client.cache_clear()


RABBITMQ_HOST = os.environ.get("VIEWTRAIL_TEST_RABBITMQ_HOST", "127.0.0.1")
RABBITMQ_PORT = int(os.environ.get("VIEWTRAIL_TEST_RABBITMQ_PORT", "5672"))


def _rabbitmqctl(*args: str) -> None:
    import subprocess

    subprocess.run(["rabbitmqctl", "--quiet", *args], check=True, capture_output=True, timeout=120)


@pytest.fixture
def rabbitmq_broker() -> Iterator[str]:
    """An AMQP URL of a RabbitMQ vhost of this test (guest may use it), deleted afterwards with its queues."""
    if not _reachable(RABBITMQ_HOST, RABBITMQ_PORT):
        pytest.fail(
            f"RabbitMQ is not listening on {RABBITMQ_HOST}:{RABBITMQ_PORT}; start it (rabbitmq-server -detached, "
            "see .ci/run) and run again."
        )
    vhost = f"vt_test_{uuid.uuid4().hex[:12]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@{RABBITMQ_HOST}:{RABBITMQ_PORT}/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def cluster(tmp_path: Path, pg_database: str, s3_bucket: str, s3_endpoint: str) -> Iterator[topology.Cluster]:
    """The topology on Redis (test_rabbitmq.py overrides it with RabbitMQ), stopped after the test."""
    made = topology.make_cluster(tmp_path, pg_url, pg_database, s3_bucket, s3_environment(s3_endpoint))
    try:
        yield made
    finally:
        made.stop()
