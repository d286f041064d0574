"""The core's view of the outside: chat platforms, the clock, delivery errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
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
    # Files go up after their message in requests of their own (Slack), so a message with
    # files is two steps the outbox records one by one (`KeyedDelivery.attach`).
    separate_uploads: bool = False
    # Messages can be posted in a thread under another message (Slack ``thread_ts``, a
    # Discord thread, the console's indent). Without it a reply queued with
    # ``Outbox.enqueue(thread_of=...)`` is posted as a plain message in the channel.
    threads: bool = False


class DeliveryError(Exception):
    """A send that failed. `transient` errors are retried (after `retry_after` if given).

    `ambiguous` errors (a timeout or reset after the request was written, a 5xx on a post)
    may have reached the platform: they are retried too, but the retry first asks the
    platform whether the message is there. `reason` is a short machine-readable word
    (``ratelimited``, ``dm_closed``, ``channel_not_found``) and must never carry message
    content or tokens.
    """

    def __init__(
        self,
        reason: str,
        *,
        transient: bool,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient or ambiguous
        self.retry_after = retry_after
        self.ambiguous = ambiguous

    @property
    def kind(self) -> str:
        """``ambiguous``, ``transient`` or ``permanent``."""
        if self.ambiguous:
            return "ambiguous"
        return "transient" if self.transient else "permanent"


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


@dataclass(frozen=True)
class Outgoing:
    """One outbox row as a `KeyedDelivery` adapter sees it.

    `key` is the outbox key (unique per message); `first_tried` is when the first attempt
    started, so a look for an earlier copy need only go back that far. `thread` is the
    message to reply under (set only when the platform has `Capabilities.threads`): the
    message goes in its thread instead of straight into `to`. `thread_name` is the first
    line of that message (of this one when that one is private; empty when both are), for
    platforms whose threads have names.
    """

    key: str
    to: ConversationRef | UserRef
    message: Message
    first_tried: datetime
    thread: MessageRef | None = None
    thread_name: str = ""


@runtime_checkable
class ThreadedSend(Protocol):
    """Optional ability of an adapter without `KeyedDelivery`: post under another message.

    The outbox calls it for a row queued with ``thread_of`` when the platform has
    `Capabilities.threads`; otherwise the reply goes out with `ChatAdapter.send` as a
    plain message in the channel.
    """

    async def send_in_thread(self, parent: MessageRef, msg: Message) -> MessageRef:
        """Post `msg` in the thread under `parent`; returns where it landed."""
        ...


@runtime_checkable
class KeyedDelivery(Protocol):
    """Optional adapter ability: deliver outbox rows by key, so a repeat can be recognised.

    Without it the outbox uses `ChatAdapter.send`/`send_dm` and an ambiguous failure may
    repeat a message.
    """

    async def post(self, out: Outgoing) -> MessageRef:
        """Post the message tagged with `out.key`; separate uploads are left to `attach`."""
        ...

    async def find_sent(self, out: Outgoing) -> MessageRef | None:
        """The message an earlier, ambiguous attempt posted for `out.key`, if it exists."""
        ...

    async def attach(self, out: Outgoing, ref: MessageRef, *, in_doubt: bool) -> None:
        """Upload the message's files after `ref`; `in_doubt`: an earlier upload may be there."""
        ...


@runtime_checkable
class NativeEvents(Protocol):
    """Optional adapter ability: keep a platform-native event in step with a meeting."""

    async def sync_event(
        self, channel: ConversationRef, event_id: str | None, event: CalendarEvent
    ) -> str | None:
        """Create, update or cancel; returns the id to keep (None when there is none).

        Raises `DeliveryError` when the platform failed (transient ones are retried); the
        outbox then keeps the id it had.
        """
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


class AudienceKind(StrEnum):
    """What an audience count means, so turnout can say which count it is."""

    CHANNEL = "channel"  # the channel's members, as the platform lists them
    VIEWERS = "viewers"  # the server's members who can see the channel


@dataclass(frozen=True)
class Audience:
    """How many people a conversation reaches, and what kind of count that is."""

    count: int
    kind: AudienceKind


@runtime_checkable
class AudienceSource(Protocol):
    """Optional adapter ability: count the people of a conversation (for poll turnout).

    `audience_ttl` is how many seconds a count may be reused: platforms rate-limit the
    listing, so `bot.audience.Audiences` caches it; 0 means it costs nothing to ask again.
    """

    audience_ttl: float

    async def audience(self, conversation: ConversationRef) -> Audience | None:
        """The count, or None when the platform does not say (missing scope or intent)."""
        ...


@runtime_checkable
class Monitored(Protocol):
    """Optional adapter ability: what `/healthz` and `/metrics` ask of a platform connection.

    `connected()` says whether the adapter can take and send messages now (a gateway that is
    READY, a listening HTTP server, an open Socket Mode session). The app sets
    `on_rate_limited`, which the adapter calls once for every rate-limit answer (HTTP 429) it
    receives, including those its platform library then waits out by itself.
    """

    on_rate_limited: Callable[[], None] | None

    def connected(self) -> bool: ...
