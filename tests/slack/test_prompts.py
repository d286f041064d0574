"""Discussion prompts through the real Slack adapter: a prompt is a channel message whose
replies form its thread (the bot's first line there carries the prompt's ``thread_ts``).

circlebot reads none of the replies: it subscribes to no message events.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.conversation import PromptPost
from storage.models import OutboxMessage
from tests.fakes.slack_fake import CHANNEL_ID, slash_command_payload
from tests.slack.helpers import running_bot

ADMIN = "U0ADMIN001"
FIRST = "What is one thing a child taught you this week?"
SECOND = "How do you welcome a new family?"


async def _deliver(bot) -> None:  # type: ignore[no-untyped-def]
    """Drain the outbox, a second apart: Slack posts about one message a second per channel."""
    for _ in range(3):
        await bot.app.worker.drain()
        bot.clock.advance(timedelta(seconds=1))


async def test_a_prompt_starts_a_thread_now_and_on_its_schedule(slack_api, db) -> None:
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    async with running_bot(slack_api, db=db) as bot:
        for text in (
            'setup "Finger Lakes CoP" America/New_York',
            f"prompts add {FIRST}",
            f"prompts add {SECOND}",
            'prompts schedule "every other Wednesday at 12:00"',
            "prompts post",
        ):
            status, _ = await bot.post(slash_command_payload(text, fake=slack_api, user_id=ADMIN))
            assert status == 200
        await _deliver(bot)
        await bot.app.advance(timedelta(days=3))  # past Wed 4 Nov 12:00 in New York
        await _deliver(bot)
        async with bot.db.session() as session:
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

    calls = slack_api.calls_to("chat.postMessage")
    prompts = [c for c in calls if c.params["text"].startswith("A question to talk about")]
    # The facilitator's post, then the scheduled one, each a top-level message in the channel.
    assert [p.params["text"].splitlines()[1] for p in prompts] == [FIRST, SECOND]
    assert all(p.params["channel"] == CHANNEL_ID and "thread_ts" not in p.params for p in prompts)
    assert [p.occurrence is None for p in posts] == [True, False]
    for post in posts:
        parent = rows[post.key]
        assert parent.status == "sent" and parent.message_channel == CHANNEL_ID
        [reply] = [c for c in calls if c.params.get("thread_ts") == parent.message_id]
        assert reply.params["text"] == "Replies here ↓"
        assert reply.params["channel"] == CHANNEL_ID
        in_thread = slack_api.thread_replies(CHANNEL_ID, parent.message_id or "")
        assert [m["text"] for m in in_thread] == ["Replies here ↓"]
        assert rows[f"{post.key}:thread"].status == "sent"
