"""Threaded replies and sealed payloads in the outbox, on SQLite and PostgreSQL.

A reply (``thread_of``) goes out after its parent, under it where the platform has threads
and as a plain channel message where it has not; it waits for a parent still queued and
fails with a reason when the parent failed. A sealed message is stored as a token, opened
only by the worker, and blanked once recorded: its text is never in the database file.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import delete, select

from bot.events import ConversationRef, MessageRef, UserRef
from bot.outbox import DeliveryWorker, Outbox
from bot.ports import Capabilities, DeliveryError, KeyedDelivery, Outgoing, ThreadedSend
from bot.sealed import Sealer
from bot.ui import File, Message
from storage.db import Database, alembic_config
from storage.models import OutboxMessage
from tests.support import RecordingAdapter

CHANNEL = ConversationRef("fake", "W1", "C1")
MEMBER = UserRef("fake", "W1", "U7")


async def _row(db: Database, key: str) -> OutboxMessage:
    async with db.session() as s:
        return (await s.execute(select(OutboxMessage).where(OutboxMessage.key == key))).scalar_one()


async def _enqueue(
    db: Database, outbox: Outbox, key: str, *, to: ConversationRef | UserRef = CHANNEL, **kw: object
) -> None:
    async with db.session() as s:
        await outbox.enqueue(s, key=key, to=to, message=Message(text=key), **kw)  # type: ignore[arg-type]


def test_the_recording_adapter_can_post_in_threads() -> None:
    fake = RecordingAdapter()
    assert isinstance(fake, ThreadedSend) and fake.capabilities.threads
    assert Capabilities().threads is False  # a platform has threads only when it says so


# -- threads through a plain adapter (ChatAdapter + ThreadedSend) ---------------------------


async def test_a_reply_goes_under_its_parent_after_it(db, clock) -> None:
    outbox, fake = Outbox(clock), RecordingAdapter()
    async with db.session() as s:
        # Queued in one transaction, the reply first: it still waits for its parent.
        await outbox.enqueue(
            s, key="post:1:reply:1", to=CHANNEL, message=Message(text="shared answer"),
            thread_of="post:1",
        )  # fmt: skip
        await outbox.enqueue(s, key="post:1", to=CHANNEL, message=Message(text="check-in"))
    worker = DeliveryWorker(db, {"fake": fake}, clock)
    await worker.drain()
    assert [(x.message.text, x.thread) for x in fake.sent] == [
        ("check-in", None),
        ("shared answer", "m1"),
    ]
    reply = await _row(db, "post:1:reply:1")
    assert (reply.status, reply.thread_of, reply.message_id) == ("sent", "post:1", "m2")


async def test_a_reply_waits_for_a_parent_still_queued_without_spending_attempts(db, clock) -> None:
    outbox, fake = Outbox(clock), RecordingAdapter()
    fake.failures.append(DeliveryError("ratelimited", transient=True, retry_after=30))
    await _enqueue(db, outbox, "post:2")
    await _enqueue(db, outbox, "post:2:reply", thread_of="post:2")
    worker = DeliveryWorker(db, {"fake": fake}, clock, max_attempts=2)
    for _ in range(5):  # asked again and again while the parent waits out its Retry-After
        await worker.drain()
        clock.advance(timedelta(seconds=5))
    assert fake.sent == []
    reply = await _row(db, "post:2:reply")
    assert (reply.status, reply.attempts, reply.error) == ("pending", 0, None)
    clock.advance(timedelta(seconds=10))
    await worker.drain()
    assert [(x.message.text, x.thread) for x in fake.sent] == [
        ("post:2", None),
        ("post:2:reply", "m1"),
    ]
    assert (await _row(db, "post:2:reply")).status == "sent"


async def test_a_parent_that_failed_fails_its_reply_with_the_reason(db, clock) -> None:
    outbox, fake = Outbox(clock), RecordingAdapter()
    fake.failures.append(DeliveryError("channel_not_found", transient=False))
    await _enqueue(db, outbox, "post:3")
    await _enqueue(db, outbox, "post:3:reply", thread_of="post:3")
    await _enqueue(db, outbox, "post:3:reply:reply", thread_of="post:3:reply")
    await DeliveryWorker(db, {"fake": fake}, clock).drain()
    assert fake.sent == []
    assert (await _row(db, "post:3")).error == "channel_not_found"
    reply = await _row(db, "post:3:reply")
    assert (reply.status, reply.error) == ("failed", "thread_parent_failed")
    deeper = await _row(db, "post:3:reply:reply")
    assert (deeper.status, deeper.error) == ("failed", "thread_parent_failed")


async def test_a_reply_whose_parent_was_withdrawn_fails_with_the_reason(db, clock) -> None:
    outbox, fake = Outbox(clock), RecordingAdapter()
    await _enqueue(db, outbox, "post:4")
    await _enqueue(db, outbox, "post:4:reply", thread_of="post:4")
    async with db.session() as s:  # a cancelled reminder's pending row is deleted
        await s.execute(delete(OutboxMessage).where(OutboxMessage.key == "post:4"))
    await DeliveryWorker(db, {"fake": fake}, clock).drain()
    reply = await _row(db, "post:4:reply")
    assert (reply.status, reply.error) == ("failed", "thread_parent_missing")
    assert fake.sent == []


async def test_without_threads_a_reply_is_a_plain_message_after_its_parent(db, clock) -> None:
    outbox, fake = Outbox(clock), RecordingAdapter(capabilities=Capabilities())
    await _enqueue(db, outbox, "post:5:reply", thread_of="post:5")
    await _enqueue(db, outbox, "post:5")
    await DeliveryWorker(db, {"fake": fake}, clock).drain()
    assert [(x.kind, x.target, x.message.text, x.thread) for x in fake.sent] == [
        ("send", "C1", "post:5", None),
        ("send", "C1", "post:5:reply", None),
    ]


async def test_a_message_cannot_reply_to_itself(db, clock) -> None:
    with pytest.raises(ValueError, match="own thread"):
        await _enqueue(db, Outbox(clock), "post:6", thread_of="post:6")


# -- threads through a keyed adapter: the parent's ref in Outgoing, nothing twice -----------


@dataclass
class KeyedThreads(RecordingAdapter):
    """A keyed platform with threads; `lost_answers` posts are made but answered with an error."""

    posts: dict[str, list[tuple[MessageRef, MessageRef | None]]] = field(default_factory=dict)
    looked: list[tuple[str, MessageRef | None]] = field(default_factory=list)
    lost_answers: list[DeliveryError] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    async def post(self, out: Outgoing) -> MessageRef:
        self._maybe_fail()
        self.names[out.key] = out.thread_name
        target = getattr(out.to, "channel_id", None) or getattr(out.to, "user_id", "")
        ref = MessageRef(self.platform, target, f"m{sum(map(len, self.posts.values())) + 1}")
        self.posts.setdefault(out.key, []).append((ref, out.thread))
        if self.lost_answers:
            raise self.lost_answers.pop(0)
        return ref

    async def find_sent(self, out: Outgoing) -> MessageRef | None:
        self.looked.append((out.key, out.thread))
        found = self.posts.get(out.key)
        return found[0][0] if found else None

    async def attach(self, out: Outgoing, ref: MessageRef, *, in_doubt: bool) -> None:
        return None


async def test_a_keyed_platform_gets_the_parents_ref_and_never_posts_twice(db, clock) -> None:
    platform = KeyedThreads(lost_answers=[])
    assert isinstance(platform, KeyedDelivery)
    outbox = Outbox(clock)
    await _enqueue(db, outbox, "post:7")
    await _enqueue(db, outbox, "post:7:reply", thread_of="post:7")
    worker = DeliveryWorker(db, {"fake": platform}, clock, base_backoff=1)
    await worker.drain()
    parent_ref = MessageRef("fake", "C1", "m1", "W1")
    assert platform.posts["post:7"] == [(MessageRef("fake", "C1", "m1"), None)]
    assert platform.posts["post:7:reply"] == [(MessageRef("fake", "C1", "m2"), parent_ref)]
    # A second reply reaches the platform, but its answer is lost.
    platform.lost_answers.append(DeliveryError("timeout", transient=True, ambiguous=True))
    await _enqueue(db, outbox, "post:7:reply:2", thread_of="post:7")
    await worker.drain()
    row = await _row(db, "post:7:reply:2")
    assert (row.status, row.in_doubt) == ("pending", True)
    clock.advance(timedelta(seconds=2))
    await worker.drain()
    row = await _row(db, "post:7:reply:2")
    assert platform.looked == [("post:7:reply:2", parent_ref)]
    assert len(platform.posts["post:7:reply:2"]) == 1
    assert (row.status, row.message_id) == ("sent", "m3")


async def test_a_reply_in_flight_at_a_crash_is_looked_for_under_its_parent(db, clock) -> None:
    platform = KeyedThreads()
    outbox = Outbox(clock)
    await _enqueue(db, outbox, "post:8")
    worker = DeliveryWorker(db, {"fake": platform}, clock)
    await worker.drain()
    await _enqueue(db, outbox, "post:8:reply", thread_of="post:8")
    crashed = DeliveryWorker(db, {"fake": platform}, clock)
    [item] = await crashed.claim()
    parent_ref = MessageRef("fake", "C1", "m1", "W1")
    # It got as far as posting in the thread, then the process died before recording it.
    await platform.post(
        Outgoing("post:8:reply", CHANNEL, Message(text="x"), item.claimed_at, parent_ref)
    )
    clock.advance(worker.lease + timedelta(seconds=1))
    await worker.drain()
    assert platform.looked == [("post:8:reply", parent_ref)]
    assert len(platform.posts["post:8:reply"]) == 1
    assert (await _row(db, "post:8:reply")).status == "sent"


async def test_a_thread_is_named_from_its_parent_never_from_a_private_message(db, clock) -> None:
    platform = KeyedThreads()
    outbox = Outbox(clock, Sealer.generate())
    await _enqueue(db, outbox, "open")  # text "open"
    await _enqueue(db, outbox, "open:reply", thread_of="open")
    await _enqueue(db, outbox, "private", sealed=True)
    await _enqueue(db, outbox, "private:reply", thread_of="private")
    await _enqueue(db, outbox, "private:sealed-reply", thread_of="private", sealed=True)
    await DeliveryWorker(db, {"fake": platform}, clock, sealer=outbox.sealer).drain()
    assert platform.names == {
        "open": "",
        "open:reply": "open",
        "private": "",
        "private:reply": "private:reply",  # the parent is private: the reply's own first line
        "private:sealed-reply": "",
    }


# -- sealed payloads ----------------------------------------------------------------------


def _raw_bytes(db_url: str) -> bytes:
    """The SQLite database file and its write-ahead log, as they are on disk."""
    path = Path(sa.make_url(db_url).database or "")
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


async def _payload(db: Database, key: str) -> str:
    async with db.session() as s:
        return (
            await s.execute(select(OutboxMessage.payload).where(OutboxMessage.key == key))
        ).scalar_one()


async def test_a_sealed_dm_is_never_in_the_database_in_clear(db_url: str, clock) -> None:
    canary = "canary-7f3a9c1e-my-private-reflection"
    file_canary = b"canary-file-52d1-what-I-wrote-in-my-journal"
    db = Database(db_url)
    await db.upgrade()
    sealer = Sealer.generate()
    outbox, fake = Outbox(clock, sealer), RecordingAdapter()
    try:
        async with db.session() as s:
            await outbox.enqueue(
                s,
                key="export:member:7",
                to=MEMBER,
                message=Message(
                    text=f"Your reflections: {canary}",
                    blocks=[File(filename="journal.csv", content=file_canary, title="Journal")],
                ),
                sealed=True,
            )
            # A plain message beside it shows the search below would find clear text.
            await outbox.enqueue(s, key="plain", to=CHANNEL, message=Message(text="plain-canary-0"))
        stored = await _payload(db, "export:member:7")
        assert stored.startswith("v1.") and canary not in stored
        assert (await _row(db, "export:member:7")).sealed is True
        await DeliveryWorker(db, {"fake": fake}, clock, sealer=sealer).drain()
        [dm] = [x for x in fake.sent if x.kind == "dm"]
        assert dm.message.text == f"Your reflections: {canary}"
        assert [b.content for b in dm.message.blocks if isinstance(b, File)] == [file_canary]
        row = await _row(db, "export:member:7")
        assert (row.status, row.payload) == ("sent", "")
        assert await _payload(db, "plain") != ""  # only sealed rows are blanked
        if db_url.startswith("sqlite"):
            raw = _raw_bytes(db_url)
            assert b"plain-canary-0" in raw
            for needle in (canary.encode(), file_canary, base64.b64encode(file_canary)):
                assert needle not in raw
    finally:
        await db.dispose()


async def test_a_sealed_message_that_failed_for_good_is_blanked_too(db, clock) -> None:
    sealer = Sealer.generate()
    outbox, fake = Outbox(clock, sealer), RecordingAdapter()
    fake.failures.append(DeliveryError("dm_closed", transient=False))
    await _enqueue(db, outbox, "share:fac:1", to=MEMBER, sealed=True)
    await DeliveryWorker(db, {"fake": fake}, clock, sealer=sealer).drain()
    row = await _row(db, "share:fac:1")
    assert (row.status, row.error, row.payload) == ("failed", "dm_closed", "")


async def test_a_sealed_message_waiting_for_a_retry_keeps_its_token(db, clock) -> None:
    sealer = Sealer.generate()
    outbox, fake = Outbox(clock, sealer), RecordingAdapter()
    fake.failures.append(DeliveryError("ratelimited", transient=True))
    await _enqueue(db, outbox, "share:fac:2", to=MEMBER, sealed=True)
    worker = DeliveryWorker(db, {"fake": fake}, clock, sealer=sealer, base_backoff=1)
    await worker.drain()
    assert (await _payload(db, "share:fac:2")).startswith("v1.")
    clock.advance(timedelta(seconds=2))
    await worker.drain()
    assert [x.message.text for x in fake.sent] == ["share:fac:2"]
    assert await _payload(db, "share:fac:2") == ""


async def test_a_sealed_token_opens_only_with_the_key_and_on_its_own_row(db, clock) -> None:
    sealer = Sealer.generate()
    outbox, fake = Outbox(clock, sealer), RecordingAdapter()
    await _enqueue(db, outbox, "sealed:a", to=MEMBER, sealed=True)
    await _enqueue(db, outbox, "sealed:b", to=MEMBER, sealed=True)
    token = await _payload(db, "sealed:a")
    async with db.session() as s:  # a token copied onto another row does not open there
        await s.execute(
            sa.update(OutboxMessage).where(OutboxMessage.key == "sealed:b").values(payload=token)
        )
    await DeliveryWorker(db, {"fake": fake}, clock, sealer=sealer).drain()
    assert [x.message.text for x in fake.sent] == ["sealed:a"]
    row = await _row(db, "sealed:b")
    assert (row.status, row.error, row.payload) == ("failed", "sealed_unreadable", "")
    # Nor with another key (a lost or replaced one).
    await _enqueue(db, outbox, "sealed:c", to=MEMBER, sealed=True)
    await DeliveryWorker(db, {"fake": fake}, clock, sealer=Sealer.generate()).drain()
    row = await _row(db, "sealed:c")
    assert (row.status, row.error, row.payload) == ("failed", "sealed_unreadable", "")
    assert len(fake.sent) == 1


async def test_sealing_needs_the_apps_sealer(db, clock) -> None:
    with pytest.raises(ValueError, match="sealer"):
        await _enqueue(db, Outbox(clock), "sealed:c", to=MEMBER, sealed=True)


async def test_the_app_gives_the_outbox_and_the_worker_its_sealer(memory_db, clock) -> None:
    from bot.app import App
    from bot.ports import FakeClock

    sealer = Sealer.generate()
    app = App(memory_db, FakeClock(clock.now()), [RecordingAdapter()], manual=True, sealer=sealer)
    assert app.outbox.sealer is sealer and app.worker.sealer is sealer
    assert app.services.sealer is sealer


# -- migration 0011 -------------------------------------------------------------------------


async def test_migration_0011_adds_and_drops_the_columns_keeping_rows(
    empty_db_url: str, clock
) -> None:
    database = Database(empty_db_url)
    try:
        await database.upgrade("0010")
        async with database.engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO outbox (key, platform, workspace_id, kind, target, payload,"
                    " status, attempts, not_before, created_at, step, in_doubt)"
                    " VALUES ('old', 'fake', 'W1', 'channel', 'C1', '{}', 'sent', 1,"
                    " :t, :t, '', false)"
                ),
                {"t": clock.now().replace(tzinfo=None)},
            )
        await database.upgrade("0011")
        async with database.engine.connect() as conn:
            old = (await conn.execute(sa.text("SELECT thread_of, sealed FROM outbox"))).one()
        assert tuple(old) == (None, False)
        await _enqueue(database, Outbox(clock), "new", thread_of="old")
        async with database.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0010"))
        async with database.engine.connect() as conn:
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in sa.inspect(c).get_columns("outbox")}
            )
            kept = (await conn.execute(sa.text("SELECT count(*) FROM outbox"))).scalar_one()
        assert not {"thread_of", "sealed"} & columns and kept == 2
        await database.upgrade()
        assert (await _row(database, "new")).thread_of is None
    finally:
        await database.dispose()


# -- the console: a reply indented under its post -------------------------------------------


async def test_the_console_prints_a_reply_indented_under_its_post(memory_db, clock) -> None:
    from adapters.console import ConsoleAdapter
    from bot.app import App
    from bot.context import background
    from bot.ports import FakeClock
    from bot.ui import Actions, Button, Section

    lines: list[str] = []
    console = ConsoleAdapter(lines.append)
    app = App(memory_db, FakeClock(clock.now()), [console], manual=True)
    await app.start()
    cop = ConversationRef("console", "console", "cop")
    post = Message(
        text="Check-in after meeting 3",
        blocks=[
            Section(parts=["Check-in after meeting 3"]),
            Actions(elements=[Button(label="Answer", action="x:answer:1")]),
        ],
    )
    async with background(app.services) as ctx:
        await ctx.outbox.enqueue(key="checkin:1", to=cop, message=post)
        await ctx.outbox.enqueue(
            key="checkin:1:share:1",
            to=cop,
            message=Message(text="I noticed the quiet ones\nlead at the water table"),
            thread_of="checkin:1",
        )
    await app.worker.drain()
    await app.stop()
    assert app.services.capabilities["console"].threads is True
    assert lines == [
        "[#cop] Check-in after meeting 3",
        "  1) Answer",
        "  (message 1: :press 1 LABEL)",
        "  ↳ [#cop] I noticed the quiet ones",
        "    lead at the water table",
    ]


async def test_an_adapter_crash_on_a_sealed_message_logs_nothing_of_it(
    db, clock, caplog: pytest.LogCaptureFixture
) -> None:
    canary = "canary-c0ffee-only-for-my-facilitators"

    @dataclass
    class Quoting(RecordingAdapter):
        async def send_dm(self, user: UserRef, msg: Message) -> MessageRef:
            raise RuntimeError(f"could not send {msg.text!r}")

    sealer = Sealer.generate()
    outbox = Outbox(clock, sealer)
    async with db.session() as s:
        await outbox.enqueue(
            s, key="sealed:log", to=MEMBER, message=Message(text=canary), sealed=True
        )
        await outbox.enqueue(s, key="plain:log", to=MEMBER, message=Message(text="plain-7"))
    caplog.set_level("DEBUG")
    await DeliveryWorker(db, {"fake": Quoting()}, clock, sealer=sealer).drain()
    assert "plain-7" in caplog.text  # an unsealed row's traceback is logged in full
    assert "sealed:log" in caplog.text and "RuntimeError" in caplog.text
    assert canary not in caplog.text
    assert (await _row(db, "sealed:log")).error == "adapter_error"
