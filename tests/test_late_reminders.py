"""Late reminders tell the truth: the headline and the notification text say "sent late" with the
time to the start as it was when the reminder went out, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import App
from bot.events import ActionClicked, Actor, CommandInvoked, Place, Respond, UserRef
from bot.events import ConversationRef as Conv
from bot.features.meetings.render import reminder_headline, span_words
from bot.i18n import Translator
from bot.ports import FakeClock
from bot.ui import ActionId, Message
from storage.db import Database
from tests.support import RecordingAdapter

NY = ZoneInfo("America/New_York")
CHANNEL = Conv("fake", "W1", "C1")
LATE = " — sent late because circlebot was offline."


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


class Bot:
    """An App on a recording adapter, driven by events as an adapter would."""

    def __init__(self, url: str, clock: FakeClock) -> None:
        self.db = Database(url)
        self.adapter = RecordingAdapter()
        self.app = App(self.db, clock, [self.adapter], manual=True)

    def actor(self, who: str) -> Actor:
        return Actor(UserRef("fake", "W1", who), who, is_admin=who == "ana")

    async def cmd(self, who: str, path: str, **params: str) -> str:
        event = CommandInvoked(self.actor(who), Place(CHANNEL, "cop"), tuple(path.split()), params)
        reply = await self.app.dispatcher.handle(event)
        await self.app.worker.drain()
        assert isinstance(reply, Respond)
        return reply.message.text

    async def press(self, who: str, action: ActionId) -> None:
        reply = await self.app.dispatcher.handle(
            ActionClicked(self.actor(who), Place(CHANNEL), action)
        )
        await self.app.worker.drain()
        assert isinstance(reply, Respond)

    def sent(self, kind: str) -> list[Message]:
        return [s.message for s in self.adapter.sent if s.kind == kind]

    async def stop(self) -> None:
        await self.app.stop()
        await self.db.dispose()


async def started(url: str, clock: FakeClock) -> Bot:
    bot = Bot(url, clock)
    await bot.app.start()
    return bot


async def with_series(url: str, clock: FakeClock, reminders: str) -> Bot:
    """A running bot whose community has a monthly series (first: Tue 1 Dec 2026, 18:30 New York)
    with `reminders` (also by DM) and cara going to meeting 1."""
    bot = await started(url, clock)
    await bot.cmd("ana", "setup", name="Circle", timezone="America/New_York")
    text = await bot.cmd(
        "ana",
        "meeting series",
        schedule="monthly on the first Tuesday at 18:30",
        title="Monthly CoP",
        duration="90",
        reminders=reminders,
        dm="yes",
    )
    assert text.startswith("Series 1 created"), text
    await bot.press("cara", ActionId("rsvp", "going", 1))
    return bot


async def restarted_at(bot: Bot, url: str, clock: FakeClock, when: datetime) -> Bot:
    """Stop `bot`, let the clock run to `when` while nothing runs, start again and catch up."""
    await bot.stop()
    clock.set(when)
    bot = await started(url, clock)
    await bot.app.advance_to(when)
    return bot


async def test_a_reminder_sent_late_says_so_with_the_true_time_to_the_start(db_url) -> None:
    """The measured case: a 3-minute reminder sent 1 minute 21 seconds late (1 min 39 s before
    the start) said "starts in 3 minutes", and "late" only in the blocks."""
    clock = FakeClock(ny(2026, 11, 30, 9, 0))
    bot = await with_series(db_url, clock, "1h 3m")
    await bot.app.advance_to(ny(2026, 12, 1, 18, 0))
    [on_time] = bot.sent("send")[1:]  # after the announcement
    assert on_time.text.startswith("Reminder: Monthly CoP starts in 1 hour. When: ")

    bot = await restarted_at(bot, db_url, clock, ny(2026, 12, 1, 18, 28, 21))
    try:
        [reminder] = bot.sent("send")
        [dm] = bot.sent("dm")
        headline = "Reminder: Monthly CoP starts in 1 minute" + LATE
        assert reminder.text.startswith(headline + " When: "), reminder.text
        assert dm.text == reminder.text  # the DM's notification says it as well
        assert headline in str(reminder.blocks[0])  # and the card's headline
        assert "3 minutes" not in reminder.text

        # An answer edits the card in place: the headline stays what was true when it was sent.
        await bot.press("dan", ActionId("rsvp", "going", 1))
        edits = bot.sent("edit")
        assert edits and all(e.text.startswith(headline) for e in edits)
    finally:
        await bot.stop()


@pytest.mark.parametrize(
    ("reminders", "back_at", "headline"),
    [
        # Down from 18:00 to 18:29:30: the 3-minute reminder is 30 s before the start.
        (
            "1h 3m",
            ny(2026, 12, 1, 18, 29, 30),
            "Reminder: Monthly CoP starts in less than a minute",
        ),
        # Back 4 minutes after the start: the last reminder (with its join link) still goes.
        ("1h 3m", ny(2026, 12, 1, 18, 34), "Reminder: Monthly CoP started 4 minutes ago"),
        # A week's reminder 20 minutes late is not "in 1 week" any more; two units, rounded down.
        ("7d", ny(2026, 11, 24, 18, 50), "Reminder: Monthly CoP starts in 6 days 23 hours"),
    ],
)
async def test_late_headlines(db_url, reminders, back_at, headline) -> None:
    clock = FakeClock(ny(2026, 11, 20, 9, 0))
    bot = await with_series(db_url, clock, reminders)
    await bot.app.advance_to(ny(2026, 11, 20, 10, 0))
    bot = await restarted_at(bot, db_url, clock, back_at)
    try:
        [reminder] = bot.sent("send")
        assert reminder.text.startswith(headline + LATE + " When: "), reminder.text
    finally:
        await bot.stop()


async def test_a_reminder_a_few_seconds_late_is_on_time(db_url) -> None:
    """The runner's normal delay is not "late": the planned offset is still true."""
    clock = FakeClock(ny(2026, 11, 30, 9, 0))
    bot = await with_series(db_url, clock, "1h")
    try:
        await bot.app.advance_to(ny(2026, 12, 1, 17, 30, 5))
        [reminder] = bot.sent("send")[1:]
        assert reminder.text.startswith("Reminder: Monthly CoP starts in 1 hour. When: ")
    finally:
        await bot.stop()


