"""Mention injection: text a member typed never pings anyone, on Slack or Discord.

A corpus of broadcast and mention syntax (``@everyone``, ``<!channel>``, ``<!subteam^...>``,
forged ``<@U...>`` and ``<@123>``, role mentions, channel links, masked links, zero-width and
full-width tricks) is typed into every place circlebot shows member text again: the community's
name, poll questions and options, topic prompts and titles, agreements and proposals, meeting
titles, objectives, agendas and cancel reasons, resources, challenges, discussion prompts and
suggestions, check-in titles and questions, survey areas and proposals, networks and their
announcements, and the member's own display name. Every message the bot answered or posted
(replies, channel posts, DMs, reminders and digests after a week) is rendered through both
platform renderers and checked:

* Slack: no ``<!...>`` special mention but circlebot's own ``<!date^...>``, no ``<#...>``, and
  a ``<@U...>`` only for each `Mention` the core itself put in the message;
* Discord: ``allowed_mentions`` never allows everyone, here or roles, and allows exactly the
  members a `Mention` names; no unescaped ``<@``, ``<@&``, ``<#`` and no raw ``@everyone`` or
  ``@here`` in content, embeds or fields.

A few go end to end through the loopback fakes too (what Slack's Web API and Discord's REST
API receive), and a property test feeds the renderers generated mixtures of the corpus.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.discord.render import render as discord_render
from adapters.slack.render import render_message as slack_render
from bot.app import App
from bot.events import (
    ActionClicked,
    Actor,
    CommandInvoked,
    ConversationRef,
    FormSubmitted,
    OpenForm,
    Place,
    Respond,
    UserRef,
)
from bot.ports import FakeClock
from bot.text import clean
from bot.ui import ActionId, Context, Field_, Fields, Mention, Message, Section
from storage.db import Database
from tests.discord import conftest as discord_fixtures
from tests.slack import conftest as slack_fixtures
from tests.support import RecordingAdapter

# The loopback fakes' fixtures, for the end-to-end tests below (they live in the platforms'
# own test folders).
slack_api = slack_fixtures.slack_api
fake_discord = discord_fixtures.fake_discord

CORPUS = [
    "@everyone",
    "@here",
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!channel|channel>",
    "<!subteam^S123>",
    "<!subteam^S123|@teachers>",
    "<@U123>",
    "<@U0AMY0001>",  # a real member's id, typed: shown, not pinged
    "<@W123|boss>",
    "<#C123>",
    "<#C123|general>",
    "[click](http://evil.example)",
    "<http://evil.example|click>",
    "@every\u200bone",
    "@\u200bhere",
    "\uff20everyone",
    "<@&123456789012345678>",
    "<@123456789012345678>",
    "<@!123456789012345678>",
    "<#123456789012345678>",
    "\\<@123456789012345678> \\\\<@&123456789012345678> \\<!channel>",  # typed backslashes
    "http://evil.example\\<@123456789012345678> [x](http://evil.example)\\<#1>",  # link, backslash
    "@everyone <!channel> <@&1> <@1> [x](http://evil.example) all at once",
    "<!here> <!subteam^S1> <#C1> @every\u200bone \uff20here <@U0AMY0001> <http://evil.example|x>",
]

# Slack-style ids, so the Slack renderer would ping them if the core named them in a Mention.
ANA, AMY, MAX = "U0ANA0001", "U0AMY0001", "U0MAX0001"
CHANNEL = "C0ALPHA01"


# -- the checks ---------------------------------------------------------------------------------


def mentioned(msg: Message) -> list[str]:
    """The user ids of every `Mention` the core put in `msg` (the only legitimate pings)."""
    out: list[str] = []
    for block in msg.blocks:
        parts: list[Any] = []
        if isinstance(block, Section | Context):
            parts = list(block.parts)
        elif isinstance(block, Fields):
            parts = [p for f in block.fields for p in f.value]
        out += [p.user_id for p in parts if isinstance(p, Mention)]
    return out


_SLACK_TOKEN = re.compile(r"<([^<>]*)>")


def mrkdwn_texts(node: Any) -> Iterator[str]:
    """Every ``mrkdwn`` text of rendered Block Kit: where Slack reads ``<!...>`` and ``<@...>``.

    ``plain_text`` (button labels, option texts, headers, modal labels) is shown literally:
    Slack parses no mention syntax there, so a label "<!channel>" is only those characters.
    """
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from mrkdwn_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from mrkdwn_texts(item)


def slack_pings(msg: Message) -> list[str]:
    """What in `msg`, as Slack receives it, would ping someone who was not named by the core."""
    rendered = slack_render(msg)
    blob = "\n".join([rendered.text, *mrkdwn_texts(rendered.blocks)])
    legit = [u for u in mentioned(msg) if re.match(r"^[UW][A-Z0-9]{2,}$", u)]
    users: list[str] = []
    wrong: list[str] = []
    for token in _SLACK_TOKEN.findall(blob):
        if token.startswith("!date^"):
            continue
        if token.startswith("@"):
            users.append(token[1:].split("|")[0])
            continue
        if token.startswith(("!", "#")):
            wrong.append(f"<{token}>")
    for user in sorted(set(users)):
        if users.count(user) > legit.count(user):  # more than the core named them
            wrong.append(f"<@{user}>")
    return wrong


# A mention or channel pill: a "<" after no backslash, or after escaped backslashes only.
_LIVE_DISCORD = re.compile(r"(?<!\\)(?:\\\\)*<(?:@[!&]?|#)[0-9A-Za-z]")
_RAW_BROADCAST = re.compile(r"@(?:everyone|here)\b")


def discord_texts(part: Any) -> Iterator[str]:
    yield part.content or ""
    for embed in part.embeds:
        yield embed.description or ""
        yield embed.title or ""
        for f in embed.fields:
            yield f.name or ""
            yield f.value or ""


def discord_pings(msg: Message) -> list[str]:
    """What in `msg`, as discord.py would send it, could ping someone the core did not name."""
    legit = {int(u) for u in mentioned(msg) if u.isdigit()}
    wrong: list[str] = []
    for part in discord_render(msg):
        allowed = part.allowed_mentions().to_dict()
        if "everyone" in allowed.get("parse", []) or "roles" in allowed.get("parse", []):
            wrong.append(f"allowed_mentions {allowed}")
        if "users" in allowed.get("parse", []) or allowed.get("roles"):
            wrong.append(f"allowed_mentions {allowed}")
        if not {int(u) for u in allowed.get("users", [])} <= legit:
            wrong.append(f"allowed_mentions.users {allowed}")
        for text in discord_texts(part):
            for live in _LIVE_DISCORD.finditer(text):
                start = text.index("<", live.start())
                token = text[start : start + 25]
                digits = re.match(r"<@(\d+)>", token)
                if not (digits and int(digits[1]) in legit):
                    wrong.append(f"live {token!r}")
            if _RAW_BROADCAST.search(text):
                wrong.append(f"raw broadcast in {text[:80]!r}")
    return wrong


def pings(msg: Message) -> list[str]:
    return [f"slack {w}" for w in slack_pings(msg)] + [f"discord {w}" for w in discord_pings(msg)]


# -- the renderers alone ---------------------------------------------------------------------


@pytest.mark.parametrize("typed", CORPUS)
def test_typed_mention_syntax_pings_nobody_in_any_block(typed: str) -> None:
    text = clean(typed)
    named = Mention(user_id=AMY, name=text)
    named_discord = Mention(user_id="42", name=text)
    msg = Message(
        text=f"{text} {text}",
        blocks=[
            Section.of(text, " by ", named, " and ", named_discord, " ", text),
            Context(parts=[text, named]),
            Fields(fields=[Field_(label=text, value=[text, named_discord])]),
        ],
    )
    assert pings(msg) == []
    assert pings(Message(text=text)) == []  # text alone (a private answer)
    # The core's own mention still pings, on each platform, exactly that member.
    assert f"<@{AMY}>" in json.dumps(slack_render(msg).blocks)
    [part] = discord_render(msg)
    assert part.allowed_mentions().to_dict()["users"] == [42]


def test_the_checks_catch_a_ping() -> None:
    """The checks above can fail: raw tokens put into blocks unescaped would be caught."""
    from adapters.slack import render as slack_module

    raw = Message(text="x", blocks=[Section.of("<!channel>")])
    original = slack_module.escape
    slack_module.escape = lambda text: text  # type: ignore[assignment]
    try:
        assert slack_pings(raw) == ["<!channel>"]
        assert slack_pings(Message(text="<@U123>")) == ["<@U123>"]
    finally:
        slack_module.escape = original
    assert discord_pings(Message(text="hi", blocks=[Section.of("hi")])) == []


_FRAGMENTS = st.sampled_from([*CORPUS, " ", "\n", "x", "*", "\\", "<", ">", "@", "|", "&"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_FRAGMENTS, max_size=40).map("".join),
    st.integers(min_value=0, max_value=4500),
)
def test_generated_mixtures_ping_nobody_even_when_split(mix: str, filler: int) -> None:
    """Mixtures of the corpus, pushed over Discord's 2,000 and Slack's 3,000 characters by
    filler, so splits and cuts fall between an escape and what it escapes."""
    text = clean("y" * filler + mix, multiline=True)
    if not text:
        return
    for msg in (
        Message(text=text),
        Message(text=text, blocks=[Section.of(text)]),
        Message(text=text, blocks=[Fields(fields=[Field_(label=mix[:200] or "x", value=[text])])]),
    ):
        assert pings(msg) == [], (mix, filler)


# -- every place the core echoes member text --------------------------------------------------


class Echoes:
    """One community on the recording adapter; every message it answers or posts is kept."""

    def __init__(self, db: Database, typed: str) -> None:
        self.typed = typed
        self.fake = RecordingAdapter()
        self.clock = FakeClock(datetime(2026, 11, 2, 14, 0, tzinfo=UTC))
        self.app = App(db, self.clock, [self.fake], manual=True)
        self.replies: list[Message] = []
        self.refused: list[str] = []

    def actor(self, user: str, admin: bool = False) -> Actor:
        name = self.typed if user == MAX else user
        return Actor(UserRef("fake", "W1", user), name, admin)

    async def run(self, who: str, path: str, channel: str = CHANNEL, **params: str) -> None:
        user, admin = who, who == ANA
        place = (
            Place(ConversationRef("fake", "W1", f"D-{user}"), "", is_dm=True)
            if channel == "dm"
            else Place(ConversationRef("fake", "W1", channel), self.typed)
        )
        event = CommandInvoked(self.actor(user, admin), place, tuple(path.split()), params)
        reply = await self.app.dispatcher.handle(event)
        await self.app.worker.drain()
        if isinstance(reply, Respond):
            self.replies.append(reply.message)
            if (
                reply.private
                and reply.message.text.endswith(".")
                and "\n" not in reply.message.text
            ):
                self.refused.append(f"/cop {path}: {reply.message.text}")
        elif isinstance(reply, OpenForm):
            self.replies.append(Message(text=reply.form.title))

    async def everywhere(self) -> None:
        s = self.typed
        await self.run(ANA, "setup", name="Alpha", timezone="America/New_York")
        await self.run(ANA, "settings", name=f"Alpha {s}")
        await self.run(ANA, "facilitator add", user=f"<@{AMY}>")
        await self.run(MAX, "join")
        await self.run(AMY, "poll new", question=f"{s} snack?", options=f"{s} apples ; pears")
        await self.run(AMY, "poll new", question=f"Pick {s}", options=f"{s} | Pears")
        await self.run(MAX, "poll results")
        await self.run(AMY, "topics open", prompt=f"What next {s}?")
        await self.run(MAX, "topics propose", title=f"Outdoor {s}", why=f"Because {s}")
        await self.run(MAX, "topics list")
        await self.run(AMY, "agreements draft", pick="1,2")
        await self.run(AMY, "agreements add", text=f"We listen {s}")
        await self.run(MAX, "agreements propose", text=f"Phones away {s}", why=f"{s} matters")
        await self.run(MAX, "agreements show")
        await self.run(MAX, "agreements proposals")
        await self.run(
            AMY,
            "meeting series",
            schedule="weekly on Tuesday at 10:00",
            title=f"CoP {s}",
            objectives=f"Share {s}",
            segments=f"Welcome {s}; Sharing",
            reminders="1d",
        )
        await self.run(AMY, "meeting agenda", meeting="next", topic=f"Agenda {s}")
        await self.run(MAX, "meeting list")
        await self.run(MAX, "resources add", url="https://example.org/guide", title=f"Guide {s}")
        await self.run(MAX, "resources list")
        await self.run(MAX, "challenge add", text=f"Biting {s}")
        await self.run(MAX, "challenge list")
        await self.run(AMY, "prompts add", text=f"What helps {s}?")
        await self.run(MAX, "prompts suggest", text=f"Pickup {s}?")
        await self.run(MAX, "prompts list")
        await self.run(AMY, "prompts post")
        await self.run(AMY, "checkins add", title=f"Check {s}", timing="after:1d")
        await self.run(AMY, "checkins question", number="1", verb="add", text=f"Notice {s}?")
        await self.run(AMY, "checkins list")
        await self.run(AMY, "survey areas", verb="add", area=f"Families {s}")
        await self.run(AMY, "survey open")
        await self.run(MAX, "survey propose", title=f"Play {s}")
        await self.run(MAX, "survey areas")
        await self.run(AMY, "network create", name=f"Lakes {s}")
        await self.run(AMY, "network announce", text=f"Spring {s}")
        await self.run(AMY, "network show")
        await self.run(MAX, "about")
        await self.run(AMY, "members")
        await self.run(AMY, "meeting cancel", meeting="next", reason=f"Snow {s}")
        # Ten days of jobs: reminders, recaps, check-ins, digests, prompts.
        await self.app.advance(timedelta(days=10))
        await self.app.worker.drain()
        await self.reflect(f"Noticed {s}")

    async def reflect(self, text: str) -> None:
        """max answers the check-in asked in his DM, sharing the answer with his name."""
        asked = [
            b.action
            for sent in self.fake.sent
            if sent.target == MAX
            for b in sent.message.buttons()
            if b.action.startswith("reflect:answer:")
        ]
        assert asked, "the check-in was never asked"
        dm = Place(ConversationRef("fake", "W1", f"D-{MAX}"), "", is_dm=True)
        opened = await self.app.dispatcher.handle(
            ActionClicked(self.actor(MAX), dm, ActionId.parse(asked[-1]))
        )
        assert isinstance(opened, OpenForm), opened
        form = opened.form
        values = {"q1": text, "p1": "named"}
        reply = await self.app.dispatcher.handle(
            FormSubmitted(self.actor(MAX), dm, form.form_id, values, form.metadata)
        )
        assert isinstance(reply, Respond), reply
        self.replies.append(reply.message)
        await self.app.worker.drain()
        await self.app.advance(timedelta(days=3))
        await self.app.worker.drain()

    def messages(self) -> list[Message]:
        return [*self.replies, *(sent.message for sent in self.fake.sent)]


#: The corpus entries the default run pushes everywhere (each takes a few seconds: a whole
#: community's life); ``-m long`` pushes all of them.
EVERYWHERE_FAST = set(CORPUS[-2:])


@pytest.mark.parametrize(
    "typed",
    [t if t in EVERYWHERE_FAST else pytest.param(t, marks=pytest.mark.long) for t in CORPUS],
)
async def test_member_text_pings_nobody_wherever_the_core_echoes_it(
    memory_db: Database, typed: str
) -> None:
    echoes = Echoes(memory_db, typed)
    await echoes.app.start()
    try:
        await echoes.everywhere()
    finally:
        await echoes.app.stop()
    messages = echoes.messages()
    wrong = [(m.text[:60], w) for m in messages for w in pings(m)]
    assert wrong == [], wrong
    # Not vacuous: the typed text was accepted and shown back in many places.
    shown = clean(typed)
    as_json = json.dumps(shown, ensure_ascii=False)[1:-1]  # how it reads inside a dump
    echoed = [m for m in messages if shown in m.text or as_json in m.model_dump_json()]
    assert len(echoed) >= 15, (len(echoed), echoes.refused)
    assert len(echoes.fake.sent) >= 5, echoes.refused
    # The shared reflection answer was posted for the group, with max's name.
    assert any(f"Noticed {as_json}" in s.message.model_dump_json() for s in echoes.fake.sent)


# -- end to end through the platform fakes ----------------------------------------------------


async def test_slack_receives_no_special_mention_in_a_poll_typed_with_the_corpus(
    slack_api: Any,
) -> None:
    from tests.fakes.slack_fake import slash_command_payload
    from tests.slack.helpers import running_bot

    slack_api.add_user(ANA, is_admin=True, profile={"display_name": "<!channel> ana"})
    question = " ".join(CORPUS[:12]).replace('"', "")
    options = " | ".join(c.replace("|", "/") for c in CORPUS[12:18])
    answers: list[dict[str, Any]] = []
    async with running_bot(slack_api) as bot:
        for text in (
            'setup "Alpha <!here>" America/New_York',
            f'poll new "{question}" options="{options}"',
            f'topics open "{question}"',
        ):
            status, body = await bot.post(slash_command_payload(text, fake=slack_api, user_id=ANA))
            assert status == 200, body
            answers.append(json.loads(body))
        await bot.app.worker.drain()
    posts = [*slack_api.calls_to("chat.postMessage"), *slack_api.response_url_posts]
    assert posts, slack_api.methods_called
    sent = [{"text": p.params.get("text"), "blocks": p.json_param("blocks")} for p in posts]
    assert any("evil.example" in json.dumps(m) for m in sent), sent
    for message in [*answers, *sent]:
        for text in [message.get("text") or "", *mrkdwn_texts(message.get("blocks") or [])]:
            assert not re.search(r"<(?!!date\^)[!#@]", text), text
    assert not any(p.params.get("link_names") for p in posts)


async def test_discord_receives_no_mention_it_may_ping_in_a_poll_typed_with_the_corpus(
    fake_discord: Any, memory_db: Database, clock: FakeClock
) -> None:
    from tests.discord.helpers import ADMIN_PERMISSIONS, running_bot, setup_community

    fake = fake_discord
    question = " ".join(CORPUS[:10])[:290]
    options = " | ".join(c.replace("|", "/") for c in CORPUS[15:22])
    async with running_bot(fake, memory_db, clock) as (app, _adapter):
        await setup_community(fake)
        answer = await fake.interact(
            fake.slash_command_interaction(
                "cop poll new",
                {"question": question, "options": options},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        assert answer.status == 200, answer.json
        await fake.interact(
            fake.slash_command_interaction(
                "cop topics open", {"prompt": question}, member_permissions=ADMIN_PERMISSIONS
            )
        )
        await app.worker.drain()
        posts = fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")
        answers = fake.calls_to("POST", r"/interactions/.*/callback")
    assert posts and len(answers) >= 3, fake.describe_calls()
    assert any("everyone" in json.dumps(p.json) for p in posts)
    for post in [*posts, *answers]:
        data = post.json.get("data", post.json)
        if not data or (data.get("flags", 0) & 64 and "allowed_mentions" not in data):
            continue  # an ephemeral answer (flag 64) is seen by its author alone
        mentions = data.get("allowed_mentions")
        assert mentions is not None and mentions.get("parse") == [], data
        assert not mentions.get("roles") and not mentions.get("users"), data
        texts = [data.get("content") or ""]
        for embed in data.get("embeds") or []:
            texts += [embed.get("description") or "", embed.get("title") or ""]
            texts += [f.get("name", "") + f.get("value", "") for f in embed.get("fields") or []]
        for text in texts:
            assert not _LIVE_DISCORD.search(text), text
            assert not _RAW_BROADCAST.search(text), text
