"""The registry of tracked videos: track (insert or update), untrack, delete, list, status, pending short links.

Every write of ``registry.*`` goes through this module. Tracking is set-based (rows built by
:func:`track_rows_frame`, registered in DuckDB, one ``INSERT``/``UPDATE`` per call) so that importing ten
thousand URLs takes seconds, and each call is one transaction (or joins the caller's, ``transaction=False``).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import duckdb
import polars as pl

from viewtrail.clock import utc_now
from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.models import Platform, VideoRef
from viewtrail.planning.scheduling import auto_cadence_from_env, cadence_hours, is_tracked, load_video_schedules
from viewtrail.warehouse import transactions
from viewtrail.warehouse.video_pages import VideoFilter, paged_query
from viewtrail.warehouse.video_pages import count_videos as count_videos  # part of the registry's reading API

MAX_METADATA_KEYS = 20
MAX_METADATA_VALUE_CHARS = 255
MAX_CADENCE_HOURS = 720
#: Ten years: longer is a typo (and past what a date can hold, for the largest numbers).
MAX_DAYS = 3650
MAX_LABEL_CHARS = 100


class TrackOutcome(StrEnum):
    """What registering a video (track) or an account (watch) did."""

    CREATED = "created"  # a new row in registry.videos / registry.accounts
    UPDATED = "updated"  # already tracked / watched: options updated
    RESUMED = "resumed"  # was untracked / unwatched: active again, options updated


@dataclass(frozen=True, slots=True)
class TrackResult:
    video_id: str
    outcome: TrackOutcome


# --------------------------------------------------------------------------------------------- validation


def validate_cadence(value: str | int | None) -> str | None:
    """``'auto'`` or a whole number of hours 1..720 as text; ``None`` passes through (keep / default)."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text == "auto":
        return "auto"
    try:
        hours = int(text)
    except ValueError:
        raise InvalidInputError(
            f"Cadence {str(value)!r} is not valid; use 'auto' or a whole number of hours from 1 to {MAX_CADENCE_HOURS}."
        ) from None
    if not 1 <= hours <= MAX_CADENCE_HOURS:
        raise InvalidInputError(
            f"Cadence {hours} hours is out of range; use 'auto' or a number of hours from 1 to {MAX_CADENCE_HOURS}."
        )
    return str(hours)


def validate_days(days: int | str | None) -> int | None:
    """Tracking duration in days (> 0) or ``None`` (no expiry / keep)."""
    if days is None or (isinstance(days, str) and not days.strip()):
        return None
    try:
        number = int(str(days).strip())
    except ValueError:
        raise InvalidInputError(f"Days {str(days)!r} is not a whole number; give a number of days above 0.") from None
    if number <= 0:
        raise InvalidInputError(f"Days must be above 0 (got {number}); leave it out to track without an end date.")
    if number > MAX_DAYS:
        raise InvalidInputError(
            f"Days {number} is out of range; give a number of days from 1 to {MAX_DAYS}, "
            f"or leave it out to track without an end date."
        )
    return number


def validate_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """At most 20 keys; keys non-empty text; values at most 255 characters (as text)."""
    data = dict(metadata or {})
    if len(data) > MAX_METADATA_KEYS:
        raise InvalidInputError(
            f"Metadata has {len(data)} keys but at most {MAX_METADATA_KEYS} are allowed; drop some keys."
        )
    for key, value in data.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidInputError("Metadata keys must be non-empty text; give them as key=value.")
        shown = value if isinstance(value, str) else json.dumps(value)
        if len(shown) > MAX_METADATA_VALUE_CHARS:
            raise InvalidInputError(
                f"Metadata value of {key!r} is {len(shown)} characters long but at most "
                f"{MAX_METADATA_VALUE_CHARS} are allowed; shorten it."
            )
    return data


