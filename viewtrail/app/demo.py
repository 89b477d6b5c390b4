"""`viewtrail demo`: the main job, end to end, offline, on a fresh demo warehouse.

Everything the demo writes goes to its own data dir, ``<VIEWTRAIL_DATA_DIR>/demo/`` (:func:`demo_data_dir`):
its warehouse, analyst copy, Parquet marts, channels file, dbt artefacts and alert log. The user's own warehouse
(``VIEWTRAIL_WAREHOUSE``, default ``data/warehouse.duckdb``) and analyst copy are never opened for writing nor
deleted, so ``make demo``, then tracking one's own videos, then ``make demo`` again keeps both.

1. create a fresh demo warehouse in the demo dir (refusing to delete one holding rows the demo did not create);
2. track ~200 sample videos across the four platforms (deterministic ids, realistic canonical URLs);
3. backfill the last 14 days of hourly partitions with the simulated platform, through Dagster: one run for the
   accounts' discovery and one for the scrapes, each covering the whole range (``BackfillPolicy.single_run()``)
   on every platform, in-process, recorded in the Dagster instance of ``DAGSTER_HOME`` when it is set (so the
   runs show in ``make ui``);
4. build the dbt models, evaluate the demo's alert rules (spike, milestone, unavailable; defined as of the
   window's start; what fired is appended to ``data/demo/alerts.jsonl`` through a ``file://`` channel) and publish
   the analyst copy (``data/demo/analytics.duckdb`` + ``data/demo/marts/*.parquet``), as one Dagster run
   (:mod:`viewtrail.app.orchestrator`);
5. read the report from the analyst copy, with the alerts that fired during the simulated window (`viewtrail demo`
   prints it: :mod:`viewtrail.cli.demo_report`).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viewtrail import config
from viewtrail.clock import last_complete_hour, partition_key, pinned
from viewtrail.domain.errors import ViewtrailError
from viewtrail.domain.hashing import STABLE
from viewtrail.domain.models import Platform, VideoRef

if TYPE_CHECKING:
    from viewtrail.warehouse import marts

DEMO_VIDEO_COUNT = 200
DEMO_DAYS = 14
#: The demo's own data dir, inside the configured one: the only place `viewtrail demo` writes or deletes files.
DEMO_DIR_NAME = "demo"
#: Marks a warehouse as created by the demo. `viewtrail demo` deletes a warehouse only inside its own data dir,
#: and only when it is marked and holds nothing but rows the demo created.
DEMO_MARKER_TABLE = "meta.demo_warehouse"
#: ``metadata.source`` of the sample videos the demo tracks.
DEMO_SOURCE = "viewtrail demo"
#: The demo's alert rules (kind, --threshold values), defined as of the window's start, and its file channel.
DEMO_ALERT_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (("spike", ()), ("milestone", ()), ("unavailable", ()))
DEMO_CHANNEL = "demo-log"
DEMO_LABELS = ("launch", "tutorial", "behind-the-scenes", "collab", "evergreen")
#: Videos tracked at launch start this many hours after the window opens and at least LAUNCH_MARGIN_H before
#: it closes, so each has a day or more of hourly snapshots in the window.
LAUNCH_LEAD_H = 2
LAUNCH_MARGIN_H = 30
#: Watched accounts of the demo: (account link, creator, discovery mode). Two per platform, three creators, one
#: account whose new videos wait in the inbox for review. Each first discovery takes its DEMO_LATEST_N newest.
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("https://www.tiktok.com/@ana.cooks", "Ana Cooks", "auto"),
    ("https://www.youtube.com/@anacooks", "Ana Cooks", "auto"),
    ("https://www.instagram.com/ana.cooks/", "Ana Cooks", "review"),
    ("https://www.tiktok.com/@techtinker", "Tech Tinker", "auto"),
    ("https://www.youtube.com/@techtinker", "Tech Tinker", "auto"),
    ("https://x.com/techtinker", "Tech Tinker", "auto"),
    ("https://www.instagram.com/trailrunner/", "Trail Runner", "auto"),
    ("https://x.com/trailrunner", "Trail Runner", "auto"),
)
DEMO_LATEST_N = 5
#: The demo's creator program: two campaigns (Trail series nested in Spring program), tiered CPM on the parent, a
#: single CPM on the child, and a weekly posting goal per creator, Trail Runner's out of reach (At Risk).
DEMO_CAMPAIGNS: tuple[tuple[str, str | None, tuple[str, ...], str, int], ...] = (
    # (name, parent id, creators, cpm or tiers in cents per 1,000 views, counting window in hours)
    ("Spring program", None, ("ana-cooks", "tech-tinker"), "0:20,10000:40,100000:60", 72),
    ("Trail series", "spring-program", ("trail-runner",), "50", 48),
)
DEMO_GOALS: tuple[tuple[str, int], ...] = (("ana-cooks", 2), ("tech-tinker", 2), ("trail-runner", 250))

Progress = Callable[[str], None]


class DemoError(ViewtrailError):
    """The demo cannot run (e.g. the configured warehouse holds real data)."""


@dataclass(frozen=True, slots=True)
class SampleVideo:
    video_id: str
    platform: Platform
    external_id: str
    url: str
    account: str | None
    labels: tuple[str, ...]


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _external_id(platform: Platform, index: int) -> str:
    raw = STABLE.digest("demo-video", platform.value, index)
    number = int.from_bytes(raw, "big")
    if platform is Platform.TIKTOK:
        return str(7_300_000_000_000_000_000 + number % 100_000_000_000_000_000)  # 19 digits, like real ids
    if platform is Platform.X:
        return str(1_800_000_000_000_000_000 + number % 100_000_000_000_000_000)
    chars = []
    for _ in range(11):  # YouTube ids and Instagram shortcodes
        number, rest = divmod(number, 64)
        chars.append(_B64[rest])
    code = "".join(chars)
    return code if platform is Platform.YOUTUBE else "C" + code[1:]


def sample_videos(count: int = DEMO_VIDEO_COUNT) -> list[SampleVideo]:
    """``count`` deterministic sample videos spread over the four platforms and several accounts each."""
    from viewtrail.domain.urls import canonical_url
    from viewtrail.platforms.simulated.client import video_profile

    platforms = list(Platform)
    videos = []
    for index in range(count):
        platform = platforms[index % len(platforms)]
        external_id = _external_id(platform, index)
        video_id = f"{platform.value}:{external_id}"
        account = video_profile(video_id).account  # the simulated platform's author, as the URL would show it
        url = canonical_url(platform, external_id, account)
        label_pick = STABLE.digest("labels", video_id)[0]
        labels = tuple(
            label for bit, label in enumerate(DEMO_LABELS) if label_pick >> bit & 1 and bit < len(DEMO_LABELS)
        )[:2]
        videos.append(SampleVideo(video_id, platform, external_id, url, account, labels))
    return videos


# --------------------------------------------------------------------------------------------------
# the demo warehouse


def demo_data_dir() -> Path:
    """``<VIEWTRAIL_DATA_DIR>/demo``: where `viewtrail demo` keeps everything it writes."""
    return config.data_dir() / DEMO_DIR_NAME


@contextmanager
def in_demo_data_dir(demo_dir: Path) -> Iterator[Path]:
    """Point the settings at ``demo_dir`` while the demo runs, and back afterwards.

    Every path the demo's steps use (warehouse, analyst copy, Parquet marts, channels file, dbt artefacts) is read
    from :func:`config.settings`, so ``VIEWTRAIL_DATA_DIR`` moves them all. ``VIEWTRAIL_WAREHOUSE`` and
    ``VIEWTRAIL_ANALYTICS`` name the user's own files (the Makefile sets the former): they are ignored for the demo
    rather than followed.
    """
    demo_dir.mkdir(parents=True, exist_ok=True)
    with config.overridden({config.DATA_DIR: str(demo_dir), config.WAREHOUSE: None, config.ANALYTICS: None}):
        yield demo_dir


def _demo_account_handles() -> set[tuple[str, str]]:
    from viewtrail.domain.urls import parse_account_url

    handles = set()
    for url, _, _ in DEMO_ACCOUNTS:
        ref = parse_account_url(url)
        handles.add((ref.platform.value, (ref.handle or "").lower()))
    return handles


def _table_exists(con: Any, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
        ).fetchall()
    )


def _foreign_rows(path: Path) -> tuple[bool, dict[str, int]]:
    """(marked as a demo warehouse, rows the demo did not create by kind) of an existing warehouse file.

    The demo creates its sample videos (``metadata.source`` = DEMO_SOURCE), the videos its watched accounts
    discover, its accounts, its alert rules and its one channel; anything else was added by someone else.
    """
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        marked = _table_exists(con, "meta", "demo_warehouse")
        foreign: dict[str, int] = {}
        accounts = _table_exists(con, "registry", "accounts")
        if _table_exists(con, "registry", "videos"):
            discovered = (
                " AND NOT (source = 'discovered' AND account_id IN (SELECT account_id FROM registry.accounts))"
                if accounts
                else ""
            )
            foreign["videos"] = con.execute(
                "SELECT count(*) FROM registry.videos"
                f" WHERE coalesce(json_extract_string(metadata, '$.source'), '') <> ?{discovered}",
                [DEMO_SOURCE],
            ).fetchall()[0][0]
        if accounts:
            handles = _demo_account_handles()
            rows = con.sql("SELECT platform, lower(coalesce(handle, '')) FROM registry.accounts").fetchall()
            foreign["accounts"] = sum((platform, handle) not in handles for platform, handle in rows)
        if _table_exists(con, "registry", "alert_rules"):
            rules = con.sql("SELECT count(*) FROM registry.alert_rules").fetchall()[0][0]
            foreign["alert rules"] = max(0, rules - len(DEMO_ALERT_RULES))
        if _table_exists(con, "registry", "alert_channels"):
            foreign["alert channels"] = con.execute(
                "SELECT count(*) FROM registry.alert_channels WHERE name <> ?", [DEMO_CHANNEL]
            ).fetchall()[0][0]
        return marked, {kind: int(n) for kind, n in foreign.items() if n}
    finally:
        con.close()


def _is_marked_demo_warehouse(path: Path) -> bool:
    """Whether ``path`` is a warehouse an older viewtrail created as its demo warehouse (False when unreadable)."""
    import duckdb

    if not path.exists():
        return False
    try:
        return _foreign_rows(path)[0]
    except duckdb.Error:
        return False


def prepare_demo_warehouse(path: Path, demo_dir: Path) -> None:
    """Delete the previous demo warehouse at ``path`` (and the analyst copy and raw history published from it) so
    the demo starts afresh. Refuses (:class:`DemoError`) unless ``path`` is inside ``demo_dir``, is marked as a demo warehouse and
    holds nothing but rows the demo created: the demo never deletes anyone's data."""
    import duckdb

    from viewtrail.pipeline.publish import HISTORY_DIR_NAME

    inside = demo_dir.absolute().resolve()
    if not path.absolute().resolve().is_relative_to(inside):
        raise DemoError(
            f"The demo only replaces a warehouse inside its own data dir {demo_dir}, not {path}; this is a bug, "
            "please report it."
        )
    if path.exists():
        try:
            marked, foreign = _foreign_rows(path)
        except duckdb.IOException as error:
            raise DemoError(
                f"The demo warehouse {path} is in use by another process ({str(error).splitlines()[0][:120]}); "
                "close any session on it (e.g. a `viewtrail` command or `make ui` pointed at it), then run the demo "
                "again."
            ) from None
        except duckdb.Error:
            raise DemoError(
                f"{path} exists and is not a DuckDB warehouse; the demo will not delete it. Move it out of {demo_dir}, "
                "then run the demo again."
            ) from None
        if not marked or foreign:
            what = ", ".join(f"{n} {kind}" for kind, n in foreign.items()) or "data"
            raise DemoError(
                f"The warehouse {path} holds {what} that the demo did not create; the demo will not delete it. Move "
                f"it out of {demo_dir} (it may be your data), then run the demo again."
            )
    for candidate in (path, config.analytics_path()):
        for file in (candidate, candidate.with_name(candidate.name + ".wal")):
            if file.exists() and file.absolute().resolve().is_relative_to(inside):
                file.unlink()
    # the raw history published from the previous demo warehouse: the fresh one would be appended to it
    history = config.marts_export_dir().parent / HISTORY_DIR_NAME
    if history.is_dir() and history.absolute().resolve().is_relative_to(inside):
        shutil.rmtree(history)


