"""Alert messages: short and useful (what happened, the numbers, a link to the video, the label/account)."""

from __future__ import annotations

from dataclasses import dataclass

from viewtrail.alerts.evaluate import Candidate, VideoInfo, summary_numbers
from viewtrail.alerts.rules import human_count


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str


def _what(event: Candidate) -> str:
    n = event.numbers
    if event.kind == "spike":
        return "is taking off"
    if event.kind == "milestone":
        return f"crossed {human_count(n['threshold'])} views"
    if event.kind == "unavailable":
        return {"not_found": "disappeared (not found)", "private": "became private"}.get(
            n["outcome"], "became unavailable"
        )
    if event.kind == "stalled":
        return f"stalled for {n['days']} days"
    if event.kind == "goal":
        return "reached its goal" if event.condition == "reached" else "is behind its goal"
    return "quota exhausted" if event.condition == "quota" else "scraping is degraded"


def render(event: Candidate, video: VideoInfo | None = None) -> Message:
    """The message sent to every channel of the event's rule."""
    if event.video_id:
        name = video.title if video and video.title else event.video_id
        title = f"viewtrail: {name[:80]} {_what(event)}"
    elif event.kind == "goal":
        who = f"label {event.label}" if event.label else f"account {event.account}"
        title = f"viewtrail: {who} {_what(event)}"
    else:
        title = f"viewtrail: {event.platform} {_what(event)}"
    lines = [summary_numbers(event) + "."]
    if event.kind == "spike":
        lines.append(f"{event.numbers['views']:,} views in total.")
    if event.kind == "goal":
        lines.append(f"Target {human_count(event.numbers['target'])} views by {event.numbers['by']}.")
    if event.video_id:
        lines.append(f"Video: {event.video_id}" + (f" {video.url}" if video and video.url else ""))
        context = [f"account @{event.account}" if event.account else "", f"label {event.label}" if event.label else ""]
        if any(context):
            lines.append(", ".join(c for c in context if c).capitalize() + ".")
    lines.append(f"At {event.occurred_at:%Y-%m-%d %H:%M} UTC (rule {event.rule_id}, {event.kind}).")
    return Message(title, "\n".join(lines))


def channel_test_message() -> Message:
    return Message("viewtrail: test message", "This channel receives viewtrail alerts.")
