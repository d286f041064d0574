"""The hooks features emit and subscribe to, each with one typed payload.

One convention: ``await ctx.emit("meeting.start", MeetingStarted(...))`` runs every
subscriber as ``await fn(ctx, payload)`` inside the emitter's transaction, in the order
the features are listed, and returns what they returned (for hooks that collect, such as
``home.sections``). A feature never imports another feature: this is how they talk.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MeetingStarted:
    """A meeting's start time came (not sent when the bot was down past its end)."""

    community_id: int
    meeting_id: int


@dataclass(frozen=True)
class MeetingEnded:
    """A meeting's end time came; attendance is being offered."""

    community_id: int
    meeting_id: int


@dataclass(frozen=True)
class TopicChosen:
    """A vote chose a topic for the community's next meeting."""

    community_id: int
    title: str


@dataclass(frozen=True)
class MemberJoined:
    """Someone joined the community's channel (or the community) for the first time."""

    community_id: int
    member_id: int


@dataclass(frozen=True)
class HomeSections:
    """The member's home is being drawn: subscribers return their blocks for one community."""

    community_id: int


HOOKS: dict[str, type] = {
    "meeting.start": MeetingStarted,
    "meeting.end": MeetingEnded,
    "topic.chosen": TopicChosen,
    "member.joined": MemberJoined,
    "home.sections": HomeSections,
}
