"""goal: a label's or account's total views reach a target by a date (``reached``), or are projected not to
(``behind``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from viewtrail.alerts.kinds.base import AlertKind, Given, one_threshold
from viewtrail.alerts.model import (
    DAY,
    AlertInputs,
    Candidate,
    Rule,
    Scope,
    day_start,
    human_count,
    parse_count,
    positive,
)
from viewtrail.domain.errors import InvalidInputError

#: The projection's rate: views per day over the last this many days.
RATE_DAYS = 7


class Goal(AlertKind):
    name = "goal"
    description = "a label's or account's total views reach a target, or are projected to miss its date"
    threshold_help = "goal views"
    options = {"by": "the date to reach the target by (YYYY-MM-DD)."}
    example = "viewtrail alert add goal --label launch --threshold 1M --by 2027-03-31 --channel team-slack"
    reads = frozenset({"label_daily", "account_daily"})
    cooldown_hours = 24.0

    def params(self, given: Given) -> dict[str, Any]:
        one_threshold(self.name, given)
        one, by = given.threshold, given.by
        if not one:
            raise InvalidInputError("A goal needs --threshold, the total views to reach (e.g. --threshold 1M).")
        if not by:
            raise InvalidInputError("A goal needs --by, the date to reach it by (e.g. --by 2027-03-31).")
        try:
            deadline = date.fromisoformat(by.strip())
        except ValueError:
            raise InvalidInputError(f"--by {by!r} is not a date; use YYYY-MM-DD, e.g. 2027-03-31.") from None
        if given.today is not None and deadline < given.today:  # a goal already past can only ever be missed
            raise InvalidInputError(
                f"--by {deadline.isoformat()} is in the past (today is {given.today.isoformat()} UTC); give a date "
                f"from today on."
            )
        return {"target": int(positive(parse_count(one), "--threshold")), "by": deadline.isoformat()}

    def validate_scope(self, scope: Scope) -> None:
        if scope.kind not in ("label", "account"):
            raise InvalidInputError("A goal is about a label's or an account's total views: give --label or --account.")
        if len(scope.values) != 1:
            raise InvalidInputError("A goal takes exactly one --label or --account.")

    def describe(self, params: dict[str, Any]) -> str:
        return f"{human_count(params['target'])} views by {params['by']}"

    def candidates(self, rule: Rule, inputs: AlertInputs, now: datetime) -> list[Candidate]:
        target, deadline = int(rule.params["target"]), date.fromisoformat(rule.params["by"])
        name = rule.scope.values[0]
        extra: dict[str, Any]
        if rule.scope.kind == "label":
            points, subject, extra = inputs.label_daily.get(name, []), f"label:{name}", {"label": name}
        else:
            key = (
                name
                if ":" in name
                else next((k for k in inputs.account_daily if k.split(":", 1)[1] == name.lstrip("@")), name)
            )
            points, subject = inputs.account_daily.get(key, []), f"account:{key}"
            platform, _, handle = key.partition(":")
            extra = {"account": handle or key, "platform": platform if handle else None}
        known = [(p.day, p.views) for p in points if p.views is not None]
        if not known:
            return []
        previous: int | None = None
        for day, views in known:
            if previous is not None and previous < target <= views:
                return [
                    Candidate(
                        rule.rule_id,
                        self.name,
                        "reached",
                        subject,
                        f"goal:{rule.rule_id}:reached",
                        min(day_start(day) + DAY, now),
                        {
                            "target": target,
                            "by": deadline.isoformat(),
                            "views": views,
                            "day": day.isoformat(),
                            "on_time": day <= deadline,
                        },
                        **extra,
                    )
                ]
            previous = views
        last_day, last_views = known[-1]
        if last_views >= target or last_day > deadline:
            return []
        earlier = [k for k in known if k[0] <= last_day - RATE_DAYS * DAY] or known[:1]
        ref_day, ref_views = earlier[-1]
        span = (last_day - ref_day).days
        rate = (last_views - ref_views) / span if span > 0 else 0.0
        projected = last_day + timedelta(days=(target - last_views) / rate) if rate > 0 else None
        if projected is not None and projected <= deadline:
            return []
        return [
            Candidate(
                rule.rule_id,
                self.name,
                "behind",
                subject,
                f"goal:{rule.rule_id}:behind:{last_day.isoformat()}",
                min(day_start(last_day) + DAY, now),
                {
                    "target": target,
                    "by": deadline.isoformat(),
                    "views": last_views,
                    "views_per_day": round(rate, 1),
                    "projected": projected.isoformat() if projected else None,
                },
                **extra,
            )
        ]

    def summary(self, event: Candidate) -> str:
        n = event.numbers
        if event.condition == "reached":
            return f"reached {human_count(n['target'])} on {n['day']}"
        return f"{human_count(n['views'])} of {human_count(n['target'])}, projected {n['projected'] or 'never'}"

    def what(self, event: Candidate) -> str:
        return "reached its goal" if event.condition == "reached" else "is behind its goal"

    def who(self, event: Candidate) -> str:
        return f"label {event.label}" if event.label else f"account {event.account}"

    def details(self, event: Candidate) -> list[str]:
        return [f"Target {human_count(event.numbers['target'])} views by {event.numbers['by']}."]


KIND = Goal()
