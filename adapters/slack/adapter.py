"""The Slack adapter: bolt listeners turn requests into core events; replies go back natively.

Modes:

* **Socket Mode** (``SLACK_BOT_TOKEN`` + ``SLACK_APP_TOKEN``): one workspace, no public URL.
* **HTTP** (``SLACK_SIGNING_SECRET``): with ``SLACK_BOT_TOKEN`` for one workspace, or with
  ``SLACK_CLIENT_ID``/``SLACK_CLIENT_SECRET`` for OAuth installs into many workspaces
  (installations and OAuth states in the project's database, through slack-sdk's async
  SQLAlchemy stores). Listens on ``SLACK_HTTP_HOST:SLACK_HTTP_PORT`` at ``SLACK_HTTP_PATH``.

Slack wants every interaction acknowledged within 3 seconds, and a modal can only be opened
with a ``trigger_id`` less than 3 seconds old. So the core's `handle()` is awaited with a
budget (`ack_budget`, 2.5 s from receipt): a reply inside it is given natively (ephemeral ack,
modal, form errors); a slower one is acknowledged empty and delivered afterwards through the
``response_url`` or the Web API, except a form, which it is then too late to open.

What Slack says of a person (``users.info``: ``user.tz``, and ``user.locale`` with
``include_locale=true``) comes with the lookup the adapter makes anyway for names and the
admin flag; after the interaction is answered, the adapter hands it to the core as a
``ProfileSeen`` in the background, at most once per person a day (`PROFILE_EVERY`, in this
process's memory), so it never holds up an ack.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_server import AsyncSlackAppServer
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack import parse
from adapters.slack.dedupe import SeenSet, action_key, command_key, event_key, view_key
from adapters.slack.delivery import (
    CHANNEL_PACE_SECONDS,
    DEFAULT_MESSAGES_PER_MINUTE,
    RATE_LIMITED,
    REQUEST_TIMEOUT,
    UserDirectory,
    WorkspacePacer,
    call,
    retry_handlers,
    web_client,
)
from adapters.slack.ratelimits import CountRateLimits
from adapters.slack.render import (
    escape,
    form_metadata,
    render_form,
    render_home,
    render_message,
)
from bot.commands import ParseError, Registry
from bot.config import StartupError, unreachable_reason
from bot.events import (
    Actor,
    CommandInvoked,
    ConversationRef,
    Event,
    FormErrors,
    HomeOpened,
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
from bot.ui import ActionIdError, File, Form, Message

log = logging.getLogger(__name__)

COMMAND = "/cop"
#: The bot scopes the adapter uses, exactly; ``manifest.json`` lists the same (a test checks).
BOT_SCOPES = (
    "channels:read",  # member_joined_channel and conversations.members in public channels
    # conversations.history (and conversations.replies for a reply in a thread), only after
    # a post that may have gone through unanswered (a timeout, a 5xx): is circlebot's own
    # message with this outbox key already there?
    "channels:history",
    "chat:write",  # post, update, ephemeral messages
    "commands",  # /cop
    "files:write",  # charts, .ics and CSV through files_upload_v2
    "groups:history",  # as channels:history, in private channels
    "groups:read",  # as channels:read, in private channels
    "im:history",  # as channels:history, in DMs (reminders)
    "im:write",  # conversations.open for DMs
    "users:read",  # names and the workspace-admin flag (users.info)
)
#: The message metadata event type that carries an outbox key on every outbox post.
OUTBOX_EVENT = "circlebot_outbox"
# auth.test errors that mean the token itself is wrong: retrying cannot help.
REFUSED_TOKEN = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
# A look for an earlier copy starts this long before the first attempt (clock skew).
LOOKBACK_MARGIN = 60.0
# ... and reads at most this many pages of history (200 messages each).
LOOKBACK_PAGES = 5
#: Seconds a stop waits for requests and answers in flight.
STOP_GRACE = 2.0
# Slack: acknowledge within 3 seconds; trigger_ids expire 3 seconds after the interaction.
ACK_WINDOW = 3.0
DEFAULT_ACK_BUDGET = 2.5
# conversations.members: up to 1000 ids a page (Slack suggests 200 or fewer; bigger pages
# mean fewer Tier 4 calls), at most this many pages; a bigger channel is not counted.
AUDIENCE_PAGE_SIZE = 1000
AUDIENCE_PAGES = 10
# A person's zone and locale go to the core at most this often (seconds; per process). Their
# users.info call is the one made for names and the admin flag (Tier 4, 100+ a minute), so
# telling the core costs no call of its own; a day is as stale as a traveller's zone gets.
PROFILE_EVERY = 24 * 3600.0
# The memory of who was reported is pruned of stale entries past this many people.
PROFILE_MEMORY = 10_000

# When the request reached circlebot (event-loop time). The ack budget runs from here, not
# from when our listener starts: under load the two can be seconds apart, and bolt's own
# 3-second limit (which answers 404 when it runs out) counts from the start of its dispatch.
_arrived: ContextVar[float | None] = ContextVar("slack_request_arrived", default=None)


@web.middleware
async def stamp_arrival(request: web.Request, handler: Any) -> web.StreamResponse:
    """aiohttp middleware: note the arrival time before bolt reads and verifies the body."""
    token = _arrived.set(asyncio.get_running_loop().time())
    try:
        response: web.StreamResponse = await handler(request)
        return response
    finally:
        _arrived.reset(token)


# Slack sends the request's Unix time as plain ASCII digits. bolt's check runs int() on it and
# answers 500 when that fails (and int() would take "+1", "1_0" or Arabic-Indic digits).
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


@web.middleware
async def refuse_malformed_timestamp(request: web.Request, handler: Any) -> web.StreamResponse:
    """aiohttp middleware: a signature timestamp that is not a Unix time is a 401, like a bad
    signature, before bolt reads the body."""
    stamp = request.headers.get("X-Slack-Request-Timestamp")
    if stamp is not None and not _TIMESTAMP.fullmatch(stamp):
        log.info("slack: request with a malformed signature timestamp refused")
        return web.json_response({"error": "invalid request"}, status=401)
    response: web.StreamResponse = await handler(request)
    return response


_T = Translator()
SLOW_FORM = _T("adapters.form_slow")
FORM_FAILED = _T("adapters.form_failed")


@dataclass(frozen=True)
class SlackConfig:
    """What the adapter needs from the settings (secrets as plain strings, never logged)."""

    bot_token: str | None = None
    app_token: str | None = None
    signing_secret: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_url: str = "https://slack.com/api/"
    http_host: str = "0.0.0.0"
    http_port: int = 3000
    http_path: str = "/slack/events"
    database_url: str = "sqlite:///./circlebot.db"
    # The most messages circlebot posts per minute in one workspace (all channels together).
    messages_per_minute: int = DEFAULT_MESSAGES_PER_MINUTE

    @property
    def mode(self) -> str:
        """``socket`` or ``http``; `ValueError` when the settings allow neither."""
        if self.app_token and self.bot_token:
            return "socket"
        if self.signing_secret and (self.bot_token or self.oauth):
            return "http"
        if self.app_token:
            raise ValueError("Socket Mode needs SLACK_BOT_TOKEN as well as SLACK_APP_TOKEN")
        raise ValueError(
            "set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) for Slack"
        )

    @property
    def oauth(self) -> bool:
        """Multi-workspace installs: a client id and secret and no single bot token."""
        return bool(self.client_id and self.client_secret and not self.bot_token)


class _Late:
    """The core had not answered inside the ack budget; its task is still running."""

    def __init__(self, task: asyncio.Task[Reply]) -> None:
        self.task = task


class SlackAdapter:
    """`bot.ports.ChatAdapter` for Slack (see the module docstring)."""

    platform: ClassVar[str] = "slack"
    capabilities = Capabilities(
        buttons=True,
        max_buttons=25,  # one actions block holds 25 elements
        forms=True,
        edit=True,
        ephemeral=True,
        files=True,
        max_action_id=100,
        pace_seconds=CHANNEL_PACE_SECONDS,
        separate_uploads=True,  # files_upload_v2 runs after the message, in calls of its own
        threads=True,  # chat.postMessage with thread_ts = the parent message's ts
    )
    # conversations.members is Tier 4 (100+ calls a minute): a channel's count is reused this
    # many seconds (`bot.audience`), so a burst of votes costs one listing.
    audience_ttl: float = 60.0

    def __init__(
        self,
        config: SlackConfig,
        *,
        registry: Registry,
        engine: AsyncEngine | None = None,
        ack_budget: float = DEFAULT_ACK_BUDGET,
        workspace_interval: float | None = None,
        user_ttl: float = 300.0,
        max_rate_limit_wait: float = 5.0,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self.config = config
        self.mode = config.mode
        self.ack_budget = ack_budget
        self._engine = engine
        self._own_engine = False
        # Called for every 429 Slack answers (`bot.ports.Monitored`; the app counts them).
        self.on_rate_limited: Callable[[], None] | None = None
        self._handlers = [
            CountRateLimits(self._rate_limited),
            *retry_handlers(max_rate_limit_wait=max_rate_limit_wait),
        ]
        # The outbox's requests: a 429 comes back to the outbox at once (it waits Retry-After
        # with the message unclaimed and paces the workspace slower), instead of slack-sdk
        # sleeping it out inside the call and repeating it past the pacer.
        self._outbox_handlers = [
            CountRateLimits(self._rate_limited),
            *retry_handlers(max_rate_limit_wait=max_rate_limit_wait, rate_limits=False),
        ]
        self.request_timeout = request_timeout
        self.client = web_client(
            config.bot_token, config.api_url, self._handlers, timeout=request_timeout
        )
        self._outbox_client = web_client(
            config.bot_token, config.api_url, self._outbox_handlers, timeout=request_timeout
        )
        self.registry = registry
        self.handle: Handler | None = None
        self.bolt: AsyncApp | None = None
        self.installation_store: AsyncSQLAlchemyInstallationStore | None = None
        self.state_store: AsyncSQLAlchemyOAuthStateStore | None = None
        self.http_port: int | None = None
        # Only App Home openings (a redraw); everything with an effect is de-duplicated by
        # the core, durably, through each event's `delivery` key.
        self.seen = SeenSet()
        self.users = UserDirectory(ttl=user_ttl)
        if workspace_interval is None:
            workspace_interval = 60.0 / config.messages_per_minute
        self.pacer = WorkspacePacer(workspace_interval)
        self._identities: dict[str, tuple[str, str]] = {}
        self._dms: dict[tuple[str, str], str] = {}
        self._channel_team: dict[str, str] = {}
        self._team_clients: dict[tuple[str, bool], AsyncWebClient] = {}
        self._default_team: str | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._profiles: dict[tuple[str, str], float] = {}
        # One kept-alive HTTP session for response_url answers (`_respond`).
        self._http: aiohttp.ClientSession | None = None
        # Set by `stop`: no new background work starts after it.
        self._stopping = False

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self, handle: Handler) -> None:
        self.handle = handle
        if self.config.oauth:
            await self._open_stores()
        self.bolt = self.build_bolt()
        if self.mode == "socket":
            await self._until_reachable()
            # SocketModeClient must be created inside the running loop.
            self._socket = AsyncSocketModeHandler(self.bolt, app_token=self.config.app_token)
            await self._socket.connect_async()
            log.info("slack: connected in Socket Mode")
        else:
            server = AsyncSlackAppServer(
                port=self.config.http_port,
                path=self.config.http_path,
                app=self.bolt,
                host=self.config.http_host,
            )
            server.web_app.middlewares.append(stamp_arrival)
            server.web_app.middlewares.append(refuse_malformed_timestamp)
            self._runner = web.AppRunner(
                server.web_app, access_log=None, shutdown_timeout=STOP_GRACE
            )
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.config.http_host, self.config.http_port)
            await site.start()
            self.http_port = self._runner.addresses[0][1]
            log.info(
                "slack: listening on %s:%s%s%s",
                self.config.http_host,
                self.http_port,
                self.config.http_path,
                " (OAuth installs at /slack/install)" if self.config.oauth else "",
            )
            # Listening first: Slack's requests are acked while its API is still out of reach.
            await self._until_reachable()

    def _rate_limited(self) -> None:
        if self.on_rate_limited is not None:
            self.on_rate_limited()

    def connected(self) -> bool:
        """Listening for Slack's requests (HTTP mode), or a live Socket Mode session
        (`bot.ports.Monitored`, for /healthz)."""
        if self.mode != "socket":
            return self._runner is not None
        client = self._socket.client if self._socket is not None else None
        session = getattr(client, "current_session", None)
        return session is not None and not session.closed and not getattr(client, "stale", False)

    async def _until_reachable(self) -> None:
        if self.config.oauth:  # no bot token until a workspace installs the app
            return
        await until_reachable(
            self._check_reachable,
            what=f"the Slack API at {self.config.api_url}",
            hint="check SLACK_API_URL and the network",
        )

    async def _check_reachable(self) -> None:
        """One `auth.test`: Unreachable if Slack does not answer, StartupError if it refuses the
        token (Socket Mode's own client would retry either forever, with tracebacks)."""
        try:
            await self.client.auth_test()
        except (aiohttp.ClientConnectionError, TimeoutError) as err:
            raise Unreachable(unreachable_reason(err)) from None
        except SlackApiError as err:
            code = err.response.get("error") if err.response is not None else None
            if code in REFUSED_TOKEN:
                raise StartupError(
                    f"Slack refused SLACK_BOT_TOKEN ({code}); copy the bot token again"
                ) from None
            # Anything else (a 5xx, ratelimited) means Slack answered: carry on, the
            # delivery retries will cope.

    async def stop(self) -> None:
        self._stopping = True
        if self._socket is not None:
            client = self._socket.client
            await client.close()
            tasks = [
                t
                for t in (
                    getattr(client, "message_processor", None),
                    getattr(client, "current_session_monitor", None),
                    getattr(client, "message_receiver", None),
                )
                if t is not None
            ]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        # Answers and profile reports in flight get the HTTP server's grace to finish (a
        # task cancelled inside a database query leaves its connection half-closed).
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=STOP_GRACE)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._own_engine and self._engine is not None:
            await self._engine.dispose()
        self.handle = None

    async def _open_stores(self) -> None:
        if self._engine is None:
            from storage.db import Database

            self._engine = Database(self.config.database_url).engine
            self._own_engine = True
        assert self.config.client_id is not None
        self.installation_store = AsyncSQLAlchemyInstallationStore(
            client_id=self.config.client_id, engine=self._engine
        )
        self.state_store = AsyncSQLAlchemyOAuthStateStore(
            expiration_seconds=600, engine=self._engine
        )
        # slack-sdk's own tables (slack_installations, slack_bots, slack_oauth_states);
        # create_all leaves existing tables alone.
        await self.installation_store.create_tables()
        await self.state_store.create_tables()

    def build_bolt(self) -> AsyncApp:
        """The bolt app with one listener per kind of request (see the module docstring)."""
        kwargs: dict[str, Any] = {
            "signing_secret": self.config.signing_secret or "",
            # Socket Mode requests are not signed; HTTP requests always are.
            "request_verification_enabled": bool(self.config.signing_secret),
        }
        if self.config.oauth:
            kwargs["client"] = web_client(
                None, self.config.api_url, self._handlers, timeout=self.request_timeout
            )
            kwargs["oauth_settings"] = AsyncOAuthSettings(
                client_id=self.config.client_id,
                client_secret=self.config.client_secret,
                scopes=list(BOT_SCOPES),
                installation_store=self.installation_store,
                state_store=self.state_store,
            )
        else:
            kwargs["client"] = self.client
        app = AsyncApp(**kwargs)

        @app.middleware
        async def stamp_socket_arrival(next: Callable[[], Awaitable[Any]]) -> Any:  # noqa: A002
            # A Socket Mode request has no HTTP arrival; it starts when bolt takes it up.
            if _arrived.get() is None:
                _arrived.set(asyncio.get_running_loop().time())
            return await next()

        @app.command(COMMAND)
        async def on_command(
            ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
        ) -> None:
            await self._on_command(ack, body, client, respond)

        @app.action(re.compile(".*"))
        async def on_action(
            ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
        ) -> None:
            await self._on_action(ack, body, client, respond)

        @app.view(re.compile(".*"))
        async def on_view(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
            await self._on_view(ack, body, client)

        @app.view_closed(re.compile(".*"))
        async def on_view_closed(ack: AsyncAck, body: dict[str, Any]) -> None:
            # The core has no "form closed" event: nothing to undo, so only acknowledge.
            await ack()
            log.info("slack: form %s closed", (body.get("view") or {}).get("callback_id"))

        @app.event("app_home_opened")
        async def on_home(
            body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
        ) -> None:
            await self._on_home(body, event, client)

        @app.event("member_joined_channel")
        async def on_joined(
            body: dict[str, Any],
            event: dict[str, Any],
            client: AsyncWebClient,
            context: AsyncBoltContext,
        ) -> None:
            await self._on_joined(body, event, client, context)

        return app

    # -- helpers -----------------------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[Any]) -> None:
        if self._stopping:  # a request finishing while the adapter stops starts nothing new
            if inspect.iscoroutine(coro):
                coro.close()
            return
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settled(self) -> None:
        """Wait until the background work started so far (late replies, profile reports,
        uploads) has finished; for tests and a clean stop."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _report_profile(self, who: Actor, where: Place, after: _Late | None = None) -> None:
        """Hand the core what Slack said of `who` (see the module docstring), in the
        background: after `after` (a late reply still running), so a first interaction that
        made them a member finds their new row. Nothing when the lookup failed."""
        team, user = who.user.workspace_id, who.user.user_id
        info = self.users.cached(team, user)
        if info is None or not info.found:
            return
        now = time.monotonic()
        last = self._profiles.get((team, user))
        if last is not None and now - last < PROFILE_EVERY:
            return
        if len(self._profiles) >= PROFILE_MEMORY:
            self._profiles = {k: v for k, v in self._profiles.items() if now - v < PROFILE_EVERY}
        self._profiles[(team, user)] = now
        seen = ProfileSeen(who, where, zone=info.zone, locale=info.locale)
        self._spawn(self._tell_profile(seen, after))

    async def _tell_profile(self, seen: ProfileSeen, after: _Late | None) -> None:
        if after is not None:
            await asyncio.gather(after.task, return_exceptions=True)
        if self.handle is None:
            return
        try:
            await self.handle(seen)
        except Exception:
            log.exception("slack: profile of %s not handed over", seen.actor.user.user_id)

    def _remember(self, channel_id: str | None, team: str) -> None:
        if channel_id and team:
            self._channel_team[channel_id] = team
        if team and self._default_team is None:
            self._default_team = team

    async def _actor(
        self,
        client: AsyncWebClient,
        team: str,
        user_id: str,
        name: str | None,
        deadline: float | None,
    ) -> Actor:
        timeout = 1.5
        if deadline is not None:
            timeout = min(timeout, deadline - asyncio.get_running_loop().time() - 0.5)
        info = await self.users.lookup(client, team, user_id, name, timeout=timeout)
        # The locale comes with the lookup (include_locale): the answer to this very request
        # is already in the person's language, before any ProfileSeen has kept it.
        return replace(parse.actor(team, user_id, info.name, info.is_admin), locale=info.locale)

    def _deadline(self) -> float:
        """When the ack budget of the request being handled runs out (event-loop time)."""
        now = asyncio.get_running_loop().time()
        arrived = _arrived.get()
        return (now if arrived is None else arrived) + self.ack_budget

    async def _core(self, event: Event, deadline: float | None) -> Reply | _Late:
        """The core's reply, or `_Late` when it is not ready by `deadline`."""
        assert self.handle is not None, "adapter not started"
        task: asyncio.Task[Reply] = asyncio.ensure_future(self.handle(event))
        if deadline is None:
            return await task
        remaining = deadline - asyncio.get_running_loop().time()
        done, _ = await asyncio.wait({task}, timeout=max(remaining, 0.0))
        if task in done:
            return task.result()
        log.warning("slack: %s not answered inside the ack budget", type(event).__name__)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return _Late(task)

    @staticmethod
    def _t() -> Translator:
        return Translator()

    # -- slash command -----------------------------------------------------------------------------

    async def _on_command(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        deadline = self._deadline()
        team, user = parse.team_of(body), body.get("user_id", "")
        self._remember(body.get("channel_id"), team)
        placeholder = parse.actor(team, user, body.get("user_name", ""))
        try:
            event = parse.command_event(body, self.registry, self._t(), placeholder)
        except ParseError:
            event = parse.unparsed_event(body, placeholder)  # refused in their language
        event = replace(
            event,
            actor=await self._actor(client, team, user, body.get("user_name"), deadline),
            delivery=command_key(body),
        )
        reply = await self._core(event, deadline)
        if isinstance(reply, _Late):
            await ack()
            self._spawn(self._late_interaction(reply, event, body, client, respond))
            self._report_profile(event.actor, event.place, reply)
            return
        await self._answer_command(reply, ack, body, client, respond, event)
        self._report_profile(event.actor, event.place)

    async def _answer_command(
        self,
        reply: Reply,
        ack: AsyncAck,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
        event: Event,
    ) -> None:
        if isinstance(reply, Respond):
            rendered = render_message(reply.message, files_allowed=not reply.private)
            await ack(
                response_type="ephemeral" if reply.private else "in_channel", **rendered.kwargs()
            )
            if rendered.files:
                self._spawn(
                    self._upload(client, event.place.conversation.channel_id, rendered.files)
                )
        elif isinstance(reply, OpenForm):
            await ack()
            await self._open_form(client, body.get("trigger_id"), reply.form, event.place, respond)
        elif isinstance(reply, FormErrors):
            await ack(response_type="ephemeral", text=escape(" ".join(reply.errors.values())))
        else:
            await ack()

    # -- block_actions -----------------------------------------------------------------------------

    async def _on_action(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        deadline = self._deadline()
        # Acknowledge at once; the trigger_id stays valid for 3 s from the click regardless.
        await ack()
        team = parse.team_of(body)
        user = (body.get("user") or {}).get("id", "")
        click = parse.clicked(body)
        self._remember((body.get("channel") or {}).get("id"), team)
        name = (body.get("user") or {}).get("name")
        who = await self._actor(client, team, user, name, deadline)
        try:
            event = replace(
                parse.action_event(body, who),
                delivery=action_key(team, user, click.action_id, click.action_ts),
            )
        except ActionIdError:
            log.info("slack: click on unknown action id by %s", user)
            await self._say_privately(
                client,
                respond,
                body,
                team,
                user,
                Message(text=self._t()("core.refuse.stale_button")),
            )
            return
        reply = await self._core(event, deadline)
        if isinstance(reply, _Late):
            self._spawn(self._late_interaction(reply, event, body, client, respond))
            self._report_profile(event.actor, event.place, reply)
            return
        await self._answer_interaction(reply, event, body, client, respond)
        self._report_profile(event.actor, event.place)

    async def _answer_interaction(
        self,
        reply: Reply,
        event: Event,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        team, user = event.actor.user.workspace_id, event.actor.user.user_id
        view = body.get("view") or {}
        if isinstance(reply, Respond):
            if reply.private:
                await self._say_privately(client, respond, body, team, user, reply.message)
            else:
                await self._say_publicly(client, respond, body, event.place, reply.message)
        elif isinstance(reply, OpenForm):
            await self._open_form(
                client,
                body.get("trigger_id"),
                reply.form,
                event.place,
                respond,
                push=view.get("type") == "modal",
            )
        elif isinstance(reply, FormErrors):
            text = " ".join(reply.errors.values())
            await self._say_privately(client, respond, body, team, user, Message(text=text))
        if view.get("type") == "home":
            # A button on the App Home tab: show the home as it is now (RSVP state, votes).
            await self._publish_home(client, event.actor, event.place)

    async def _late_interaction(
        self,
        late: _Late,
        event: Event,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        """Deliver a reply that missed the ack budget; too late for a form."""
        try:
            reply = await late.task
        except Exception:
            log.exception("slack: late %s failed", type(event).__name__)
            return
        team, user = event.actor.user.workspace_id, event.actor.user.user_id
        if isinstance(reply, OpenForm):
            await self._say_privately(client, respond, body, team, user, Message(text=SLOW_FORM))
            return
        if body.get("command"):
            # A slash command's response_url takes ephemeral and in_channel messages alike.
            if isinstance(reply, Respond):
                await self._say_privately(
                    client, respond, body, team, user, reply.message, public=not reply.private
                )
            elif isinstance(reply, FormErrors):
                text = " ".join(reply.errors.values())
                await self._say_privately(client, respond, body, team, user, Message(text=text))
            return
        await self._answer_interaction(reply, event, body, client, respond)

    async def _respond(self, respond: AsyncRespond, **message: Any) -> None:
        """What bolt's ``respond(**message)`` sends, on the adapter's kept-alive session:
        bolt's opens a session and a new connection for every answer, which was a good part
        of the time a vote's confirmation took to reach Slack."""
        if respond.response_url is None:
            raise ValueError("no response_url to answer through")
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        client = AsyncWebhookClient(
            url=respond.response_url, proxy=respond.proxy, ssl=respond.ssl, session=self._http
        )
        await client.send_dict(_build_message(**message))

    async def _say_privately(
        self,
        client: AsyncWebClient,
        respond: AsyncRespond | None,
        body: dict[str, Any],
        team: str,
        user: str,
        message: Message,
        *,
        public: bool = False,
    ) -> None:
        """Only `user` sees it: through the response_url, else ephemeral, else their DM."""
        rendered = render_message(message, files_allowed=public)
        try:
            if body.get("response_url") and respond is not None:
                await self._respond(
                    respond,
                    response_type="in_channel" if public else "ephemeral",
                    replace_original=False,
                    **rendered.kwargs(),
                )
                return
            channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
            if channel and not channel.startswith("D"):
                await client.chat_postEphemeral(channel=channel, user=user, **rendered.kwargs())
                return
            dm = await self._dm_channel(client, team, user)
            await client.chat_postMessage(channel=dm, **rendered.kwargs())
        except (SlackApiError, SlackClientError, DeliveryError) as err:
            log.warning("slack: private reply to %s failed: %s", user, type(err).__name__)

    async def _say_publicly(
        self,
        client: AsyncWebClient,
        respond: AsyncRespond | None,
        body: dict[str, Any],
        where: Place,
        message: Message,
    ) -> None:
        rendered = render_message(message)
        try:
            if body.get("response_url") and respond is not None and not rendered.files:
                await self._respond(
                    respond, response_type="in_channel", replace_original=False, **rendered.kwargs()
                )
                return
            response = await client.chat_postMessage(
                channel=where.conversation.channel_id, **rendered.kwargs()
            )
            await self._upload(client, response["channel"], rendered.files)
        except (SlackApiError, SlackClientError) as err:
            log.warning("slack: public reply failed: %s", type(err).__name__)

    async def _open_form(
        self,
        client: AsyncWebClient,
        trigger_id: str | None,
        form: Form,
        where: Place,
        respond: AsyncRespond,
        *,
        push: bool = False,
    ) -> None:
        conv = where.conversation
        view = render_form(
            form,
            private_metadata=form_metadata(form.metadata, conv.channel_id, where.name, where.is_dm),
        )
        try:
            if push:
                await client.views_push(trigger_id=trigger_id, view=view)
            else:
                await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as err:
            log.warning(
                "slack: opening form %s failed: %s", form.form_id, err.response.get("error")
            )
            try:
                await self._respond(
                    respond, response_type="ephemeral", replace_original=False, text=FORM_FAILED
                )
            except Exception:
                log.info("slack: could not say the form failed")

    # -- view_submission -------------------------------------------------------------------------

    async def _on_view(self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        deadline = self._deadline()
        team = parse.team_of(body)
        user = (body.get("user") or {}).get("id", "")
        view = body.get("view") or {}
        who = await self._actor(client, team, user, (body.get("user") or {}).get("name"), deadline)
        event = replace(parse.form_event(body, who), delivery=view_key(body))
        self._remember(event.place.conversation.channel_id, team)
        reply = await self._core(event, deadline)
        if isinstance(reply, _Late):
            await ack()
            self._spawn(self._late_view(reply, event, client))
            self._report_profile(event.actor, event.place, reply)
            return
        if isinstance(reply, FormErrors):
            await ack(response_action="errors", errors=self._view_errors(view, reply.errors))
        elif isinstance(reply, OpenForm):
            conv = event.place.conversation
            metadata = form_metadata(
                reply.form.metadata, conv.channel_id, event.place.name, event.place.is_dm
            )
            await ack(
                response_action="update", view=render_form(reply.form, private_metadata=metadata)
            )
        else:
            await ack()
            if isinstance(reply, Respond):
                await self._after_form(client, event.place, who, reply)
        self._report_profile(event.actor, event.place)

    @staticmethod
    def _view_errors(view: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
        """Errors keyed by input block; Slack rejects keys that name no block in the view."""
        block_ids = [
            b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"
        ]
        known = {k: v for k, v in errors.items() if k in block_ids}
        unknown = [v for k, v in errors.items() if k not in block_ids]
        if unknown and block_ids:
            first = block_ids[0]
            known[first] = " ".join([known[first], *unknown] if first in known else unknown)
        return known

    async def _after_form(
        self, client: AsyncWebClient, where: Place, who: Actor, reply: Respond
    ) -> None:
        """A form's answer: in the DM, or ephemeral (public) in the channel it came from."""
        channel = where.conversation.channel_id
        try:
            if where.is_dm:
                rendered = render_message(reply.message)
                response = await client.chat_postMessage(channel=channel, **rendered.kwargs())
                await self._upload(client, response["channel"], rendered.files)
            elif reply.private:
                rendered = render_message(reply.message, files_allowed=False)
                await client.chat_postEphemeral(
                    channel=channel, user=who.user.user_id, **rendered.kwargs()
                )
            else:
                rendered = render_message(reply.message)
                response = await client.chat_postMessage(channel=channel, **rendered.kwargs())
                await self._upload(client, response["channel"], rendered.files)
        except (SlackApiError, SlackClientError) as err:
            log.warning("slack: answer to a form failed: %s", type(err).__name__)

    async def _late_view(self, late: _Late, event: Event, client: AsyncWebClient) -> None:
        try:
            reply = await late.task
        except Exception:
            log.exception("slack: late form submission failed")
            return
        if isinstance(reply, Respond):
            await self._after_form(client, event.place, event.actor, reply)
        elif isinstance(reply, FormErrors):
            text = _T("adapters.form_not_saved", errors=" ".join(reply.errors.values()))
            await self._after_form(client, event.place, event.actor, Respond(Message(text=text)))

    # -- events ------------------------------------------------------------------------------------

    async def _on_home(
        self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("tab", "home") != "home":
            return
        if not self.seen.first(("event", body.get("event_id"))):
            log.info("slack: repeated event %s ignored", body.get("event_id"))
            return
        team = body.get("team_id") or ""
        user = event.get("user", "")
        self._remember(event.get("channel"), team)
        if event.get("channel"):
            self._dms[(team, user)] = event["channel"]
        who = await self._actor(client, team, user, None, None)
        opened = parse.home_event(event, team, who)
        await self._publish_home(client, who, opened.place)

    async def _publish_home(self, client: AsyncWebClient, who: Actor, where: Place) -> None:
        """The member's App Home: the core's "home" hook, else a help summary."""
        reply = await self._core(HomeOpened(who, where), None)
        message: Message | None = None
        if isinstance(reply, Respond):
            message = reply.message
        elif ("help",) in self.registry.commands:
            fallback = await self._core(CommandInvoked(who, where, ("help",), {}), None)
            if isinstance(fallback, Respond):
                message = fallback.message
        if message is None:
            message = Message(text="Type /cop help in a channel to see what circlebot can do.")
        try:
            await client.views_publish(user_id=who.user.user_id, view=render_home(message))
        except (SlackApiError, SlackClientError) as err:
            log.warning(
                "slack: views.publish for %s failed: %s", who.user.user_id, type(err).__name__
            )

    async def _on_joined(
        self,
        body: dict[str, Any],
        event: dict[str, Any],
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        user = event.get("user", "")
        if user and user == context.get("bot_user_id"):
            return  # the bot itself was added to a channel
        team = body.get("team_id") or event.get("team") or ""
        self._remember(event.get("channel"), team)
        who = await self._actor(client, team, user, None, None)
        joined = replace(parse.joined_event(event, team, who), delivery=event_key(body))
        reply = await self._core(joined, None)
        self._report_profile(who, joined.place)
        if isinstance(reply, Respond):
            if reply.private:
                await self._say_privately(
                    client,
                    None,
                    {"channel": {"id": event.get("channel")}},
                    team,
                    user,
                    reply.message,
                )
            else:
                await self._say_publicly(client, None, {}, joined.place, reply.message)

    # -- outgoing (the outbox) -----------------------------------------------------------------------

    async def _client_for(self, team: str | None, *, outbox: bool = False) -> AsyncWebClient:
        """The workspace's client; with `outbox`, the one whose 429s go back to the outbox."""
        if not self.config.oauth:
            return self._outbox_client if outbox else self.client
        if not team:
            raise DeliveryError("unknown_workspace", transient=False)
        cached = self._team_clients.get((team, outbox))
        if cached is not None:
            return cached
        assert self.installation_store is not None
        bot = await self.installation_store.async_find_bot(enterprise_id=None, team_id=team)
        if bot is None or not bot.bot_token:
            raise DeliveryError("not_installed", transient=False)
        handlers = self._outbox_handlers if outbox else self._handlers
        client = web_client(
            bot.bot_token, self.config.api_url, handlers, timeout=self.request_timeout
        )
        self._team_clients[(team, outbox)] = client
        return client

    async def _dm_channel(self, client: AsyncWebClient, team: str, user: str) -> str:
        """The DM channel with `user`, opened once (conversations.open) and remembered."""
        key = (team, user)
        channel = self._dms.get(key)
        if channel is None:
            response = await call("conversations.open", client.conversations_open(users=user))
            channel = str(response["channel"]["id"])
            self._dms[key] = channel
            self._remember(channel, team)
        return channel

    async def _upload_files(
        self, client: AsyncWebClient, channel: str, files: list[File], thread_ts: str | None = None
    ) -> None:
        """Attach files after their message with the current upload API (files_upload_v2);
        with `thread_ts` they are shared in that thread."""
        extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        await call(
            "files_upload_v2",
            client.files_upload_v2(
                channel=channel,
                file_uploads=[
                    {"content": f.content, "filename": f.filename, "title": f.title} for f in files
                ],
                **extra,
            ),
            writes=True,
        )

    async def _upload(self, client: AsyncWebClient, channel: str, files: list[File]) -> None:
        """Best-effort upload after an interactive reply (the outbox uses `attach` instead)."""
        if not files:
            return
        try:
            await self._upload_files(client, channel, files)
        except DeliveryError as err:
            # The message is out; retrying the whole send would post it twice.
            log.warning(
                "slack: uploading %d file(s) to %s failed: %s", len(files), channel, err.reason
            )

    async def _post(
        self,
        team: str,
        channel: str,
        msg: Message,
        key: str | None = None,
        thread_ts: str | None = None,
    ) -> MessageRef:
        """chat.postMessage without its files; `key` travels as message metadata; with
        `thread_ts` the message is a reply in the thread under that message."""
        client = await self._client_for(team, outbox=True)
        rendered = render_message(msg)
        extra: dict[str, Any] = {}
        if key is not None:
            extra["metadata"] = {"event_type": OUTBOX_EVENT, "event_payload": {"key": key}}
        if thread_ts is not None:
            extra["thread_ts"] = thread_ts
        await self.pacer.wait(team)
        try:
            response = await call(
                "chat.postMessage",
                client.chat_postMessage(
                    channel=channel,
                    unfurl_links=False,
                    unfurl_media=False,
                    **extra,
                    **rendered.kwargs(),
                ),
                writes=True,
            )
        except DeliveryError as err:
            if err.reason == RATE_LIMITED:
                self.pacer.slow_down(team)
            raise
        self.pacer.went_through(team)
        posted = str(response["channel"])
        self._remember(posted, team)
        return MessageRef(self.platform, posted, str(response["ts"]), team)

    async def send(self, to: ConversationRef, msg: Message) -> MessageRef:
        ref = await self._post(to.workspace_id, to.channel_id, msg)
        client = await self._client_for(to.workspace_id, outbox=True)
        await self._upload(client, ref.channel_id, render_message(msg).files)
        return ref

    async def send_dm(self, user: UserRef, msg: Message) -> MessageRef:
        client = await self._client_for(user.workspace_id, outbox=True)
        channel = await self._dm_channel(client, user.workspace_id, user.user_id)
        return await self.send(ConversationRef(self.platform, user.workspace_id, channel), msg)

    # -- outgoing by outbox key (bot.ports.KeyedDelivery) ------------------------------------------

    async def _conversation(self, client: AsyncWebClient, out: Outgoing) -> str:
        if out.thread is not None:  # a reply goes where its parent is
            return out.thread.channel_id
        if isinstance(out.to, UserRef):
            return await self._dm_channel(client, out.to.workspace_id, out.to.user_id)
        return out.to.channel_id

    async def post(self, out: Outgoing) -> MessageRef:
        """Post an outbox row with its key in the message metadata; files follow in `attach`.

        A reply (`out.thread`) is posted with ``thread_ts`` = its parent's ts.
        """
        client = await self._client_for(out.to.workspace_id, outbox=True)
        channel = await call("conversations.open", self._conversation(client, out))
        thread_ts = out.thread.message_id if out.thread else None
        return await self._post(out.to.workspace_id, channel, out.message, out.key, thread_ts)

    async def find_sent(self, out: Outgoing) -> MessageRef | None:
        """circlebot's own message carrying `out.key`, posted since the first attempt.

        A reply is looked for in its thread (conversations.replies): conversations.history
        lists only the channel's top-level messages.
        """
        team = out.to.workspace_id
        client = await self._client_for(team)
        channel = await call("conversations.open", self._conversation(client, out))
        oldest = out.first_tried.timestamp() - LOOKBACK_MARGIN
        thread_ts = out.thread.message_id if out.thread else None
        async for message in self._own_history(client, team, channel, oldest, thread_ts):
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == OUTBOX_EVENT and payload.get("key") == out.key:
                return MessageRef(self.platform, channel, str(message["ts"]), team)
        return None

    async def attach(self, out: Outgoing, ref: MessageRef, *, in_doubt: bool) -> None:
        """Upload the files of `out` after `ref`; when in doubt, first look whether they are."""
        files = render_message(out.message).files
        if not files:
            return
        team = out.to.workspace_id
        client = await self._client_for(team)
        thread_ts = out.thread.message_id if out.thread else None
        if in_doubt:
            # Shared files carry no metadata; the bot's own message with exactly these file
            # names, after the post it belongs to, is the earlier upload.
            wanted = sorted(f.filename for f in files)
            async for message in self._own_history(
                client, team, ref.channel_id, ref.message_id, thread_ts
            ):
                names = sorted(str(f.get("name")) for f in message.get("files") or [])
                if names == wanted and float(message.get("ts") or 0) > float(ref.message_id):
                    log.info("slack: files of %s were already attached", out.key)
                    return
        await self._upload_files(client, ref.channel_id, files, thread_ts)

    async def _identity(self, client: AsyncWebClient, team: str) -> tuple[str, str]:
        """The bot's user id and bot id in `team` (auth.test, once per workspace)."""
        known = self._identities.get(team)
        if known is None:
            response = await call("auth.test", client.auth_test())
            known = (str(response.get("user_id") or ""), str(response.get("bot_id") or ""))
            self._identities[team] = known
        return known

    async def audience(self, conversation: ConversationRef) -> Audience | None:
        """The channel's members (conversations.members, every page), the bot itself left out.

        Other apps in the channel are counted: telling them apart takes a users.info call
        per member. A channel too big to list in `AUDIENCE_PAGES` pages, or a missing scope
        (channels:read, groups:read), gives None and turnout counts known members instead.
        """
        team = conversation.workspace_id
        client = await self._client_for(team)
        own, _bot = await self._identity(client, team)
        members: set[str] = set()
        cursor: str | None = None
        for _ in range(AUDIENCE_PAGES):
            response = await call(
                "conversations.members",
                client.conversations_members(
                    channel=conversation.channel_id, limit=AUDIENCE_PAGE_SIZE, cursor=cursor
                ),
            )
            members.update(str(m) for m in response.get("members") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        else:
            return None
        members.discard(own)
        return Audience(len(members), AudienceKind.CHANNEL)

    async def _own_history(
        self,
        client: AsyncWebClient,
        team: str,
        channel: str,
        oldest: float | str,
        thread_ts: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """The bot's own messages in `channel` after `oldest` (a few pages): top-level ones
        (conversations.history), or with `thread_ts` those in that thread
        (conversations.replies, which also lists the parent itself)."""
        user_id, bot_id = await self._identity(client, team)
        cursor: str | None = None
        for _ in range(LOOKBACK_PAGES):
            if thread_ts is None:
                request = call(
                    "conversations.history",
                    client.conversations_history(
                        channel=channel,
                        oldest=f"{float(oldest):.6f}",
                        limit=200,
                        include_all_metadata=True,
                        cursor=cursor,
                    ),
                )
            else:
                request = call(
                    "conversations.replies",
                    client.conversations_replies(
                        channel=channel,
                        ts=thread_ts,
                        oldest=f"{float(oldest):.6f}",
                        limit=200,
                        include_all_metadata=True,
                        cursor=cursor,
                    ),
                )
            response = await request
            for message in response.get("messages") or []:
                if (bot_id and message.get("bot_id") == bot_id) or (
                    user_id and message.get("user") == user_id
                ):
                    yield message
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or not cursor:
                return
        log.warning("slack: stopped looking through the history of %s", channel)

    async def edit(self, ref: MessageRef, msg: Message) -> None:
        # The outbox names the workspace; otherwise use the one the channel was last seen in.
        team = (
            ref.workspace_id or self._channel_team.get(ref.channel_id) or self._default_team or ""
        )
        client = await self._client_for(team, outbox=True)
        # chat.update cannot attach files: File blocks show their name only.
        rendered = render_message(msg, files_allowed=False)
        await self.pacer.wait(team)
        await call(
            "chat.update",
            client.chat_update(
                channel=ref.channel_id,
                ts=ref.message_id,
                text=rendered.text,
                blocks=rendered.blocks,
            ),
        )


def config_from_settings(settings: Any) -> SlackConfig:
    """`SlackConfig` from `bot.config.Settings` (secrets unwrapped here only)."""

    def secret(value: Any) -> str | None:
        return value.get_secret_value() if value is not None else None

    return SlackConfig(
        bot_token=secret(settings.slack_bot_token),
        app_token=secret(settings.slack_app_token),
        signing_secret=secret(settings.slack_signing_secret),
        client_id=settings.slack_client_id,
        client_secret=secret(settings.slack_client_secret),
        api_url=settings.slack_api_url,
        http_host=settings.slack_http_host,
        http_port=settings.slack_http_port,
        http_path=settings.slack_http_path,
        database_url=settings.database_url,
        messages_per_minute=settings.slack_messages_per_minute,
    )
