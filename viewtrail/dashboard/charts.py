"""Charts as server-rendered SVG: lines or daily steps per series, interpolated days dashed with hollow markers,
the partial current day hatched and badged, sparklines for the cards.

Why our own small module rather than a charting library: the pages are rendered on the server from the same
rows the tables show (read through the one mart reader), so a chart needs no JavaScript, no second data path and
no asset download, and a test reads its numbers from the HTML. Long series are thinned to at most
:data:`MAX_POINTS` points per series (each bucket keeps its lowest and highest point, so spikes survive), which
keeps 10 series of 2 years of days a light, smooth SVG.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from .fmt import compact

PALETTE = (
    "#2563eb",
    "#dc2626",
    "#16a34a",
    "#d97706",
    "#7c3aed",
    "#0891b2",
    "#db2777",
    "#4d7c0f",
    "#9a3412",
    "#475569",
)
MAX_POINTS = 400  # per series, after thinning
MARKERS_UP_TO = 120  # points per series drawn with a marker each

X = date | float


@dataclass(frozen=True, slots=True)
class Point:
    x: X  # a day (calendar charts) or a number (days since posting)
    y: float | None
    interpolated: bool = False


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    points: Sequence[Point]


def _xnum(x: X) -> float:
    return float(x.toordinal()) if isinstance(x, date) else float(x)


def thin(points: Sequence[Point], limit: int = MAX_POINTS) -> list[Point]:
    """At most ``limit`` points: the lowest and highest of each of ``limit // 2`` buckets, in order; the first
    and last points always stay."""
    present = [p for p in points if p.y is not None]
    if len(present) <= limit:
        return present
    buckets = max(1, (limit - 2) // 2)  # two points a bucket, and room for the first and last
    size = len(present) / buckets
    kept: list[Point] = []
    for b in range(buckets):
        chunk = present[int(b * size) : int((b + 1) * size)]
        if not chunk:
            continue
        low = min(chunk, key=lambda p: p.y or 0.0)
        high = max(chunk, key=lambda p: p.y or 0.0)
        kept.extend(sorted({id(low): low, id(high): high}.values(), key=lambda p: _xnum(p.x)))
    if kept[0] is not present[0]:
        kept.insert(0, present[0])
    if kept[-1] is not present[-1]:
        kept.append(present[-1])
    return kept


def _nice_step(span: float, ticks: int = 4) -> float:
    raw = span / ticks if span > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def line_chart(
    series: Sequence[Series],
    *,
    width: int = 760,
    height: int = 260,
    step: bool = False,
    partial: date | None = None,
    label: str = "views",
    x_label: str = "day (UTC)",
) -> str:
    """An SVG chart of ``series``. ``step``: each point is a day's value, drawn flat across its day. ``partial``:
    that day is still running (hatched, badged "Partial")."""
    left, right, top, bottom = 56, 12, 14, 40
    legend_rows = 0 if len(series) <= 1 else math.ceil(len(series) / 4)
    bottom += 18 * legend_rows
    thinned = [(s, thin(s.points)) for s in series]
    xs = [_xnum(p.x) for _, pts in thinned for p in pts]
    ys = [float(p.y) for _, pts in thinned for p in pts if p.y is not None]
    aria = escape(f"{label} by {x_label}: " + ", ".join(s.name for s in series))
    head = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{aria}"'
        ' xmlns="http://www.w3.org/2000/svg">'
    )
    if not xs or not ys:
        return (
            f'{head}<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="empty">'
            "No data for this range yet</text></svg>"
        )
    x0, x1 = min(xs), max(xs) + (1 if step else 0)
    if partial is not None and not step and float(partial.toordinal()) == max(xs):
        x1 += 0.5  # room for the running day's band
    if x1 == x0:
        x1 = x0 + 1
    y0 = min(0.0, min(ys))
    y_step = _nice_step(max(ys) - y0)
    y1 = max(y_step, math.ceil(max(ys) / y_step) * y_step)
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return round(left + (x - x0) / (x1 - x0) * plot_w, 1)

    def sy(y: float) -> float:
        return round(top + plot_h - (y - y0) / (y1 - y0) * plot_h, 1)

    parts = [
        head,
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" class="hatch"/></pattern></defs>',
    ]
    # axes and grid
    tick = y0
    while tick <= y1 + y_step / 2:
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{sy(tick)}" y2="{sy(tick)}"/>'
            f'<text class="tick" x="{left - 6}" y="{sy(tick) + 4}" text-anchor="end">{compact(tick)}</text>'
        )
        tick += y_step
    calendar = any(isinstance(p.x, date) for _, pts in thinned for p in pts)
    span = max(xs) - x0
    count = int(min(6, span + 1)) if calendar else 6
    ticks: list[float] = []
    for i in range(count):
        xv = x0 + span * i / max(count - 1, 1)
        xv = float(round(xv)) if calendar else xv
        if xv not in ticks:
            ticks.append(xv)
    for xv in ticks:
        label_text = date.fromordinal(int(xv)).isoformat() if calendar else f"{xv:.0f}"
        parts.append(
            f'<text class="tick" x="{sx(xv + (0.5 if step else 0))}" y="{top + plot_h + 16}" text-anchor="middle">'
            f"{label_text}</text>"
        )
    parts.append(
        f'<text class="axis-label" x="{left + plot_w / 2}" y="{top + plot_h + 32}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
    )
    if partial is not None and x0 <= partial.toordinal() <= x1:
        px0 = sx(partial.toordinal() - (0 if step else 0.5))
        px1 = sx(partial.toordinal() + 1) if step else width - right
        parts.append(
            f'<rect class="partial" data-partial="{partial.isoformat()}" x="{px0}" y="{top}" width="{max(px1 - px0, 4)}"'
            f' height="{plot_h}" fill="url(#hatch)"/><text class="badge" x="{px0 + 3}" y="{top + 11}">Partial</text>'
        )
    for index, (s, pts) in enumerate(thinned):
        color = PALETTE[index % len(PALETTE)]
        solid: list[str] = []
        dashed: list[str] = []
        previous: Point | None = None
        for position, p in enumerate(pts):
            x, y = _xnum(p.x), float(p.y or 0)
            if step:  # flat until the next point (a day, or more where the series was thinned)
                until = _xnum(pts[position + 1].x) if position + 1 < len(pts) else x + 1
                segment = f"M{sx(x)},{sy(y)}H{sx(until)}"
                (dashed if p.interpolated else solid).append(segment)
                if previous is not None:
                    solid.append(f"M{sx(x)},{sy(float(previous.y or 0))}V{sy(y)}")
            elif previous is not None:
                segment = f"M{sx(_xnum(previous.x))},{sy(float(previous.y or 0))}L{sx(x)},{sy(y)}"
                (dashed if (p.interpolated or previous.interpolated) else solid).append(segment)
            previous = p
        name = escape(s.name)
        parts.append(
            f'<g class="series" data-series="{name}" data-points="{len(pts)}" stroke="{color}">'
            f'<path class="observed" d="{"".join(solid)}"/>'
        )
        if dashed:
            parts.append(f'<path class="interpolated" stroke-dasharray="4 3" d="{"".join(dashed)}"/>')
        if len(pts) <= MARKERS_UP_TO:
            for p in pts:
                cx = sx(_xnum(p.x) + (0.5 if step else 0))
                kind = "interpolated" if p.interpolated else "observed"
                fill = "#fff" if p.interpolated else color
                x_text = p.x.isoformat() if isinstance(p.x, date) else f"day {p.x:g}"
                parts.append(
                    f'<circle class="marker {kind}" cx="{cx}" cy="{sy(float(p.y or 0))}" r="2.8" fill="{fill}">'
                    f"<title>{name} {x_text}: {p.y:,.0f}{' (interpolated)' if p.interpolated else ''}</title></circle>"
                )
        parts.append("</g>")
        if legend_rows:
            lx = left + (index % 4) * (plot_w / 4)
            ly = height - 18 * legend_rows + 18 * (index // 4) + 4
            parts.append(
                f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{color}"/>'
                f'<text class="legend" x="{lx + 14}" y="{ly + 9}">{name}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def sparkline(values: Sequence[float | None], *, width: int = 120, height: int = 30) -> str:
    """A small line of ``values`` (missing ones skipped), scaled to its own range."""
    present = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    head = f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" aria-hidden="true">'
    if len(present) < 2:
        return head + "</svg>"
    low, high = min(v for _, v in present), max(v for _, v in present)
    span = (high - low) or 1.0
    n = max(len(values) - 1, 1)
    points = " ".join(
        f"{round(i / n * width, 1)},{round(height - 2 - (v - low) / span * (height - 4), 1)}" for i, v in present
    )
    return f'{head}<polyline points="{points}"/></svg>'


def share_bar(shares: dict[str, float | None], *, width: int = 360, height: int = 18) -> str:
    """One bar split by each part's share (0..1; missing or zero parts left out), each part's tooltip naming it
    with its percentage: a creator's platform split."""
    present = [(name, float(v)) for name, v in shares.items() if v]
    total = sum(v for _, v in present)
    parts = [
        f'<svg class="share" viewBox="0 0 {width} {height + 16}" width="{width}" height="{height + 16}" role="img"'
        f' aria-label="{escape(", ".join(f"{n} {v / total:.0%}" for n, v in present)) if total else "no data"}">'
    ]
    x = 0.0
    for index, (name, value) in enumerate(present):
        w = width * value / total
        color = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect data-part="{escape(name)}" data-share="{value / total:.4f}" x="{x:.1f}" y="0" width="{w:.1f}"'
            f' height="{height}" fill="{color}"><title>{escape(name)}: {value / total:.1%}</title></rect>'
        )
        if w > 40:
            parts.append(
                f'<text class="legend" x="{x + 3:.1f}" y="{height + 12}">{escape(name)} {value / total:.0%}</text>'
            )
        x += w
    parts.append("</svg>")
    return "".join(parts)


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _shade(count: int, most: int) -> str:
    """A blue as dark as ``count`` is near ``most``; empty cells stay light grey."""
    if count <= 0 or most <= 0:
        return "#f1f5f9"
    return f"rgba(37, 99, 235, {0.15 + 0.85 * count / most:.2f})"


