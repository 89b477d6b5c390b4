"""`viewtrail report`: the daily table and the PNG chart, read from the analyst copy or the warehouse."""

from __future__ import annotations

import math
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import typer
from dbt_support import create_warehouse, dbt, insert_snapshots, register_videos
from typer.testing import CliRunner

from viewtrail import clock
from viewtrail.app.reporting import ReportError, load_video_report, open_reporting_db, resolve_video_id, views_figure
from viewtrail.cli import report_cmd

pytestmark = pytest.mark.slow

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:  # a group, as in the real CLI
        pass

    report_cmd.register(app)
    return app


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "warehouse.duckdb"
    create_warehouse(path)
    register_videos(path, [{"video_id": "youtube:dQw4w9WgXcQ", "account": "rick"}])
    insert_snapshots(
        path,
        [
            ("youtube:dQw4w9WgXcQ", datetime(2024, 1, 1, 12), 1000, 10, 1),
            ("youtube:dQw4w9WgXcQ", datetime(2024, 1, 1, 18), 1600, 16, 2),
            # two days without a snapshot: Jan 2 and Jan 3 are interpolated (10 views/hour from Jan 1 18:00)
            ("youtube:dQw4w9WgXcQ", datetime(2024, 1, 4, 18), 2320, 20, 3),
        ],
    )
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=path)
    return path


