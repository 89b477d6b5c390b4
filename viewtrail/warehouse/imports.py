"""Bulk imports: a file of video URLs into the registry, and snapshot history exported from another tracker.

Reading and checking a file (``read_*``) is separate from writing it (``write_*``): the CLI reads, reports
problems, resolves short links without holding the warehouse, then writes everything in one transaction.
Files are read by polars with every column as text, so that each value is checked (and reported with its
line number) by viewtrail's own rules rather than guessed by a type inferrer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from viewtrail.clock import utc_now
from viewtrail.domain.errors import InvalidInputError
from viewtrail.domain.models import AccountRef, Platform, ShortLink, VideoRef
from viewtrail.domain.urls import InvalidVideoUrl, parse_account_url, parse_many, parse_platform, split_video_id
from viewtrail.warehouse.registry import (
    TrackResult,
    TrackRow,
    clean_labels,
    track_frame,
    track_rows_frame,
    validate_cadence,
    validate_days,
)
from viewtrail.warehouse.snapshots import SNAPSHOT_SCHEMA, insert_snapshots
from viewtrail.warehouse.transactions import Write, run_write

#: Progress callback: ``(rows done, rows total)``.
Progress = Callable[[int, int], None]

_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int  # 1-based line number in the file
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class UrlImportRow:
    line: int
    ref: VideoRef | ShortLink
    cadence: str | None
    days: int | None
    labels: list[str]


@dataclass(frozen=True, slots=True)
class AccountImportRow:
    line: int
    ref: AccountRef
    cadence: str | None  # cadence of the account's discovered videos
    labels: list[str]


@dataclass(slots=True)
class UrlImport:
    """A checked URL file: valid rows (first occurrence of each video or account), short links, problems."""

    rows: list[UrlImportRow] = field(default_factory=list)
    short_links: list[UrlImportRow] = field(default_factory=list)
    accounts: list[AccountImportRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    duplicates: int = 0  # rows naming a video already named earlier in the file


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInputError(f"There is no file {path}; check the path.") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is not UTF-8 text; save it as UTF-8 CSV or plain text.") from None
    except OSError as error:
        raise InvalidInputError(f"{path} cannot be read ({error.strerror}); check the path and permissions.") from None


#: Names a spreadsheet may give the column of video links, in order of preference; all read as ``url``.
URL_COLUMNS = ("url", "link", "video_url", "video_link", "video")
#: Field separators a CSV may use: spreadsheets in locales with a decimal comma export with ``;``, others
#: with tabs (copied from a sheet) or ``|``.
DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True, slots=True)
class CsvLayout:
    delimiter: str
    columns: list[str]  # normalised header names (lower case, spaces and dashes as _), url synonyms as ``url``
    url_column: str | None  # the header's own name of the url column, when there is one


def _normalise(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def _header_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []


def csv_layout(text: str, key_columns: tuple[str, ...] = ()) -> CsvLayout | None:
    """The delimiter and columns of a CSV whose header names a url column (or one of ``key_columns``);
    ``None`` when the first line is no such header.

    The delimiter is the one that splits the header into a recognised column (most fields on a tie), not a
    guess from character frequencies like :class:`csv.Sniffer`: URLs are full of ``;``, ``,`` and ``|``, so
    frequency counts over rows of links mislead it, whereas the header line is plain words."""
    header = _header_line(text)
    best: CsvLayout | None = None
    for delimiter in DELIMITERS:
        names = [_normalise(name) for name in _split(header, delimiter)]
        url_column = next((n for n in URL_COLUMNS if n in names), None)
        if url_column is None and not any(k in names for k in key_columns):
            continue
        columns = ["url" if n == url_column else n for n in names]
        if best is None or len(columns) > len(best.columns):
            best = CsvLayout(delimiter, columns, url_column)
    return best


def _header_without_url(text: str) -> list[str] | None:
    """The columns of a first line that looks like a CSV header but names no url column, else ``None``."""
    header = _header_line(text).strip()
    if not header or header.startswith("#") or "/" in header or "." in header:
        return None  # a comment, a link, an id or a domain: a plain list of URLs
    for delimiter in DELIMITERS:
        names = [n.strip() for n in _split(header, delimiter)]
        if len(names) > 1 and all(names):
            return names
    return None


def _read_csv(text: str, path: Path, layout: CsvLayout) -> tuple[pl.DataFrame, list[int], list[RowProblem]]:
    """All columns as text (normalised names) with the file line number of every row, and the rows that do
    not fit the header (too many or too few fields), reported and left out.

    Python's csv module rather than polars: it reads ragged rows, so one bad row is a line problem instead
    of the whole file refused, and it knows where quoted multi-line fields start."""
    width = len(layout.columns)
    data: list[list[str]] = []
    lines: list[int] = []
    problems: list[RowProblem] = []
    reader = csv.reader(io.StringIO(text), delimiter=layout.delimiter)
    previous_end = 0
    header_seen = False
    try:
        for record in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue  # blank lines, before the header too
            if not header_seen:
                header_seen = True
                continue
            if len(record) != width:
                problems.append(
                    RowProblem(
                        start,
                        f"{len(record)} fields but the header has {width}; "
                        f"quote values containing {_shown(layout.delimiter)} or remove the extra fields",
                    )
                )
                continue
            data.append(record)
            lines.append(start)
    except csv.Error as error:
        raise InvalidInputError(
            f"{path} is not a readable CSV file (line {reader.line_num}: {error}); check its quoting."
        ) from None
    if not data and not problems:
        raise InvalidInputError(f"{path} has a header but no rows; add the rows under the header and import it again.")
    # A repeated column name keeps its first column (the one a reader of the sheet sees first).
    keep = [i for i, name in enumerate(layout.columns) if layout.columns.index(name) == i]
    frame = pl.DataFrame(
        {layout.columns[i]: [row[i] for row in data] for i in keep},
        schema={layout.columns[i]: pl.String() for i in keep},
    )
    return frame, lines, problems


def _shown(delimiter: str) -> str:
    return {"\t": "a tab", ",": "a comma", ";": "a semicolon", "|": "a bar"}[delimiter]


def read_url_file(
    path: Path | str, *, platform: Platform | str | None = None, progress: Progress | None = None
) -> UrlImport:
    """Check a CSV file with a ``url`` column (optional ``label``, ``cadence``, ``days``, ``platform``, ``kind``)
    or a plain text file of URLs (one per line; blank lines and ``#`` comments skipped).

    A row is an account to watch when its ``kind`` is ``account``, or, without a kind, when its URL is an
    account link rather than a video link; ``kind`` ``video`` accepts video links only."""
    path = Path(path)
    text = _read_text(path)
    expected = parse_platform(platform) if platform else None
    layout = csv_layout(text)
    csv_problems: list[RowProblem] = []
    if layout is None and (columns := _header_without_url(text)) is not None:
        raise InvalidInputError(
            f"{path} looks like a CSV with the columns {', '.join(columns)} but none of them holds the video "
            f"links; name that column url (or link, video_url, video)."
        )
    if layout is not None:
        frame, lines, csv_problems = _read_csv(text, path, layout)
        n = frame.height

        def column(name: str) -> list[str | None]:
            return frame[name].to_list() if name in frame.columns else [None] * n

        urls, labels, cadences, days_col, platforms, kinds = (
            column("url"),
            column("label"),
            column("cadence"),
            column("days"),
            column("platform"),
            column("kind"),
        )
    else:
        lines, urls = [], []
        for number, text_line in enumerate(text.splitlines(), start=1):
            stripped = text_line.strip()
            if stripped and not stripped.startswith("#"):
                lines.append(number)
                urls.append(stripped)
        n = len(urls)
        labels = cadences = days_col = platforms = kinds = [None] * n

    result = UrlImport(problems=csv_problems)
    first_rows: dict[str, UrlImportRow | AccountImportRow] = {}
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        chunk_urls = [(u or "").strip() for u in urls[start:stop]]
        row_platforms = platforms[start:stop]
        if expected is not None or all(p is None or not p.strip() for p in row_platforms):
            parsed = parse_many(chunk_urls, expected)
        else:
            parsed = []
            for text_url, row_platform in zip(chunk_urls, row_platforms, strict=True):
                try:
                    parsed.extend(parse_many([text_url], (row_platform or "").strip() or expected))
                except InvalidVideoUrl as error:
                    parsed.append(error)
        outcome: VideoRef | ShortLink | AccountRef | InvalidVideoUrl  # a kind=account row turns into an AccountRef
        for offset, outcome in enumerate(parsed):
            i = start + offset
            line = lines[i]
            if not chunk_urls[offset]:
                result.problems.append(RowProblem(line, "the url is empty; give a video URL or remove the row"))
                continue
            kind = (kinds[i] or "").strip().lower()
            if kind not in ("", "video", "account"):
                result.problems.append(
                    RowProblem(line, f"kind {kinds[i]!r} is not valid; use video or account, or leave it empty")
                )
                continue
            if kind == "account" or (not kind and isinstance(outcome, InvalidVideoUrl)):
                try:
                    account = parse_account_url(chunk_urls[offset])
                except InvalidVideoUrl as error:
                    result.problems.append(RowProblem(line, str(outcome if not kind else error)))
                    continue
                outcome = account
            if isinstance(outcome, InvalidVideoUrl):
                result.problems.append(RowProblem(line, str(outcome)))
                continue
            try:
                cadence_text = cadences[i]
                cadence = validate_cadence(cadence_text) if cadence_text and cadence_text.strip() else None
                days = validate_days(days_col[i])
            except InvalidInputError as error:
                result.problems.append(RowProblem(line, str(error)))
                continue
            try:
                row_labels = clean_labels((labels[i] or "").replace("|", ";").split(";"))
            except InvalidInputError as error:
                result.problems.append(RowProblem(line, str(error)))
                continue
            if isinstance(outcome, AccountRef):
                key = f"account {outcome.account_id}"
            else:
                key = outcome.video_id if isinstance(outcome, VideoRef) else outcome.url
            if key in first_rows:  # the first row's options stand; every row's labels add up
                result.duplicates += 1
                labels_so_far = first_rows[key].labels
                labels_so_far.extend(label for label in row_labels if label not in labels_so_far)
                continue
            if isinstance(outcome, AccountRef):
                account_row = first_rows[key] = AccountImportRow(line, outcome, cadence, row_labels)
                result.accounts.append(account_row)
                continue
            row = first_rows[key] = UrlImportRow(line, outcome, cadence, days, row_labels)
            (result.rows if isinstance(outcome, VideoRef) else result.short_links).append(row)
        if progress is not None:
            progress(stop, n)
    result.problems.sort(key=lambda problem: problem.line)
    return result


def write_url_import(
    con: duckdb.DuckDBPyConnection, rows: list[UrlImportRow], *, now: datetime | None = None, transaction: bool = True
) -> list[TrackResult]:
    """Track all rows in one transaction (one bulk insert/update); the same rules as ``track``.

    ``transaction=False`` runs inside the caller's transaction."""
    now = now or utc_now()
    assert all(isinstance(row.ref, VideoRef) for row in rows), "short links must be resolved first"
    frame = track_rows_frame(
        TrackRow(
            row.ref,  # type: ignore[arg-type]  # every ref is a VideoRef: asserted above
            row.cadence,
            now + timedelta(days=row.days) if row.days else None,
            row.labels,
            source="import",
        )
        for row in rows
    )
    return track_frame(con, frame, now=now, transaction=transaction)


# ----------------------------------------------------------------------------------------- snapshot history

_METRICS = ("views", "likes", "comments", "shares", "saves")
_REQUIRED = ("observed_at", "views", "likes", "comments", "shares")


@dataclass(slots=True)
class SnapshotImport:
    """A checked snapshot file: rows to write (exact duplicates collapsed), videos they name, problems."""

    frame: pl.DataFrame  # raw.snapshots columns minus ingested_at, plus ``line``
    refs: dict[str, VideoRef]  # video_id -> ref (from the URL or the id)
    problems: list[RowProblem]
    duplicates: int  # exact duplicate rows collapsed
    has_saves: bool  # the file has a saves column (else saves are not compared with stored rows)


def _parse_instant(text: str) -> datetime:
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC).replace(tzinfo=None)
    return instant


