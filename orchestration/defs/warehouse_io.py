"""The warehouse calls the pipeline makes, through W-foundation's API when it is there.

``orchestration.warehouse`` (open_warehouse, write_scrape_results, registry) is the contract. While parts of it
are still landing, this module supplies the same calls with the contract's semantics (one transaction,
``ON CONFLICT DO NOTHING``, registry updates from ok/not_found outcomes) so the pipeline can run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from datetime import UTC, datetime

from orchestration.models import NOT_FOUND_STREAK_LIMIT, Outcome, ScrapeResult

try:  # the contract API (W-foundation)
    from orchestration.warehouse import open_warehouse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - only before orchestration/warehouse/__init__.py lands
    from orchestration.warehouse.connection import open_warehouse  # noqa: F401

try:
    from orchestration.warehouse import write_scrape_results as _contract_write  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    _contract_write = None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _fallback_write(con, results: Iterable[ScrapeResult]) -> dict[str, int]:
    results = list(results)
    now = _now()
    snapshots = [
        (
            o.video_id, o.observed_at, o.views, o.likes, o.comments, o.shares, o.saves, o.title, o.account,
            o.posted_at, o.duration_s, json.dumps(o.extra or {}), o.source, o.run_id, now,
        )
        for r in results
        if (o := r.observation) is not None and Outcome(r.attempt.outcome) is Outcome.OK
    ]
    attempts = [
        (
            a.video_id, a.platform.value if hasattr(a.platform, "value") else str(a.platform), a.attempted_at,
            Outcome(a.outcome).value, a.http_status, a.detail, a.duration_ms, a.tries, a.source, a.run_id,
            a.partition_key,
        )
        for r in results
        for a in [r.attempt]
    ]
    con.execute("BEGIN TRANSACTION")
    try:
        before = con.execute("SELECT count(*) FROM raw.snapshots").fetchall()[0][0]
        if snapshots:
            con.executemany(
                "INSERT INTO raw.snapshots VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", snapshots
            )
        if attempts:
            con.executemany(
                "INSERT INTO raw.scrape_attempts VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING", attempts
            )
        for r in sorted(results, key=lambda r: r.attempt.attempted_at):
            outcome = Outcome(r.attempt.outcome)
            if outcome is Outcome.OK and r.observation is not None:
                con.execute(
                    "UPDATE registry.videos SET consecutive_not_found = 0, account = coalesce(?, account),"
                    " posted_at = coalesce(posted_at, ?), updated_at = ? WHERE video_id = ?",
                    [r.observation.account, r.observation.posted_at, now, r.attempt.video_id],
                )
            elif outcome is Outcome.NOT_FOUND:
                con.execute(
                    "UPDATE registry.videos SET consecutive_not_found = consecutive_not_found + 1,"
                    " availability = CASE WHEN consecutive_not_found + 1 >= ? THEN 'unavailable' ELSE availability END,"
                    " updated_at = ? WHERE video_id = ?",
                    [NOT_FOUND_STREAK_LIMIT, now, r.attempt.video_id],
                )
        after = con.execute("SELECT count(*) FROM raw.snapshots").fetchall()[0][0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"snapshots_inserted": after - before, "attempts": len(attempts)}


def write_results(con, results: Iterable[ScrapeResult]) -> dict[str, int]:
    """Write scrape results in one transaction; returns counts for run metadata."""
    if _contract_write is not None:
        summary = _contract_write(con, list(results))
        if dataclasses.is_dataclass(summary):
            data = dataclasses.asdict(summary)
        elif hasattr(summary, "_asdict"):
            data = summary._asdict()
        else:
            data = dict(getattr(summary, "__dict__", {}))
        return {k: int(v) for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool)}
    return _fallback_write(con, results)
