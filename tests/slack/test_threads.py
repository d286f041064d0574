"""Replies in threads on Slack: chat.postMessage with the parent's ``thread_ts``, never twice.

The real AsyncWebClient talks to the fake Web API. A reply queued with ``thread_of`` goes out
after its parent, in the parent's thread; a reply whose answer was lost is looked for in the
thread (conversations.replies, since conversations.history lists top-level messages only).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from adapters.slack.adapter import SlackAdapter
from bot.events import ConversationRef, UserRef
from bot.ui import File, Message, Section
from storage.models import OutboxMessage
from tests.fakes.slack_fake import CHANNEL_ID, TEAM_ID, FakeSlackWebAPI, dm_channel_for
from tests.slack.helpers import START, running_bot

CHANNEL = ConversationRef("slack", TEAM_ID, CHANNEL_ID)
TIMEOUT = 0.3  # the adapter's request timeout in these tests
LATE = 0.8  # how late the fake answers a slow call


@pytest.fixture
async def slack_now():
    """A fake whose message timestamps are the bot's clock time, so `oldest` means something."""
    async with FakeSlackWebAPI(ts_base=int(START.timestamp())) as fake:
        yield fake


async def _enqueue(bot, key: str, to, message: Message, **kw) -> None:  # type: ignore[no-untyped-def]
    async with bot.db.session() as session:
        await bot.app.outbox.enqueue(session, key=key, to=to, message=message, **kw)


async def _row(bot, key: str) -> OutboxMessage:  # type: ignore[no-untyped-def]
    async with bot.db.session() as session:
        return (
            await session.execute(select(OutboxMessage).where(OutboxMessage.key == key))
        ).scalar_one()


async def _deliver(bot) -> None:  # type: ignore[no-untyped-def]
    """Drain the outbox, a second apart: Slack posts about one message a second per channel."""
    for _ in range(3):
        await bot.app.worker.drain()
        bot.clock.advance(timedelta(seconds=1))


def _key(message: dict) -> str:  # type: ignore[type-arg]
    return ((message.get("metadata") or {}).get("event_payload") or {}).get("key", "")


def test_slack_says_it_has_threads() -> None:
    assert SlackAdapter.capabilities.threads


async def test_a_reply_is_posted_with_the_parents_thread_ts(slack_now: FakeSlackWebAPI, db) -> None:
    async with running_bot(slack_now, db=db) as bot:
        # The reply is queued first: it still waits for its parent's ts.
        await _enqueue(
            bot, "checkin:1:share:1", CHANNEL, Message(text="I tried it"), thread_of="checkin:1"
        )
        await _enqueue(bot, "checkin:1", CHANNEL, Message(text="How did it go?"))
        await _deliver(bot)
        parent = await _row(bot, "checkin:1")
        reply = await _row(bot, "checkin:1:share:1")

    first, second = slack_now.calls_to("chat.postMessage")
    assert "thread_ts" not in first.params and first.params["text"] == "How did it go?"
    assert second.params["thread_ts"] == parent.message_id
    assert second.params["channel"] == CHANNEL_ID and second.params["text"] == "I tried it"
    [stored] = slack_now.thread_replies(CHANNEL_ID, parent.message_id or "")
    assert _key(stored) == "checkin:1:share:1"
    assert (reply.status, reply.message_channel, reply.message_id) == (
        "sent",
        CHANNEL_ID,
        stored["ts"],
    )


async def test_a_reply_under_a_dm_goes_in_that_dms_thread(slack_now: FakeSlackWebAPI, db) -> None:
    member = UserRef("slack", TEAM_ID, "U0MEMBER01")
    async with running_bot(slack_now, db=db) as bot:
        await _enqueue(bot, "dm:1", member, Message(text="Your check-in"))
        await _enqueue(bot, "dm:1:note", member, Message(text="Thanks"), thread_of="dm:1")
        await _deliver(bot)
        parent = await _row(bot, "dm:1")
    dm = dm_channel_for("U0MEMBER01")
    assert parent.message_channel == dm
    assert [_key(m) for m in slack_now.thread_replies(dm, parent.message_id or "")] == ["dm:1:note"]


async def test_a_replys_files_are_shared_in_the_thread(slack_now: FakeSlackWebAPI, db) -> None:
    csv = File(filename="answers.csv", content=b"q,a\n1,2\n", title="Answers", mime="text/csv")
    async with running_bot(slack_now, db=db) as bot:
        await _enqueue(bot, "post:1", CHANNEL, Message(text="Round 1"))
        await _enqueue(
            bot,
            "post:1:csv",
            CHANNEL,
            Message(text="The answers", blocks=[Section.of("The answers"), csv]),
            thread_of="post:1",
        )
        await _deliver(bot)
        parent = await _row(bot, "post:1")
        reply = await _row(bot, "post:1:csv")
    [complete] = slack_now.calls_to("files.completeUploadExternal")
    assert complete.params["thread_ts"] == parent.message_id
    in_thread = slack_now.thread_replies(CHANNEL_ID, parent.message_id or "")
    assert [m.get("files", [{}])[0].get("name") for m in in_thread if m.get("upload")] == [
        "answers.csv"
    ]
    assert reply.status == "sent"


async def test_a_reply_answered_too_late_is_found_in_the_thread_not_posted_twice(
    slack_now: FakeSlackWebAPI, db
) -> None:
    async with running_bot(slack_now, db=db, request_timeout=TIMEOUT) as bot:
        await _enqueue(bot, "checkin:2", CHANNEL, Message(text="How did it go?"))
        await bot.app.worker.drain()
        parent = await _row(bot, "checkin:2")
        bot.clock.advance(timedelta(seconds=1))
        slack_now.slow_next("chat.postMessage", LATE)
        await _enqueue(
            bot, "checkin:2:share", CHANNEL, Message(text="It went well"), thread_of="checkin:2"
        )
        await bot.app.worker.drain()
        first = await _row(bot, "checkin:2:share")
        assert (first.status, first.error, first.in_doubt) == ("pending", "timeout", True)
        await slack_now.wait_for("chat.postMessage", count=2)  # the late answer was written
        bot.clock.advance(timedelta(minutes=11))  # past any backoff
        await bot.app.worker.drain()
        reply = await _row(bot, "checkin:2:share")

    replies = slack_now.thread_replies(CHANNEL_ID, parent.message_id or "")
    assert [_key(m) for m in replies] == ["checkin:2:share"]
    assert len(slack_now.calls_to("chat.postMessage")) == 2  # the parent and one reply
    [look] = slack_now.calls_to("conversations.replies")
    assert look.params["ts"] == parent.message_id and look.params["channel"] == CHANNEL_ID
    assert look.params["include_all_metadata"] in ("1", "true", "True")
    assert (reply.status, reply.message_id, reply.in_doubt) == ("sent", replies[0]["ts"], False)
