"""The executors of viewtrail's jobs: on one machine, local processes (the fanned-out hourly scrape and discovery)
or the run's own process (the builds, the sensors' targeted scrapes, anything launched from the UI); Celery
workers on any hosts for all of them when ``VIEWTRAIL_CELERY_BROKER`` is set.

The choice is made when a run starts, from the settings of the host that runs it (the daemon's), so one code
location serves a single machine and a deployment alike, and ``make test`` never imports dagster-celery. Their
configuration is the local executor's (``max_concurrent`` ...), which a Celery run ignores: there, the
workers' own ``--concurrency`` decides. Steps go to the queue their op tag names (``orchestration.defs.queues``).
"""

from __future__ import annotations

import socket
from typing import Any

from dagster import Executor, InitExecutorContext, executor, multiple_process_executor_requirements
from dagster import in_process_executor as _in_process
from dagster import multiprocess_executor as _multiprocess
from dagster._core.execution.retries import RetryMode

from viewtrail import config


class CeleryMissingError(RuntimeError):
    pass


@executor(
    name="viewtrail_fanned_out",
    config_schema=_multiprocess.config_schema,
    requirements=multiple_process_executor_requirements(),
)
def fanned_out_executor(init_context: InitExecutorContext) -> Executor:
    """Local processes, or Celery workers when ``VIEWTRAIL_CELERY_BROKER`` is set on the host running the run."""
    if config.settings().celery_broker is None:
        creation = _multiprocess.executor_creation_fn
        assert creation is not None
        return creation(init_context)
    return _celery(init_context)


def _when_on_celery(_executor_config: Any) -> list:
    """A Celery run needs what any cross-process run needs (a reconstructable job, a persistent instance); a run
    in one process needs nothing, so tests and ``execute_in_process`` keep working with an ephemeral instance."""
    return [] if config.settings().celery_broker is None else multiple_process_executor_requirements()


@executor(name="viewtrail_one_process", config_schema=_in_process.config_schema, requirements=_when_on_celery)
def one_process_executor(init_context: InitExecutorContext) -> Executor:
    """The run's own process, or Celery workers when ``VIEWTRAIL_CELERY_BROKER`` is set on the host running the run:
    the jobs whose steps all need the warehouse host on one machine (the builds, the sensors' targeted scrapes)
    then send their scrape steps to the scrape workers and the rest to the warehouse worker."""
    if config.settings().celery_broker is None:
        creation = _in_process.executor_creation_fn
        assert creation is not None
        return creation(init_context)
    return _celery(init_context)


def _celery(init_context: InitExecutorContext) -> Executor:
    settings = config.settings()
    try:
        from dagster_celery.executor import CeleryExecutor
    except ImportError:
        raise CeleryMissingError(
            f"{config.CELERY_BROKER} is set but dagster-celery is not installed on {socket.gethostname()}; install "
            "viewtrail with its deploy extra (pip install 'viewtrail[deploy]') or unset the variable."
        ) from None
    return CeleryExecutor(
        retries=RetryMode.from_config(init_context.executor_config["retries"]),  # type: ignore[arg-type]
        broker=settings.celery_broker,
        backend=settings.celery_result_backend,
    )
