"""Editing and deleting a posted poll through the console, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import col

from bot.ports import FakeClock
from storage.db import Database
from storage.models import Job, OutboxMessage
from storage.voting import Ballot, Poll, PollOption, Topic
from tests.support import transcript

SETUP = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ben
:as cara
/cop join
:as ben
/cop poll new Which snack? options="Apples | Pears" closes="in 2 days" remind="1 day before"
"""

ZONE = ZoneInfo("America/New_York")


def _private(lines: list[str]) -> list[str]:
    return [x for x in lines if x.startswith("[private")]


async def _jobs(db: Database) -> dict[str, datetime]:
    async with db.session() as session:
        rows = await session.execute(select(col(Job.id), col(Job.due_at)))
        return {job_id: due.astimezone(UTC) for job_id, due in rows}


async def test_edit_each_field_updates_the_message_in_place_and_replans_jobs(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=ZONE))
    lines = await transcript(
        SETUP
        + """
        /cop poll edit 1 question="Which snack on Friday?"
        /cop poll edit 1 options="Apples | Pears | Plums"
        /cop poll edit 1 quorum=2
        /cop poll edit 1 closes="in 3 days"
        """,
        db=db,
        clock=clock,
        zone="America/New_York",
    )
    assert (
        _private(lines)[-4:]
        == ["[private @ben] Poll #1 is updated; its message in the channel shows the change."] * 4
    )
    updates = [i for i, x in enumerate(lines) if x.startswith("[#cop] (message 5 updated)")]
    assert len(updates) == 4
    last = updates[-1]
    assert lines[last : last + 6] == [
        "[#cop] (message 5 updated) Vote #1: Which snack on Friday?",
        "  (Single choice: pick one. Closes Thu 5 Nov 2026, 09:00 EST)",
        "  1. Apples  ░░░░░░░░░░ 0 (0%)",
        "  2. Pears   ░░░░░░░░░░ 0 (0%)",
        "  3. Plums   ░░░░░░░░░░ 0 (0%)",
        "  (0 of 3 channel members voted · quorum 2)",
    ]
    # The new deadline moved the close job and the reminder (one day before it).
    jobs = await _jobs(db)
    assert jobs["poll-close:1"] == datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
    assert jobs["poll-remind:1"] == datetime(2026, 11, 4, 14, 0, tzinfo=UTC)
    async with db.session() as session:
        poll = await session.get(Poll, 1)
        assert poll is not None and poll.quorum == 2 and poll.question == "Which snack on Friday?"


async def test_edit_refusals_change_nothing(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=ZONE))
    lines = await transcript(
        SETUP
        + """
        /cop poll edit 1
        /cop poll edit 1 question="Which snack?"
        /cop poll edit 9 quorum=3
        /cop poll edit 1 options="Apples"
        /cop poll edit 1 closes="yesterday"
        :as cara
        /cop poll edit 1 quorum=3
        :press Apples
        :as ben
        /cop poll edit 1 options="Apples | Plums"
        /cop poll close 1
        /cop poll edit 1 quorum=3
        :as ana
        :in #other
        /cop setup "Other CoP" UTC
        /cop poll edit 1 quorum=3
        """,
        db=db,
        clock=clock,
        zone="America/New_York",
    )
    assert _private(lines)[1:] == [
        "[private @ben] Say what to change: question=, options=, closes= or quorum=.",
        "[private @ben] Poll #1 already says that; nothing changed.",
        "[private @ben] There is no poll #9 in this community.",
        "[private @ben] A poll needs 2 to 25 options, not 1.",
        '[private @ben] I can\'t read "yesterday" as a time; try "in 3 days", "friday 17:00" or '
        '"2026-12-01 17:00".',
        "[private @cara] Only a facilitator of Finger Lakes CoP can do that.",
        "[private @cara] Your vote is saved: Apples. You can change it until the poll closes.",
        "[private @ben] Poll #1 already has ballots (1), so its options stay as they are: "
        "changing them would change what people voted for.",
        "[private @ben] Poll #1 is closed; the result is posted in the channel.",
        "[private @ben] Poll #1 has closed, so it can no longer be edited; reopen it first "
        "with /cop poll reopen.",
        "[private @ana] There is no poll #1 in this community.",
    ]
    async with db.session() as session:
        poll = await session.get(Poll, 1)
        assert poll is not None and poll.question == "Which snack?" and poll.quorum is None
        labels = (
            await session.execute(
                select(col(PollOption.label))
                .where(col(PollOption.poll_id) == 1)
                .order_by(col(PollOption.position))
            )
        ).scalars()
        assert list(labels) == ["Apples", "Pears"]


