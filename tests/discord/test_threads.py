"""Replies in threads on Discord: a public thread started once from the parent message.

Through the real discord.py against the loopback fake: the first reply starts the thread
(``POST /channels/{channel}/messages/{message}/threads``, named from the parent's first line)
and posts into it; later replies, a restarted bot and a retry after a lost answer reuse it
(the thread's id is the message's id). Nonces keep every post single. A DM has no threads:
the reply follows its parent there as a plain message.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.discord import WORKSPACE, DiscordAdapter
from bot.events import ConversationRef, UserRef
from bot.ports import FakeClock
from bot.ui import Message
from storage.models import OutboxMessage
from tests.discord.helpers import running_bot
from tests.fakes.discord_fake import FakeDiscord

TIMEOUT = 0.3  # the adapter's request timeout in these tests
LATE = 0.8  # how late the fake answers a slow call
THREADS = r"/channels/\d+/messages/\d+/threads"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


def _channel(fake: FakeDiscord) -> ConversationRef:
    return ConversationRef("discord", WORKSPACE, str(fake.channel_id))


async def _row(db, key: str) -> OutboxMessage:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return (
            await session.execute(select(OutboxMessage).where(OutboxMessage.key == key))
        ).scalar_one()


async def _enqueue(app, key: str, to, text: str, **kw) -> None:  # type: ignore[no-untyped-def]
    async with app.db.session() as session:
        await app.outbox.enqueue(session, key=key, to=to, message=Message(text=text), **kw)


async def _deliver(app, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    """Drain the outbox, a second apart: Discord allows about a message a second per channel."""
    for _ in range(4):
        await app.worker.drain()
        clock.advance(timedelta(seconds=1))


def test_discord_says_it_has_threads() -> None:
    assert DiscordAdapter.capabilities.threads


async def test_replies_go_into_one_thread_started_from_the_parent(
    fake_discord: FakeDiscord, db, clock: FakeClock
) -> None:
    fake = fake_discord
    async with running_bot(fake, db, clock) as (app, _adapter):
        await _enqueue(app, "checkin:1", _channel(fake), "Check-in after meeting 3\nTwo questions")
        await _enqueue(app, "checkin:1:a", _channel(fake), "I noticed", thread_of="checkin:1")
        await _enqueue(app, "checkin:1:b", _channel(fake), "I will try", thread_of="checkin:1")
        await _deliver(app, clock)
        parent = await _row(db, "checkin:1")
        replies = [await _row(db, k) for k in ("checkin:1:a", "checkin:1:b")]

    [start] = fake.calls_to("POST", THREADS)
    assert start.path == f"/channels/{fake.channel_id}/messages/{parent.message_id}/threads"
    assert start.json["name"] == "Check-in after meeting 3"
    thread = fake.channels[int(parent.message_id or 0)]
    assert (thread["type"], thread["parent_id"]) == (11, str(fake.channel_id))
    in_thread = fake.messages_in(thread["id"])
    assert [m["content"] for m in in_thread] == ["I noticed", "I will try"]
    assert all(m.get("nonce") for m in in_thread)  # posted with nonces, as every outbox post
    assert [(r.status, r.message_channel) for r in replies] == [("sent", thread["id"])] * 2
    assert [m["content"] for m in fake.messages_in(fake.channel_id)] == [
        "Check-in after meeting 3\nTwo questions"
    ]


async def test_a_thread_name_is_cut_to_discords_limit(
    fake_discord: FakeDiscord, db, clock: FakeClock
) -> None:
    fake = fake_discord
    long = "What I noticed this month " * 8
    async with running_bot(fake, db, clock) as (app, _adapter):
        await _enqueue(app, "post:long", _channel(fake), long)
        await _enqueue(app, "post:long:a", _channel(fake), "Yes", thread_of="post:long")
        await _deliver(app, clock)
    [start] = fake.calls_to("POST", THREADS)
    name = start.json["name"]
    assert len(name) == 100 and name.endswith("…") and long.startswith(name[:-1])


async def test_a_restarted_bot_reuses_the_thread_that_exists(
    fake_discord: FakeDiscord, db, clock: FakeClock
) -> None:
    fake = fake_discord
    async with running_bot(fake, db, clock) as (app, _adapter):
        await _enqueue(app, "post:1", _channel(fake), "Round 1")
        await _enqueue(app, "post:1:a", _channel(fake), "First", thread_of="post:1")
        await _deliver(app, clock)
    async with running_bot(fake, db, clock) as (app, _adapter):
        await _enqueue(app, "post:1:b", _channel(fake), "Second", thread_of="post:1")
        await _deliver(app, clock)
        parent = await _row(db, "post:1")
        second = await _row(db, "post:1:b")

    first_start, again = fake.calls_to("POST", THREADS)
    assert first_start.path == again.path  # the new process asked, and Discord said it exists
    assert [m["content"] for m in fake.messages_in(parent.message_id or "")] == ["First", "Second"]
    assert (second.status, second.message_channel) == ("sent", parent.message_id)


async def test_a_reply_answered_too_late_is_not_posted_twice(
    fake_discord: FakeDiscord, db, clock: FakeClock
) -> None:
    fake = fake_discord
    async with running_bot(fake, db, clock, request_timeout=TIMEOUT) as (app, _adapter):
        await _enqueue(app, "post:2", _channel(fake), "Round 2")
        await _deliver(app, clock)
        parent = await _row(db, "post:2")
        # Starting the thread and then the reply itself are both made, answered too late.
        fake.fail_next("POST", THREADS, status=200, written=True, delay=LATE)
        await _enqueue(app, "post:2:a", _channel(fake), "Mine", thread_of="post:2")
        await app.worker.drain()
        row = await _row(db, "post:2:a")
        assert (row.status, row.error, row.in_doubt) == ("pending", "timeout", True)
        await fake.wait_for_call("POST", THREADS)
        fake.fail_next(
            "POST", rf"/channels/{parent.message_id}/messages", status=200, written=True, delay=LATE
        )
        clock.advance(timedelta(minutes=11))
        await app.worker.drain()
        assert (await _row(db, "post:2:a")).error == "timeout"
        await fake.wait_for_call("POST", rf"/channels/{parent.message_id}/messages")
        clock.advance(timedelta(minutes=11))
        await app.worker.drain()
        row = await _row(db, "post:2:a")

    [stored] = fake.messages_in(parent.message_id or "")
    assert stored["content"] == "Mine"
    assert (row.status, row.message_id, row.message_channel) == (
        "sent",
        stored["id"],
        parent.message_id,
    )
    assert len(fake.calls_to("POST", THREADS)) == 2  # the second was told the thread exists


async def test_in_a_dm_a_reply_follows_its_parent_as_a_plain_message(
    fake_discord: FakeDiscord, db, clock: FakeClock
) -> None:
    fake = fake_discord
    member = UserRef("discord", WORKSPACE, fake.user["id"])
    async with running_bot(fake, db, clock) as (app, _adapter):
        await _enqueue(app, "dm:1", member, "Your check-in")
        await _enqueue(app, "dm:1:thanks", member, "Thanks for answering", thread_of="dm:1")
        await _deliver(app, clock)
        reply = await _row(db, "dm:1:thanks")
    assert fake.calls_to("POST", THREADS) == []  # the DM channel is known: no thread asked
    # After a restart the channel is not known to be a DM: Discord refuses the thread there.
    async with running_bot(fake, db, clock) as (app, _adapter):
        await _enqueue(app, "dm:1:later", member, "One more thing", thread_of="dm:1")
        await _deliver(app, clock)
        later = await _row(db, "dm:1:later")

    dm = fake.dm_channels[int(fake.user["id"])]
    assert [m["content"] for m in fake.messages_in(dm)] == [
        "Your check-in",
        "Thanks for answering",
        "One more thing",
    ]
    [refused] = fake.calls_to("POST", THREADS)
    assert refused.status == 400
    assert (reply.status, reply.message_channel) == ("sent", str(dm))
    assert (later.status, later.message_channel) == ("sent", str(dm))
