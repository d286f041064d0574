"""Discussion prompts through the real Discord adapter: the prompt is posted in the channel
and a public thread is started from it, with the bot's first line inside.

The thread is made by posting that line with ``thread_of`` (discord.py's create-thread route);
circlebot has no message-content intent and reads nothing members write in it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.conversation import PromptPost
from storage.models import OutboxMessage
from tests.discord.helpers import ADMIN_PERMISSIONS, running_bot, setup_community, shown_text
from tests.fakes.discord_fake import FakeDiscord

THREADS = r"/channels/\d+/messages/\d+/threads"
FIRST = "What is one thing a child taught you this week?"
SECOND = "How do you welcome a new family?"


async def _deliver(app, clock) -> None:  # type: ignore[no-untyped-def]
    """Drain the outbox, a second apart: Discord allows about a message a second per channel."""
    for _ in range(4):
        await app.worker.drain()
        clock.advance(timedelta(seconds=1))


async def test_a_prompt_is_posted_and_a_thread_started_for_it(
    fake_discord: FakeDiscord, db, clock
) -> None:
    fake = fake_discord
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        for command, options in (
            ("cop prompts add", {"text": FIRST}),
            ("cop prompts add", {"text": SECOND}),
            ("cop prompts schedule", {"schedule": "every other Wednesday at 12:00"}),
            ("cop prompts post", {}),
        ):
            answer = await fake.interact(
                fake.slash_command_interaction(
                    command, options, member_permissions=ADMIN_PERMISSIONS
                )
            )
            assert answer.status == 200 and answer.json["type"] == 4, answer.json
        await _deliver(app, clock)
        await app.advance(timedelta(days=3))  # past Wed 4 Nov 12:00 in New York
        await _deliver(app, clock)
        async with db.session() as session:
            posts = list(
                (await session.execute(select(PromptPost).order_by(PromptPost.id))).scalars()
            )
            rows = {
                r.key: r
                for r in (
                    await session.execute(
                        select(OutboxMessage).where(OutboxMessage.key.like("prompts:%"))
                    )
                ).scalars()
            }

    in_channel = [
        m for m in fake.messages_in(fake.channel_id) if "A question to talk about" in shown_text(m)
    ]
    assert [shown_text(m).splitlines()[1] for m in in_channel] == [FIRST, SECOND]
    starts = fake.calls_to("POST", THREADS)
    assert len(starts) == 2
    assert [p.occurrence is None for p in posts] == [True, False]
    for post, start in zip(posts, starts, strict=True):
        parent = rows[post.key]
        assert parent.status == "sent"
        assert start.path == f"/channels/{fake.channel_id}/messages/{parent.message_id}/threads"
        thread = fake.channels[int(parent.message_id or 0)]
        assert (thread["type"], thread["parent_id"]) == (11, str(fake.channel_id))
        assert [m["content"] for m in fake.messages_in(thread["id"])] == ["Replies here ↓"]
        assert rows[f"{post.key}:thread"].message_channel == thread["id"]
