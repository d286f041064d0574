"""The member's side of check-ins through the real Discord adapter: a commitment's check-back
arrives by DM with its buttons, *Tell how it went* opens a modal with selects, and a private
note is stored sealed and shared with nobody; ``/cop checkins quiet`` answers ephemerally."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from sqlmodel import col

from bot.context import background
from bot.features.reflections import member
from storage.models import Member
from storage.reflections import (
    Checkin,
    CheckinAnswer,
    CheckinCommitment,
    CheckinRound,
    CommitmentStatus,
    RoundStatus,
)
from tests.discord.helpers import EPHEMERAL, custom_ids, running_bot, setup_community, shown_text
from tests.fakes.discord_fake import FakeDiscord

TRIED = "Read the same book three days running"
NOTE = "By day three they were telling it to me"


async def test_a_check_back_by_dm_and_a_private_note_through_the_modal(
    fake_discord: FakeDiscord, db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(fake.slash_command_interaction("cop join", user=bob))
        quiet = await fake.interact(
            fake.slash_command_interaction("cop checkins quiet", {"hours": "21:00-07:30"}, user=bob)
        )
        async with app.db.session() as session:
            row = (
                await session.execute(select(Member).where(col(Member.user_id) == bob["id"]))
            ).scalar_one()
            checkin = Checkin(
                community_id=row.community_id,
                number=1,
                title="Individual reflection",
                questions=json.dumps([{"text": "One strategy I'll try", "commitment": True}]),
                timing="after",
                days=2,
                tz="America/New_York",
                open_minutes=7200,
                created_by="ana",
            )
            session.add(checkin)
            await session.flush()
            rnd = CheckinRound(
                community_id=row.community_id,
                checkin_id=checkin.id,
                number=1,
                questions=checkin.questions,
                opens_at=clock.now(),
                closes_at=clock.now() + timedelta(days=5),
                status=RoundStatus.OPEN,
            )
            session.add(rnd)
            await session.flush()
            answer = CheckinAnswer(
                community_id=row.community_id,
                round_id=rnd.id,
                member_id=row.id,
                question=0,
                sealed="",
            )
            session.add(answer)
            await session.flush()
            answer.sealed = app.services.sealer.seal(TRIED, f"reflection:{answer.id}:0")
            answer_id = answer.id
        async with background(app.services) as ctx:
            stored = await ctx.session.get(CheckinAnswer, answer_id)
            assert stored is not None
            await member.commitment_from_answer(ctx, stored, TRIED)
        await app.advance(timedelta(days=21))
        await app.worker.drain()
        dm = fake.dm_channel(bob)["id"]
        [ask] = [
            c.json
            for c in fake.calls_to("POST", rf"/channels/{dm}/messages")
            if "You said you'd try" in shown_text(c.json)
        ]
        tell = next(i for i in custom_ids(ask["components"]) if i.startswith("commit:tell:"))
        pressed = await fake.interact(fake.button_interaction(tell, user=bob))
        modal = pressed.json["data"]
        said = await fake.interact(
            fake.modal_submit_interaction(
                modal["custom_id"],
                {"how": ["notyet"], "note": NOTE, "privacy": ["private"]},
                user=bob,
                labels=True,
            )
        )
        await app.worker.drain()
        async with app.db.session() as session:
            commitment = (await session.execute(select(CheckinCommitment))).scalar_one()
        everything = [shown_text(c.json) for c in fake.calls_to("POST", r"/channels/\d+/messages")]

    assert quiet.json["data"]["flags"] == EPHEMERAL
    assert quiet.json["data"]["content"] == (
        "No reminders will reach you between 21:00 and 07:30 in your own time zone, "
        "for Finger Lakes CoP."
    )
    assert f"You said you'd try: “{TRIED}”. Did you?" in shown_text(ask)
    assert [i.split(":")[1] for i in custom_ids(ask["components"])] == [
        "tried",
        "notyet",
        "drop",
        "tell",
    ]
    assert pressed.json["type"] == 9  # a modal
    assert said.json["data"]["flags"] == EPHEMERAL
    assert said.json["data"]["content"] == "Saved; only you can read it, in /cop journal."
    assert commitment.status == CommitmentStatus.NOT_YET
    assert commitment.note_sealed and NOTE not in commitment.note_sealed
    assert not any(NOTE in text for text in everything)
