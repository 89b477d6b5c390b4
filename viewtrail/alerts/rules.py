"""Alert rules: building a valid rule from the `alert add` options (parameters, scope) and describing one. Plain
Python, no Dagster, no DuckDB; what each kind accepts is in its module under :mod:`viewtrail.alerts.kinds`.

A rule is stored in ``registry.alert_rules`` (see :mod:`viewtrail.alerts.store`). docs/alerts.md documents every
kind and default.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from viewtrail.alerts.kinds import Given, kind_named
from viewtrail.alerts.model import Rule, Scope
from viewtrail.domain.errors import InvalidInputError


def build_params(
    kind: str,
    *,
    thresholds: list[str] | None = None,
    floor: str | None = None,
    days: int | None = None,
    hours: int | None = None,
    by: str | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """The stored parameters of a rule of ``kind`` from the CLI's options, defaults filled in. Adding a rule passes
    ``today`` (the project's clock): a goal's ``--by`` before it is refused."""
    return kind_named(kind).params(Given(thresholds or [], floor, days, hours, by, today))


def build_scope(
    *,
    labels: list[str] | None = None,
    accounts: list[str] | None = None,
    platforms: list[str] | None = None,
    videos: list[str] | None = None,
) -> Scope:
    given = [
        (k, v) for k, v in (("label", labels), ("account", accounts), ("platform", platforms), ("videos", videos)) if v
    ]
    if len(given) > 1:
        raise InvalidInputError("Give one scope: --label, --account, --platform or --video (repeatable), not several.")
    if not given:
        return Scope()
    kind, values = given[0]
    return Scope(kind, tuple(dict.fromkeys(v.strip() for v in values if v.strip())))


def validate_rule(kind: str, scope: Scope) -> None:
    kind_named(kind).validate_scope(scope)


def default_cooldown(kind: str) -> float:
    return kind_named(kind).cooldown_hours


def describe(rule: Rule) -> str:
    """One line: kind, parameters, scope."""
    return f"{rule.kind}: {kind_named(rule.kind).describe(rule.params)} ({rule.scope.describe()})"
