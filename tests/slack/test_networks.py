"""On Slack, a network of three communities: a coordinator's announcement, typed in one
community's channel, reaches every community's channel once through chat.postMessage, also
when Slack's request is replayed; the text pings nobody.

Signed requests through bolt's real request handling, the real AsyncWebClient against the fake
Web API, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re

from storage.db import Database
from tests.fakes.slack_fake import CHANNEL_ID, FakeSlackWebAPI, slash_command_payload
from tests.slack.helpers import SlackBot, running_bot
from tests.support import network_posts

ADMIN, BEN, BOB, GIA = "U0ADMIN001", "U0BENALPHA", "U0BOBBETA1", "U0GIAGAMMA"
BETA, GAMMA = "C0BETA0001", "C0GAMMA001"
CODE = re.compile(r"network: ([A-Z0-9]{5}-[A-Z0-9]{5})")


async def _command(bot: SlackBot, text: str, user: str, channel: str) -> str:
    status, body = await bot.post(
        slash_command_payload(text, fake=bot.fake, user_id=user, channel_id=channel)
    )
    assert status == 200, body
    return str(json.loads(body)["text"]) if body else ""


async def test_an_announcement_reaches_every_community_channel_once(
    slack_api: FakeSlackWebAPI, db: Database
) -> None:
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    for user, name in ((BEN, "ben"), (BOB, "bob"), (GIA, "gia")):
        slack_api.add_user(user, profile={"display_name": name})
    slack_api.add_channel(BETA, "beta")
    slack_api.add_channel(GAMMA, "gamma")
    async with running_bot(slack_api, db=db) as bot:
        for channel, name, facilitator in (
            (CHANNEL_ID, "Alpha", BEN),
            (BETA, "Beta", BOB),
            (GAMMA, "Gamma", GIA),
        ):
            await _command(bot, f'setup "{name}" America/New_York', ADMIN, channel)
            await _command(bot, f"facilitator add <@{facilitator}>", ADMIN, channel)
        await _command(bot, 'network create "Hudson Valley"', BEN, CHANNEL_ID)
        for facilitator, channel in ((BOB, BETA), (GIA, GAMMA)):
            said = await _command(bot, "network invite", BEN, CHANNEL_ID)
            code = CODE.search(said)
            assert code is not None, said
            await _command(bot, f"network join {code.group(1)}", facilitator, channel)
        await bot.app.worker.drain()
        before = len(slack_api.calls_to("chat.postMessage"))
        # The coordinator makes Bob (Beta's facilitator) a coordinator; Bob announces from Beta.
        await _command(bot, f"network coordinator add <@{BOB}>", BEN, CHANNEL_ID)
        payload = slash_command_payload(
            "network announce Conference on Friday <!channel> @everyone",
            fake=slack_api,
            user_id=BOB,
            channel_id=BETA,
        )
        status, body = await bot.post(payload)
        assert status == 200
        assert "3 communities of the Hudson Valley network" in json.loads(body)["text"]
        await bot.post(payload)  # the same request again: a replay
        await bot.app.worker.drain()
        # The networks feature stored one announcement for its three communities, the
        # replay none.
        assert await network_posts(bot.db) == [("announce", 3), ("communities", 3)]
        posts = slack_api.calls_to("chat.postMessage")[before:]
        assert sorted(p.params["channel"] for p in posts) == sorted([CHANNEL_ID, BETA, GAMMA])
        for post in posts:
            text = str(post.params["text"])
            assert text.startswith("Announcement from the Hudson Valley network (bob):")
            assert "<!channel>" not in text and "&lt;!channel&gt;" in text
            blocks = json.dumps(post.json_param("blocks"))
            assert "<!channel>" not in blocks
