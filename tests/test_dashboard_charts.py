"""The dashboard's SVG charts and number formatting: what a reader of a page relies on."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from viewtrail.dashboard import charts, fmt

START = date(2025, 1, 1)


def two_years(seed: int) -> charts.Series:
    points = [
        charts.Point(START + timedelta(days=n), float((n * 37 + seed * 101) % 1000), interpolated=n % 9 == 0)
        for n in range(730)
    ]
    return charts.Series(f"series {seed}", points)


def test_ten_series_of_two_years_stay_light_and_keep_their_extremes():
    series = [two_years(seed) for seed in range(10)]
    spike = charts.Point(START + timedelta(days=400), 1_000_000.0)
    series[3] = charts.Series("spiky", [*series[3].points[:400], spike, *series[3].points[401:]])
    svg = charts.line_chart(series, step=True)
    counts = [int(n) for n in re.findall(r'data-points="(\d+)"', svg)]
    assert len(counts) == 10 and all(n <= charts.MAX_POINTS for n in counts)
    assert len(svg) < 400_000  # about 40 KB per series at most
    assert "<circle" not in svg  # markers only on short series
    assert "1M</text>" in svg  # the spike survived the thinning: it sets the axis
    kept = charts.thin(series[3].points)
    assert spike in kept and kept[0] == series[3].points[0] and kept[-1] == series[3].points[-1]


def test_interpolated_days_are_dashed_with_hollow_markers_and_the_partial_day_is_hatched():
    points = [
        charts.Point(date(2026, 1, 1), 10.0),
        charts.Point(date(2026, 1, 2), 20.0, interpolated=True),
        charts.Point(date(2026, 1, 3), 30.0),
    ]
    svg = charts.line_chart([charts.Series("views", points)], partial=date(2026, 1, 3))
    assert svg.count('class="marker interpolated"') == 1 and svg.count('class="marker observed"') == 2
    assert 'fill="#fff"' in svg and 'stroke-dasharray="4 3"' in svg
    assert 'data-partial="2026-01-03"' in svg and "Partial" in svg
    assert [t for t in re.findall(r">(2026-01-0\d)</text>", svg)] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert "interpolated)" in svg  # the marker's tooltip says so


def test_an_empty_chart_says_so():
    assert "No data for this range yet" in charts.line_chart([charts.Series("views", [])])
    assert "<polyline" not in charts.sparkline([None, 1.0])
    assert "<polyline" in charts.sparkline([1.0, None, 3.0])


def test_numbers_for_people():
    assert fmt.thousands(1234567) == "1,234,567" and fmt.thousands(None) == "–" and fmt.thousands(2.5, 1) == "2.5"
    assert [fmt.compact(v) for v in (999, 12_345, 1_234_567, 1_000_000, 250_000_000, -1500)] == [
        "999",
        "12.3K",
        "1.2M",
        "1M",
        "250M",
        "-1.5K",
    ]
    assert fmt.percent(0.01234) == "1.2%" and fmt.percent(float("nan")) == "–"
    assert fmt.change(110, 100) == ("+10.0%", "up") and fmt.change(90, 100) == ("−10.0%", "down")
    assert fmt.change(5, 0) == ("no previous period", "none") and fmt.change(100, 100) == ("±0.0%", "flat")
    assert fmt.utc(datetime(2026, 12, 7, 13, 5)) == "2026-12-07 13:05 UTC" and fmt.utc(None) == "–"
    assert fmt.multiplier(3.04) == "3.0×"
