"""The member's own side of reflection check-ins, on SQLite and PostgreSQL: one nudge per round
and never in quiet hours (in the member's own zone, across a daylight-saving change), pause and
resume, opting out of one check-in, commitments asked back before the next meeting, the journal
(one's own answers, newest first) and retention (old text deleted, counts kept)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from bot.app import App
from bot.context import background
from bot.events import (
    ActionClicked,
    Actor,
    CommandInvoked,
    FormErrors,
    FormSubmitted,
    OpenForm,
    Place,
    Reply,
    Respond,
    UserRef,
)
from bot.events import ConversationRef as Conv
from bot.features.reflections import member
from bot.features.reflections.member_prefs import quiet_until
from bot.features.reflections.nudges import nudge_job_id
from bot.ports import FakeClock
from bot.ui import ActionId, Actions, Button, Message
from storage.db import Database
from storage.models import Member, OutboxMessage
from storage.reflections import (
    Checkin,
    CheckinAnswer,
    CheckinCommitment,
    CheckinDelivery,
    CheckinRound,
    CommitmentStatus,
    RoundStatus,
)
from tests.support import RecordingAdapter, job_ids, schedule_job, transcript

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
CHANNEL = Conv("fake", "W1", "C1")
QUESTIONS = [
    {"text": "What did I notice?", "kind": "text"},
    {"text": "One strategy I'll try before we meet again", "kind": "text", "commitment": True},
]


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


class Bot:
    """An App on a recording adapter, driven by events as an adapter would."""

    def __init__(self, url: str, clock: FakeClock) -> None:
        self.db = Database(url)
        self.clock = clock
        self.adapter = RecordingAdapter()
        self.app = App(self.db, clock, [self.adapter], manual=True)

    def actor(self, who: str) -> Actor:
        return Actor(UserRef("fake", "W1", who), who, is_admin=who == "ana")

    def place(self, who: str, dm: bool) -> Place:
        return Place(Conv("fake", "W1", f"D-{who}"), is_dm=True) if dm else Place(CHANNEL, "cop")

    async def handle(self, event: CommandInvoked | ActionClicked | FormSubmitted) -> Reply:
        reply = await self.app.dispatcher.handle(event)
        await self.app.worker.drain()
        return reply

    async def cmd(self, who: str, path: str, *, dm: bool = False, **params: str) -> str:
        event = CommandInvoked(self.actor(who), self.place(who, dm), tuple(path.split()), params)
        reply = await self.handle(event)
        assert isinstance(reply, Respond), reply
        # The member commands answer privately; setup and join may speak in the channel.
        assert reply.private or path in ("setup", "join", "facilitator add", "meeting series")
        return reply.message.text

    async def press(self, who: str, action: str) -> Reply:
        return await self.handle(
            ActionClicked(self.actor(who), self.place(who, True), ActionId.parse(action))
        )

    async def submit(self, who: str, form_id: str, metadata: str, **values: str) -> Reply:
        return await self.handle(
            FormSubmitted(
                actor=self.actor(who),
                place=self.place(who, True),
                form_id=form_id,
                values=values,
                metadata=metadata,
            )
        )

    def dms(self, who: str) -> list[Message]:
        return [s.message for s in self.adapter.sent if s.kind == "dm" and s.target == who]

    def posts(self) -> list[Message]:
        return [s.message for s in self.adapter.sent if s.kind == "send"]

    async def member_id(self, who: str) -> int:
        async with self.db.session() as session:
            row = (
                await session.execute(select(Member).where(col(Member.user_id) == who))
            ).scalar_one()
            return row.id

    async def stop(self) -> None:
        await self.app.stop()
        await self.db.dispose()


async def started(url: str, clock: FakeClock, zone: str = "America/New_York") -> Bot:
    bot = Bot(url, clock)
    await bot.app.start()
    await bot.cmd("ana", "setup", name="Circle", timezone=zone)
    await bot.cmd("ana", "facilitator add", user="ben")
    for who in ("cara", "dan"):
        await bot.cmd(who, "join")
    return bot


async def a_checkin(bot: Bot, number: int = 1, title: str = "After the meeting") -> int:
    """A check-in of the community, as the core would store it; returns its id."""
    async with bot.db.session() as session:
        row = Checkin(
            community_id=1,
            number=number,
            title=title,
            questions=json.dumps(QUESTIONS),
            timing="after",
            days=2,
            tz="America/New_York",
            open_minutes=7 * 24 * 60,
            nudges="P2D",
            created_by="ben",
        )
        session.add(row)
        await session.flush()
        return row.id


async def a_round(
    bot: Bot,
    checkin_id: int,
    opens: datetime,
    *,
    number: int = 1,
    days: int = 5,
    who=("cara", "dan"),
) -> int:
    """An open round asked of `who` (deliveries written as the core writes them)."""
    ids = [await bot.member_id(w) for w in who]
    async with bot.db.session() as session:
        rnd = CheckinRound(
            community_id=1,
            checkin_id=checkin_id,
            number=number,
            questions=json.dumps(QUESTIONS),
            opens_at=opens,
            closes_at=opens + timedelta(days=days),
            status=RoundStatus.OPEN,
            post_key=None,
            asked=len(ids),
        )
        session.add(rnd)
        await session.flush()
        for member_id in ids:
            session.add(
                CheckinDelivery(
                    community_id=1,
                    round_id=rnd.id,
                    member_id=member_id,
                    dm_key=f"test:{rnd.id}:{member_id}",
                    asked_at=opens,
                )
            )
        return rnd.id


async def an_answer(
    bot: Bot, round_id: int, who: str, question: int, text: str, when: datetime
) -> int:
    """An answer stored sealed, as the core's form stores it; returns its id."""
    member_id = await bot.member_id(who)
    async with bot.db.session() as session:
        row = CheckinAnswer(
            community_id=1,
            round_id=round_id,
            member_id=member_id,
            question=question,
            sealed="",
            created_at=when,
            updated_at=when,
        )
        session.add(row)
        await session.flush()
        row.sealed = bot.app.services.sealer.seal(text, f"reflection:{row.id}:{question}")
        session.add(row)
        delivery = (
            await session.execute(
                select(CheckinDelivery).where(
                    col(CheckinDelivery.round_id) == round_id,
                    col(CheckinDelivery.member_id) == member_id,
                )
            )
        ).scalar_one_or_none()
        if delivery is not None:
            delivery.answered_at = delivery.answered_at or when
            session.add(delivery)
        return row.id


