"""Where each step runs when the fanned-out jobs go through Celery (``VIEWTRAIL_CELERY_BROKER``): the one place
that routes steps to queues.

- ``scrape``: steps that talk to the platforms (the scrapes and the account discoveries). They hold no pool slot
  and write nothing but a staged batch; any number of workers on any hosts may serve this queue.
- ``warehouse``: every step that writes the warehouse (the loads of the staged batches, dbt, the alerts, the
  analyst copy). Exactly one worker with ``--concurrency=1``, on the host of the warehouse file, serves it:
  one consumer is the first line of the single-writer rule (the writer lock, ``VIEWTRAIL_WRITER_LOCK_URL``,
  the second).

Steps name their queue with the ``dagster-celery/queue`` op tag; without a Celery broker the tag is ignored.
``tests/test_queues.py`` checks that every step of every job names one, and that every step in the ``duckdb``
pool is on ``warehouse``.
"""

from __future__ import annotations

#: The op tag dagster-celery reads (``dagster_celery.tags.DAGSTER_CELERY_QUEUE_TAG``; not imported: dagster-celery
#: is an optional dependency).
QUEUE_TAG = "dagster-celery/queue"
SCRAPE_QUEUE = "scrape"
WAREHOUSE_QUEUE = "warehouse"

#: Op tags of the steps that talk to the platforms.
SCRAPE_STEP = {QUEUE_TAG: SCRAPE_QUEUE}
#: Op tags of the steps that write the warehouse (and of those that read it for a moment on its host).
WAREHOUSE_STEP = {QUEUE_TAG: WAREHOUSE_QUEUE}
