"""Buttons, modals and DMs through the whole bot: App + DiscordAdapter + real discord.py + fake.

A small test feature (registered next to the real ones) posts a message with buttons through
the outbox, answers a button, opens a form and takes its submission.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.commands import Command, Registry, Role
from bot.context import Context
from bot.events import ActionClicked, FormErrors, FormSubmitted, OpenForm, Respond
from bot.feature import Action, Feature
from bot.features import build_registry
from bot.ui import ActionId, Actions, Button, Form, Input, Message, Option, Section
from storage.models import Member, OutboxMessage
from tests.discord.helpers import EPHEMERAL, custom_ids, running_bot, setup_community, shown_text
from tests.fakes.discord_fake import FakeDiscord

LONG_TITLE = "Propose a topic for our next meeting together, please"


def _buttons(community_id: int) -> Message:
    return Message(
        text="Pick one",
        blocks=[
            Section.of("Pick one"),
            Actions(
                elements=[
                    Button(action=ActionId("test", "ping", community_id), label="Ping"),
                    Button(
                        action=ActionId("test", "propose", community_id),
                        label="Propose",
                        style="primary",
                    ),
                ]
            ),
        ],
    )


def feature_registry(seen: list[Any]) -> Registry:
    """The real registry plus a tiny feature that exercises buttons, forms and DMs."""
    registry = build_registry()

    async def ping(ctx: Context) -> Respond:
        await ctx.enter(ctx.action.int_arg(0))
        assert isinstance(ctx.event, ActionClicked)
        seen.append(("ping", ctx.actor.user.user_id, ctx.event.message, ctx.place.is_dm))
        return Respond(Message(text=f"pong {ctx.action.args[0]}"))

    async def propose(ctx: Context) -> OpenForm:
        community = await ctx.enter(ctx.action.int_arg(0))
        return OpenForm(
            Form(
                form_id="test_propose",
                title=LONG_TITLE,
                inputs=[
                    Input(name="topic", label="Topic", max_length=100),
                    Input(name="why", label="Why this topic?", kind="long", required=False),
                    Input(
                        name="method",
                        label="How to vote",
                        kind="select",
                        options=[
                            Option(value="ranked", label="Ranked"),
                            Option(value="approval", label="Approval"),
                        ],
                    ),
                ],
                metadata=str(community.id),
            )
        )

    async def submitted(ctx: Context) -> Respond | FormErrors:
        assert isinstance(ctx.event, FormSubmitted)
        await ctx.enter(int(ctx.event.metadata))
        values = ctx.event.values
        if not values.get("topic", "").strip():
            return FormErrors({"topic": "Please give a topic."})
        seen.append(("form", ctx.actor.user.user_id, dict(values), ctx.place.is_dm))
        return Respond(Message(text=f"Thanks, {values['topic']} is proposed."))

    async def post(ctx: Context) -> Respond:
        community = ctx.require_community()
        await ctx.services.outbox.enqueue(
            ctx.session,
            key=f"test:post:{len(seen)}:{ctx.now.isoformat()}",
            to=ctx.channel(),
            message=_buttons(community.id),  # type: ignore[arg-type]
            community_id=community.id,
        )
        return Respond(Message(text="posted"))

    async def dm(ctx: Context) -> Respond:
        community = ctx.require_community()
        seen.append(("dm-requested",))
        await ctx.services.outbox.enqueue(
            ctx.session,
            key=f"test:dm:{ctx.actor.user.user_id}:{len(seen)}",
            to=ctx.actor.user,
            message=_buttons(community.id),  # type: ignore[arg-type]
            community_id=community.id,
        )
        return Respond(Message(text="check your DMs"))

    # /cop has 24 of Discord's 25 children already: test commands are typed via /cop more.
    registry.add(
        Feature(
            name="test",
            commands=(
                Command(("testpost",), "communities.help.help", post, Role.MEMBER),
                Command(("testdm",), "communities.help.help", dm, Role.MEMBER),
            ),
            actions={
                "test:ping": Action(ping, joins=True),
                "test:propose": Action(propose, joins=True),
            },
            forms={"test_propose": submitted},
        )
    )
    return registry


async def test_button_press_after_a_restart_reaches_the_core(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    seen: list[Any] = []
    registry = feature_registry(seen)
    async with running_bot(fake, memory_db, clock, registry=registry) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(fake.slash_command_interaction("cop more", {"text": "testpost"}))
        assert await app.worker.drain() == 1
    [post] = fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")
    assert custom_ids(post.json["components"]) == ["test:ping:1", "test:propose:1"]
    assert post.json["components"][0]["components"][1]["style"] == 1  # primary
    assert post.json["allowed_mentions"] == {"parse": []}

    # A new process: new App, new adapter and client; same database and same Discord.
    async with running_bot(fake, memory_db, clock, registry=registry):
        payload = fake.button_interaction("test:ping:1")
        assert payload["message"]["id"] == post.response["id"]
        call = await fake.interact(payload)

    assert call.json["type"] == 4
    assert call.json["data"]["content"] == "pong 1"
    assert call.json["data"]["flags"] == EPHEMERAL
    [(kind, user_id, ref, is_dm)] = seen
    assert (kind, user_id, is_dm) == ("ping", fake.user["id"], False)
    assert (ref.channel_id, ref.message_id) == (str(fake.channel_id), post.response["id"])
    assert len(fake.connections) == 2 and all(c.closed for c in fake.connections)


async def test_form_opened_from_a_button_in_a_dm_and_submitted(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    seen: list[Any] = []
    async with running_bot(fake, memory_db, clock, registry=feature_registry(seen)) as (app, _):
        await setup_community(fake)
        await fake.interact(fake.slash_command_interaction("cop more", {"text": "testdm"}))
        await app.worker.drain()
        dm_id = fake.dm_channels[int(fake.user["id"])]
        [dm] = fake.calls_to("POST", rf"/channels/{dm_id}/messages")
        assert custom_ids(dm.json["components"]) == ["test:ping:1", "test:propose:1"]

        click = await fake.interact(fake.button_interaction("test:propose:1"))
        assert click.json["type"] == 9  # MODAL
        modal = click.json["data"]
        assert modal["custom_id"] == "form:test_propose:1"
        assert len(modal["title"]) == 45 and modal["title"].endswith("…")
        inputs = [row["components"][0] for row in modal["components"]]
        assert [(i["custom_id"], i["style"], i["required"]) for i in inputs] == [
            ("topic", 1, True),
            ("why", 2, False),
            ("method", 1, True),
        ]
        assert inputs[2]["placeholder"] == "One of: ranked, approval"

        blank = await fake.interact(
            fake.modal_submit_interaction(
                "form:test_propose:1",
                {"topic": " ", "why": "Spring mornings", "method": "ranked"},
                dm=True,
            )
        )
        submit = await fake.interact(
            fake.modal_submit_interaction(
                "form:test_propose:1",
                {"topic": "Outdoor play", "why": "Spring", "method": "ranked"},
                dm=True,
                labels=True,
            )
        )

    assert blank.json["data"]["flags"] == EPHEMERAL
    assert blank.json["data"]["content"] == (
        "Please fix these and submit again:\n• topic: Please give a topic.\n"
        "What you typed, to copy:\nwhy: Spring mornings\nmethod: ranked"
    )
    assert submit.json["type"] == 4 and submit.json["data"]["flags"] == EPHEMERAL
    assert submit.json["data"]["content"] == "Thanks, Outdoor play is proposed."
    assert seen[-1] == (
        "form",
        fake.user["id"],
        {"topic": "Outdoor play", "why": "Spring", "method": "ranked"},
        True,
    )


async def test_dm_to_a_member_with_closed_dms_fails_once_and_they_learn_how_to_open_them(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    seen: list[Any] = []
    async with running_bot(fake, memory_db, clock, registry=feature_registry(seen)) as (
        app,
        adapter,
    ):
        await setup_community(fake)
        fake.fail_next(
            "POST",
            r"/channels/\d+/messages",
            status=403,
            json={"code": 50007, "message": "Cannot send messages to this user"},
        )
        await fake.interact(fake.slash_command_interaction("cop more", {"text": "testdm"}))
        await app.worker.drain()
        async with memory_db.session() as session:
            [row] = (
                await session.execute(select(OutboxMessage).where(OutboxMessage.kind == "dm"))
            ).scalars()
        assert (row.status, row.error, row.attempts) == ("failed", "dm_closed", 1)
        async with memory_db.session() as session:
            [member] = (
                await session.execute(select(Member).where(Member.user_id == fake.user["id"]))
            ).scalars()
        assert member.dm_closed_at is not None  # remembered in the database, across restarts

        first = await fake.interact(fake.slash_command_interaction("cop help"))
        second = await fake.interact(fake.slash_command_interaction("cop about"))

    content = shown_text(first.json["data"])  # a long help becomes an embed
    assert content.startswith("What you can do with circlebot in")
    assert first.json["data"]["flags"] == EPHEMERAL
    assert "Privacy Settings" in content and "Direct Messages" in content
    # Told once only.
    assert "Privacy Settings" not in shown_text(second.json["data"])


async def test_dm_channel_is_opened_once_per_member(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    seen: list[Any] = []
    async with running_bot(fake, memory_db, clock, registry=feature_registry(seen)) as (app, _):
        await setup_community(fake)
        for _ in range(2):
            await fake.interact(fake.slash_command_interaction("cop more", {"text": "testdm"}))
        await app.worker.drain()
        dm_id = fake.dm_channels[int(fake.user["id"])]
        # Paced: one message per destination per second (Discord's 5 per 5 s per channel).
        assert len(fake.calls_to("POST", rf"/channels/{dm_id}/messages")) == 1
        clock.advance(timedelta(seconds=1))
        await app.worker.drain()
    assert len(fake.calls_to("POST", "/users/@me/channels")) == 1
    posts = fake.calls_to("POST", rf"/channels/{dm_id}/messages")
    assert len(posts) == 2 and all(p.status == 200 for p in posts)
    assert all("Pick one" in shown_text(p.json) for p in posts)