@pytest.mark.parametrize(
    ("to_start", "expected"),
    [
        (timedelta(minutes=1, seconds=39), "starts in 1 minute" + LATE),
        (timedelta(minutes=59, seconds=59), "starts in 59 minutes" + LATE),
        (timedelta(hours=2, minutes=17, seconds=5), "starts in 2 hours 17 minutes" + LATE),
        (timedelta(days=1, hours=5, minutes=59), "starts in 1 day 5 hours" + LATE),
        (timedelta(days=9, hours=3), "starts in 1 week 2 days" + LATE),
        (timedelta(seconds=59), "starts in less than a minute" + LATE),
        (timedelta(seconds=-20), "is starting now" + LATE),
        (timedelta(minutes=-2, seconds=-10), "started 2 minutes ago" + LATE),
    ],
)
def test_headline_phrases(to_start: timedelta, expected: str) -> None:
    t = Translator("en")
    flag = f"late:{int(to_start.total_seconds())}"
    assert reminder_headline(t, "CoP", timedelta(hours=1), flag) == f"Reminder: CoP {expected}"


def test_headline_of_a_card_stored_without_the_time_to_the_start() -> None:
    """Cards posted before this change carry ``PT1H:late``: late, with the planned offset."""
    t = Translator("en")
    assert reminder_headline(t, "CoP", timedelta(hours=1), "late") == (
        "Reminder: CoP starts in 1 hour" + LATE
    )
    assert reminder_headline(t, "CoP", timedelta(hours=1), "") == "Reminder: CoP starts in 1 hour."
    assert span_words(t, timedelta(weeks=3, days=6, hours=23)) == "3 weeks 6 days"
