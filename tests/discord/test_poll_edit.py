"""Poll edit, delete and turnout on Discord: the real DiscordAdapter and discord.py against
FakeDiscord (gateway member chunks for the Server Members intent), on both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from bot.app import App
from bot.ports import FakeClock
from storage.db import Database
from storage.voting import Ballot, Poll, PollOption
from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    custom_ids,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord

VIEW_CHANNEL = 1 << 10


async def _command(fake: FakeDiscord, name: str, options: dict[str, Any]) -> dict[str, Any]:
    call = await fake.interact(
        fake.slash_command_interaction(name, options, member_permissions=ADMIN_PERMISSIONS)
    )
    assert call.status == 200, call.response
    return dict(call.json)


async def _open_poll(fake: FakeDiscord, app: App) -> tuple[int, list[str], dict[str, Any]]:
    await _command(fake, "cop poll new", {"question": "Snack?", "options": "Apples | Pears"})
    await app.worker.drain()
    posts = [
        c
        for c in fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")
        if c.json.get("components")
    ]
    [poll] = posts
    return int(poll.response["id"]), custom_ids(poll.json["components"]), poll.json


async def test_turnout_counts_members_who_can_see_the_channel(
    fake_discord: FakeDiscord, db: Database, clock: FakeClock
) -> None:
    fake = fake_discord
    people = [fake.add_user(f"member{i}") for i in range(5)]
    hidden = fake.add_user("hidden")
    fake.channels[fake.channel_id]["permission_overwrites"] = [
        {"id": hidden["id"], "type": 1, "allow": "0", "deny": str(VIEW_CHANNEL)}
    ]
    guild = fake.members[fake.guild_id].values()
    seeing = sum(1 for m in guild if not m["user"].get("bot")) - 1  # all but `hidden`
    async with running_bot(fake, db, clock, members_intent=True) as (app, _adapter):
        await setup_community(fake)
        poll_id, buttons, posted = await _open_poll(fake, app)
        vote = await fake.interact(fake.button_interaction(buttons[0], user=people[0]))
        assert vote.status == 200
        await app.advance(timedelta(seconds=5))
        edits = fake.calls_to("PATCH", rf"/channels/{fake.channel_id}/messages/{poll_id}")
    assert seeing >= 6  # the five members and whoever ran the commands
    assert f"0 of {seeing} members who can see the channel voted" in shown_text(posted)
    assert f"1 of {seeing} members who can see the channel voted" in shown_text(edits[-1].json)


async def test_without_the_members_intent_turnout_counts_known_members(
    fake_discord: FakeDiscord, db: Database, clock: FakeClock
) -> None:
    fake = fake_discord
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        _poll_id, _buttons, posted = await _open_poll(fake, app)
    assert "0 of 1 members known to circlebot voted" in shown_text(posted)


async def test_edit_in_place_then_delete_by_confirmation(
    fake_discord: FakeDiscord, db: Database, clock: FakeClock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        poll_id, buttons, _posted = await _open_poll(fake, app)
        await app.worker.drain()
        edited = await _command(
            fake, "cop poll edit", {"poll": 1, "question": "Snack on Friday?", "options": "A | B"}
        )
        await app.worker.drain()
        path = rf"/channels/{fake.channel_id}/messages/{poll_id}"
        [edit] = fake.calls_to("PATCH", path)
        await fake.interact(
            fake.button_interaction(custom_ids(edit.json["components"])[0], user=bob)
        )
        refused = await _command(fake, "cop poll edit", {"poll": 1, "options": "X | Y"})
        confirm = await _command(fake, "cop poll delete", {"poll": 1})
        delete, keep = custom_ids(confirm["data"]["components"])
        kept = await fake.interact(
            fake.button_interaction(keep, member_permissions=ADMIN_PERMISSIONS)
        )
        by_member = await fake.interact(fake.button_interaction(delete, user=bob))
        deleted = await fake.interact(
            fake.button_interaction(delete, member_permissions=ADMIN_PERMISSIONS)
        )
        again = await fake.interact(
            fake.button_interaction(delete, member_permissions=ADMIN_PERMISSIONS)
        )
        await app.advance(timedelta(seconds=5))
        edits = fake.calls_to("PATCH", path)
    assert "updated" in shown_text(edited)
    assert "Vote #1: Snack on Friday?" in shown_text(edit.json)
    labels = [b["label"] for row in edit.json["components"] for b in row["components"]]
    assert len(buttons) == 2 and labels == ["A", "B"]
    assert "already has ballots (1)" in shown_text(refused)
    assert "Delete poll #1" in shown_text(confirm)
    assert shown_text(kept.json) == "Poll #1 is kept; nothing changed."
    assert shown_text(by_member.json) == "Only a facilitator of Finger Lakes CoP can do that."
    assert shown_text(deleted.json) == "Poll #1 is deleted, with its options and ballots."
    assert shown_text(again.json) == "That button no longer works; please use the latest message."
    assert shown_text(edits[-1].json) == "This poll was deleted."
    assert edits[-1].json["components"] == []
    async with db.session() as session:
        for model, column in ((Poll, Poll.id), (PollOption, PollOption.poll_id)):
            n = await session.execute(
                select(func.count()).select_from(model).where(col(column) == 1)
            )
            assert n.scalar_one() == 0
        n = await session.execute(select(func.count()).select_from(Ballot))
        assert n.scalar_one() == 0
