"""Turnout against the real audience: the adapter's count, cached briefly per conversation,
asked only between transactions; the known-members wording when the platform says nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.app import App
from bot.audience import Audiences
from bot.events import ActionClicked, Actor, CommandInvoked, ConversationRef, Place, UserRef
from bot.i18n import Translator
from bot.ports import Audience, AudienceKind, FakeClock
from bot.ui import ActionId
from storage.db import Database
from tests.support import RecordingAdapter

T = Translator()
CHANNEL = ConversationRef("fake", "W1", "C1")


@dataclass
class CountingAdapter(RecordingAdapter):
    """A platform that lists `count` people in every channel and notes each listing."""

    audience_ttl: float = 60.0
    count: int | None = 12
    fail: bool = False
    db: Database | None = None
    # For each listing: was a database transaction open at that moment?
    listings: list[bool] = field(default_factory=list)

    async def audience(self, conversation: ConversationRef) -> Audience | None:
        assert self.db is not None
        # SQLite serialises transactions through one writer lock: held means one is open.
        writer = self.db._writer
        self.listings.append(writer is not None and writer.locked())
        if self.fail:
            raise RuntimeError("the platform is down")
        return None if self.count is None else Audience(self.count, AudienceKind.CHANNEL)


class Bot:
    def __init__(self, db: Database, clock: FakeClock, adapter: CountingAdapter) -> None:
        adapter.db = db
        self.fake = adapter
        self.app = App(db, clock, [adapter], manual=True)

    async def cmd(self, user: str, text: str, *, admin: bool = False) -> str:
        command, params = self.app.registry.parse(text, T)
        actor = Actor(UserRef("fake", "W1", user), user, admin)
        reply = await self.app.dispatcher.handle(
            CommandInvoked(actor, Place(CHANNEL, "C1"), command.path, params)
        )
        await self.app.worker.drain()
        return getattr(getattr(reply, "message", None), "text", "")

    async def press(self, user: str, action: str) -> None:
        actor = Actor(UserRef("fake", "W1", user), user, False)
        await self.app.dispatcher.handle(
            ActionClicked(actor, Place(CHANNEL, "C1"), ActionId.parse(action))
        )

    def channel_texts(self) -> list[str]:
        return [s.message.text for s in self.fake.sent if s.kind in ("send", "edit")]


async def test_turnout_names_the_platform_count_asked_outside_transactions(
    memory_db: Database, clock: FakeClock
) -> None:
    bot = Bot(memory_db, clock, CountingAdapter())
    await bot.app.start()
    await bot.cmd("ana", 'setup "Circle" UTC', admin=True)
    await bot.cmd("ana", 'poll new Snack? options="Apples | Pears" closes="in 1 day"', admin=True)
    for user in ("cara", "dan", "eve"):
        await bot.press(user, "vote:cast:1:1")
    clock.advance(timedelta(seconds=5))
    await bot.app.worker.drain()
    results = await bot.cmd("ana", "poll results 1", admin=True)
    await bot.app.advance(timedelta(days=1))
    texts = bot.channel_texts()
    await bot.app.stop()
    poll = [t for t in texts if t.startswith("Vote #1")]
    assert "0 of 12 channel members voted" in poll[0]
    assert "3 of 12 channel members voted" in poll[1]
    assert "Turnout: 3 of 12 channel members voted." in results
    assert any(t.startswith("Result of vote #1") and "3 of 12 channel members" in t for t in texts)
    # A burst of seven events and the close job: one listing, and never inside a transaction.
    assert bot.fake.listings == [False]


async def test_the_count_is_asked_again_after_its_ttl_and_failures_keep_the_last(
    memory_db: Database, clock: FakeClock
) -> None:
    now = [0.0]
    adapter = CountingAdapter(db=memory_db)
    audiences = Audiences({"fake": adapter}, monotonic=lambda: now[0])
    await audiences.warm(CHANNEL)
    adapter.count = 20
    now[0] = 59.0
    await audiences.warm(CHANNEL)
    assert audiences.known(CHANNEL) == Audience(12, AudienceKind.CHANNEL)
    now[0] = 61.0
    await audiences.warm(CHANNEL)
    assert audiences.known(CHANNEL) == Audience(20, AudienceKind.CHANNEL)
    adapter.fail = True
    now[0] = 130.0
    await audiences.warm(CHANNEL)
    assert audiences.known(CHANNEL) == Audience(20, AudienceKind.CHANNEL)
    assert len(adapter.listings) == 3  # the cached warm at 59 s asked nothing


async def test_a_platform_that_says_nothing_counts_members_known_to_circlebot(
    memory_db: Database, clock: FakeClock
) -> None:
    bot = Bot(memory_db, clock, CountingAdapter(count=None))
    await bot.app.start()
    await bot.cmd("ana", 'setup "Circle" UTC', admin=True)
    await bot.cmd("cara", "join")
    await bot.cmd("ana", 'poll new Snack? options="Apples | Pears"', admin=True)
    texts = bot.channel_texts()
    await bot.app.stop()
    assert any("0 of 2 members known to circlebot voted" in t for t in texts)
