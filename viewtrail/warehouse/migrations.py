"""Versioned schema migrations of the warehouse.

Each migration is ``(version, name, sql)``; applied migrations are recorded in ``meta.schema_migrations``.
A migration runs in its own transaction together with its bookkeeping row, so a crash leaves the warehouse
at the previous version, never half-migrated. Migrations are append-only: never edit a released one, add a
new version instead (see docs/schema.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from viewtrail.clock import utc_now
from viewtrail.domain.errors import ViewtrailError
from viewtrail.warehouse.transactions import transaction


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


class WarehouseSchemaError(ViewtrailError):
    """The warehouse schema is not at the version this code needs (and cannot be migrated here)."""


_BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS meta.schema_migrations (
  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL
);
"""

_V1_BASE_TABLES = """
CREATE SCHEMA IF NOT EXISTS registry;
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE registry.videos (
  video_id TEXT PRIMARY KEY,
  platform TEXT NOT NULL,
  external_id TEXT NOT NULL,
  url TEXT NOT NULL,
  account TEXT,
  is_active BOOLEAN NOT NULL,
  cadence TEXT NOT NULL,
  track_until TIMESTAMP,
  labels TEXT[] NOT NULL,
  metadata JSON NOT NULL,
  added_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, stopped_at TIMESTAMP
);
CREATE TABLE registry.pending_links (
  url TEXT PRIMARY KEY, platform TEXT NOT NULL, note TEXT NOT NULL,
  cadence TEXT NOT NULL, track_until TIMESTAMP, labels TEXT[] NOT NULL, metadata JSON NOT NULL,
  added_at TIMESTAMP NOT NULL, resolved_video_id TEXT, resolved_at TIMESTAMP
);
CREATE TABLE raw.snapshots (
  video_id TEXT NOT NULL, observed_at TIMESTAMP NOT NULL,
  views BIGINT, likes BIGINT, comments BIGINT, shares BIGINT, saves BIGINT,
  title TEXT, account TEXT, posted_at TIMESTAMP, duration_s DOUBLE, extra JSON,
  source TEXT NOT NULL, run_id TEXT, ingested_at TIMESTAMP NOT NULL,
  PRIMARY KEY (video_id, observed_at)
);
CREATE TABLE raw.scrape_attempts (
  video_id TEXT NOT NULL, platform TEXT NOT NULL, attempted_at TIMESTAMP NOT NULL,
  outcome TEXT NOT NULL, http_status INTEGER, detail TEXT, duration_ms DOUBLE, tries INTEGER NOT NULL,
  source TEXT NOT NULL, run_id TEXT, partition_key TEXT,
  PRIMARY KEY (video_id, attempted_at)
);
"""

# Rebuilds registry.videos rather than appending columns with ALTER TABLE ADD COLUMN: DuckDB cannot add a
# NOT NULL column to an existing table, and a rebuild keeps the column order of the documented contract.
_V2_AVAILABILITY = """
CREATE TABLE registry.videos_v2 (
  video_id TEXT PRIMARY KEY,
  platform TEXT NOT NULL,
  external_id TEXT NOT NULL,
  url TEXT NOT NULL,
  account TEXT,
  is_active BOOLEAN NOT NULL,
  cadence TEXT NOT NULL,
  track_until TIMESTAMP,
  labels TEXT[] NOT NULL,
  metadata JSON NOT NULL,
  availability TEXT NOT NULL,
  consecutive_not_found INTEGER NOT NULL,
  posted_at TIMESTAMP,
  added_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, stopped_at TIMESTAMP
);
INSERT INTO registry.videos_v2
SELECT video_id, platform, external_id, url, account, is_active, cadence, track_until, labels, metadata,
       'available', 0, NULL, added_at, updated_at, stopped_at
FROM registry.videos;
DROP TABLE registry.videos;
ALTER TABLE registry.videos_v2 RENAME TO videos;
"""