def parse_meta_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """``["client=acme", "campaign=q4"]`` -> dict; a pair without ``=`` is an error."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"Metadata {pair!r} is not key=value; write it like --meta client=acme.")
        result[key.strip()] = value
    return validate_metadata(result)


def clean_labels(labels: Iterable[str] | None) -> list[str]:
    """Trimmed, non-empty, first occurrence kept; each at most 100 characters without control characters."""
    seen: dict[str, None] = {}
    for label in labels or ():
        text = str(label).strip()
        if len(text) > MAX_LABEL_CHARS:
            raise InvalidInputError(
                f"Label {text[:20]!r}... is {len(text)} characters long but at most {MAX_LABEL_CHARS} are allowed; "
                f"shorten it."
            )
        if any(unicodedata.category(char) == "Cc" for char in text):
            raise InvalidInputError(
                f"Label {text!r} contains a control character (a tab, line break or similar); remove it."
            )
        if text:
            seen.setdefault(text, None)
    return list(seen)


# --------------------------------------------------------------------------------------------- tracking

TRACK_FRAME_SCHEMA: dict[str, pl.DataType] = {
    "video_id": pl.String(),
    "platform": pl.String(),
    "external_id": pl.String(),
    "url": pl.String(),
    "account": pl.String(),
    "cadence": pl.String(),  # NULL = keep the stored one ('auto' for new videos)
    "track_until": pl.Datetime("us"),  # NULL = keep the stored one (no expiry for new videos)
    "labels": pl.List(pl.String()),  # added to the stored ones
    "metadata": pl.String(),  # JSON object merged into the stored one
    "active": pl.Boolean(),  # False: register without tracking (imported history)
    "added_at": pl.Datetime("us"),  # since when a new video is tracked; NULL = now
    "posted_at": pl.Datetime("us"),  # when known at registration (discovery); NULL = keep / unknown
    "account_id": pl.String(),  # the watched account it belongs to; NULL = the account matching its handle
    "source": pl.String(),  # how a new video was added: 'manual', 'import', 'discovered'; NULL = 'manual'
}

#: How a video came into the registry (``registry.videos.source``); kept from its first registration.
VIDEO_SOURCES = ("manual", "import", "discovered")


@dataclass(frozen=True, slots=True)
class TrackRow:
    """One video to track: a row of the frame :func:`track_frame` takes (see :data:`TRACK_FRAME_SCHEMA`)."""

    ref: VideoRef
    cadence: str | None = None  # validated ('auto' or hours); None keeps the stored one
    track_until: datetime | None = None
    labels: Sequence[str] = field(default=())
    metadata: str = "{}"  # a JSON object
    active: bool = True
    added_at: datetime | None = None
    posted_at: datetime | None = None
    account_id: str | None = None
    source: str = "manual"


def track_rows_frame(rows: Iterable[TrackRow]) -> pl.DataFrame:
    """The frame :func:`track_frame` takes, one row per :class:`TrackRow` (the one place it is built)."""
    rows = list(rows)
    return pl.DataFrame(
        {
            "video_id": [r.ref.video_id for r in rows],
            "platform": [str(r.ref.platform) for r in rows],
            "external_id": [r.ref.external_id for r in rows],
            "url": [r.ref.url for r in rows],
            "account": [r.ref.account for r in rows],
            "cadence": [r.cadence for r in rows],
            "track_until": [r.track_until for r in rows],
            "labels": [list(r.labels) for r in rows],
            "metadata": [r.metadata for r in rows],
            "active": [r.active for r in rows],
            "added_at": [r.added_at for r in rows],
            "posted_at": [r.posted_at for r in rows],
            "account_id": [r.account_id for r in rows],
            "source": [r.source for r in rows],
        },
        schema=TRACK_FRAME_SCHEMA,
    )


def metadata_json(metadata: Mapping[str, Any] | None) -> str:
    """Validated metadata as the JSON text stored in the registry."""
    return json.dumps(validate_metadata(metadata), sort_keys=True, separators=(",", ":"))


def track_refs(
    con: duckdb.DuckDBPyConnection,
    refs: Sequence[VideoRef],
    *,
    cadence: str | int | None = None,
    days: int | None = None,
    labels: Iterable[str] = (),
    metadata: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    transaction: bool = True,
) -> list[TrackResult]:
    """Track videos: insert new ones, update (and resume) known ones; one transaction, never a duplicate.

    Options given are applied to every ref; on a known video, ``cadence``/``days`` replace the stored values
    only when given, labels are added, metadata keys are merged (given keys win). ``transaction=False`` runs
    inside the caller's transaction.
    """
    now = now or utc_now()
    cadence = validate_cadence(cadence)
    days = validate_days(days)
    labels = clean_labels(labels)
    meta_json = metadata_json(metadata)
    track_until = now + timedelta(days=days) if days is not None else None
    frame = track_rows_frame(TrackRow(ref, cadence, track_until, labels, meta_json) for ref in refs)
    return track_frame(con, frame, now=now, transaction=transaction)


_OPTIONAL_FRAME_COLUMNS = ("added_at", "posted_at", "account_id", "source")


def track_frame(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, *, now: datetime | None = None, transaction: bool = True
) -> list[TrackResult]:
    """Set-based core of tracking, one row per video (see :data:`TRACK_FRAME_SCHEMA`); one transaction.

    Repeated video ids in ``frame`` collapse (first row wins). Rows with ``active=False`` register a video
    without tracking it (inactive) and never deactivate an already tracked one. The ``added_at`` column
    (optional) says since when a new video is tracked (default ``now``; e.g. when its short link was added);
    ``posted_at``, ``account_id`` and ``source`` are optional too. A video without ``account_id`` is linked to
    the registered account of its platform whose handle matches its ``account`` (case-insensitive); a link
    already stored is kept, and so is the ``source`` of a known video.
    ``transaction=False`` runs inside the caller's transaction (bulk imports write registry and snapshots
    atomically).
    """
    now = now or utc_now()
    missing = [pl.lit(None, TRACK_FRAME_SCHEMA[name]).alias(name) for name in _OPTIONAL_FRAME_COLUMNS]
    frame = frame.with_columns(column for column in missing if column.meta.output_name() not in frame.columns)
    frame = frame.select([pl.col(n).cast(t) for n, t in TRACK_FRAME_SCHEMA.items()])
    frame = frame.unique(subset=["video_id"], keep="first", maintain_order=True)
    if frame.height == 0:
        return []
    con.register("_vt_track_in", frame)
    try:
        with transactions.transaction(con) if transaction else nullcontext():
            rows = _track_in_transaction(con, now)
    finally:
        con.unregister("_vt_track_in")
    order = {video_id: i for i, video_id in enumerate(frame["video_id"].to_list())}
    results = []
    for video_id, is_new, was_active, active in sorted(rows, key=lambda r: order[r[0]]):
        if is_new:
            outcome = TrackOutcome.CREATED
        elif active and not was_active:
            outcome = TrackOutcome.RESUMED
        else:
            outcome = TrackOutcome.UPDATED
        results.append(TrackResult(video_id, outcome))
    return results


def _track_in_transaction(con: duckdb.DuckDBPyConnection, now: datetime) -> list[tuple]:
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _vt_track AS
        WITH handles AS (
            SELECT platform, lower(handle) AS handle_key, min(account_id) AS account_id
            FROM registry.accounts WHERE handle IS NOT NULL GROUP BY ALL
        )
        SELECT t.* REPLACE (coalesce(t.account_id, h.account_id) AS account_id),
               v.video_id IS NULL AS is_new, coalesce(v.is_active, false) AS was_active
        FROM _vt_track_in t LEFT JOIN registry.videos v USING (video_id)
        LEFT JOIN handles h ON h.platform = t.platform AND h.handle_key = lower(coalesce(v.account, t.account))
        """
    )
    con.execute(
        """
        UPDATE registry.videos v
        SET is_active = v.is_active OR t.active,
            stopped_at = CASE WHEN v.is_active OR t.active THEN NULL ELSE v.stopped_at END,
            account = coalesce(v.account, t.account),
            account_id = coalesce(v.account_id, t.account_id),
            posted_at = coalesce(v.posted_at, t.posted_at),
            cadence = coalesce(t.cadence, v.cadence),
            track_until = CASE WHEN t.track_until IS NOT NULL THEN t.track_until
                               WHEN t.active AND NOT v.is_active AND v.track_until <= ?::TIMESTAMP
                               THEN NULL
                               ELSE v.track_until END,
            labels = list_concat(v.labels, list_filter(t.labels, lambda x: NOT list_contains(v.labels, x))),
            metadata = json_merge_patch(v.metadata, t.metadata::JSON),
            updated_at = ?::TIMESTAMP
        FROM _vt_track t
        WHERE v.video_id = t.video_id AND NOT t.is_new
        """,
        [now, now],
    )
    con.execute(
        """
        INSERT INTO registry.videos
        SELECT video_id, platform, external_id, url, account, active, coalesce(cadence, 'auto'),
               track_until, labels, metadata::JSON, 'available', 0, posted_at, account_id,
               coalesce(source, 'manual'), coalesce(added_at, ?::TIMESTAMP),
               ?::TIMESTAMP, CASE WHEN active THEN NULL ELSE ?::TIMESTAMP END
        FROM _vt_track WHERE is_new
        """,
        [now, now, now],
    )
    too_many = con.sql(
        f"""
        SELECT v.video_id, len(json_keys(v.metadata)) AS n FROM registry.videos v
        JOIN _vt_track t USING (video_id) WHERE len(json_keys(v.metadata)) > {MAX_METADATA_KEYS}
        LIMIT 1
        """
    ).fetchall()
    if too_many:
        video_id, n = too_many[0]
        raise InvalidInputError(
            f"{video_id} would have {n} metadata keys after merging but at most {MAX_METADATA_KEYS} are "
            f"allowed; drop some keys."
        )
    rows = con.sql("SELECT video_id, is_new, was_active, active FROM _vt_track").fetchall()
    con.execute("DROP TABLE IF EXISTS _vt_track")
    return rows