def calendar(per_day: Sequence[tuple[date, int]], start: date, end: date, *, cell: int = 14) -> str:
    """A content calendar: one square per day from ``start`` to ``end`` (weeks as columns, Monday on top),
    shaded by the videos posted that day; each square's tooltip says the day and the count."""
    counts = dict(per_day)
    first_monday = start - timedelta(days=start.weekday())
    weeks = (end - first_monday).days // 7 + 1
    most = max(counts.values(), default=0)
    width, height = 30 + weeks * (cell + 2), 7 * (cell + 2) + 4
    parts = [
        f'<svg class="calendar" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img"'
        f' aria-label="videos posted per day, {start} to {end}">'
    ]
    for row in (0, 2, 4):
        parts.append(f'<text class="tick" x="0" y="{row * (cell + 2) + cell - 3}">{WEEKDAYS[row]}</text>')
    for day in days_between(start, end):
        week, row = (day - first_monday).days // 7, day.weekday()
        n = counts.get(day, 0)
        parts.append(
            f'<rect data-day="{day}" data-count="{n}" x="{30 + week * (cell + 2)}" y="{row * (cell + 2)}"'
            f' width="{cell}" height="{cell}" rx="2" fill="{_shade(n, most)}"><title>{day}: {n:,} posted</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


def heatmap(cells: dict[tuple[int, int], int], *, cell: int = 16) -> str:
    """When videos are posted: weekday rows by hour (UTC) columns, shaded by count."""
    most = max(cells.values(), default=0)
    width, height = 34 + 24 * (cell + 1), 7 * (cell + 1) + 16
    parts = [
        f'<svg class="heatmap" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img"'
        ' aria-label="videos posted by weekday and hour (UTC)">'
    ]
    for hour in range(0, 24, 3):
        parts.append(f'<text class="tick" x="{34 + hour * (cell + 1)}" y="{height - 3}">{hour:02d}</text>')
    for weekday, name in enumerate(WEEKDAYS):
        parts.append(f'<text class="tick" x="0" y="{weekday * (cell + 1) + cell - 4}">{name}</text>')
        for hour in range(24):
            n = cells.get((weekday, hour), 0)
            parts.append(
                f'<rect data-cell="{weekday}-{hour}" data-count="{n}" x="{34 + hour * (cell + 1)}"'
                f' y="{weekday * (cell + 1)}" width="{cell}" height="{cell}" fill="{_shade(n, most)}">'
                f"<title>{name} {hour:02d}:00 UTC: {n:,} posted</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]