def _parse_count(name: str, text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    value = text.strip()
    if not value.isdigit():
        raise ValueError(f"{name} {text!r} is not a whole number >= 0; leave it empty when unknown")
    return int(value)


def read_snapshot_file(path: Path | str, *, progress: Progress | None = None) -> SnapshotImport:
    """Check a CSV of past observations: ``url`` or ``video_id``, ``observed_at`` (ISO 8601; naive = UTC,
    offsets converted), ``views``, ``likes``, ``comments``, ``shares``, optional ``saves`` and ``account``."""
    path = Path(path)
    text = _read_text(path)
    layout = csv_layout(text, key_columns=("video_id",))
    if layout is None:
        columns = _header_without_url(text)
        having = f"has the columns {', '.join(columns)} but" if columns else "has"
        raise InvalidInputError(
            f"{path} {having} no url or video_id column; the first line must be a CSV header like "
            f"url,observed_at,views,likes,comments,shares."
        )
    frame, lines, problems = _read_csv(text, path, layout)
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"{path} lacks the column(s) {', '.join(missing)}; add them to the header.")
    n = frame.height

    def column(name: str) -> list[str | None]:
        return frame[name].to_list() if name in frame.columns else [None] * n

    urls, ids, accounts = column("url"), column("video_id"), column("account")
    observed = column("observed_at")
    metrics = {name: column(name) for name in _METRICS}
    refs: dict[str, VideoRef] = {}
    parsed_urls: Sequence[VideoRef | ShortLink | InvalidVideoUrl | None] = [None] * n
    if "url" in frame.columns:
        parsed_urls = parse_many([(u or "").strip() for u in urls])
    out: dict[str, list] = {"line": [], "video_id": [], "observed_at": [], **{m: [] for m in _METRICS}, "account": []}
    for i in range(n):
        line = lines[i]
        reasons: list[str] = []
        ref: VideoRef | None = None
        id_text = (ids[i] or "").strip()
        url_text = (urls[i] or "").strip()
        if id_text:
            try:
                platform, external_id = split_video_id(id_text)
                parsed = parse_many([external_id], platform)[0]
                if isinstance(parsed, VideoRef):
                    ref = parsed
                else:
                    reasons.append(
                        str(parsed) if isinstance(parsed, InvalidVideoUrl) else f"{id_text!r} is not a video id"
                    )
            except (InvalidVideoUrl, ValueError) as error:
                reasons.append(str(error))
        elif url_text:
            parsed_url = parsed_urls[i]
            if isinstance(parsed_url, VideoRef):
                ref = parsed_url
            elif isinstance(parsed_url, ShortLink):
                reasons.append(f"{url_text} is a short link; use the full video URL or the video_id")
            else:
                reasons.append(str(parsed_url))
        else:
            reasons.append("neither url nor video_id is given")
        instant = None
        raw_instant = (observed[i] or "").strip()
        if not raw_instant:
            reasons.append("observed_at is empty")
        else:
            try:
                instant = _parse_instant(raw_instant)
            except ValueError:
                reasons.append(f"observed_at {raw_instant!r} is not an ISO 8601 date-time (e.g. 2026-11-01T14:00:00Z)")
        values: dict[str, int | None] = {}
        for name in _METRICS:
            try:
                values[name] = _parse_count(name, metrics[name][i])
            except ValueError as error:
                reasons.append(str(error))
        if reasons:
            problems.append(RowProblem(line, "; ".join(r.rstrip(".") for r in reasons)))
            continue
        assert ref is not None and instant is not None
        refs.setdefault(ref.video_id, ref)
        out["line"].append(line)
        out["video_id"].append(ref.video_id)
        out["observed_at"].append(instant)
        for name in _METRICS:
            out[name].append(values[name])
        account = (accounts[i] or "").strip().lstrip("@") or None
        out["account"].append(account or ref.account)
        if progress is not None and (i + 1) % _CHUNK == 0:
            progress(i + 1, n)
    if progress is not None:
        progress(n, n)
    rows = pl.DataFrame(
        out,
        schema={
            "line": pl.Int64(),
            "video_id": pl.String(),
            "observed_at": pl.Datetime("us"),
            **{m: pl.Int64() for m in _METRICS},
            "account": pl.String(),
        },
    )
    # Exact duplicates collapse; two different rows for the same video and instant contradict each other.
    value_cols = ["video_id", "observed_at", *_METRICS, "account"]
    unique = rows.unique(subset=value_cols, keep="first", maintain_order=True)
    duplicates = rows.height - unique.height
    clashes = unique.filter(pl.len().over(["video_id", "observed_at"]) > 1)
    for key, group in clashes.group_by(["video_id", "observed_at"], maintain_order=True):
        line_list = ", ".join(str(x) for x in group["line"].to_list())
        problems.append(
            RowProblem(
                min(group["line"].to_list()),
                f"lines {line_list} give different values for {key[0]} at {key[1]:%Y-%m-%d %H:%M:%S}; keep one",
            )
        )
    problems.sort(key=lambda p: p.line)
    return SnapshotImport(unique, refs, problems, duplicates, has_saves="saves" in frame.columns)


