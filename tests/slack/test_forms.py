"""A form opened from a button in a DM (proposing a topic) and submitted, through bolt."""

from __future__ import annotations

import json

from bot.commands import Role
from bot.events import FormErrors, OpenForm, Respond
from bot.feature import Action, Feature
from bot.features import build_registry
from bot.ui import Form, Input, Message
from tests.fakes.slack_fake import (
    DM_CHANNEL_ID,
    USER_ID,
    block_actions_payload,
    view_closed_payload,
    view_submission_payload,
)
from tests.slack.helpers import running_bot


def proposal_registry(submitted: list):  # type: ignore[no-untyped-def]
    """The core's registry plus a stand-in for voting's "propose a topic" button and form."""
    registry = build_registry()

    async def open_form(ctx):  # type: ignore[no-untyped-def]
        poll = ctx.action.args[0]
        return OpenForm(
            Form(
                form_id="topic:propose",
                title="Propose a topic for the next meeting",
                inputs=[
                    Input(name="topic", label="Topic", max_length=100),
                    Input(name="why", label="Why it matters", kind="long", required=False),
                ],
                submit_label="Propose",
                metadata=poll,
            )
        )

    async def submit(ctx):  # type: ignore[no-untyped-def]
        values = ctx.event.values
        if not values["topic"].strip():
            return FormErrors({"topic": "Please name a topic."})
        submitted.append((ctx.event.metadata, values, ctx.place.conversation.channel_id))
        return Respond(Message(text=f"Thanks! “{values['topic']}” is on the list."))

    registry.add(
        Feature(
            name="test",
            actions={"topic:propose": Action(open_form, Role.ANYONE)},
            forms={"topic:propose": submit},
        )
    )
    return registry


def answers(topic: str | None, why: str | None = None) -> dict:
    return {
        "topic": {"value": {"type": "plain_text_input", "value": topic}},
        "why": {"value": {"type": "plain_text_input", "value": why}},
    }


async def test_form_opened_from_a_dm_button_then_submitted(slack_api):
    submitted: list = []
    async with running_bot(slack_api, registry=proposal_registry(submitted)) as bot:
        click = block_actions_payload("topic:propose:42", "", in_dm=True, fake=slack_api)
        assert await bot.post(click) == (200, "")
        [opened] = await slack_api.wait_for("views.open")
        view = opened.json_param("view")

        empty = view_submission_payload(
            "topic:propose",
            values=answers("  "),
            private_metadata=view["private_metadata"],
            view={"blocks": view["blocks"]},
        )
        status, errors = await bot.post(empty)

        good = view_submission_payload(
            "topic:propose",
            values=answers("Outdoor play <!here>", "Kids love it"),
            private_metadata=view["private_metadata"],
            view={"blocks": view["blocks"]},
        )
        closed = await bot.post(good)
        replayed = await bot.post(good)
        [thanks] = await slack_api.wait_for("chat.postMessage")
        cancelled = await bot.post(view_closed_payload("topic:propose"))

    assert opened.params["trigger_id"] == click["trigger_id"]
    assert view["type"] == "modal" and view["callback_id"] == "topic:propose"
    assert view["title"]["text"] == "Propose a topic for the…"  # modal titles: 24 characters
    assert view["submit"]["text"] == "Propose"
    assert [b["block_id"] for b in view["blocks"]] == ["topic", "why"]
    assert view["blocks"][0]["element"]["max_length"] == 100
    assert view["blocks"][1]["optional"] is True
    assert view["blocks"][1]["element"]["multiline"] is True
    assert json.loads(view["private_metadata"]) == {
        "m": "42",
        "c": DM_CHANNEL_ID,
        "n": "directmessage",
        "d": True,
    }

    assert status == 200
    assert json.loads(errors) == {
        "response_action": "errors",
        "errors": {"topic": "Please name a topic."},
    }
    assert closed == replayed == (200, "")
    assert submitted == [
        ("42", {"topic": "Outdoor play <!here>", "why": "Kids love it"}, DM_CHANNEL_ID)
    ]
    assert thanks.params["channel"] == DM_CHANNEL_ID
    assert thanks.params["text"] == "Thanks! “Outdoor play &lt;!here&gt;” is on the list."
    assert cancelled == (200, "")


async def test_form_submitted_from_a_channel_answers_ephemerally(slack_api):
    submitted: list = []
    async with running_bot(slack_api, registry=proposal_registry(submitted)) as bot:
        await bot.post(block_actions_payload("topic:propose:7", "", fake=slack_api))
        [opened] = await slack_api.wait_for("views.open")
        view = opened.json_param("view")
        await bot.post(
            view_submission_payload(
                "topic:propose",
                values=answers("Transitions"),
                private_metadata=view["private_metadata"],
                view={"blocks": view["blocks"]},
            )
        )
        [ephemeral] = await slack_api.wait_for("chat.postEphemeral")

    assert ephemeral.params["channel"] == "C012AB3CD"
    assert ephemeral.params["user"] == USER_ID
    assert submitted[0][2] == "C012AB3CD"


async def test_expired_trigger_tells_the_person(slack_api):
    slack_api.fail_next("views.open", error="expired_trigger_id")
    async with running_bot(slack_api, registry=proposal_registry([])) as bot:
        await bot.post(block_actions_payload("topic:propose:1", "", in_dm=True, fake=slack_api))
        [said] = await slack_api.wait_for("@response_url")

    assert said.params["text"] == "I couldn't open the form; please try again."
