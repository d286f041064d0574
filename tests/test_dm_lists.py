"""In a DM, /cop meeting list and /cop poll list answer for each of the person's communities."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.ports import FakeClock
from storage.db import Database
from tests.support import transcript

NY = "America/New_York"

# Three communities; ben facilitates A and B; cara is in A and B, and left C.
SETUP = """
:as ana admin
:in #a
/cop setup "Circle A" America/New_York
/cop facilitator add @ben
:in #b
/cop setup "Circle B" America/New_York
/cop facilitator add @ben
:in #c
/cop setup "Circle C" America/New_York
/cop meeting series "weekly on Friday at 12:00" title="Secret lunch"
/cop poll new Secret question? options="Yes | No" closes="in 3 days"
:as ben
:in #a
/cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly A"
:in #b
/cop meeting series "monthly on the second Wednesday at 19:00" title="Evening B"
/cop poll new Open ended? options="One | Two"
/cop poll new Snack? options="Fruit | Cheese" closes="2026-11-20 17:00"
:as cara
:in #a
/cop join
:in #b
/cop join
:press Fruit
:in #c
/cop join
/cop leave
"""


def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 10, 9, 0, tzinfo=ZoneInfo(NY)))


def block(lines: list[str], first: str) -> str:
    """The whole printed message whose first line starts with `first`, as one text."""
    i = next(i for i, line in enumerate(lines) if line.startswith(first))
    out = [lines[i]]
    for line in lines[i + 1 :]:
        if not line.startswith("  "):
            break
        out.append(line)
    return "\n".join(out)


async def test_dm_lists_show_each_community_and_never_one_left(db: Database) -> None:
    lines = await transcript(
        SETUP
        + """
        :as cara
        :in dm
        /cop meeting list
        /cop poll list
        """,
        db=db,
        zone=NY,
        clock=clock(),
    )
    meetings = block(lines, "[private @cara] — Circle A —")
    assert meetings.index("— Circle A —") < meetings.index("— Circle B —")
    assert "Monthly A" in meetings and "Tue 1 Dec 2026, 18:30 EST" in meetings
    assert "Evening B" in meetings and "Wed 9 Dec 2026, 19:00 EST" in meetings
    assert "Circle C" not in meetings and "Secret lunch" not in meetings  # she left C

    asked = lines.index("cara> /cop poll list")
    polls = block(lines[asked:], "[private @cara] — Circle A —")
    a, b = polls.split("— Circle B —")
    assert "Open polls:" in a and "No open polls." in a
    assert " Snack? — closes Fri 20 Nov 2026, 17:00 EST; you voted." in b
    assert " Open ended? — no deadline; you have not voted yet." in b
    assert "Secret question?" not in polls  # she left C


async def test_a_facilitator_of_two_sees_each_groups_next_meeting_and_open_polls(
    db: Database,
) -> None:
    lines = await transcript(
        SETUP
        + """
        :as ben
        :in dm
        /cop meeting list
        /cop poll list
        """,
        db=db,
        zone=NY,
        clock=clock(),
    )
    meetings = block(lines, "[private @ben] — Circle A —")
    a, b = meetings.split("— Circle B —")
    assert "Monthly A" in a and "Evening B" not in a
    assert "Evening B" in b and "Monthly A" not in b
    polls = block(lines[lines.index("ben> /cop poll list") :], "[private @ben] — Circle A —")
    a, b = polls.split("— Circle B —")
    assert "No open polls." in a
    assert "Snack? — closes Fri 20 Nov 2026, 17:00 EST; you have not voted yet." in b
    assert "Secret question?" not in polls  # ben is not in C


async def test_a_dm_list_with_no_community_says_how_to_join_and_channels_are_unchanged() -> None:
    lines = await transcript(
        SETUP
        + """
        :as dan
        :in dm
        /cop meeting list
        /cop poll list
        :as cara
        /cop meeting agenda
        :in #a
        /cop meeting list
        :as eve
        :in #b
        /cop poll list
        """,
        zone=NY,
        clock=clock(),
    )
    join = "[private @dan] You are not in a community here yet; run /cop join in a community's channel."
    assert lines.count(join) == 2
    # Other commands keep their DM refusal when the person has several communities.
    assert "[private @cara] Please run that in your community's channel." in lines
    # In a channel: that community only, as before.
    in_a = block(lines, "[private @cara] Upcoming meetings:")
    assert "Monthly A" in in_a and "Evening B" not in in_a and "— Circle" not in in_a
    # Someone new asking in a channel becomes a member on first use, as with other commands.
    in_b = block(lines, "[private @eve] Recent polls in Circle B:")
    assert "Snack?" in in_b


async def test_a_member_of_thirty_communities_gets_them_all_within_platform_limits(
    memory_db: Database,
) -> None:
    """One Section per community: 30 fit Slack's 50 blocks; Discord splits, never drops."""
    from adapters.discord.render import MAX_CONTENT
    from adapters.discord.render import render as discord_render
    from adapters.slack.render import MAX_MESSAGE_BLOCKS, render_message
    from bot.app import App
    from bot.events import Actor, CommandInvoked, ConversationRef, Place, Respond, UserRef
    from bot.i18n import Translator
    from tests.support import RecordingAdapter

    app = App(memory_db, clock(), [RecordingAdapter()], manual=True)
    await app.start()
    ana = Actor(UserRef("fake", "W1", "ana"), "ana", True)

    async def run(text: str, where: Place) -> Respond:
        cmd, params = app.registry.parse(text, Translator())
        reply = await app.dispatcher.handle(CommandInvoked(ana, where, cmd.path, params))
        assert isinstance(reply, Respond), reply
        return reply

    names = [f"Circle {n:02}" for n in range(30)]
    for i, name in enumerate(names):
        channel = Place(ConversationRef("fake", "W1", f"c{i}"), f"c{i}")
        await run(f'setup "{name}" America/New_York', channel)
        await run('meeting series "weekly on Monday at 9:00" title="Weekly"', channel)
        await run(f'poll new "Question {i}?" options="A | B" closes="in 2 days"', channel)
    dm = Place(ConversationRef("fake", "W1", "D-ana"), "", is_dm=True)
    meetings, polls = await run("meeting list", dm), await run("poll list", dm)
    await app.stop()

    for reply in (meetings, polls):
        slack = render_message(reply.message)
        assert len(slack.blocks) <= MAX_MESSAGE_BLOCKS
        shown = str(slack.blocks)
        assert "not shown" not in shown and all(name in shown for name in names)
        parts = discord_render(reply.message)
        assert all(len(p.content or "") <= MAX_CONTENT for p in parts)
        text = "\n".join(
            (p.content or "") + "".join(e.description or "" for e in p.embeds) for p in parts
        )
        assert all(name in text for name in names)
    assert all(f"Question {i}?" in str(render_message(polls.message).blocks) for i in range(30))