@dataclass(frozen=True, slots=True)
class SnapshotImportSummary:
    inserted: int
    already_stored: int  # identical to a stored observation: nothing to do
    conflicts: list[RowProblem]  # differ from a stored observation at the same instant: not written
    videos: list[TrackResult]  # videos registered (or resumed with --track)


def write_snapshot_import(
    con: duckdb.DuckDBPyConnection,
    checked: SnapshotImport,
    *,
    run_id: str,
    track: bool = False,
    now: datetime | None = None,
) -> SnapshotImportSummary:
    """Register unknown videos (inactive unless ``track``) and insert the snapshots, in one write transaction.

    Rows identical to stored observations are skipped; rows that differ from a stored observation at the
    same instant are reported as conflicts and not written (stored data is never overwritten). ``now`` dates
    the registry rows; ``ingested_at`` comes from the write clock, as for scrapes.
    """
    if checked.problems:
        raise InvalidInputError("The file has malformed rows; fix them first (nothing was written).")
    now = now or utc_now()
    rows = checked.frame
    compared = [m for m in _METRICS if m != "saves" or checked.has_saves]
    same = " AND ".join(f"s.{m} IS NOT DISTINCT FROM i.{m}" for m in compared)
    snapshots = _as_snapshot_rows(rows, run_id)

    def store(write: Write) -> tuple[list[TrackResult], list[tuple], int, int]:
        videos = _register_imported_videos(con, checked, track, now)
        # Inside the transaction (see insert_snapshots): a failure rolls the registration back too.
        con.register("_vt_import_in", rows)
        conflict_rows = con.sql(
            f"""
            SELECT i.line, i.video_id, i.observed_at, s.views, s.likes, s.comments, s.shares, s.saves
            FROM _vt_import_in i JOIN raw.snapshots s USING (video_id, observed_at)
            WHERE NOT ({same})
            ORDER BY i.line
            """
        ).fetchall()
        already = con.sql(
            f"SELECT count(*) FROM _vt_import_in i JOIN raw.snapshots s USING (video_id, observed_at) WHERE {same}"
        ).fetchall()[0][0]
        con.unregister("_vt_import_in")
        inserted = insert_snapshots(con, write, snapshots)
        return videos, conflict_rows, int(already), inserted

    videos, conflict_rows, already, inserted = run_write(con, store, kind="import", run_id=run_id)
    conflicts = [
        RowProblem(
            line,
            f"{video_id} at {observed_at:%Y-%m-%d %H:%M:%S} differs from the stored observation "
            f"(views={_show(views)}, likes={_show(likes)}, comments={_show(comments)}, shares={_show(shares)}, "
            f"saves={_show(saves)}); kept the stored one",
        )
        for line, video_id, observed_at, views, likes, comments, shares, saves in conflict_rows
    ]
    return SnapshotImportSummary(inserted, already, conflicts, videos)