# The write clock and the write log (see viewtrail/warehouse/transactions.py). The clock starts at the
# newest ingested_at already stored, so the first write after the upgrade is newer than any mart's high-water
# mark. meta.write_clock deliberately has no key: DuckDB 2.0 lets an UPDATE of a row in a table with an index
# silently overwrite a newer committed version of that row (a lost update) where an unindexed table raises
# "Conflict on update!", and that conflict is what keeps writes in commit order.
_V3_WRITE_CLOCK_AND_LOG = """
CREATE TABLE meta.write_clock (
  last_write_id BIGINT NOT NULL,
  last_ingested_at TIMESTAMP NOT NULL
);
INSERT INTO meta.write_clock
SELECT 0, coalesce(max(ingested_at), TIMESTAMP '1970-01-01') FROM raw.snapshots;
CREATE TABLE meta.write_log (
  write_id BIGINT PRIMARY KEY,
  kind TEXT NOT NULL,
  run_id TEXT,
  ingested_at TIMESTAMP NOT NULL,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP NOT NULL,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  snapshots_inserted BIGINT NOT NULL,
  attempts_inserted BIGINT NOT NULL
);
"""

# Alerts (docs/alerts.md): rules and channels in the registry, every firing and its delivery per channel in raw.
# Channel URLs hold secrets and are NOT stored here (the warehouse is copied whole to the analyst copy): the
# registry keeps a channel's name and a redacted target; the URL lives in the 0600 channels file beside the
# warehouse (viewtrail/alerts/channels.py).
_V4_ALERTS = """
CREATE TABLE registry.alert_rules (
  rule_id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  scope_kind TEXT NOT NULL,
  scope_values TEXT[] NOT NULL,
  params JSON NOT NULL,
  channels TEXT[] NOT NULL,
  cooldown_hours DOUBLE NOT NULL,
  created_at TIMESTAMP NOT NULL
);
CREATE TABLE registry.alert_channels (
  name TEXT PRIMARY KEY,
  target TEXT NOT NULL,
  added_at TIMESTAMP NOT NULL
);
CREATE TABLE raw.alert_events (
  event_id TEXT PRIMARY KEY,
  dedup_key TEXT NOT NULL UNIQUE,
  rule_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  condition TEXT NOT NULL,
  subject TEXT NOT NULL,
  video_id TEXT,
  label TEXT,
  account TEXT,
  platform TEXT,
  numbers JSON NOT NULL,
  message TEXT NOT NULL,
  occurred_at TIMESTAMP NOT NULL,
  fired_at TIMESTAMP NOT NULL
);
CREATE TABLE raw.alert_deliveries (
  event_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_attempt_at TIMESTAMP,
  next_attempt_at TIMESTAMP,
  delivered_at TIMESTAMP,
  reason TEXT,
  PRIMARY KEY (event_id, channel)
);
"""

# The outcome taxonomy as a table, so SQL users and dbt's relationships test read the same list as the code.
# Frozen text: a later outcome gets its own migration inserting its row.
_V5_OUTCOMES = """
CREATE TABLE IF NOT EXISTS meta.outcomes (
  outcome TEXT PRIMARY KEY,
  meaning TEXT NOT NULL,
  is_transient BOOLEAN NOT NULL,
  counts_toward_unavailable BOOLEAN NOT NULL
);
INSERT INTO meta.outcomes VALUES
  ('ok', 'observed: the counters were read', false, false),
  ('not_found', 'the platform says unambiguously the video is gone (deleted or never existed)', false, true),
  ('private', 'exists but is not readable anonymously (private post or account, tombstone)', false, false),
  ('geo_restricted', 'exists but is withheld in the region the scraper reads from', false, false),
  ('login_required', 'exists; the platform wants a login to show it (age gate, rejected session)', false, false),
  ('blocked', 'the platform refused this client (challenge, login wall, page shell); says nothing of the video',
   true, false),
  ('rate_limited', 'HTTP 429 or a platform rate limit after the retries ran out', true, false),
  ('quota_exhausted', 'the daily API quota is used up (YouTube); waits for the reset', true, false),
  ('upstream_error', 'HTTP 5xx or a connection error after the retries ran out', true, false),
  ('timeout', 'no answer in time after the retries ran out', true, false),
  ('parse_error', 'the payload changed shape; the detail names the missing field', false, false),
  ('circuit_open', 'not attempted: the platform''s circuit breaker tripped earlier in the run', true, false)
ON CONFLICT DO NOTHING;
"""

