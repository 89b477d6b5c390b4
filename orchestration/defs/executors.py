"""The executor of the fanned-out jobs (the hourly scrape and discovery): local processes by default, Celery
workers on any hosts when ``VIEWTRAIL_CELERY_BROKER`` is set.

The choice is made when a run starts, from the settings of the host that runs it (the daemon's), so one code
location serves a single machine and a deployment alike, and ``make test`` never imports dagster-celery. Its
configuration is the multiprocess executor's (``max_concurrent`` ...), which a Celery run ignores: there, the
workers' own ``--concurrency`` decides. Steps go to the queue their op tag names (``orchestration.defs.queues``).
"""

from __future__ import annotations

import socket

from dagster import Executor, InitExecutorContext, executor, multiple_process_executor_requirements
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
    settings = config.settings()
    if settings.celery_broker is None:
        creation = _multiprocess.executor_creation_fn
        assert creation is not None
        return creation(init_context)
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
