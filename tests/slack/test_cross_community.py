"""On Slack, one community's button or form used from another's channel or by an outsider is
refused ephemerally in one sentence, and nothing is stored.

Signed requests through bolt's real request handling, the real AsyncWebClient against the fake
Web API, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta

from adapters.slack.render import form_metadata
from bot.i18n import Translator
from storage.db import Database
from tests.fakes.slack_fake import (
    CHANNEL_ID,
    FakeSlackWebAPI,
    block_actions_payload,
    slash_command_payload,
    view_submission_payload,
)
from tests.slack.helpers import SlackBot, running_bot
from tests.test_cross_community import changed, snapshot

T = Translator()
ADMIN, BOB, NIA = "U0ADMIN001", "U0BOBBETA1", "U0NIANEW01"  # NIA never joined anything
BETA_CHANNEL = "C0BETA0001"


async def _command(bot: SlackBot, fake: FakeSlackWebAPI, text: str, user: str, channel: str) -> str:
    status, body = await bot.post(
        slash_command_payload(text, fake=fake, user_id=user, channel_id=channel)
    )
    assert status == 200, body
    return str(json.loads(body)["text"])


def _buttons(call) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        e["action_id"]
        for b in call.json_param("blocks")
        if b["type"] == "actions"
        for e in b["elements"]
    ]


async def test_alpha_buttons_and_forms_are_refused_outside_alpha(
    slack_api: FakeSlackWebAPI, db: Database
) -> None:
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    slack_api.add_user(BOB, profile={"display_name": "bob"})
    slack_api.add_user(NIA, profile={"display_name": "nia"})
    slack_api.add_channel(BETA_CHANNEL, "beta")
    async with running_bot(slack_api, db=db) as bot:
        await _command(bot, slack_api, 'setup "Alpha" America/New_York', ADMIN, CHANNEL_ID)
        await _command(bot, slack_api, 'setup "Beta" America/New_York', ADMIN, BETA_CHANNEL)
        assert (await _command(bot, slack_api, "join", BOB, BETA_CHANNEL)).startswith("Welcome")
        await _command(
            bot, slack_api, 'poll new "Snack?" options="Apples | Pears"', ADMIN, CHANNEL_ID
        )
        await _command(
            bot,
            slack_api,
            'poll new "Rank?" options="Apples | Pears" method=ranked',
            ADMIN,
            CHANNEL_ID,
        )
        await bot.app.worker.drain()
        bot.clock.advance(timedelta(seconds=2))  # the second poll waits for the channel's pace
        await bot.app.worker.drain()
        single, ranked = slack_api.calls_to("chat.postMessage")[:2]
        assert single.params["channel"] == CHANNEL_ID
        vote = _buttons(single)[0]
        ranked_poll = _buttons(ranked)[0].split(":")[2]
        assert vote.startswith("vote:cast:") and _buttons(ranked)[0].startswith("vote:form:")

        before = await snapshot(db)
        posted = len(slack_api.calls_to("chat.postMessage")) + len(
            slack_api.calls_to("chat.update")
        )

        # Bob (Beta) presses Alpha's vote button in Beta's channel; Nia presses it in her DM.
        await bot.post(
            block_actions_payload(vote, "", user_id=BOB, channel_id=BETA_CHANNEL, fake=slack_api)
        )
        await bot.post(block_actions_payload(vote, "", user_id=NIA, in_dm=True, fake=slack_api))
        answers = await slack_api.wait_for("@response_url", count=2)
        # Bob submits Alpha's ranked ballot form as if opened in Beta's channel.
        await bot.post(
            view_submission_payload(
                "vote.ranked",
                values={"ballot": {"value": {"type": "plain_text_input", "value": "2 1"}}},
                private_metadata=form_metadata(ranked_poll, BETA_CHANNEL, "beta", False),
                user_id=BOB,
            )
        )
        [ephemeral] = await slack_api.wait_for("chat.postEphemeral")
        await bot.app.worker.drain()
        after = await snapshot(db)
        posted_after = len(slack_api.calls_to("chat.postMessage")) + len(
            slack_api.calls_to("chat.update")
        )

    assert [(a.params["response_type"], a.params["replace_original"]) for a in answers] == [
        ("ephemeral", False),
        ("ephemeral", False),
    ]
    assert [a.params["text"] for a in answers] == [
        T("core.refuse.other_place", community="Alpha"),
        T("core.refuse.not_member", community="Alpha"),
    ]
    assert (ephemeral.params["channel"], ephemeral.params["user"]) == (BETA_CHANNEL, BOB)
    assert ephemeral.params["text"] == T("core.refuse.form_other_place", community="Alpha")
    assert changed(before, after) == []  # no member, ballot, job or outbox row
    assert posted_after == posted  # and nothing posted or edited