# Accounts and creators (docs/schema.md). registry.videos is rebuilt (as in version 2) to add account_id and the
# NOT NULL source before added_at; every existing video keeps its row and gets source 'manual'.
_V6_ACCOUNTS = """
CREATE TABLE registry.videos_v6 (
  video_id TEXT PRIMARY KEY,
  platform TEXT NOT NULL,
  external_id TEXT NOT NULL,
  url TEXT NOT NULL,
  account TEXT,
  is_active BOOLEAN NOT NULL,
  cadence TEXT NOT NULL,
  track_until TIMESTAMP,
  labels TEXT[] NOT NULL,
  metadata JSON NOT NULL,
  availability TEXT NOT NULL,
  consecutive_not_found INTEGER NOT NULL,
  posted_at TIMESTAMP,
  account_id TEXT,
  source TEXT NOT NULL DEFAULT 'manual',
  added_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, stopped_at TIMESTAMP
);
INSERT INTO registry.videos_v6
SELECT video_id, platform, external_id, url, account, is_active, cadence, track_until, labels, metadata,
       availability, consecutive_not_found, posted_at, NULL, 'manual', added_at, updated_at, stopped_at
FROM registry.videos;
DROP TABLE registry.videos;
ALTER TABLE registry.videos_v6 RENAME TO videos;
CREATE TABLE registry.accounts (
  account_id TEXT PRIMARY KEY,
  platform TEXT NOT NULL,
  handle TEXT,
  platform_account_id TEXT,
  url TEXT NOT NULL,
  is_active BOOLEAN NOT NULL,
  discovery TEXT NOT NULL,
  latest_n INTEGER NOT NULL,
  since TIMESTAMP,
  discovery_cadence_hours DOUBLE NOT NULL,
  video_cadence TEXT NOT NULL,
  labels TEXT[] NOT NULL,
  metadata JSON NOT NULL,
  added_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, stopped_at TIMESTAMP
);
CREATE TABLE registry.creators (
  creator_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  labels TEXT[] NOT NULL,
  metadata JSON NOT NULL,
  added_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL
);
CREATE TABLE registry.creator_accounts (
  creator_id TEXT NOT NULL, account_id TEXT NOT NULL, added_at TIMESTAMP NOT NULL,
  PRIMARY KEY (creator_id, account_id)
);
CREATE TABLE registry.inbox (
  video_id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  platform TEXT NOT NULL,
  url TEXT NOT NULL,
  posted_at TIMESTAMP,
  title TEXT,
  discovered_at TIMESTAMP NOT NULL,
  status TEXT NOT NULL,
  decided_at TIMESTAMP
);
CREATE TABLE raw.account_snapshots (
  account_id TEXT NOT NULL, observed_at TIMESTAMP NOT NULL,
  followers BIGINT, following BIGINT, likes BIGINT, video_count BIGINT, views BIGINT,
  handle TEXT, display_name TEXT, platform_account_id TEXT, extra JSON,
  source TEXT NOT NULL, run_id TEXT, ingested_at TIMESTAMP NOT NULL,
  PRIMARY KEY (account_id, observed_at)
);
CREATE TABLE raw.account_attempts (
  account_id TEXT NOT NULL, platform TEXT NOT NULL, attempted_at TIMESTAMP NOT NULL,
  outcome TEXT NOT NULL, http_status INTEGER, detail TEXT, duration_ms DOUBLE, tries INTEGER NOT NULL,
  source TEXT NOT NULL, run_id TEXT, partition_key TEXT, videos_listed INTEGER, videos_new INTEGER,
  PRIMARY KEY (account_id, attempted_at)
);
"""

#: Which of the platform's proxies (0-based index in VIEWTRAIL_{P}_PROXIES) served an attempt; NULL = none.
_V7_PROXY_INDEX = "ALTER TABLE raw.scrape_attempts ADD COLUMN proxy_index INTEGER;"
_V8_ACCOUNT_PROXY_INDEX = "ALTER TABLE raw.account_attempts ADD COLUMN proxy_index INTEGER;"
# The write clock's stamp on attempts too, so the publish exports only the attempts written since the last one.
# Attempts stored before this version get their attempt's instant as ingested_at: the publish exports the history
# by ingested_at, and a null there would be exported again by every publish.
_V11_ATTEMPTS_INGESTED_AT = """
ALTER TABLE raw.scrape_attempts ADD COLUMN ingested_at TIMESTAMP;
UPDATE raw.scrape_attempts SET ingested_at = attempted_at WHERE ingested_at IS NULL;
"""

