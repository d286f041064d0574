"""A member whose DMs are closed is remembered, told once how to open them, and forgotten on success."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import App
from bot.events import Actor, CommandInvoked, ConversationRef, Place, Respond, UserRef
from bot.features import build_registry
from bot.ports import DeliveryError
from bot.ui import Message
from storage.models import Member
from tests.support import RecordingAdapter

WHERE = Place(ConversationRef("fake", "W1", "C1"), "cop")


async def _command(app: App, who: Actor, *path: str, **params: str) -> Respond:
    reply = await app.dispatcher.handle(CommandInvoked(who, WHERE, tuple(path), params))
    assert isinstance(reply, Respond)
    return reply


async def _dm(app: App, user: str, key: str) -> None:
    async with app.db.session() as s:
        await app.outbox.enqueue(
            s, key=key, to=UserRef("fake", "W1", user), message=Message(text="reminder")
        )
    await app.worker.drain()


async def test_closed_dms_are_remembered_and_explained_once(db, clock) -> None:
    fake = RecordingAdapter()
    app = App(db, clock, [fake], manual=True, registry=build_registry())
    await app.start()
    ana = Actor(UserRef("fake", "W1", "ana"), "ana", True)
    cara = Actor(UserRef("fake", "W1", "cara"), "cara")
    await _command(app, ana, "setup", name="Circle", timezone="UTC")
    await _command(app, cara, "join")

    fake.failures.append(DeliveryError("dm_closed", transient=False))
    await _dm(app, "cara", "r:1")
    async with db.session() as s:
        flags = dict((await s.execute(select(Member.user_id, Member.dm_closed_at))).all())
    assert flags["cara"] == clock.now() and flags["ana"] is None

    told = await _command(app, cara, "about")
    assert told.private and told.message.text.startswith("Circle: time zone UTC")
    assert told.message.text.endswith("please allow direct messages from circlebot.")
    again = await _command(app, cara, "about")
    assert "direct message" not in again.message.text

    # A refusal rolls its transaction back, so the hint waits for an answer that stands.
    fake.failures.append(DeliveryError("dm_closed", transient=False))
    await _dm(app, "cara", "r:2")
    refused = await _command(app, cara, "join")  # already a member
    assert refused.message.text == "You are already a member of Circle."
    about = await _command(app, cara, "about")
    assert "allow direct messages" in about.message.text

    # A DM that gets through clears the flag without telling anyone anything.
    fake.failures.append(DeliveryError("dm_closed", transient=False))
    await _dm(app, "cara", "r:3")
    await _dm(app, "cara", "r:4")
    async with db.session() as s:
        member = (await s.execute(select(Member).where(Member.user_id == "cara"))).scalar_one()
    assert member.dm_closed_at is None
    assert [x.target for x in fake.sent if x.kind == "dm"] == ["cara"]
    await app.stop()
