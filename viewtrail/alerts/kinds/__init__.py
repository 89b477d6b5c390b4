"""The alert kinds: one module per kind (see :class:`~viewtrail.alerts.kinds.base.AlertKind`), registered in
:data:`KINDS`. Everything that lists, parses, evaluates, words or documents kinds iterates :data:`KINDS`;
adding a kind is a module here, its line below, and its row in docs/alerts.md."""

from __future__ import annotations

from viewtrail.alerts.kinds import (
    campaign_target,
    creator_goal,
    goal,
    milestone,
    payouts_ready,
    scrape_health,
    spike,
    stalled,
    unavailable,
)
from viewtrail.alerts.kinds.base import AlertKind, Given
from viewtrail.domain.errors import InvalidInputError

#: Name -> kind, in the order help texts and error messages list them.
KINDS: dict[str, AlertKind] = {
    m.KIND.name: m.KIND
    for m in (spike, milestone, unavailable, stalled, goal, scrape_health, creator_goal, campaign_target, payouts_ready)
}


def kind_named(name: str) -> AlertKind:
    """The registered kind called ``name``; a one-sentence error naming the kinds otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise InvalidInputError(f"{name!r} is not an alert kind; use one of {', '.join(KINDS)}.") from None


__all__ = ["KINDS", "AlertKind", "Given", "kind_named"]
