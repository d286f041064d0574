"""Every scheduled or fan-out message is a row first; a worker delivers it.

Features call `Outbox.enqueue` inside their own transaction, so a domain change and
the messages it causes commit together. The idempotency key is unique: enqueuing
it again is a no-op, which is what makes reminders and results "never twice". Edits
(live poll counts) coalesce instead: a newer edit replaces a pending one.

The `DeliveryWorker` claims due rows with a lease, sends through the adapter of the
row's platform, records the platform message id, retries transient errors with
backoff (honouring the adapter's retry-after), paces per destination, and marks
permanent errors failed with a reason.

Nothing twice: an attempt that may have reached the platform (a timeout, a reset after
the request was written, a 5xx on a post, or a crash while the row was "sending") leaves
the row in doubt, and the next attempt first asks the adapter whether the message is
there (`KeyedDelivery.find_sent`). A message with files is two steps: once it is posted
the row says so, and a failed upload retries the upload alone; after its last attempt a
short note replaces the files. Adapters without `KeyedDelivery` are sent to directly, and
there an ambiguous failure can still repeat one message.

Threads: a row queued with ``thread_of=<parent key>`` goes out only after the parent's
message is out (until then it waits, without spending attempts), under that message: the
adapter gets the parent's `MessageRef` (`Outgoing.thread`, `ThreadedSend.send_in_thread`).
On a platform without `Capabilities.threads` it is posted as a plain message in the
channel, still after its parent. A parent that failed for good (or was withdrawn) fails the
reply with the reason ``thread_parent_failed`` (``thread_parent_missing``).

Sealed rows (``sealed=True``: a member's private text, such as their own export or an
answer shared with facilitators only) hold a `bot.sealed` token bound to the row's key in
`payload`, files included; only the worker opens it, at delivery, and the transaction that
records the row sent (or failed for good) blanks the payload.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from bot.events import ConversationRef, MessageRef, UserRef
from bot.i18n import translator
from bot.metrics import Metrics
from bot.ports import (
    ChatAdapter,
    Clock,
    DeliveryError,
    KeyedDelivery,
    NativeEvents,
    Outgoing,
    ThreadedSend,
)
from bot.sealed import SealBroken, Sealer
from bot.ui import CalendarEvent, File, Message
from storage.db import Database
from storage.models import Community, Member, OutboxMessage

log = logging.getLogger(__name__)


def _insert(session: AsyncSession) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(OutboxMessage)


def _aad(key: str) -> str:
    """What a sealed payload is bound to: its own row, so a copied token does not open."""
    return f"outbox:{key}"


class Outbox:
    """Writes outgoing messages as rows; see the module docstring.

    `sealer` (the app's, `Services.sealer`) seals the payload of ``sealed=True`` messages.
    """

    def __init__(self, clock: Clock, sealer: Sealer | None = None) -> None:
        self.clock = clock
        self.sealer = sealer

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        key: str,
        to: ConversationRef | UserRef,
        message: Message,
        community_id: int | None = None,
        not_before: datetime | None = None,
        thread_of: str | None = None,
        sealed: bool = False,
    ) -> bool:
        """Queue `message` for `to` once per `key`; returns False when the key was already queued.

        `thread_of`: the key of an earlier queued message (same platform) to post this one
        under: in its thread where the platform has `Capabilities.threads`, else as a plain
        message in the channel; either way only once the parent is out. `sealed`: the
        message (text, blocks and files) is private; it is stored sealed and blanked once
        delivered (see the module docstring).
        """
        kind = "dm" if isinstance(to, UserRef) else "channel"
        target = to.user_id if isinstance(to, UserRef) else to.channel_id
        if thread_of == key:
            raise ValueError("a message cannot be posted in its own thread")
        payload = message.model_dump_json()
        if sealed:
            if self.sealer is None:
                raise ValueError("a sealed message needs the outbox to have the app's sealer")
            payload = self.sealer.seal(payload, _aad(key))
        stmt = (
            _insert(session)
            .values(
                key=key,
                community_id=community_id,
                platform=to.platform,
                workspace_id=to.workspace_id,
                kind=kind,
                target=target,
                payload=payload,
                status="pending",
                attempts=0,
                not_before=not_before or self.clock.now(),
                created_at=self.clock.now(),
                thread_of=thread_of,
                sealed=sealed,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(col(OutboxMessage.id))
        )
        result = await session.execute(stmt)
        return result.scalar_one_or_none() is not None

    async def fan_out(
        self,
        session: AsyncSession,
        *,
        key: str,
        community: Community,
        members: Iterable[Member],
        message: Message,
        sealed: bool = False,
    ) -> int:
        """DM `message` to each member once (key ``<key>:member:<id>``); returns how many are new."""
        queued = 0
        for member in members:
            queued += await self.enqueue(
                session,
                key=f"{key}:member:{member.id}",
                to=UserRef(community.platform, community.workspace_id, member.user_id),
                message=message,
                community_id=community.id,
                sealed=sealed,
            )
        return queued

    async def enqueue_edit(
        self,
        session: AsyncSession,
        *,
        edit_of: str,
        platform: str,
        workspace_id: str,
        message: Message,
        community_id: int | None = None,
        delay: timedelta = timedelta(0),
    ) -> None:
        """Queue an in-place edit of the message sent for key `edit_of`, replacing any pending one.

        `delay` coalesces bursts: ballots arriving within it produce one edit.
        """
        key = f"{edit_of}:edit"
        now = self.clock.now()
        ins = _insert(session).values(
            key=key,
            community_id=community_id,
            platform=platform,
            workspace_id=workspace_id,
            kind="edit",
            target="",
            edit_of=edit_of,
            payload=message.model_dump_json(),
            status="pending",
            attempts=0,
            not_before=now + delay,
            created_at=now,
        )
        stmt = ins.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "payload": ins.excluded.payload,
                "status": "pending",
                "attempts": 0,
                "claimed_at": None,
                "error": None,
                # A pending edit keeps its time, so a burst of changes becomes one edit.
                "not_before": case(
                    (col(OutboxMessage.status) == "pending", col(OutboxMessage.not_before)),
                    else_=ins.excluded.not_before,
                ),
            },
        )
        await session.execute(stmt)

    async def enqueue_event(
        self,
        session: AsyncSession,
        *,
        key: str,
        to: ConversationRef,
        event: CalendarEvent,
        community_id: int | None = None,
    ) -> None:
        """Queue the native mirror of a meeting; a newer state replaces a pending one.

        The platform's event id from the last delivery stays on the row, so the next
        delivery updates (or cancels) that event instead of creating another.
        """
        now = self.clock.now()
        ins = _insert(session).values(
            key=key,
            community_id=community_id,
            platform=to.platform,
            workspace_id=to.workspace_id,
            kind="event",
            target=to.channel_id,
            payload=event.model_dump_json(),
            status="pending",
            attempts=0,
            not_before=now,
            created_at=now,
        )
        await session.execute(
            ins.on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "payload": ins.excluded.payload,
                    "status": "pending",
                    "attempts": 0,
                    "claimed_at": None,
                    "error": None,
                    "not_before": now,
                },
                # Re-announcing an unchanged meeting (every start reconciles) costs no API call.
                where=col(OutboxMessage.payload) != ins.excluded.payload,
            )
        )

    async def sent_ref(self, session: AsyncSession, key: str) -> MessageRef | None:
        """Where the message for `key` landed, once delivered."""
        row = (
            await session.execute(select(OutboxMessage).where(col(OutboxMessage.key) == key))
        ).scalar_one_or_none()
        if row is None or row.message_id is None or row.message_channel is None:
            return None
        return MessageRef(row.platform, row.message_channel, row.message_id)


class BoundOutbox:
    """``ctx.outbox``: the outbox's methods bound to the handler's own session."""

    def __init__(self, outbox: Outbox, session: AsyncSession) -> None:
        self._outbox = outbox
        self._session = session

    async def enqueue(self, **kwargs: Any) -> bool:
        return await self._outbox.enqueue(self._session, **kwargs)

    async def fan_out(self, **kwargs: Any) -> int:
        return await self._outbox.fan_out(self._session, **kwargs)

    async def enqueue_edit(self, **kwargs: Any) -> None:
        await self._outbox.enqueue_edit(self._session, **kwargs)

    async def enqueue_event(self, **kwargs: Any) -> None:
        await self._outbox.enqueue_event(self._session, **kwargs)

    async def sent_ref(self, key: str) -> MessageRef | None:
        return await self._outbox.sent_ref(self._session, key)


@dataclass
class Claimed:
    """A row this worker holds the lease on (`row` as it was when claimed)."""

    id: int
    key: str
    claimed_at: datetime
    attempts: int
    row: OutboxMessage | None = None


def _destination(row: OutboxMessage) -> tuple[str, str, str]:
    return (row.platform, row.kind, row.edit_of or row.target)


def _file_names(message: Message) -> list[str]:
    return [b.filename for b in message.blocks if isinstance(b, File)]


#: How long a claimed row is left alone before another worker may take it. The worker
#: extends it every third of a lease while sending, so only a dead worker's rows expire.
DEFAULT_LEASE = timedelta(seconds=10)


class DeliveryWorker:
    """Delivers outbox rows through the adapters, one platform each.

    Rows are claimed in small batches with a short lease that is extended while they are
    being sent, so a crash strands at most a batch for one lease. Different destinations
    are delivered concurrently (at most `concurrency` at once); rows for one destination
    go one after another, paced by the platform's `pace_seconds`. `drain` (console,
    tests) sends one row at a time, so scripts see a fixed order.
    """

    def __init__(
        self,
        db: Database,
        adapters: Mapping[str, ChatAdapter],
        clock: Clock,
        *,
        lease: timedelta = DEFAULT_LEASE,
        max_attempts: int = 8,
        base_backoff: float = 2.0,
        max_backoff: float = 600.0,
        batch: int = 20,
        concurrency: int = 8,
        db_slots: int | None = None,
        sealer: Sealer | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        # Counts deliveries (`bot.metrics`); `beat` is the loop's last round
        # (`time.monotonic()`), which /healthz reads.
        self.metrics = metrics or Metrics()
        self.beat = time.monotonic()
        # Opens sealed payloads at delivery (the app's `Services.sealer`).
        self.sealer = sealer
        # Sends run `concurrency` destinations at once, but their short claim and record
        # transactions share `db_slots` connections (the app's `Limits.delivery`), so a
        # fan-out never takes the pool from button presses and jobs.
        self._db_slots = asyncio.Semaphore(db_slots or concurrency)
        self.adapters = adapters
        self.clock = clock
        self.lease = lease
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.batch = batch
        self.concurrency = concurrency
        self._last_sent: dict[tuple[str, str, str], datetime] = {}
        # A destination the platform rate-limited waits until then (its own Retry-After),
        # while the other destinations go on.
        self._paused: dict[tuple[str, str, str], datetime] = {}
        # The soonest time a row this worker put back becomes due: the loop wakes for it
        # instead of waiting out a whole poll.
        self._soonest: datetime | None = None
        self._in_flight: dict[int, Claimed] = {}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Tell a running worker there is new work."""
        self._wake.set()

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        async with self._db_slots, self.db.session() as session:
            yield session

    def _due(self, now: datetime) -> ColumnElement[bool]:
        return and_(
            or_(
                and_(col(OutboxMessage.status) == "pending", col(OutboxMessage.not_before) <= now),
                and_(
                    col(OutboxMessage.status) == "sending",
                    col(OutboxMessage.claimed_at) < now - self.lease,
                ),
            ),
            _parent_settled(),
        )

    async def claim(self, limit: int | None = None) -> list[Claimed]:
        """Take the lease on due rows, oldest first; rows another worker took are skipped.

        A row found "sending" after its lease ran out was in flight when its worker died:
        it may have reached the platform, so it is claimed as in doubt.
        """
        now = self.clock.now()
        claimed: list[Claimed] = []
        async with self._session() as session:
            query = (
                select(col(OutboxMessage.id), col(OutboxMessage.key), col(OutboxMessage.platform))
                .where(self._due(now), col(OutboxMessage.platform).in_(list(self.adapters)))
                .order_by(col(OutboxMessage.not_before), col(OutboxMessage.id))
                .limit(limit or self.batch)
            )
            if self.db.dialect == "postgresql":
                # Several instances: each skips the rows another is claiming right now instead
                # of queueing behind its lock (the guarded update below stays the proof).
                query = query.with_for_update(of=OutboxMessage, skip_locked=True)
            rows = (await session.execute(query)).all()
            for row_id, key, _platform in rows:
                result = await session.execute(
                    update(OutboxMessage)
                    .where(col(OutboxMessage.id) == row_id, self._due(now))
                    .values(
                        status="sending",
                        claimed_at=now,
                        attempts=col(OutboxMessage.attempts) + 1,
                        first_tried_at=func.coalesce(col(OutboxMessage.first_tried_at), now),
                        in_doubt=or_(
                            col(OutboxMessage.in_doubt), col(OutboxMessage.status) == "sending"
                        ),
                    )
                    .returning(col(OutboxMessage.attempts))
                )
                attempts = result.scalar_one_or_none()
                if attempts is not None:
                    claimed.append(Claimed(row_id, key, now, attempts))
            if claimed:
                by_id = {
                    r.id: r
                    for r in (
                        await session.execute(
                            select(OutboxMessage).where(
                                col(OutboxMessage.id).in_([c.id for c in claimed])
                            )
                        )
                    ).scalars()
                }
                for item in claimed:
                    item.row = by_id.get(item.id)
        return claimed

    async def run_once(self) -> int:
        """Claim and deliver one batch, one row at a time; returns how many were handled."""
        claimed = await self.claim()
        for item in claimed:
            await self.deliver(item)
        return len(claimed)

    async def drain(self, max_rounds: int = 100) -> int:
        """Deliver until nothing is due now (used by the console and tests)."""
        total = 0
        for _ in range(max_rounds):
            handled = await self.run_once()
            total += handled
            if handled == 0:
                break
        return total

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 1.0) -> None:
        """Deliver as work arrives until `stop` is set: destinations concurrently, leases kept."""
        slots = asyncio.Semaphore(self.concurrency)
        lanes: dict[tuple[str, str, str], asyncio.Task[None]] = {}
        queues: dict[tuple[str, str, str], list[Claimed]] = {}
        heartbeat = asyncio.create_task(self._keep_leases(stop))

        async def lane(dest: tuple[str, str, str]) -> None:
            try:
                while queues.get(dest):
                    item = queues[dest].pop(0)
                    if stop.is_set():  # stopping: hand the row back untouched
                        await self._release(item, self.clock.now(), count_attempt=False)
                        self._in_flight.pop(item.id, None)
                        continue
                    async with slots:
                        try:
                            await self.deliver(item)
                        except Exception:
                            log.exception("outbox %s: delivery failed", item.key)
                        finally:
                            self._in_flight.pop(item.id, None)
            finally:
                queues.pop(dest, None)
                lanes.pop(dest, None)
                self._wake.set()

        try:
            while not stop.is_set():
                self.beat = time.monotonic()
                free = self.concurrency * 2 - len(self._in_flight)
                claimed: list[Claimed] = []
                if free > 0:
                    try:
                        claimed = await self.claim(min(self.batch, free))
                    except Exception:
                        log.exception("outbox worker round failed")
                for item in claimed:
                    self._in_flight[item.id] = item
                    dest = _destination(item.row) if item.row else ("", "", item.key)
                    queues.setdefault(dest, []).append(item)
                    if dest not in lanes:
                        lanes[dest] = asyncio.create_task(lane(dest))
                if claimed and len(self._in_flight) < self.concurrency * 2:
                    continue
                self._wake.clear()
                waiters = [
                    asyncio.ensure_future(self._wake.wait()),
                    asyncio.ensure_future(stop.wait()),
                ]
                _, pending = await asyncio.wait(
                    waiters,
                    timeout=self._poll_timeout(poll_seconds),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for task in pending:
                    task.cancel()
        finally:
            # Let what is being sent finish (each send has its own timeout) and record it.
            if lanes:
                await asyncio.gather(*lanes.values(), return_exceptions=True)
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)

    def _poll_timeout(self, poll_seconds: float) -> float:
        """Wait a poll, or less when a row put back (paced, rate-limited) is due sooner."""
        if self._soonest is None:
            return poll_seconds
        left = (self._soonest - self.clock.now()).total_seconds()
        if left <= 0:  # due already, and this round claimed what it could
            self._soonest = None
            return poll_seconds
        return min(poll_seconds, left + 0.01)

    def _due_at(self, when: datetime) -> None:
        if self._soonest is None or when < self._soonest:
            self._soonest = when

    async def _keep_leases(self, stop: asyncio.Event) -> None:
        """Extend the lease of every row being sent, a third of a lease before it runs out."""
        every = max(self.lease.total_seconds() / 3, 0.05)
        while not stop.is_set():
            await asyncio.sleep(every)
            items = list(self._in_flight.values())
            if not items:
                continue
            now = self.clock.now()
            try:
                async with self._session() as session:
                    for item in items:
                        result = await session.execute(
                            update(OutboxMessage)
                            .where(_held(item, sending=True))
                            .values(claimed_at=now)
                        )
                        if result.rowcount:  # type: ignore[attr-defined]  # an UPDATE returns a CursorResult
                            item.claimed_at = now
            except Exception:
                log.exception("outbox: extending leases failed")

    async def deliver(self, item: Claimed) -> None:
        """Send one claimed row and record the outcome."""
        row = item.row
        if row is None:
            async with self._session() as session:
                row = await session.get(OutboxMessage, item.id)
        if row is None:
            return
        adapter = self.adapters[row.platform]
        now = self.clock.now()
        # Pacing is per destination and route, so edits do not hold up new messages. Native
        # events are left to the adapter's own request limiter.
        pace = timedelta(seconds=adapter.capabilities.pace_seconds if row.kind != "event" else 0)
        dest = _destination(row)
        last = self._last_sent.get(dest)
        ready = max(last + pace if pace and last is not None else now, self._paused.get(dest, now))
        if ready > now:
            await self._release(item, ready, count_attempt=False)
            return
        message: Message | None = None
        thread: MessageRef | None = None
        thread_name = ""
        if row.kind in ("channel", "dm"):
            try:
                message = self._open(row)
                thread, thread_name = await self._thread(row, adapter)
                if thread is not None and not thread_name and not row.sealed:
                    thread_name = _first_text_line(message.text)  # a private parent: the reply's
            except _NotYet as wait:
                await self._release(item, now + wait.delay, count_attempt=False)
                return
            except DeliveryError as err:
                await self._failed(item, row, err)
                return
            if isinstance(adapter, KeyedDelivery):
                await self._deliver_keyed(
                    item,
                    row,
                    adapter,
                    Outgoing(
                        row.key,
                        self._recipient(row),
                        message,
                        row.first_tried_at or item.claimed_at,
                        thread,
                        thread_name,
                    ),
                    separate_uploads=adapter.capabilities.separate_uploads,
                )
                return
        try:
            if row.kind == "event":
                ref = await self._sync_event(row, adapter)
            else:
                ref = await self._send(
                    row, adapter, message or Message.model_validate_json(row.payload), thread
                )
        except _NotYet as wait:
            await self._release(item, now + wait.delay, count_attempt=False)
            return
        except DeliveryError as err:
            await self._failed(item, row, err)
            return
        except Exception:
            _log_unexpected(row, f"unexpected error from {row.platform} adapter")
            await self._failed(item, row, DeliveryError("adapter_error", transient=True))
            return
        if ref is None and row.kind == "event" and row.message_id is not None:
            # A platform that answered "no event" (cancelled, refused) never loses the id.
            ref = MessageRef(row.platform, row.message_channel or row.target, row.message_id)
        await self._record_sent(item, row, ref)

    def _open(self, row: OutboxMessage) -> Message:
        """The row's message; a sealed payload is opened here and nowhere else."""
        if not row.sealed:
            return Message.model_validate_json(row.payload)
        if self.sealer is None:
            raise DeliveryError("sealed_without_key", transient=False)
        try:
            return Message.model_validate_json(self.sealer.open(row.payload, _aad(row.key)))
        except SealBroken:
            raise DeliveryError("sealed_unreadable", transient=False) from None

    async def _thread(
        self, row: OutboxMessage, adapter: ChatAdapter
    ) -> tuple[MessageRef | None, str]:
        """The message to reply under, once it is out, and its first line (the thread's name
        where threads have names); `_NotYet` while it is still queued.

        None when the row is no reply, or the platform has no threads (the reply then goes
        into the channel as a plain message, still after its parent).
        """
        if row.thread_of is None:
            return None, ""
        async with self._session() as session:
            parent = (
                await session.execute(
                    select(OutboxMessage).where(col(OutboxMessage.key) == row.thread_of)
                )
            ).scalar_one_or_none()
        if parent is None or parent.platform != row.platform:
            raise DeliveryError("thread_parent_missing", transient=False)
        if parent.status == "failed":
            raise DeliveryError("thread_parent_failed", transient=False)
        if parent.message_id is None or parent.message_channel is None:
            if parent.status != "sent":
                # Claimed as the parent was queued again (`_parent_settled` keeps such rows
                # unclaimed): wait for it without spending an attempt.
                wait = max(parent.not_before - self.clock.now(), timedelta(seconds=1))
                raise _NotYet(wait)
            log.info("outbox %s: its parent left no message id; posted in the channel", row.key)
            return None, ""
        if not adapter.capabilities.threads:
            return None, ""
        ref = MessageRef(
            row.platform, parent.message_channel, parent.message_id, parent.workspace_id
        )
        return ref, _first_line(parent)

    # -- keyed delivery: post (looked for first when in doubt), then files, or a note ----------

    @staticmethod
    def _recipient(row: OutboxMessage) -> ConversationRef | UserRef:
        if row.kind == "dm":
            return UserRef(row.platform, row.workspace_id, row.target)
        return ConversationRef(row.platform, row.workspace_id, row.target)

    async def _post_once(self, adapter: KeyedDelivery, out: Outgoing, in_doubt: bool) -> MessageRef:
        """Post `out`, unless an earlier attempt that may have reached the platform did."""
        if in_doubt:
            try:
                found = await adapter.find_sent(out)
            except DeliveryError as err:
                if err.transient:
                    raise _StillInDoubt(err) from None
                # The platform will not say (a missing scope, say): posting is all that is left.
                log.warning("outbox %s: cannot look for an earlier copy: %s", out.key, err.reason)
                found = None
            if found is not None:
                log.info("outbox %s: an earlier attempt had delivered it", out.key)
                return found
        return await adapter.post(out)

    async def _deliver_keyed(
        self,
        item: Claimed,
        row: OutboxMessage,
        adapter: KeyedDelivery,
        out: Outgoing,
        *,
        separate_uploads: bool,
    ) -> None:
        message = out.message
        files = separate_uploads and bool(_file_names(message))
        step = row.step
        try:
            if step == "note":
                await self._deliver_note(item, row, adapter, out)
                return
            if step == "":
                ref = await self._post_once(adapter, out, row.in_doubt)
                if not files:
                    await self._record_sent(item, row, ref)
                    return
                await self._record_posted(item, ref)
                row.step, row.in_doubt = "posted", False
                row.message_channel, row.message_id = ref.channel_id, ref.message_id
        except _StillInDoubt as doubt:
            await self._failed(item, row, doubt.err, in_doubt=True)
            return
        except DeliveryError as err:
            await self._failed(item, row, err, in_doubt=err.ambiguous)
            return
        except Exception:
            _log_unexpected(row, f"unexpected error from {row.platform} adapter")
            # Nobody knows what happened to the request: look before posting again.
            unknown = DeliveryError("adapter_error", transient=True, ambiguous=True)
            await self._failed(item, row, unknown, in_doubt=True)
            return
        ref = MessageRef(
            row.platform, row.message_channel or "", row.message_id or "", row.workspace_id
        )
        try:
            await adapter.attach(out, ref, in_doubt=row.in_doubt)
        except Exception as exc:
            failure = exc if isinstance(exc, DeliveryError) else None
            if failure is None:
                _log_unexpected(row, "unexpected error attaching files")
                failure = DeliveryError("adapter_error", transient=True, ambiguous=True)
            await self._upload_failed(item, row, failure)
            return
        await self._record_sent(item, row, ref)

    async def _deliver_note(
        self, item: Claimed, row: OutboxMessage, adapter: KeyedDelivery, out: Outgoing
    ) -> None:
        """The files never went up: say so once under the message (never the message again)."""
        names = ", ".join(_file_names(out.message))
        async with self._session() as session:
            community = await session.get(Community, row.community_id) if row.community_id else None
        text = translator(community.language if community else None)(
            "outbox.file_not_attached", names=names
        )
        where = ConversationRef(row.platform, row.workspace_id, row.message_channel or row.target)
        note = replace(out, key=f"{row.key}:note", to=where, message=Message(text=text))
        await self._post_once(adapter, note, row.in_doubt)
        ref = MessageRef(row.platform, row.message_channel or "", row.message_id or "")
        await self._record_sent(item, row, ref, error=row.error)

    async def _record_posted(self, item: Claimed, ref: MessageRef) -> None:
        """The message is out and its files are not: never post it again."""
        async with self._session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(_held(item))
                .values(
                    step="posted",
                    in_doubt=False,
                    attempts=1,
                    message_channel=ref.channel_id,
                    message_id=ref.message_id,
                )
            )
        item.attempts = 1

    async def _upload_failed(self, item: Claimed, row: OutboxMessage, err: DeliveryError) -> None:
        """Retry only the upload; after its last attempt a note replaces the files."""
        if err.reason == RATE_LIMITED or (err.transient and item.attempts < self.max_attempts):
            await self._failed(item, row, err, in_doubt=err.ambiguous)
            return
        reason = err.reason if not err.transient else f"gave_up:{err.reason}"
        log.warning("outbox %s: files not attached (%s); a note follows", row.key, reason)
        async with self._session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(_held(item))
                .values(
                    status="pending",
                    step="note",
                    in_doubt=False,
                    attempts=0,
                    claimed_at=None,
                    error=f"file_not_attached:{reason}"[:200],
                    not_before=self.clock.now(),
                )
            )

    async def _record_sent(
        self,
        item: Claimed,
        row: OutboxMessage,
        ref: MessageRef | None,
        *,
        error: str | None = None,
    ) -> None:
        self.metrics.delivered(row.platform, "sent")
        self._last_sent[_destination(row)] = self.clock.now()
        if len(self._last_sent) > 10_000:
            self._last_sent.clear()
        async with self._session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(_held(item, sending=True))
                .values(
                    status="sent",
                    sent_at=self.clock.now(),
                    message_channel=ref.channel_id if ref else None,
                    message_id=ref.message_id if ref else None,
                    error=error,
                    in_doubt=False,
                    **_blanked(row),
                )
            )
            if row.kind == "dm":
                await _mark_dm_closed(session, row, None)
        log.info("outbox %s delivered on %s", row.key, row.platform)

    async def _send(
        self,
        row: OutboxMessage,
        adapter: ChatAdapter,
        message: Message,
        thread: MessageRef | None = None,
    ) -> MessageRef | None:
        if thread is not None and isinstance(adapter, ThreadedSend):
            return await adapter.send_in_thread(thread, message)
        if row.kind == "channel":
            return await adapter.send(
                ConversationRef(row.platform, row.workspace_id, row.target), message
            )
        if row.kind == "dm":
            return await adapter.send_dm(
                UserRef(row.platform, row.workspace_id, row.target), message
            )
        async with self._session() as session:
            original = (
                await session.execute(
                    select(OutboxMessage).where(col(OutboxMessage.key) == row.edit_of)
                )
            ).scalar_one_or_none()
        if original is None or original.status == "failed":
            raise DeliveryError("original_not_delivered", transient=False)
        if original.message_id is None or original.message_channel is None:
            raise _NotYet(timedelta(seconds=1))
        ref = MessageRef(
            row.platform, original.message_channel, original.message_id, row.workspace_id
        )
        await adapter.edit(ref, message)
        return ref

    async def _sync_event(self, row: OutboxMessage, adapter: ChatAdapter) -> MessageRef | None:
        if not isinstance(adapter, NativeEvents):
            return None  # the platform has no native events: nothing to mirror
        event = CalendarEvent.model_validate_json(row.payload)
        conv = ConversationRef(row.platform, row.workspace_id, row.target)
        event_id = await adapter.sync_event(conv, row.message_id, event)
        return MessageRef(row.platform, row.target, event_id) if event_id else None

    async def _release(self, item: Claimed, not_before: datetime, *, count_attempt: bool) -> None:
        self._due_at(not_before)
        async with self._session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(_held(item, sending=True))
                .values(
                    status="pending",
                    claimed_at=None,
                    not_before=not_before,
                    attempts=item.attempts if count_attempt else item.attempts - 1,
                )
            )

    async def _failed(
        self,
        item: Claimed,
        row: OutboxMessage,
        err: DeliveryError,
        *,
        in_doubt: bool | None = None,
    ) -> None:
        """Back off and retry a transient error; record a permanent one (or the last) as failed.

        `in_doubt` (keyed rows): whether the next attempt must look for this one first.
        """
        doubt = {} if in_doubt is None else {"in_doubt": in_doubt}
        if err.reason == RATE_LIMITED:
            await self._rate_limited(item, row, err, doubt)
            return
        if err.transient and item.attempts < self.max_attempts:
            self.metrics.delivered(row.platform, "retry")
            backoff = min(self.max_backoff, self.base_backoff * 2 ** (item.attempts - 1))
            delay = max(backoff, err.retry_after or 0.0)
            log.warning(
                "outbox %s: %s %s on attempt %d, retrying in %.1fs",
                row.key,
                err.kind,
                err.reason,
                item.attempts,
                delay,
            )
            async with self._session() as session:
                await session.execute(
                    update(OutboxMessage)
                    .where(_held(item))
                    .values(
                        status="pending",
                        claimed_at=None,
                        error=err.reason[:200],
                        not_before=self.clock.now() + timedelta(seconds=delay),
                        **doubt,
                    )
                )
            return
        reason = err.reason if not err.transient else f"gave_up:{err.reason}"
        if row.step == "note":
            # The message itself is out; only the note about its files could not follow.
            log.warning("outbox %s: the note about its files failed: %s", row.key, reason)
            ref = MessageRef(row.platform, row.message_channel or "", row.message_id or "")
            await self._record_sent(item, row, ref, error=row.error)
            return
        log.warning("outbox %s: permanent failure: %s", row.key, reason)
        self.metrics.delivered(row.platform, "failed")
        async with self._session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(_held(item))
                .values(status="failed", error=reason[:200], **doubt, **_blanked(row))
            )
            if row.kind == "dm" and err.reason == DM_CLOSED:
                await _mark_dm_closed(session, row, self.clock.now())

    async def _rate_limited(
        self, item: Claimed, row: OutboxMessage, err: DeliveryError, doubt: dict[str, bool]
    ) -> None:
        """A 429 is a wait, never a failure: the row waits the platform's Retry-After without
        spending an attempt, and so does its destination (other destinations go on). The
        adapter's own pacing slows down on a 429, so waits do not repeat into a storm."""
        wait = max(err.retry_after if err.retry_after is not None else 1.0, 0.0)
        until = self.clock.now() + timedelta(seconds=wait)
        dest = _destination(row)
        self._paused[dest] = max(self._paused.get(dest, until), until)
        if len(self._paused) > 10_000:
            self._paused.clear()
        self._due_at(until)
        self.metrics.delivered(row.platform, "rate_limited")
        log.info("outbox %s: rate limited by %s, waiting %.1fs", row.key, row.platform, wait)
        async with self._session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(_held(item))
                .values(
                    status="pending",
                    claimed_at=None,
                    attempts=item.attempts - 1,
                    error=err.reason,
                    not_before=until,
                    **doubt,
                )
            )


