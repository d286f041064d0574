"""Messages of the meetings feature: the meeting card (announcement, reminder), notices, lists.

The card shows the time as `Time` (each viewer's own zone where the platform can), the agenda,
the join link, RSVP counts and the going / maybe / can't buttons; the same function renders it
for the first post and for in-place edits when answers change.

A reminder sent late says so in its headline (and so in the notification text), with the time
to the start as it was when the reminder went out ("starts in 12 minutes — sent late because
circlebot was offline"), never the planned offset. That time rides in the card kind
(``PT1H:late:720``: seconds to the start), so an in-place edit repeats the same headline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.meetings.core import (
    answered,
    counts,
    items,
    offset_words,
    parse_iso,
    schedule_of,
)
from bot.i18n import Translator
from bot.ui import (
    ActionId,
    Actions,
    Block,
    Button,
    Context,
    Inline,
    Mention,
    Message,
    Section,
    Time,
    plain,
)
from storage.meeting_roles import MeetingRoleKind
from storage.meetings import Meeting, MeetingSeries


def when(
    meeting: Meeting, series: MeetingSeries, *, original: bool = False, lang: str = "en"
) -> Time:
    at = meeting.occurrence_start if original else meeting.starts_at
    return Time(at=at, zone=series.tz, lang=lang)


def rsvp_buttons(t: Translator, meeting_id: int) -> Actions:
    return Actions(
        elements=[
            Button(
                action=ActionId("rsvp", answer, meeting_id),
                label=t(f"meetings.answer.{answer}"),
                style="primary" if answer == "going" else "default",
            )
            for answer in ("going", "maybe", "no")
        ]
    )


ROLES = tuple(kind.value for kind in MeetingRoleKind)  # share, lead, notes, host


def role_buttons(t: Translator, meeting_id: int) -> Actions:
    """One button per meeting role, in an actions block of its own under the RSVP buttons
    (`bot.features.meetings.roles` takes the press): four buttons fit one Discord action row
    (5 buttons a row) and stay far under Slack's 25 elements per actions block."""
    return Actions(
        elements=[
            Button(
                action=ActionId("role", "take", meeting_id, kind),
                label=t(f"meetings.roles.button.{kind}"),
            )
            for kind in ROLES
        ]
    )


# What other features show under a meeting's segments (the ``agenda.sections`` hook), by the
# segment's position in the agenda: the agreements under "Welcome and agreements", for one.
Extras = Mapping[int, Sequence[Section | Context]]


def agenda_sections(
    t: Translator, meeting: Meeting, series: MeetingSeries, extras: Extras | None = None
) -> list[Section | Context]:
    """Link, place, topic, objectives and segments of one meeting, with `extras` drawn right
    under the segments they belong to."""
    out: list[Section | Context] = []
    if series.link:
        out.append(Section.of(t("meetings.card.join", link=series.link)))
    if series.location:
        out.append(Section.of(t("meetings.card.where", location=series.location)))
    if meeting.topic:
        out.append(Section.of(t("meetings.card.topic", topic=meeting.topic)))
    objectives = items(meeting.objectives)
    if objectives:
        lines = [t("meetings.card.objectives"), *(f"• {o}" for o in objectives)]
        out.append(Section.of("\n".join(lines)))
    segments = items(meeting.segments)
    if segments:
        lines = [t("meetings.card.agenda")]
        for i, segment in enumerate(segments):
            lines.append(f"{i + 1}. {segment}")
            below = (extras or {}).get(i)
            if below:
                out.append(Section.of("\n".join(lines)))
                out.extend(below)
                lines = []
        if lines:
            out.append(Section.of("\n".join(lines)))
    return out


LATE = "late"


def late_kind(iso: str, to_start: timedelta) -> str:
    """The card kind of reminder `iso` sent late, `to_start` before the meeting (negative after).

    >>> late_kind("PT1H", timedelta(minutes=12, seconds=5))
    'PT1H:late:725'
    """
    return f"{iso}:{LATE}:{int(to_start.total_seconds())}"