def unscraped_videos(con: duckdb.DuckDBPyConnection, *, now: datetime | None = None) -> list[str]:
    """Tracked videos never scraped (no snapshot, no attempt), oldest first: what a command killed between
    registering and queueing them, before registering and queueing were one step, left behind."""
    rows = con.execute(
        """
        SELECT v.video_id FROM registry.videos v
        WHERE v.is_active AND v.availability = 'available' AND (v.track_until IS NULL OR v.track_until > ?)
          AND NOT EXISTS (SELECT 1 FROM raw.snapshots s WHERE s.video_id = v.video_id)
          AND NOT EXISTS (SELECT 1 FROM raw.scrape_attempts a WHERE a.video_id = v.video_id)
        ORDER BY v.added_at, v.video_id
        """,
        [now or utc_now()],
    ).fetchall()
    return [video_id for (video_id,) in rows]


def link_videos_to_account_ids(
    con: duckdb.DuckDBPyConnection, links: Sequence[tuple[str, str]], *, now: datetime | None = None
) -> None:
    """Link each ``(video_id, account_id)`` pair (a video found on that account's page) unless the video is
    linked already; runs in the caller's transaction, if any. A link once set is never changed here."""
    if links:
        con.executemany(
            "UPDATE registry.videos SET account_id = ?, updated_at = ? WHERE video_id = ? AND account_id IS NULL",
            [(account_id, now or utc_now(), video_id) for video_id, account_id in links],
        )


