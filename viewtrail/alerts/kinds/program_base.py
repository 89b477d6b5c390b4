"""What the creator-program kinds (creator_goal, campaign_target, payouts_ready) share: no threshold, no scope
(they watch every goal, campaign or balance), and their numbers come from the program marts."""

from __future__ import annotations

from typing import Any

from viewtrail.alerts.kinds.base import AlertKind, Given
from viewtrail.alerts.model import Scope
from viewtrail.domain.errors import InvalidInputError


class ProgramKind(AlertKind):
    threshold_help = "not used by the creator-program kinds"

    def params(self, given: Given) -> dict[str, Any]:
        if given.thresholds or given.floor or given.days or given.hours or given.by:
            raise InvalidInputError(f"A {self.name} rule takes no --threshold, --floor, --days, --hours or --by.")
        return {}

    def validate_scope(self, scope: Scope) -> None:
        if scope.kind != "all":
            raise InvalidInputError(
                f"A {self.name} rule watches every creator and campaign; leave out --label, --account, --platform "
                "and --video."
            )