async def nudge(bot: Bot, round_id: int, when: datetime) -> None:
    """Run the nudge job at `when`, the way the core schedules it."""
    await schedule_job(bot.app, f"test-nudge:{round_id}", when, "reflections.nudge", [round_id])
    await bot.app.advance_to(when)


async def deliveries(bot: Bot, round_id: int) -> dict[int, CheckinDelivery]:
    async with bot.db.session() as session:
        rows = await session.execute(
            select(CheckinDelivery).where(col(CheckinDelivery.round_id) == round_id)
        )
        return {d.member_id: d for d in rows.scalars()}


def nudges_in(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m.text.startswith("A gentle reminder")]


# -- nudges ------------------------------------------------------------------------------------


async def test_one_nudge_per_round_however_often_the_job_runs(db_url) -> None:
    clock = FakeClock(ny(2026, 11, 2, 9, 0))
    bot = await started(db_url, clock)
    try:
        round_id = await a_round(bot, await a_checkin(bot), ny(2026, 11, 2, 10, 0))
        await an_answer(bot, round_id, "dan", 0, "dan noticed something", ny(2026, 11, 2, 12, 0))
        await nudge(bot, round_id, ny(2026, 11, 4, 10, 0))
        await nudge(bot, round_id, ny(2026, 11, 4, 15, 0))  # again, hours later
        [sent] = nudges_in(bot.dms("cara"))
        assert "“After the meeting” of Circle" in sent.text
        assert "the only reminder for this round" in sent.text
        assert nudges_in(bot.dms("dan")) == []  # answered
        assert bot.posts() == []  # never public
        cara, dan = await bot.member_id("cara"), await bot.member_id("dan")
        rows = await deliveries(bot, round_id)
        assert (rows[cara].nudges, rows[cara].nudged_at) == (1, ny(2026, 11, 4, 10, 0))
        assert rows[dan].nudges == 0
    finally:
        await bot.stop()


