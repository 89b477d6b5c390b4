"""Whatever file a user hands to `viewtrail import` or `import-snapshots` (random rows, delimiters, quotes,
encodings, or binary garbage), the answer is exit 0 or 1 with a one-line message, never a traceback, and
importing it never duplicates a row."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from viewtrail.cli import app
from viewtrail.warehouse import open_warehouse

runner = CliRunner()

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

CELLS = st.one_of(
    st.sampled_from(
        [
            "https://youtu.be/dQw4w9WgXcQ",
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=3",
            "https://x.com/u/status/1790000000000000000",
            "https://www.tiktok.com/@bob/video/7234567890123456789",
            "https://www.instagram.com/reel/C1a2B3c4D5e/",
            "https://vm.tiktok.com/ZMabc123/",
            "https://www.tiktok.com/@nasa",
            "youtube:dQw4w9WgXcQ",
            "2026-10-01T12:00:00Z",
            "2026-10-01 14:00:00+02:00",
            "yesterday",
            "12",
            "-5",
            "",
            "auto",
            "10000000",
            "a;b",
            'say "hi"',
            "x" * 120,
            "account",
            "video",
        ]
    ),
    st.text(max_size=30),
)
HEADERS = st.lists(
    st.sampled_from(
        [
            "url",
            "URL",
            "link",
            "video_url",
            "video_id",
            "observed_at",
            "views",
            "likes",
            "comments",
            "shares",
            "saves",
            "account",
            "label",
            "cadence",
            "days",
            "platform",
            "kind",
            "name",
            "url",
        ]
    ),
    min_size=1,
    max_size=8,
)
DELIMITERS = st.sampled_from([",", ";", "\t", "|", " "])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"])


def _quote(cell: str, quote: bool) -> str:
    return '"' + cell.replace('"', '""') + '"' if quote else cell


@st.composite
def csv_files(draw) -> bytes:
    delimiter = draw(DELIMITERS)
    header = draw(HEADERS)
    lines = [delimiter.join(header)]
    for _ in range(draw(st.integers(0, 6))):
        width = draw(st.integers(0, len(header) + 2))  # ragged rows on purpose
        cells = [_quote(draw(CELLS), draw(st.booleans())) for _ in range(width)]
        lines.append(delimiter.join(cells))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = ending.join(lines) + draw(st.sampled_from(["", ending]))
    if draw(st.booleans()):  # a stray quote somewhere
        at = draw(st.integers(0, len(text)))
        text = text[:at] + '"' + text[at:]
    return text.encode(draw(ENCODINGS), errors="replace")


FILES = st.one_of(csv_files(), st.binary(max_size=400))


def _counts(warehouse: Path) -> tuple[int, int, int, int]:
    if not warehouse.exists():
        return (0, 0, 0, 0)
    with open_warehouse(warehouse, read_only=True) as con:
        return con.sql(
            "SELECT (SELECT count(*) FROM registry.videos), (SELECT count(DISTINCT video_id) FROM registry.videos),"
            " (SELECT count(*) FROM raw.snapshots),"
            " (SELECT count(*) FROM (SELECT DISTINCT video_id, observed_at FROM raw.snapshots))"
        ).fetchall()[0]


def _check(result) -> None:
    assert result.exit_code in (0, 1), (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 1:  # a one-sentence verdict last (per-row problems, if any, come before it)
        last = result.stderr.strip().splitlines()[-1]
        assert last.strip() and last.rstrip().endswith((".", ")")), result.stderr


@pytest.mark.parametrize("command", [["import", "--no-scrape"], ["import-snapshots"]])
def test_any_file_gets_exit_0_or_1_and_one_line_never_a_traceback_or_a_duplicate(warehouse_path, tmp_path, command):
    @SETTINGS
    @given(content=FILES)
    def check(content: bytes) -> None:
        path = tmp_path / "input.csv"
        path.write_bytes(content)
        first = runner.invoke(app, [command[0], str(path), *command[1:]])
        _check(first)
        after_first = _counts(warehouse_path)
        again = runner.invoke(app, [command[0], str(path), *command[1:]])
        _check(again)
        videos, distinct_videos, snapshots, distinct_snapshots = _counts(warehouse_path)
        assert videos == distinct_videos and snapshots == distinct_snapshots
        assert (videos, snapshots) == after_first[::2]  # importing the same file twice adds nothing

    check()
