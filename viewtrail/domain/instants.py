"""Instants as users write them (``VIEWTRAIL_NOW``, ``--since``): ISO dates or instants, read as naive UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from viewtrail.domain.errors import InvalidInputError


def parse_instant(text: str, what: str) -> datetime:
    """An ISO date or instant as naive UTC; raises a one-sentence error naming ``what``."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"{what}={text!r} is not an ISO date or instant; use e.g. 2027-01-15T12:00:00 (UTC)."
        ) from None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