def _log_unexpected(row: OutboxMessage, what: str) -> None:
    """Log an adapter's unexpected exception; for a sealed row only its type, since an
    exception's text or traceback may quote the private message it was sending."""
    if row.sealed:
        log.error("outbox %s: %s (%s)", row.key, what, type(sys.exc_info()[1]).__name__)
    else:
        log.exception("outbox %s: %s", row.key, what)


def _first_line(row: OutboxMessage) -> str:
    """The first line of a delivered message's text; nothing of a sealed (private) one."""
    if row.sealed or not row.payload:
        return ""
    try:
        text = Message.model_validate_json(row.payload).text
    except ValueError:
        return ""
    return _first_text_line(text)


def _first_text_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


@functools.cache
def _parent_settled() -> ColumnElement[bool]:
    """No reply is claimed while its parent is still queued and not out: it waits unclaimed
    (no attempts spent, no busy retries) and is claimed once the parent is out or failed.

    Built once: an `aliased` entity copies every column, and a claim asks for this condition
    once per row it takes (that was most of a fan-out's CPU)."""
    parent = aliased(OutboxMessage, name="parent")
    waiting = (
        select(col(parent.id))
        .where(
            col(parent.key) == col(OutboxMessage.thread_of),
            col(parent.status).in_(("pending", "sending")),
            col(parent.message_id).is_(None),
        )
        .correlate_except(parent)
    )
    return or_(col(OutboxMessage.thread_of).is_(None), ~exists(waiting))


