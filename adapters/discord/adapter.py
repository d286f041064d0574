"""The Discord adapter: discord.py's gateway client, app commands, buttons, modals, delivery.

Identity: one bot is one "workspace". Every `UserRef` and `ConversationRef` on Discord uses
the workspace id ``"discord"`` (`WORKSPACE`): user and channel ids are global snowflakes,
and a DM (which has no guild) must resolve to the member's community by user id alone.
Where a guild is needed (scheduled events) it is looked up from the community's channel.

Interactions: slash commands, button/select presses (`ActionItem`, a `DynamicItem` whose
custom_id is the core's ActionId) and modal submits all go through `_run`, which races
the core against Discord's 3-second answer window and defers when the core is slower.

Languages: every interaction carries the language the person's app is in
(``interaction.locale``). It goes with the event (`Actor.locale`), so the answer is in that
language at once, and, after the answer, to the core as a ``ProfileSeen`` at most once per
person a day (`PROFILE_EVERY`, in this process's memory, as the Slack adapter does), so
later DMs use it too. The ``/cop`` descriptions carry Spanish localisations
(`adapters.discord.commands.CatalogTranslator`, set on the tree before the sync).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands

from adapters.discord.commands import CatalogTranslator, build_cop_group
from adapters.discord.render import (
    CONTINUED,
    MAX_CONTENT,
    ActionItem,
    build_modal,
    form_custom_id,
    render,
)
from bot.commands import (
    UNPARSED,
    Command,
    ParseError,
    Registry,
    command_args,
    validate_params,
)
from bot.config import StartupError, unreachable_reason
from bot.events import (
    Ack,
    ActionClicked,
    Actor,
    CommandInvoked,
    ConversationRef,
    Event,
    FormErrors,
    FormSubmitted,
    MessageRef,
    OpenForm,
    Place,
    ProfileSeen,
    Reply,
    Respond,
    UserRef,
)
from bot.i18n import Translator
from bot.ports import Audience, AudienceKind, Capabilities, DeliveryError, Handler, Outgoing
from bot.reach import Unreachable, until_reachable
from bot.ui import ActionId, ActionIdError, CalendarEvent, Message

log = logging.getLogger(__name__)

WORKSPACE = "discord"
DEFAULT_API_URL = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"

# Discord: an interaction must be answered (or deferred) within 3 seconds.
ACK_BUDGET = 2.5
# Discord: 50 requests per second per bot across all routes (interaction answers excluded).
GLOBAL_RATE = 50
# The window the bot keeps those 50 in, a little over Discord's second: requests arrive later
# than they leave, unevenly, so exactly 50 a second now and then lands 51 in one of Discord's
# windows (a 429 that discord.py then waits out). 2 % is the price of not drawing them.
GLOBAL_WINDOW = 1.02
# Discord: a guild may have at most 100 scheduled events that have not ended.
MAX_UPCOMING_EVENTS = 100
MAX_EVENT_NAME = 100  # scheduled event name: 1-100 characters
MAX_EVENT_LOCATION = 100  # external event location: 1-100 characters
MAX_EVENT_DESCRIPTION = 1000  # scheduled event description: 1,000 characters
# How long one REST request may take before circlebot stops waiting (aiohttp's default is
# 300 s, which let one stuck request hold up every message behind it). A post that times
# out may have been made: its retry carries the same nonce, so Discord returns that one.
REQUEST_TIMEOUT = 5.0
MAX_NONCE = 25  # Discord: a nonce is at most 25 characters
MAX_THREAD_NAME = 100  # Discord: a thread's name is 1-100 characters
THREAD_EXISTS = 160004  # "A thread has already been created for this message"
NOT_THIS_CHANNEL_TYPE = 50024  # "Cannot execute action on this channel type" (a DM)
# An interaction answer (reply, defer, follow-up) goes to Discord's interaction endpoints,
# which discord.py calls without a timeout of its own; the token lives 15 minutes, but an
# answer that has not gone through in this long will not help the member any more.
ANSWER_TIMEOUT = 10.0
# Syncing the app commands at start-up: one bulk request per scope.
SYNC_TIMEOUT = 60.0
# A person's locale goes to the core at most this often (seconds; per process): it comes
# free with every interaction, but keeping it costs a write.
PROFILE_EVERY = 24 * 3600.0
# The memory of who was reported is pruned of stale entries past this many people.
PROFILE_MEMORY = 10_000

_T = Translator()
POSTED_BELOW = _T("adapters.posted_below")
FORM_TOO_SLOW = _T("adapters.form_press_again")
EVENTS_FORBIDDEN = _T("adapters.discord.events_forbidden")


class RateLimiter:
    """At most `rate` calls per `per` seconds (a sliding window shared by the whole bot).

    discord.py already waits on per-route buckets and retries 429s; this paces the outbox
    below Discord's global limit so fan-out (reminders to 200 members) never hits it.
    """

    def __init__(
        self,
        rate: int = GLOBAL_RATE,
        per: float = GLOBAL_WINDOW,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.per = per
        self._clock = clock
        self._sleep = sleep
        self._stamps: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                while self._stamps and self._stamps[0] <= now - self.per:
                    self._stamps.popleft()
                if len(self._stamps) < self.rate:
                    self._stamps.append(now)
                    return
                await self._sleep(self._stamps[0] + self.per - now)


def _retry_after(exc: discord.HTTPException) -> float:
    """How long to wait after a 429 discord.py gave up on: Discord's ``Retry-After``; a
    Cloudflare ban (an answer without Discord's ``Via`` header) an hour as Discord advises,
    here a minute, after which the outbox asks again."""
    headers = getattr(exc.response, "headers", None) or {}
    if "Via" not in headers:
        return 60.0
    try:
        return max(float(headers.get("Retry-After", 1.0)), 0.0)
    except ValueError:
        return 1.0


def delivery_error(exc: BaseException, *, writes: bool = False) -> DeliveryError:
    """Any failure of a Discord request as the core's `DeliveryError`.

    Transient: surely not done (429, a connection never made). Ambiguous (with `writes`):
    may have been done (a 5xx, a timeout, a reset). Permanent: Discord said no.
    """
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, discord.Forbidden):
        if exc.code == 50007:  # Cannot send messages to this user (DMs closed, blocked)
            return DeliveryError("dm_closed", transient=False)
        if exc.code in (50001, 50013):  # Missing Access / Missing Permissions
            return DeliveryError("missing_access", transient=False)
        return DeliveryError("forbidden", transient=False)
    if isinstance(exc, discord.NotFound):
        reason = {10003: "channel_not_found", 10008: "message_not_found", 10013: "user_not_found"}
        return DeliveryError(reason.get(exc.code, "not_found"), transient=False)
    if isinstance(exc, discord.RateLimited):  # discord.py would not wait that long
        return DeliveryError("ratelimited", transient=True, retry_after=exc.retry_after)
    if isinstance(exc, discord.DiscordServerError):
        return DeliveryError("server_error", transient=True, ambiguous=writes)
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:  # discord.py gave up: 429s on every try, or a Cloudflare ban
            return DeliveryError("ratelimited", transient=True, retry_after=_retry_after(exc))
        if exc.status >= 500:
            return DeliveryError("server_error", transient=True, ambiguous=writes)
        return DeliveryError(f"http_{exc.status}", transient=False)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return DeliveryError("connection", transient=True)
    if isinstance(exc, TimeoutError):
        return DeliveryError("timeout", transient=True, ambiguous=writes)
    if isinstance(exc, aiohttp.ClientError | OSError):
        return DeliveryError("connection", transient=True, ambiguous=writes)
    return DeliveryError(f"unexpected_{type(exc).__name__}"[:60], transient=False)


@contextlib.asynccontextmanager
async def _request(
    what: str, *, writes: bool = False, timeout: float = REQUEST_TIMEOUT
) -> AsyncIterator[None]:
    """One REST request under a deliberate timeout; every failure becomes a `DeliveryError`."""
    try:
        async with asyncio.timeout(timeout):
            yield
    except Exception as exc:
        mapped = delivery_error(exc, writes=writes)
        log.info("discord %s failed: %s (%s)", what, mapped.reason, mapped.kind)
        raise mapped from exc


def _snowflake(value: str, reason: str) -> int:
    """A Discord id from our own records; anything else is a permanent `reason`."""
    if not value.isascii() or not value.isdigit() or len(value) > 20:
        raise DeliveryError(reason, transient=False)
    return int(value)


def _thread_name(text: str) -> str:
    """A thread name from a message: its first line, cut to `MAX_THREAD_NAME` characters."""
    line = next((" ".join(x.split()) for x in text.splitlines() if x.strip()), "")
    if len(line) > MAX_THREAD_NAME:
        line = line[: MAX_THREAD_NAME - 1].rstrip() + "…"
    return line


def nonce_for(key: str, part: int = 0) -> str:
    """The message nonce for part `part` of the outbox row `key` (25 characters)."""
    return hashlib.sha256(f"{key}#{part}".encode()).hexdigest()[:MAX_NONCE]


def modal_values(components: list[dict[str, Any]]) -> dict[str, str]:
    """Input values of a MODAL_SUBMIT, from action rows (type 1) or labels (type 18)."""
    out: dict[str, str] = {}
    for wrapper in components:
        inner = list(wrapper.get("components") or [])
        if "component" in wrapper:
            inner.append(wrapper["component"])
        if "custom_id" in wrapper:
            inner.append(wrapper)
        for c in inner:
            if "custom_id" not in c:
                continue
            if "value" in c:
                out[c["custom_id"]] = c["value"] or ""
            elif "values" in c:
                out[c["custom_id"]] = ",".join(c["values"])
    return out


class _Client(discord.Client):
    """discord.Client wired to one adapter (reachable as ``interaction.client.circlebot``)."""

    def __init__(self, adapter: DiscordAdapter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.circlebot = adapter

    async def setup_hook(self) -> None:
        await self.circlebot._setup()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.circlebot._on_interaction(interaction)


class _ShardedClient(_Client, discord.AutoShardedClient):
    """The same, running several shards (or this instance's share of them) in one process."""


class DiscordAdapter:
    """circlebot on Discord; see the module docstring."""

    platform: ClassVar[str] = "discord"
    capabilities = Capabilities(
        buttons=True,
        max_buttons=25,  # 5 rows of 5 buttons per message
        forms=True,
        edit=True,
        ephemeral=True,
        files=True,
        max_action_id=100,  # custom_id: 100 characters
        # Discord's per-channel bucket allows 5 messages per 5 seconds.
        pace_seconds=1.0,
        native_events=True,  # meetings mirrored as Guild Scheduled Events
        threads=True,  # a public thread started from the parent message (not in DMs)
    )
    # Counting a channel's viewers costs no request (the gateway keeps the member list) but
    # walks every member's permissions, so a count is reused for a minute (`bot.audience`).
    audience_ttl: float = 60.0

    def __init__(
        self,
        token: str,
        *,
        registry: Registry,
        dev_guild_id: int | None = None,
        api_url: str = DEFAULT_API_URL,
        gateway_url: str = DEFAULT_GATEWAY_URL,
        guild_ready_timeout: float = 2.0,
        limiter: RateLimiter | None = None,
        ack_budget: float = ACK_BUDGET,
        request_timeout: float = REQUEST_TIMEOUT,
        answer_timeout: float = ANSWER_TIMEOUT,
        members_intent: bool = False,
        shard_count: int | None = None,
        shard_ids: Sequence[int] = (),
    ) -> None:
        self._token = token
        # Discord's limit: one gateway connection serves at most 2,500 guilds, so a large bot
        # runs shards (guild_id >> 22) % shard_count, each instance some of them.
        self.shard_count = shard_count
        self.shard_ids = tuple(shard_ids)
        # Set by the app (`bot.once`): with several instances one syncs the commands.
        self.sync_lock: Callable[[], AbstractAsyncContextManager[bool]] | None = None
        self.members_intent = members_intent
        self.registry = registry
        self.dev_guild_id = dev_guild_id
        self.api_url = api_url.rstrip("/")
        self.gateway_url = gateway_url
        self.guild_ready_timeout = guild_ready_timeout
        self.limiter = limiter or RateLimiter()
        self.ack_budget = ack_budget
        self.request_timeout = request_timeout
        self.answer_timeout = answer_timeout
        self.t = Translator()
        self.client: _Client | None = None
        self.tree: app_commands.CommandTree | None = None
        self.dm_channels: dict[int, int] = {}
        """user id -> DM channel id, so each member's DM channel is opened once."""
        """Members whose DMs failed with 50007 and who have not been told yet (this process)."""
        # Messages known to have a thread (its id is the message's id): replies go straight in.
        self._threads: set[str] = set()
        self._events_refused: set[int] = set()
        self._long_forms: dict[str, tuple[str, str]] = {}
        self._handle: Handler | None = None
        self._task: asyncio.Task[None] | None = None
        self._saved_urls: list[tuple[Any, str, Any]] = []
        # Called for every 429 Discord answers (`bot.ports.Monitored`; the app counts them).
        self.on_rate_limited: Callable[[], None] | None = None
        # user id -> when their locale last went to the core (`PROFILE_EVERY`).
        self._profiles: dict[str, float] = {}
        self._profile_tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:  # never show the token
        shards = (
            f" shards={list(self.shard_ids) or 'all'}/{self.shard_count}"
            if self.shard_count
            else ""
        )
        return f"<DiscordAdapter dev_guild={self.dev_guild_id}{shards}>"

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, handle: Handler) -> None:
        """Log in (syncing app commands), then keep the gateway connection in the background.

        An API out of reach is said once and tried again quietly; a refused token ends here.
        """
        self._handle = handle
        self._point_urls()
        await until_reachable(
            self._login,
            what=f"the Discord API at {self.api_url}",
            hint="check DISCORD_API_URL and the network",
        )
        self._task = asyncio.create_task(self._connect(), name="discord-gateway")
        log.info("discord adapter started")

    async def _login(self) -> None:
        """A fresh client logged in, or closed again (a failed login leaves a session open)."""
        sharding: dict[str, Any] = {}
        if self.shard_count is not None:
            sharding = {"shard_count": self.shard_count, "shard_ids": list(self.shard_ids) or None}
        self.client = (_ShardedClient if sharding else _Client)(
            self,
            **sharding,
            # GUILDS is the only intent needed (channel and guild cache); it is not privileged.
            # Slash commands, buttons and modals arrive without any intent. GUILD_MEMBERS is
            # privileged (switched on in the Developer Portal): only with it does turnout
            # count the members who can see the channel.
            intents=discord.Intents(guilds=True, members=self.members_intent),
            # Nothing the bot posts pings anyone unless a Mention names them (see render).
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=self.guild_ready_timeout,
            http_trace=self._rate_limit_trace(),
        )
        self.tree = app_commands.CommandTree(self.client)
        # Before the sync (in `_setup`): the descriptions' Spanish localisations.
        await self.tree.set_translator(CatalogTranslator())
        cop = build_cop_group(self.registry, self._on_command, self.t, on_text=self._on_text)
        if self.dev_guild_id:
            self.tree.add_command(cop, guild=discord.Object(self.dev_guild_id))
        else:
            self.tree.add_command(cop)
        try:
            await self.client.login(self._token)
        except (aiohttp.ClientConnectionError, TimeoutError) as err:
            await self.client.close()
            raise Unreachable(unreachable_reason(err)) from None
        except discord.LoginFailure:
            await self.client.close()
            raise StartupError("Discord refused DISCORD_TOKEN; copy the bot token again") from None

    async def _setup(self) -> None:
        """Runs inside login: register the dynamic buttons and sync the commands."""
        assert self.client is not None and self.tree is not None
        self.client.add_dynamic_items(ActionItem)
        if self.sync_lock is None:
            await self._sync()
            return
        async with self.sync_lock() as mine:
            if mine:
                await self._sync()
            else:
                log.info("app commands: another instance is syncing them")

    async def _sync(self) -> None:
        """Replace the app commands Discord has with ours (one bulk request)."""
        assert self.tree is not None
        try:
            async with asyncio.timeout(SYNC_TIMEOUT):
                if self.dev_guild_id:
                    synced = await self.tree.sync(guild=discord.Object(self.dev_guild_id))
                else:  # global commands may take up to an hour to show up everywhere
                    synced = await self.tree.sync()
            log.info("synced %d app command(s)", len(synced))
        except discord.HTTPException as exc:
            log.error("syncing app commands failed (HTTP %s, code %s)", exc.status, exc.code)
        except TimeoutError:
            log.error("syncing app commands timed out after %.0f s", SYNC_TIMEOUT)

    async def _connect(self) -> None:
        assert self.client is not None
        try:
            await self.client.connect(reconnect=True)
        except Exception:
            log.exception("discord gateway connection ended")

    def connected(self) -> bool:
        """Whether the gateway session is READY (`bot.ports.Monitored`, for /healthz)."""
        client = self.client
        return (
            client is not None
            and client.is_ready()
            and not client.is_closed()
            and self._task is not None
            and not self._task.done()
        )

    def _rate_limit_trace(self) -> aiohttp.TraceConfig:
        """Sees every REST answer, so each 429 is counted, also those discord.py waits out."""

        async def on_end(
            _session: aiohttp.ClientSession, _ctx: Any, params: aiohttp.TraceRequestEndParams
        ) -> None:
            if params.response.status == 429 and self.on_rate_limited is not None:
                self.on_rate_limited()

        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(on_end)
        return trace

    async def wait_until_ready(self, timeout: float = 10.0) -> None:
        """Wait for the gateway's READY (tests, and callers that need the guild cache)."""
        assert self.client is not None
        async with asyncio.timeout(timeout):
            while not self.client.is_ready():
                if self._task is not None and self._task.done():
                    raise RuntimeError("the Discord connection ended before READY")
                await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 5)
        await self.settled()  # locale reports already on their way reach the core first
        self._restore_urls()
        self._handle = None

    def _point_urls(self) -> None:
        """Use the configured REST and gateway URLs (only when they differ from Discord's)."""
        patches: list[tuple[Any, str, Any]] = []
        if self.api_url != DEFAULT_API_URL:
            patches.append((discord.http.Route, "BASE", self.api_url))
        if self.gateway_url != DEFAULT_GATEWAY_URL:
            patches.append(
                (discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(self.gateway_url))
            )
        for target, name, value in patches:
            self._saved_urls.append((target, name, target.__dict__[name]))
            setattr(target, name, value)

    def _restore_urls(self) -> None:
        for target, name, value in reversed(self._saved_urls):
            setattr(target, name, value)
        self._saved_urls.clear()

    def _require_client(self) -> _Client:
        if self.client is None or self.client.is_closed():
            raise DeliveryError("not_connected", transient=True)
        return self.client

    # -- delivery -------------------------------------------------------------------------

    async def send(self, to: ConversationRef, msg: Message) -> MessageRef:
        """Post `msg`; a long one becomes up to 3 messages whose ids are joined by commas."""
        return await self._send(to.channel_id, msg, None)

    async def _send(self, channel_id: str, msg: Message, key: str | None) -> MessageRef:
        """With `key`, each part carries a nonce from it and Discord enforces it: a repeat
        within a few minutes returns the message already made instead of a second one."""
        client = self._require_client()
        channel = client.get_partial_messageable(_snowflake(channel_id, "channel_not_found"))
        ids: list[str] = []
        for i, part in enumerate(render(msg)):
            extra: dict[str, Any] = {"nonce": nonce_for(key, i)} if key is not None else {}
            await self.limiter.acquire()
            async with _request("create message", writes=True, timeout=self.request_timeout):
                sent = await channel.send(**part.kwargs(), **extra)
            ids.append(str(sent.id))
        return MessageRef(self.platform, channel_id, ",".join(ids))

    # -- delivery by outbox key (bot.ports.KeyedDelivery) -----------------------------------

    async def post(self, out: Outgoing) -> MessageRef:
        """Post an outbox row, files included, with nonces from its key.

        A reply (`out.thread`) goes into the thread on its parent message, started on the
        first reply; in a DM, which has no threads, it is a plain message after the parent.
        """
        if out.thread is not None:
            channel_id = await self._thread_channel(out.thread, out.thread_name)
        elif isinstance(out.to, UserRef):
            channel_id = await self._dm_channel_id(out.to)
        else:
            channel_id = out.to.channel_id
        return await self._send(channel_id, out.message, out.key)

    async def _thread_channel(self, parent: MessageRef, name: str) -> str:
        """The thread on `parent` (started once, named from its first line), as a channel id.

        Discord gives a thread started from a message the message's own id, so a thread that
        already exists (a second reply, a restart, a retry after a lost answer) is used as
        it is. A long post is several messages; its thread hangs off the first.
        """
        message_id = parent.message_id.split(",")[0]
        if message_id in self._threads:
            return message_id
        client = self._require_client()
        channel_id = _snowflake(parent.channel_id, "channel_not_found")
        mid = _snowflake(message_id, "message_not_found")
        channel = client.get_channel(channel_id)
        if isinstance(channel, discord.abc.PrivateChannel) or channel_id in set(
            self.dm_channels.values()
        ):
            return parent.channel_id  # Discord DMs have no threads: a plain reply
        # The outbox names it (never from a private message); "…" only when both were private.
        title = _thread_name(name) or "…"
        await self.limiter.acquire()
        async with _request("start thread", writes=True, timeout=self.request_timeout):
            try:
                if isinstance(channel, discord.TextChannel):
                    await channel.get_partial_message(mid).create_thread(name=title)
                else:  # not cached (no GUILDS event yet): the same request without the cache
                    await client.http.start_thread_with_message(
                        channel_id, mid, name=title, auto_archive_duration=1440
                    )
            except discord.HTTPException as exc:
                if exc.code == NOT_THIS_CHANNEL_TYPE:
                    return parent.channel_id  # a DM after a restart: a plain reply there
                if exc.code != THREAD_EXISTS:
                    raise
        if len(self._threads) > 10_000:
            self._threads.clear()
        self._threads.add(message_id)
        return message_id

    async def find_sent(self, out: Outgoing) -> MessageRef | None:
        """Never needed: posting again with the same nonce is the look (Discord answers with
        the message it already has). Messages read back carry no nonce to look for."""
        return None

    async def attach(self, out: Outgoing, ref: MessageRef, *, in_doubt: bool) -> None:
        """Nothing to do: files travel in the message's own request."""

    async def edit(self, ref: MessageRef, msg: Message) -> None:
        """Edit in place every message of `ref`; leftover continuation messages are emptied."""
        client = self._require_client()
        channel = client.get_partial_messageable(_snowflake(ref.channel_id, "channel_not_found"))
        ids = ref.message_id.split(",")
        parts = render(msg)
        if len(parts) > len(ids):
            log.warning(
                "edit of %s needs %d messages, has %d", ref.message_id, len(parts), len(ids)
            )
        for i, message_id in enumerate(ids):
            if i < len(parts):
                kwargs = parts[i].kwargs(edit=True)
            else:
                kwargs = {"content": CONTINUED, "embeds": [], "view": None, "attachments": []}
            await self.limiter.acquire()
            async with _request("edit message", timeout=self.request_timeout):
                await channel.get_partial_message(int(message_id)).edit(**kwargs)

    async def send_dm(self, user: UserRef, msg: Message) -> MessageRef:
        """DM a member (DM channel opened once); closed DMs fail permanently and are noted."""
        # DMs closed (50007) surface as DeliveryError("dm_closed"): the core remembers it per
        # member and tells them how to open DMs on their next interaction.
        return await self._send(await self._dm_channel_id(user), msg, None)

    async def _dm_channel_id(self, user: UserRef) -> str:
        client = self._require_client()
        try:
            uid = int(user.user_id)
        except ValueError:
            raise DeliveryError("user_not_found", transient=False) from None
        channel_id = self.dm_channels.get(uid)
        if channel_id is None:
            await self.limiter.acquire()
            async with _request("open DM", timeout=self.request_timeout):
                dm = await client.create_dm(discord.Object(uid))
            channel_id = self.dm_channels[uid] = dm.id
        return str(channel_id)

    # -- audience (bot.ports.AudienceSource) ------------------------------------------------

    async def audience(self, conversation: ConversationRef) -> Audience | None:
        """The server's members (bots left out) who can see the channel, from the gateway's
        member list; None without the GUILD_MEMBERS intent or before the list is complete."""
        client = self.client
        if not self.members_intent or client is None or not conversation.channel_id.isdigit():
            return None
        channel = client.get_channel(int(conversation.channel_id))
        guild = getattr(channel, "guild", None)
        members = getattr(channel, "members", None)
        if guild is None or members is None or not guild.chunked:
            return None
        return Audience(sum(1 for m in members if not m.bot), AudienceKind.VIEWERS)

    # -- native scheduled events ----------------------------------------------------------

    async def sync_event(
        self, channel: ConversationRef, event_id: str | None, event: CalendarEvent
    ) -> str | None:
        """The outbox's entry point (`bot.ports.NativeEvents`): mirror one meeting occurrence."""
        return await self.sync_meeting_event(
            channel,
            event_id,
            name=event.name,
            start=event.start,
            end=event.end,
            location=event.location,
            description=event.description,
            cancelled=event.cancelled,
        )

    async def sync_meeting_event(
        self,
        channel: ConversationRef,
        event_id: str | None,
        *,
        name: str,
        start: datetime,
        end: datetime,
        location: str,
        description: str = "",
        cancelled: bool = False,
    ) -> str | None:
        """Create, move or cancel the Guild Scheduled Event mirroring one meeting occurrence.

        `channel` is the community's channel (its guild gets the event); `event_id` is the
        id returned last time (None to create). Returns the id to keep, or None when Discord
        would not (no Manage Events permission, 100 upcoming events, a DM channel). Stores
        nothing: the caller owns the id.
        """
        guild = await self._guild_of(channel)
        if guild is None:
            return None
        fields: dict[str, Any] = {
            "name": name[:MAX_EVENT_NAME],
            "start_time": start,
            "end_time": end,
            "location": (location or "Online")[:MAX_EVENT_LOCATION],
            "description": description[:MAX_EVENT_DESCRIPTION],
            "entity_type": discord.EntityType.external,
            "privacy_level": discord.PrivacyLevel.guild_only,
        }
        try:
            if event_id is not None:
                event = await self._fetch_event(guild, event_id)
                if event is not None:
                    await self.limiter.acquire()
                    async with _request("edit scheduled event", timeout=self.request_timeout):
                        if not cancelled:
                            await event.edit(**fields)
                        elif event.status is discord.EventStatus.scheduled:
                            await event.cancel()
                        elif event.status is discord.EventStatus.active:
                            await event.end()
                    log.info("scheduled event %s synced (cancelled=%s)", event.id, cancelled)
                    return str(event.id)
            if cancelled:
                return None
            await self.limiter.acquire()
            async with _request("list scheduled events", timeout=self.request_timeout):
                existing = await guild.fetch_scheduled_events(with_counts=False)
            open_ = [e for e in existing if e.status in _OPEN_STATUSES]
            # A create that was made but answered with an error (a 5xx, a timeout) left its
            # event behind: the bot's own open event of this name and start is that one.
            me = self.client.user.id if self.client and self.client.user else None
            for known in open_:
                if (
                    known.creator_id == me
                    and known.name == fields["name"]
                    and known.start_time == start
                ):
                    log.info("scheduled event %s was already created", known.id)
                    return str(known.id)
            if len(open_) >= MAX_UPCOMING_EVENTS:
                log.warning("guild %s has %d upcoming events; not adding one", guild.id, len(open_))
                return None
            await self.limiter.acquire()
            async with _request(
                "create scheduled event", writes=True, timeout=self.request_timeout
            ):
                created = await guild.create_scheduled_event(**fields)
            log.info("scheduled event %s created in guild %s", created.id, guild.id)
            return str(created.id)
        except DeliveryError as err:
            cause = err.__cause__
            if isinstance(cause, discord.Forbidden):
                await self._events_forbidden(guild.id, channel)
                return None
            if isinstance(cause, discord.HTTPException) and cause.code == 30038:
                # Maximum number of guild scheduled events reached (100)
                log.warning("guild %s reached Discord's 100 scheduled events", guild.id)
                return None
            log.warning("scheduled event sync failed: %s (%s)", err.reason, err.kind)
            raise

    async def _fetch_event(
        self, guild: discord.Guild, event_id: str
    ) -> discord.ScheduledEvent | None:
        """The event we keep the id of; None once it is gone (deleted by hand)."""
        if not event_id.isascii() or not event_id.isdigit():
            return None
        await self.limiter.acquire()
        try:
            async with _request("fetch scheduled event", timeout=self.request_timeout):
                return await guild.fetch_scheduled_event(int(event_id))
        except DeliveryError as err:
            if isinstance(err.__cause__, discord.NotFound):
                return None
            raise

    async def _guild_of(self, channel: ConversationRef) -> discord.Guild | None:
        client = self._require_client()
        channel_id = _snowflake(channel.channel_id, "channel_not_found")
        found = client.get_channel(channel_id)
        try:
            if found is None:
                async with _request("fetch channel", timeout=self.request_timeout):
                    found = await client.fetch_channel(channel_id)
            guild = getattr(found, "guild", None)
            if guild is None:
                return None
            cached = client.get_guild(guild.id)
            if cached is not None:
                return cached
            async with _request("fetch guild", timeout=self.request_timeout):
                return await client.fetch_guild(guild.id)
        except DeliveryError as err:
            if isinstance(err.__cause__, discord.NotFound | discord.Forbidden):
                return None  # the channel is gone or hidden: there is nothing to mirror into
            raise

    async def _events_forbidden(self, guild_id: int, channel: ConversationRef) -> None:
        """Say once (per guild and process) that events need Manage Events; carry on."""
        if guild_id in self._events_refused:
            return
        self._events_refused.add(guild_id)
        log.warning("guild %s: no Manage Events permission; meetings stay without events", guild_id)
        with contextlib.suppress(DeliveryError):
            await self.send(channel, Message(text=EVENTS_FORBIDDEN))

    # -- interactions -> events -----------------------------------------------------------

    def actor(self, interaction: discord.Interaction) -> Actor:
        user = interaction.user
        is_admin = interaction.guild_id is not None and interaction.permissions.manage_guild
        # The person's app language (every interaction has one; ``en-US`` by default).
        locale = str(interaction.locale.value) or None
        return Actor(
            UserRef(self.platform, WORKSPACE, str(user.id)), user.display_name, is_admin, locale
        )

    def _report_profile(self, event: Event) -> None:
        """Hand the core the person's app language, at most once a day each, in the
        background (after the answer, so it never holds one up)."""
        if isinstance(event, ProfileSeen) or self._handle is None or not event.actor.locale:
            return
        user = event.actor.user.user_id
        now = time.monotonic()
        last = self._profiles.get(user)
        if last is not None and now - last < PROFILE_EVERY:
            return
        if len(self._profiles) >= PROFILE_MEMORY:
            self._profiles = {k: v for k, v in self._profiles.items() if now - v < PROFILE_EVERY}
        self._profiles[user] = now
        # Discord says nothing of a person's zone: `zone` None leaves the core nothing to keep.
        seen = ProfileSeen(event.actor, event.place, zone=None, locale=event.actor.locale)
        task = asyncio.ensure_future(self._tell_profile(seen))
        self._profile_tasks.add(task)
        task.add_done_callback(self._profile_tasks.discard)

    async def _tell_profile(self, seen: ProfileSeen) -> None:
        assert self._handle is not None
        try:
            await self._handle(seen)
        except Exception:
            log.exception("discord: locale of %s not handed over", seen.actor.user.user_id)

    async def settled(self) -> None:
        """Wait until the locale reports started so far have reached the core (for tests)."""
        while self._profile_tasks:
            await asyncio.gather(*list(self._profile_tasks), return_exceptions=True)

    def place(self, interaction: discord.Interaction) -> Place:
        channel = interaction.channel
        channel_id = interaction.channel_id or 0
        if interaction.guild_id is None:
            conv = ConversationRef(self.platform, WORKSPACE, str(channel_id))
            return Place(conv, "dm", is_dm=True)
        # A thread belongs to its channel's community.
        if isinstance(channel, discord.Thread) and channel.parent_id:
            channel_id, channel = channel.parent_id, channel.parent
        name = getattr(channel, "name", "") or ""
        return Place(ConversationRef(self.platform, WORKSPACE, str(channel_id)), name)

    async def _on_command(
        self, interaction: discord.Interaction, cmd: Command, values: dict[str, Any]
    ) -> None:
        try:
            params = validate_params(cmd, command_args(values), self.t)
        except ParseError:
            params = command_args(values)  # the core refuses them in the person's language
        event = CommandInvoked(self.actor(interaction), self.place(interaction), cmd.path, params)
        await self._run(interaction, event, "command")

    async def _on_text(
        self, interaction: discord.Interaction, _cmd: Command | None, values: dict[str, Any]
    ) -> None:
        try:
            cmd, params = self.registry.parse(str(values["text"]), self.t)
            path = cmd.path
        except ParseError:  # the core refuses it in the person's language
            path, params = UNPARSED, {"text": str(values["text"])}
        event = CommandInvoked(self.actor(interaction), self.place(interaction), path, params)
        await self._run(interaction, event, "command")

    async def on_press(
        self, interaction: discord.Interaction, custom_id: str, value: str | None
    ) -> None:
        """A button or select with an ActionId was used (called by `ActionItem`)."""
        try:
            action = ActionId.parse(custom_id)
        except ActionIdError:
            await interaction.response.send_message(
                self.t("core.refuse.stale_button"), ephemeral=True
            )
            return
        message = None
        if interaction.message is not None:
            message = MessageRef(
                self.platform, str(interaction.message.channel.id), str(interaction.message.id)
            )
        event = ActionClicked(
            self.actor(interaction), self.place(interaction), action, message, value
        )
        await self._run(interaction, event, "component")

    async def _on_interaction(self, interaction: discord.Interaction) -> None:
        """Modal submits are handled here (not by the Modal object) so they survive restarts."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: Mapping[str, Any] = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))
        if custom_id.startswith("form:"):
            _, form_id, metadata = (custom_id.split(":", 2) + [""])[:3]
        elif custom_id.startswith("form~") and custom_id[5:] in self._long_forms:
            form_id, metadata = self._long_forms.pop(custom_id[5:])
        elif custom_id.startswith("form~"):
            await interaction.response.send_message(
                self.t("core.refuse.stale_form"), ephemeral=True
            )
            return
        else:
            return
        values = modal_values(list(data.get("components") or []))
        event = FormSubmitted(
            self.actor(interaction), self.place(interaction), form_id, values, metadata
        )
        await self._run(interaction, event, "modal")

    # -- answering ------------------------------------------------------------------------

    async def _run(self, interaction: discord.Interaction, event: Event, kind: str) -> None:
        """Run the core; answer within Discord's 3-second window, deferring when it is slow."""
        assert self._handle is not None, "adapter not started"
        # The interaction's id names this request: the core gives a second delivery of it
        # (a gateway resume replays dispatches) no second effect.
        event = replace(event, delivery=f"discord:interaction:{interaction.id}")
        task = asyncio.ensure_future(self._handle(event))
        done, _ = await asyncio.wait({task}, timeout=self.ack_budget)
        deferred = False
        if not done:
            try:
                async with asyncio.timeout(self.answer_timeout):
                    await self._defer(interaction, kind)
                deferred = True
            except discord.HTTPException as exc:
                log.warning("deferring a %s failed (code %s)", kind, exc.code)
            except TimeoutError:
                log.warning("deferring a %s timed out after %.1f s", kind, self.answer_timeout)
        reply = await task
        typed = event.values if isinstance(event, FormSubmitted) else {}
        try:
            async with asyncio.timeout(self.answer_timeout):
                await self._answer(interaction, reply, kind, deferred, typed)
        except discord.HTTPException as exc:
            log.warning("answering a %s failed (HTTP %s, code %s)", kind, exc.status, exc.code)
        except TimeoutError:
            log.warning("answering a %s timed out after %.1f s", kind, self.answer_timeout)
        self._report_profile(event)

    @staticmethod
    def _quiet_defer_ok(interaction: discord.Interaction, kind: str) -> bool:
        """DEFERRED_UPDATE_MESSAGE (nothing visible) is only valid on a message's component."""
        return kind == "component" or (kind == "modal" and interaction.message is not None)

    async def _defer(self, interaction: discord.Interaction, kind: str) -> None:
        if self._quiet_defer_ok(interaction, kind):
            await interaction.response.defer()
        else:
            # A deferred reply's visibility is fixed now: private, as most replies are.
            await interaction.response.defer(ephemeral=True, thinking=True)

    async def _answer(
        self,
        interaction: discord.Interaction,
        reply: Reply,
        kind: str,
        deferred: bool,
        typed: dict[str, str] | None = None,
    ) -> None:
        thinking = (
            deferred
            and interaction.response.type
            is discord.InteractionResponseType.deferred_channel_message
        )
        if isinstance(reply, Respond):
            parts = render(reply.message)
            private = reply.private
            rest = parts
            if not deferred:
                await interaction.response.send_message(ephemeral=private, **parts[0].kwargs())
                rest = parts[1:]
            elif thinking and private:
                await interaction.edit_original_response(**parts[0].kwargs(edit=True))
                rest = parts[1:]
            elif thinking:  # the private "thinking…" cannot become public: post after it
                await interaction.edit_original_response(content=POSTED_BELOW)
            for part in rest:
                await interaction.followup.send(ephemeral=private, wait=True, **part.kwargs())
        elif isinstance(reply, OpenForm):
            if deferred:  # Discord: a modal can only be the first answer to an interaction
                await self._say(interaction, FORM_TOO_SLOW, deferred, thinking)
            else:
                await interaction.response.send_modal(self._modal(reply))
        elif isinstance(reply, FormErrors):
            # Discord cannot keep a modal open with errors: list them privately instead,
            # with what was typed, so nothing has to be typed again.
            lines = [f"• {name}: {error}" for name, error in reply.errors.items()]
            text = self.t("adapters.form_fix") + "\n" + "\n".join(lines)
            answers = [f"{name}: {value}" for name, value in (typed or {}).items() if value.strip()]
            if answers:
                text += "\n" + self.t("adapters.form_your_answers") + "\n" + "\n".join(answers)
            # Message content: 2,000 characters.
            await self._say(interaction, text[:MAX_CONTENT], deferred, thinking)
        elif isinstance(reply, Ack):
            if not deferred and self._quiet_defer_ok(interaction, kind):
                await interaction.response.defer()
            elif not deferred:
                await interaction.response.defer(ephemeral=True, thinking=True)
                await interaction.delete_original_response()
            elif thinking:
                await interaction.delete_original_response()
        else:
            raise TypeError(f"unknown reply {type(reply).__name__}")

    async def _say(
        self, interaction: discord.Interaction, text: str, deferred: bool, thinking: bool
    ) -> None:
        none = discord.AllowedMentions.none()
        if not deferred:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=none)
        elif thinking:
            await interaction.edit_original_response(content=text, allowed_mentions=none)
        else:
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=none)

    def _modal(self, reply: OpenForm) -> discord.ui.Modal:
        form = reply.form
        custom_id = form_custom_id(form)
        if custom_id is None:  # custom_id: 100 characters; keep the rest here until submit
            token = secrets.token_urlsafe(12)
            self._long_forms[token] = (form.form_id, form.metadata)
            custom_id = f"form~{token}"
        return build_modal(form, custom_id)


_OPEN_STATUSES = (discord.EventStatus.scheduled, discord.EventStatus.active)
