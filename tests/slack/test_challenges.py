"""Bring a challenge on Slack end to end: ``/cop challenge list`` answers ephemerally with the
"Bring a challenge" button; pressing it in the channel opens the modal (a text input and a
static select for who may see it is yours); the submission is stored as a private challenge
and the member is told so in one sentence. Signed requests through real slack-bolt against
the fake Web API."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.challenges import Challenge, ChallengeStatus
from tests.fakes.slack_fake import (
    block_actions_payload,
    slash_command_payload,
    view_submission_payload,
)
from tests.slack.helpers import SlackBot, buttons, running_bot

ADMIN = "U0ADMIN001"
MEMBER = "U0MEMBER01"
TEXT = "A parent questions our nap routine every day"


async def _community(bot: SlackBot) -> None:
    fake = bot.fake
    fake.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    fake.add_user(MEMBER, profile={"display_name": "Begoña"})
    for who, text in ((ADMIN, 'setup "Finger Lakes CoP" America/New_York'), (MEMBER, "join")):
        status, _ = await bot.post(slash_command_payload(text, fake=fake, user_id=who))
        assert status == 200


async def test_the_bring_a_challenge_button_opens_the_modal_and_stores_it(slack_api) -> None:
    async with running_bot(slack_api) as bot:
        await _community(bot)
        status, body = await bot.post(
            slash_command_payload("challenge list", fake=slack_api, user_id=MEMBER)
        )
        listed = json.loads(body)
        pressable = buttons(listed["blocks"])
        click = block_actions_payload(
            pressable["Bring a challenge"], "", user_id=MEMBER, fake=slack_api
        )
        assert await bot.post(click) == (200, "")
        [opened] = await slack_api.wait_for("views.open")
        view = opened.json_param("view")
        status2, answer = await bot.post(
            view_submission_payload(
                view["callback_id"],
                values={
                    "text": {"value": {"type": "plain_text_input", "value": TEXT}},
                    "visibility": {
                        "value": {
                            "type": "static_select",
                            "selected_option": {
                                "text": {"type": "plain_text", "text": "Only the facilitators"},
                                "value": "private",
                            },
                        }
                    },
                },
                private_metadata=view["private_metadata"],
                view={"blocks": view["blocks"]},
                user_id=MEMBER,
            )
        )
        await bot.app.worker.drain()
        async with bot.db.session() as session:
            rows = list((await session.execute(select(Challenge))).scalars())

    assert status == 200 and listed["response_type"] == "ephemeral"
    assert listed["text"].startswith("No open challenges")
    assert status2 == 200
    assert view["callback_id"] == "challenges.bring"
    kinds = {b.get("block_id"): b["element"]["type"] for b in view["blocks"] if "element" in b}
    assert kinds == {"text": "plain_text_input", "visibility": "static_select"}
    [row] = rows
    assert (row.number, row.text, row.private, row.status) == (
        1,
        TEXT,
        True,
        ChallengeStatus.OPEN,
    )
    # The answer is ephemeral, to the member alone; nothing about it went to the channel.
    [told] = [
        c
        for c in slack_api.calls_to("chat.postEphemeral")
        if c.params["text"].startswith("Challenge #1 is in, privately")
    ]
    assert told.params["user"] == MEMBER
    assert not [c for c in slack_api.calls_to("chat.postMessage") if TEXT in c.params["text"]]
