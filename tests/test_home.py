"""The member's home: upcoming meetings with RSVP buttons and open votes, per community."""

from __future__ import annotations

from adapters.console.render import render
from bot.app import App
from bot.events import (
    Ack,
    Actor,
    CommandInvoked,
    ConversationRef,
    HomeOpened,
    Place,
    Respond,
    UserRef,
)
from bot.features import build_registry
from bot.i18n import Translator
from tests.support import RecordingAdapter


def lines_of(message) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(render(message))


def _actor(name: str, admin: bool = False) -> Actor:
    return Actor(UserRef("fake", "W1", name), name, admin)


def _in(channel: str) -> Place:
    return Place(ConversationRef("fake", "W1", channel), channel)


async def _run(app: App, who: Actor, where: Place, text: str) -> None:
    cmd, params = app.registry.parse(text, Translator())
    reply = await app.dispatcher.handle(CommandInvoked(who, where, cmd.path, params))
    assert isinstance(reply, Respond), reply
    assert "Sorry" not in reply.message.text, reply.message.text


async def test_home_lists_meetings_and_open_votes_of_every_community(memory_db, clock) -> None:
    app = App(memory_db, clock, [RecordingAdapter()], manual=True, registry=build_registry())
    await app.start()
    ana, cara = _actor("ana", admin=True), _actor("cara")
    await _run(app, ana, _in("cop-a"), 'setup "Circle A" America/New_York')
    await _run(app, ana, _in("cop-b"), 'setup "Circle B" America/Chicago')
    await _run(
        app,
        ana,
        _in("cop-a"),
        'meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"',
    )
    await _run(app, ana, _in("cop-b"), 'poll new Snack? options="Fruit | Cheese"')
    await _run(app, cara, _in("cop-a"), "join")

    nobody = await app.dispatcher.handle(HomeOpened(_actor("dan"), _in("D-dan")))
    assert isinstance(nobody, Ack)  # no community: adapters fall back to help

    cara_home = await app.dispatcher.handle(HomeOpened(cara, _in("D-cara")))
    assert isinstance(cara_home, Respond)
    actions = [b.action for b in cara_home.message.buttons()]
    assert actions[:3] == ["rsvp:going:1", "rsvp:maybe:1", "rsvp:no:1"]
    assert len(actions) == 9 and all(a.startswith("rsvp:") for a in actions)  # next 3 meetings
    assert "Snack?" not in lines_of(cara_home.message)  # not her community

    ana_home = await app.dispatcher.handle(HomeOpened(ana, _in("D-ana")))
    assert isinstance(ana_home, Respond)
    text = lines_of(ana_home.message)
    assert text.index("Coming up in Circle A:") < text.index("Open votes in Circle B:")
    assert "Monthly CoP: Tue 3 Nov 2026, 18:30 EST" in text
    assert "Snack?" in text
    assert {b.action.split(":")[0] for b in ana_home.message.buttons()} == {"rsvp", "vote"}
    await app.stop()


async def test_cop_home_sends_the_view_by_dm_from_a_channel_and_answers_in_a_dm(db, clock) -> None:
    # Platforms without a home tab (Discord, the console) get `/cop home`. Its buttons belong
    # to several communities, so from a channel the view goes to the member's DMs.
    fake = RecordingAdapter()
    app = App(db, clock, [fake], manual=True, registry=build_registry())
    await app.start()
    ana, cara = _actor("ana", admin=True), _actor("cara")
    await _run(app, ana, _in("cop-a"), 'setup "Circle A" America/New_York')
    await _run(
        app,
        ana,
        _in("cop-a"),
        'meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"',
    )
    await _run(app, cara, _in("cop-a"), "join")
    await app.worker.drain()
    fake.sent.clear()

    cmd, params = app.registry.parse("home", Translator())
    asked = await app.dispatcher.handle(CommandInvoked(cara, _in("cop-a"), cmd.path, params))
    await app.worker.drain()
    assert isinstance(asked, Respond) and asked.private
    assert asked.message.text == "I sent you your home in a direct message."
    [dm] = fake.sent
    assert (dm.kind, dm.target) == ("dm", "cara")
    assert "Coming up in Circle A:" in lines_of(dm.message)
    assert [b.action for b in dm.message.buttons()][:3] == [
        "rsvp:going:1",
        "rsvp:maybe:1",
        "rsvp:no:1",
    ]

    dm_place = Place(ConversationRef("fake", "W1", "D-cara"), "", is_dm=True)
    in_dm = await app.dispatcher.handle(CommandInvoked(cara, dm_place, cmd.path, params))
    assert isinstance(in_dm, Respond)
    assert "Coming up in Circle A:" in lines_of(in_dm.message)

    nobody = await app.dispatcher.handle(CommandInvoked(_actor("dan"), dm_place, cmd.path, {}))
    assert isinstance(nobody, Respond)
    assert nobody.message.text == (
        "You are not in a community here yet; run /cop join in a community's channel."
    )
    await app.stop()
