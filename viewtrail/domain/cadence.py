"""The ``auto`` scrape cadence table: how often a video is scraped at each age, and its setting's grammar."""

from __future__ import annotations

#: ``auto`` cadence: (age below this many hours, scrape every this many hours); the last row has no bound.
DEFAULT_AUTO_CADENCE: tuple[tuple[float | None, int], ...] = (
    (48, 1),  # first 2 days: hourly
    (7 * 24, 6),  # until day 7: every 6 hours
    (30 * 24, 24),  # until day 30: daily
    (None, 7 * 24),  # after that: weekly
)

#: ``VIEWTRAIL_AUTO_CADENCE`` overrides the table, e.g. ``48:1,168:6,720:24,*:168`` (age bound in hours:every N hours).
AUTO_CADENCE_ENV = "VIEWTRAIL_AUTO_CADENCE"


def parse_auto_cadence(text: str) -> tuple[tuple[float | None, int], ...]:
    """Parse ``"48:1,168:6,720:24,*:168"``; raises ``ValueError`` with one sentence on a bad table."""
    rows: list[tuple[float | None, int]] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        bound_text, _, every_text = part.partition(":")
        try:
            bound = None if bound_text.strip() == "*" else float(bound_text)
            every = int(every_text)
        except ValueError:
            raise ValueError(
                f"{AUTO_CADENCE_ENV} entry {part!r} is not 'AGE_HOURS:EVERY_HOURS'; use e.g. 48:1,168:6,720:24,*:168."
            ) from None
        if not 1 <= every <= 720 or (bound is not None and bound <= 0):
            raise ValueError(f"{AUTO_CADENCE_ENV} entry {part!r} is out of range: ages > 0, cadences 1..720 hours.")
        rows.append((bound, every))
    bounds = [b for b, _ in rows if b is not None]
    if not rows or rows[-1][0] is not None or len(bounds) != len(rows) - 1 or bounds != sorted(bounds):
        raise ValueError(
            f"{AUTO_CADENCE_ENV}={text!r} must list increasing ages and end with '*:HOURS'; e.g. 48:1,168:6,720:24,*:168."
        )
    return tuple(rows)