def _as_snapshot_rows(rows: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """The checked rows as ``raw.snapshots`` rows: what a history file cannot tell is null."""
    given = set(rows.columns)
    return rows.select(
        (pl.col(name) if name in given else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in SNAPSHOT_SCHEMA.items()
        if name not in ("source", "run_id")
    ).with_columns(
        pl.lit("import", dtype=pl.String()).alias("source"),
        pl.lit(run_id, dtype=pl.String()).alias("run_id"),
    )


def _register_imported_videos(
    con: duckdb.DuckDBPyConnection, checked: SnapshotImport, track: bool, now: datetime
) -> list[TrackResult]:
    """Register the file's videos not known yet (and, with ``track``, resume untracked ones)."""
    rows = checked.frame
    ids = list(checked.refs)
    known = dict(
        con.execute(
            "SELECT video_id, is_active FROM registry.videos WHERE list_contains(?, video_id)", [ids]
        ).fetchall()
    )
    to_register = [i for i in ids if i not in known or (track and not known[i])]
    accounts = dict(
        rows.filter(pl.col("account").is_not_null())
        .group_by("video_id")
        .agg(pl.col("account").sort_by("observed_at").last())
        .iter_rows()
    )
    refs = [checked.refs[i] for i in to_register]
    frame = track_rows_frame(
        TrackRow(replace(ref, account=ref.account or accounts.get(ref.video_id)), active=track, source="import")
        for ref in refs
    )
    return track_frame(con, frame, now=now, transaction=False)


def _show(value: int | None) -> str:
    return "null" if value is None else str(value)
