"""`viewtrail watch`, `unwatch`, `accounts`, `creator ...`, `inbox ...` and account rows of `import`, on a temp
warehouse through typer's CliRunner."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from viewtrail import clock
from viewtrail.cli import app
from viewtrail.domain.models import AccountAttempt, AccountResult, DiscoveredVideo, Outcome, Platform
from viewtrail.domain.urls import parse_video_url
from viewtrail.warehouse import open_warehouse
from viewtrail.warehouse.accounts import record_account_results

runner = CliRunner()
TIKTOK = "https://www.tiktok.com/@nasa?lang=en"
YOUTUBE = "https://www.youtube.com/@NASA/videos"
INSTAGRAM = "https://www.instagram.com/nasa/"
X = "https://x.com/NASA"


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result


def rows(warehouse_path: Path, sql: str) -> list[tuple]:
    with open_warehouse(warehouse_path) as con:
        return con.sql(sql).fetchall()


def one_sentence_error(result) -> str:
    text = result.stderr.strip()
    assert "Traceback" not in result.output
    assert len(text.splitlines()) == 1, text
    return text


def test_watch_registers_once_and_rewatch_updates(warehouse_path):
    first = run("watch", TIKTOK, YOUTUBE, "--label", "space", "--latest", "10", "--since", "2026-01-01")
    assert "tiktok:nasa: now watched (discovery auto, first discovery takes 10 newest, every 6" in first.stdout
    assert "youtube:nasa: now watched" in first.stdout
    again = run("watch", "m.tiktok.com/@NASA", "--discovery", "review", "--cadence", "12", "--every", "2")
    assert "tiktok:nasa: already watched, updated (discovery review" in again.stdout
    assert rows(
        warehouse_path,
        "SELECT account_id, discovery, latest_n, since::DATE::TEXT, video_cadence, discovery_cadence_hours, labels"
        " FROM registry.accounts ORDER BY account_id",
    ) == [
        ("tiktok:nasa", "review", 10, "2026-01-01", "12", 2.0, ["space"]),
        ("youtube:nasa", "auto", 10, "2026-01-01", "auto", 6.0, ["space"]),
    ]


def test_watch_says_which_platforms_cannot_list_posts_logged_out(warehouse_path):
    result = run("watch", INSTAGRAM, X)
    assert "INSTAGRAM_SESSIONID" in result.stdout
    assert "X shows no recent posts to logged-out visitors" in result.stdout
    assert "Note" not in run("watch", TIKTOK).stdout


def test_watch_of_a_video_link_names_track_and_watches_nothing(warehouse_path):
    result = run("watch", TIKTOK, "https://www.tiktok.com/@nasa/video/7234567890123456789", code=1)
    assert "`viewtrail track`" in one_sentence_error(result)
    assert not warehouse_path.exists() or rows(warehouse_path, "SELECT count(*) FROM registry.accounts") == [(0,)]
    # and the reverse: a profile given to track names watch
    assert "`viewtrail watch`" in one_sentence_error(run("track", "--no-scrape", TIKTOK, code=1))


def test_watch_rejects_bad_options_with_one_sentence(warehouse_path):
    for args, words in [
        (["--discovery", "maybe"], "auto, review or off"),
        (["--latest", "-3"], "0"),
        (["--since", "yesterday"], "--since"),
        (["--every", "0"], "above 0"),
        (["--cadence", "often"], "'auto'"),
    ]:
        assert words in one_sentence_error(run("watch", TIKTOK, *args, code=1))
    assert not warehouse_path.exists() or rows(warehouse_path, "SELECT count(*) FROM registry.accounts") == [(0,)]


def test_unwatch_keeps_history_and_accounts_lists_state(warehouse_path):
    run("track", "--no-scrape", "https://www.tiktok.com/@nasa/video/7234567890123456789")
    run("watch", TIKTOK, X, "--creator", "NASA", "--no-discover")
    assert run("unwatch", "tiktok:nasa").stdout.strip() == "tiktok:nasa: stopped"
    assert run("unwatch", "https://twitter.com/nasa").stdout.strip() == "x:nasa: stopped"
    assert "not a watched account" in one_sentence_error(run("unwatch", "tiktok:esa", code=1))
    listed = json.loads(run("accounts", "--json").stdout)
    assert [(a["account_id"], a["is_active"], a["creators"], a["videos"]) for a in listed] == [
        ("tiktok:nasa", False, ["nasa"], 1),
        ("x:nasa", False, ["nasa"], 0),
    ]
    assert [a["account_id"] for a in json.loads(run("accounts", "--platform", "x", "--json").stdout)] == ["x:nasa"]
    assert "unwatched" in run("accounts").stdout
    # the tracked video keeps being tracked
    assert rows(warehouse_path, "SELECT account_id, is_active FROM registry.videos") == [("tiktok:nasa", True)]


def test_creator_commands(warehouse_path):
    run("watch", TIKTOK, YOUTUBE, "--no-discover")
    assert "jane-doe: added" in run("creator", "add", "Jane Doe", "tiktok:nasa").stdout
    assert "already exists" in run("creator", "add", "jane doe").stdout
    assert "youtube:nasa: linked" in run("creator", "link", "Jane Doe", YOUTUBE).stdout
    assert "youtube:nasa: already linked" in run("creator", "link", "Jane Doe", "youtube:nasa").stdout
    assert [(c["creator_id"], c["accounts"]) for c in json.loads(run("creator", "list", "--json").stdout)] == [
        ("jane-doe", ["tiktok:nasa", "youtube:nasa"])
    ]
    assert [a["account_id"] for a in json.loads(run("accounts", "--creator", "Jane Doe", "--json").stdout)] == [
        "tiktok:nasa",
        "youtube:nasa",
    ]
    assert "tiktok:nasa: unlinked" in run("creator", "unlink", "Jane Doe", "tiktok:nasa").stdout
    assert "Jane Doe" in run("creator", "list").stdout
    assert "creator add" in one_sentence_error(run("creator", "link", "Nobody", "tiktok:nasa", code=1))
    assert "jane-doe: removed" in run("creator", "remove", "Jane Doe").stdout
    assert "no creator" in one_sentence_error(run("creator", "remove", "Jane Doe", code=1))
    assert rows(warehouse_path, "SELECT count(*) FROM registry.accounts") == [(2,)]


def test_inbox_accept_and_reject(warehouse_path):
    run("watch", TIKTOK, "--discovery", "review", "--label", "space", "--no-discover")
    at = clock.utc_now()
    videos = [
        DiscoveredVideo(
            parse_video_url(f"https://www.tiktok.com/@nasa/video/{7300000000000000000 + n}"),
            posted_at=at - timedelta(hours=n),
            title=f"launch {n}",
        )
        for n in (1, 2, 3)
    ]
    attempt = AccountAttempt("tiktok:nasa", Platform.TIKTOK, at, Outcome.OK, source="test", videos_listed=3)
    with open_warehouse(warehouse_path) as con:
        record_account_results(con, [AccountResult(attempt, None, videos)], now=at)
    listed = json.loads(run("inbox", "--json").stdout)
    assert [v["video_id"] for v in listed] == [f"tiktok:{7300000000000000000 + n}" for n in (1, 2, 3)]
    assert "launch 1" in run("inbox").stdout
    accepted = run("inbox", "accept", "tiktok:7300000000000000001", "--no-scrape")
    assert "tiktok:7300000000000000001: accepted" in accepted.stdout
    assert "tiktok:7300000000000000002: rejected" in run("inbox", "reject", "tiktok:7300000000000000002").stdout
    assert "Not in the inbox" in one_sentence_error(run("inbox", "reject", "tiktok:7300000000000000009", code=1))
    assert "tiktok:7300000000000000003: accepted" in run("inbox", "accept", "all", "--no-scrape").stdout
    assert "The inbox is empty" in run("inbox").stdout
    assert rows(warehouse_path, "SELECT video_id, source, account_id, labels FROM registry.videos ORDER BY 1") == [
        ("tiktok:7300000000000000001", "discovered", "tiktok:nasa", ["space"]),
        ("tiktok:7300000000000000003", "discovered", "tiktok:nasa", ["space"]),
    ]


def test_import_watches_account_rows_and_reports_per_line(warehouse_path, tmp_path):
    csv = tmp_path / "mixed.csv"
    csv.write_text(
        "url,kind,label\n"
        "https://www.tiktok.com/@nasa/video/7234567890123456789,,launch\n"
        "https://www.tiktok.com/@nasa,,space\n"
        "https://www.youtube.com/@NASA,account,\n"
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ,account,\n"
        "https://x.com/nasa,video,\n"
        "https://x.com/esa,person,\n"
        "tiktok.com/@NASA,,\n",
        encoding="utf-8",
    )
    result = run("import", str(csv), "--no-scrape", code=1)
    assert "mixed.csv: 1 new" in result.stdout
    assert "2 account(s) watched (2 new)" in result.stdout
    assert "1 repeated in the file" in result.stdout
    problems = result.stderr
    assert "line 5" in problems and "`viewtrail track`" in problems
    assert "line 6" in problems and "`viewtrail watch`" in problems
    assert "line 7" in problems and "video or account" in problems
    assert rows(warehouse_path, "SELECT account_id, labels FROM registry.accounts ORDER BY 1") == [
        ("tiktok:nasa", ["space"]),
        ("youtube:nasa", []),
    ]
    assert rows(warehouse_path, "SELECT video_id, source, account_id FROM registry.videos") == [
        ("tiktok:7234567890123456789", "import", "tiktok:nasa")
    ]


def test_plain_text_import_detects_account_links(warehouse_path, tmp_path):
    text = tmp_path / "links.txt"
    text.write_text("https://www.instagram.com/nasa/\nhttps://youtu.be/dQw4w9WgXcQ\n", encoding="utf-8")
    result = run("import", str(text), "--no-scrape")
    assert "1 account(s) watched (1 new)" in result.stdout
    assert "INSTAGRAM_SESSIONID" in result.stdout
    assert rows(warehouse_path, "SELECT account_id FROM registry.accounts") == [("instagram:nasa",)]


def test_watch_never_shows_the_instagram_session(warehouse_path, monkeypatch):
    secret = "1234567%3AabcdefSECRETsession"
    monkeypatch.setenv("INSTAGRAM_SESSIONID", secret)
    result = run("watch", INSTAGRAM)
    assert secret not in result.output
    assert "INSTAGRAM_SESSIONID" not in result.stdout  # a session is set: nothing to warn about
    with open_warehouse(warehouse_path) as con:
        dumped = str(con.sql("SELECT * FROM registry.accounts").fetchall())
    assert secret not in dumped


def test_watch_discovers_a_new_account_at_once_and_snapshots_its_recent_videos(warehouse_path):
    result = run("watch", TIKTOK, X, "--latest", "3", "--label", "space")
    assert "tiktok:nasa: " in result.stdout and "followers" in result.stdout
    assert "x:nasa: " in result.stdout and "metrics only" in result.stdout
    assert rows(warehouse_path, "SELECT account_id, count(*) FROM raw.account_snapshots GROUP BY ALL ORDER BY 1") == [
        ("tiktok:nasa", 1),
        ("x:nasa", 1),
    ]
    tracked = rows(
        warehouse_path,
        "SELECT v.video_id, v.labels, count(s.video_id) FROM registry.videos v LEFT JOIN raw.snapshots s"
        " USING (video_id) WHERE v.source = 'discovered' GROUP BY ALL ORDER BY 1",
    )
    assert len(tracked) == 3 and all(labels == ["space"] and n == 1 for _, labels, n in tracked)
    again = run("watch", TIKTOK)  # already watched: options updated, no second discovery
    assert "already watched" in again.stdout
    assert rows(warehouse_path, "SELECT count(*) FROM raw.account_attempts") == [(2,)]


def test_watch_in_review_mode_holds_the_recent_videos_in_the_inbox(warehouse_path):
    result = run("watch", TIKTOK, "--discovery", "review", "--latest", "2")
    assert "2 video(s) wait in the inbox" in result.stdout
    assert len(json.loads(run("inbox", "--json").stdout)) == 2
    assert rows(warehouse_path, "SELECT count(*) FROM registry.videos") == [(0,)]


def test_import_discovers_its_new_accounts_at_once_unless_no_scrape(warehouse_path, tmp_path):
    text = tmp_path / "accounts.txt"
    text.write_text("https://www.youtube.com/@nasa\n", encoding="utf-8")
    run("import", str(text), "--no-scrape")
    assert rows(warehouse_path, "SELECT count(*) FROM raw.account_attempts") == [(0,)]
    run("unwatch", "youtube:nasa")
    result = run("import", str(text))  # watched again: discovered now, its recent videos snapshotted
    assert "youtube:nasa: " in result.stdout and "recent video(s) listed" in result.stdout
    assert rows(warehouse_path, "SELECT count(*) FROM raw.account_snapshots") == [(1,)]
    assert rows(
        warehouse_path,
        "SELECT count(DISTINCT v.video_id) > 0, count(DISTINCT v.video_id) = count(DISTINCT s.video_id)"
        " FROM registry.videos v LEFT JOIN raw.snapshots s USING (video_id) WHERE v.source = 'discovered'",
    ) == [(True, True)]
