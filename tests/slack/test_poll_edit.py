"""Poll edit, delete and turnout through the real Slack adapter: signed requests through bolt,
the real AsyncWebClient against the fake Web API (which serves conversations.members)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import col

from storage.db import Database
from storage.voting import Ballot, Poll, PollOption
from tests.fakes.slack_fake import (
    BOT_USER_ID,
    CHANNEL_ID,
    block_actions_payload,
    slash_command_payload,
)
from tests.slack.helpers import SlackBot, running_bot
from tests.slack.test_poll_end_to_end import button_ids, texts

ADMIN = "U0ADMIN001"
VOTER = "U0VOTER001"


async def _command(bot: SlackBot, text: str, user: str = ADMIN) -> dict:
    status, body = await bot.post(slash_command_payload(text, fake=bot.fake, user_id=user))
    assert status == 200
    return dict(json.loads(body))


async def _press(bot: SlackBot, action_id: str, user: str, ts: str, n: int) -> str:
    status, _ = await bot.post(
        block_actions_payload(action_id, "", user_id=user, message_ts=ts, fake=bot.fake)
    )
    assert status == 200
    await bot.fake.wait_for("@response_url", count=n)
    return str(bot.fake.response_url_posts[-1].params["text"])


async def test_turnout_counts_the_channel_members_slack_lists(slack_api, db: Database) -> None:
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    # 12 people and circlebot itself, over three pages of conversations.members.
    people = [f"U0PEOPLE{i:03d}" for i in range(11)] + [ADMIN]
    slack_api.channel_members[CHANNEL_ID] = [BOT_USER_ID, *people]
    async with running_bot(slack_api, db=db) as bot:
        await _command(bot, 'setup "Finger Lakes CoP" America/New_York')
        await _command(bot, 'poll new "Snack?" options="Apples | Pears"')
        await bot.app.worker.drain()
        [posted] = slack_api.calls_to("chat.postMessage")
        ts = slack_api.messages[CHANNEL_ID][0]["ts"]
        apples = button_ids(posted.json_param("blocks"))["Apples"]
        await _press(bot, apples, VOTER, ts, 1)
        await bot.app.advance(timedelta(seconds=5))
        [edit] = slack_api.calls_to("chat.update")
        results = await _command(bot, "poll results 1")
        listings = slack_api.calls_to("conversations.members")
    assert "0 of 12 channel members voted" in texts(posted.json_param("blocks"))
    assert "1 of 12 channel members voted" in texts(edit.json_param("blocks"))
    assert "Turnout: 1 of 12 channel members voted." in results["text"]
    # Three events within a minute, one listing (cached per channel).
    assert [c.params["channel"] for c in listings] == [CHANNEL_ID]


async def test_turnout_without_the_scope_says_it_counts_known_members(slack_api) -> None:
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    async with running_bot(slack_api) as bot:  # no channel_members: missing_scope
        await _command(bot, 'setup "Finger Lakes CoP" America/New_York')
        await _command(bot, 'poll new "Snack?" options="Apples | Pears"')
        await bot.app.worker.drain()
        [posted] = slack_api.calls_to("chat.postMessage")
    assert "0 of 1 members known to circlebot voted" in texts(posted.json_param("blocks"))


async def test_edit_in_place_then_delete_by_confirmation(slack_api, db: Database) -> None:
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    async with running_bot(slack_api, db=db) as bot:
        await _command(bot, 'setup "Finger Lakes CoP" America/New_York')
        await _command(bot, 'poll new "Snack?" options="Apples | Pears"')
        await bot.app.worker.drain()
        ts = slack_api.messages[CHANNEL_ID][0]["ts"]
        edited = await _command(bot, 'poll edit 1 question="Snack on Friday?" options="A | B | C"')
        await bot.app.worker.drain()
        [update] = slack_api.calls_to("chat.update")
        apples = button_ids(update.json_param("blocks"))["A"]
        await _press(bot, apples, VOTER, ts, 1)
        refused = await _command(bot, 'poll edit 1 options="X | Y"')
        confirm = await _command(bot, "poll delete 1")
        buttons = button_ids(confirm["blocks"])
        not_facilitator = await _press(bot, buttons["Delete poll"], VOTER, ts, 2)
        deleted = await _press(bot, buttons["Delete poll"], ADMIN, ts, 3)
        again = await _press(bot, buttons["Delete poll"], ADMIN, ts, 4)
        await bot.app.advance(timedelta(seconds=5))  # past the per-channel pace of edits
        updates = slack_api.calls_to("chat.update")
    assert edited["text"] == "Poll #1 is updated; its message in the channel shows the change."
    assert update.params["ts"] == ts
    assert "Vote #1: Snack on Friday?" in texts(update.json_param("blocks"))
    assert list(button_ids(update.json_param("blocks"))) == ["A", "B", "C"]
    assert refused["text"].startswith("Poll #1 already has ballots (1)")
    assert list(buttons) == ["Delete poll", "Keep it"]
    assert not_facilitator == "Only a facilitator of Finger Lakes CoP can do that."
    assert deleted == "Poll #1 is deleted, with its options and ballots."
    assert again == "That button no longer works; please use the latest message."
    assert updates[-1].params["ts"] == ts
    assert updates[-1].params["text"] == "This poll was deleted."
    assert button_ids(updates[-1].json_param("blocks") or []) == {}
    async with db.session() as session:
        for model, column in ((Poll, Poll.id), (PollOption, PollOption.poll_id)):
            n = await session.execute(
                select(func.count()).select_from(model).where(col(column) == 1)
            )
            assert n.scalar_one() == 0
        n = await session.execute(select(func.count()).select_from(Ballot))
        assert n.scalar_one() == 0