def test_report_prints_daily_table_and_writes_png(built_warehouse: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("VIEWTRAIL_WAREHOUSE", str(built_warehouse))
    monkeypatch.setenv("VIEWTRAIL_ANALYTICS", str(tmp_path / "absent.duckdb"))
    monkeypatch.setenv("COLUMNS", "160")
    out = tmp_path / "chart.png"
    result = CliRunner().invoke(_app(), ["report", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "--out", str(out)])
    assert result.exit_code == 0, result.output
    # end-of-day values: Jan 1 1600 + 6 h x 10 = 1660, Jan 2 1900, Jan 3 2140, Jan 4 the last snapshot
    for day, views in [
        ("2024-01-01", "1,660"),
        ("2024-01-02 ~", "1,900"),
        ("2024-01-03 ~", "2,140"),
        ("2024-01-04", "2,320"),
    ]:
        line = next(line for line in result.output.splitlines() if day in line)
        assert views in line
    assert "2024-01-01 ~" not in result.output
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert out.stat().st_size > 5_000


def test_report_prefers_the_analyst_copy(built_warehouse: Path, tmp_path: Path, monkeypatch) -> None:
    analytics = tmp_path / "analytics.duckdb"
    shutil.copy(built_warehouse, analytics)
    con = duckdb.connect(str(analytics))
    con.execute("update marts.video_daily set views = 7777777 where day = date '2024-01-02'")
    con.close()
    # the live warehouse is held by a writer: the report must not need it
    writer = duckdb.connect(str(built_warehouse))
    try:
        with open_reporting_db(analytics=analytics, warehouse=built_warehouse) as (rcon, path):
            report = load_video_report(rcon, path, resolve_video_id(rcon, "youtube:dQw4w9WgXcQ"), days=3)
    finally:
        writer.close()
    assert path == analytics
    assert [r.day.isoformat() for r in report.days] == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert report.days[0].views == 7777777
    assert [r.is_interpolated for r in report.days] == [True, True, False]
    assert [p.views for p in report.observed] == [2320]


def test_report_unknown_video_is_a_clear_error(built_warehouse: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("VIEWTRAIL_WAREHOUSE", str(built_warehouse))
    monkeypatch.setenv("VIEWTRAIL_ANALYTICS", str(tmp_path / "absent.duckdb"))
    result = CliRunner().invoke(_app(), ["report", "tiktok:7000000000000000000", "--out", str(tmp_path / "x.png")])
    assert result.exit_code == 1
    assert "tiktok:7000000000000000000 has no daily history yet" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.png").exists()


def test_report_without_any_data_says_to_build(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="run `viewtrail build` first"):
        with open_reporting_db(analytics=tmp_path / "a.duckdb", warehouse=tmp_path / "w.duckdb"):
            pass


def test_report_out_a_directory_writes_the_video_png_into_it(built_warehouse: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("VIEWTRAIL_WAREHOUSE", str(built_warehouse))
    monkeypatch.setenv("VIEWTRAIL_ANALYTICS", str(tmp_path / "absent.duckdb"))
    charts = tmp_path / "charts"
    charts.mkdir()
    for out, where in [(charts, charts), (f"{tmp_path / 'new'}/", tmp_path / "new")]:
        result = CliRunner().invoke(_app(), ["report", "youtube:dQw4w9WgXcQ", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert (where / "youtube_dQw4w9WgXcQ.png").read_bytes()[:8] == PNG_MAGIC


def test_report_out_an_unwritable_path_is_one_sentence(built_warehouse: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("VIEWTRAIL_WAREHOUSE", str(built_warehouse))
    monkeypatch.setenv("VIEWTRAIL_ANALYTICS", str(tmp_path / "absent.duckdb"))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(_app(), ["report", "youtube:dQw4w9WgXcQ", "--out", str(blocker / "chart.png")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "Cannot write the chart" in result.stderr


LAUNCH = "tiktok:7300000000000000042"
LAUNCH_POSTED = datetime(2024, 1, 1, 6)


@pytest.fixture(scope="module")
def launch_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated launch: hourly snapshots of a video taking off, from its posting to today 14:00 (a partial day)."""
    path = tmp_path_factory.mktemp("launch") / "warehouse.duckdb"
    create_warehouse(path)
    register_videos(path, [{"video_id": LAUNCH, "account": "ana.cooks"}])
    rows = []
    for hour in range(1, 33):  # 2024-01-01 07:00 .. 2024-01-02 14:00
        views = int(3_000_000 * (1 - math.exp(-hour / 8)))
        rows.append((LAUNCH, LAUNCH_POSTED + timedelta(hours=hour), views, views // 20, views // 400))
    insert_snapshots(path, rows, source="simulated")
    dbt("build", "--exclude-resource-type", "unit_test", warehouse=path)
    return path


def _launch_report(path: Path):
    with clock.pinned(datetime(2024, 1, 2, 14, 40)), open_reporting_db(analytics=path, warehouse=path) as (con, src):
        return load_video_report(con, src, LAUNCH)


def test_report_marks_today_as_partial_simulated_with_thousands_separators(launch_warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("VIEWTRAIL_WAREHOUSE", str(launch_warehouse))
    monkeypatch.setenv("VIEWTRAIL_ANALYTICS", str(tmp_path / "absent.duckdb"))
    monkeypatch.setenv("COLUMNS", "200")
    with clock.pinned(datetime(2024, 1, 2, 14, 40)):
        result = CliRunner().invoke(_app(), ["report", LAUNCH, "--out", str(tmp_path / "launch.png")])
    assert result.exit_code == 0, result.output
    today = next(line for line in result.output.splitlines() if "2024-01-02" in line)
    assert "(partial, to 14:00)" in today  # not a full day: what was seen up to the last snapshot
    yesterday = next(line for line in result.output.splitlines() if "2024-01-01" in line)
    assert "partial" not in yesterday and re.search(r"\b\d,\d{3},\d{3}\b", yesterday)  # e.g. 2,850,000
    assert "simulated data" in result.output


def test_report_on_a_past_day_is_not_partial(launch_warehouse) -> None:
    with clock.pinned(datetime(2024, 1, 5)), open_reporting_db(launch_warehouse, launch_warehouse) as (con, src):
        assert load_video_report(con, src, LAUNCH).partial_until is None


def test_chart_daily_line_never_undercuts_the_hourly_snapshots(launch_warehouse) -> None:
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.dates import date2num

    report = _launch_report(launch_warehouse)
    fig = views_figure(report)
    try:
        line = fig.axes[0].lines[0]
        xs, ys = date2num(list(line.get_xdata())), np.asarray(line.get_ydata(), dtype=float)
        for point in report.observed:
            at = date2num(point.observed_at)
            if line.get_drawstyle() == "steps-post":
                drawn = ys[np.searchsorted(xs, at, side="right") - 1]
            else:
                drawn = np.interp(at, xs, ys)
            assert drawn >= point.views, (point, drawn)
        # the axis counts with thousands separators, and the chart says the numbers are made up
        assert fig.axes[0].yaxis.get_major_formatter()(1_234_567, 0) == "1,234,567"
        assert "simulated data" in fig.axes[0].get_title()
        assert "partial, to 14:00" in fig.axes[0].get_title()
    finally:
        plt.close(fig)
