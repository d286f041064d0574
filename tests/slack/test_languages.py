"""Languages on Slack through real slack-bolt request handling: a member whose Slack is in
Spanish (``users.info`` locale es-ES, kept by the core from the adapter's ``ProfileSeen``) gets
private answers and DMs in Spanish, while the English community's channel posts stay English.
"""

from __future__ import annotations

import json
from datetime import timedelta

from bot.i18n import translator
from tests.fakes.slack_fake import CHANNEL_ID, dm_channel_for, slash_command_payload
from tests.slack.helpers import SlackBot, running_bot

ADMIN = "U0ADMIN001"
MEMBER = "U0MEMBER01"
NEWCOMER = "U0NEWCOME1"
ES = translator("es")
EN = translator("en")


async def _command(bot: SlackBot, text: str, user: str) -> dict[str, str]:
    status, body = await bot.post(slash_command_payload(text, fake=bot.fake, user_id=user))
    assert status == 200
    await bot.adapter.settled()  # the profile report runs after the answer, in the background
    return json.loads(body) if body else {}


async def test_a_spanish_slack_member_reads_spanish_privately_and_english_in_the_channel(
    slack_api, db
) -> None:
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    slack_api.add_user(MEMBER, locale="es-ES", profile={"display_name": "Begoña"})
    async with running_bot(slack_api, db=db) as bot:
        await _command(bot, 'setup "Finger Lakes CoP" America/New_York', ADMIN)
        joined = await _command(bot, "join", MEMBER)
        # In the channel, for everyone: the community's English.
        assert joined["response_type"] == "in_channel"
        assert joined["text"] == EN("communities.joined", name="Finger Lakes CoP", member="Begoña")
        # Only to her: Spanish, the language of her Slack, without /cop my language.
        asked = await _command(bot, "my language", MEMBER)
        assert asked["response_type"] == "ephemeral"
        assert asked["text"] == ES("mydata.language.platform", language="español")

        # Someone whose very first request this is: the users.info lookup made for their name
        # gives their locale too, so even this first answer is in their language.
        slack_api.add_user(NEWCOMER, locale="es-419", profile={"display_name": "Tomás"})
        first = await _command(bot, "my language", NEWCOMER)
        assert first["text"] == ES("mydata.language.default", language="español")

        await _command(
            bot, 'poll new "Snack?" options="Apples | Pears" closes="in 2 days" remind="1d"', ADMIN
        )
        await bot.app.worker.drain()
        before = len(slack_api.calls)
        await bot.app.advance(timedelta(days=1, minutes=1))
        await bot.app.worker.drain()
        posts = [c for c in slack_api.calls[before:] if c.method == "chat.postMessage"]

    values = {"community": "Finger Lakes CoP", "question": "Snack?", "when": "\x00"}
    spanish = ES("voting.remind.text", **values).split("\x00")[0]
    english = EN("voting.remind.text", **values).split("\x00")[0]
    assert spanish != english
    to = {p.params["channel"]: p.params["text"] for p in posts}
    assert CHANNEL_ID not in to  # the reminder is private: nothing more in the channel
    assert to[dm_channel_for(MEMBER)].startswith(spanish)
    assert to[dm_channel_for(ADMIN)].startswith(english)  # ana's Slack is in English
    [poll] = [m for m in slack_api.messages[CHANNEL_ID] if "Snack?" in m.get("text", "")]
    assert EN("voting.poll.closes", when="") in json.dumps(poll.get("blocks"), ensure_ascii=False)
