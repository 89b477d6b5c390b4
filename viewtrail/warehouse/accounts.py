"""Watched accounts and creators: watch, unwatch, list; creators; which accounts are due for discovery; storing
discovery results (and registering the new videos they list); the inbox of videos waiting for review.

Every write of ``registry.accounts``, ``registry.creators``, ``registry.creator_accounts``, ``registry.inbox``,
``raw.account_snapshots`` and ``raw.account_attempts`` goes through this module. Videos are registered only
through :func:`viewtrail.warehouse.registry.track_frame`, the one write path of ``registry.videos``.
No Dagster here: the discovery assets call :func:`accounts_due_for_discovery` and :func:`record_account_results`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from viewtrail.clock import utc_now
from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.models import (
    AccountRef,
    AccountResult,
    AccountToDiscover,
    DiscoveredVideo,
    DiscoveryMode,
    Outcome,
    Platform,
    VideoRef,
)
from viewtrail.domain.urls import (
    InvalidVideoUrl,
    canonical_account_url,
    canonical_url,
    parse_account_url,
    parse_platform,
    parse_video_url,
)
from viewtrail.planning.discovery import WatchedAccount, is_due_at
from viewtrail.warehouse import transactions
from viewtrail.warehouse.registry import (
    TrackOutcome,
    TrackResult,
    TrackRow,
    clean_labels,
    link_videos_to_account_ids,
    link_videos_to_accounts,
    metadata_json,
    stop_registered,
    track_frame,
    track_rows_frame,
    validate_cadence,
)

DEFAULT_LATEST_N = 30
DEFAULT_DISCOVERY_CADENCE_HOURS = 6.0
MAX_LATEST_N = 1000
MAX_DISCOVERY_CADENCE_HOURS = 720.0


@dataclass(frozen=True, slots=True)
class WatchResult:
    account_id: str
    platform: Platform
    outcome: TrackOutcome


# --------------------------------------------------------------------------------------------- validation


def validate_discovery(value: DiscoveryMode | str | None) -> DiscoveryMode | None:
    """``auto``, ``review`` or ``off``; ``None`` passes through (keep / default)."""
    if value is None:
        return None
    try:
        return DiscoveryMode(str(value).strip().lower())
    except ValueError:
        raise InvalidInputError(f"Discovery {str(value)!r} is not valid; use auto, review or off.") from None


def validate_latest_n(value: int | str | None) -> int | None:
    """How many of the newest videos the first discovery takes, 0..1000; ``None`` passes through."""
    if value is None:
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidInputError(f"Latest {str(value)!r} is not a whole number; give 0 to {MAX_LATEST_N}.") from None
    if not 0 <= number <= MAX_LATEST_N:
        raise InvalidInputError(
            f"Latest {number} is out of range; give 0 (only videos posted from now on) to {MAX_LATEST_N}."
        )
    return number


def validate_discovery_cadence(value: float | str | None) -> float | None:
    """Hours between two discoveries of an account, above 0 and at most 720; ``None`` passes through."""
    if value is None:
        return None
    try:
        hours = float(str(value).strip())
    except ValueError:
        raise InvalidInputError(
            f"Discovery interval {str(value)!r} is not a number of hours; give a number above 0 and at most 720."
        ) from None
    if not 0 < hours <= MAX_DISCOVERY_CADENCE_HOURS:
        raise InvalidInputError(
            f"Discovery interval {hours:g} hours is out of range; give a number above 0 and at most 720."
        )
    return hours


_SLUG_DROP = re.compile(r"[^a-z0-9]+")


def creator_slug(name: str) -> str:
    """``creator_id`` of a creator name: lower-case ASCII letters and digits joined by ``-``."""
    slug = _SLUG_DROP.sub("-", str(name).strip().lower()).strip("-")
    if not slug:
        raise InvalidInputError(
            f"Creator name {str(name)!r} has no letters or digits; give a name like 'Jane Doe' or jane-doe."
        )
    return slug


# --------------------------------------------------------------------------------------------- accounts


def _find_account_id(con: duckdb.DuckDBPyConnection, ref: AccountRef) -> str | None:
    """The stored account a ref names: by account_id, by handle (renamed or learned), or by platform id."""
    rows = con.execute(
        """
        SELECT account_id FROM registry.accounts
        WHERE platform = ? AND (account_id = ? OR (handle IS NOT NULL AND lower(handle) = lower(?))
                                OR (platform_account_id IS NOT NULL AND platform_account_id = ?))
        ORDER BY account_id = ? DESC, account_id
        LIMIT 1
        """,
        [str(ref.platform), ref.account_id, ref.handle, ref.platform_account_id, ref.account_id],
    ).fetchall()
    return rows[0][0] if rows else None


def watch_accounts(
    con: duckdb.DuckDBPyConnection,
    refs: Sequence[AccountRef],
    *,
    latest_n: int | str | None = None,
    since: datetime | None = None,
    discovery: DiscoveryMode | str | None = None,
    labels: Iterable[str] = (),
    cadence: str | int | None = None,
    cadence_hours: float | str | None = None,
    creator: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    transaction: bool = True,
) -> list[WatchResult]:
    """Watch accounts: insert new ones, update (and resume) known ones; never a duplicate.

    A ref matches a stored account by ``account_id``, by handle (case-insensitive, so an account renamed or
    added by channel id is found under its current handle) or by platform id. On a known account the options
    given replace the stored ones, labels are added, metadata merged. ``cadence`` is the cadence given to the
    account's discovered videos (``auto`` or hours); ``cadence_hours`` how often the account is discovered.
    ``creator`` (a name) is created when missing and linked to every account. Videos already registered
    whose handle matches get linked to their account. One transaction (or the caller's, ``transaction=False``).
    """
    now = now or utc_now()
    latest_n = validate_latest_n(latest_n)
    discovery = validate_discovery(discovery)
    cadence = validate_cadence(cadence)
    cadence_hours = validate_discovery_cadence(cadence_hours)
    labels = clean_labels(labels)
    meta = metadata_json(metadata)
    results: list[WatchResult] = []
    with transactions.transaction(con) if transaction else nullcontext():
        seen: set[str] = set()
        for ref in refs:
            stored_id = _find_account_id(con, ref)
            if stored_id is None:
                con.execute(
                    "INSERT INTO registry.accounts VALUES (?, ?, ?, ?, ?, true, ?, ?, ?, ?, ?, ?, ?::JSON, ?, ?, NULL)",
                    [
                        ref.account_id,
                        str(ref.platform),
                        ref.handle,
                        ref.platform_account_id,
                        ref.url,
                        str(discovery or DiscoveryMode.AUTO),
                        DEFAULT_LATEST_N if latest_n is None else latest_n,
                        since,
                        DEFAULT_DISCOVERY_CADENCE_HOURS if cadence_hours is None else cadence_hours,
                        cadence or "auto",
                        labels,
                        meta,
                        now,
                        now,
                    ],
                )
                seen.add(ref.account_id)
                results.append(WatchResult(ref.account_id, ref.platform, TrackOutcome.CREATED))
                continue
            if stored_id in seen:
                continue
            seen.add(stored_id)
            [(was_active,)] = con.execute(
                "SELECT is_active FROM registry.accounts WHERE account_id = ?", [stored_id]
            ).fetchall()
            con.execute(
                """
                UPDATE registry.accounts SET
                    is_active = true, stopped_at = NULL,
                    handle = coalesce(handle, ?), platform_account_id = coalesce(platform_account_id, ?),
                    discovery = coalesce(?, discovery), latest_n = coalesce(?, latest_n),
                    since = coalesce(?, since), discovery_cadence_hours = coalesce(?, discovery_cadence_hours),
                    video_cadence = coalesce(?, video_cadence),
                    labels = list_concat(labels, list_filter(?::TEXT[], lambda x: NOT list_contains(labels, x))),
                    metadata = json_merge_patch(metadata, ?::JSON), updated_at = ?
                WHERE account_id = ?
                """,
                [
                    ref.handle,
                    ref.platform_account_id,
                    str(discovery) if discovery else None,
                    latest_n,
                    since,
                    cadence_hours,
                    cadence,
                    labels,
                    meta,
                    now,
                    stored_id,
                ],
            )
            outcome = TrackOutcome.UPDATED if was_active else TrackOutcome.RESUMED
            results.append(WatchResult(stored_id, ref.platform, outcome))
        ids = [r.account_id for r in results]
        link_videos_to_accounts(con, account_ids=ids, now=now)
        if creator is not None and ids:
            add_creator(con, creator, now=now, transaction=False)
            link_creator_accounts(con, creator, ids, now=now, transaction=False)
    return results


def unwatch_accounts(
    con: duckdb.DuckDBPyConnection, account_ids: Iterable[str], *, now: datetime | None = None
) -> dict[str, str]:
    """Stop discovering accounts (their history and videos stay). Per id: ``stopped``, ``already stopped`` or
    ``unknown``."""
    return stop_registered(con, "registry.accounts", "account_id", account_ids, now=now)


def resolve_account(con: duckdb.DuckDBPyConnection, text: str) -> str | None:
    """The stored ``account_id`` an account URL or account id names, ``None`` when it names no stored account.

    Raises :class:`~viewtrail.domain.urls.InvalidVideoUrl` for text that is neither an account id nor an account
    link.
    """
    value = str(text).strip()
    platform_name, sep, key = value.partition(":")
    if sep and "/" not in value and platform_name.lower() in Platform._value2member_map_ and key:
        rows = con.execute(
            "SELECT account_id FROM registry.accounts WHERE account_id = ? OR account_id = ? "
            "ORDER BY account_id = ? DESC LIMIT 1",
            [value, f"{platform_name.lower()}:{key.lower()}", value],
        ).fetchall()
        if rows:
            return rows[0][0]
        return None
    return _find_account_id(con, parse_account_url(value))


def list_accounts(
    con: duckdb.DuckDBPyConnection, platform: Platform | str | None = None, creator: str | None = None
) -> pl.DataFrame:
    """Registered accounts with their creators, videos, pending inbox rows, last discovery and last metrics."""
    where, params = [], []
    if platform is not None:
        where.append("a.platform = ?")
        params.append(str(parse_platform(platform)))
    if creator is not None:
        where.append("list_contains(coalesce(c.creators, []), ?)")
        params.append(creator_slug(creator))
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    return con.sql(
        f"""
        SELECT a.account_id, a.platform, a.handle, a.platform_account_id, a.url, a.is_active, a.discovery,
               a.latest_n, a.since, a.discovery_cadence_hours, a.video_cadence, a.labels, a.metadata,
               a.added_at, a.updated_at, a.stopped_at,
               coalesce(c.creators, []) AS creators,
               coalesce(v.videos, 0) AS videos, coalesce(i.pending, 0) AS inbox_pending,
               t.last_attempt_at, t.last_outcome, s.followers, s.last_observed_at
        FROM registry.accounts a
        LEFT JOIN (SELECT account_id, list(creator_id ORDER BY creator_id) AS creators
                   FROM registry.creator_accounts GROUP BY account_id) c USING (account_id)
        LEFT JOIN (SELECT account_id, count(*) AS videos FROM registry.videos
                   WHERE account_id IS NOT NULL GROUP BY account_id) v USING (account_id)
        LEFT JOIN (SELECT account_id, count(*) AS pending FROM registry.inbox
                   WHERE status = 'pending' GROUP BY account_id) i USING (account_id)
        LEFT JOIN (SELECT account_id, max(attempted_at) AS last_attempt_at,
                          arg_max(outcome, attempted_at) AS last_outcome
                   FROM raw.account_attempts GROUP BY account_id) t USING (account_id)
        LEFT JOIN (SELECT account_id, arg_max(followers, observed_at) AS followers,
                          max(observed_at) AS last_observed_at
                   FROM raw.account_snapshots GROUP BY account_id) s USING (account_id)
        {clause}
        ORDER BY a.platform, a.account_id
        """,
        params=params,
    ).pl()


# --------------------------------------------------------------------------------------------- creators


def _creator_exists(con: duckdb.DuckDBPyConnection, creator_id: str) -> bool:
    return bool(con.execute("SELECT 1 FROM registry.creators WHERE creator_id = ?", [creator_id]).fetchall())


def _require_creator(con: duckdb.DuckDBPyConnection, name: str) -> str:
    creator_id = creator_slug(name)
    if not _creator_exists(con, creator_id):
        raise InvalidInputError(
            f"There is no creator {name!r}; add it with `viewtrail creator add {name!r}` (see `viewtrail creator list`)."
        )
    return creator_id


def add_creator(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    labels: Iterable[str] = (),
    now: datetime | None = None,
    transaction: bool = True,
) -> bool:
    """Add a creator (a person or brand behind several accounts); returns False when it existed (labels added)."""
    now = now or utc_now()
    creator_id = creator_slug(name)
    labels = clean_labels(labels)
    with transactions.transaction(con) if transaction else nullcontext():
        if _creator_exists(con, creator_id):
            con.execute(
                "UPDATE registry.creators SET labels = list_concat(labels, "
                "list_filter(?::TEXT[], lambda x: NOT list_contains(labels, x))), updated_at = ? "
                "WHERE creator_id = ? AND len(list_filter(?::TEXT[], lambda x: NOT list_contains(labels, x))) > 0",
                [labels, now, creator_id, labels],
            )
            return False
        con.execute(
            "INSERT INTO registry.creators VALUES (?, ?, ?, '{}'::JSON, ?, ?)",
            [creator_id, str(name).strip(), labels, now, now],
        )
    return True


def _require_accounts(con: duckdb.DuckDBPyConnection, account_ids: Sequence[str]) -> list[str]:
    ids = list(dict.fromkeys(account_ids))
    known = {
        r[0]
        for r in con.execute(
            "SELECT account_id FROM registry.accounts WHERE list_contains(?, account_id)", [ids]
        ).fetchall()
    }
    missing = [i for i in ids if i not in known]
    if missing:
        raise InvalidInputError(
            f"Not a watched account: {', '.join(missing)}; watch it first with `viewtrail watch URL`."
        )
    return ids


def link_creator_accounts(
    con: duckdb.DuckDBPyConnection,
    name: str,
    account_ids: Sequence[str],
    *,
    now: datetime | None = None,
    transaction: bool = True,
) -> dict[str, str]:
    """Link accounts to an existing creator. Per account: ``linked`` or ``already linked``."""
    now = now or utc_now()
    with transactions.transaction(con) if transaction else nullcontext():
        creator_id = _require_creator(con, name)
        ids = _require_accounts(con, account_ids)
        linked = {
            r[0]
            for r in con.execute(
                "SELECT account_id FROM registry.creator_accounts WHERE creator_id = ?", [creator_id]
            ).fetchall()
        }
        for account_id in ids:
            if account_id not in linked:
                con.execute("INSERT INTO registry.creator_accounts VALUES (?, ?, ?)", [creator_id, account_id, now])
    return {i: ("already linked" if i in linked else "linked") for i in ids}


def unlink_creator_accounts(con: duckdb.DuckDBPyConnection, name: str, account_ids: Sequence[str]) -> dict[str, str]:
    """Unlink accounts from a creator (the accounts stay watched). Per account: ``unlinked`` or ``not linked``."""
    with transactions.transaction(con):
        creator_id = _require_creator(con, name)
        ids = list(dict.fromkeys(account_ids))
        removed = {
            r[0]
            for r in con.execute(
                "DELETE FROM registry.creator_accounts WHERE creator_id = ? AND list_contains(?, account_id) "
                "RETURNING account_id",
                [creator_id, ids],
            ).fetchall()
        }
    return {i: ("unlinked" if i in removed else "not linked") for i in ids}


def list_creators(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Creators with their accounts (ids, sorted) and the number of videos of those accounts."""
    return con.sql(
        """
        SELECT c.creator_id, c.name, c.labels, c.added_at,
               coalesce(list(ca.account_id ORDER BY ca.account_id) FILTER (WHERE ca.account_id IS NOT NULL), [])
                   AS accounts,
               coalesce(sum(v.videos), 0)::BIGINT AS videos
        FROM registry.creators c
        LEFT JOIN registry.creator_accounts ca USING (creator_id)
        LEFT JOIN (SELECT account_id, count(*) AS videos FROM registry.videos
                   WHERE account_id IS NOT NULL GROUP BY account_id) v ON v.account_id = ca.account_id
        GROUP BY c.creator_id, c.name, c.labels, c.added_at
        ORDER BY c.creator_id
        """
    ).pl()


def remove_creator(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Remove a creator and its links (its accounts stay watched); False when there was no such creator."""
    creator_id = creator_slug(name)
    with transactions.transaction(con):
        if not _creator_exists(con, creator_id):
            return False
        con.execute("DELETE FROM registry.creator_accounts WHERE creator_id = ?", [creator_id])
        con.execute("DELETE FROM registry.creators WHERE creator_id = ?", [creator_id])
    return True


# --------------------------------------------------------------------------------------------- discovery


def load_watched_accounts(
    con: duckdb.DuckDBPyConnection, platform: Platform | str, account_ids: Sequence[str] | None = None
) -> list[WatchedAccount]:
    """The active watched accounts of ``platform`` (or only ``account_ids``) with when each was last attempted:
    what discovery plans from. Attempts the platform's circuit breaker skipped (``circuit_open``) do not count."""
    rows = con.execute(
        f"""
        SELECT a.account_id, a.platform, a.handle, a.url, a.platform_account_id, a.latest_n, a.since, a.added_at,
               a.discovery_cadence_hours, t.last_at
        FROM registry.accounts a
        LEFT JOIN (SELECT account_id, max(attempted_at) AS last_at FROM raw.account_attempts
                   WHERE outcome <> '{Outcome.CIRCUIT_OPEN}' GROUP BY account_id) t USING (account_id)
        WHERE a.is_active AND a.platform = ? AND (? OR list_contains(?, a.account_id))
        ORDER BY t.last_at NULLS FIRST, a.account_id
        """,
        [str(parse_platform(platform)), account_ids is None, list(account_ids or [])],
    ).fetchall()
    return [
        WatchedAccount(
            account=AccountToDiscover(
                account_id=account_id,
                platform=Platform(plat),
                handle=handle,
                url=url,
                platform_account_id=platform_account_id,
                latest_n=latest_n,
                since=since,
                added_at=added_at,
            ),
            cadence_hours=cadence_hours,
            added_at=added_at,
            last_attempted_at=last_at,
        )
        for account_id, plat, handle, url, platform_account_id, latest_n, since, added_at, cadence_hours, last_at in rows
    ]


def accounts_due_for_discovery(
    con: duckdb.DuckDBPyConnection, platform: Platform | str, *, now: datetime | None = None
) -> list[AccountToDiscover]:
    """Watched accounts of ``platform`` never attempted, or whose last attempt is at least their discovery
    interval old at ``now`` (:func:`viewtrail.planning.discovery.is_due_at`); never attempted first, then the
    longest waiting."""
    now = now or utc_now()
    return [replace(w.account, observe_at=now) for w in load_watched_accounts(con, platform) if is_due_at(w, now)]


@dataclass(frozen=True, slots=True)
class DiscoveryWrite:
    """What :func:`record_account_results` stored."""

    attempts_inserted: int = 0
    snapshots_inserted: int = 0
    videos_registered: int = 0  # new rows in registry.videos (discovery auto)
    inbox_added: int = 0  # new pending rows in registry.inbox (discovery review)
    accounts_renamed: int = 0  # accounts whose handle changed or was learned
    new_video_ids: list[str] = field(default_factory=list)  # registered videos, to give a first snapshot


_ATTEMPT_COLUMNS = (
    "account_id, platform, attempted_at, outcome, http_status, detail, duration_ms, tries, source, run_id, "
    "partition_key, videos_listed, videos_new, proxy_index"
)


@dataclass(slots=True)
class _Account:
    account_id: str
    platform: Platform
    handle: str | None
    platform_account_id: str | None
    url: str
    discovery: DiscoveryMode
    latest_n: int
    since: datetime | None
    video_cadence: str
    labels: list[str]


def _load_accounts(con: duckdb.DuckDBPyConnection, platforms: set[str]) -> list[_Account]:
    rows = con.execute(
        "SELECT account_id, platform, handle, platform_account_id, url, discovery, latest_n, since, video_cadence,"
        " labels FROM registry.accounts WHERE list_contains(?, platform)",
        [sorted(platforms)],
    ).fetchall()
    return [
        _Account(aid, Platform(p), h, pid, url, DiscoveryMode(d), n, since, cad, list(labels))
        for aid, p, h, pid, url, d, n, since, cad, labels in rows
    ]


def _discovered_ref(ref: VideoRef, handle: str | None) -> VideoRef:
    """The video as registered for its account: the account's handle as its author."""
    account = ref.account or handle
    try:
        url = canonical_url(ref.platform, ref.external_id, account)
    except InvalidVideoUrl:
        url = ref.url
    return VideoRef(ref.platform, ref.external_id, url, account)


def _renamed(account: _Account, handle: str | None) -> tuple[str | None, str]:
    """The handle and URL to store after discovery saw ``handle``. The URL follows the handle (a legacy YouTube
    ``/c/`` or ``/user/`` link becomes the ``@handle`` one) unless it names the account by its platform id
    (YouTube ``/channel/UC...``), which never changes."""
    if not handle:
        return account.handle, account.url
    try:
        new_url = canonical_account_url(account.platform, handle)
    except InvalidVideoUrl:
        return account.handle, account.url  # not a well-formed handle: keep what we have
    try:
        names_id = parse_account_url(account.url).handle is None
    except InvalidVideoUrl:
        names_id = False
    return handle, (account.url if names_id else new_url)


def record_account_results(
    con: duckdb.DuckDBPyConnection,
    results: Iterable[AccountResult],
    *,
    now: datetime | None = None,
    run_id: str | None = None,
) -> DiscoveryWrite:
    """Store discovery results in one write transaction; writing the same results again changes nothing.

    - ``raw.account_attempts`` and ``raw.account_snapshots``: only rows not stored yet (by their keys); a
      result whose attempt is already stored is skipped whole.
    - the account: results are matched to the stored account by ``account_id``, else by platform id (a
      renamed handle); handle, platform id and URL are updated from the observation, ``account_id`` never.
    - for an ``ok`` result that listed videos, the listed videos not known yet (neither in
      ``registry.videos`` nor in ``registry.inbox``): on the account's first discovery only its ``latest_n``
      newest; later only those posted since its first discovery's window (the oldest video it took, or the
      first discovery itself when it took none); never one posted before ``since``. Discovery ``auto``
      registers them (source ``discovered``, the account's labels and video cadence, ``account_id`` set),
      ``review`` adds pending inbox rows, ``off`` nothing. Listed videos already registered get linked.
    - ``videos_new`` on the attempt: how many videos it registered or added to the inbox; null when it failed,
      listed nothing it could use, or discovery is off.
    """
    return record_account_hours(con, [(now or utc_now(), results)], run_id=run_id)[0]


def record_account_hours(
    con: duckdb.DuckDBPyConnection,
    hours: Sequence[tuple[datetime, Iterable[AccountResult]]],
    *,
    run_id: str | None = None,
) -> list[DiscoveryWrite]:
    """Store several hours of discovery results, each ``(now, results)``, in one write transaction: hour after
    hour, each as :func:`record_account_results` stores it (an hour's new videos are known to the next). A
    backfill records hundreds of hours; one transaction for all costs one commit instead of one per hour, and a
    process killed meanwhile leaves none of them (the accounts stay due). Returns what each hour stored."""
    ordered_hours = [(now, _ordered(results)) for now, results in hours]

    def store(write: transactions.Write) -> list[DiscoveryWrite]:
        return [
            _store_results(con, ordered, write, now) if ordered else DiscoveryWrite() for now, ordered in ordered_hours
        ]

    if not any(ordered for _, ordered in ordered_hours):
        return [DiscoveryWrite() for _ in ordered_hours]
    return transactions.run_write(con, store, kind="discovery", run_id=run_id)


def _ordered(results: Iterable[AccountResult]) -> list[AccountResult]:
    """The results once per (account, attempt), in the order of their attempts."""
    batch: dict[tuple[str, datetime], AccountResult] = {}
    for result in results:
        batch.setdefault((result.attempt.account_id, result.attempt.attempted_at), result)
    return sorted(batch.values(), key=lambda r: (r.attempt.attempted_at, r.attempt.account_id))


def _store_results(
    con: duckdb.DuckDBPyConnection, ordered: list[AccountResult], write: transactions.Write, now: datetime
) -> DiscoveryWrite:
    accounts = _load_accounts(con, {str(r.attempt.platform) for r in ordered})
    by_id = {a.account_id: a for a in accounts}
    by_platform_id = {(a.platform, a.platform_account_id): a for a in accounts if a.platform_account_id}

    def target(result: AccountResult) -> _Account | None:
        found = by_id.get(result.attempt.account_id)
        if found is None and result.observation is not None and result.observation.platform_account_id:
            found = by_platform_id.get((result.attempt.platform, result.observation.platform_account_id))
        return found

    resolved = [(r, target(r)) for r in ordered]
    keys = [(a.account_id if a else r.attempt.account_id, r.attempt.attempted_at) for r, a in resolved]
    stored_keys = set(
        con.execute(
            "SELECT account_id, attempted_at FROM raw.account_attempts WHERE list_contains(?, account_id)",
            [sorted({k[0] for k in keys})],
        ).fetchall()
    )
    fresh = [(r, a, k) for (r, a), k in zip(resolved, keys, strict=True) if k not in stored_keys]
    involved = sorted({k[0] for _, _, k in fresh})
    first_listing = dict(
        con.execute(
            "SELECT account_id, min(attempted_at) FROM raw.account_attempts"
            " WHERE videos_new IS NOT NULL AND list_contains(?, account_id) GROUP BY account_id",
            [involved],
        ).fetchall()
    )
    oldest_taken = dict(
        con.execute(
            """
            SELECT account_id, min(posted_at) FROM (
                SELECT account_id, posted_at FROM registry.videos WHERE source = 'discovered'
                UNION ALL SELECT account_id, posted_at FROM registry.inbox)
            WHERE list_contains(?, account_id) GROUP BY account_id
            """,
            [involved],
        ).fetchall()
    )
    listed_ids = sorted({v.ref.video_id for r, _, _ in fresh for v in r.videos})
    known = {
        row[0]
        for row in con.execute(
            "SELECT video_id FROM registry.videos WHERE list_contains(?, video_id)"
            " UNION SELECT video_id FROM registry.inbox WHERE list_contains(?, video_id)",
            [listed_ids, listed_ids],
        ).fetchall()
    }

    attempt_rows: list[tuple] = []
    snapshot_rows: list[tuple] = []
    track_rows: list[TrackRow] = []
    inbox_rows: list[tuple] = []
    to_link: list[tuple[str, str]] = []  # (video_id, account_id) of listed videos already registered
    renamed: list[str] = []
    for result, account, (account_id, attempted_at) in fresh:
        attempt, observation = result.attempt, result.observation
        videos_new: int | None = None
        if attempt.outcome is Outcome.OK and account is not None:
            if observation is not None:
                handle, url = _renamed(account, observation.handle)
                platform_account_id = account.platform_account_id or observation.platform_account_id
                if (handle, url, platform_account_id) != (account.handle, account.url, account.platform_account_id):
                    con.execute(
                        "UPDATE registry.accounts SET handle = ?, url = ?, platform_account_id = ?, updated_at = ?"
                        " WHERE account_id = ?",
                        [handle, url, platform_account_id, now, account_id],
                    )
                    if handle != account.handle:
                        renamed.append(account_id)
                    account.handle, account.url, account.platform_account_id = handle, url, platform_account_id
            usable = attempt.videos_listed is not None or bool(result.videos)
            if usable and account.discovery is not DiscoveryMode.OFF:
                picked = _pick_new_videos(
                    result.videos,
                    account,
                    first_at=first_listing.get(account_id),
                    oldest_taken=oldest_taken.get(account_id),
                    known=known,
                )
                for video in result.videos:
                    if video.ref.video_id in known:
                        to_link.append((video.ref.video_id, account_id))
                for video in picked:
                    known.add(video.ref.video_id)
                    if account.discovery is DiscoveryMode.AUTO:
                        track_rows.append(
                            TrackRow(
                                _discovered_ref(video.ref, account.handle),
                                account.video_cadence,
                                labels=account.labels,
                                posted_at=video.posted_at,
                                account_id=account_id,
                                source="discovered",
                            )
                        )
                    else:
                        inbox_rows.append(
                            (
                                video.ref.video_id,
                                account_id,
                                str(video.ref.platform),
                                _discovered_ref(video.ref, account.handle).url,
                                video.posted_at,
                                video.title,
                                attempted_at,
                            )
                        )
                posted = [v.posted_at for v in picked if v.posted_at is not None]
                if posted:
                    previous = oldest_taken.get(account_id)
                    oldest_taken[account_id] = min([*posted, *([previous] if previous else [])])
                first_listing.setdefault(account_id, attempted_at)
                videos_new = len(picked)
        attempt_rows.append(
            (
                account_id,
                str(attempt.platform),
                attempted_at,
                str(attempt.outcome),
                attempt.http_status,
                attempt.detail,
                attempt.duration_ms,
                attempt.tries,
                attempt.source,
                attempt.run_id,
                attempt.partition_key,
                attempt.videos_listed,
                videos_new,
                attempt.proxy_index,
            )
        )
        if observation is not None and attempt.outcome is Outcome.OK:
            snapshot_rows.append(
                (
                    account_id,
                    observation.observed_at,
                    observation.followers,
                    observation.following,
                    observation.likes,
                    observation.video_count,
                    observation.views,
                    observation.handle,
                    observation.display_name,
                    observation.platform_account_id,
                    json.dumps(observation.extra, sort_keys=True) if observation.extra else None,
                    observation.source,
                    observation.run_id,
                )
            )

    if attempt_rows:
        con.executemany(
            f"INSERT INTO raw.account_attempts ({_ATTEMPT_COLUMNS}) VALUES ({', '.join('?' * 14)})"
            " ON CONFLICT DO NOTHING",
            attempt_rows,
        )
    snapshots_inserted = 0
    if snapshot_rows:
        before = _count(con, "raw.account_snapshots")
        con.executemany(
            "INSERT INTO raw.account_snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::JSON, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            [(*row, write.ingested_at) for row in snapshot_rows],
        )
        snapshots_inserted = _count(con, "raw.account_snapshots") - before
    new_ids: list[str] = []
    if track_rows:
        tracked = track_frame(con, track_rows_frame(track_rows), now=now, transaction=False)
        new_ids = [r.video_id for r in tracked]
    if inbox_rows:
        con.executemany(
            "INSERT INTO registry.inbox VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', NULL) ON CONFLICT DO NOTHING",
            inbox_rows,
        )
    link_videos_to_account_ids(con, to_link, now=now)
    if renamed:
        link_videos_to_accounts(con, account_ids=renamed, now=now)
    return DiscoveryWrite(
        attempts_inserted=len(attempt_rows),
        snapshots_inserted=snapshots_inserted,
        videos_registered=len(new_ids),
        inbox_added=len(inbox_rows),
        accounts_renamed=len(renamed),
        new_video_ids=new_ids,
    )


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _pick_new_videos(
    videos: Sequence[DiscoveredVideo],
    account: _Account,
    *,
    first_at: datetime | None,
    oldest_taken: datetime | None,
    known: set[str],
) -> list[DiscoveredVideo]:
    """The listed videos to register (or hold for review), newest first."""
    # stable: videos without a posting time keep the client's (newest first) order, after the dated ones
    newest_first = sorted(videos, key=lambda v: v.posted_at or datetime.min, reverse=True)
    if first_at is None:
        window = newest_first[: account.latest_n]
    else:
        horizon = min(first_at, oldest_taken) if oldest_taken else first_at
        window = [v for v in newest_first if v.posted_at is None or v.posted_at >= horizon]
    if account.since is not None:
        window = [v for v in window if v.posted_at is None or v.posted_at >= account.since]
    picked: list[DiscoveredVideo] = []
    seen: set[str] = set()
    for video in window:
        video_id = video.ref.video_id
        if video_id not in known and video_id not in seen:
            seen.add(video_id)
            picked.append(video)
    return picked


# --------------------------------------------------------------------------------------------- inbox


def list_inbox(con: duckdb.DuckDBPyConnection, *, status: str | None = "pending") -> pl.DataFrame:
    """Inbox rows (pending by default; ``None`` for all), newest discovery first."""
    where, params = "", []
    if status is not None:
        where, params = "WHERE status = ?", [status]
    return con.sql(
        f"SELECT * FROM registry.inbox {where} ORDER BY discovered_at DESC, posted_at DESC NULLS LAST, video_id",
        params=params,
    ).pl()


def _inbox_targets(con: duckdb.DuckDBPyConnection, video_ids: Sequence[str] | None) -> tuple[list[str], dict]:
    rows = con.execute(
        "SELECT video_id, status FROM registry.inbox"
        + ("" if video_ids is None else " WHERE list_contains(?, video_id)"),
        [] if video_ids is None else [list(video_ids)],
    ).fetchall()
    states = dict(rows)
    ids = [v for v, s in rows if s == "pending"] if video_ids is None else list(dict.fromkeys(video_ids))
    return ids, states


def accept_inbox(
    con: duckdb.DuckDBPyConnection, video_ids: Sequence[str] | None = None, *, now: datetime | None = None
) -> tuple[dict[str, str], list[TrackResult]]:
    """Accept pending inbox videos (``None``: all pending): register them as discovered videos of their account
    (its labels and video cadence). One transaction. Per id: ``accepted``, ``already accepted``,
    ``rejected`` (left alone) or ``unknown``; and the track results of the registered videos."""
    now = now or utc_now()
    with transactions.transaction(con):
        ids, states = _inbox_targets(con, video_ids)
        pending = [i for i in ids if states.get(i) == "pending"]
        rows = con.execute(
            """
            SELECT i.video_id, i.url, i.posted_at, i.account_id, a.handle, coalesce(a.video_cadence, 'auto'),
                   coalesce(a.labels, [])
            FROM registry.inbox i LEFT JOIN registry.accounts a USING (account_id)
            WHERE list_contains(?, i.video_id)
            """,
            [pending],
        ).fetchall()
        track_rows = []
        for video_id, url, posted_at, account_id, handle, cadence, labels in rows:
            ref = parse_video_url(url)
            assert isinstance(ref, VideoRef) and ref.video_id == video_id
            track_rows.append(
                TrackRow(
                    _discovered_ref(ref, handle),
                    cadence,
                    labels=list(labels),
                    posted_at=posted_at,
                    account_id=account_id,
                    source="discovered",
                )
            )
        tracked = track_frame(con, track_rows_frame(track_rows), now=now, transaction=False) if track_rows else []
        if pending:
            con.execute(
                "UPDATE registry.inbox SET status = 'accepted', decided_at = ? WHERE list_contains(?, video_id)",
                [now, pending],
            )
    words = {"pending": "accepted", "accepted": "already accepted", "rejected": "rejected"}
    return {i: words[states[i]] if i in states else "unknown" for i in ids}, tracked


def reject_inbox(
    con: duckdb.DuckDBPyConnection, video_ids: Sequence[str], *, now: datetime | None = None
) -> dict[str, str]:
    """Reject pending inbox videos: never registered, and discovery never offers them again. Per id:
    ``rejected``, ``already rejected``, ``accepted`` (left alone: untrack it instead) or ``unknown``."""
    now = now or utc_now()
    with transactions.transaction(con):
        ids, states = _inbox_targets(con, video_ids)
        pending = [i for i in ids if states.get(i) == "pending"]
        if pending:
            con.execute(
                "UPDATE registry.inbox SET status = 'rejected', decided_at = ? WHERE list_contains(?, video_id)",
                [now, pending],
            )
    words = {"pending": "rejected", "rejected": "already rejected", "accepted": "accepted"}
    return {i: words[states[i]] if i in states else "unknown" for i in ids}


__all__ = [
    "DEFAULT_DISCOVERY_CADENCE_HOURS",
    "DEFAULT_LATEST_N",
    "DiscoveryWrite",
    "WatchResult",
    "accept_inbox",
    "accounts_due_for_discovery",
    "add_creator",
    "creator_slug",
    "link_creator_accounts",
    "list_accounts",
    "list_creators",
    "list_inbox",
    "record_account_hours",
    "record_account_results",
    "reject_inbox",
    "remove_creator",
    "resolve_account",
    "unlink_creator_accounts",
    "unwatch_accounts",
    "validate_discovery",
    "validate_discovery_cadence",
    "validate_latest_n",
    "watch_accounts",
]
