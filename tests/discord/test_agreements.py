"""Agreements through the real Discord adapter: a recap at a meeting's start, "I agree"."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.agreements import AgreementAck
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


async def test_a_recap_at_the_meeting_start_and_i_agree_is_stored(
    fake_discord: FakeDiscord, db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        for command, options in (
            ("cop agreements draft", {"pick": "1,2,6"}),
            ("cop meeting series", {"schedule": "monthly on the first Tuesday at 18:30"}),
        ):
            answer = await fake.interact(
                fake.slash_command_interaction(
                    command, options, member_permissions=ADMIN_PERMISSIONS
                )
            )
            assert answer.status == 200 and answer.json["type"] == 4
        await app.worker.drain()
        before = len(fake.calls_to("POST", channel_posts))
        await app.advance(timedelta(days=2))  # past Tue 3 Nov 18:30 in the community's zone
        await app.worker.drain()

        [recap] = [
            c.json
            for c in fake.calls_to("POST", channel_posts)[before:]
            if "Before we begin" in shown_text(c.json)
        ]
        text = shown_text(recap)
        assert "1\\. What is shared here stays here" in text  # escaped: not a Markdown list
        assert "To think about:" in text
        assert recap["allowed_mentions"] == {"parse": []}
        [agree] = custom_ids(recap.get("components", []))
        assert agree.startswith("agree:ack:")

        press = await fake.interact(fake.button_interaction(agree, user=bob))
        assert press.status == 200 and press.json["type"] == 4
        assert press.json["data"]["flags"] == EPHEMERAL
        assert press.json["data"]["content"] == (
            "Thank you — you agreed to version 1 of the community agreements."
        )
        async with app.db.session() as session:
            rows = (
                await session.execute(
                    select(AgreementAck.version, Member.user_id).join(
                        Member, Member.id == AgreementAck.member_id
                    )
                )
            ).all()
    assert [tuple(r) for r in rows] == [(1, bob["id"])]
