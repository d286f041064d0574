"""A Discord interaction delivered twice (a gateway resume replays it) has one effect.

The same INTERACTION_CREATE, byte for byte, reaches the real discord.py client a second time
through FakeDiscord; the core recognises its interaction id (remembered in the database with
the first delivery's effect) and does nothing. Discord refuses the second answer (40060).
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from storage.meetings import MeetingSeries
from storage.models import SeenRequest
from storage.voting import Ballot, Poll, PollOption
from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    custom_ids,
    running_bot,
    setup_community,
)
from tests.fakes.discord_fake import FakeDiscord


async def count(db, model) -> int:
    async with db.session() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_poll_new_delivered_twice_opens_one_poll(fake_discord: FakeDiscord, db, clock):
    fake = fake_discord
    posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        payload = fake.slash_command_interaction(
            "cop poll new",
            {"question": "Which topic next?", "options": "Outdoor play | Transitions"},
            member_permissions=ADMIN_PERMISSIONS,
        )
        first = await fake.interact(payload)
        assert first.status == 200 and "Poll #1" in json.dumps(first.json), first.json
        again = await fake.redeliver(payload["id"])
        await app.worker.drain()

        assert again.status == 400 and again.response["code"] == 40060
        assert await count(db, Poll) == 1
        polls = [c for c in fake.calls_to("POST", posts) if c.json.get("components")]
        assert len(polls) == 1, fake.describe_calls()
        async with db.session() as s:
            keys = set((await s.execute(select(SeenRequest.key))).scalars())
        assert f"discord:interaction:{payload['id']}" in keys


async def test_meeting_series_delivered_twice_makes_one_series(
    fake_discord: FakeDiscord, db, clock
):
    fake = fake_discord
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        payload = fake.slash_command_interaction(
            "cop meeting series",
            {
                "schedule": "monthly on the first Tuesday at 18:30",
                "title": "Monthly CoP",
                "link": "https://meet.example.org/cop",
            },
            member_permissions=ADMIN_PERMISSIONS,
        )
        first = await fake.interact(payload)
        assert first.status == 200 and first.json["type"] == 4, first.json
        again = await fake.redeliver(payload["id"])
        await app.worker.drain()

        assert again.status == 400
        assert await count(db, MeetingSeries) == 1
        announcements = [
            c
            for c in fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")
            if "Monthly CoP" in json.dumps(c.json)
        ]
        assert len(announcements) == 1, fake.describe_calls()


async def test_an_earlier_vote_press_delivered_again_does_not_undo_a_later_one(
    fake_discord: FakeDiscord, db, clock
):
    fake = fake_discord
    bob = fake.add_user("bob")
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(
            fake.slash_command_interaction(
                "cop poll new",
                {"question": "Which topic next?", "options": "Outdoor play | Transitions"},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        await app.worker.drain()
        [poll] = [
            c
            for c in fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")
            if c.json.get("components")
        ]
        outdoor, transitions = custom_ids(poll.json["components"])[:2]
        press = fake.button_interaction(outdoor, user=bob)
        await fake.interact(press)
        changed = await fake.interact(fake.button_interaction(transitions, user=bob))
        assert "Transitions" in changed.json["data"]["content"]
        await fake.redeliver(press["id"])

        async with db.session() as s:
            labels = {o.id: o.label for o in (await s.execute(select(PollOption))).scalars()}
            [ballot] = (await s.execute(select(Ballot))).scalars()
        chosen = [labels[int(k)] for k in json.loads(ballot.choices)]
        assert chosen == ["Transitions"]
