"""Load on the production job runner: many series created at once, many reminders due at once.

The app runs as in production (`App(..., manual=False)`: the JobRunner with its APScheduler
timer and bounded concurrency, the delivery worker in the background). The clock is a fake
one, set well ahead of real time so the timer never fires by itself: a test moves the clock
and wakes the runner, as the timer would at the due time. Every wait is on a condition in the
database or the recording adapter, with a generous timeout.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.events import (
    Actor,
    CommandInvoked,
    ConversationRef,
    MessageRef,
    Place,
    Respond,
    UserRef,
)
from bot.jobs import Schedule
from bot.ports import FakeClock
from bot.ui import Message
from storage.db import Database
from storage.meetings import Meeting, MeetingSeries
from storage.models import Community, Job, JobStatus, OutboxMessage
from tests.support import RecordingAdapter, Sent

ADMIN = Actor(UserRef("fake", "W1", "ana"), "ana", is_admin=True)


def _ahead_of_real_time() -> datetime:
    """A Wednesday 09:00 UTC a year from now: the timer's wake-ups all lie in the real future."""
    day = (datetime.now(UTC) + timedelta(days=365)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    return day + timedelta(days=(2 - day.weekday()) % 7)


class Signals(RecordingAdapter):
    """The recording adapter, plus a signal when `want` channel messages have been sent."""

    def __init__(self, want: int) -> None:
        super().__init__()
        self.want = want
        self.enough = asyncio.Event()

    async def send(self, to: ConversationRef, msg: Message) -> MessageRef:
        ref = await super().send(to, msg)
        if msg.text.startswith("Reminder: ") and len(self.reminders()) >= self.want:
            self.enough.set()
        return ref

    def reminders(self) -> list[Sent]:
        return [s for s in self.sent if s.message.text.startswith("Reminder: ")]


class Ran:
    """`App(after_job=...)`: which jobs ran (committed), and a signal when `want` of a kind did."""

    def __init__(self, prefix: str, want: int) -> None:
        self.prefix, self.want = prefix, want
        self.ids: list[str] = []
        self.enough = asyncio.Event()

    async def __call__(self, job_id: str) -> None:
        self.ids.append(job_id)
        if sum(i.startswith(self.prefix) for i in self.ids) >= self.want:
            self.enough.set()


async def _signalled(what: str, event: asyncio.Event, timeout: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None


async def _count(db: Database, model: type, *where: object) -> int:
    async with db.session() as session:
        return (
            await session.execute(select(func.count()).select_from(model).where(*where))  # type: ignore[arg-type]
        ).scalar_one()


def _channel(i: int) -> Place:
    return Place(ConversationRef("fake", "W1", f"C{i:05d}"), "cop")


async def _command(app: App, place: Place, path: str, **params: str) -> str:
    reply = await app.dispatcher.handle(CommandInvoked(ADMIN, place, tuple(path.split()), params))
    assert isinstance(reply, Respond), reply
    return reply.message.text


# -- 30 series at once ---------------------------------------------------------------------------


async def test_thirty_series_created_at_once_in_production_mode_all_remind(db) -> None:
    clock = FakeClock(_ahead_of_real_time())
    adapter = Signals(want=30)
    ran = Ran("reminder:", want=30)
    app = App(db, clock, [adapter], manual=False, after_job=ran)
    await app.start()
    try:
        for i in range(30):
            text = await _command(app, _channel(i), "setup", name=f"CoP {i}", timezone="UTC")
            assert "is set up in this channel" in text, text
        replies = await asyncio.gather(
            *(
                _command(
                    app,
                    _channel(i),
                    "meeting series",
                    schedule="weekly on Tuesday at 18:30",
                    title=f"Circle {i}",
                    duration="60",
                    reminders="1d 1h",
                )
                for i in range(30)
            )
        )
        assert all(r.startswith("Series ") and " created" in r for r in replies), replies

        async with db.session() as session:
            series = list((await session.execute(select(MeetingSeries))).scalars())
            meetings = list((await session.execute(select(Meeting))).scalars())
            jobs = {j.id: j for j in (await session.execute(select(Job))).scalars()}
        assert len(series) == 30
        assert Counter(s.community_id for s in series) == {s.community_id: 1 for s in series}
        for s in series:
            mine = [m for m in meetings if m.series_id == s.id]
            assert mine, f"series {s.id} has no meetings"
            for m in mine:
                for iso in ("P1D", "PT1H"):
                    job = jobs.get(f"reminder:{m.id}:{iso}")
                    assert job is not None, f"series {s.id}: no {iso} reminder for meeting {m.id}"
                    assert job.status == JobStatus.PENDING and job.community_id == s.community_id
        first = min(m.starts_at for m in meetings)
        firsts = {m.id for m in meetings if m.starts_at == first}
        assert len(firsts) == 30  # one schedule, one zone: every community meets at that time

        # The day-before reminder of every first meeting falls due; the timer would ring now.
        clock.set(first - timedelta(days=1) + timedelta(seconds=30))
        app.jobs.wake()
        keys = {f"reminder:{m}:P1D" for m in firsts}
        await _signalled("30 reminder jobs", ran.enough, 30)
        assert sorted(i for i in ran.ids if i.startswith("reminder:")) == sorted(keys)
        assert await _count(db, OutboxMessage, OutboxMessage.key.in_(keys)) == 30
        await _signalled("30 reminders delivered", adapter.enough, 30)
        reminders = adapter.reminders()
        assert sorted(s.target for s in reminders) == [f"C{i:05d}" for i in range(30)]
        assert await _count(db, Job, Job.status == JobStatus.FAILED) == 0
    finally:
        await app.stop()


# -- 1,000 reminders due in one minute -----------------------------------------------------------


async def _seed(db: Database, clock: FakeClock, n: int, starts: datetime) -> list[int]:
    """`n` communities, each with one series and one meeting at `starts`, reminded 1 hour before.

    Written directly through the storage models and `Schedule`, as the series command would
    leave them (the top-up job included, so reconciling at start finds nothing to repair).
    """
    async with db.session() as session:
        communities = [
            Community(
                platform="fake",
                workspace_id="W1",
                channel_id=f"C{i:05d}",
                name=f"CoP {i}",
                timezone="UTC",
                created_by="ana",
            )
            for i in range(n)
        ]
        session.add_all(communities)
        await session.flush()
        series = [
            MeetingSeries(
                community_id=c.id,
                number=1,
                title=f"Circle {c.id}",
                schedule="weekly on Tuesday at 18:30",
                tz="UTC",
                reminders="PT1H",
                first_start=starts,
                created_by="ana",
            )
            for c in communities
        ]
        session.add_all(series)
        await session.flush()
        meetings = [
            Meeting(
                community_id=s.community_id,
                number=1,
                series_id=s.id,
                occurrence_start=starts,
                starts_at=starts,
                timing_set_at=clock.now(),
                segments=json.dumps([]),
            )
            for s in series
        ]
        session.add_all(meetings)
        await session.flush()
        plan = Schedule(session, clock, lambda: None, lambda _when: None)
        for s, m in zip(series, meetings, strict=True):
            await plan.at(
                f"reminder:{m.id}:PT1H",
                starts - timedelta(hours=1),
                "meeting.remind",
                [m.id, "PT1H"],
                community_id=m.community_id,
            )
            await plan.at(
                f"meeting-ahead:{s.id}",
                starts,
                "meeting.ahead",
                [s.id],
                community_id=s.community_id,
            )
    return [m.id for m in meetings if m.id is not None]


async def _reminders_due_together(db: Database, n: int) -> None:
    now = _ahead_of_real_time()
    clock = FakeClock(now)
    starts = now + timedelta(hours=3)
    meeting_ids = await _seed(db, clock, n, starts)
    adapter = Signals(want=n)
    ran = Ran("reminder:", want=n)
    app = App(db, clock, [adapter], manual=False, after_job=ran)
    await app.start()
    try:
        await asyncio.wait_for(app.reconciled.wait(), 60)
        assert await _count(db, OutboxMessage) == 0  # nothing is due yet
        # Past the minute in which all of them fall due; the timer would ring now.
        clock.set(starts - timedelta(hours=1) + timedelta(minutes=1))
        began = time.perf_counter()
        app.jobs.wake()

        await _signalled(f"{n} reminder jobs", ran.enough, 60 + n / 5)
        queued = time.perf_counter() - began
        # Each job queued its reminder and deleted itself in one transaction.
        assert await _count(db, OutboxMessage, OutboxMessage.key.like("reminder:%")) == n
        assert await _count(db, Job, Job.id.like("reminder:%")) == 0
        await _signalled(f"{n} reminders delivered", adapter.enough, 60 + n / 5)
        delivered = time.perf_counter() - began
    finally:
        await app.stop()
    print(
        f"\n{n} reminders on {db.dialect}: queued in {queued:.2f} s, delivered in {delivered:.2f} s"
    )

    assert await _count(db, OutboxMessage) == n  # nothing else, and no key twice (it is unique)
    assert await _count(db, OutboxMessage, OutboxMessage.status == "sent") == n
    assert await _count(db, Job, Job.status == JobStatus.FAILED) == 0
    assert await _count(db, Job, Job.id.like("meeting-ahead:%")) == n  # left for later
    # Each reminder ran once (the digest's jobs for these meetings run too, and post nothing:
    # nothing is new in a community that only has a meeting).
    reminders = Counter(i for i in ran.ids if i.startswith("reminder:"))
    assert reminders == {f"reminder:{m}:PT1H": 1 for m in meeting_ids}
    assert len(adapter.sent) == n
    assert all(s.kind == "send" and s.message.text.startswith("Reminder: ") for s in adapter.sent)
    assert sorted(s.target for s in adapter.sent) == [f"C{i:05d}" for i in range(n)]


async def test_a_hundred_reminders_due_in_one_minute_all_reach_the_outbox_once(db) -> None:
    await _reminders_due_together(db, 100)


@pytest.mark.long
async def test_a_thousand_reminders_due_in_one_minute_all_reach_the_outbox_once(db) -> None:
    await _reminders_due_together(db, 1000)