async def test_quiet_hours_are_the_members_own_across_a_dst_change(db_url) -> None:
    """cara lives in New York, the community in London: the job runs at 23:00 New York time
    on the night the clocks go back, and cara is nudged at 08:00 New York time the next
    morning (13:00 UTC, ten hours later); dan, in London's morning, is nudged at once."""
    clock = FakeClock(ny(2026, 10, 30, 9, 0))
    bot = await started(db_url, clock, zone="Europe/London")
    try:
        cara = await bot.member_id("cara")
        async with bot.db.session() as session:
            row = await session.get(Member, cara)
            assert row is not None
            row.timezone = "America/New_York"
            session.add(row)
        round_id = await a_round(bot, await a_checkin(bot), ny(2026, 10, 30, 10, 0))
        # 23:00 in New York is 03:00 in London: dan's quiet hours too, until 08:00 London.
        await nudge(bot, round_id, ny(2026, 10, 31, 23, 0))
        assert nudges_in(bot.dms("cara")) == [] and nudges_in(bot.dms("dan")) == []
        assert nudge_job_id(round_id, cara) in await job_ids(bot.db)
        await bot.app.advance_to(datetime(2026, 11, 1, 8, 0, tzinfo=LONDON))
        assert len(nudges_in(bot.dms("dan"))) == 1
        assert nudges_in(bot.dms("cara")) == []
        await bot.app.advance_to(ny(2026, 11, 1, 7, 59))
        assert nudges_in(bot.dms("cara")) == []
        await bot.app.advance_to(ny(2026, 11, 1, 8, 0))
        assert len(nudges_in(bot.dms("cara"))) == 1
        rows = await deliveries(bot, round_id)
        nudged = rows[cara].nudged_at
        assert nudged == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)
        assert nudged is not None and nudged.astimezone(NY).time() == time(8, 0)
    finally:
        await bot.stop()


def test_quiet_hours_end_at_local_eight_on_both_daylight_saving_changes() -> None:
    start, end = time(20, 0), time(8, 0)
    # Spring forward (8 March 2026): 23:00 EST to 08:00 EDT is 8 hours.
    spring = quiet_until(ny(2026, 3, 7, 23, 0), NY, start, end)
    assert spring == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    # Fall back (1 November 2026): 23:00 EDT to 08:00 EST is 10 hours.
    autumn = quiet_until(ny(2026, 10, 31, 23, 0), NY, start, end)
    assert autumn == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)
    assert quiet_until(ny(2026, 11, 2, 12, 0), NY, start, end) is None
    assert quiet_until(ny(2026, 11, 2, 5, 0), NY, start, end) == ny(2026, 11, 2, 8, 0)


async def test_no_nudge_when_quiet_hours_last_past_the_close(db_url) -> None:
    clock = FakeClock(ny(2026, 11, 2, 9, 0))
    bot = await started(db_url, clock)
    try:
        # Opens at 22:00, closes at 07:00 the next morning: every hour of it is quiet.
        opens = ny(2026, 11, 2, 22, 0)
        round_id = await a_round(bot, await a_checkin(bot), opens, days=0)
        async with bot.db.session() as session:
            rnd = await session.get(CheckinRound, round_id)
            assert rnd is not None
            rnd.closes_at = ny(2026, 11, 3, 7, 0)
            session.add(rnd)
        await nudge(bot, round_id, ny(2026, 11, 2, 23, 0))
        assert not any(j.startswith("reflections.nudge:") for j in await job_ids(bot.db))
        await bot.app.advance_to(ny(2026, 11, 3, 12, 0))
        assert nudges_in(bot.dms("cara")) == []
    finally:
        await bot.stop()


