"""Back up the warehouse and restore it: a consistent, checksummed copy, restorable into a fresh data dir.

A backup is a directory holding a copy of the warehouse file (and of the alert channels' file beside it, when
there is one) and ``manifest.json``: each file's size and sha256, the schema version, when it was taken.

Consistency: the copy is taken while this process holds the warehouse open read-write, right after a
``CHECKPOINT``. Holding it read-write means no other process can write the file meanwhile (DuckDB's file lock,
and the writer lock across hosts when ``VIEWTRAIL_WRITER_LOCK_URL`` is set), and the checkpoint has moved every
committed transaction from the write-ahead log into the file, so the bytes copied are the whole warehouse as of
one instant. The backup is written under a temporary name and renamed into place, so a killed backup leaves no
directory that looks complete.

Restore checks every checksum first, then copies the file in under a temporary name and renames it over the
warehouse path. It refuses a data dir that already holds a warehouse unless ``replace=True``; a replaced
warehouse is opened first, so a restore never pulls a file from under a running writer.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from viewtrail import clock, config
from viewtrail.domain.errors import InvalidInputError, ViewtrailError
from viewtrail.warehouse.connection import OpenWarehouse, open_warehouse
from viewtrail.warehouse.migrations import current_version

MANIFEST = "manifest.json"
WAREHOUSE_FILE = "warehouse.duckdb"
CHANNELS_FILE = "warehouse.channels.json"
_CHUNK = 1 << 20


class BackupError(ViewtrailError):
    """A backup or restore that cannot be done as asked; the message says what to do."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    files: dict[str, str]  # name -> sha256
    bytes: int
    schema_version: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_synced(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    with open(target, "rb") as handle:
        os.fsync(handle.fileno())


def _channels_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.stem + ".channels.json")


def backup(
    destination: Path, *, warehouse: Path | None = None, open_writable: OpenWarehouse | None = None
) -> BackupResult:
    """Copy the warehouse (default: the settings') into the new directory ``destination``."""
    source = Path(warehouse) if warehouse is not None else config.warehouse_path()
    destination = Path(destination).expanduser().absolute()
    if not source.exists():
        raise BackupError(f"There is no warehouse at {source} to back up; check VIEWTRAIL_WAREHOUSE.")
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise BackupError(f"{destination} already exists and is not empty; name a new directory for the backup.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    opener = open_writable or (lambda: open_warehouse(source))
    try:
        with opener() as con:
            con.execute("CHECKPOINT")
            version = current_version(con)
            # still open read-write: nobody writes the file while it is copied
            _copy_synced(source, tmp / WAREHOUSE_FILE)
            channels = _channels_path(source)
            if channels.exists():
                _copy_synced(channels, tmp / CHANNELS_FILE)
        files = {p.name: _sha256(p) for p in sorted(tmp.iterdir())}
        size = sum((tmp / name).stat().st_size for name in files)
        manifest = {
            "format": 1,
            "created_at": clock.utc_now().isoformat(),
            "schema_version": version,
            "source": str(source),
            "files": {name: {"sha256": sha, "bytes": (tmp / name).stat().st_size} for name, sha in files.items()},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if destination.exists():
            destination.rmdir()  # empty, checked above
        os.replace(tmp, destination)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return BackupResult(destination, files, size, version)


@dataclass(frozen=True, slots=True)
class RestoreResult:
    warehouse: Path
    schema_version: int
    replaced: bool


def verify(backup_dir: Path) -> dict:
    """The manifest of ``backup_dir`` once every file it lists matches its size and sha256."""
    backup_dir = Path(backup_dir).expanduser()
    manifest_path = backup_dir / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(
            f"{backup_dir} is not a viewtrail backup (no {MANIFEST}); name the directory `viewtrail backup` wrote."
        )
    try:
        manifest = json.loads(manifest_path.read_text())
        files = manifest["files"]
    except (ValueError, KeyError, TypeError):
        raise BackupError(f"{manifest_path} is damaged (not a backup manifest); restore from another backup.") from None
    if WAREHOUSE_FILE not in files:
        raise BackupError(f"{manifest_path} lists no {WAREHOUSE_FILE}; restore from another backup.")
    for name, expected in files.items():
        path = backup_dir / name
        if not path.is_file() or path.stat().st_size != expected["bytes"] or _sha256(path) != expected["sha256"]:
            raise BackupError(
                f"{path} does not match its checksum in {MANIFEST} (the backup is damaged or incomplete); "
                "nothing was restored: restore from another backup."
            )
    return manifest


def restore(backup_dir: Path, *, warehouse: Path | None = None, replace: bool = False) -> RestoreResult:
    """Restore ``backup_dir`` as the warehouse (default: the settings'), refusing to replace one unless ``replace``."""
    target = Path(warehouse) if warehouse is not None else config.warehouse_path()
    manifest = verify(backup_dir)
    backup_dir = Path(backup_dir).expanduser()
    existed = target.exists() and target.stat().st_size > 0
    if existed and not replace:
        raise InvalidInputError(
            f"{target} already holds a warehouse; restore into a fresh data dir (VIEWTRAIL_DATA_DIR), or pass "
            "--replace to overwrite it."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    try:
        _copy_synced(backup_dir / WAREHOUSE_FILE, tmp)
        if _sha256(tmp) != manifest["files"][WAREHOUSE_FILE]["sha256"]:
            raise BackupError(f"The copy of {WAREHOUSE_FILE} at {tmp} came out different; check the disk and retry.")
        if existed:
            # hold the warehouse (and the writer lock) while it is swapped, so no writer is cut off mid-write
            with open_warehouse(target) as con:
                con.execute("CHECKPOINT")
                os.replace(tmp, target)
            # the replaced warehouse's log (if its close left one) must not be replayed into the restored file
            target.with_name(target.name + ".wal").unlink(missing_ok=True)
        else:
            os.replace(tmp, target)
        channels = backup_dir / CHANNELS_FILE
        if channels.exists():
            _copy_synced(channels, _channels_path(target))
    finally:
        tmp.unlink(missing_ok=True)
    with open_warehouse(target) as con:  # it opens, migrated to this viewtrail's schema when older
        version = current_version(con)
    return RestoreResult(target, version, existed)