def tracking_starts(videos: Sequence[SampleVideo], first_hour: datetime, last_hour: datetime) -> dict[str, datetime]:
    """When each sample video starts being tracked, relative to the simulated window (never to the calendar).

    Videos the simulated platform posts at launch are tracked at a point inside the window that leaves them at
    least a day of hourly history; catalogue videos (posted days to months earlier) are tracked from its start.
    """
    from viewtrail.platforms.simulated.client import video_profile

    window_h = max(int((last_hour - first_hour).total_seconds() // 3600) + 1, 1)
    launch_span_h = max(window_h - LAUNCH_MARGIN_H - LAUNCH_LEAD_H, 0)
    starts = {}
    for video in videos:
        if video_profile(video.video_id).launch:
            fraction = int.from_bytes(STABLE.digest("tracked-at", video.video_id)[:4], "big") / 2**32
            offset = timedelta(hours=LAUNCH_LEAD_H + fraction * launch_span_h)
            starts[video.video_id] = (first_hour + offset).replace(microsecond=0)
        else:
            starts[video.video_id] = first_hour
    return starts


def register_sample_videos(
    con: Any, videos: Sequence[SampleVideo], added_at: datetime, tracked_since: Mapping[str, datetime] | None = None
) -> None:
    """Track the sample videos (auto cadence, active) and mark the warehouse as a demo, in one transaction.

    ``tracked_since`` gives a video's own ``added_at`` (see :func:`tracking_starts`); the others get ``added_at``.
    """
    from viewtrail.warehouse.registry import TrackRow, track_frame, track_rows_frame
    from viewtrail.warehouse.transactions import transaction

    tracked_since = tracked_since or {}
    frame = track_rows_frame(
        TrackRow(
            VideoRef(v.platform, v.external_id, v.url, v.account),
            cadence="auto",
            labels=v.labels,
            metadata=json.dumps({"source": DEMO_SOURCE}),
            added_at=tracked_since.get(v.video_id, added_at),
        )
        for v in videos
    )
    with transaction(con):
        con.execute(f"CREATE TABLE IF NOT EXISTS {DEMO_MARKER_TABLE} (created_at TIMESTAMP NOT NULL, videos INTEGER)")
        con.execute(f"INSERT INTO {DEMO_MARKER_TABLE} VALUES (?, ?)", [added_at, len(videos)])
        track_frame(con, frame, now=added_at, transaction=False)


# --------------------------------------------------------------------------------------------------
# the report


@dataclass(frozen=True, slots=True)
class AlertRow:
    occurred_at: datetime
    kind: str
    video_id: str | None
    title: str  # the message's title
    delivered: bool


@dataclass(frozen=True, slots=True)
class DemoReport:
    videos_tracked: int
    snapshots_stored: int
    attempts_stored: int
    first_hour: datetime
    last_hour: datetime
    posted_in_window: int  # sample videos posted inside the backfilled window (tracked at launch)
    hourly_history: int  # videos with 24 or more snapshots
    disappeared: int  # videos the pipeline marked unavailable
    top_growth: list[marts.GrowingVideo]  # the 10 fastest-growing videos (views per hour over the last 24 h)
    plateauing: list[marts.GrowingVideo]  # the oldest videos, for comparison
    analytics_path: Path
    marts_dir: Path
    seconds: float
    alerts: list[AlertRow] = field(default_factory=list)  # what the demo's rules fired, oldest first
    alerts_log: Path | None = None  # the demo's file channel
    accounts_watched: int = 0
    top_creators: list[marts.CreatorLatest] = field(default_factory=list)  # by views of their accounts' videos
    discovered_in_window: list[DiscoveredRow] = field(default_factory=list)  # newest first
    discovered_count: int = 0  # videos discovered (posted) inside the window
    inbox_pending: int = 0  # videos of the review-mode account waiting for a decision
    data_dir: Path | None = None  # the demo's own data dir, where all of the above is stored
    payouts: list[marts.CreatorPayout] = field(default_factory=list)  # the demo program's balances
    goals: list[marts.GoalStatusRow] = field(default_factory=list)  # each creator goal's latest period


@dataclass(frozen=True, slots=True)
class DiscoveredRow:
    video_id: str
    account_id: str
    posted_at: datetime | None
    views: int | None


_DISCOVERED_SQL = """
SELECT video_id, account_id, posted_at FROM registry.videos
WHERE source = 'discovered' AND posted_at >= $first_hour
ORDER BY posted_at DESC, video_id
"""


def read_report(analytics_path: Path, first_hour: datetime, last_hour: datetime, seconds: float) -> DemoReport:
    import duckdb

    from viewtrail.warehouse import marts

    window_end = last_hour + timedelta(hours=1)
    con = duckdb.connect(str(analytics_path), read_only=True)
    try:

        def scalar(sql: str, params: Sequence[Any] = ()) -> int:
            return int(con.execute(sql, list(params)).fetchall()[0][0] or 0)

        def growing(ranking: marts.GrowthRanking, limit: int) -> list[marts.GrowingVideo]:
            return marts.growing_videos(con, as_of=window_end, ranking=ranking, limit=limit)

        report = DemoReport(
            videos_tracked=scalar("SELECT count(*) FROM registry.videos"),
            snapshots_stored=scalar("SELECT count(*) FROM raw.snapshots"),
            attempts_stored=scalar("SELECT count(*) FROM raw.scrape_attempts"),
            first_hour=first_hour,
            last_hour=last_hour,
            posted_in_window=scalar(
                "SELECT count(*) FROM registry.videos WHERE posted_at >= ? AND source <> 'discovered'", [first_hour]
            ),
            hourly_history=marts.count_videos_observed(con, at_least=24),
            disappeared=scalar("SELECT count(*) FROM registry.videos WHERE availability = 'unavailable'"),
            top_growth=growing(marts.GrowthRanking.FASTEST, 10),
            plateauing=growing(marts.GrowthRanking.OLDEST, 3),
            analytics_path=analytics_path,
            marts_dir=config.marts_export_dir(),
            seconds=seconds,
            accounts_watched=scalar("SELECT count(*) FROM registry.accounts WHERE is_active"),
            top_creators=marts.top_creators(con, 5),
            inbox_pending=scalar("SELECT count(*) FROM registry.inbox WHERE status = 'pending'"),
            payouts=marts.creator_payouts(con),
            goals=list({g.goal_id: g for g in marts.goal_statuses(con)}.values()),  # oldest first: the latest wins
        )
        found = con.execute(_DISCOVERED_SQL, {"first_hour": first_hour}).fetchall()
        views = marts.video_metrics(con, [video_id for video_id, _, _ in found])
        discovered = [
            DiscoveredRow(video_id, account_id, posted_at, views.get(video_id, marts.VideoMetrics()).views)
            for video_id, account_id, posted_at in found
        ]
        report = replace(report, discovered_in_window=discovered[:8], discovered_count=len(discovered))
    finally:
        con.close()
    return report


def run_demo(
    *, videos: int = DEMO_VIDEO_COUNT, days: int = DEMO_DAYS, progress: Progress = print, now: datetime | None = None
) -> DemoReport:
    """The main job. Raises :class:`DemoError` (one sentence) when it cannot run.

    The simulated window ends at the last complete hour before ``now`` (default: the clock's now); with
    ``now`` given, the whole run sees the clock as starting there.
    """
    if now is not None:
        with pinned(now):
            return run_demo(videos=videos, days=days, progress=progress)
    started = time.monotonic()
    demo_dir = demo_data_dir()
    if _is_marked_demo_warehouse(config.warehouse_path()):
        progress(
            f"note: {config.warehouse_path()} was created by the demo of an older viewtrail; it is left as it is "
            f"(delete it yourself if you do not need it). The demo now keeps its data in {demo_dir}."
        )
    with in_demo_data_dir(demo_dir):
        report = _run_in_demo_dir(demo_dir, videos, days, progress)
    return replace(report, seconds=time.monotonic() - started)


def _run_in_demo_dir(demo_dir: Path, videos: int, days: int, progress: Progress) -> DemoReport:
    from viewtrail.app.orchestrator import open_orchestrator
    from viewtrail.warehouse.connection import open_warehouse

    warehouse = config.warehouse_path()
    last_hour = last_complete_hour()
    first_hour = last_hour - timedelta(days=days) + timedelta(hours=1)

    progress(f"1/4 fresh demo warehouse at {warehouse}")
    prepare_demo_warehouse(warehouse, demo_dir)
    sample = sample_videos(videos)
    starts = tracking_starts(sample, first_hour, last_hour)
    alerts_log = config.data_dir() / "alerts.jsonl"
    with open_warehouse(warehouse) as con:
        register_sample_videos(con, sample, added_at=first_hour, tracked_since=starts)
        watch_demo_accounts(con, added_at=first_hour)
        define_demo_alerts(con, warehouse, alerts_log, created_at=first_hour)
        define_demo_program(con, created_at=first_hour)
    launched = sum(at > first_hour for at in starts.values())
    progress(
        f"2/4 tracking {len(sample)} sample videos on {', '.join(p.value for p in Platform)}: {launched} tracked "
        f"at launch during the window, {len(sample) - launched} catalogue videos from its start; watching "
        f"{len(DEMO_ACCOUNTS)} accounts of {len({c for _, c, _ in DEMO_ACCOUNTS})} creators"
    )

    with open_orchestrator(simulated=True) as orchestrator:
        progress(
            f"3/4 backfilling {days} day(s) of hourly partitions ({partition_key(first_hour)} .. "
            f"{partition_key(last_hour)}) with the simulated platform, one run for every platform: the accounts' "
            "discovery first, then the scrapes"
        )
        orchestrator.backfill_discovery(first_hour, last_hour, progress)
        orchestrator.backfill_snapshots(first_hour, last_hour, progress)
        progress("4/4 dbt build (models + tests) and publishing the analyst copy")
        orchestrator.build_and_publish(progress)
    report = read_report(config.analytics_path(), first_hour, last_hour, 0.0)
    with open_warehouse(warehouse, read_only=True) as con:
        fired = read_demo_alerts(con)
    return replace(report, alerts=fired, alerts_log=alerts_log, data_dir=demo_dir)


def watch_demo_accounts(con: Any, *, added_at: datetime) -> None:
    """The demo's watched accounts and their creators, as if watched when the simulated window opened."""
    from viewtrail.domain.urls import parse_account_url
    from viewtrail.warehouse.accounts import watch_accounts

    for url, creator, discovery in DEMO_ACCOUNTS:
        watch_accounts(
            con, [parse_account_url(url)], latest_n=DEMO_LATEST_N, discovery=discovery, creator=creator, now=added_at
        )


def define_demo_alerts(con: Any, warehouse: Path, log: Path, *, created_at: datetime) -> None:
    """The demo's rules and its file channel, as if defined when the simulated window opened."""
    from viewtrail.alerts import store
    from viewtrail.alerts.channels import channels_file
    from viewtrail.alerts.rules import Scope, build_params

    if log.exists():
        log.unlink()
    store.add_channel(
        con, DEMO_CHANNEL, f"file://{log.absolute()}", secrets_file=channels_file(warehouse), now=created_at
    )
    for kind, thresholds in DEMO_ALERT_RULES:
        store.add_rule(
            con,
            kind,
            Scope(),
            build_params(kind, thresholds=list(thresholds)),
            channels=[DEMO_CHANNEL],
            created_at=created_at,
        )


def define_demo_program(con: Any, *, created_at: datetime) -> None:
    """The demo's creator program, as if set up when the simulated window opened: campaigns, terms, goals."""
    from viewtrail.domain.programs import GoalMetric, GoalPeriod, PayoutTerms, parse_tiers
    from viewtrail.warehouse import programs as wp

    for name, parent, creators, cpm, window_hours in DEMO_CAMPAIGNS:
        campaign_id = wp.campaign_slug(name)
        target = 1_000_000 if parent is None else None
        campaign = wp.Campaign(campaign_id, name, parent, created_at.date(), None, target, None, "demo program")
        wp.create_campaign(con, campaign, now=created_at)
        wp.add_members(con, campaign_id, "creator", list(creators), now=created_at)
        terms = PayoutTerms("USD", parse_tiers(cpm), 1_000_000, window_hours, min_views=100)
        wp.add_terms(con, campaign_id, terms, creator_id=None, effective_from=created_at, now=created_at)
    for creator_id, posts in DEMO_GOALS:
        wp.add_goal(
            con, creator_id, GoalMetric.POSTS, GoalPeriod.WEEK, posts, starts_on=created_at.date(), ends_on=None,
            now=created_at,
        )  # fmt: skip


def read_demo_alerts(con: Any) -> list[AlertRow]:
    from viewtrail.alerts.store import list_events

    return [
        AlertRow(
            e["occurred_at"],
            e["kind"],
            e["video_id"],
            e["title"],
            any(d["status"] == "delivered" for d in e["deliveries"]),
        )
        for e in list_events(con)
    ]
