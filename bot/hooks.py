"""The hooks features emit and subscribe to, each with one typed payload.

One convention: ``await ctx.emit("meeting.start", MeetingStarted(...))`` runs every
subscriber as ``await fn(ctx, payload)`` inside the emitter's transaction, in the order
the features are listed, and returns what they returned (for hooks that collect, such as
``home.sections``). A feature never imports another feature: this is how they talk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class MeetingStarted:
    """A meeting's start time came (not sent when the bot was down past its end)."""

    community_id: int
    meeting_id: int
    starts_at: datetime | None = None  # the time it started at (a moved meeting's new one)


@dataclass(frozen=True)
class MeetingReminded:
    """A meeting's reminder went to the channel. `offset` is the reminder's ISO 8601 duration
    (``P1D``); `last` says it is the series' shortest, the one nearest the start."""

    community_id: int
    meeting_id: int
    starts_at: datetime
    offset: str
    last: bool


@dataclass(frozen=True)
class AgendaSections:
    """A meeting's agenda is being drawn: subscribers return blocks (`bot.ui.Section` or
    `bot.ui.Context`) to show under one of its CoP segments, in `language`. `segment` is the
    default segment's key (``welcome`` for "Welcome and agreements", ``sharing``, ...)."""

    community_id: int
    meeting_id: int
    segment: str
    language: str


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


@dataclass(frozen=True)
class MemberErasing:
    """A person asked to erase their data (`/cop my-data erase`); emitted once per community
    they belong to, in the erasing transaction, before their rows there are deleted. The
    context has no community: subscribers load it by id. A feature that showed the person's
    words somewhere (a shared answer in a thread) takes them back here."""

    community_id: int
    member_id: int


@dataclass(frozen=True)
class MeetingsChanged:
    """A community's meetings were planned anew by a person: a series made or edited, a
    meeting moved. Subscribers that time things by the meetings re-plan (idempotently)."""

    community_id: int


@dataclass(frozen=True)
class DigestSections:
    """The digest before a meeting is being drawn: each subscriber returns the blocks of what
    is new in its job since `since` (up to `until`), in `language`, or ``[]`` when it has
    nothing new. A digest whose subscribers all return nothing is not posted.
    `meeting_id` is the meeting the digest leads up to (None for one asked by DM with no
    meeting coming). `private_to` is the member who asked by DM (None for the channel post):
    a subscriber may show that member what only they may see, and nothing of anyone else."""

    community_id: int
    meeting_id: int | None
    since: datetime
    until: datetime
    language: str
    private_to: int | None = None


@dataclass(frozen=True)
class DigestFrame:
    """What a ``digest.sections`` subscriber returns (instead of a list of blocks) for what
    frames a digest rather than being news in it: the meeting's topic (`head`, shown first)
    and its RSVP buttons (`foot`, shown last). A frame is shown in a digest that has news and
    is never by itself a reason to post one."""

    head: list[Any]
    foot: list[Any]


@dataclass(frozen=True)
class SurveyWanted:
    """A network asks one of its communities to run its interest survey now (``/cop network
    survey start``). The subscriber opens one with the community's own focus areas (open for
    `days`, or the community's plan) unless one is open already, and returns a
    `SurveyStarted`."""

    community_id: int
    opened_by: str
    days: int | None = None


@dataclass(frozen=True)
class SurveyStarted:
    """What a ``survey.wanted`` subscriber returns: the survey that answers the network (the
    one it opened, or the one already open; None when the community has no focus areas) and
    `outcome`: ``opened``, ``already_open`` or ``no_areas``."""

    survey_id: int | None
    outcome: str


HOOKS: dict[str, type] = {
    "meeting.start": MeetingStarted,
    "meeting.end": MeetingEnded,
    "meeting.reminder": MeetingReminded,
    "agenda.sections": AgendaSections,
    "topic.chosen": TopicChosen,
    "member.joined": MemberJoined,
    "home.sections": HomeSections,
    "member.erasing": MemberErasing,
    "digest.sections": DigestSections,
    "meetings.changed": MeetingsChanged,
    "survey.wanted": SurveyWanted,
}
