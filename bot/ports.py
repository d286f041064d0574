"""The core's view of the outside: chat platforms, the clock, delivery errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Protocol, runtime_checkable

from bot.events import ConversationRef, Event, MessageRef, Reply, UserRef
from bot.ui import CalendarEvent, Message


@dataclass(frozen=True)
class Capabilities:
    """What a platform can show; features degrade on what it cannot."""

    buttons: bool = True
    max_buttons: int = 25
    forms: bool = True
    edit: bool = True
    ephemeral: bool = True
    files: bool = True
    max_action_id: int = 100
    # Minimum seconds between two messages to one destination (platform rate limits).
    pace_seconds: float = 0.0
    # Meetings can be mirrored as native scheduled events (`NativeEvents.sync_event`).
    native_events: bool = False


class DeliveryError(Exception):
    """A send that failed. `transient` errors are retried (after `retry_after` if given).

    `reason` is a short machine-readable word (``ratelimited``, ``dm_closed``,
    ``channel_not_found``) and must never carry message content or tokens.
    """

    def __init__(self, reason: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after


Handler = Callable[[Event], Awaitable[Reply]]


@runtime_checkable
class ChatAdapter(Protocol):
    """One chat platform. Adapters translate; features decide."""

    platform: ClassVar[str]
    capabilities: Capabilities

    async def start(self, handle: Handler) -> None: ...
    async def stop(self) -> None: ...
    async def send(self, to: ConversationRef, msg: Message) -> MessageRef: ...
    async def edit(self, ref: MessageRef, msg: Message) -> None: ...
    async def send_dm(self, user: UserRef, msg: Message) -> MessageRef: ...


@runtime_checkable
class NativeEvents(Protocol):
    """Optional adapter ability: keep a platform-native event in step with a meeting."""

    async def sync_event(
        self, channel: ConversationRef, event_id: str | None, event: CalendarEvent
    ) -> str | None:
        """Create, update or cancel; returns the id to keep (None when there is none)."""
        ...


class Clock(Protocol):
    """Where "now" comes from; always aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock tests and console scripts move by hand."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta
