"""What an alert kind is: its parameters (from the `alert add` options), description, inputs, candidates, message
and cooldown. One module per kind subclasses :class:`AlertKind`; :mod:`viewtrail.alerts.kinds` registers them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from viewtrail.alerts.model import DAY, AlertInputs, Candidate, DayPoint, Rule, Scope, VideoInfo, day_start
from viewtrail.domain.errors import InvalidInputError

#: The `alert add` options a kind may read besides ``--threshold`` (the CLI has exactly these).
OPTIONS = ("floor", "days", "hours", "by")


@dataclass(frozen=True, slots=True)
class Given:
    """The `alert add` options as typed, before a kind parses them; ``today`` is the project's clock (adding a
    rule), None when rebuilding a rule's parameters."""

    thresholds: list[str] = field(default_factory=list)
    floor: str | None = None
    days: int | None = None
    hours: int | None = None
    by: str | None = None
    today: date | None = None

    @property
    def threshold(self) -> str | None:
        """The one ``--threshold`` of a kind that takes one (checked before parsing)."""
        return self.thresholds[0] if self.thresholds else None


class AlertKind(ABC):
    """One alert kind. Class attributes describe it; methods parse, find and word its events."""

    name: ClassVar[str]
    #: When it fires, one sentence (CLI help, docs).
    description: ClassVar[str]
    #: What ``--threshold`` means for it, in the CLI's help of ``--threshold``.
    threshold_help: ClassVar[str]
    #: Whether ``--threshold`` is repeatable.
    many_thresholds: ClassVar[bool] = False
    #: Options besides ``--threshold`` it reads (names in :data:`OPTIONS`) -> their help.
    options: ClassVar[dict[str, str]] = {}
    #: Its defaults in words, for `alert add --help` (None: nothing to say).
    defaults_help: ClassVar[str | None] = None
    #: An `alert add` example (the command's epilog).
    example: ClassVar[str]
    #: The :class:`AlertInputs` fields it reads besides ``videos`` (see that class for their tables).
    reads: ClassVar[frozenset[str]] = frozenset()
    #: Days of history before the catch-up window its candidates need (the inputs read the longest of all kinds).
    history_days: ClassVar[int] = 0
    #: Default hours during which the same condition does not fire again; 0 for kinds that fire once anyway.
    cooldown_hours: ClassVar[float] = 24.0
    #: Whether the cooldown applies at all (a milestone fires once per threshold whatever the cooldown).
    has_cooldown: ClassVar[bool] = True

    @abstractmethod
    def params(self, given: Given) -> dict[str, Any]:
        """The stored parameters from the options, defaults filled in; one-sentence error when invalid."""

    def validate_scope(self, scope: Scope) -> None:  # noqa: B027 - most kinds take any scope
        """Refuse a scope the kind cannot watch (one sentence)."""

    @abstractmethod
    def describe(self, params: dict[str, Any]) -> str:
        """The rule's condition in a few words (`alert list`)."""

    @abstractmethod
    def candidates(self, rule: Rule, inputs: AlertInputs, now: datetime) -> list[Candidate]:
        """Every instant in the inputs where ``rule``'s condition holds (before dedup and cooldown)."""

    @abstractmethod
    def summary(self, event: Candidate) -> str:
        """The event's numbers on one line (message body, CLI, demo report)."""

    @abstractmethod
    def what(self, event: Candidate) -> str:
        """What happened, after the subject, in the message title ("is taking off")."""

    def who(self, event: Candidate) -> str:
        """The subject of an event about no video, in the message title."""
        return str(event.platform)

    def details(self, event: Candidate) -> list[str]:
        """Message body lines after the summary."""
        return []


# ----------------------------------------------------------------------------------- helpers shared by kinds


def one_threshold(kind: str, given: Given) -> None:
    if len(given.thresholds) > 1:
        raise InvalidInputError(f"A {kind} rule takes one --threshold, not {len(given.thresholds)}.")


def in_scope(rule: Rule, video: VideoInfo) -> bool:
    kind, values = rule.scope.kind, rule.scope.values
    if kind == "all":
        return True
    if kind == "label":
        return any(v in video.labels for v in values)
    if kind == "account":
        return any(
            (v.split(":", 1)[1] if ":" in v else v).lstrip("@") == (video.account or "")
            and (":" not in v or v.split(":", 1)[0] == video.platform)
            for v in values
        )
    if kind == "platform":
        return video.platform in values
    return video.video_id in values


def videos_in_scope(rule: Rule, inputs: AlertInputs) -> Iterable[VideoInfo]:
    return (v for v in inputs.videos.values() if in_scope(rule, v))


def video_fields(video: VideoInfo) -> dict[str, Any]:
    return {
        "video_id": video.video_id,
        "platform": video.platform,
        "account": video.account,
        "label": ",".join(video.labels) or None,
    }


def day_end(point: DayPoint, video: VideoInfo) -> datetime:
    """The instant a day's value holds for: 24:00, or the last snapshot on the video's last (unfinished) day."""
    end = day_start(point.day) + DAY
    last = video.last_observed_at
    return last if last is not None and day_start(point.day) <= last < end else end
