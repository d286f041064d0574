"""Meeting roles on Discord end to end: the meeting card's role buttons (one action row of
their own; Discord takes 5 buttons a row), a press answered privately, stored, and shown
on the card edited in place."""

from __future__ import annotations

from sqlalchemy import select

from storage.meeting_roles import MeetingRole
from storage.models import Member
from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    custom_ids,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord


async def test_a_role_button_on_the_meeting_card_signs_up_and_is_stored(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, memory_db, clock) as (app, _adapter):
        await setup_community(fake)
        series = await fake.interact(
            fake.slash_command_interaction(
                "cop meeting series",
                {"schedule": "monthly on the first Tuesday at 18:30", "title": "Monthly CoP"},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        assert series.status == 200
        await app.worker.drain()
        [card] = [
            c
            for c in fake.calls_to("POST", channel_posts)
            if "New meetings: Monthly CoP" in shown_text(c.json)
        ]
        rows = card.json["components"]
        assert [custom_ids([row]) for row in rows][-1] == [
            f"role:take:{custom_ids(rows)[0].split(':')[2]}:{kind}"
            for kind in ("share", "lead", "notes", "host")
        ]
        lead = next(c for c in custom_ids(rows) if c.endswith(":lead"))
        press = await fake.interact(fake.button_interaction(lead, user=bob))
        assert press.status == 200 and press.json["type"] == 4
        assert press.json["data"]["flags"] == EPHEMERAL
        assert shown_text(press.json).startswith("You are leading a breakout at meeting 1")
        await app.worker.drain()
        edits = fake.calls_to("PATCH", channel_posts + r"/\d+")
        assert edits, "the card was not edited"
        assert f"Leading a breakout: <@{bob['id']}>" in shown_text(edits[-1].json)
        async with app.db.session() as session:
            stored = (
                await session.execute(
                    select(Member.user_id, MeetingRole.role).join(
                        Member, Member.id == MeetingRole.member_id
                    )
                )
            ).all()
    assert [tuple(r) for r in stored] == [(str(bob["id"]), "lead")]