def span_words(t: Translator, span: timedelta) -> str:
    """`span` in its two largest units, rounded down (``2 days 3 hours``, ``1 hour 5 minutes``).

    Rounding down keeps a "starts in" phrase from promising more time than there is.
    """
    minutes = int(span.total_seconds()) // 60
    for size in (10080, 1440, 60):
        if minutes >= size:
            # Keep this unit and the next one down: drop anything smaller.
            smaller = {10080: 1440, 1440: 60, 60: 1}[size]
            minutes -= minutes % smaller
            break
    return offset_words(t, timedelta(minutes=minutes))


def reminder_headline(t: Translator, title: str, offset: timedelta, flag: str) -> str:
    """The reminder's first sentence; `flag` is ``""``, ``late`` or ``late:<seconds to start>``."""
    late, _, seconds = flag.partition(":")
    if late != LATE:
        return t("meetings.card.reminder", title=title, offset=offset_words(t, offset))
    # A card stored before the time to the start was recorded: the planned offset is all we know.
    to_start = timedelta(seconds=int(seconds)) if seconds else offset
    if to_start >= timedelta(minutes=1):
        return t("meetings.card.reminder_late", title=title, span=span_words(t, to_start))
    if to_start > timedelta(0):
        return t("meetings.card.reminder_late_soon", title=title)
    if to_start > -timedelta(minutes=1):
        return t("meetings.card.reminder_late_now", title=title)
    return t("meetings.card.reminder_started", title=title, span=span_words(t, -to_start))


async def card(
    session: AsyncSession,
    t: Translator,
    meeting: Meeting,
    series: MeetingSeries,
    kind: str,
    extras: Extras | None = None,
) -> Message:
    """The meeting card; `kind` is ``announce``, ``cancelled`` or a reminder offset (``P1D``,
    or ``PT1H:late:720`` from `late_kind`). The reminder with the series' shortest offset lists
    who is going. `extras` (from ``find.agenda_extras``) go under their agenda segments."""
    assert meeting.id is not None
    offset_iso, _, flag = kind.partition(":")
    if kind == "announce":
        headline = t(
            "meetings.card.announce", title=series.title, schedule=schedule_of(series).describe(t)
        )
    elif kind == "cancelled":
        headline = t("meetings.card.cancelled", title=series.title)
    else:
        headline = reminder_headline(t, series.title, parse_iso(offset_iso), flag)
    blocks: list[Block] = [Section.of(headline)]
    when_parts: list[Inline] = t.parts(
        "meetings.card.when",
        meeting.duration_minutes,
        when=when(meeting, series, lang=t.lang),
    )
    blocks.append(Section(parts=when_parts))
    if meeting.starts_at != meeting.occurrence_start:
        original = when(meeting, series, original=True, lang=t.lang)
        blocks.append(Context(parts=t.parts("meetings.card.moved_note", when=original)))
    if kind == "cancelled":
        return Message(text=f"{headline} {plain(when_parts)}", blocks=blocks)
    blocks.extend(agenda_sections(t, meeting, series, extras))
    shortest = min((parse_iso(v) for v in series.reminders.split()), default=None)
    if kind not in ("announce",) and shortest is not None and parse_iso(offset_iso) == shortest:
        going = await answered(session, meeting.id, ("going",))
        if going:
            parts: list[Inline] = [t("meetings.card.going")]
            for i, member in enumerate(going):
                if i:
                    parts.append(", ")
                parts.append(Mention(user_id=member.user_id, name=member.display_name))
            blocks.append(Section(parts=parts))
        else:
            blocks.append(Section.of(t("meetings.card.nobody_going")))
    n = await counts(session, meeting.id)
    blocks.append(Context(parts=[t("meetings.card.counts", id=meeting.number, **n)]))
    blocks.append(rsvp_buttons(t, meeting.id))
    blocks.append(role_buttons(t, meeting.id))
    return Message(text=f"{headline} {plain(when_parts)}", blocks=blocks)
