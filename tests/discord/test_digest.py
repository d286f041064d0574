"""The digest end to end through Discord: the offset chosen by slash command, the digest
posted in the channel at that time with the meeting's RSVP buttons (discord.py's real code
paths on the loopback fake), and a member's press on one records their answer.

The news comes from the small test feature of tests/test_digest.py (``/cop news TEXT``).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.meetings import MeetingRsvp
from storage.models import Member
from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    custom_ids,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord
from tests.test_digest import registry


async def test_the_digest_arrives_with_rsvp_buttons_and_a_press_records_the_answer(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, memory_db, clock, registry=registry()) as (app, _adapter):

        async def cop(command: str, options: dict[str, str], **kw: object) -> None:
            call = await fake.interact(fake.slash_command_interaction(command, options, **kw))
            assert call.status == 200, call.response

        await setup_community(fake)
        admin = {"member_permissions": ADMIN_PERMISSIONS}
        await cop(
            "cop meeting series",
            {"schedule": "monthly on the first Tuesday at 18:30", "title": "Monthly CoP"},
            **admin,
        )
        await cop("cop meeting agenda", {"meeting": "next", "topic": "Outdoor play"}, **admin)
        await cop("cop digest", {"what": "settings", "offset": "12h"}, **admin)
        clock.advance(timedelta(minutes=5))
        await cop("cop news", {"text": "Two new resources on loose parts"}, user=bob)
        await app.worker.drain()
        before = len(fake.calls_to("POST", channel_posts))

        def digests() -> list[dict[str, object]]:
            return [
                c.json
                for c in fake.calls_to("POST", channel_posts)[before:]
                if shown_text(c.json).startswith("What's new in")
            ]

        # Tue 3 Nov 18:30 EST is 23:30 UTC: the digest is due twelve hours earlier.
        await app.advance(timedelta(hours=21, minutes=24))  # to 11:29 UTC
        assert digests() == []
        await app.advance(timedelta(minutes=2))
        [digest] = digests()
        text = shown_text(digest)
        assert "Topic: Outdoor play" in text and "news: Two new resources on loose parts" in text
        assert digest["allowed_mentions"] == {"parse": []}
        buttons = custom_ids(digest.get("components", []))  # type: ignore[arg-type]
        going = next(b for b in buttons if b.startswith("rsvp:going:"))
        press = await fake.interact(fake.button_interaction(going, user=bob))
        assert press.status == 200
        async with memory_db.session() as session:
            answers = (
                await session.execute(
                    select(Member.user_id, MeetingRsvp.answer).join(
                        Member, Member.id == MeetingRsvp.member_id
                    )
                )
            ).all()
        assert [tuple(a) for a in answers] == [(bob["id"], "going")]
        await app.advance(timedelta(hours=20))
        assert len(digests()) == 1
