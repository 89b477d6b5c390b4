"""The Dagster instance's storage for ``.dagster_home`` (``make ui``, ``make demo``, ``viewtrail build``): Dagster's
own SQLite storage, with its event log writing through pooled connections.

Dagster's ``SqliteEventLogStorage`` opens a new SQLite engine for every event it stores and disposes of it
afterwards: each event costs a connect, a commit with an fsync, and a close that checkpoints the write-ahead log
with more fsyncs. A partitioned run stores two events per partition and asset (planned, then materialized), so a
14-day hourly backfill of the demo's 16 assets is about 11,000 events; at 10 to 80 ms each (the disk's fsync,
slower on a busy machine) that was most of the demo's five minutes. Here each shard's engine is kept and reused,
and its connections run with ``PRAGMA synchronous=NORMAL``, which in write-ahead-log mode (the mode Dagster sets
on every shard) commits without waiting for the disk and stays consistent after a crash of any process: a power
loss can forget the last events, never corrupt a database. Everything else (schema, files, queries, the
concurrency pool) is Dagster's, and another Dagster process reading the same directory with the stock storage
sees the same data.

A single-run backfill's events come in batches (the planned events of the run, then each step's materializations,
one per partition), and Dagster hands a batch to the storage in one call when the instance's batch size is set
(``DAGSTER_EVENT_BATCH_SIZE``): this storage gives its instance one, in every process that opens it. The stock
SQLite storage still writes a batch event by event; here a batch costs one transaction per shard, and the asset's
index row (its last materialization, last run) is updated once per kind of event, with the row the last event of
that kind would leave, instead of once per event: a backfill of 4 assets x 336 hours stores its events with 5x
less CPU, the same rows.

The storage leans on private methods of Dagster: ``SqliteEventLogStorage._connect`` (the one place it makes its
connections) and the instance's ``_get_event_batch_size``; ``tests/test_instance_storage.py`` checks they still
exist with those roles, and the stock ``storage: sqlite`` in ``dagster.yaml`` is the fallback if a Dagster
upgrade changes them.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

#: Events Dagster buffers per batch before handing them to the storage (``DAGSTER_EVENT_BATCH_SIZE``).
EVENT_BATCH_SIZE = 1000

#: Engines kept open per process: the index shard and the run shards in use (a long-lived daemon or webserver
#: touches many runs; older ones are disposed of).
MAX_OPEN_SHARDS = 8


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` keeping one engine per shard, its connections in ``synchronous=NORMAL``."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        self._tables: set[str] = set()
        self._asset_key_index_cols = False
        super().__init__(base_dir, inst_data)

    def register_instance(self, instance: Any) -> None:
        super().register_instance(instance)
        # Dagster hands a batch to store_event_batch only when the instance's batch size is set, which it reads
        # from DAGSTER_EVENT_BATCH_SIZE at each event; the instance of this storage gets EVENT_BATCH_SIZE instead
        # (the variable, when set, still wins), so the process's environment is left as it is
        configured = instance._get_event_batch_size
        if not getattr(configured, "viewtrail_default", False):
            batch_size = lambda: configured() or EVENT_BATCH_SIZE  # noqa: E731
            batch_size.viewtrail_default = True  # type: ignore[attr-defined]
            setattr(instance, "_get_event_batch_size", batch_size)  # noqa: B010

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=4,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            event.listen(engine, "connect", _normal_sync)
            self._engines[shard] = engine
            while len(self._engines) > MAX_OPEN_SHARDS:
                _, old = self._engines.popitem(last=False)
                old.dispose()
            return engine

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # the same body as Dagster's, minus the engine made and disposed of per call
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        # Dagster asks for every asset event whether its tag table exists, each time through a new engine;
        # a table, once there, stays (until a wipe)
        if table_name in self._tables:
            return True
        found = super().has_table(table_name)
        if found:
            self._tables.add(table_name)
        return found

    def _has_asset_key_index_cols_on_connection(self, conn: Connection) -> bool:
        # asked (a PRAGMA table_info) for every asset event; columns, once there, stay
        if self._asset_key_index_cols:
            return True
        found = super()._has_asset_key_index_cols_on_connection(conn)
        self._asset_key_index_cols = found
        return found

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        plain = [entry for entry in events if _batchable(entry)]
        for run_id, group in _by_run(plain):
            self._store_asset_batch(run_id, group)
        for entry in events:
            if not _batchable(entry):
                self.store_event(entry)

    def _store_asset_batch(self, run_id: str, events: list[EventLogEntry]) -> None:
        rows = [self._event_to_row(entry) for entry in events]
        with self.run_connection(run_id) as conn:
            conn.execute(SqlEventLogStorageTable.insert(), rows)
        with self.index_transaction() as conn:
            insert = SqlEventLogStorageTable.insert()
            ids = [int(conn.execute(insert, row).inserted_primary_key[0]) for row in rows]  # type: ignore[index]
            self._store_asset_event_tags(conn, events, ids)
            # the asset's row takes, per kind of event, columns read from that one event: updating it with the
            # last event of each kind leaves what updating it with every event in turn would
            last: dict[tuple[str, str], tuple[EventLogEntry, int]] = {}
            for entry, event_id in zip(events, ids, strict=True):
                dagster_event = entry.get_dagster_event()
                last[(str(dagster_event.asset_key), dagster_event.event_type_value)] = (entry, event_id)
            for entry, event_id in sorted(last.values(), key=lambda pair: pair[1]):
                self._store_asset_event(conn, entry, event_id)

    def _dispose_engines(self) -> None:
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def delete_events(self, run_id: str) -> None:
        super().delete_events(run_id)
        self._dispose_engines()

    def wipe(self) -> None:
        self._dispose_engines()
        self._tables.clear()  # the run shards' files are deleted: no connection may keep them
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()


def _batchable(event: EventLogEntry) -> bool:
    """Events written through the batch path: those of an asset (materialization, planned...), not of checks or
    of the run's status, which the stock path mirrors elsewhere."""
    dagster_event = event.dagster_event
    return (
        dagster_event is not None and dagster_event.event_type in ASSET_EVENTS and dagster_event.asset_key is not None
    )


def _by_run(events: list[EventLogEntry]) -> list[tuple[str, list[EventLogEntry]]]:
    groups: dict[str, list[EventLogEntry]] = {}
    for entry in events:
        groups.setdefault(entry.run_id, []).append(entry)
    return list(groups.items())


def _normal_sync(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class ViewtrailSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (same directory layout under ``base_dir``) with the pooled event log.

    In ``dagster.yaml``::

        storage:
          custom:
            module: orchestration.instance_storage
            class: ViewtrailSqliteStorage
            config:
              base_dir:
                env: DAGSTER_HOME
    """

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        super().__init__(base_dir, inst_data)
        self._event_log_storage = PooledSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> ViewtrailSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)
