"""Helpers for the dbt tests (no tests here): a warehouse with the raw tables, snapshot loading, dbt runs.

The raw tables come from the production migrations (`viewtrail.warehouse.open_warehouse`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from viewtrail.warehouse import open_warehouse

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"


@contextmanager
def connect(path: Path, *, read_only: bool = False):
    """A plain connection to a warehouse made by `create_warehouse` (tests write rows directly, like a loader)."""
    if not read_only and not Path(path).exists():
        create_warehouse(path)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def create_warehouse(path: Path) -> Path:
    """The raw tables exactly as production creates them (the migrations run on the first read-write open)."""
    with open_warehouse(path):
        pass
    return path


SNAPSHOT_COLUMNS = (
    "video_id",
    "observed_at",
    "views",
    "likes",
    "comments",
    "shares",
    "saves",
    "account",
    "ingested_at",
)


def insert_snapshots(path: Path, rows: Iterable[Sequence[Any]], *, source: str = "test") -> None:
    """Rows are tuples in SNAPSHOT_COLUMNS order (account and ingested_at may be omitted)."""
    full = []
    for row in rows:
        row = tuple(row) + (None,) * (len(SNAPSHOT_COLUMNS) - len(row))
        d = dict(zip(SNAPSHOT_COLUMNS, row, strict=True))
        d["ingested_at"] = d["ingested_at"] or datetime.utcnow().replace(tzinfo=None)
        full.append(d)
    with connect(path) as con:
        con.executemany(
            "INSERT INTO raw.snapshots (video_id, observed_at, views, likes, comments, shares, saves, account,"
            " source, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    d["video_id"],
                    d["observed_at"],
                    d["views"],
                    d["likes"],
                    d["comments"],
                    d["shares"],
                    d["saves"],
                    d["account"],
                    source,
                    d["ingested_at"],
                ]
                for d in full
            ],
        )


def register_videos(path: Path, videos: Iterable[dict[str, Any]]) -> None:
    """Insert registry rows; keys: video_id (required), account, account_id, source, labels, is_active, ..."""
    now = datetime(2024, 1, 1)
    with connect(path) as con:
        for v in videos:
            platform, external_id = v["video_id"].split(":", 1)
            con.execute(
                "INSERT INTO registry.videos (video_id, platform, external_id, url, account, account_id, source,"
                " is_active, cadence, track_until, labels, metadata, availability, consecutive_not_found,"
                " posted_at, added_at, updated_at, stopped_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    v["video_id"],
                    platform,
                    external_id,
                    v.get("url", f"https://example.test/{external_id}"),
                    v.get("account"),
                    v.get("account_id"),
                    v.get("source", "manual"),
                    v.get("is_active", True),
                    v.get("cadence", "auto"),
                    v.get("labels", []),
                    v.get("metadata", "{}"),
                    v.get("availability", "available"),
                    v.get("consecutive_not_found", 0),
                    v.get("posted_at"),
                    now,
                    now,
                    v.get("stopped_at"),
                ],
            )


def target_path(warehouse: Path) -> Path:
    """dbt's artefacts for a test warehouse live beside it (each test has its own): parallel test runs never
    share dbt_project/target, and a test reads back exactly the catalog or manifest its own command wrote."""
    return Path(warehouse).absolute().parent / "dbt_target"


def dbt(*args: str, warehouse: Path, tests: str = "touched", extra_vars: dict[str, Any] | None = None) -> Any:
    """Run dbt in-process against `warehouse`; raise with dbt's own message when the command fails.

    ``tests`` is the data tests' scope (the var viewtrail_dbt_tests): "touched", as hourly builds run them, or "all".
    ``extra_vars``: more dbt vars, beside the pipeline's."""
    import json

    from orchestration.defs import dbt_internals
    from orchestration.defs.dbt import dbt_vars

    target = target_path(warehouse)
    try:
        result = dbt_internals.run_dbt(
            [
                *args,
                "--vars",
                json.dumps(json.loads(dbt_vars(warehouse, tests)) | (extra_vars or {})),
                "--no-send-anonymous-usage-stats",
                "--project-dir",
                str(DBT_PROJECT),
                "--profiles-dir",
                str(DBT_PROJECT),
                "--quiet",
                "--target-path",
                str(target),
                "--log-path",
                str(target),
            ]
        )
    finally:
        # close dbt-duckdb's in-process DuckDB instance, so the test (and the next dbt command) can open the
        # file with other settings, as separate processes would
        dbt_internals.close_duckdb_instance()
    if not result.success:
        details = ""
        if result.result is not None and hasattr(result.result, "results"):
            details = "; ".join(
                f"{r.node.unique_id}: {r.status}: {r.message}"
                for r in result.result.results
                if str(r.status) not in ("success", "pass")
            )
        raise AssertionError(f"dbt {' '.join(args)} failed: {result.exception or details}")
    return result


def query(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def register_accounts(path: Path, accounts: Iterable[dict[str, Any]]) -> None:
    """Insert registry.accounts rows; keys: account_id (required), handle, platform_account_id, discovery, ..."""
    now = datetime(2024, 1, 1)
    with connect(path) as con:
        for a in accounts:
            platform = a["account_id"].split(":", 1)[0]
            con.execute(
                "INSERT INTO registry.accounts (account_id, platform, handle, platform_account_id, url, is_active,"
                " discovery, latest_n, since, discovery_cadence_hours, video_cadence, labels, metadata, added_at, updated_at,"
                " stopped_at) VALUES (?, ?, ?, ?, ?, ?, ?, 30, NULL, 6, 'auto', ?, '{}', ?, ?, NULL)",
                [
                    a["account_id"],
                    platform,
                    a.get("handle"),
                    a.get("platform_account_id"),
                    a.get("url", f"https://example.test/{a['account_id']}"),
                    a.get("is_active", True),
                    a.get("discovery", "auto"),
                    a.get("labels", []),
                    now,
                    now,
                ],
            )


def register_creator(path: Path, creator_id: str, name: str, account_ids: Sequence[str]) -> None:
    now = datetime(2024, 1, 1)
    with connect(path) as con:
        con.execute("INSERT INTO registry.creators VALUES (?, ?, [], '{}', ?, ?)", [creator_id, name, now, now])
        con.executemany(
            "INSERT INTO registry.creator_accounts VALUES (?, ?, ?)", [[creator_id, a, now] for a in account_ids]
        )


ACCOUNT_SNAPSHOT_COLUMNS = ("account_id", "observed_at", "followers", "following", "likes", "video_count", "views")


def insert_account_snapshots(path: Path, rows: Iterable[Sequence[Any]], *, ingested_at: datetime) -> None:
    """Rows are tuples in ACCOUNT_SNAPSHOT_COLUMNS order (trailing counters may be omitted)."""
    padded = [tuple(r) + (None,) * (len(ACCOUNT_SNAPSHOT_COLUMNS) - len(r)) for r in rows]
    with connect(path) as con:
        con.executemany(
            "INSERT INTO raw.account_snapshots (account_id, observed_at, followers, following, likes, video_count,"
            " views, source, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'test', ?)",
            [[*r, ingested_at] for r in padded],
        )