# Read-only links to a label's report (`viewtrail share`, the dashboard's /report/<token>): the link's row;
# the token itself is never stored (it is signed with a key kept outside the warehouse).
_V9_SHARE_LINKS = """
CREATE TABLE registry.share_links (
  link_id TEXT PRIMARY KEY,
  label TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  expires_at TIMESTAMP NOT NULL,
  revoked_at TIMESTAMP
);
"""

# Creator programs (docs/schema.md, rules in viewtrail/domain/programs.py). Campaigns, members, terms and goals are
# what users configure (registry); the payout ledger is append-only (raw): a finalization per campaign and video,
# frozen for good, and entries (rejections and their reversals, adjustments, payments) that are never updated or
# deleted. Amounts are integer minor units of the terms' currency. The views resolve membership to videos, each
# pair once, so the finalization step and the dbt marts read one definition: a campaign holds its members' videos
# and its sub-campaigns' (campaign_tree: every campaign with each descendant, itself at depth 0; nesting is
# acyclic, refused at write, and the depth bound stops a loop written by hand), and within one top-level tree a
# video is paid by the deepest campaign holding terms that holds it (first id on a tie), so never twice.
_V10_PROGRAMS = """
CREATE TABLE registry.campaigns (
  campaign_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  parent_id TEXT,
  starts_on DATE,
  ends_on DATE,
  target_views BIGINT,
  target_by DATE,
  notes TEXT,
  created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL
);
CREATE TABLE registry.campaign_members (
  campaign_id TEXT NOT NULL, member_kind TEXT NOT NULL, member TEXT NOT NULL, added_at TIMESTAMP NOT NULL,
  PRIMARY KEY (campaign_id, member_kind, member)
);
CREATE TABLE registry.payout_terms (
  terms_id BIGINT PRIMARY KEY,
  campaign_id TEXT NOT NULL,
  creator_id TEXT,
  effective_from TIMESTAMP NOT NULL,
  currency TEXT NOT NULL,
  tier_from_views BIGINT[] NOT NULL,
  tier_cpm_minor BIGINT[] NOT NULL,
  cap_views BIGINT,
  window_hours INTEGER NOT NULL,
  min_views BIGINT NOT NULL,
  created_at TIMESTAMP NOT NULL
);
CREATE TABLE registry.creator_goals (
  goal_id BIGINT PRIMARY KEY,
  creator_id TEXT NOT NULL,
  metric TEXT NOT NULL,
  period TEXT NOT NULL,
  target DOUBLE NOT NULL,
  starts_on DATE NOT NULL,
  ends_on DATE,
  created_at TIMESTAMP NOT NULL
);
CREATE TABLE raw.payout_finalizations (
  campaign_id TEXT NOT NULL,
  video_id TEXT NOT NULL,
  creator_id TEXT,
  posted_at TIMESTAMP NOT NULL,
  window_end TIMESTAMP NOT NULL,
  payable_views BIGINT NOT NULL,
  views_observed BIGINT NOT NULL,
  views_how TEXT NOT NULL,
  is_interpolated BOOLEAN NOT NULL,
  terms_id BIGINT NOT NULL,
  cpm_minor BIGINT NOT NULL,
  amount_minor BIGINT NOT NULL,
  currency TEXT NOT NULL,
  finalized_at TIMESTAMP NOT NULL,
  PRIMARY KEY (campaign_id, video_id)
);
CREATE TABLE raw.payout_entries (
  entry_id BIGINT PRIMARY KEY,
  entry_kind TEXT NOT NULL,
  campaign_id TEXT NOT NULL,
  video_id TEXT,
  creator_id TEXT,
  amount_minor BIGINT,
  currency TEXT,
  reason TEXT,
  reference TEXT,
  recorded_at TIMESTAMP NOT NULL
);
CREATE VIEW registry.campaign_tree AS
WITH RECURSIVE tree(campaign_id, descendant_id, depth) AS (
  SELECT campaign_id, campaign_id, 0 FROM registry.campaigns
  UNION ALL
  SELECT t.campaign_id, c.campaign_id, t.depth + 1
  FROM tree AS t JOIN registry.campaigns AS c ON c.parent_id = t.descendant_id
  WHERE t.depth < 64
)
SELECT DISTINCT campaign_id, descendant_id, depth FROM tree;
CREATE VIEW registry.campaign_member_videos AS
SELECT m.campaign_id, v.video_id FROM registry.campaign_members AS m
JOIN registry.videos AS v ON m.member_kind = 'video' AND v.video_id = m.member
UNION
SELECT m.campaign_id, v.video_id FROM registry.campaign_members AS m
JOIN registry.videos AS v ON m.member_kind = 'account' AND v.account_id = m.member
UNION
SELECT m.campaign_id, v.video_id FROM registry.campaign_members AS m
JOIN registry.creator_accounts AS ca ON m.member_kind = 'creator' AND ca.creator_id = m.member
JOIN registry.videos AS v ON v.account_id = ca.account_id
UNION
SELECT m.campaign_id, v.video_id FROM registry.campaign_members AS m
JOIN registry.videos AS v ON m.member_kind = 'label' AND list_contains(v.labels, m.member);
CREATE VIEW registry.campaign_videos AS
SELECT DISTINCT t.campaign_id, mv.video_id
FROM registry.campaign_tree AS t
JOIN registry.campaign_member_videos AS mv ON mv.campaign_id = t.descendant_id;
CREATE VIEW registry.campaign_payers AS
WITH holders AS (
  SELECT t.campaign_id AS root_id, cv.campaign_id, cv.video_id, t.depth
  FROM registry.campaign_tree AS t
  JOIN registry.campaigns AS r ON r.campaign_id = t.campaign_id AND r.parent_id IS NULL
  JOIN registry.campaign_videos AS cv ON cv.campaign_id = t.descendant_id
  WHERE t.descendant_id IN (SELECT campaign_id FROM registry.payout_terms)
),
creators AS (
  SELECT v.video_id, v.posted_at, min(ca.creator_id) AS creator_id
  FROM registry.videos AS v LEFT JOIN registry.creator_accounts AS ca ON ca.account_id = v.account_id
  GROUP BY v.video_id, v.posted_at
)
SELECT h.root_id, h.campaign_id, h.video_id, c.creator_id, c.posted_at
FROM holders AS h JOIN creators AS c USING (video_id)
QUALIFY row_number() OVER (PARTITION BY h.root_id, h.video_id ORDER BY h.depth DESC, h.campaign_id) = 1;
"""

