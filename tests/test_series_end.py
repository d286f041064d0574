"""Ending a series (/cop meeting end-series): confirmed by a button, future meetings cancelled
with their jobs and unsent reminders, past meetings and attendance kept, members told once."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import App
from bot.events import ActionClicked, Actor, CommandInvoked, Place, Respond, UserRef
from bot.events import ConversationRef as Conv
from bot.ports import DeliveryError
from bot.ui import ActionId, CalendarEvent
from storage.db import Database
from storage.meetings import Meeting, MeetingAttendance, MeetingSeries
from storage.models import OutboxMessage
from tests.support import RecordingAdapter, job_ids, transcript
from tests.test_meetings_console import NY, SERIES, SETUP, headed, ny, replies


async def test_end_after_a_date_cancels_later_meetings_and_keeps_the_past(db: Database) -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES} reminders=1d
        :as cara
        :press Going
        :at 2026-12-02T09:00
        /cop meeting attended 1
        :at 2027-01-04T19:00
        :press Going
        :as dan
        :press Maybe
        :as eve
        :press Can't go
        :as ben
        /cop meeting end-series 1 after=2027-01-04
        :press End the series
        :press End the series
        /cop meeting attendance 1
        :at 2027-04-01T09:00
        """,
        db=db,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    out = replies(lines)
    assert (
        "[private @ben] End series 1, Monthly CoP, after 4 January 2027? This cancels 3 meetings "
        "(#2, #3, #4). Past meetings, their answers and attendance stay. Nothing changes unless you "
        "press the button."
    ) in out
    notice = (
        "The series “Monthly CoP” ends after 4 January 2027: 3 meetings are cancelled (#2, #3, #4)."
    )
    assert f"[private @ben] {notice} 2 people who answered going or maybe are told by DM." in out
    assert out.count(f"[#cop] {notice}") == 1
    assert f"[dm @cara] {notice}" in out and f"[dm @dan] {notice}" in out
    assert f"[dm @eve] {notice}" not in out  # she had said she can't come
    # The second press changes nothing and says why.
    assert (
        "[private @ben] Series 1 (Monthly CoP) already ends by then; give an earlier day to end it sooner."
        in out
    )
    # The reminder card of #2 turns into a cancellation.
    assert any(
        line.startswith("[#cop] (message") and "Cancelled: Monthly CoP." in line for line in out
    )
    # Past meeting and its attendance stay.
    assert "[private @ben] Attendance of meeting 1 (Monthly CoP, 90 minutes): 1 people." in out
    # Nothing more happens for the series: no reminder, no start or end of #2 to #4.
    after_end = lines[lines.index("ben> :at 2027-04-01T09:00") :]
    assert headed(after_end) == []

    async with db.session() as session:
        series = (await session.execute(select(MeetingSeries))).scalar_one()
        meetings = list((await session.execute(select(Meeting).order_by(Meeting.number))).scalars())
        attended = (await session.execute(select(MeetingAttendance))).scalars().all()
    assert series.until == datetime(2027, 1, 5, 5, 0, tzinfo=UTC)  # 5 Jan 00:00 EST
    assert series.deleted_at is None
    # No fifth meeting was materialised by the top-up at #1's end or later.
    assert [(m.number, m.status) for m in meetings] == [
        (1, "scheduled"),
        (2, "cancelled"),
        (3, "cancelled"),
        (4, "cancelled"),
    ]
    assert [a.user_id for a in attended] == ["cara"]
    jobs = await job_ids(db)
    for m in meetings[1:]:
        assert not {j for j in jobs if j.endswith(f":{m.id}") or f":{m.id}:" in j}, jobs


