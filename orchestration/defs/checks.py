"""Asset checks for the per-platform snapshot assets (``raw/{platform}_snapshots``).

Three checks, each a plain function ``check_*(con, platform, partition_key) -> (passed, metadata)`` over a
DuckDB connection to the warehouse, so they are unit-testable without Dagster:

* :func:`check_success_share` — share of the partition's due videos (every due video gets one attempt row in
  ``raw.scrape_attempts`` tagged with the partition key) that were scraped ``ok``; WARN below
  ``VIEWTRAIL_MIN_SUCCESS_SHARE`` (default 0.9). A partition with nothing due passes.
* :func:`check_freshness` — as of the end of the partition, no active available video (``track_until`` not
  passed) went without an ok snapshot for more than twice its cadence (:func:`scheduling.cadence_hours`);
  a video never observed counts from ``added_at``. WARN.
* :func:`check_no_duplicates` — no duplicate ``(video_id, observed_at)`` in ``raw.snapshots`` within the
  partition's window (the primary key should make this impossible; the check guards imports and migrations).

``partition_key`` is one hourly key (``YYYY-MM-DD-HH:MM``) or a sequence of keys (a single-run backfill over a
range). :func:`snapshot_check_results` wraps all three as ``AssetCheckResult``s for the load asset, which declares
them in ``check_specs`` (:func:`snapshot_check_specs`) and runs them right after its write.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
)

from viewtrail import config
from viewtrail.clock import PARTITION_KEY_FORMAT
from viewtrail.domain.models import Platform
from viewtrail.planning.scheduling import auto_cadence_from_env, cadence_hours, is_tracked, load_video_schedules

CHECK_SUCCESS = "due_videos_scraped"
CHECK_FRESHNESS = "no_stale_videos"
CHECK_DUPLICATES = "no_duplicate_observations"

_EXAMPLES = 10


def min_success_share() -> float:
    """``VIEWTRAIL_MIN_SUCCESS_SHARE`` (0..1), default 0.9, from ``config.settings()`` (which raises a
    ``ValueError`` with one sentence when it is bad)."""
    return config.settings().min_success_share


def _keys(partition_key: str | Sequence[str]) -> list[str]:
    keys = [partition_key] if isinstance(partition_key, str) else list(partition_key)
    if not keys:
        raise ValueError("no partition key given to the snapshot check")
    return sorted(keys)


def partition_window(partition_key: str | Sequence[str]) -> tuple[datetime, datetime]:
    """``[start, end)`` in naive UTC covered by one hourly key or a set of keys."""
    starts = [datetime.strptime(k, PARTITION_KEY_FORMAT) for k in _keys(partition_key)]
    return min(starts), max(starts) + timedelta(hours=1)


def check_success_share(
    con, platform: Platform | str, partition_key: str | Sequence[str], *, min_share: float | None = None
) -> tuple[bool, dict]:
    threshold = min_success_share() if min_share is None else min_share
    keys = _keys(partition_key)
    due, ok = con.execute(
        "SELECT count(DISTINCT video_id), count(DISTINCT video_id) FILTER (WHERE outcome = 'ok')"
        " FROM raw.scrape_attempts WHERE platform = ? AND partition_key IN (SELECT unnest(?::TEXT[]))",
        [Platform(platform).value, keys],
    ).fetchone()
    failed = [
        r[0]
        for r in con.execute(
            "SELECT video_id FROM raw.scrape_attempts WHERE platform = ? AND partition_key IN (SELECT unnest(?::TEXT[]))"
            " GROUP BY video_id HAVING count(*) FILTER (WHERE outcome = 'ok') = 0 ORDER BY video_id LIMIT ?",
            [Platform(platform).value, keys, _EXAMPLES],
        ).fetchall()
    ]
    share = ok / due if due else 1.0
    return share >= threshold, {
        "due": int(due),
        "ok": int(ok),
        "share": round(share, 4),
        "threshold": threshold,
        "failed_examples": ", ".join(failed),
    }


def check_freshness(con, platform: Platform | str, partition_key: str | Sequence[str]) -> tuple[bool, dict]:
    _, end = partition_window(partition_key)
    table = auto_cadence_from_env()
    last_ok = dict(
        con.execute(
            "SELECT s.video_id, max(s.observed_at) FROM raw.snapshots s JOIN registry.videos v USING (video_id)"
            " WHERE v.platform = ? AND s.observed_at < ? GROUP BY 1",
            [Platform(platform).value, end],
        ).fetchall()
    )
    stale: list[str] = []
    tracked = 0
    worst_hours = 0.0
    for video in load_video_schedules(con, platform, end):
        if not is_tracked(video, end) or video.added_at >= end:
            continue
        tracked += 1
        allowed = timedelta(hours=2 * cadence_hours(video, end, table))
        reference = last_ok.get(video.video_id) or video.added_at
        if end - reference > allowed:
            stale.append(video.video_id)
            worst_hours = max(worst_hours, (end - reference).total_seconds() / 3600)
    return not stale, {
        "as_of": end.isoformat(sep=" "),
        "tracked_videos": tracked,
        "stale_videos": len(stale),
        "oldest_gap_hours": round(worst_hours, 1),
        "stale_examples": ", ".join(stale[:_EXAMPLES]),
    }


def check_no_duplicates(con, platform: Platform | str, partition_key: str | Sequence[str]) -> tuple[bool, dict]:
    start, end = partition_window(partition_key)
    rows = con.execute(
        "SELECT s.video_id, s.observed_at, count(*) FROM raw.snapshots s JOIN registry.videos v USING (video_id)"
        " WHERE v.platform = ? AND s.observed_at >= ? AND s.observed_at < ?"
        " GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 1, 2",
        [Platform(platform).value, start, end],
    ).fetchall()
    return not rows, {
        "duplicate_keys": len(rows),
        "duplicate_examples": ", ".join(f"{v}@{t:%Y-%m-%d %H:%M:%S}" for v, t, _ in rows[:_EXAMPLES]),
    }


#: name -> (plain check function, description)
CHECKS = {
    CHECK_SUCCESS: (check_success_share, "Share of the partition's due videos scraped ok (WARN below the threshold)."),
    CHECK_FRESHNESS: (check_freshness, "No tracked video without an ok snapshot for more than 2x its cadence."),
    CHECK_DUPLICATES: (check_no_duplicates, "No duplicate (video_id, observed_at) in the partition's window."),
}
_SEVERITY = {CHECK_SUCCESS: "WARN", CHECK_FRESHNESS: "WARN", CHECK_DUPLICATES: "ERROR"}


def snapshot_check_results(con, platform: Platform | str, partition_key: str | Sequence[str]) -> list:
    """The three checks as ``AssetCheckResult``s (for an asset declaring them in ``check_specs``)."""
    results = []
    for name, (fn, _) in CHECKS.items():
        passed, metadata = fn(con, platform, partition_key)
        results.append(
            AssetCheckResult(
                check_name=name,
                passed=passed,
                severity=AssetCheckSeverity(_SEVERITY[name]),
                metadata=metadata,
            )
        )
    return results


def snapshot_check_specs(asset_key) -> list:
    """``AssetCheckSpec``s matching :func:`snapshot_check_results` (for ``@asset(check_specs=...)``)."""
    return [AssetCheckSpec(name, asset=asset_key, description=desc) for name, (_, desc) in CHECKS.items()]