async def test_own_quiet_hours(db_url) -> None:
    clock = FakeClock(ny(2026, 11, 2, 9, 0))
    bot = await started(db_url, clock)
    try:
        said = await bot.cmd("cara", "checkins quiet", hours="21:00-07:30")
        assert said == (
            "No reminders will reach you between 21:00 and 07:30 in your own time zone, for Circle."
        )
        refused = await bot.cmd("cara", "checkins quiet", hours="9pm-7am")
        assert refused.startswith("I couldn't read 9pm-7am as quiet hours")
        round_id = await a_round(bot, await a_checkin(bot), ny(2026, 11, 2, 10, 0))
        await nudge(bot, round_id, ny(2026, 11, 3, 20, 30))  # quiet for dan only (20:00)
        assert len(nudges_in(bot.dms("cara"))) == 1 and nudges_in(bot.dms("dan")) == []
        await nudge(bot, round_id, ny(2026, 11, 3, 21, 30))
        await bot.app.advance_to(ny(2026, 11, 4, 7, 59))
        assert nudges_in(bot.dms("dan")) == []
        await bot.app.advance_to(ny(2026, 11, 4, 8, 0))
        assert len(nudges_in(bot.dms("dan"))) == 1
        assert len(nudges_in(bot.dms("cara"))) == 1
    finally:
        await bot.stop()


# -- pause, resume, opt out --------------------------------------------------------------------


async def may_ask(bot: Bot, who: str, number: int | None = None) -> bool:
    member_id = await bot.member_id(who)
    async with bot.db.session() as session:
        return await member.may_ask(session, 1, member_id, bot.clock.now(), checkin_number=number)


async def test_pause_and_resume(db_url) -> None:
    clock = FakeClock(ny(2026, 11, 2, 9, 0))
    bot = await started(db_url, clock)
    try:
        for bad, sentence in [
            ("3x", "I couldn't read 3x as a pause"),
            ("0d", "A pause has to end in the future"),
            ("60w", "A pause can last at most a year"),
            ("2026-10-01", "A pause has to end in the future"),
        ]:
            assert (await bot.cmd("cara", "checkins pause", duration=bad)).startswith(sentence)
        assert await may_ask(bot, "cara")
        said = await bot.cmd("cara", "checkins pause", duration="3w")
        assert said == (
            "Check-ins from Circle are paused for you (no questions, reminders or check-backs) "
            "until Mon 23 Nov 2026."
        )
        assert not await may_ask(bot, "cara")
        assert await may_ask(bot, "dan")
        round_id = await a_round(bot, await a_checkin(bot), ny(2026, 11, 2, 10, 0))
        await nudge(bot, round_id, ny(2026, 11, 3, 10, 0))
        assert nudges_in(bot.dms("cara")) == [] and len(nudges_in(bot.dms("dan"))) == 1

        # Resumed from a DM (her only community): asked and nudged again.
        said = await bot.cmd("cara", "checkins resume", dm=True)
        assert said == "Check-ins from Circle will reach you again from the next round."
        assert await may_ask(bot, "cara")
        await nudge(bot, round_id, ny(2026, 11, 3, 11, 0))
        assert len(nudges_in(bot.dms("cara"))) == 1

        # A pause to a date ends where the member lives, at the start of that day.
        await bot.cmd("cara", "checkins pause", duration="2026-11-20")
        clock.set(ny(2026, 11, 19, 23, 59))
        assert not await may_ask(bot, "cara")
        clock.set(ny(2026, 11, 20, 0, 0))
        assert await may_ask(bot, "cara")
    finally:
        await bot.stop()


async def test_opt_out_of_one_checkin(db_url) -> None:
    clock = FakeClock(ny(2026, 11, 2, 9, 0))
    bot = await started(db_url, clock)
    try:
        first = await a_checkin(bot, 1, "After the meeting")
        second = await a_checkin(bot, 2, "Weekly")
        assert (await bot.cmd("cara", "checkins optout", number="7")) == (
            "There is no check-in 7 in this community."
        )
        said = await bot.cmd("cara", "checkins optout", number="1")
        assert said == (
            "You will not be asked check-in 1 (“After the meeting”) any more; "
            "/cop checkins optin 1 undoes it."
        )
        assert not await may_ask(bot, "cara", 1)
        assert await may_ask(bot, "cara", 2)
        assert await may_ask(bot, "dan", 1)
        r1 = await a_round(bot, first, ny(2026, 11, 2, 10, 0))
        r2 = await a_round(bot, second, ny(2026, 11, 2, 10, 0))
        await nudge(bot, r1, ny(2026, 11, 3, 10, 0))
        await nudge(bot, r2, ny(2026, 11, 3, 11, 0))
        cara = nudges_in(bot.dms("cara"))
        assert [("Weekly" in m.text) for m in cara] == [True]
        assert len(nudges_in(bot.dms("dan"))) == 2
        said = await bot.cmd("cara", "checkins optin", number="1")
        assert (
            said == "You will be asked check-in 1 (“After the meeting”) again from its next round."
        )
        assert await may_ask(bot, "cara", 1)
    finally:
        await bot.stop()