def link_videos_to_accounts(
    con: duckdb.DuckDBPyConnection,
    *,
    account_ids: Sequence[str] | None = None,
    video_ids: Sequence[str] | None = None,
    now: datetime | None = None,
) -> int:
    """Link videos not linked yet to the registered account of their platform whose handle matches theirs
    (case-insensitive), optionally only these accounts or videos; runs in the caller's transaction, if any.

    Returns how many videos were linked. A link once set is never changed here.
    """
    where: list[str] = []
    params: list[object] = [now or utc_now()]
    if account_ids is not None:
        where.append("AND list_contains(?::TEXT[], h.account_id)")
        params.append(list(account_ids))
    if video_ids is not None:
        where.append("AND list_contains(?::TEXT[], v.video_id)")
        params.append(list(video_ids))
    rows = con.execute(
        f"""
        UPDATE registry.videos v SET account_id = h.account_id, updated_at = ?::TIMESTAMP
        FROM (SELECT platform, lower(handle) AS handle_key, min(account_id) AS account_id
              FROM registry.accounts WHERE handle IS NOT NULL GROUP BY ALL) h
        WHERE v.account_id IS NULL AND v.account IS NOT NULL
          AND h.platform = v.platform AND h.handle_key = lower(v.account) {" ".join(where)}
        RETURNING v.video_id
        """,
        params,
    ).fetchall()
    return len(rows)


