"""scrape_health: a platform's scrape success share over the last hours is low (``share``), or a quota ran out
(``quota``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from viewtrail.alerts.kinds.base import AlertKind, Given, one_threshold
from viewtrail.alerts.model import HOUR, AlertInputs, Candidate, HealthHour, Rule, Scope
from viewtrail.domain.errors import InvalidInputError

#: Success share over the last N hours (the snapshot check's VIEWTRAIL_MIN_SUCCESS_SHARE default).
DEFAULT_MIN_SHARE = 0.9
DEFAULT_HOURS = 3
DEFAULT_MIN_ATTEMPTS = 10


class ScrapeHealth(AlertKind):
    name = "scrape_health"
    description = "a platform's scrape success share over the last N hours is low, or a quota is exhausted"
    threshold_help = "scrape_health success share"
    options = {"hours": "over the last N hours (default 3)."}
    defaults_help = "scrape_health success share < 0.9 over 3 h, or a quota exhausted"
    example = "viewtrail alert add scrape_health --platform tiktok --threshold 0.8 --hours 6 --cooldown 12"
    reads = frozenset({"health"})
    cooldown_hours = 6.0

    def params(self, given: Given) -> dict[str, Any]:
        one_threshold(self.name, given)
        one = given.threshold
        share = float(one) if one else DEFAULT_MIN_SHARE
        if not 0 < share <= 1:
            raise InvalidInputError(f"--threshold for scrape_health is a success share between 0 and 1, not {one!r}.")
        n_hours = given.hours if given.hours is not None else DEFAULT_HOURS
        if n_hours < 1:
            raise InvalidInputError("--hours must be at least 1.")
        return {"min_share": share, "hours": int(n_hours), "min_attempts": DEFAULT_MIN_ATTEMPTS}

    def validate_scope(self, scope: Scope) -> None:
        if scope.kind not in ("all", "platform"):
            raise InvalidInputError("scrape_health watches platforms: give --platform or no scope.")

    def describe(self, params: dict[str, Any]) -> str:
        return f"success share < {params['min_share']:g} over {params['hours']} h, or quota exhausted"

    def candidates(self, rule: Rule, inputs: AlertInputs, now: datetime) -> list[Candidate]:
        min_share, hours = float(rule.params["min_share"]), int(rule.params["hours"])
        min_attempts = int(rule.params.get("min_attempts", 1))
        by_platform: dict[str, dict[datetime, HealthHour]] = defaultdict(dict)
        for row in inputs.health:
            if rule.scope.kind == "all" or row.platform in rule.scope.values:
                by_platform[row.platform][row.hour] = row
        out = []
        for platform, hours_seen in sorted(by_platform.items()):
            for hour in sorted(hours_seen):
                row = hours_seen[hour]
                end = hour + HOUR
                if row.quota_exhausted:
                    out.append(
                        Candidate(
                            rule.rule_id,
                            self.name,
                            "quota",
                            f"platform:{platform}",
                            f"scrape_health:{rule.rule_id}:{platform}:quota:{hour.isoformat()}",
                            end,
                            {"quota_exhausted_attempts": row.quota_exhausted, "hour": hour.isoformat()},
                            platform=platform,
                        )
                    )
                window = [hours_seen[h] for h in (hour - i * HOUR for i in range(hours)) if h in hours_seen]
                attempts = sum(r.attempts for r in window)
                if attempts < min_attempts:
                    continue
                share = sum(r.succeeded for r in window) / attempts
                if share < min_share:
                    out.append(
                        Candidate(
                            rule.rule_id,
                            self.name,
                            "share",
                            f"platform:{platform}",
                            f"scrape_health:{rule.rule_id}:{platform}:share:{hour.isoformat()}",
                            end,
                            {
                                "success_share": round(share, 3),
                                "min_share": min_share,
                                "attempts": attempts,
                                "hours": hours,
                                "until": end.isoformat(),
                            },
                            platform=platform,
                        )
                    )
        return out

    def summary(self, event: Candidate) -> str:
        if event.condition == "quota":
            return "quota exhausted"
        n = event.numbers
        return f"success share {n['success_share']:.0%} < {n['min_share']:.0%} over {n['hours']} h"

    def what(self, event: Candidate) -> str:
        return "quota exhausted" if event.condition == "quota" else "scraping is degraded"


KIND = ScrapeHealth()