# -- commitments --------------------------------------------------------------------------------


async def test_a_commitment_is_asked_back_before_the_next_meeting(
    db_url, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock(ny(2026, 11, 2, 9, 0))
    bot = await started(db_url, clock)
    try:
        text = await bot.cmd(
            "ana",
            "meeting series",
            schedule="monthly on the first Tuesday at 18:30",
            title="Monthly CoP",
            duration="90",
        )
        assert text.startswith("Series 1 created"), text
        round_id = await a_round(bot, await a_checkin(bot), ny(2026, 11, 5, 10, 0))
        await bot.app.advance_to(ny(2026, 11, 5, 12, 0))
        tried = "Offer two choices at clean-up time"
        answer_id = await an_answer(bot, round_id, "cara", 1, tried, clock.now())
        async with background(bot.app.services) as ctx:
            answer = await ctx.session.get(CheckinAnswer, answer_id)
            assert answer is not None
            await member.commitment_from_answer(ctx, answer, tried)
        # The next meeting is Tue 1 Dec 18:30: asked on Sun 29 Nov at 18:30, not before.
        await bot.app.advance_to(ny(2026, 11, 29, 18, 29))
        assert [m for m in bot.dms("cara") if "You said you'd try" in m.text] == []
        await bot.app.advance_to(ny(2026, 11, 29, 18, 30))
        [ask] = [m for m in bot.dms("cara") if "You said you'd try" in m.text]
        assert ask.text.startswith(f"You said you'd try: “{tried}”. Did you?")
        [row] = [b for b in ask.blocks if isinstance(b, Actions)]
        labels = [e.label for e in row.elements if isinstance(e, Button)]
        assert labels == ["Tried it", "Not yet", "Drop it", "Tell how it went"]
        tell = next(e.action for e in row.elements if e.label == "Tell how it went")
        assert all(tried not in m.text for m in bot.posts())
        assert all(tried not in m.text for m in bot.dms("ben"))

        # Only cara may answer it.
        refused = await bot.press("dan", tell)
        assert isinstance(refused, Respond) and tried not in refused.message.text
        form = await bot.press("cara", tell)
        assert isinstance(form, OpenForm)
        assert [i.name for i in form.form.inputs] == ["how", "note", "privacy"]
        errors = await bot.submit("cara", form.form.form_id, form.form.metadata, how="tried")
        assert isinstance(errors, FormErrors)
        note = "They chose quickly and the room was calmer"
        done = await bot.submit(
            "cara", form.form.form_id, form.form.metadata, how="tried", note=note, privacy="named"
        )
        assert isinstance(done, Respond)
        assert done.message.text == "Saved, and shared with the group under your name."
        [post] = [m for m in bot.posts() if note in m.text]
        assert post.text.startswith("cara on what they said they'd try — tried it")
        async with bot.db.session() as session:
            c = (await session.execute(select(CheckinCommitment))).scalar_one()
            assert c.status == CommitmentStatus.TRIED
            assert tried not in c.sealed and c.note_sealed and note not in c.note_sealed
        # Pressed again later: Drop it changes the status, privately.
        dropped = await bot.press("cara", f"commit:drop:{c.id}")
        assert isinstance(dropped, Respond) and dropped.private
        assert dropped.message.text == "Dropped; it won't come up again."
        # Neither the commitment nor the note is ever in a log line, even at DEBUG.
        assert tried not in caplog.text and note not in caplog.text
    finally:
        await bot.stop()


async def test_an_anonymous_note_waits_for_the_meeting_and_is_shared_once(db_url) -> None:
    clock = FakeClock(ny(2026, 11, 2, 9, 0))
    bot = await started(db_url, clock)
    try:
        await bot.cmd(
            "ana",
            "meeting series",
            schedule="monthly on the first Tuesday at 18:30",
            title="Monthly CoP",
            duration="90",
        )
        round_id = await a_round(bot, await a_checkin(bot), ny(2026, 11, 5, 10, 0))
        await bot.app.advance_to(ny(2026, 11, 5, 12, 0))
        answer_id = await an_answer(bot, round_id, "dan", 1, "Sing the tidy-up song", clock.now())
        async with background(bot.app.services) as ctx:
            answer = await ctx.session.get(CheckinAnswer, answer_id)
            assert answer is not None
            await member.commitment_from_answer(ctx, answer, "Sing the tidy-up song")
            commitment = (await ctx.session.execute(select(CheckinCommitment))).scalar_one()
        await bot.app.advance_to(ny(2026, 11, 29, 18, 30))
        note = "The song worked on the second day"
        tell = f"commit:tell:{commitment.id}"
        form = await bot.press("dan", tell)
        assert isinstance(form, OpenForm)
        done = await bot.submit(
            "dan",
            form.form.form_id,
            form.form.metadata,
            how="tried",
            note=note,
            privacy="anonymous",
        )
        assert isinstance(done, Respond)
        assert done.message.text == (
            "Saved; it will be shared with the group without your name before the next meeting."
        )
        again = await bot.submit(
            "dan",
            form.form.form_id,
            form.form.metadata,
            how="tried",
            note="Edited",
            privacy="named",
        )
        assert isinstance(again, Respond)
        assert again.message.text.startswith("Saved for you; a note can be shared only the first")
        await bot.app.advance_to(ny(2026, 12, 1, 17, 29))
        assert [m for m in bot.posts() if note in m.text] == []  # not at the time it was written
        await bot.app.advance_to(ny(2026, 12, 1, 17, 40))  # an hour before, within ten minutes
        [post] = [m for m in bot.posts() if note in m.text]
        assert post.text.startswith("Someone on what they said they'd try — tried it")
        assert "dan" not in post.text
        assert [m for m in bot.posts() if "Edited" in m.text] == []
        async with bot.db.session() as session:
            keys = list(
                (
                    await session.execute(
                        select(col(OutboxMessage.key)).where(
                            col(OutboxMessage.key).like("reflections:commitment%"),
                            col(OutboxMessage.kind) == "channel",
                        )
                    )
                ).scalars()
            )
        [key] = keys
        assert key.startswith("reflections:commitment-anonymous:")
        assert f":{commitment.id}:" not in key and not key.endswith(f":{commitment.id}")
    finally:
        await bot.stop()


async def test_a_commitment_check_back_waits_for_the_morning_and_ends_a_pause(db_url) -> None:
    """No meeting planned: asked three weeks later; at 22:00 it waits for 08:00, and a
    paused author is not asked at all."""
    clock = FakeClock(ny(2026, 11, 2, 22, 0))
    bot = await started(db_url, clock)
    try:
        round_id = await a_round(bot, await a_checkin(bot), ny(2026, 11, 2, 10, 0))
        for who in ("cara", "dan"):
            answer_id = await an_answer(bot, round_id, who, 1, f"{who} will try", clock.now())
            async with background(bot.app.services) as ctx:
                answer = await ctx.session.get(CheckinAnswer, answer_id)
                assert answer is not None
                await member.commitment_from_answer(ctx, answer, f"{who} will try")
        await bot.cmd("dan", "checkins pause", duration="2026-12-31")
        await bot.app.advance_to(ny(2026, 11, 23, 22, 30))
        assert [m for m in bot.dms("cara") if "You said" in m.text] == []
        await bot.app.advance_to(ny(2026, 11, 24, 8, 0))
        assert len([m for m in bot.dms("cara") if "You said" in m.text]) == 1
        assert [m for m in bot.dms("dan") if "You said" in m.text] == []
    finally:
        await bot.stop()


# -- journal ------------------------------------------------------------------------------------


async def test_the_journal_shows_only_ones_own_answers_newest_first(db_url) -> None:
    clock = FakeClock(ny(2026, 11, 2, 9, 0))
    bot = await started(db_url, clock)
    try:
        checkin = await a_checkin(bot)
        r1 = await a_round(bot, checkin, ny(2026, 10, 1, 10, 0), number=1)
        r2 = await a_round(bot, checkin, ny(2026, 10, 20, 10, 0), number=2)
        await an_answer(bot, r1, "cara", 0, "cara-october-noticed", ny(2026, 10, 2, 9, 0))
        await an_answer(bot, r2, "cara", 0, "cara-later-noticed", ny(2026, 10, 21, 9, 0))
        await an_answer(bot, r2, "cara", 1, "cara-later-try", ny(2026, 10, 21, 9, 5))
        await an_answer(bot, r2, "dan", 0, "DAN-PRIVATE-CANARY", ny(2026, 10, 21, 10, 0))
        text = await bot.cmd("cara", "journal")
        assert text.startswith("Your journal, newest first (only you see it):")
        assert "DAN-PRIVATE-CANARY" not in text
        assert text.index("cara-later-noticed") < text.index("cara-october-noticed")
        assert "What did I notice? — cara-later-noticed (only me)" in text
        assert "After the meeting in Circle, round 2, Tue 20 Oct 2026" in text
        # In a DM, filtered by community and date.
        since = await bot.cmd("cara", "journal", dm=True, community="circle", since="2026-10-15")
        assert "cara-later-try" in since and "cara-october-noticed" not in since
        assert (await bot.cmd("cara", "journal", since="15/10/2026")).startswith(
            "I couldn't read since=15/10/2026"
        )
        assert (await bot.cmd("ben", "journal")) == (
            "Your journal is empty: there are no check-in answers of yours to show."
        )
        dans = await bot.cmd("dan", "journal")
        assert "DAN-PRIVATE-CANARY" in dans and "cara-" not in dans
    finally:
        await bot.stop()


# -- retention ----------------------------------------------------------------------------------


async def test_retention_deletes_old_text_and_keeps_the_counts(db_url) -> None:
    clock = FakeClock(ny(2026, 11, 2, 9, 0))
    bot = await started(db_url, clock)
    try:
        checkin = await a_checkin(bot)
        old = await a_round(bot, checkin, ny(2025, 8, 1, 10, 0), number=1)
        recent = await a_round(bot, checkin, ny(2026, 10, 1, 10, 0), number=2)
        old_answer = await an_answer(bot, old, "cara", 1, "old text", ny(2025, 8, 2, 9, 0))
        await an_answer(bot, recent, "cara", 0, "recent text", ny(2026, 10, 2, 9, 0))
        async with background(bot.app.services) as ctx:
            answer = await ctx.session.get(CheckinAnswer, old_answer)
            assert answer is not None
            await member.commitment_from_answer(ctx, answer, "old text")
        async with bot.db.session() as session:
            for round_id in (old, recent):
                rnd = await session.get(CheckinRound, round_id)
                assert rnd is not None
                rnd.status, rnd.answered = RoundStatus.CLOSED, 1
                session.add(rnd)

        refused = await bot.cmd("cara", "checkins retention", months="12")
        assert refused == "Only a facilitator of Circle can do that."
        for bad in ("0", "twelve", "121"):
            said = await bot.cmd("ben", "checkins retention", months=bad)
            assert said.startswith(f"I couldn't read {bad} as a retention"), said
        said = await bot.cmd("ben", "checkins retention", months="12")
        assert said.startswith("Reflection answers and commitments are now deleted 12 months")
        assert "reflections.retention:1" in await job_ids(bot.db)
        said = await bot.cmd("ben", "checkins default")  # a check-in defined later keeps it
        async with bot.db.session() as session:
            newest = (
                await session.execute(select(Checkin).order_by(col(Checkin.id).desc()).limit(1))
            ).scalar_one()
            assert newest.id != checkin and newest.retention_months == 12, said

        await bot.app.advance_to(ny(2026, 11, 3, 9, 0))  # the nightly sweep ran at 03:00
        async with bot.db.session() as session:
            left = list((await session.execute(select(CheckinAnswer))).scalars())
            assert [a.round_id for a in left] == [recent]
            commitments = await session.scalar(select(func.count()).select_from(CheckinCommitment))
            assert commitments == 0
            rounds = {r.id: r for r in (await session.execute(select(CheckinRound))).scalars()}
            assert (rounds[old].asked, rounds[old].answered) == (2, 1)
            kept = await session.scalar(
                select(func.count())
                .select_from(CheckinDelivery)
                .where(col(CheckinDelivery.round_id) == old)
            )
            assert kept == 2
        assert "reflections.retention:1" in await job_ids(bot.db)  # tomorrow night again
        text = await bot.cmd("cara", "journal")
        assert "recent text" in text and "old text" not in text

        said = await bot.cmd("ben", "checkins retention", months="off")
        assert said == "Reflection answers are now kept until their authors erase them."
        assert "reflections.retention:1" not in await job_ids(bot.db)
    finally:
        await bot.stop()


# -- through the console, with the core's real check-in ------------------------------------------


async def test_console_pause_optout_own_zone_one_nudge_and_journal(db: Database) -> None:
    """The default check-in after a meeting: cara paused is not asked, eve opted out and dan
    (in London) are not nudged at night, ben is nudged once at 19:30 New York time, dan at
    08:00 London time; nobody twice; ana's journal holds her answer."""
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup "Finger Lakes CoP" America/New_York
        /cop facilitator add @ben
        :as cara
        /cop join
        :as dan
        /cop join
        :as eve
        /cop join
        :as ben
        /cop checkins default
        /cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"
        :as cara
        /cop checkins pause 10d
        :as dan
        /cop my timezone Europe/London
        :as eve
        /cop checkins optout 1
        :at 2026-11-05T19:31
        :as ana
        :in dm
        :press Answer
        :submit q1="ana noticed the block corner" privacy=private
        :at 2026-11-07T19:31
        :at 2026-11-08T03:01
        :as dan
        :press Answer
        :submit q3="Time to plan with my co-teacher" privacy=private
        :at 2026-11-10T19:00
        :as ana
        /cop journal
        """,
        db=db,
        clock=FakeClock(ny(2026, 11, 2, 9, 0)),
        zone="America/New_York",
    )
    assert (
        "[private @cara] Check-ins from Finger Lakes CoP are paused for you (no questions, "
        "reminders or check-backs) until Thu 12 Nov 2026."
    ) in lines
    assert not any(ln.startswith("[dm @cara]") for ln in lines)  # paused: not even asked
    nudged = [ln.split("]")[0] + "]" for ln in lines if "A gentle reminder" in ln]
    assert sorted(nudged) == ["[dm @ben]", "[dm @dan]"]  # once each; not ana, eve or cara
    ben = lines.index(next(ln for ln in lines if ln.startswith("[dm @ben] A gentle reminder")))
    assert lines[ben - 1] == "~ Sat 7 Nov 2026, 19:30 EST"
    dan = lines.index(next(ln for ln in lines if ln.startswith("[dm @dan] A gentle reminder")))
    assert lines[dan - 1] == "~ Sun 8 Nov 2026, 03:00 EST"  # 08:00 in London
    assert lines[dan].endswith("until Wed 11 Nov 2026, 00:30 GMT.")  # in dan's own zone
    assert "  1) Answer" in lines[dan + 1 : dan + 4]  # the same button as the invitation's
    # The nudge's own Answer button opens the form, and the answer is saved.
    assert "[private @dan] Saved your answers to check-in 1. Who can read each one:" in lines
    journal = lines.index("[private @ana] Your journal, newest first (only you see it):")
    assert lines[journal + 1 : journal + 3] == [
        "  Individual reflection in Finger Lakes CoP, round 1, Thu 5 Nov 2026",
        "  What did I notice in my practice since we met? — ana noticed the block corner (only me)",
    ]
    assert sum("ana noticed the block corner" in ln for ln in lines) == 2  # typed, and journal