# Videos removed by `viewtrail delete`, stamped with the write clock at the deletion: every snapshot stored before
# it has ingested_at <= deleted_through. The incremental dbt models drop the rows of the videos deleted since their
# last build (deleted_through at or after their high-water mark) instead of comparing every video of the mart with
# the snapshots each hour; rows built from snapshots of a video tracked again later are newer and stay.
_V12_DELETED_VIDEOS = """
CREATE TABLE meta.deleted_videos (
  video_id TEXT NOT NULL,
  deleted_through TIMESTAMP NOT NULL,
  PRIMARY KEY (video_id, deleted_through)
);
"""

# label_daily, account_daily and video_growth became incremental, with the build's high-water mark as a new column:
# dbt does not change the columns of an incremental model's existing table (on_schema_change='fail'), so the tables
# an earlier version built are dropped and the next build builds them whole. They are derived from the raw tables
# and the registry: nothing is lost, and the analyst copy keeps the last published ones until then.
_V13_INCREMENTAL_ROLLUPS = """
DROP TABLE IF EXISTS marts.label_daily;
DROP TABLE IF EXISTS marts.account_daily;
DROP TABLE IF EXISTS marts.video_growth;
"""

# video_daily carries each day's engagements and their gain (video_engagement and the roll-ups read them there
# instead of joining the two marts): its existing table lacks the columns, and dbt does not add them to an incremental
# model's table, so it is dropped with the marts built from it, and the next build builds them whole.
_V14_DAILY_ENGAGEMENTS = """
DROP TABLE IF EXISTS marts.video_daily;
DROP TABLE IF EXISTS marts.video_engagement;
DROP TABLE IF EXISTS marts.label_daily;
DROP TABLE IF EXISTS marts.account_daily;
DROP TABLE IF EXISTS marts.video_growth;
"""