def add_pending_link(
    con: duckdb.DuckDBPyConnection,
    url: str,
    platform: Platform | str,
    note: str,
    *,
    cadence: str | int | None = None,
    days: int | None = None,
    labels: Iterable[str] = (),
    metadata: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> bool:
    """Store a short link waiting for a redirect lookup; returns False when it was already pending (updated)."""
    now = now or utc_now()
    cadence = validate_cadence(cadence) or "auto"
    days = validate_days(days)
    meta_json = metadata_json(metadata)
    track_until = now + timedelta(days=days) if days is not None else None
    existed = bool(con.execute("SELECT 1 FROM registry.pending_links WHERE url = ?", [url]).fetchall())
    con.execute(
        """
        INSERT INTO registry.pending_links
        VALUES (?, ?, ?, ?, ?, ?, ?::JSON, ?, NULL, NULL)
        ON CONFLICT (url) DO UPDATE SET note = excluded.note, cadence = excluded.cadence,
            track_until = excluded.track_until, labels = excluded.labels, metadata = excluded.metadata
        """,
        [url, str(platform), note, cadence, track_until, clean_labels(labels), meta_json, now],
    )
    return not existed


def pending_links(con: duckdb.DuckDBPyConnection, *, unresolved_only: bool = True) -> pl.DataFrame:
    where = "WHERE resolved_video_id IS NULL" if unresolved_only else ""
    return con.sql(f"SELECT * FROM registry.pending_links {where} ORDER BY added_at, url").pl()


def resolve_pending_links(
    con: duckdb.DuckDBPyConnection, resolved: Sequence[tuple[str, VideoRef]], *, now: datetime | None = None
) -> list[TrackResult]:
    """Track the videos pending short links lead to, with the options given when each link was added, and
    tracked since then; marks the links resolved. One transaction; a link resolved before is left alone."""
    now = now or utc_now()
    if not resolved:
        return []
    refs = {url: ref for url, ref in resolved}
    rows = con.execute(
        "SELECT url, cadence, track_until, labels, metadata::TEXT, added_at FROM registry.pending_links"
        " WHERE resolved_video_id IS NULL AND list_contains(?, url) ORDER BY added_at, url",
        [list(refs)],
    ).fetchall()
    if not rows:
        return []
    frame = track_rows_frame(
        TrackRow(refs[url], cadence, track_until, labels, metadata, added_at=added_at)
        for url, cadence, track_until, labels, metadata, added_at in rows
    )
    with transactions.transaction(con):
        results = track_frame(con, frame, now=now, transaction=False)
        mark_links_resolved(con, [(url, refs[url]) for url, *_ in rows], now=now)
    return results


def mark_links_resolved(
    con: duckdb.DuckDBPyConnection, resolved: Sequence[tuple[str, VideoRef]], *, now: datetime | None = None
) -> None:
    """Record the video each short link ``(url, ref)`` leads to, for links still pending; others are left alone.

    For a link tracked again and resolved by the CLI (which tracks the video with the options given then) as
    well as by :func:`resolve_pending_links`. Runs in the caller's transaction, if any.
    """
    if not resolved:
        return
    con.execute(
        """
        UPDATE registry.pending_links p SET resolved_video_id = r.video_id, resolved_at = ?::TIMESTAMP
        FROM (SELECT unnest(?::TEXT[]) AS url, unnest(?::TEXT[]) AS video_id) r
        WHERE p.url = r.url AND p.resolved_video_id IS NULL
        """,
        [now or utc_now(), [url for url, _ in resolved], [ref.video_id for _, ref in resolved]],
    )


# --------------------------------------------------------------------------------------------- stop / delete


_UNSET: Any = object()


def edit_video(
    con: duckdb.DuckDBPyConnection,
    video_id: str,
    *,
    cadence: str | int | None = None,
    labels: Iterable[str] | None = None,
    metadata_patch: Mapping[str, Any] | None = None,
    track_until: datetime | None | Any = _UNSET,
    now: datetime | None = None,
) -> None:
    """Edit one registered video in the caller's transaction: ``cadence`` replaced (validated), ``labels``
    replaced (not added, unlike tracking), ``metadata_patch`` merged (a ``None`` value removes its key),
    ``track_until`` set or cleared with ``None``. Arguments left out keep the stored values."""
    now = now or utc_now()
    sets: list[str] = []
    params: list[Any] = []
    if cadence is not None:
        sets.append("cadence = ?")
        params.append(validate_cadence(cadence))
    if labels is not None:
        sets.append("labels = ?::TEXT[]")
        params.append(clean_labels(labels))
    if metadata_patch is not None:
        validate_metadata({k: v for k, v in metadata_patch.items() if v is not None})
        sets.append("metadata = json_merge_patch(metadata, ?::JSON)")
        params.append(json.dumps(dict(metadata_patch)))
    if track_until is not _UNSET:
        sets.append("track_until = ?::TIMESTAMP")
        params.append(track_until)
    if not sets:
        return
    con.execute(
        f"UPDATE registry.videos SET {', '.join(sets)}, updated_at = ?::TIMESTAMP WHERE video_id = ?",
        [*params, now, video_id],
    )
    [(keys,)] = con.execute(
        "SELECT len(json_keys(metadata)) FROM registry.videos WHERE video_id = ?", [video_id]
    ).fetchall()
    if keys > MAX_METADATA_KEYS:
        raise InvalidInputError(
            f"{video_id} would have {keys} metadata keys but at most {MAX_METADATA_KEYS} are allowed; drop some keys."
        )


def untrack(con: duckdb.DuckDBPyConnection, video_ids: Iterable[str], *, now: datetime | None = None) -> dict[str, str]:
    """Stop tracking (history kept). Per id: ``'stopped'``, ``'already stopped'`` or ``'unknown'``."""
    return stop_registered(con, "registry.videos", "video_id", video_ids, now=now)


def stop_registered(
    con: duckdb.DuckDBPyConnection, table: str, key: str, ids: Iterable[str], *, now: datetime | None = None
) -> dict[str, str]:
    """Mark the rows of ``table`` (``registry.videos`` or ``registry.accounts``, keyed by ``key``) inactive,
    their history kept. Per id: ``'stopped'``, ``'already stopped'`` or ``'unknown'``."""
    now = now or utc_now()
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = dict(con.execute(f"SELECT {key}, is_active FROM {table} WHERE list_contains(?, {key})", [wanted]).fetchall())
    to_stop = [i for i in wanted if rows.get(i)]
    if to_stop:
        con.execute(
            f"UPDATE {table} SET is_active = false, stopped_at = ?, updated_at = ? WHERE list_contains(?, {key})",
            [now, now, to_stop],
        )
    return {i: ("unknown" if i not in rows else "stopped" if rows[i] else "already stopped") for i in wanted}


def delete_videos(con: duckdb.DuckDBPyConnection, video_ids: Iterable[str]) -> dict[str, int | None]:
    """Remove videos with their snapshots and attempts permanently, in one transaction.

    Returns per id the number of snapshots removed, ``None`` for ids not in the registry (nothing removed).
    """
    ids = list(dict.fromkeys(video_ids))
    if not ids:
        return {}
    with transactions.transaction(con):
        known = {
            r[0]
            for r in con.execute(
                "SELECT video_id FROM registry.videos WHERE list_contains(?, video_id)", [ids]
            ).fetchall()
        }
        counts = dict(
            con.execute(
                "SELECT video_id, count(*) FROM raw.snapshots WHERE list_contains(?, video_id) GROUP BY 1", [ids]
            ).fetchall()
        )
        targets = [i for i in ids if i in known]
        if targets:
            con.execute("DELETE FROM raw.snapshots WHERE list_contains(?, video_id)", [targets])
            con.execute("DELETE FROM raw.scrape_attempts WHERE list_contains(?, video_id)", [targets])
            con.execute("DELETE FROM registry.videos WHERE list_contains(?, video_id)", [targets])
            # the incremental marts drop exactly these videos at their next build (migration 12); stamped at or
            # after every snapshot stored so far, rows written without the write clock included
            con.execute(
                "INSERT INTO meta.deleted_videos SELECT unnest(?::TEXT[]), greatest(c.last_ingested_at,"
                " (SELECT max(ingested_at) FROM raw.snapshots)) FROM meta.write_clock AS c ON CONFLICT DO NOTHING",
                [targets],
            )
    return {i: (int(counts.get(i, 0)) if i in known else None) for i in ids}


# --------------------------------------------------------------------------------------------- reading


def unknown_videos(con: duckdb.DuckDBPyConnection, video_ids: Iterable[str]) -> list[str]:
    """The ids of ``video_ids`` that are not in the registry, in their order."""
    ids = list(dict.fromkeys(video_ids))
    known = {
        row[0]
        for row in con.execute(
            "SELECT video_id FROM registry.videos WHERE list_contains(?, video_id)", [ids]
        ).fetchall()
    }
    return [i for i in ids if i not in known]


def list_videos(
    con: duckdb.DuckDBPyConnection,
    *,
    platform: Platform | str | None = None,
    label: str | None = None,
    active: bool | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Registered videos with their last snapshot, filtered; ordered by video id (which starts with the platform):
    :func:`viewtrail.warehouse.video_pages.paged_query` (paging, what it reads) as a polars frame."""
    videos = VideoFilter(platform=platform, label=label, active=active)
    sql, params = paged_query(con, videos, after=after, limit=limit)
    return con.sql(sql, params=params).pl()


@dataclass(frozen=True, slots=True)
class StatusSummary:
    by_platform: pl.DataFrame  # platform, active, inactive, unavailable, pending_links, last_ok_at
    failing: pl.DataFrame  # video_id, outcome, attempted_at, detail: active videos whose latest attempt failed
    overdue: pl.DataFrame  # video_id, cadence, last_observed_at, cadence_hours: tracked videos past their cadence
    pending_links: int


def status_summary(
    con: duckdb.DuckDBPyConnection, *, now: datetime | None = None, grace_hours: float = 2.0
) -> StatusSummary:
    """Counts by platform and state, last successful scrape, failing and overdue videos."""
    now = now or utc_now()
    platforms = ", ".join(f"'{p.value}'" for p in Platform)  # registry names: lower-case letters only
    by_platform = con.sql(
        f"""
        WITH p AS (SELECT unnest([{platforms}]) AS platform),
        v AS (
            SELECT platform,
                   count(*) FILTER (WHERE is_active AND availability = 'available') AS active,
                   count(*) FILTER (WHERE NOT is_active) AS inactive,
                   count(*) FILTER (WHERE availability = 'unavailable') AS unavailable
            FROM registry.videos GROUP BY platform),
        ok AS (SELECT platform, max(attempted_at) AS last_ok_at FROM raw.scrape_attempts
               WHERE outcome = 'ok' GROUP BY platform),
        pend AS (SELECT platform, count(*) AS pending_links FROM registry.pending_links
                 WHERE resolved_video_id IS NULL GROUP BY platform)
        SELECT p.platform, coalesce(v.active, 0) AS active, coalesce(v.inactive, 0) AS inactive,
               coalesce(v.unavailable, 0) AS unavailable, coalesce(pend.pending_links, 0) AS pending_links,
               ok.last_ok_at
        FROM p LEFT JOIN v USING (platform) LEFT JOIN ok USING (platform) LEFT JOIN pend USING (platform)
        ORDER BY p.platform
        """
    ).pl()
    failing = con.sql(
        """
        SELECT a.video_id, a.outcome, a.attempted_at, a.detail
        FROM (SELECT *, row_number() OVER (PARTITION BY video_id ORDER BY attempted_at DESC) AS rn
              FROM raw.scrape_attempts) a
        JOIN registry.videos v USING (video_id)
        WHERE a.rn = 1 AND a.outcome <> 'ok' AND v.is_active
        ORDER BY a.attempted_at DESC
        """
    ).pl()
    # Overdue: tracked now, by the scheduler's rules, and nothing observed for longer than its cadence (the
    # scheduler's, auto cadences from the same VIEWTRAIL_AUTO_CADENCE table) plus the grace.
    last_observed = dict(con.sql("SELECT video_id, max(observed_at) FROM raw.snapshots GROUP BY video_id").fetchall())
    auto_table = auto_cadence_from_env()
    overdue_rows = []
    for platform in Platform:
        for video in load_video_schedules(con, platform, now):
            if not is_tracked(video, now):
                continue
            hours = cadence_hours(video, now, auto_table)
            last = last_observed.get(video.video_id)
            if (now - (last or video.added_at)).total_seconds() / 3600.0 > hours + grace_hours:
                overdue_rows.append((video.video_id, video.cadence, last, hours))
    overdue = pl.DataFrame(
        overdue_rows,
        schema={
            "video_id": pl.String(),
            "cadence": pl.String(),
            "last_observed_at": pl.Datetime("us"),
            "cadence_hours": pl.Int64(),
        },
        orient="row",
    )
    pending = int(by_platform["pending_links"].sum())
    return StatusSummary(by_platform=by_platform, failing=failing, overdue=overdue, pending_links=pending)