def _blanked(row: OutboxMessage) -> dict[str, str]:
    """A sealed row's payload is kept only while it may still be sent."""
    return {"payload": ""} if row.sealed else {}


def _held(item: Claimed, *, sending: bool = False) -> ColumnElement[bool]:
    """The row as this worker claimed it, so a newer claim (after a lease ran out) or a
    re-queue by a newer edit is never overwritten by a stale worker."""
    held = and_(col(OutboxMessage.id) == item.id, col(OutboxMessage.claimed_at) == item.claimed_at)
    return and_(held, col(OutboxMessage.status) == "sending") if sending else held


DM_CLOSED = "dm_closed"
"""The `DeliveryError` reason adapters give when a person's DMs are closed."""

RATE_LIMITED = "ratelimited"
"""The `DeliveryError` reason adapters give for a rate-limit answer (HTTP 429): a wait of
`DeliveryError.retry_after`, never a failure and never an attempt."""


async def _mark_dm_closed(session: AsyncSession, row: OutboxMessage, when: datetime | None) -> None:
    """Remember (or forget) closed DMs on every membership of that person on that platform."""
    communities = select(col(Community.id)).where(
        col(Community.platform) == row.platform, col(Community.workspace_id) == row.workspace_id
    )
    stmt = update(Member).where(
        col(Member.user_id) == row.target, col(Member.community_id).in_(communities)
    )
    if when is None:
        stmt = stmt.where(col(Member.dm_closed_at).is_not(None))
    await session.execute(stmt.values(dm_closed_at=when))


class _StillInDoubt(Exception):
    """Looking for an earlier attempt failed for now: try again later, still in doubt."""

    def __init__(self, err: DeliveryError) -> None:
        super().__init__(err.reason)
        self.err = err


class _NotYet(Exception):
    """The row cannot go yet (an edit whose original is still queued)."""

    def __init__(self, delay: timedelta) -> None:
        super().__init__("not yet")
        self.delay = delay
