"""Rows for creator-program tests: videos of creators' accounts with snapshots, written straight to the tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import duckdb

T = datetime(2027, 3, 1)
#: When the videos of the program fixture (:func:`add_program_creator`) were posted.
POSTED = datetime(2027, 3, 1, 12)


def add_creator(con: duckdb.DuckDBPyConnection, creator_id: str, *accounts: str) -> None:
    con.execute("INSERT INTO registry.creators VALUES (?, ?, [], '{}', ?, ?)", [creator_id, creator_id.title(), T, T])
    for account_id in accounts:
        platform, _, handle = account_id.partition(":")
        con.execute(
            "INSERT INTO registry.accounts (account_id, platform, handle, url, is_active, discovery, latest_n,"
            " discovery_cadence_hours, video_cadence, labels, metadata, added_at, updated_at)"
            " VALUES (?, ?, ?, ?, true, 'auto', 10, 24, 'auto', [], '{}', ?, ?)",
            [account_id, platform, handle, f"https://example.com/{handle}", T, T],
        )
        con.execute("INSERT INTO registry.creator_accounts VALUES (?, ?, ?)", [creator_id, account_id, T])


def add_video(
    con: duckdb.DuckDBPyConnection,
    video_id: str,
    *,
    account_id: str | None,
    posted_at: datetime | None,
    labels: Iterable[str] = (),
    snapshots: Iterable[tuple[datetime, int | None]] = (),
) -> None:
    platform, _, external = video_id.partition(":")
    con.execute(
        "INSERT INTO registry.videos (video_id, platform, external_id, url, account, is_active, cadence, labels,"
        " metadata, availability, consecutive_not_found, posted_at, account_id, added_at, updated_at)"
        " VALUES (?, ?, ?, ?, NULL, true, 'auto', ?, '{}', 'available', 0, ?, ?, ?, ?)",
        [video_id, platform, external, f"https://example.com/{external}", list(labels), posted_at, account_id, T, T],
    )
    add_snapshots(con, video_id, snapshots)


def add_snapshots(con: duckdb.DuckDBPyConnection, video_id: str, snapshots: Iterable[tuple[datetime, int | None]]):
    for observed_at, views in snapshots:
        con.execute(
            "INSERT INTO raw.snapshots (video_id, observed_at, views, source, ingested_at) VALUES (?, ?, ?, 'test', ?)",
            [video_id, observed_at, views, observed_at],
        )


def add_program_creator(
    con: duckdb.DuckDBPyConnection, videos: Mapping[str, Iterable[tuple[datetime, int | None]]]
) -> None:
    """The program fixture of the interfaces' tests: creator ``ana`` with the account ``tiktok:ana``, and its
    videos (video id -> snapshots) posted at POSTED."""
    add_creator(con, "ana", "tiktok:ana")
    for video_id, snapshots in videos.items():
        add_video(con, video_id, account_id="tiktok:ana", posted_at=POSTED, snapshots=snapshots)
