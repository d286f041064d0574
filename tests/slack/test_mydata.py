"""A member's own data on Slack end to end: ``/cop my-data export`` answers ephemerally and the
two files go up with files_upload_v2 into the member's DM only; ``/cop my-data erase`` asks
ephemerally, and the Erase button (pressed by its owner, then by someone else) answers
through the response_url. Signed requests through real slack-bolt against the fake Web API.
"""

from __future__ import annotations

import csv
import io
import json

from tests.fakes.slack_fake import (
    CHANNEL_ID,
    block_actions_payload,
    dm_channel_for,
    slash_command_payload,
)
from tests.slack.helpers import SlackBot, buttons, running_bot

ADMIN = "U0ADMIN001"
MEMBER = "U0MEMBER01"
OTHER = "U0OTHER001"
BOM = b"\xef\xbb\xbf"


async def _community_with_a_secret_ballot(bot: SlackBot) -> None:
    fake = bot.fake
    fake.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    fake.add_user(MEMBER, profile={"display_name": "Begoña"})
    fake.add_user(OTHER, profile={"display_name": "Dan"})
    await bot.post(
        slash_command_payload('setup "Finger Lakes CoP" America/New_York', fake=fake, user_id=ADMIN)
    )
    await bot.post(
        slash_command_payload(
            'poll new "¿Qué tema?" options="Niños | Familias" anonymous=yes',
            fake=fake,
            user_id=ADMIN,
        )
    )
    await bot.app.worker.drain()
    [posted] = fake.calls_to("chat.postMessage")
    ts = fake.messages[CHANNEL_ID][0]["ts"]
    niños = buttons(posted.json_param("blocks"))["Niños"]
    await bot.post(block_actions_payload(niños, "", user_id=MEMBER, message_ts=ts, fake=fake))
    await fake.wait_for("@response_url", count=1)
    await bot.app.worker.drain()


async def test_export_uploads_the_files_to_the_members_dm_only(slack_api, db) -> None:
    async with running_bot(slack_api, db=db) as bot:
        await _community_with_a_secret_ballot(bot)
        before = len(slack_api.calls_to("chat.postMessage"))
        status, text = await bot.post(
            slash_command_payload("my-data export", fake=slack_api, user_id=MEMBER)
        )
        await bot.app.worker.drain()
        posts = slack_api.calls_to("chat.postMessage")[before:]
        uploads = slack_api.calls_to("files.getUploadURLExternal")
        [complete] = slack_api.calls_to("files.completeUploadExternal")

    assert status == 200
    assert json.loads(text) == {
        "response_type": "ephemeral",
        "text": "I've sent your data by direct message.",
    }
    dm = dm_channel_for(MEMBER)
    assert [p.params["channel"] for p in posts] == [dm]  # nothing in the channel
    assert posts[0].params["text"].startswith("Your data from circlebot (one community)")
    assert complete.params["channel_id"] == dm
    assert sorted(u.params["filename"] for u in uploads) == ["my-data.json", "my-reflections.csv"]
    by_start = {c[:1]: c for c in slack_api.uploaded_files.values()}
    data = json.loads(by_start[b"{"])
    [community] = data["communities"]
    assert data["person"]["user_id"] == MEMBER
    assert community["membership"]["name"] == "Begoña"
    assert community["votes"]["ballots"][0]["anonymous"] is True
    assert community["votes"]["ballots"][0]["choices"] == {"Niños": 1}
    table = by_start[BOM[:1]]
    assert table.startswith(BOM)
    assert next(csv.reader(io.StringIO(table.decode("utf-8-sig"))))[:2] == [
        "community",
        "check_in",
    ]


async def test_erase_asks_then_the_owners_press_erases_and_anothers_is_refused(
    slack_api, db
) -> None:
    async with running_bot(slack_api, db=db) as bot:
        await _community_with_a_secret_ballot(bot)
        status, body = await bot.post(
            slash_command_payload("my-data erase", fake=slack_api, user_id=MEMBER)
        )
        ask = json.loads(body)
        erase = buttons(ask["blocks"])["Erase my data"]
        # The my-data feature's own buttons: Confirm names the person and when it was asked.
        assert erase.startswith("mydata:erase:")
        assert buttons(ask["blocks"])["Cancel"].startswith("mydata:keep:")
        await bot.post(block_actions_payload(erase, "", user_id=OTHER, fake=slack_api))
        await slack_api.wait_for("@response_url", count=2)
        await bot.post(block_actions_payload(erase, "", user_id=MEMBER, fake=slack_api))
        await slack_api.wait_for("@response_url", count=3)
        await bot.post(block_actions_payload(erase, "", user_id=MEMBER, fake=slack_api))
        answers = await slack_api.wait_for("@response_url", count=4)
        await bot.post(slash_command_payload("my-data export", fake=slack_api, user_id=MEMBER))
        await bot.app.worker.drain()
        files = list(slack_api.uploaded_files.values())

    assert status == 200 and ask["response_type"] == "ephemeral"
    assert ask["text"].startswith("Erase your data in Finger Lakes CoP?")
    assert [a.params["text"] for a in answers[1:]] == [
        "This button is for the person who asked to erase their own data; nothing changed.",
        "Your data is erased: nothing of it is linked to you any more.",
        "There was nothing of yours left to erase; nothing changed.",
    ]
    [data] = [json.loads(f) for f in files if f[:1] == b"{"]
    assert data["communities"][0]["votes"]["ballots"] == []
