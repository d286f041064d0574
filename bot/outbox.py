"""Every scheduled or fan-out message is a row first; a worker delivers it.

Features call `Outbox.enqueue` inside their own transaction, so a domain change and
the messages it causes commit together. The idempotency key is unique: enqueuing
it again is a no-op, which is what makes reminders and results "never twice". Edits
(live poll counts) coalesce instead: a newer edit replaces a pending one.

The `DeliveryWorker` claims due rows with a lease, sends through the adapter of the
row's platform, records the platform message id, retries transient errors with
backoff (honouring the adapter's retry-after), paces per destination, and marks
permanent errors failed with a reason. A crash between claim and record leaves the
row "sending"; once its lease runs out any worker picks it up again, so at most
that one message can repeat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.events import ConversationRef, MessageRef, UserRef
from bot.ports import ChatAdapter, Clock, DeliveryError, NativeEvents
from bot.ui import CalendarEvent, Message
from storage.db import Database
from storage.models import Community, Member, OutboxMessage

log = logging.getLogger(__name__)


def _insert(session: AsyncSession):  # type: ignore[no-untyped-def]
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(OutboxMessage)


class Outbox:
    """Writes outgoing messages as rows; see the module docstring."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        key: str,
        to: ConversationRef | UserRef,
        message: Message,
        community_id: int | None = None,
        not_before: datetime | None = None,
    ) -> bool:
        """Queue `message` for `to` once per `key`; returns False when the key was already queued."""
        kind = "dm" if isinstance(to, UserRef) else "channel"
        target = to.user_id if isinstance(to, UserRef) else to.channel_id
        stmt = (
            _insert(session)
            .values(
                key=key,
                community_id=community_id,
                platform=to.platform,
                workspace_id=to.workspace_id,
                kind=kind,
                target=target,
                payload=message.model_dump_json(),
                status="pending",
                attempts=0,
                not_before=not_before or self.clock.now(),
                created_at=self.clock.now(),
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(OutboxMessage.id)
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
                    (OutboxMessage.status == "pending", OutboxMessage.not_before),
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
                where=OutboxMessage.payload != ins.excluded.payload,
            )
        )

    async def sent_ref(self, session: AsyncSession, key: str) -> MessageRef | None:
        """Where the message for `key` landed, once delivered."""
        row = (
            await session.execute(select(OutboxMessage).where(OutboxMessage.key == key))
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
    """A row this worker holds the lease on."""

    id: int
    key: str
    claimed_at: datetime
    attempts: int


class DeliveryWorker:
    """Delivers outbox rows through the adapters, one platform each."""

    def __init__(
        self,
        db: Database,
        adapters: Mapping[str, ChatAdapter],
        clock: Clock,
        *,
        lease: timedelta = timedelta(minutes=2),
        max_attempts: int = 8,
        base_backoff: float = 2.0,
        max_backoff: float = 600.0,
        batch: int = 50,
    ) -> None:
        self.db = db
        self.adapters = adapters
        self.clock = clock
        self.lease = lease
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.batch = batch
        self._last_sent: dict[tuple[str, str], datetime] = {}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Tell a running worker there is new work."""
        self._wake.set()

    def _due(self, now: datetime):  # type: ignore[no-untyped-def]
        return or_(
            and_(OutboxMessage.status == "pending", OutboxMessage.not_before <= now),
            and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - self.lease),
        )

    async def claim(self) -> list[Claimed]:
        """Take the lease on due rows, oldest first; rows another worker took are skipped."""
        now = self.clock.now()
        claimed: list[Claimed] = []
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(OutboxMessage.id, OutboxMessage.key, OutboxMessage.platform)
                    .where(self._due(now))
                    .order_by(OutboxMessage.not_before, OutboxMessage.id)
                    .limit(self.batch)
                )
            ).all()
            for row_id, key, platform in rows:
                if platform not in self.adapters:
                    continue
                result = await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id, self._due(now))
                    .values(status="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
                    .returning(OutboxMessage.attempts)
                )
                attempts = result.scalar_one_or_none()
                if attempts is not None:
                    claimed.append(Claimed(row_id, key, now, attempts))
        return claimed

    async def run_once(self) -> int:
        """Claim and deliver one batch; returns how many rows were handled."""
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
        """Deliver as work arrives until `stop` is set."""
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("outbox worker round failed")
                handled = 0
            if handled:
                continue
            self._wake.clear()
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            _, pending = await asyncio.wait(
                waiters, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()

    async def deliver(self, item: Claimed) -> None:
        """Send one claimed row and record the outcome."""
        async with self.db.session() as session:
            row = await session.get(OutboxMessage, item.id)
        if row is None:
            return
        adapter = self.adapters[row.platform]
        now = self.clock.now()
        # Pacing is per destination and route, so edits do not hold up new messages. Native
        # events are left to the adapter's own request limiter.
        pace = timedelta(seconds=adapter.capabilities.pace_seconds if row.kind != "event" else 0)
        dest = (row.platform, row.kind, row.edit_of or row.target)
        last = self._last_sent.get(dest)
        if pace and last is not None and now - last < pace:
            await self._release(item, last + pace, count_attempt=False)
            return
        try:
            if row.kind == "event":
                ref = await self._sync_event(row, adapter)
            else:
                ref = await self._send(row, adapter, Message.model_validate_json(row.payload))
        except _NotYet as wait:
            await self._release(item, now + wait.delay, count_attempt=False)
            return
        except DeliveryError as err:
            await self._failed(item, row, err)
            return
        except Exception:
            log.exception("outbox %s: unexpected error from %s adapter", row.key, row.platform)
            await self._failed(item, row, DeliveryError("adapter_error", transient=True))
            return
        self._last_sent[dest] = self.clock.now()
        async with self.db.session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == item.id,
                    OutboxMessage.status == "sending",
                    OutboxMessage.claimed_at == item.claimed_at,
                )
                .values(
                    status="sent",
                    sent_at=self.clock.now(),
                    message_channel=ref.channel_id if ref else None,
                    message_id=ref.message_id if ref else None,
                    error=None,
                )
            )
            if row.kind == "dm":
                await _mark_dm_closed(session, row, None)
        log.info("outbox %s delivered on %s", row.key, row.platform)

    async def _send(
        self, row: OutboxMessage, adapter: ChatAdapter, message: Message
    ) -> MessageRef | None:
        if row.kind == "channel":
            return await adapter.send(
                ConversationRef(row.platform, row.workspace_id, row.target), message
            )
        if row.kind == "dm":
            return await adapter.send_dm(
                UserRef(row.platform, row.workspace_id, row.target), message
            )
        async with self.db.session() as session:
            original = (
                await session.execute(select(OutboxMessage).where(OutboxMessage.key == row.edit_of))
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
        async with self.db.session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == item.id,
                    OutboxMessage.status == "sending",
                    OutboxMessage.claimed_at == item.claimed_at,
                )
                .values(
                    status="pending",
                    claimed_at=None,
                    not_before=not_before,
                    attempts=item.attempts if count_attempt else item.attempts - 1,
                )
            )

    async def _failed(self, item: Claimed, row: OutboxMessage, err: DeliveryError) -> None:
        if err.transient and item.attempts < self.max_attempts:
            backoff = min(self.max_backoff, self.base_backoff * 2 ** (item.attempts - 1))
            delay = max(backoff, err.retry_after or 0.0)
            log.warning(
                "outbox %s: transient %s on attempt %d, retrying in %.1fs",
                row.key,
                err.reason,
                item.attempts,
                delay,
            )
            async with self.db.session() as session:
                await session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.id == item.id,
                        OutboxMessage.claimed_at == item.claimed_at,
                    )
                    .values(
                        status="pending",
                        claimed_at=None,
                        error=err.reason[:200],
                        not_before=self.clock.now() + timedelta(seconds=delay),
                    )
                )
            return
        reason = err.reason if not err.transient else f"gave_up:{err.reason}"
        log.warning("outbox %s: permanent failure: %s", row.key, reason)
        async with self.db.session() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == item.id, OutboxMessage.claimed_at == item.claimed_at)
                .values(status="failed", error=reason[:200])
            )
            if row.kind == "dm" and err.reason == DM_CLOSED:
                await _mark_dm_closed(session, row, self.clock.now())


DM_CLOSED = "dm_closed"
"""The `DeliveryError` reason adapters give when a person's DMs are closed."""


async def _mark_dm_closed(session: AsyncSession, row: OutboxMessage, when: datetime | None) -> None:
    """Remember (or forget) closed DMs on every membership of that person on that platform."""
    communities = select(Community.id).where(
        Community.platform == row.platform, Community.workspace_id == row.workspace_id
    )
    stmt = update(Member).where(Member.user_id == row.target, Member.community_id.in_(communities))
    if when is None:
        stmt = stmt.where(Member.dm_closed_at.is_not(None))  # type: ignore[union-attr]
    await session.execute(stmt.values(dm_closed_at=when))


class _NotYet(Exception):
    """The row cannot go yet (an edit whose original is still queued)."""

    def __init__(self, delay: timedelta) -> None:
        super().__init__("not yet")
        self.delay = delay