MIGRATIONS: list[Migration] = [
    Migration(
        1, "base tables: registry.videos, registry.pending_links, raw.snapshots, raw.scrape_attempts", _V1_BASE_TABLES
    ),
    Migration(2, "registry.videos: availability, consecutive_not_found, posted_at", _V2_AVAILABILITY),
    Migration(
        3,
        "meta.write_clock and meta.write_log: ingested_at in commit order, every write recorded",
        _V3_WRITE_CLOCK_AND_LOG,
    ),
    Migration(
        4, "alerts: registry.alert_rules, registry.alert_channels, raw.alert_events, raw.alert_deliveries", _V4_ALERTS
    ),
    Migration(
        5, "meta.outcomes: every scrape outcome, its meaning, transient or not, counts toward unavailable", _V5_OUTCOMES
    ),
    Migration(
        6,
        "accounts: registry.accounts, creators, creator_accounts, inbox, raw.account_snapshots, "
        "raw.account_attempts; registry.videos: account_id, source",
        _V6_ACCOUNTS,
    ),
    Migration(7, "raw.scrape_attempts: proxy_index (which proxy served the attempt)", _V7_PROXY_INDEX),
    Migration(8, "raw.account_attempts: proxy_index (which proxy served the discovery)", _V8_ACCOUNT_PROXY_INDEX),
    Migration(9, "registry.share_links: read-only links to a label's report", _V9_SHARE_LINKS),
    Migration(
        10,
        "creator programs: registry.campaigns, campaign_members, payout_terms, creator_goals, raw.payout_finalizations,"
        " raw.payout_entries; views resolving campaigns to videos and payers",
        _V10_PROGRAMS,
    ),
    Migration(11, "raw.scrape_attempts: ingested_at (the write clock, as on raw.snapshots)", _V11_ATTEMPTS_INGESTED_AT),
    Migration(12, "meta.deleted_videos: videos deleted, with the write clock at their deletion", _V12_DELETED_VIDEOS),
    Migration(
        13,
        "marts.label_daily, account_daily, video_growth dropped: incremental now, rebuilt whole by the next build",
        _V13_INCREMENTAL_ROLLUPS,
    ),
    Migration(
        14,
        "marts.video_daily: engagements and engagements_gained; it and the marts built from it rebuilt by the next build",
        _V14_DAILY_ENGAGEMENTS,
    ),
]

#: The schema version this code reads and writes.
LATEST_VERSION: int = MIGRATIONS[-1].version


def _has_migrations_table(con: duckdb.DuckDBPyConnection) -> bool:
    # duckdb_tables() of this database: information_schema's views cost ~10 ms of CPU on the first query
    rows = con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'meta' "
        "AND table_name = 'schema_migrations'"
    ).fetchall()
    return bool(rows)


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest applied migration version, 0 for an empty database."""
    if not _has_migrations_table(con):
        return 0
    (version,) = con.execute("SELECT coalesce(max(version), 0) FROM meta.schema_migrations").fetchall()[0]
    return int(version)


def apply_migrations(con: duckdb.DuckDBPyConnection, *, up_to: int | None = None) -> list[Migration]:
    """Apply every pending migration (optionally only up to version ``up_to``), each in its own transaction.

    Returns the migrations applied. Refuses a warehouse written by newer code (version above LATEST_VERSION).
    """
    version = current_version(con)
    if version > LATEST_VERSION:
        raise WarehouseSchemaError(
            f"The warehouse is at schema version {version} but this viewtrail only knows up to "
            f"{LATEST_VERSION}; upgrade viewtrail before opening it."
        )
    con.execute(_BOOTSTRAP)
    applied: list[Migration] = []
    for migration in MIGRATIONS:
        if migration.version <= version or (up_to is not None and migration.version > up_to):
            continue
        with transaction(con):
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO meta.schema_migrations VALUES (?, ?, ?)",
                [migration.version, migration.name, utc_now()],
            )
        applied.append(migration)
    return applied
