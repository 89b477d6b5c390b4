"""``viewtrail backup`` and ``viewtrail restore``: a consistent, checksummed copy of the warehouse and its restore."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from viewtrail.cli._common import friendly_errors, out, say_waiting


def backup(
    destination: Annotated[Path, typer.Argument(help="A new (or empty) directory to write the backup into.")],
) -> None:
    """Back up the warehouse: a consistent copy with a sha256 manifest.

    Holds the warehouse as its writer for the copy (pipeline writes wait a moment, nothing is half-copied), and
    writes DESTINATION/warehouse.duckdb, the alert channels' file when there is one, and manifest.json (sizes and
    sha256 of each file). Restore it with `viewtrail restore`.

    Examples:

      viewtrail backup /backups/viewtrail-2026-12-07

      VIEWTRAIL_DATA_DIR=/srv/viewtrail viewtrail backup "/backups/$(date +%F)"
    """
    from viewtrail.app.backup import backup as take_backup  # here: loads duckdb
    from viewtrail.warehouse.connection import lock_timeout_from_env, open_warehouse

    result = take_backup(
        destination,
        open_writable=lambda: open_warehouse(lock_timeout_s=lock_timeout_from_env(), on_wait=say_waiting),
    )
    out.print(
        f"Backed up the warehouse (schema version {result.schema_version}, {result.bytes / 1e6:.1f} MB, "
        f"{len(result.files)} file(s) with sha256 in manifest.json) to {result.path}.",
        markup=False,
        highlight=False,
    )


def restore(
    backup_dir: Annotated[Path, typer.Argument(help="A directory written by `viewtrail backup`.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite the warehouse of this data dir if it already has one.")
    ] = False,
) -> None:
    """Restore a backup as the warehouse of this data dir, after checking every checksum.

    Restores into VIEWTRAIL_WAREHOUSE (default: <data dir>/warehouse.duckdb). Refuses when that warehouse
    already exists, unless --replace; a damaged backup is refused before anything is written. Rebuild the
    analyst copy afterwards with `viewtrail build`.

    Examples:

      VIEWTRAIL_DATA_DIR=/srv/viewtrail-new viewtrail restore /backups/viewtrail-2026-12-07

      viewtrail restore /backups/viewtrail-2026-12-07 --replace
    """
    from viewtrail.app.backup import restore as do_restore  # here: loads duckdb

    result = do_restore(backup_dir, replace=replace)
    verb = "Replaced" if result.replaced else "Restored"
    out.print(
        f"{verb} the warehouse {result.warehouse} from {backup_dir} (checksums verified, schema version "
        f"{result.schema_version}); run `viewtrail build` to publish its analyst copy.",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("backup")(friendly_errors(backup))
    app.command("restore")(friendly_errors(restore))
