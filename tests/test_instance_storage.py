"""The Dagster instance of ``.dagster_home`` (orchestration/instance_storage.py): Dagster's SQLite storage with its
event log writing through kept connections. What a backfill records must be exactly what the stock storage
records and reads, across processes, and the connections must really be reused (that is the whole point)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from dagster import (
    AssetKey,
    DagsterInstance,
    HourlyPartitionsDefinition,
    MaterializeResult,
    asset,
    materialize,
)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from orchestration.instance_storage import PooledSqliteEventLogStorage

REPO = Path(__file__).resolve().parents[1]
HOURS = HourlyPartitionsDefinition(start_date="2026-01-01-00:00")


@asset(partitions_def=HOURS)
def counted() -> MaterializeResult:
    return MaterializeResult(metadata={"rows": 1})


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def _backfill(instance: DagsterInstance, first: str, last: str) -> str:
    result = materialize(
        [counted],
        instance=instance,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
    )
    assert result.success
    return result.run_id


def test_the_committed_instance_uses_the_pooled_event_log(home: Path) -> None:
    with DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        # the private method the storage overrides is still where Dagster makes its connections
        assert callable(getattr(SqliteEventLogStorage, "_connect", None))
        # and the instance's batch size, which the storage sets, still decides whether events come in batches
        assert instance._get_event_batch_size() > 0 and instance._is_batch_writing_enabled()


def test_a_backfill_reuses_connections_and_the_stock_storage_reads_what_it_wrote(home: Path) -> None:
    import sqlite3

    opened: list[str] = []
    original = sqlite3.connect

    def counting_connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        opened.append(str(args[0]) if args else "")
        return original(*args, **kwargs)  # type: ignore[arg-type]

    with DagsterInstance.get() as instance:
        _backfill(instance, "2026-01-01-00:00", "2026-01-01-23:00")  # warm: shards created and migrated
        opened.clear()
        sqlite3.connect = counting_connect  # type: ignore[assignment]
        try:
            run_id = _backfill(instance, "2026-01-02-00:00", "2026-01-02-23:00")
        finally:
            sqlite3.connect = original  # type: ignore[assignment]
        events = [r for r in instance.all_logs(run_id) if r.dagster_event and r.dagster_event.is_step_materialization]
        assert len(events) == 24  # one materialization per hour of the range
    # 48 asset events, each written to its run's shard and the index: reused connections, not one per event
    assert len(opened) < 12, opened

    stock = home / "stock"
    stock.mkdir()
    (stock / "dagster.yaml").write_text(
        f"storage:\n  sqlite:\n    base_dir: {home}\ntelemetry:\n  enabled: false\n", encoding="utf-8"
    )
    with DagsterInstance.from_config(str(stock)) as instance:
        assert type(instance.event_log_storage) is SqliteEventLogStorage
        materialized = instance.get_materialized_partitions(AssetKey("counted"))
        assert len(materialized) == 48
        assert {"2026-01-01-00:00", "2026-01-02-23:00"} <= materialized
        assert instance.get_run_by_id(run_id) is not None


def test_deleting_a_run_removes_its_events(home: Path) -> None:
    with DagsterInstance.get() as instance:
        kept = _backfill(instance, "2026-01-01-00:00", "2026-01-01-02:00")
        gone = _backfill(instance, "2026-01-01-03:00", "2026-01-01-05:00")
        instance.delete_run(gone)
        assert instance.get_run_by_id(gone) is None
        assert not instance.all_logs(gone)
        assert instance.all_logs(kept)
        assert _backfill(instance, "2026-01-01-03:00", "2026-01-01-05:00")  # and the instance goes on working


@asset(partitions_def=HOURS)
def unreachable() -> MaterializeResult:
    raise RuntimeError("the platform did not answer")


def _partition_record(instance: DagsterInstance, key: AssetKey, keys: list[str]) -> dict[str, object]:
    """What the UI shows of an asset's partitions and what the sensors read of its last events."""
    from dagster import DagsterEventType, EventRecordsFilter

    def partitions_of(kind: DagsterEventType) -> list[str | None]:
        records = instance.event_log_storage.get_event_records(EventRecordsFilter(kind, asset_key=key), limit=10_000)
        return sorted(r.partition_key or "" for r in records)

    (record,) = instance.get_asset_records([key])
    last = record.asset_entry.last_materialization_record
    return {
        "status": instance.get_status_by_partition(key, keys, HOURS),
        "materialized": partitions_of(DagsterEventType.ASSET_MATERIALIZATION),
        "planned": partitions_of(DagsterEventType.ASSET_MATERIALIZATION_PLANNED),
        "last partition": last.partition_key if last else None,
        "last run is a run of this instance": bool(
            record.asset_entry.last_run_id and instance.get_run_by_id(record.asset_entry.last_run_id)
        ),
    }


def test_batched_events_record_what_the_stock_storage_records_event_by_event(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A single-run backfill hands its events to the storage in batches: the partitions' statuses (materialized,
    and failed for a failed run: Dagster reads those from the per-partition planned events) and the asset's last
    materialization are what the stock storage, writing one event at a time, records."""
    from dagster import PartitionKeyRange

    keys = HOURS.get_partition_keys_in_range(PartitionKeyRange("2026-01-01-00:00", "2026-01-02-23:00"))
    stock = home / "stock"
    stock.mkdir()
    (stock / "dagster.yaml").write_text(
        f"storage:\n  sqlite:\n    base_dir: {stock}\ntelemetry:\n  enabled: false\n", encoding="utf-8"
    )
    recorded = {}
    for name, make in (("stock", lambda: DagsterInstance.from_config(str(stock))), ("pooled", DagsterInstance.get)):
        monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
        with make() as instance:
            _backfill(instance, "2026-01-01-00:00", "2026-01-01-23:00")
            _backfill(instance, "2026-01-02-00:00", "2026-01-02-23:00")
            failed = materialize(
                [unreachable],
                instance=instance,
                raise_on_error=False,
                tags={
                    "dagster/asset_partition_range_start": "2026-01-01-00:00",
                    "dagster/asset_partition_range_end": "2026-01-01-11:00",
                },
            )
            assert not failed.success
            batched = instance._is_batch_writing_enabled()
            recorded[name] = {
                asset_key: _partition_record(instance, asset_key, keys)
                for asset_key in (AssetKey("counted"), AssetKey("unreachable"))
            }
        assert (name == "pooled") == batched  # the pooled storage turns batches on; the stock one does not
    assert "DAGSTER_EVENT_BATCH_SIZE" not in os.environ  # without changing the environment
    assert recorded["pooled"] == recorded["stock"]
    assert recorded["pooled"][AssetKey("counted")]["materialized"] == sorted(keys)
    failed_statuses = recorded["pooled"][AssetKey("unreachable")]["status"]
    assert [k for k, status in failed_statuses.items() if status is not None] == keys[:12]