async def test_end_now_before_any_meeting_deletes_the_series() -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES}
        :as cara
        :press Going
        :as ben
        /cop meeting end-series 1
        :press End the series
        /cop meeting end-series 1
        /cop meeting ics series=1
        :press End the series
        """,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    out = replies(lines)
    assert (
        "[private @ben] End series 1, Monthly CoP, now? This cancels 3 meetings (#1, #2, #3). "
        "None of its meetings has happened yet, so the series is deleted. Nothing changes unless you "
        "press the button."
    ) in out
    notice = "The series “Monthly CoP” is deleted: 3 meetings are cancelled (#1, #2, #3)."
    assert f"[#cop] {notice}" in out
    assert f"[dm @cara] {notice}" in out
    assert any(
        line.startswith("[#cop] (message 4 updated) Cancelled: Monthly CoP.") for line in out
    )
    gone = "[private @ben] There is no series 1 in this community; see /cop meeting list."
    assert out.count(gone) == 2
    assert out[-1] == "[private @ben] Series 1 (Monthly CoP) has already ended."


async def test_end_now_keeps_past_meetings_and_the_series() -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES}
        :at 2026-12-02T09:00
        /cop meeting end-series 1
        /cop meeting list
        :press End the series
        """,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    out = replies(lines)
    # Only asking changes nothing.
    listed = lines[lines.index("ben> /cop meeting list") :]
    assert "  #2 Tue 5 Jan 2027, 18:30 EST — Monthly CoP (0 going, 0 maybe)" in listed
    assert (
        "[#cop] The series “Monthly CoP” has ended: 3 meetings are cancelled (#2, #3, #4)."
    ) in out


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        (
            "/cop meeting end-series 9",
            "There is no series 9 in this community; see /cop meeting list.",
        ),
        (
            "/cop meeting end-series 1 after=2027-02-30",
            "There is no date 2027-02-30; use a real calendar date such as 2026-12-08.",
        ),
        (
            "/cop meeting end-series 1 after=2026-11-09",
            "2026-11-09 is already over; give today or a later day, or leave out after= to end "
            "the series now.",
        ),
        (
            "/cop meeting end-series 1 after=june",
            "Give the last day with meetings as a date, such as after=2027-06-30.",
        ),
        (
            "/cop meeting end-series 1 after=3000-01-01",
            "The date 3000-01-01 is outside the years circlebot works with; use a date between "
            "1970 and 2100.",
        ),
    ],
)
async def test_bad_input_is_refused_in_one_sentence_and_changes_nothing(
    line: str, reply: str
) -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES}
        {line}
        /cop meeting list
        """,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    answer = lines[lines.index(f"ben> {line}") + 1]
    assert answer == f"[private @ben] {reply}"
    assert "— cancelled" not in "\n".join(lines)


async def test_members_and_other_communities_cannot_end_a_series() -> None:
    lines = await transcript(
        SETUP
        + f"""
        :as ben
        {SERIES}
        :as cara
        /cop meeting end-series 1
        :as ana admin
        :in #other
        /cop setup "Other CoP" America/Chicago
        /cop meeting end-series 1
        """,
        zone=NY,
        clock=ny(2026, 11, 10, 9, 0),
    )
    out = replies(lines)
    assert "[private @cara] Only a facilitator of Finger Lakes CoP can do that." in out
    assert (
        out[-1] == "[private @ana] There is no series 1 in this community; see /cop meeting list."
    )


# -- through the App: unsent reminders, native events, a member's press ------------------------

CHANNEL = Conv("fake", "W1", "C1")


def _actor(who: str) -> Actor:
    return Actor(UserRef("fake", "W1", who), who, is_admin=who == "ana")


async def _do(app: App, who: str, path: str, **params: str) -> str:
    event = CommandInvoked(_actor(who), Place(CHANNEL, "cop"), tuple(path.split()), params)
    reply = await app.dispatcher.handle(event)
    assert isinstance(reply, Respond)
    return reply.message.text


async def _press(app: App, who: str, action: ActionId) -> str:
    reply = await app.dispatcher.handle(ActionClicked(_actor(who), Place(CHANNEL), action))
    assert isinstance(reply, Respond)
    return reply.message.text


async def test_unsent_reminders_stay_unsent_and_platform_events_are_cancelled(db: Database) -> None:
    clock = ny(2026, 11, 10, 9, 0)
    adapter = RecordingAdapter()
    app = App(db, clock, [adapter], manual=True)
    await app.start()
    await _do(app, "ana", "setup", name="Circle", timezone="America/New_York")
    await _do(app, "ana", "facilitator add", user="ben")
    await _do(app, "cara", "join")
    params = {"schedule": "monthly on the first Tuesday at 18:30", "title": "Monthly CoP"}
    await _do(app, "ben", "meeting series", reminders="1w 1d", dm="yes", **params)
    await app.worker.drain()
    # The 1-week reminder of #1 is queued by its job; the platform is down, so it waits.
    adapter.failures.append(DeliveryError("ratelimited", transient=True, retry_after=600))
    await app.jobs.advance_to(clock.set, datetime(2026, 11, 24, 18, 31, tzinfo=ZoneInfo(NY)))
    async with db.session() as session:
        pending = (
            (await session.execute(select(OutboxMessage).where(OutboxMessage.status == "pending")))
            .scalars()
            .all()
        )
    assert any(row.key.startswith("reminder:") for row in pending)

    assert await _press(app, "cara", ActionId("series", "end", 1, "now")) == (
        "Only a facilitator of Circle can do that."
    )
    preview = await _do(app, "ben", "meeting end-series", series="1")
    assert preview.startswith("End series 1, Monthly CoP, now? This cancels 3 meetings")
    done = await _press(app, "ben", ActionId("series", "end", 1, "now"))
    assert done.startswith("The series “Monthly CoP” is deleted")
    sent_before = len(adapter.sent)
    await app.worker.drain()
    delivered = [s.message.text for s in adapter.sent[sent_before:] if s.kind == "send"]
    assert not any(text.startswith("Reminder:") for text in delivered), delivered
    async with db.session() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
        meetings = (await session.execute(select(Meeting))).scalars().all()
    assert not [r.key for r in rows if r.key.startswith("reminder:")]
    events = {
        r.key: CalendarEvent.model_validate_json(r.payload) for r in rows if r.kind == "event"
    }
    assert {f"event:{m.id}" for m in meetings} == set(events)
    assert all(e.cancelled for e in events.values())
    assert not {j for j in await job_ids(db) if not j.startswith("meeting-ahead:")}
    await app.stop()
