"""Signed HTTP requests to the real bolt app on loopback, through the whole bot (`bot.app.App`)."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from sqlalchemy import select

from bot.commands import Command, Role
from bot.events import Respond
from bot.feature import Action, Feature
from bot.features import build_registry
from bot.ui import Message
from storage.models import Community, Member
from tests.fakes.slack_fake import (
    CHANNEL_ID,
    SIGNING_SECRET,
    USER_ID,
    block_actions_payload,
    event_payload,
    retry_headers,
    slash_command_payload,
)
from tests.slack.helpers import running_bot

ADMIN_ID = "U0ADMIN001"


def ack_json(text: str) -> dict:
    return json.loads(text)


async def test_cop_help_answers_privately_inside_the_ack(slack_api):
    async with running_bot(slack_api) as bot:
        status, text = await bot.post(slash_command_payload("help", fake=slack_api))

    assert status == 200
    reply = ack_json(text)
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("What you can do with circlebot here:")
    assert "/cop help" in reply["blocks"][0]["text"]["text"]
    # Not an admin (users.info says so), so setup is not offered.
    assert "/cop setup" not in reply["text"]
    assert slack_api.calls_to("users.info")[0].params["user"] == USER_ID


async def test_admin_sets_up_a_community_and_a_non_admin_is_refused(slack_api):
    slack_api.add_user(ADMIN_ID, is_admin=True, profile={"display_name": "ana"})
    async with running_bot(slack_api) as bot:
        status, text = await bot.post(
            slash_command_payload('setup "Finger Lakes CoP" America/New_York', fake=slack_api)
        )
        refused = ack_json(text)
        status2, text2 = await bot.post(
            slash_command_payload(
                'setup "Finger Lakes CoP" America/New_York', fake=slack_api, user_id=ADMIN_ID
            )
        )
        async with bot.db.session() as session:
            communities = (await session.execute(select(Community))).scalars().all()

    assert status == 200 and refused["response_type"] == "ephemeral"
    assert refused["text"] == "Only a workspace admin can do that."
    assert status2 == 200
    done = ack_json(text2)
    assert done["response_type"] == "in_channel"
    assert done["text"].startswith("Finger Lakes CoP is set up in this channel")
    assert [(c.platform, c.workspace_id, c.channel_id) for c in communities] == [
        ("slack", "T012AB3C4", CHANNEL_ID)
    ]


async def test_unparseable_command_is_refused_privately_in_the_persons_language(slack_api):
    """The adapter cannot know the person's language, so the core refuses the text: the
    person is looked up (users.info, for their locale) and nothing else happens."""
    async with running_bot(slack_api) as bot:
        status, text = await bot.post(slash_command_payload("frobnicate", fake=slack_api))
        async with bot.db.session() as session:
            communities = (await session.execute(select(Community))).scalars().all()

    assert status == 200
    assert ack_json(text) == {
        "response_type": "ephemeral",
        "text": 'I don\'t know the command "frobnicate"; try /cop help.',
    }
    assert [m for m in slack_api.methods_called if m.startswith(("chat.", "views."))] == []
    assert communities == []


async def test_user_text_in_replies_is_escaped(slack_api):
    async with running_bot(slack_api) as bot:
        status, text = await bot.post(
            slash_command_payload("<!channel> & <!subteam^S1>", fake=slack_api)
        )

    assert status == 200
    reply = ack_json(text)["text"]
    assert "<!channel>" not in reply and "&lt;!channel&gt;" in reply


async def test_bad_signature_and_stale_timestamp_get_401_and_dispatch_nothing(slack_api):
    async with running_bot(slack_api) as bot:
        body = slash_command_payload("help", fake=slack_api)
        bad = await bot.post(body, headers={"X-Slack-Signature": "v0=" + "0" * 64})
        stale = await bot.post(body, timestamp=int(time.time()) - 6 * 60)
        wrong = await bot.post(body, secret="not-it")

    assert [bad[0], stale[0], wrong[0]] == [401, 401, 401]
    assert slack_api.calls == []


async def test_retried_event_has_one_effect(slack_api):
    async with running_bot(slack_api) as bot:
        payload = event_payload("app_home_opened")
        first = await bot.post(payload)
        await slack_api.wait_for("views.publish")
        retry = await bot.post(payload, headers=retry_headers(1))
        retry2 = await bot.post(payload, headers=retry_headers(2, "timeout"))
        # A fresh event after the retries is the signal that they were taken up too.
        await bot.post(event_payload("app_home_opened", event={"user": "U0LATER001"}))
        await slack_api.wait_for("views.publish", count=2)

    assert first[0] == retry[0] == retry2[0] == 200
    published_for = [c.params["user_id"] for c in slack_api.calls_to("views.publish")]
    assert published_for == [USER_ID, "U0LATER001"]  # the first event and the fresh one


async def test_replayed_button_click_has_one_effect(slack_api):
    registry = build_registry()
    pressed: list[str] = []

    async def press(ctx):  # type: ignore[no-untyped-def]
        pressed.append(str(ctx.action))
        return Respond(Message(text=f"pressed {len(pressed)}"))

    registry.add(Feature(name="test", actions={"test:press": Action(press, Role.ANYONE)}))
    async with running_bot(slack_api, registry=registry) as bot:
        payload = block_actions_payload("test:press:1", "", fake=slack_api)
        first = await bot.post(payload)
        await slack_api.wait_for("@response_url")
        replay = await bot.post(payload)
        # A second, real click (new action_ts) counts again.
        again = await bot.post(block_actions_payload("test:press:1", "", fake=slack_api))
        await slack_api.wait_for("@response_url", count=2)

    assert first == replay == again == (200, "")
    assert pressed == ["test:press:1", "test:press:1"]
    posts = slack_api.response_url_posts
    assert posts[0].params["response_type"] == "ephemeral"
    assert posts[0].params["replace_original"] is False
    assert posts[0].params["text"] == "pressed 1"


async def test_unknown_button_is_answered_as_stale(slack_api):
    async with running_bot(slack_api) as bot:
        await bot.post(block_actions_payload("vote", "topic-1", fake=slack_api))
        [post] = await slack_api.wait_for("@response_url")

    assert post.params["text"] == "That button no longer works; please use the latest message."


async def test_slow_core_is_acked_empty_and_answers_through_the_response_url(slack_api):
    registry = build_registry()

    async def slow(ctx):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.5)
        return Respond(Message(text="worth the wait"))

    registry.command(
        Command(("slow",), "communities.help.help", slow, Role.ANYONE, needs_community=False)
    )
    async with running_bot(slack_api, registry=registry, ack_budget=0.2) as bot:
        status, text = await bot.post(slash_command_payload("slow", fake=slack_api))
        [post] = await slack_api.wait_for("@response_url")

    assert (status, text) == (200, "")
    assert post.params["text"] == "worth the wait"
    assert post.params["response_type"] == "ephemeral"


async def test_the_ack_budget_runs_from_the_request_arrival(slack_api):
    # Work before our listener (here a slow bolt middleware, in production a busy event
    # loop) counts against the budget: the answer then goes through the response_url rather
    # than inside an ack that bolt's own 3-second limit would cut off.
    registry = build_registry()

    async def quick(ctx):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.2)
        return Respond(Message(text="done"))

    registry.command(
        Command(("quick",), "communities.help.help", quick, Role.ANYONE, needs_community=False)
    )
    async with running_bot(slack_api, registry=registry, ack_budget=0.6) as bot:
        inline = await bot.post(slash_command_payload("quick", fake=slack_api))

        async def busy(next):  # type: ignore[no-untyped-def]
            await asyncio.sleep(0.5)
            return await next()

        bot.adapter.bolt.use(busy)
        late = await bot.post(slash_command_payload("quick", fake=slack_api))
        [post] = await slack_api.wait_for("@response_url")

    assert inline[0] == 200 and ack_json(inline[1])["text"] == "done"
    # 0.5 s before the listener + 0.2 s of work > 0.6 s from arrival: acked empty, then sent.
    assert late == (200, "")
    assert post.params["text"] == "done"


async def test_member_joined_channel_makes_a_member(slack_api):
    slack_api.add_user(ADMIN_ID, is_admin=True)
    async with running_bot(slack_api) as bot:
        await bot.post(slash_command_payload("setup Circle", fake=slack_api, user_id=ADMIN_ID))
        payload = event_payload("member_joined_channel", event={"user": "U0NEWBIE01"})
        await bot.post(payload)
        await bot.post(payload, headers=retry_headers(1))
        for _ in range(50):
            async with bot.db.session() as session:
                members = (await session.execute(select(Member.user_id))).scalars().all()
            if "U0NEWBIE01" in members:
                break
            await asyncio.sleep(0.05)

    assert sorted(members) == [ADMIN_ID, "U0NEWBIE01"]
    # users.info gave the name for the new member (events carry none).
    assert [c.params["user"] for c in slack_api.calls_to("users.info")] == [ADMIN_ID, "U0NEWBIE01"]


async def test_logs_name_kinds_and_ids_never_tokens_or_text(slack_api, caplog):
    caplog.set_level(logging.DEBUG, logger="adapters.slack")
    slack_api.fail_next("users.info", status=500, times=3)
    async with running_bot(slack_api) as bot:
        await bot.post(slash_command_payload("setup Secret Circle Name", fake=slack_api))
        await bot.post(slash_command_payload("frobnicate secretword", fake=slack_api))

    logged = caplog.text
    assert "users.info" in logged  # the failed lookup is logged by kind
    for secret in ("xoxb-test", SIGNING_SECRET, "Secret Circle Name", "secretword"):
        assert secret not in logged
