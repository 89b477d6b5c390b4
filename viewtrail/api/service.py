"""The API's domain layer, free of HTTP (the FastAPI app and the MCP server both call it).

Reads come from the published analyst copy (``VIEWTRAIL_ANALYTICS``), opened read-only per call: it is replaced
atomically after each build, so reading it never blocks the pipeline, and the pipeline never blocks a read.

Writes are the use cases of :mod:`viewtrail.app.videos` (the same as the CLI's) on the live warehouse, opened like the CLI opens it
(``open_warehouse`` with ``VIEWTRAIL_LOCK_TIMEOUT_S``); past the wait :class:`Unavailable`. In one process
writes take turns on a lock (two DuckDB transactions updating one row would conflict). Right after a write the
written ``registry.videos`` rows are read back on the same connection and stored in the store's overlay, which
reads lay over the copy's registry until a newer copy has caught up (its row's ``updated_at`` is as new), so a
client that POSTs and then GETs sees its video at once, in every worker process.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb
import polars as pl

from viewtrail.app import videos
from viewtrail.clock import naive_utc, utc_now
from viewtrail.domain.errors import InvalidInputError, ViewtrailError
from viewtrail.domain.models import Platform, ShortLink, VideoRef
from viewtrail.domain.urls import InvalidVideoUrl, parse_platform, parse_video_url
from viewtrail.warehouse import accounts, marts, registry
from viewtrail.warehouse.connection import WarehouseLockedError, open_warehouse
from viewtrail.warehouse.migrations import apply_migrations
from viewtrail.warehouse.transactions import transaction
from viewtrail.warehouse.video_pages import VideoFilter

from .settings import ApiSettings
from .store import Store

MAX_BULK = 1000
REGISTRY_COLUMNS = (
    "video_id",
    "platform",
    "external_id",
    "url",
    "account",
    "is_active",
    "cadence",
    "track_until",
    "labels",
    "metadata",
    "added_at",
    "updated_at",
    "stopped_at",
)
_OVERLAY_SCHEMA = {
    "video_id": pl.String(),
    "platform": pl.String(),
    "external_id": pl.String(),
    "url": pl.String(),
    "account": pl.String(),
    "is_active": pl.Boolean(),
    "cadence": pl.String(),
    "track_until": pl.Datetime("us"),
    "labels": pl.List(pl.String()),
    "metadata": pl.String(),
    "added_at": pl.Datetime("us"),
    "updated_at": pl.Datetime("us"),
    "stopped_at": pl.Datetime("us"),
}

#: Named SQL parameters: (name, value) pairs that a WHERE clause binds as ``$name``.
QueryParams = Sequence[tuple[str, object]]
#: The query parameter of a listing's cursor: the key of the last row of the page before.
AFTER = "after"


class _Listing(Protocol):
    """A listing query (videos, accounts, creators): the rows matching ``where`` in key order, or their count."""

    def __call__(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        where: Sequence[str] = (),
        params: QueryParams = (),
        limit: int | None = None,
        count: bool = False,
    ) -> tuple[list[dict[str, Any]], int | None]: ...


# --------------------------------------------------------------------------------------------------- errors


class ApiProblem(ViewtrailError):
    """A user-facing failure with its problem code; ``str(error)`` is one sentence."""

    status = 400
    code = "BAD_REQUEST"

    def __init__(self, detail: str, *, errors: Sequence[tuple[str, str]] = (), retry_after: int | None = None):
        super().__init__(detail)
        self.errors = list(errors)
        self.retry_after = retry_after


class NotFound(ApiProblem):
    status, code = 404, "NOT_FOUND"


class Invalid(ApiProblem):
    status, code = 422, "VALIDATION_ERROR"


class Conflict(ApiProblem):
    status, code = 409, "CONFLICT"


class Unavailable(ApiProblem):
    status, code = 503, "SERVICE_UNAVAILABLE"


def invalid(field: str, message: str) -> Invalid:
    return Invalid(message, errors=[(field, message)])


# -------------------------------------------------------------------------------------------------- helpers


def iso(value: Any) -> Any:
    """Naive-UTC datetimes as ``...Z``, dates as ``YYYY-MM-DD``; everything else unchanged."""
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def _metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        return json.loads(value) if value else {}
    return dict(value)


def encode_cursor(after: Any, filters: dict[str, Any]) -> str:
    raw = json.dumps({"a": after, "f": _filters_hash(filters)}, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, filters: dict[str, Any]) -> Any:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after, bound = data["a"], data["f"]
    except (ValueError, KeyError, TypeError):
        raise invalid("cursor", "The cursor is not one this API issued; start again without it.") from None
    if bound != _filters_hash(filters):
        raise invalid(
            "cursor",
            "The cursor belongs to a listing with other filters; reuse it with the same filters or start again.",
        )
    return after


def _filters_hash(filters: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(filters, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None
    limit: int
    total_count: int | None


# -------------------------------------------------------------------------------------------------- service


class Service:
    def __init__(self, settings: ApiSettings, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or Store(settings.store_path)
        self._write_lock = threading.Lock()

    # ------------------------------------------------------------------------------------------- connections

    @contextmanager
    def _reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The analyst copy read-only; before the first build an empty registry of the current schema."""
        path: Path = self.settings.analytics_path
        try:
            con = duckdb.connect(str(path), read_only=True) if path.exists() else None
        except duckdb.Error:
            con = None  # being replaced right now or unreadable: fall back to the overlay alone
        if con is None:
            con = duckdb.connect(":memory:")
            apply_migrations(con)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def _writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._write_lock:
            try:
                with open_warehouse(lock_timeout_s=self.settings.lock_timeout_s) as con:
                    yield con
            except WarehouseLockedError:
                raise Unavailable(
                    "The warehouse is busy with a pipeline run; retry in a moment.",
                    retry_after=max(1, int(min(self.settings.lock_timeout_s, 30)) or 5),
                ) from None

    def reader(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """The analyst copy, read-only (what the dashboard's pages read, as the API's reads do)."""
        return self._reader()

    def writer(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """The live warehouse for one write, as the API's writes open it (busy: :class:`Unavailable`)."""
        return self._writer()

    def record_written(self, con: duckdb.DuckDBPyConnection, video_ids: Sequence[str]) -> None:
        """The ``after_write`` of the video use cases: reads see the written rows at once (the overlay)."""
        self._record(con, video_ids)

    def _record(self, con: duckdb.DuckDBPyConnection, video_ids: Sequence[str]) -> None:
        """Store the registry rows of ``video_ids`` as just written (absent = deleted) in the overlay."""
        ids = list(dict.fromkeys(video_ids))
        if not ids:
            return
        frame = con.sql(
            f"SELECT {', '.join(REGISTRY_COLUMNS[:-4])}, metadata::VARCHAR AS metadata, added_at, updated_at, stopped_at"
            " FROM registry.videos WHERE list_contains(?, video_id)",
            params=[ids],
        ).pl()
        found = {row["video_id"]: row for row in frame.iter_rows(named=True)}
        now = utc_now()
        rows = {vid: found.get(vid) for vid in ids}
        stamps = {vid: (found[vid]["updated_at"] if vid in found else now) for vid in ids}
        self.store.put_overlay(rows, stamps)

    # ----------------------------------------------------------------------------------------- the registry

    def _overlay(self, con: duckdb.DuckDBPyConnection) -> tuple[list[str], pl.DataFrame]:
        """Registers ``_vt_overlay`` (the overlay's live rows) on ``con``; returns the ids it hides in the copy."""
        entries = self.store.overlay()
        if entries:
            caught_up: dict[str, datetime] = {}
            copy = {
                r[0]: (r[1], r[2])
                for r in con.execute(
                    "SELECT video_id, updated_at, added_at FROM registry.videos WHERE list_contains(?, video_id)",
                    [list(entries)],
                ).fetchall()
            }
            for vid, (row, stamp) in entries.items():
                have = copy.get(vid)
                if row is not None and have is not None and have[0] >= stamp:
                    caught_up[vid] = stamp
                elif row is None and (have is None or have[1] > stamp):
                    caught_up[vid] = stamp
            self.store.drop_overlay(caught_up)
            entries = {vid: entry for vid, entry in entries.items() if vid not in caught_up}
        live = []
        for row, _ in entries.values():
            if row is None:
                continue
            live.append(
                {
                    **row,
                    **{
                        k: (datetime.fromisoformat(row[k]) if row.get(k) else None)
                        for k in ("track_until", "added_at", "updated_at", "stopped_at")
                    },
                }
            )
        frame = pl.DataFrame(live, schema=_OVERLAY_SCHEMA) if live else pl.DataFrame(schema=_OVERLAY_SCHEMA)
        con.register("_vt_overlay", frame)
        return list(entries), frame

    def _videos(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        where: Sequence[str] = (),
        params: QueryParams = (),
        limit: int | None = None,
        count: bool = False,
    ) -> tuple[list[dict[str, Any]], int | None]:
        hidden, _ = self._overlay(con)
        values = {"hidden": hidden, **dict(params)}
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        columns = f"{', '.join(REGISTRY_COLUMNS[:-4])}, metadata::VARCHAR AS metadata, added_at, updated_at, stopped_at"
        total = None
        if count:
            total = con.execute(
                f"""SELECT count(*) FROM (SELECT {columns} FROM registry.videos WHERE NOT list_contains($hidden, video_id)
                    UNION ALL BY NAME SELECT * FROM _vt_overlay) {clause}""",
                values,
            ).fetchall()[0][0]
        # the copy's rows are cut to the page before they meet the overlay's: only the page's rows are read whole
        copy = (
            f"SELECT {columns} FROM registry.videos {clause or 'WHERE true'} AND NOT list_contains($hidden, video_id)"
        )
        page = ""
        if limit is not None:
            page = f" LIMIT {int(limit)}"
            if marts.stored_order(con, "registry.videos") == "video_id":
                # stored in id order: read on from the cursor's row and stop after the page (no sort of the registry)
                copy += f" AND rowid >= {self._position(con, values.get(AFTER))}{page}"
            else:  # a copy published before its registry was stored in order: a top-N over the whole registry
                copy += f" ORDER BY video_id{page}"
        sql = f"SELECT * FROM (({copy}) UNION ALL BY NAME (SELECT * FROM _vt_overlay {clause})) ORDER BY video_id{page}"
        rows = list(con.sql(sql, params=values).pl().iter_rows(named=True))
        metrics = marts.video_metrics(con, [row["video_id"] for row in rows])
        return [self._resource(row, metrics.get(row["video_id"])) for row in rows], total

    @staticmethod
    def _position(con: duckdb.DuckDBPyConnection, after: object) -> int:
        """The row of ``after`` in the copy's registry stored in id order (its primary key's index finds it), where
        the ids after it start; 0 for none or an id the copy does not hold (the scan then reads from the start)."""
        if after is None:
            return 0
        found = con.execute("SELECT rowid FROM registry.videos WHERE video_id = ?", [str(after)]).fetchall()
        return int(found[0][0]) if found else 0

    @staticmethod
    def _resource(row: dict[str, Any], metrics: marts.VideoMetrics | None) -> dict[str, Any]:
        metrics = metrics or marts.VideoMetrics()
        latest = None
        if metrics.observed_at is not None:
            latest = {
                "observed_at": iso(metrics.observed_at),
                "views": metrics.views,
                "likes": metrics.likes,
                "comments": metrics.comments,
                "shares": metrics.shares,
                "saves": metrics.saves,
            }
        growth = None
        if (
            metrics.views_gained_1d is not None
            or metrics.outlier_multiplier is not None
            or metrics.engagement_rate is not None
            or metrics.views_gained_7d is not None
        ):
            growth = {
                "increase_1d": metrics.views_gained_1d,
                "increase_7d": metrics.views_gained_7d,
                "increase_14d": metrics.views_gained_14d,
                "increase_30d": metrics.views_gained_30d,
                "outlier_multiplier": _num(metrics.outlier_multiplier),
                "engagement_rate": _num(metrics.engagement_rate),
            }
        return {
            "video_id": row["video_id"],
            "platform": row["platform"],
            "external_id": row["external_id"],
            "url": row["url"],
            "account": row["account"],
            "is_active": bool(row["is_active"]),
            "cadence": row["cadence"],
            "track_until": iso(row["track_until"]),
            "labels": list(row["labels"] or []),
            "metadata": _metadata(row["metadata"]),
            "added_at": iso(row["added_at"]),
            "updated_at": iso(row["updated_at"]),
            "stopped_at": iso(row["stopped_at"]),
            "latest": latest,
            "growth": growth,
        }

    # ------------------------------------------------------------------------------------------------- reads

    def resolve(self, reference: str) -> str:
        """A video id from an id or any URL form the CLI accepts; :class:`NotFound` when it names none."""
        try:
            ref = parse_video_url(reference)
        except InvalidVideoUrl as error:
            raise NotFound(f"No video matches {reference!r}: {error}") from None
        if isinstance(ref, ShortLink):
            raise NotFound(f"{ref.url} is a short link; name the video by its id or full URL instead.")
        return ref.video_id

    def get_video(self, reference: str) -> dict[str, Any]:
        video_id = self.resolve(reference)
        with self._reader() as con:
            items, _ = self._videos(con, where=["video_id = $id"], params=[("id", video_id)])
        if not items:
            raise NotFound(f"{video_id} is not in the registry; track it with POST /v1/videos.")
        return items[0]

    def list_videos(
        self,
        *,
        platform: str | None = None,
        label: str | None = None,
        account: str | None = None,
        active: bool | None = None,
        cursor: str | None = None,
        limit: int = 50,
        include_total: bool = False,
    ) -> Page:
        filters = {"platform": platform, "label": label, "account": account, "active": active}
        wanted = VideoFilter(
            platform=_platform(platform) if platform is not None else None,
            label=label,
            account=account.removeprefix("@") if account is not None else None,
            active=active,
        )
        where, params = wanted.where()
        return self._listing(
            self._videos, "video_id", filters, where, list(params.items()), cursor, limit, include_total
        )

    def _listing(
        self,
        fetch: _Listing,
        key: str,
        filters: dict[str, Any],
        where: Sequence[str],
        params: QueryParams,
        cursor: str | None,
        limit: int,
        include_total: bool,
    ) -> Page:
        """One page of ``fetch(con, where=, params=, limit=, count=)`` ordered by ``key``, its cursor bound to
        ``filters``."""
        count_where, count_params = list(where), list(params)
        where, params = list(where), list(params)
        if cursor:
            where.append(f"{key} > ${AFTER}")
            params.append((AFTER, str(decode_cursor(cursor, filters))))
        with self._reader() as con:
            items, _ = fetch(con, where=where, params=params, limit=limit + 1)
            total = None
            if include_total:
                _, total = fetch(con, where=count_where, params=count_params, limit=0, count=True)
        has_next = len(items) > limit
        items = items[:limit]
        next_cursor = encode_cursor(items[-1][key], filters) if has_next else None
        return Page(items, next_cursor, limit, total)

    def history(self, reference: str, start: date | None = None, end: date | None = None) -> list[dict[str, Any]]:
        video = self.get_video(reference)
        if start and end and start > end:
            raise invalid("start_date", "start_date is after end_date; swap them.")
        with self._reader() as con:
            days = marts.video_days(con, video_id=video["video_id"], start=start, end=end)
        return [{k: iso(v) for k, v in day.series().items()} for day in days]

    def snapshots(self, reference: str, *, cursor: str | None = None, limit: int = 100) -> Page:
        video = self.get_video(reference)
        filters = {"video_id": video["video_id"]}
        after = decode_cursor(cursor, filters) if cursor else None
        with self._reader() as con:
            rows = (
                con.sql(
                    """
                SELECT observed_at, views, likes, comments, shares, saves, title, account, source
                FROM raw.snapshots
                WHERE video_id = $id AND ($after IS NULL OR observed_at > $after::TIMESTAMP)
                ORDER BY observed_at LIMIT $n
                """,
                    params={"id": video["video_id"], "after": after, "n": limit + 1},
                )
                .pl()
                .rows(named=True)
            )
        has_next = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["observed_at"].isoformat(), filters) if has_next else None
        return Page([{k: iso(v) for k, v in r.items()} for r in rows], next_cursor, limit, None)

    def labels(self) -> list[dict[str, Any]]:
        with self._reader() as con:
            hidden, _ = self._overlay(con)
            rows = con.execute(
                """
                WITH reg AS (SELECT video_id, labels, is_active FROM registry.videos
                             WHERE NOT list_contains($hidden, video_id)
                             UNION ALL SELECT video_id, labels, is_active FROM _vt_overlay)
                SELECT label, count(*) AS videos, count(*) FILTER (WHERE is_active) AS active_videos
                FROM (SELECT unnest(labels) AS label, is_active FROM reg) GROUP BY label ORDER BY label
                """,
                {"hidden": hidden},
            ).fetchall()
        return [{"label": r[0], "videos": int(r[1]), "active_videos": int(r[2])} for r in rows]

    def _daily(
        self,
        mart: marts.Mart,
        filters: dict[str, Any],
        start: date | None,
        end: date | None,
        exclude: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        if start and end and start > end:
            raise invalid("start_date", "start_date is after end_date; swap them.")
        with self._reader() as con:
            rows = marts.daily_rows(con, mart, filters, start=start, end=end, exclude=exclude)
        return [{k: iso(_num(v)) for k, v in row.items()} for row in rows]

    def label_daily(self, label: str, start: date | None = None, end: date | None = None) -> list[dict[str, Any]]:
        if label not in {entry["label"] for entry in self.labels()}:
            raise NotFound(f"No video has the label {label!r}; GET /v1/labels lists them.")
        return self._daily(
            marts.Mart.LABEL_DAILY, {"label": label}, start, end, exclude=("snapshots_ingested_through",)
        )

    def account_daily(
        self, account: str, platform: str | None = None, start: date | None = None, end: date | None = None
    ) -> list[dict[str, Any]]:
        filters: dict[str, Any] = {"account": account.removeprefix("@")}
        if platform is not None:
            filters["platform"] = _platform(platform)
        rows = self._daily(marts.Mart.ACCOUNT_DAILY, filters, start, end, exclude=("snapshots_ingested_through",))
        if not rows:
            page = self.list_videos(account=account, platform=platform, limit=1)
            if not page.items:
                raise NotFound(f"No tracked video belongs to the account {account!r}.")
        return rows

    # --------------------------------------------------------------------------------- accounts and creators

    def _accounts(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        where: Sequence[str] = (),
        params: QueryParams = (),
        limit: int | None = None,
        count: bool = False,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Watched accounts (the copy's ``registry.accounts`` with their creators) and, once a build has them,
        their ``marts.account_latest`` row."""
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        reg = """
            WITH reg AS (
                SELECT a.account_id, a.platform, a.handle, a.platform_account_id, a.url, a.is_active, a.discovery,
                       a.latest_n, a.since, a.discovery_cadence_hours, a.video_cadence, a.labels,
                       a.metadata::VARCHAR AS metadata, a.added_at, a.updated_at, a.stopped_at,
                       coalesce(c.creators, []::VARCHAR[]) AS creators
                FROM registry.accounts a
                LEFT JOIN (SELECT account_id, list(creator_id ORDER BY creator_id) AS creators
                           FROM registry.creator_accounts GROUP BY account_id) c USING (account_id)
            )"""
        rows, total = self._registry_page(con, reg, clause, params, limit, count, key="account_id")
        latest = marts.account_latest(con, [row["account_id"] for row in rows])
        return [_account_resource(row, latest.get(row["account_id"])) for row in rows], total

    def resolve_account(self, reference: str) -> str:
        """A watched account's id from its id (``tiktok:nasa``) or account URL; :class:`NotFound` otherwise."""
        with self._reader() as con:
            try:
                account_id = accounts.resolve_account(con, reference)
            except InvalidVideoUrl as error:
                raise NotFound(f"No watched account matches {reference!r}: {error}") from None
        if account_id is None:
            raise NotFound(f"{reference} is not a watched account; GET /v1/watched-accounts lists them.")
        return account_id

    def get_account(self, reference: str) -> dict[str, Any]:
        account_id = self.resolve_account(reference)
        with self._reader() as con:
            items, _ = self._accounts(con, where=["account_id = $id"], params=[("id", account_id)])
        return items[0]

    def list_accounts(
        self,
        *,
        platform: str | None = None,
        creator: str | None = None,
        label: str | None = None,
        active: bool | None = None,
        cursor: str | None = None,
        limit: int = 50,
        include_total: bool = False,
    ) -> Page:
        filters = {"platform": platform, "creator": creator, "label": label, "active": active}
        where: list[str] = []
        params: list[tuple[str, object]] = []
        if platform is not None:
            where.append("platform = $platform")
            params.append(("platform", _platform(platform)))
        if creator is not None:
            where.append("list_contains(creators, $creator)")
            params.append(("creator", _creator_id(creator, field="creator")))
        if label is not None:
            where.append("list_contains(labels, $label)")
            params.append(("label", label))
        if active is not None:
            where.append("is_active = $active")
            params.append(("active", active))
        return self._listing(self._accounts, "account_id", filters, where, params, cursor, limit, include_total)

    def account_metrics(
        self, reference: str, start: date | None = None, end: date | None = None
    ) -> list[dict[str, Any]]:
        account_id = self.resolve_account(reference)
        return self._daily(
            marts.Mart.ACCOUNT_METRICS_DAILY,
            {"account_id": account_id},
            start,
            end,
            exclude=("snapshots_ingested_through",),
        )

    def _creators(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        where: Sequence[str] = (),
        params: QueryParams = (),
        limit: int | None = None,
        count: bool = False,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Creators (the copy's ``registry.creators`` with their accounts and those accounts' platforms) and,
        once a build has them, their ``marts.creator_latest`` row."""
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        reg = """
            WITH reg AS (
                SELECT c.creator_id, c.name, c.labels, c.metadata::VARCHAR AS metadata, c.added_at, c.updated_at,
                       coalesce(list(ca.account_id ORDER BY ca.account_id)
                                FILTER (WHERE ca.account_id IS NOT NULL), []::VARCHAR[]) AS account_ids,
                       coalesce(list_sort(list_distinct(list(a.platform) FILTER (WHERE a.platform IS NOT NULL))),
                                []::VARCHAR[]) AS platforms
                FROM registry.creators c
                LEFT JOIN registry.creator_accounts ca USING (creator_id)
                LEFT JOIN registry.accounts a ON a.account_id = ca.account_id
                GROUP BY ALL
            )"""
        rows, total = self._registry_page(con, reg, clause, params, limit, count, key="creator_id")
        latest = marts.creator_latest(con, [row["creator_id"] for row in rows])
        return [_creator_resource(row, latest.get(row["creator_id"])) for row in rows], total

    def _registry_page(
        self,
        con: duckdb.DuckDBPyConnection,
        reg: str,
        clause: str,
        params: Sequence[tuple[str, Any]],
        limit: int | None,
        count: bool,
        *,
        key: str,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """The rows of the registry CTE ``reg`` (named ``reg``) matching ``clause``, ordered by ``key``; and the
        total when ``count``."""
        values = dict(params)
        total = None
        if count:
            total = con.execute(f"{reg} SELECT count(*) FROM reg {clause}", values).fetchall()[0][0]
        page_limit = f"LIMIT {int(limit)}" if limit is not None else ""
        sql = f"{reg} SELECT * FROM reg {clause} ORDER BY {key} {page_limit}"
        return list(con.sql(sql, params=values).pl().iter_rows(named=True)), total

    def _creator_known(self, reference: str) -> str:
        """A creator's id from its id or name (``Jane Doe`` is ``jane-doe``); :class:`NotFound` when unknown."""
        try:
            creator_id = accounts.creator_slug(reference)
        except InvalidInputError as error:
            raise NotFound(str(error)) from None
        with self._reader() as con:
            known = con.execute("SELECT 1 FROM registry.creators WHERE creator_id = ?", [creator_id]).fetchall()
        if not known:
            raise NotFound(f"There is no creator {reference!r}; GET /v1/creators lists them.")
        return creator_id

    def get_creator(self, reference: str) -> dict[str, Any]:
        creator_id = self._creator_known(reference)
        with self._reader() as con:
            items, _ = self._creators(con, where=["creator_id = $id"], params=[("id", creator_id)])
        return items[0]

    def list_creators(
        self,
        *,
        platform: str | None = None,
        label: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
        include_total: bool = False,
    ) -> Page:
        filters = {"platform": platform, "label": label}
        where: list[str] = []
        params: list[tuple[str, object]] = []
        if platform is not None:
            where.append("list_contains(platforms, $platform)")
            params.append(("platform", _platform(platform)))
        if label is not None:
            where.append("list_contains(labels, $label)")
            params.append(("label", label))
        return self._listing(self._creators, "creator_id", filters, where, params, cursor, limit, include_total)

    def creator_daily(self, reference: str, start: date | None = None, end: date | None = None) -> list[dict[str, Any]]:
        creator_id = self._creator_known(reference)
        return self._daily(marts.Mart.CREATOR_DAILY, {"creator_id": creator_id}, start, end)

    def status(self) -> dict[str, Any]:
        with self._reader() as con:
            summary = registry.status_summary(con)
        return {
            "platforms": [{k: iso(v) for k, v in r.items()} for r in summary.by_platform.iter_rows(named=True)],
            "failing": [{k: iso(v) for k, v in r.items()} for r in summary.failing.head(100).iter_rows(named=True)],
            "failing_count": summary.failing.height,
            "overdue": [{k: iso(v) for k, v in r.items()} for r in summary.overdue.head(100).iter_rows(named=True)],
            "overdue_count": summary.overdue.height,
            "pending_links": summary.pending_links,
        }

    def top_growth(
        self,
        *,
        window_days: int = 7,
        label: str | None = None,
        platform: str | None = None,
        account: str | None = None,
        limit: int = 10,
    ) -> list[dict[str, Any]]:
        """The videos that gained the most views over 1, 7, 14 or 30 days (for the MCP tool): ranked in SQL by the
        mart reader's videos table (as the dashboard's Videos page sorts), then read as resources."""
        if window_days not in (1, 7, 14, 30):
            raise invalid("window_days", "window_days must be 1, 7, 14 or 30.")
        filters = marts.VideoFilter(
            platform=_platform(platform) if platform is not None else None, label=label, account=account
        )
        field = f"views_gained_{window_days}d"
        with self._reader() as con:
            rows, _ = marts.video_table(con, filters, sort=f"gained_{window_days}d", limit=limit)
            ranked = [row.video_id for row in rows if getattr(row, field, None) is not None]
            items, _ = self._videos(con, where=["list_contains($ids, video_id)"], params=[("ids", ranked)])
        by_id = {item["video_id"]: item for item in items}
        return [by_id[video_id] for video_id in ranked if video_id in by_id]

    # ------------------------------------------------------------------------------------------------ writes

    @staticmethod
    def _options(cadence: Any, days: Any, metadata: Any) -> tuple[str | None, int | None, dict[str, Any]]:
        try:
            cadence = registry.validate_cadence(cadence)
        except InvalidInputError as error:
            raise invalid("cadence", str(error)) from None
        try:
            days = registry.validate_days(days)
        except InvalidInputError as error:
            raise invalid("days", str(error)) from None
        try:
            metadata = registry.validate_metadata(metadata)
        except InvalidInputError as error:
            raise invalid("metadata", str(error)) from None
        return cadence, days, metadata

    @staticmethod
    def _parse_ref(text: str, platform: str | None, field: str = "url") -> VideoRef:
        try:
            ref = parse_video_url(text, platform or None)
        except InvalidVideoUrl as error:
            raise invalid(field, str(error)) from None
        if isinstance(ref, ShortLink):
            raise invalid(
                field, f"{ref.url} is a short link, which the API cannot resolve yet; give the video's full URL."
            )
        return ref

    def create_video(
        self,
        url: str,
        *,
        platform: str | None = None,
        cadence: Any = None,
        days: Any = None,
        labels: Sequence[str] = (),
        metadata: Any = None,
    ) -> tuple[bool, dict[str, Any]]:
        """Track one video; ``(created, resource)``. The same video again updates it like ``viewtrail track``."""
        if platform is not None:
            _platform(platform)
        ref = self._parse_ref(url, platform)
        cadence, days, metadata = self._options(cadence, days, metadata)
        options = videos.TrackOptions(cadence=cadence, days=days, labels=labels, metadata=metadata)
        try:
            tracked = videos.track_videos(
                [ref], options, scrape=False, open_warehouse=self._writer, after_write=self._record
            )
        except InvalidInputError as error:
            raise invalid("metadata", str(error)) from None
        [result] = tracked.results
        return result.outcome is registry.TrackOutcome.CREATED, self.get_video(ref.video_id)

    def bulk_create(
        self, urls: Sequence[str], *, cadence: Any = None, days: Any = None, labels: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        if len(urls) > MAX_BULK:
            raise invalid(
                "urls", f"{len(urls)} URLs were sent but at most {MAX_BULK} are accepted per request; split them."
            )
        cadence, days, _ = self._options(cadence, days, None)
        results: list[dict[str, Any] | None] = [None] * len(urls)
        refs: list[tuple[int, VideoRef]] = []
        for index, text in enumerate(urls):
            try:
                refs.append((index, self._parse_ref(text, None, field=f"urls[{index}]")))
            except Invalid as error:
                results[index] = {
                    "index": index,
                    "url": text,
                    "status": "invalid",
                    "video_id": None,
                    "reason": str(error),
                }
        if refs:
            tracked = videos.track_videos(
                [ref for _, ref in refs],
                videos.TrackOptions(cadence=cadence, days=days, labels=labels),
                scrape=False,
                open_warehouse=self._writer,
                after_write=self._record,
            )
            by_id = {r.video_id: r.outcome for r in tracked.results}
            for index, ref in refs:
                outcome = by_id[ref.video_id]
                status = "created" if outcome is registry.TrackOutcome.CREATED else "updated"
                results[index] = {
                    "index": index,
                    "url": urls[index],
                    "status": status,
                    "video_id": ref.video_id,
                    "reason": None,
                }
            # a video repeated in the request is created once: its later mentions are updates
            seen: set[str] = set()
            for entry in results:
                if entry and entry["video_id"]:
                    if entry["video_id"] in seen and entry["status"] == "created":
                        entry["status"] = "updated"
                    seen.add(entry["video_id"])
        return [r for r in results if r is not None]

    def stop(self, reference: str) -> dict[str, Any]:
        video_id = self.get_video(reference)["video_id"]
        videos.stop_videos([video_id], open_warehouse=self._writer, after_write=self._record)
        return self.get_video(video_id)

    def bulk_stop(self, references: Sequence[str]) -> list[dict[str, Any]]:
        if len(references) > MAX_BULK:
            raise invalid(
                "ids", f"{len(references)} ids were sent but at most {MAX_BULK} are accepted per request; split them."
            )
        ids: list[str | None] = []
        for text in references:
            try:
                ids.append(self.resolve(text))
            except NotFound:
                ids.append(None)
        known = [i for i in ids if i is not None]
        states: dict[str, str] = {}
        if known:
            states = videos.stop_videos(known, open_warehouse=self._writer, after_write=self._record)
        return [
            {
                "index": n,
                "id": text,
                "video_id": vid,
                "status": (states.get(vid, "unknown") if vid else "unknown").replace(" ", "_"),
            }
            for n, (text, vid) in enumerate(zip(references, ids, strict=True))
        ]

    def delete(self, reference: str) -> dict[str, Any]:
        video_id = self.get_video(reference)["video_id"]
        removed = videos.delete_videos([video_id], open_warehouse=self._writer, after_write=self._record)
        return {"video_id": video_id, "deleted": True, "snapshots_deleted": removed.get(video_id) or 0}

    def patch(self, reference: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change labels (replaced), metadata (merged; a null value removes the key), cadence, is_active and
        track_until (null = no end) of one video, in one transaction."""
        video = self.get_video(reference)
        video_id = video["video_id"]
        edits: dict[str, Any] = {}
        if "cadence" in changes:
            if changes["cadence"] is None:
                raise invalid("cadence", "cadence cannot be null; use 'auto' or a number of hours from 1 to 720.")
            edits["cadence"], _, _ = self._options(changes["cadence"], None, None)
        if "labels" in changes:
            edits["labels"] = changes["labels"] or []
        if "metadata" in changes:
            patch = changes["metadata"] or {}
            if not isinstance(patch, dict):
                raise invalid("metadata", "metadata must be a JSON object of keys and values.")
            try:
                registry.validate_metadata({k: v for k, v in patch.items() if v is not None})
            except InvalidInputError as error:
                raise invalid("metadata", str(error)) from None
            edits["metadata_patch"] = patch
        if "track_until" in changes:
            edits["track_until"] = changes["track_until"]
        now = utc_now()
        with self._writer() as con, transaction(con):
            if changes.get("is_active") is True and not video["is_active"]:
                registry.track_refs(con, [self._parse_ref(video_id, None)], now=now, transaction=False)
            elif changes.get("is_active") is False and video["is_active"]:
                registry.untrack(con, [video_id], now=now)
            try:
                registry.edit_video(con, video_id, now=now, **edits)
            except InvalidInputError as error:  # too many metadata keys after merging
                raise invalid("metadata", str(error)) from None
            self._record(con, [video_id])
        return self.get_video(video_id)

    def scrape(self, reference: str) -> dict[str, Any]:
        video_id = self.get_video(reference)["video_id"]
        try:
            path = videos.request_rescrape([video_id])
        except OSError as error:
            raise Unavailable(
                f"The rescrape request could not be queued ({error.strerror or error}); retry later.", retry_after=5
            ) from None
        return {"request_id": path.stem if path else None, "video_ids": [video_id], "status": "queued"}


#: The keys of a creator's ``latest`` object, in order, then ``shares``: its ``marts.creator_latest`` row but the
#: name and platforms, which the resource carries at its top level (from the registry).
_CREATOR_LATEST_KEYS = tuple(
    name for name in marts.CreatorLatest.__dataclass_fields__ if name not in ("name", "platforms", "shares")
)


def _account_resource(row: dict[str, Any], account_latest: marts.AccountLatest | None) -> dict[str, Any]:
    latest = None
    if account_latest is not None:
        latest = {k: iso(_num(getattr(account_latest, k))) for k in marts.AccountLatest.__dataclass_fields__}
    return {
        "account_id": row["account_id"],
        "platform": row["platform"],
        "handle": row["handle"],
        "platform_account_id": row["platform_account_id"],
        "url": row["url"],
        "is_active": bool(row["is_active"]),
        "discovery": row["discovery"],
        "latest_n": row["latest_n"],
        "since": iso(row["since"]),
        "discovery_cadence_hours": row["discovery_cadence_hours"],
        "video_cadence": row["video_cadence"],
        "labels": list(row["labels"] or []),
        "metadata": _metadata(row["metadata"]),
        "creators": list(row["creators"] or []),
        "added_at": iso(row["added_at"]),
        "updated_at": iso(row["updated_at"]),
        "stopped_at": iso(row["stopped_at"]),
        "latest": latest,
    }


def _creator_resource(row: dict[str, Any], creator_latest: marts.CreatorLatest | None) -> dict[str, Any]:
    latest = None
    if creator_latest is not None:
        latest = {k: iso(_num(getattr(creator_latest, k))) for k in _CREATOR_LATEST_KEYS}
        latest["shares"] = {
            metric: {platform: _num(share) for platform, share in by_platform.items()}
            for metric, by_platform in creator_latest.shares.items()
        }
    return {
        "creator_id": row["creator_id"],
        "name": row["name"],
        "labels": list(row["labels"] or []),
        "metadata": _metadata(row["metadata"]),
        "account_ids": list(row["account_ids"] or []),
        "platforms": list(row["platforms"] or []),
        "added_at": iso(row["added_at"]),
        "updated_at": iso(row["updated_at"]),
        "latest": latest,
    }


def _creator_id(name: str, *, field: str) -> str:
    try:
        return accounts.creator_slug(name)
    except InvalidInputError as error:
        raise invalid(field, str(error)) from None


def _platform(platform: str) -> str:
    try:
        return parse_platform(platform).value
    except InvalidVideoUrl as error:
        raise invalid("platform", str(error)) from None


def _num(value: Any) -> Any:
    """NaN and infinities (which JSON cannot carry) as null; Decimals as floats, whole-number ones (DuckDB's sums
    of BIGINT) as ints."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if value.__class__.__name__ == "Decimal":
        return int(value) if value.as_tuple().exponent >= 0 else float(value)
    return value


__all__ = ["ApiProblem", "Conflict", "Invalid", "NotFound", "Page", "Platform", "Service", "Unavailable"]


# ---------------------------------------------------------------------------------------------- creator programs
#
# Reads come from the analyst copy (as of the latest publish); writes go through the use cases of
# viewtrail.app.programs on the live warehouse and show in the reads after the next build.


def _program_call(call: Any) -> Any:
    """Run a program use case; its one-sentence refusals become problem details."""
    from viewtrail.warehouse.programs import ProgramsNotFound

    try:
        return call()
    except ProgramsNotFound as error:
        raise NotFound(str(error)) from None
    except InvalidInputError as error:
        raise invalid("body", str(error)) from None
    except OverflowError:  # an instant beyond what naive UTC can hold
        raise invalid("body", "A date or instant is out of range; give one between the years 1 and 9999.") from None


def _plain(row: Any) -> dict[str, Any]:
    import dataclasses

    return {k: iso(v) for k, v in dataclasses.asdict(row).items()}


def list_campaigns(service: Service) -> list[dict[str, Any]]:
    from viewtrail.app import programs

    listings = programs.list_campaigns(open_warehouse=service._reader)
    return [_campaign(item.campaign, item.totals) for item in listings]


def _campaign(campaign: Any, totals: Any) -> dict[str, Any]:
    return {
        **_plain(campaign),
        "videos": totals.videos if totals else None,
        "views": totals.views if totals else None,
        "target_share": totals.target_share if totals else None,
        "target_reached_on": iso(totals.target_reached_on) if totals else None,
        "target_met": totals.target_met if totals else None,
    }


def create_campaign(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    from viewtrail.app import programs

    request = programs.CampaignRequest(
        body["name"],
        body.get("parent_id"),
        body.get("starts_on"),
        body.get("ends_on"),
        body.get("target_views"),
        body.get("target_by"),
        body.get("notes"),
    )
    campaign = _program_call(lambda: programs.create_campaign(request, open_warehouse=service._writer))
    return _campaign(campaign, None)


def video_payouts(
    service: Service, campaign_id: str | None, creator_id: str | None, state: str | None
) -> list[dict[str, Any]]:
    from viewtrail.app import programs

    rows = programs.video_payouts(
        campaign_id=campaign_id, creator_id=creator_id, state=state, open_warehouse=service._reader
    )
    return [_plain(row) for row in rows]


def balances(service: Service, campaign_id: str | None, creator_id: str | None) -> list[dict[str, Any]]:
    from viewtrail.app import programs

    rows = programs.balances(campaign_id=campaign_id, creator_id=creator_id, open_warehouse=service._reader)
    return [_plain(row) for row in rows]


def mark_paid(service: Service, campaign_id: str, reference: str, creator_id: str | None) -> list[dict[str, Any]]:
    from viewtrail.app import programs

    payments = _program_call(
        lambda: programs.mark_paid(campaign_id, creator_id, reference=reference, open_warehouse=service._writer)
    )
    return [_plain(p) for p in payments]


def create_goal(service: Service, body: dict[str, Any]) -> dict[str, Any]:
    from viewtrail.app import programs

    request = programs.GoalRequest(
        body["creator_id"], body["metric"], body["period"], body["target"], body.get("starts_on"), body.get("ends_on")
    )
    goal = _program_call(lambda: programs.add_goal(request, open_warehouse=service._writer))
    return {**_plain(goal), "metric": goal.metric.value, "period": goal.period.value}


def goal_status(service: Service, creator_id: str | None, all_periods: bool) -> list[dict[str, Any]]:
    from viewtrail.app import programs

    rows = programs.goal_status(creator_id, all_periods=all_periods, open_warehouse=service._reader)
    return [_plain(row) for row in rows]


def add_members(service: Service, campaign_id: str, kind: str, members: Sequence[str]) -> int:
    from viewtrail.app import programs

    return int(_program_call(lambda: programs.add_members(campaign_id, kind, members, open_warehouse=service._writer)))


def set_terms(service: Service, campaign_id: str, body: dict[str, Any]) -> int:
    from viewtrail.app import programs

    effective = body.get("effective_from")
    request = programs.TermsRequest(
        campaign_id,
        body["cpm"],
        body["currency"],
        body.get("cap_views"),
        body["window_hours"],
        body["min_views"],
        body.get("creator_id"),
        naive_utc(effective) if effective is not None else None,
    )
    return int(_program_call(lambda: programs.set_terms(request, open_warehouse=service._writer)))


def decide_videos(
    service: Service, campaign_id: str, video_ids: Sequence[str], reason: str | None, *, reject: bool
) -> list[str]:
    from viewtrail.app import programs

    decide = programs.reject if reject else programs.unreject
    return list(_program_call(lambda: decide(campaign_id, video_ids, reason=reason, open_warehouse=service._writer)))


def adjust(service: Service, campaign_id: str, body: dict[str, Any]) -> int:
    from viewtrail.app import programs

    return int(
        _program_call(
            lambda: programs.adjust(
                campaign_id,
                body["creator_id"],
                body["amount"],
                body["currency"],
                reason=body["reason"],
                open_warehouse=service._writer,
            )
        )
    )
