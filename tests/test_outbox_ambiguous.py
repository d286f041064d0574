"""The outbox after a send that may have reached the platform: look first, never post twice.

A small keyed platform (`KeyedDelivery`) stores what it is sent and can fail in each way an
adapter classifies; the real Outbox and DeliveryWorker run against it on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from bot.events import ConversationRef, MessageRef
from bot.outbox import DeliveryWorker, Outbox
from bot.ports import Capabilities, DeliveryError, KeyedDelivery, Outgoing, SystemClock
from bot.ui import File, Message, Section
from storage.models import OutboxMessage
from tests.support import RecordingAdapter

CHANNEL = ConversationRef("fake", "W1", "C1")


@dataclass
class KeyedPlatform(RecordingAdapter):
    """Remembers every post by key; `lost_answers` posts are made but answered with an error."""

    capabilities: Capabilities = field(default_factory=lambda: Capabilities(separate_uploads=True))
    posts: dict[str, list[MessageRef]] = field(default_factory=dict)
    looked: list[str] = field(default_factory=list)
    look_failures: list[DeliveryError] = field(default_factory=list)
    lost_answers: list[DeliveryError] = field(default_factory=list)
    upload_failures: list[DeliveryError] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    hold: dict[str, asyncio.Event] = field(default_factory=dict)
    started: dict[str, asyncio.Event] = field(default_factory=dict)

    async def post(self, out: Outgoing) -> MessageRef:
        target = getattr(out.to, "channel_id", None) or getattr(out.to, "user_id", "")
        if target in self.hold:
            self.started.setdefault(target, asyncio.Event()).set()
            await self.hold[target].wait()
        self._maybe_fail()
        ref = MessageRef(self.platform, target, f"m{sum(map(len, self.posts.values())) + 1}")
        self.posts.setdefault(out.key, []).append(ref)
        if self.lost_answers:
            raise self.lost_answers.pop(0)
        return ref

    async def find_sent(self, out: Outgoing) -> MessageRef | None:
        self.looked.append(out.key)
        if self.look_failures:
            raise self.look_failures.pop(0)
        found = self.posts.get(out.key)
        return found[0] if found else None

    async def attach(self, out: Outgoing, ref: MessageRef, *, in_doubt: bool) -> None:
        if self.upload_failures:
            raise self.upload_failures.pop(0)
        self.uploads.append(out.key)


async def _row(db, key: str) -> OutboxMessage:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        return (await s.execute(select(OutboxMessage).where(OutboxMessage.key == key))).scalar_one()


async def _enqueue(db, clock, key: str, message: Message | None = None, to=CHANNEL) -> None:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        await Outbox(clock).enqueue(s, key=key, to=to, message=message or Message(text=key))


def test_the_test_platform_is_keyed() -> None:
    assert isinstance(KeyedPlatform(), KeyedDelivery)


async def test_an_ambiguous_failure_is_looked_for_and_not_posted_again(db, clock) -> None:
    platform = KeyedPlatform(
        lost_answers=[DeliveryError("timeout", transient=True, ambiguous=True)]
    )
    await _enqueue(db, clock, "k")
    worker = DeliveryWorker(db, {"fake": platform}, clock, base_backoff=1)
    await worker.drain()
    row = await _row(db, "k")
    assert (row.status, row.in_doubt, row.error) == ("pending", True, "timeout")
    clock.advance(timedelta(seconds=2))
    await worker.drain()
    row = await _row(db, "k")
    assert platform.looked == ["k"]
    assert len(platform.posts["k"]) == 1
    assert (row.status, row.message_id, row.in_doubt) == ("sent", "m1", False)


async def test_a_surely_undelivered_failure_is_posted_again_without_looking(db, clock) -> None:
    platform = KeyedPlatform(failures=[DeliveryError("ratelimited", transient=True)])
    await _enqueue(db, clock, "k")
    worker = DeliveryWorker(db, {"fake": platform}, clock, base_backoff=1)
    await worker.drain()
    assert not (await _row(db, "k")).in_doubt
    clock.advance(timedelta(seconds=2))
    await worker.drain()
    assert platform.looked == [] and len(platform.posts["k"]) == 1


async def test_a_row_in_flight_at_a_crash_is_in_doubt_and_looked_for(db, clock) -> None:
    platform = KeyedPlatform()
    await _enqueue(db, clock, "k")
    crashed = DeliveryWorker(db, {"fake": platform}, clock)
    [item] = await crashed.claim()
    # It got as far as posting, then the process died before recording anything.
    await platform.post(Outgoing("k", CHANNEL, Message(text="k"), item.claimed_at))
    restarted = DeliveryWorker(db, {"fake": platform}, clock)
    assert await restarted.drain() == 0  # still leased to the dead worker
    clock.advance(restarted.lease + timedelta(seconds=1))
    await restarted.drain()
    row = await _row(db, "k")
    assert platform.looked == ["k"] and len(platform.posts["k"]) == 1
    assert (row.status, row.attempts) == ("sent", 2)


async def test_a_look_that_fails_for_now_keeps_the_row_in_doubt(db, clock) -> None:
    platform = KeyedPlatform(
        lost_answers=[DeliveryError("timeout", transient=True, ambiguous=True)],
        look_failures=[DeliveryError("ratelimited", transient=True)],
    )
    await _enqueue(db, clock, "k")
    worker = DeliveryWorker(db, {"fake": platform}, clock, base_backoff=1)
    for _ in range(3):
        await worker.drain()
        clock.advance(timedelta(seconds=5))
    row = await _row(db, "k")
    assert platform.looked == ["k", "k"] and len(platform.posts["k"]) == 1
    assert row.status == "sent"


async def test_when_the_platform_cannot_say_the_message_is_posted(db, clock) -> None:
    platform = KeyedPlatform(
        failures=[DeliveryError("timeout", transient=True, ambiguous=True)],
        look_failures=[DeliveryError("missing_scope", transient=False)],
    )
    await _enqueue(db, clock, "k")
    worker = DeliveryWorker(db, {"fake": platform}, clock, base_backoff=1)
    await worker.drain()
    clock.advance(timedelta(seconds=2))
    await worker.drain()
    assert (await _row(db, "k")).status == "sent" and len(platform.posts["k"]) == 1


def _with_file() -> Message:
    chart = File(filename="chart.png", content=b"png", title="Chart", mime="image/png")
    return Message(text="Results", blocks=[Section.of("Results"), chart])


async def test_a_failed_upload_retries_the_upload_alone_then_one_note(db, clock) -> None:
    platform = KeyedPlatform(
        upload_failures=[DeliveryError("timeout", transient=True, ambiguous=True)] * 3
    )
    await _enqueue(db, clock, "result", _with_file())
    worker = DeliveryWorker(db, {"fake": platform}, clock, max_attempts=3, base_backoff=1)
    for _ in range(5):
        await worker.drain()
        clock.advance(timedelta(minutes=1))
    row = await _row(db, "result")
    assert sorted(platform.posts) == ["result", "result:note"]
    assert [len(v) for v in platform.posts.values()] == [1, 1]
    assert platform.uploads == []
    assert (row.status, row.step, row.message_id) == ("sent", "note", "m1")
    assert row.error == "file_not_attached:gave_up:timeout"


async def test_a_permanent_upload_error_notes_it_at_once(db, clock) -> None:
    platform = KeyedPlatform(upload_failures=[DeliveryError("file_too_large", transient=False)])
    await _enqueue(db, clock, "result", _with_file())
    worker = DeliveryWorker(db, {"fake": platform}, clock)
    await worker.drain()
    row = await _row(db, "result")
    assert (row.status, row.error) == ("sent", "file_not_attached:file_too_large")
    assert sorted(platform.posts) == ["result", "result:note"]


async def test_an_unexpected_exception_counts_as_ambiguous(db, clock) -> None:
    platform = KeyedPlatform(failures=[RuntimeError("bug")])  # type: ignore[list-item]
    await _enqueue(db, clock, "k")
    worker = DeliveryWorker(db, {"fake": platform}, clock, base_backoff=1)
    await worker.drain()
    row = await _row(db, "k")
    assert (row.status, row.in_doubt, row.error) == ("pending", True, "adapter_error")


# -- running: destinations at once, leases kept while sending ---------------------------------


async def _true(value: bool) -> bool:
    return value


async def _status_is(db, key: str, status: str) -> bool:  # type: ignore[no-untyped-def]
    return (await _row(db, key)).status == status


async def _until(condition) -> None:  # type: ignore[no-untyped-def]
    """Poll `condition` (the caller bounds the wait with a timeout)."""
    while True:
        if await condition():
            return
        await asyncio.sleep(0.02)


async def test_one_slow_destination_does_not_hold_up_the_others(db) -> None:
    clock = SystemClock()
    platform = KeyedPlatform(hold={"C-slow": asyncio.Event()})
    await _enqueue(db, clock, "slow", to=ConversationRef("fake", "W1", "C-slow"))
    for i in range(5):
        await _enqueue(db, clock, f"fast:{i}", to=ConversationRef("fake", "W1", f"C{i}"))
    worker = DeliveryWorker(db, {"fake": platform}, clock, concurrency=4)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop, poll_seconds=0.05))
    try:
        async with asyncio.timeout(10):
            await platform.started.setdefault("C-slow", asyncio.Event()).wait()
            await _until(lambda: _true(len(platform.posts) == 5))  # all others, while it hangs
        assert "slow" not in platform.posts
        platform.hold["C-slow"].set()
        async with asyncio.timeout(10):
            await _until(lambda: _status_is(db, "slow", "sent"))
    finally:
        platform.hold["C-slow"].set()
        stop.set()
        await task
    assert sorted(platform.posts) == ["fast:0", "fast:1", "fast:2", "fast:3", "fast:4", "slow"]


async def test_a_long_send_keeps_its_lease(db) -> None:
    clock = SystemClock()
    platform = KeyedPlatform(hold={"C1": asyncio.Event()})
    await _enqueue(db, clock, "k")
    worker = DeliveryWorker(db, {"fake": platform}, clock, lease=timedelta(seconds=0.3))
    other = DeliveryWorker(db, {"fake": platform}, clock, lease=timedelta(seconds=0.3))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop, poll_seconds=0.05))
    try:
        async with asyncio.timeout(10):
            await platform.started.setdefault("C1", asyncio.Event()).wait()
            first = (await _row(db, "k")).claimed_at
            assert first is not None

            async def extended() -> bool:
                latest = (await _row(db, "k")).claimed_at
                return latest is not None and latest - first >= timedelta(seconds=0.6)

            await _until(extended)  # the lease was extended well past its first end
        assert await other.claim() == []  # still this worker's
    finally:
        platform.hold["C1"].set()
        stop.set()
        await task
    assert len(platform.posts["k"]) == 1 and (await _row(db, "k")).status == "sent"