async def _rows_of_poll(db: Database, poll_id: int) -> dict[str, int]:
    async with db.session() as session:
        counts = {}
        for name, model, column in (
            ("polls", Poll, Poll.id),
            ("options", PollOption, PollOption.poll_id),
            ("ballots", Ballot, Ballot.poll_id),
        ):
            counts[name] = (
                await session.execute(
                    select(func.count()).select_from(model).where(col(column) == poll_id)
                )
            ).scalar_one()
        jobs = await session.execute(
            select(func.count()).select_from(Job).where(col(Job.id).like(f"poll-%:{poll_id}"))
        )
        counts["jobs"] = jobs.scalar_one()
        counts["pending messages"] = (
            await session.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    col(OutboxMessage.key).startswith(f"poll:{poll_id}:"),
                    col(OutboxMessage.status) != "sent",
                )
            )
        ).scalar_one()
        payloads = await session.execute(
            select(col(OutboxMessage.payload)).where(
                col(OutboxMessage.key).startswith(f"poll:{poll_id}:")
            )
        )
        counts["payloads naming it"] = sum("snack" in p for p in payloads.scalars())
        return counts


async def test_delete_asks_keeps_or_deletes_everything(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=ZONE))
    lines = await transcript(
        SETUP
        + """
        :as cara
        :press Pears
        :as ben
        /cop poll delete 1
        :press Keep it
        /cop poll delete 1
        :as ana
        /cop facilitator remove @ben
        :as ben
        :press 9 Delete poll
        :as ana
        /cop facilitator add @ben
        :as ben
        :press 9 Delete poll
        :press 9 Delete poll
        /cop poll list
        """,
        db=db,
        clock=clock,
        zone="America/New_York",
    )
    confirm = (
        '[private @ben] Delete poll #1 "Which snack?" with all its ballots? This cannot be undone.'
    )
    assert [x for x in _private(lines) if "ben" in x][1:] == [
        confirm,
        "[private @ben] Poll #1 is kept; nothing changed.",
        confirm,
        "[private @ben] Only a facilitator of Finger Lakes CoP can do that.",
        "[private @ben] Poll #1 is deleted, with its options and ballots.",
        "[private @ben] That button no longer works; please use the latest message.",
        "[private @ben] Recent polls in Finger Lakes CoP:",
    ]
    assert "[#cop] (message 5 updated) This poll was deleted." in lines
    assert "  No polls yet." in lines
    assert await _rows_of_poll(db, 1) == {
        "polls": 0,
        "options": 0,
        "ballots": 0,
        "jobs": 0,
        "pending messages": 0,
        "payloads naming it": 0,
    }


async def test_deleting_a_topic_poll_sends_its_topics_back_to_the_backlog(db: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=ZONE))
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup "Finger Lakes CoP" America/New_York
        /cop topics open What next?
        /cop topics propose Outdoor play
        /cop topics propose Transitions
        /cop topics vote
        /cop poll delete 1
        :press Delete poll
        /cop topics list
        """,
        db=db,
        clock=clock,
        zone="America/New_York",
    )
    assert "[private @ana] Poll #1 is deleted, with its options and ballots." in lines
    async with db.session() as session:
        statuses = (await session.execute(select(col(Topic.status)))).scalars()
        assert list(statuses) == ["backlog", "backlog"]
    at = lines.index("ana> /cop topics list")
    assert lines[at + 1 : at + 3] == [
        "[private @ana] Backlog (from earlier votes):",
        "  #1 Outdoor play (proposed by ana) — 0 in the last vote",
    ]
