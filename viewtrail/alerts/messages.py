"""Alert messages: short and useful (what happened, the numbers, a link to the video, the label/account)."""

from __future__ import annotations

from dataclasses import dataclass

from viewtrail.alerts.kinds import KINDS
from viewtrail.alerts.model import Candidate, VideoInfo


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str


def render(event: Candidate, video: VideoInfo | None = None) -> Message:
    """The message sent to every channel of the event's rule."""
    kind = KINDS[event.kind]
    if event.video_id:
        name = video.title if video and video.title else event.video_id
        title = f"viewtrail: {name[:80]} {kind.what(event)}"
    else:
        title = f"viewtrail: {kind.who(event)} {kind.what(event)}"
    lines = [kind.summary(event) + ".", *kind.details(event)]
    if event.video_id:
        lines.append(f"Video: {event.video_id}" + (f" {video.url}" if video and video.url else ""))
        context = [f"account @{event.account}" if event.account else "", f"label {event.label}" if event.label else ""]
        if any(context):
            lines.append(", ".join(c for c in context if c).capitalize() + ".")
    lines.append(f"At {event.occurred_at:%Y-%m-%d %H:%M} UTC (rule {event.rule_id}, {event.kind}).")
    return Message(title, "\n".join(lines))


def channel_test_message() -> Message:
    return Message("viewtrail: test message", "This channel receives viewtrail alerts.")
