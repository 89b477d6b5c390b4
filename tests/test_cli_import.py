"""`viewtrail import` and `viewtrail import-snapshots` through CliRunner on a temporary warehouse."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from viewtrail.cli import app
from viewtrail.warehouse import open_warehouse

runner = CliRunner()


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    return result


def rows(warehouse_path: Path, sql: str) -> list[tuple]:
    with open_warehouse(warehouse_path) as con:
        return con.sql(sql).fetchall()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------------------------ import FILE


def test_import_csv_registers_valid_rows_reports_invalid_with_line_numbers(warehouse_path, tmp_path):
    path = write(
        tmp_path,
        "urls.csv",
        (
            "url,label,cadence,days\n"
            "https://youtu.be/dQw4w9WgXcQ,launch,6,\n"  # line 2
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=3,other,,\n"  # line 3: same video, collapses
            "https://example.com/nope,,,\n"  # line 4: bad host
            "https://www.tiktok.com/@bob/video/7234567890123456789,,900,\n"  # line 5: bad cadence
            "https://x.com/u/status/1790000000000000000,a;b,auto,10\n"  # line 6
            ",orphan,,\n"  # line 7: empty url
        ),
    )
    result = run("import", str(path), code=1)
    assert "2 new" in result.stdout and "1 repeated" in result.stdout
    problems = result.stderr
    assert "line 4:" in problems and "example.com" in problems
    assert "line 5:" in problems and "720" in problems
    assert "line 7:" in problems
    assert "3 invalid row(s)" in problems
    assert rows(
        warehouse_path,
        "SELECT video_id, cadence, labels, track_until IS NOT NULL FROM registry.videos ORDER BY video_id",
    ) == [
        ("x:1790000000000000000", "auto", ["a", "b"], True),
        ("youtube:dQw4w9WgXcQ", "6", ["launch", "other"], False),  # labels of both rows; the first's cadence
    ]


def test_import_text_file_skips_comments_and_blank_lines_and_reimport_changes_nothing(warehouse_path, tmp_path):
    path = write(
        tmp_path,
        "urls.txt",
        (
            "# campaign links\n"
            "\n"
            "https://www.instagram.com/reel/C1a2B3c4D5e/?igsh=abc\n"
            "  https://x.com/jack/status/1790000000000000000/video/1  \n"
            "# done\n"
        ),
    )
    assert "2 new" in run("import", str(path)).stdout
    before = rows(warehouse_path, "SELECT * FROM registry.videos ORDER BY video_id")
    again = run("import", str(path))
    assert "0 new, 2 already tracked" in again.stdout
    after = rows(warehouse_path, "SELECT * EXCLUDE (updated_at) FROM registry.videos ORDER BY video_id")
    assert after == [row[:-2] + row[-1:] for row in before]  # only updated_at moved
    assert len(after) == 2


def test_import_text_with_bad_line_reports_its_line_number(warehouse_path, tmp_path):
    path = write(tmp_path, "urls.txt", "# header\nhttps://youtu.be/dQw4w9WgXcQ\n\nhttps://www.tiktok.com/tag/cats\n")
    result = run("import", str(path), code=1)
    assert "line 4:" in result.stderr
    assert rows(warehouse_path, "SELECT count(*) FROM registry.videos") == [(1,)]


def test_import_missing_file_is_one_sentence(warehouse_path, tmp_path):
    result = run("import", str(tmp_path / "nope.csv"), code=1)
    assert len(result.stderr.strip().splitlines()) == 1 and "no file" in result.stderr


def test_import_short_links_offline_become_pending(warehouse_path, tmp_path):
    path = write(tmp_path, "urls.txt", "https://vm.tiktok.com/ZMabc123/\nhttps://youtu.be/dQw4w9WgXcQ\n")
    result = run("import", str(path))
    assert "1 short link(s) pending" in result.stdout
    assert rows(warehouse_path, "SELECT count(*) FROM registry.pending_links") == [(1,)]


def test_import_ten_thousand_urls_in_one_bulk_transaction(warehouse_path, tmp_path):
    lines = [f"https://www.tiktok.com/@user{i % 97}/video/{7_000_000_000_000_000_000 + i}" for i in range(10_000)]
    path = write(tmp_path, "many.txt", "\n".join(lines) + "\n")
    assert "10000 new" in run("import", str(path)).stdout
    assert rows(warehouse_path, "SELECT count(*), count(DISTINCT added_at) FROM registry.videos") == [(10_000, 1)]


# ------------------------------------------------------------------------------------------ import-snapshots

HISTORY = (
    "url,observed_at,views,likes,comments,shares,saves,account\n"
    "https://youtu.be/dQw4w9WgXcQ,2026-10-01T12:00:00Z,100,10,1,,,\n"
    "https://youtu.be/dQw4w9WgXcQ,2026-10-01T14:00:00+02:00,100,10,1,,,\n"  # same instant, same values
    "https://www.instagram.com/reel/C1a2B3c4D5e/,2026-10-02 00:00:00,5,1,0,0,,someone\n"
)


def test_import_snapshots_registers_inactive_converts_times_and_is_idempotent(warehouse_path, tmp_path):
    path = write(tmp_path, "history.csv", HISTORY)
    first = run("import-snapshots", str(path))
    assert "2 snapshot(s) imported" in first.stdout and "1 duplicate row(s) collapsed" in first.stdout
    stored = rows(
        warehouse_path,
        "SELECT video_id, observed_at, views, shares, saves, account, source, run_id "
        "FROM raw.snapshots ORDER BY video_id",
    )
    assert stored == [
        ("instagram:C1a2B3c4D5e", datetime(2026, 10, 2), 5, 0, None, "someone", "import", "import:history.csv"),
        ("youtube:dQw4w9WgXcQ", datetime(2026, 10, 1, 12), 100, None, None, None, "import", "import:history.csv"),
    ]
    assert rows(warehouse_path, "SELECT video_id, is_active, account FROM registry.videos ORDER BY 1") == [
        ("instagram:C1a2B3c4D5e", False, "someone"),
        ("youtube:dQw4w9WgXcQ", False, None),
    ]
    snapshot_state = rows(warehouse_path, "SELECT * FROM raw.snapshots ORDER BY ALL")
    registry_state = rows(warehouse_path, "SELECT * FROM registry.videos ORDER BY ALL")
    second = run("import-snapshots", str(path))
    assert "0 snapshot(s) imported, 2 already stored" in second.stdout
    assert rows(warehouse_path, "SELECT * FROM raw.snapshots ORDER BY ALL") == snapshot_state
    assert rows(warehouse_path, "SELECT * FROM registry.videos ORDER BY ALL") == registry_state


def test_import_snapshots_track_registers_active(warehouse_path, tmp_path):
    path = write(tmp_path, "history.csv", HISTORY)
    run("import-snapshots", str(path), "--track")
    assert rows(warehouse_path, "SELECT bool_and(is_active) FROM registry.videos") == [(True,)]


def test_import_snapshots_keeps_existing_tracked_video_active(warehouse_path, tmp_path):
    run("track", "https://youtu.be/dQw4w9WgXcQ", "--cadence", "3")
    run("import-snapshots", str(write(tmp_path, "history.csv", HISTORY)))
    assert rows(warehouse_path, "SELECT video_id, is_active, cadence FROM registry.videos ORDER BY 1") == [
        ("instagram:C1a2B3c4D5e", False, "auto"),
        ("youtube:dQw4w9WgXcQ", True, "3"),
    ]


def test_import_snapshots_conflict_is_reported_not_overwritten(warehouse_path, tmp_path):
    run("import-snapshots", str(write(tmp_path, "a.csv", HISTORY)))
    changed = HISTORY.replace("2026-10-02 00:00:00,5,", "2026-10-02 00:00:00,6,") + (
        "https://youtu.be/dQw4w9WgXcQ,2026-10-03T00:00:00,150,12,1,,,\n"
    )
    result = run("import-snapshots", str(write(tmp_path, "b.csv", changed)), code=1)
    assert "1 snapshot(s) imported" in result.stdout
    assert "line 4:" in result.stderr and "instagram:C1a2B3c4D5e" in result.stderr
    assert rows(warehouse_path, "SELECT views FROM raw.snapshots WHERE video_id = 'instagram:C1a2B3c4D5e'") == [(5,)]
    assert rows(warehouse_path, "SELECT count(*) FROM raw.snapshots") == [(3,)]


def test_import_snapshots_malformed_rows_write_nothing(warehouse_path, tmp_path):
    path = write(
        tmp_path,
        "bad.csv",
        (
            "video_id,observed_at,views,likes,comments,shares\n"
            "youtube:dQw4w9WgXcQ,2026-10-01T12:00:00,1,2,3,4\n"  # fine
            "youtube:dQw4w9WgXcQ,yesterday,1,2,3,4\n"  # line 3
            "bogus,2026-01-01,x,1,1,1\n"  # line 4
            "x:1790000000000000000,2026-01-01,-5,1,1,1\n"  # line 5
        ),
    )
    result = run("import-snapshots", str(path), code=1)
    for fragment in ("line 3:", "yesterday", "line 4:", "bogus", "line 5:", "-5"):
        assert fragment in result.stderr
    assert "nothing was imported" in result.stderr
    assert not warehouse_path.exists() or rows(warehouse_path, "SELECT count(*) FROM raw.snapshots") == [(0,)]
    assert not warehouse_path.exists() or rows(warehouse_path, "SELECT count(*) FROM registry.videos") == [(0,)]


def test_import_snapshots_contradicting_rows_in_one_file_write_nothing(warehouse_path, tmp_path):
    path = write(
        tmp_path,
        "c.csv",
        (
            "video_id,observed_at,views,likes,comments,shares\n"
            "youtube:dQw4w9WgXcQ,2026-10-01T12:00:00,1,2,3,4\n"
            "youtube:dQw4w9WgXcQ,2026-10-01T12:00:00Z,9,2,3,4\n"
        ),
    )
    result = run("import-snapshots", str(path), code=1)
    assert "lines 2, 3" in result.stderr
    assert not warehouse_path.exists() or rows(warehouse_path, "SELECT count(*) FROM raw.snapshots") == [(0,)]


def test_import_snapshots_requires_columns(warehouse_path, tmp_path):
    result = run("import-snapshots", str(write(tmp_path, "d.csv", "url,observed_at,views\nx,y,1\n")), code=1)
    assert "likes" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_import_csv_line_numbers_survive_blank_lines_and_multiline_cells(warehouse_path, tmp_path):
    path = write(
        tmp_path,
        "odd.csv",
        (
            "url,label\n"
            "https://youtu.be/dQw4w9WgXcQ,a\n"
            "\n"
            'https://example.com/x,"two\nlines"\n'  # starts on line 4
            '"https://x.com/u/status/1790000000000000000",c\n'  # line 6
            "https://www.tiktok.com/tag/cats,\n"  # line 7: a hashtag page, not a video
        ),
    )
    result = run("import", str(path), code=1)
    assert "line 4:" in result.stderr and "line 7:" in result.stderr and "hashtag" in result.stderr
    assert "line 3:" not in result.stderr  # blank lines are skipped, not errors
    assert rows(warehouse_path, "SELECT video_id FROM registry.videos ORDER BY 1") == [
        ("x:1790000000000000000",),
        ("youtube:dQw4w9WgXcQ",),
    ]


# ------------------------------------------------------------------------------------- limits and empty files


def test_header_only_csv_is_one_sentence_for_both_imports(warehouse_path, tmp_path):
    for command, header in (
        ("import", "url,label\n"),
        ("import-snapshots", "url,observed_at,views,likes,comments,shares\n"),
    ):
        result = run(command, str(write(tmp_path, f"{command}.csv", header)), code=1)
        assert result.stderr.strip().splitlines() == [
            f"{tmp_path / (command + '.csv')} has a header but no rows; "
            "add the rows under the header and import it again."
        ]


def test_days_beyond_ten_years_is_one_sentence_naming_the_limit(warehouse_path, tmp_path):
    result = run("track", "https://youtu.be/dQw4w9WgXcQ", "--days", "10000000", code=1)
    assert len(result.stderr.strip().splitlines()) == 1 and "from 1 to 3650" in result.stderr
    imported = run("import", str(write(tmp_path, "d.csv", "url,days\nhttps://youtu.be/dQw4w9WgXcQ,10000000\n")), code=1)
    assert "line 2:" in imported.stderr and "3650" in imported.stderr
    assert run("track", "https://youtu.be/dQw4w9WgXcQ", "--days", "3650", "--no-scrape").exit_code == 0


def test_labels_are_at_most_100_characters_without_control_characters(warehouse_path, tmp_path):
    result = run("track", "https://youtu.be/dQw4w9WgXcQ", "--label", "x" * 101, code=1)
    assert len(result.stderr.strip().splitlines()) == 1 and "at most 100" in result.stderr
    result = run("track", "https://youtu.be/dQw4w9WgXcQ", "--label", "a\x07b", code=1)
    assert "control character" in result.stderr
    path = write(
        tmp_path,
        "l.csv",
        f"url,label\nhttps://youtu.be/dQw4w9WgXcQ,{'y' * 101}\nhttps://x.com/u/status/1790000000000000000,ok\n",
    )
    imported = run("import", str(path), "--no-scrape", code=1)
    assert "line 2:" in imported.stderr and "at most 100" in imported.stderr
    assert rows(warehouse_path, "SELECT video_id, labels FROM registry.videos") == [("x:1790000000000000000", ["ok"])]


# ------------------------------------------------------------------------------------ real-world spreadsheets


def test_a_row_with_an_extra_field_is_reported_by_line_and_the_good_rows_are_kept(warehouse_path, tmp_path):
    path = write(
        tmp_path,
        "sheet.csv",
        "url,label\nhttps://youtu.be/dQw4w9WgXcQ,a\nhttps://x.com/u/status/1790000000000000000,b,extra\n"
        "https://www.instagram.com/reel/C1a2B3c4D5e/,c\n",
    )
    result = run("import", str(path), "--no-scrape", code=1)
    assert "line 3: 3 fields but the header has 2" in result.stderr and "1 invalid row(s)" in result.stderr
    assert rows(warehouse_path, "SELECT video_id FROM registry.videos ORDER BY 1") == [
        ("instagram:C1a2B3c4D5e",),
        ("youtube:dQw4w9WgXcQ",),
    ]


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        ("url;label", ";"),
        ("link\tlabel", "\t"),
        ("URL,label", ","),
        ("Video URL|label", "|"),
        ("video_url,label", ","),
        ("video;label", ";"),
    ],
)
def test_semicolon_and_tab_csvs_and_other_names_of_the_url_column_are_read(warehouse_path, tmp_path, header, delimiter):
    body = f"https://youtu.be/dQw4w9WgXcQ{delimiter}launch\nhttps://x.com/u/status/1790000000000000000{delimiter}q4\n"
    result = run("import", str(write(tmp_path, "sheet.csv", f"{header}\n{body}")), "--no-scrape")
    assert "2 new" in result.stdout
    assert rows(warehouse_path, "SELECT video_id, labels FROM registry.videos ORDER BY 1") == [
        ("x:1790000000000000000", ["q4"]),
        ("youtube:dQw4w9WgXcQ", ["launch"]),
    ]


def test_a_semicolon_snapshot_history_is_read(warehouse_path, tmp_path):
    text = HISTORY.replace(",", ";")
    assert "2 snapshot(s) imported" in run("import-snapshots", str(write(tmp_path, "h.csv", text))).stdout


def test_a_csv_without_a_url_column_names_its_columns_and_what_is_needed(warehouse_path, tmp_path):
    result = run("import", str(write(tmp_path, "s.csv", "name;views\nbob;12\n")), code=1)
    assert result.stderr.strip().splitlines() == [
        f"{tmp_path / 's.csv'} looks like a CSV with the columns name, views but none of them holds the video "
        "links; name that column url (or link, video_url, video)."
    ]
    snapshots = run("import-snapshots", str(write(tmp_path, "t.csv", "name,views\nbob,12\n")), code=1)
    assert "has the columns name, views but no url or video_id column" in snapshots.stderr


def test_a_video_listed_twice_gets_the_labels_of_every_row(warehouse_path, tmp_path):
    path = write(
        tmp_path,
        "twice.csv",
        "url,label\nhttps://youtu.be/dQw4w9WgXcQ,launch\nhttps://www.youtube.com/watch?v=dQw4w9WgXcQ,q4;launch\n",
    )
    assert "1 repeated" in run("import", str(path), "--no-scrape").stdout
    assert rows(warehouse_path, "SELECT labels FROM registry.videos") == [(["launch", "q4"],)]
