"""The outbox: nothing lost, nothing twice — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.events import ConversationRef, UserRef
from bot.outbox import DeliveryWorker, Outbox
from bot.ports import Capabilities, DeliveryError
from bot.ui import Message
from storage.models import OutboxMessage
from tests.support import RecordingAdapter

CHANNEL = ConversationRef("fake", "W1", "C1")


async def _rows(db):  # type: ignore[no-untyped-def]
    async with db.session() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def test_same_key_twice_is_one_message(db, clock) -> None:
    outbox, fake = Outbox(clock), RecordingAdapter()
    async with db.session() as s:
        assert await outbox.enqueue(s, key="reminder:1:P1D", to=CHANNEL, message=Message(text="a"))
    async with db.session() as s:
        again = await outbox.enqueue(s, key="reminder:1:P1D", to=CHANNEL, message=Message(text="b"))
    assert again is False
    worker = DeliveryWorker(db, {"fake": fake}, clock)
    assert await worker.drain() == 1
    assert [(x.kind, x.target, x.message.text) for x in fake.sent] == [("send", "C1", "a")]
    [row] = await _rows(db)
    assert (row.status, row.message_channel, row.message_id) == ("sent", "C1", "m1")
    # Enqueuing after delivery is still a no-op: the key is remembered.
    async with db.session() as s:
        assert not await outbox.enqueue(
            s, key="reminder:1:P1D", to=CHANNEL, message=Message(text="c")
        )
    assert await worker.drain() == 0


async def test_transient_failure_waits_for_retry_after_then_succeeds(db, clock) -> None:
    outbox, fake = Outbox(clock), RecordingAdapter()
    fake.failures.append(DeliveryError("ratelimited", transient=True, retry_after=30))
    async with db.session() as s:
        await outbox.enqueue(
            s, key="k1", to=UserRef("fake", "W1", "U9"), message=Message(text="hi")
        )
    worker = DeliveryWorker(db, {"fake": fake}, clock, base_backoff=2)
    await worker.drain()
    [row] = await _rows(db)
    # A 429 is a wait: no attempt spent.
    assert (row.status, row.attempts, row.error) == ("pending", 0, "ratelimited")
    assert row.not_before == clock.now() + timedelta(seconds=30)
    clock.advance(timedelta(seconds=29))
    assert await worker.drain() == 0  # Retry-After honoured, not the shorter backoff
    clock.advance(timedelta(seconds=1))
    assert await worker.drain() == 1
    [row] = await _rows(db)
    assert (row.status, row.attempts) == ("sent", 1)
    assert [(x.kind, x.target) for x in fake.sent] == [("dm", "U9")]


async def test_permanent_failure_is_marked_with_reason_and_not_retried(db, clock) -> None:
    outbox, fake = Outbox(clock), RecordingAdapter()
    fake.failures.append(DeliveryError("dm_closed", transient=False))
    async with db.session() as s:
        await outbox.enqueue(s, key="k2", to=UserRef("fake", "W1", "U9"), message=Message(text="x"))
    worker = DeliveryWorker(db, {"fake": fake}, clock)
    await worker.drain()
    clock.advance(timedelta(days=1))
    assert await worker.drain() == 0
    [row] = await _rows(db)
    assert (row.status, row.error) == ("failed", "dm_closed")
    assert fake.sent == []


async def test_transient_errors_give_up_after_max_attempts(db, clock) -> None:
    outbox, fake = Outbox(clock), RecordingAdapter()
    fake.failures.extend(DeliveryError("server_error", transient=True) for _ in range(3))
    async with db.session() as s:
        await outbox.enqueue(s, key="k3", to=CHANNEL, message=Message(text="x"))
    worker = DeliveryWorker(db, {"fake": fake}, clock, max_attempts=3, base_backoff=1)
    for _ in range(3):
        await worker.drain()
        clock.advance(timedelta(minutes=10))
    [row] = await _rows(db)
    assert (row.status, row.error, row.attempts) == ("failed", "gave_up:server_error", 3)


async def test_crash_between_claim_and_send_is_picked_up_after_the_lease(db, clock) -> None:
    outbox, fake = Outbox(clock), RecordingAdapter()
    async with db.session() as s:
        await outbox.enqueue(s, key="k4", to=CHANNEL, message=Message(text="once"))
    crashed = DeliveryWorker(db, {"fake": fake}, clock, lease=timedelta(minutes=2))
    claimed = await crashed.claim()  # ... and the process dies before sending
    assert [c.key for c in claimed] == ["k4"]
    restarted = DeliveryWorker(db, {"fake": fake}, clock, lease=timedelta(minutes=2))
    assert await restarted.drain() == 0  # still leased to the dead worker
    clock.advance(timedelta(minutes=2, seconds=1))
    assert await restarted.drain() == 1
    assert [x.message.text for x in fake.sent] == ["once"]
    [row] = await _rows(db)
    assert row.status == "sent"


async def test_two_workers_never_claim_the_same_row(db, clock) -> None:
    outbox = Outbox(clock)
    async with db.session() as s:
        for i in range(5):
            await outbox.enqueue(s, key=f"fan:{i}", to=CHANNEL, message=Message(text=str(i)))
    a = DeliveryWorker(db, {"fake": RecordingAdapter()}, clock)
    b = DeliveryWorker(db, {"fake": RecordingAdapter()}, clock)
    first, second = await a.claim(), await b.claim()
    assert len(first) == 5 and second == []


async def test_edits_coalesce_and_land_on_the_delivered_message(db, clock) -> None:
    outbox, fake = Outbox(clock), RecordingAdapter()
    async with db.session() as s:
        await outbox.enqueue(s, key="poll:1", to=CHANNEL, message=Message(text="0 votes"))
    worker = DeliveryWorker(db, {"fake": fake}, clock)
    await worker.drain()
    for n in (1, 2, 3):
        async with db.session() as s:
            await outbox.enqueue_edit(
                s,
                edit_of="poll:1",
                platform="fake",
                workspace_id="W1",
                message=Message(text=f"{n} votes"),
                delay=timedelta(seconds=2),
            )
    assert await worker.drain() == 0  # the burst waits for its delay
    clock.advance(timedelta(seconds=2))
    await worker.drain()
    assert [(x.kind, x.target, x.message.text) for x in fake.sent] == [
        ("send", "C1", "0 votes"),
        ("edit", "C1/m1", "3 votes"),
    ]


async def test_edit_waits_for_its_original_to_be_delivered(db, clock) -> None:
    outbox, fake = Outbox(clock), RecordingAdapter()
    fake.failures.append(DeliveryError("server_error", transient=True))
    async with db.session() as s:
        await outbox.enqueue(s, key="poll:2", to=CHANNEL, message=Message(text="v0"))
        await outbox.enqueue_edit(
            s, edit_of="poll:2", platform="fake", workspace_id="W1", message=Message(text="v1")
        )
    worker = DeliveryWorker(db, {"fake": fake}, clock, base_backoff=1)
    await worker.drain()
    assert fake.sent == []
    clock.advance(timedelta(seconds=5))
    await worker.drain()
    clock.advance(timedelta(seconds=5))
    await worker.drain()
    assert [(x.kind, x.message.text) for x in fake.sent] == [("send", "v0"), ("edit", "v1")]


async def test_pacing_spaces_messages_to_one_destination(db, clock) -> None:
    outbox = Outbox(clock)
    fake = RecordingAdapter(capabilities=Capabilities(pace_seconds=1.0))
    async with db.session() as s:
        for i in range(3):
            await outbox.enqueue(s, key=f"p:{i}", to=CHANNEL, message=Message(text=str(i)))
        await outbox.enqueue(
            s, key="p:other", to=ConversationRef("fake", "W1", "C2"), message=Message(text="o")
        )
    worker = DeliveryWorker(db, {"fake": fake}, clock)
    await worker.drain()
    assert [x.message.text for x in fake.sent] == ["0", "o"]
    clock.advance(timedelta(seconds=1))
    await worker.drain()
    clock.advance(timedelta(seconds=1))
    await worker.drain()
    assert [x.message.text for x in fake.sent] == ["0", "o", "1", "2"]
    assert all(r.attempts == 1 for r in await _rows(db))  # pacing costs no attempts
