"""A loopback fake of Discord (REST + gateway) for running the *real* discord.py stack in tests.

:class:`FakeDiscord` starts an aiohttp server on ``127.0.0.1`` (ephemeral port) that speaks
enough of Discord's REST API v10 and gateway protocol for ``discord.Client``,
``app_commands.CommandTree`` and ``discord.ui`` (views, dynamic items, modals) to run
unmodified. Every REST call is recorded; every gateway frame the client sends is recorded;
tests push events with :meth:`FakeDiscord.dispatch` (or :meth:`FakeDiscord.interact`).

Typical use::

    async with FakeDiscord() as fake:              # starts the server and patches discord.py
        client = discord.Client(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
        tree = app_commands.CommandTree(client)
        ...
        async with running_client(client, fake):   # client.start() in a task, wait for READY
            await tree.sync(guild=discord.Object(fake.guild_id))
            call = await fake.interact(fake.slash_command_interaction("cop help"))
            assert call.json["data"]["flags"] == 64

Gotchas found while reading discord.py 2.7 (``http.py``, ``gateway.py``, ``state.py``,
``interactions.py``, ``webhook/async_.py``, ``ui/view.py``) -- the fake handles all of them:

* **Where to point the library.** REST URLs are built from the class attribute
  ``discord.http.Route.BASE`` when each ``Route`` is constructed (interaction callbacks and
  webhook follow-ups use the same ``Route``); the gateway URL comes from
  ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (a ``yarl.URL``). ``Client.connect``
  does *not* call ``GET /gateway/bot`` (only ``AutoShardedClient`` does, and then uses the
  returned ``url``), so patching those two attributes is enough. After READY, reconnects use
  ``resume_gateway_url`` from the READY payload, which the fake also points at itself.
* **Content-Type must be exactly ``application/json``.** ``discord.http.json_or_text`` compares
  the header with ``==``; aiohttp's ``web.json_response`` sends
  ``application/json; charset=utf-8`` which makes discord.py treat every body as a ``str``.
* **Gateway compression.** ``Client.connect`` always asks for transport compression:
  ``?v=10&encoding=json&compress=zlib-stream`` (or ``zstd-stream`` when ``zstandard`` /
  ``compression.zstd`` is importable -- not the case on Python 3.11 without that package). For
  ``zlib-stream`` the fake keeps one ``zlib.compressobj()`` per connection and sends each
  payload as a binary frame ending in ``Z_SYNC_FLUSH`` (``00 00 ff ff``). For anything else it
  sends plain text frames, which discord.py always accepts (it only decompresses ``bytes``).
  ``FakeDiscord(compression=False)`` forces text frames. IDENTIFY also carries
  ``"compress": True`` (per-payload compression); the fake ignores it and never sends
  payload-compressed frames.
* **429 handling needs a ``Via`` header.** Without ``Via`` discord.py assumes a Cloudflare ban
  and raises ``HTTPException`` instead of sleeping ``retry_after`` (from the JSON body, not the
  ``Retry-After`` header) and retrying. The fake adds ``Via: 1.1 google`` to every response.
* **5xx retries are slow.** 500/502/504/524 are retried up to 5 times after sleeping
  ``1 + 2*tries`` seconds (webhooks/interactions: every status >= 500). Use 503 (raises
  ``DiscordServerError`` at once on the bot REST path) or ``times=1`` and accept a 1 s sleep.
* **Interaction callbacks** are ``POST /interactions/{id}/{token}/callback?with_response=1``
  without an Authorization header; discord.py 2.7 parses the 200 body as
  ``{"interaction": {"id", "type", "response_message_id", "response_message_loading",
  "response_message_ephemeral"}, "resource": {"type", "message"?}}`` and uses
  ``response_message_id`` to bind a view sent with the response.
* **Interaction payload keys discord.py requires**: ``id``, ``type``, ``token``, ``version``,
  ``application_id`` and ``attachment_size_limit`` (KeyError otherwise). The ``channel``
  object is used when the channel is not cached (e.g. no GUILDS intent) and then needs
  ``name`` and ``position`` for a guild text channel. Slash commands registered per guild must
  carry ``data.guild_id`` or the tree looks in the global commands (``CommandNotFound``).
* **Only interactions sent through the fake can be answered.** :meth:`FakeDiscord.dispatch`
  remembers each INTERACTION_CREATE's id/token; callbacks for unknown ids, second callbacks
  and callbacks later than ``ack_deadline`` (3 s, as on Discord) get Discord's errors
  (404 10062, 400 40060); follow-ups before the first callback get 404 10015.
* **Dynamic items need the message.** ``ViewStore.schedule_dynamic_item_call`` silently ignores
  a component interaction whose ``message`` is missing or whose ``message.components`` do not
  contain the clicked ``custom_id`` -- the fake's ``button_interaction`` always includes it
  (the stored message that carried the button, or a synthesized one).
* **Recent snowflakes.** Interactions expire 15 minutes after the time encoded in their id
  (``Interaction.expires_at``); use :func:`snowflake` (current time) for every id.
* **on_ready is delayed** by ``guild_ready_timeout`` (default 2 s) after the last GUILD_CREATE.
  Pass ``guild_ready_timeout=0.05`` to ``discord.Client`` in tests.
* **GUILD_CREATE only with the GUILDS intent** (bit 0), like Discord; READY always lists
  the guilds as ``unavailable``. Without that intent, guilds are created lazily from
  interaction payloads (``interaction.guild`` is then a partial, unavailable guild).
  GUILD_CREATE lists only the bot's member unless GUILD_PRESENCES is on; with GUILD_MEMBERS
  (and no presences) discord.py therefore chunks at startup: it sends op 8 and waits for
  GUILD_MEMBERS_CHUNK before READY, which the fake answers from :attr:`FakeDiscord.members`.
  Apart from that, :meth:`FakeDiscord.dispatch` does **not** filter events by intents.
* **Close the client before the fake.** If the server goes away first, discord.py keeps
  trying to reconnect. :func:`running_client` does it in the right order.

Paths in :class:`RecordedCall` and in the ``path_regex`` arguments are relative to the API
base (e.g. ``/channels/123/messages``) and are matched with :func:`re.fullmatch`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import itertools
import json
import math
import re
import secrets
import threading
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

__all__ = [
    "API_VERSION",
    "DISCORD_EPOCH_MS",
    "DiscordRateLimits",
    "FakeDiscord",
    "GatewayConnection",
    "InteractionType",
    "RecordedCall",
    "RecordedFile",
    "RouteLimit",
    "button_interaction",
    "dm_channel_payload",
    "interaction_payload",
    "member_payload",
    "message_payload",
    "modal_submit_interaction",
    "running_client",
    "slash_command_interaction",
    "snowflake",
    "text_channel_payload",
    "user_payload",
]

API_VERSION = 10
"""The REST/gateway API version the fake serves (the one discord.py 2.x uses by default)."""

DISCORD_EPOCH_MS = 1420070400000
"""Discord's epoch (2015-01-01T00:00:00Z) in milliseconds, the origin of snowflake timestamps."""

_INTENT_GUILDS = 1 << 0
_INTENT_GUILD_PRESENCES = 1 << 8

# Permission sets used for the default roles / interaction payloads.
_EVERYONE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    add_reactions=True,
    use_application_commands=True,
    embed_links=True,
    attach_files=True,
).value
_BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    manage_messages=True,
    manage_events=True,
    create_events=True,
    use_application_commands=True,
).value


class InteractionType:
    """Discord interaction type numbers (``INTERACTION_CREATE`` ``d.type``)."""

    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    APPLICATION_COMMAND_AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


# ---------------------------------------------------------------------------------------------
# Snowflakes and small helpers
# ---------------------------------------------------------------------------------------------

_snowflake_lock = threading.Lock()
_snowflake_counter = itertools.count()


def snowflake(when: dt.datetime | None = None) -> int:
    """Return a fresh, unique Discord snowflake whose timestamp is *when* (default: now).

    discord.py derives ``created_at`` / ``Interaction.expires_at`` from the id, so interaction
    ids must be recent or the interaction is considered expired. The low 22 bits carry a
    process-wide increment, so two calls in the same millisecond still differ.
    """
    ms = int((when.timestamp() if when else time.time()) * 1000)
    with _snowflake_lock:
        increment = next(_snowflake_counter) & 0xFFF
    return ((ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | (1 << 12) | increment


def _iso(when: dt.datetime | None = None) -> str:
    return (when or dt.datetime.now(dt.UTC)).isoformat()


def _infer_option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5  # BOOLEAN
    if isinstance(value, int):
        return 4  # INTEGER
    if isinstance(value, float):
        return 10  # NUMBER
    return 3  # STRING


def _json_dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# Payload builders (pure functions; shaped like Discord's documentation)
# ---------------------------------------------------------------------------------------------


def user_payload(
    username: str,
    *,
    user_id: int | None = None,
    bot: bool = False,
    global_name: str | None = None,
) -> dict[str, Any]:
    """A Discord *user* object (``discriminator`` is ``"0"`` as for migrated usernames)."""
    payload: dict[str, Any] = {
        "id": str(user_id or snowflake()),
        "username": username,
        "discriminator": "0",
        "global_name": global_name,
        "avatar": None,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
    }
    if bot:
        payload["bot"] = True
    return payload


def member_payload(
    user: Mapping[str, Any],
    *,
    roles: Iterable[int | str] = (),
    permissions: int | None = None,
    nick: str | None = None,
    joined_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """A guild *member* object wrapping *user*.

    ``permissions`` (the member's computed permissions in the channel) is only present in
    interaction payloads; pass it for those.
    """
    payload: dict[str, Any] = {
        "user": dict(user),
        "nick": nick,
        "avatar": None,
        "banner": None,
        "roles": [str(r) for r in roles],
        "joined_at": _iso(joined_at),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
    }
    if permissions is not None:
        payload["permissions"] = str(permissions)
    return payload


def text_channel_payload(
    guild_id: int,
    *,
    channel_id: int | None = None,
    name: str = "general",
    position: int = 0,
    topic: str | None = None,
) -> dict[str, Any]:
    """A guild text channel object (``type`` 0)."""
    return {
        "id": str(channel_id or snowflake()),
        "type": 0,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "topic": topic,
        "nsfw": False,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "parent_id": None,
        "flags": 0,
    }


def dm_channel_payload(
    recipient: Mapping[str, Any], *, channel_id: int | None = None
) -> dict[str, Any]:
    """A DM channel object (``type`` 1) with *recipient* (the other user, not the bot)."""
    return {
        "id": str(channel_id or snowflake()),
        "type": 1,
        "last_message_id": None,
        "flags": 0,
        "recipients": [dict(recipient)],
    }


def _assign_component_ids(components: Any, counter: Iterable[int] | None = None) -> Any:
    """Give every component dict without an ``id`` a numeric id, depth-first (as Discord does)."""
    counter = iter(counter if counter is not None else itertools.count(1))
    if isinstance(components, list):
        return [_assign_component_ids(c, counter) for c in components]
    if isinstance(components, dict):
        out = dict(components)
        if "type" in out and "id" not in out:
            out["id"] = next(counter)
        for key in ("components", "component", "accessory"):
            if key in out:
                out[key] = _assign_component_ids(out[key], counter)
        return out
    return components


def _find_component(components: Any, custom_id: str) -> dict[str, Any] | None:
    if isinstance(components, list):
        for c in components:
            found = _find_component(c, custom_id)
            if found is not None:
                return found
    elif isinstance(components, dict):
        if components.get("custom_id") == custom_id:
            return components
        for key in ("components", "component", "accessory"):
            if key in components:
                found = _find_component(components[key], custom_id)
                if found is not None:
                    return found
    return None


def message_payload(
    *,
    channel_id: int | str,
    author: Mapping[str, Any],
    content: str = "",
    guild_id: int | str | None = None,
    message_id: int | None = None,
    components: Sequence[Mapping[str, Any]] | None = None,
    embeds: Sequence[Mapping[str, Any]] | None = None,
    flags: int = 0,
    message_type: int = 0,
    application_id: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A *message* object as returned by ``POST /channels/{id}/messages``.

    Components get numeric ``id`` fields assigned like Discord does. Extra keyword arguments
    are merged into the payload verbatim (e.g. ``interaction_metadata=...``).
    """
    payload: dict[str, Any] = {
        "id": str(message_id or snowflake()),
        "channel_id": str(channel_id),
        "author": dict(author),
        "content": content,
        "timestamp": _iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": list(embeds or []),
        "pinned": False,
        "type": message_type,
        "flags": flags,
        "components": _assign_component_ids(list(components or [])),
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    if application_id is not None:
        payload["application_id"] = str(application_id)
        payload["webhook_id"] = str(application_id)
    payload.update(extra)
    return payload


def interaction_payload(
    interaction_type: int,
    data: Mapping[str, Any] | None,
    *,
    application_id: int,
    user: Mapping[str, Any],
    channel: Mapping[str, Any],
    member: Mapping[str, Any] | None = None,
    message: Mapping[str, Any] | None = None,
    locale: str = "en-US",
    guild_locale: str = "en-US",
    member_permissions: int = _EVERYONE_PERMISSIONS,
    app_permissions: int = _BOT_PERMISSIONS,
    interaction_id: int | None = None,
    token: str | None = None,
    attachment_size_limit: int = 10 * 1024 * 1024,
) -> dict[str, Any]:
    """The ``d`` of an ``INTERACTION_CREATE`` dispatch (Discord's *interaction* object).

    Guild vs DM context is taken from *channel*: a channel with ``guild_id`` gives a guild
    interaction (``guild_id``, ``guild``, ``member``, ``context`` 0); otherwise a bot-DM
    interaction (``user``, ``context`` 1). Ids default to fresh snowflakes and the token to a
    random string.
    """
    guild_id = channel.get("guild_id")
    payload: dict[str, Any] = {
        "id": str(interaction_id or snowflake()),
        "application_id": str(application_id),
        "type": interaction_type,
        "token": token or f"fake-interaction-token-{secrets.token_urlsafe(24)}",
        "version": 1,
        "channel": dict(channel),
        "channel_id": str(channel["id"]),
        "locale": locale,
        "app_permissions": str(app_permissions),
        "entitlements": [],
        "attachment_size_limit": attachment_size_limit,
    }
    if data is not None:
        payload["data"] = dict(data)
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
        payload["guild"] = {"id": str(guild_id), "locale": guild_locale, "features": []}
        payload["guild_locale"] = guild_locale
        payload["member"] = (
            dict(member)
            if member is not None
            else member_payload(user, permissions=member_permissions)
        )
        payload["context"] = 0  # GUILD
        payload["authorizing_integration_owners"] = {"0": str(guild_id)}
    else:
        payload["user"] = dict(user)
        payload["context"] = 1  # BOT_DM
        payload["authorizing_integration_owners"] = {"0": "0"}
    if message is not None:
        payload["message"] = dict(message)
    return payload


def _command_options(options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> list:
    if options is None:
        return []
    if isinstance(options, Mapping):
        return [
            {"name": name, "type": _infer_option_type(value), "value": value}
            for name, value in options.items()
        ]
    return [dict(o) for o in options]


def slash_command_interaction(
    command: str,
    options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    *,
    application_id: int,
    user: Mapping[str, Any],
    channel: Mapping[str, Any],
    command_id: int | None = None,
    command_guild_id: int | None = None,
    resolved: Mapping[str, Any] | None = None,
    **context: Any,
) -> dict[str, Any]:
    """An APPLICATION_COMMAND (type 2) interaction for a CHAT_INPUT command.

    *command* is the full invocation as a user sees it: ``"ping"``, ``"cop help"``
    (subcommand) or ``"cop admin reset"`` (group + subcommand). *options* are the leaf
    options, either ``{"name": value}`` (type inferred: bool 5, int 4, float 10, str 3) or raw
    option dicts (for users/channels/roles, together with *resolved*).
    *command_guild_id* must be set for guild-registered commands (``data.guild_id``).
    Remaining keyword arguments go to :func:`interaction_payload`.
    """
    parts = command.split()
    if not 1 <= len(parts) <= 3:
        raise ValueError(f"expected 'name', 'name sub' or 'name group sub', got {command!r}")
    leaf = _command_options(options)
    if len(parts) == 1:
        opts = leaf
    elif len(parts) == 2:
        opts = [{"name": parts[1], "type": 1, "options": leaf}]
    else:
        opts = [
            {
                "name": parts[1],
                "type": 2,
                "options": [{"name": parts[2], "type": 1, "options": leaf}],
            }
        ]
    data: dict[str, Any] = {
        "id": str(command_id or snowflake()),
        "name": parts[0],
        "type": 1,
        "options": opts,
    }
    if command_guild_id is not None:
        data["guild_id"] = str(command_guild_id)
    if resolved:
        data["resolved"] = dict(resolved)
    return interaction_payload(
        InteractionType.APPLICATION_COMMAND,
        data,
        application_id=application_id,
        user=user,
        channel=channel,
        **context,
    )


def button_interaction(
    custom_id: str,
    *,
    application_id: int,
    user: Mapping[str, Any],
    channel: Mapping[str, Any],
    message: Mapping[str, Any] | None = None,
    bot_user: Mapping[str, Any] | None = None,
    component_type: int = 2,
    values: Sequence[str] | None = None,
    **context: Any,
) -> dict[str, Any]:
    """A MESSAGE_COMPONENT (type 3) interaction: a click on a button (``component_type`` 2).

    *message* is the message carrying the component; discord.py needs it (with the component
    in ``components``) to resolve :class:`discord.ui.DynamicItem` s. When omitted, a message by
    *bot_user* with one action row holding a button with *custom_id* is synthesized. For
    select menus pass ``component_type`` (3, 5, 6, 7, 8) and ``values``.
    """
    if message is None:
        if bot_user is None:
            raise ValueError("button_interaction needs message= or bot_user=")
        component: dict[str, Any] = {"type": component_type, "custom_id": custom_id}
        if component_type == 2:
            component.update(style=1, label=custom_id)
        else:
            component.update(options=[{"label": v, "value": v} for v in values or []])
        message = message_payload(
            channel_id=channel["id"],
            guild_id=channel.get("guild_id"),
            author=bot_user,
            content="",
            components=[{"type": 1, "components": [component]}],
        )
    data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
    found = _find_component(message.get("components", []), custom_id)
    if found is not None and "id" in found:
        data["id"] = found["id"]
    if values is not None:
        data["values"] = list(values)
    return interaction_payload(
        InteractionType.MESSAGE_COMPONENT,
        data,
        application_id=application_id,
        user=user,
        channel=channel,
        message=message,
        **context,
    )


def modal_submit_interaction(
    custom_id: str,
    values: Mapping[str, str | Sequence[str]],
    *,
    application_id: int,
    user: Mapping[str, Any],
    channel: Mapping[str, Any],
    labels: bool = False,
    message: Mapping[str, Any] | None = None,
    **context: Any,
) -> dict[str, Any]:
    """A MODAL_SUBMIT (type 5) interaction for the modal *custom_id*.

    *values* maps each input's ``custom_id`` to its value: a ``str`` for a text input
    (type 4, ``value``) or a list for a select (type 3, ``values``). With ``labels=False``
    each input is wrapped in an action row (type 1, the legacy layout discord.py emits for
    bare ``TextInput`` children); with ``labels=True`` in a label (type 18, ``component``).
    """
    ids = itertools.count(1)
    components: list[dict[str, Any]] = []
    for input_id, value in values.items():
        if isinstance(value, str):
            inner: dict[str, Any] = {"type": 4, "custom_id": input_id, "value": value}
        else:
            inner = {"type": 3, "custom_id": input_id, "values": list(value)}
        if labels:
            wrapper_id = next(ids)
            inner["id"] = next(ids)
            components.append({"type": 18, "id": wrapper_id, "component": inner})
        else:
            wrapper_id = next(ids)
            inner["id"] = next(ids)
            components.append({"type": 1, "id": wrapper_id, "components": [inner]})
    return interaction_payload(
        InteractionType.MODAL_SUBMIT,
        {"custom_id": custom_id, "components": components},
        application_id=application_id,
        user=user,
        channel=channel,
        message=message,
        **context,
    )


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@dataclass
class RecordedFile:
    """A file part of a multipart REST request (``files[n]`` fields)."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class RecordedCall:
    """One REST request received by the fake, and what the fake answered.

    ``path`` is relative to the API base (``/channels/1/messages``). ``json`` is the JSON body
    or, for multipart requests, the parsed ``payload_json`` field; ``form`` holds the other
    text fields and ``files`` the file parts. ``status``/``response`` are what was sent back.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: list[RecordedFile] = field(default_factory=list)
    text: str | None = None
    status: int = 0
    response: Any = None
    at: float = field(default_factory=time.monotonic)

    def matches(self, method: str, path_regex: str) -> bool:
        """Whether this call has *method* (case-insensitive; ``"*"`` = any) and its path
        fully matches *path_regex*."""
        return (method == "*" or self.method == method.upper()) and re.fullmatch(
            path_regex, self.path
        ) is not None


@dataclass
class _Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteLimit:
    """A per-route bucket: `limit` requests per `per` seconds for each value of the route's
    major parameter (the first group of `path_regex`, e.g. the channel id), as Discord keys
    its buckets."""

    method: str
    path_regex: str
    limit: int
    per: float
    bucket: str


@dataclass(frozen=True)
class DiscordRateLimits:
    """Discord's published limits, which the fake enforces when given (``rate_limits=``).

    Discord: "All bots can make up to 50 requests per second to our API" (the global limit;
    interaction endpoints are not bound by it), and every route has buckets of its own,
    announced on each answer by ``X-RateLimit-Limit``, ``-Remaining``, ``-Reset``,
    ``-Reset-After`` and ``-Bucket``; creating messages in a channel is 5 per 5 seconds per
    channel. Windows here are fixed: they open at a bucket's first request and last `per`
    seconds (the global one `global_window`). A request over either is answered 429 with
    ``{"message", "retry_after", "global", "code"}``, ``Retry-After`` and
    ``X-RateLimit-Scope`` (and ``X-RateLimit-Global`` for the global limit), and it does not
    count.
    """

    global_per_second: int | None = 50
    routes: tuple[RouteLimit, ...] = (
        RouteLimit("POST", r"/channels/(\d+)/messages", 5, 5.0, "fake-create-message"),
    )
    #: The global window's length (Discord: one second; longer in tests of the fake itself).
    global_window: float = 1.0
    #: The bucket of every other route (per method and path), as ``(limit, per)``: Discord
    #: announces a bucket on every answer, and discord.py sends one request at a time on a
    #: route until it has seen that route's limit. None: no headers on other routes.
    other_routes: tuple[int, float] | None = (50, 1.0)

    def bound(self, requests: int) -> float:
        """The least time, in seconds, the global limit allows for `requests` requests sent at
        once (fixed windows: the last one opens ``ceil(n/limit) - 1`` windows in)."""
        if not self.global_per_second or requests <= 0:
            return 0.0
        return (math.ceil(requests / self.global_per_second) - 1) * self.global_window


@dataclass
class _Window:
    opened: float
    count: int = 0


@dataclass
class _Override:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    remaining: int | None
    delay: float
    written: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method == method) and (
            self.pattern.fullmatch(path) is not None
        )


# ---------------------------------------------------------------------------------------------
# Gateway connection
# ---------------------------------------------------------------------------------------------


class GatewayConnection:
    """One client WebSocket connected to the fake gateway.

    Attributes: ``query`` (the connect URL's query: ``v``, ``encoding``, ``compress``),
    ``compress`` (the transport compression actually used, or ``None``), ``received`` (every
    payload the client sent, decoded), ``sent`` (every payload the fake sent, before
    compression), ``identify`` (the IDENTIFY ``d``), ``intents``,
    ``session_id``, ``seq`` (last dispatch sequence number sent), ``heartbeats`` (op 1 count),
    ``closed``.
    """

    def __init__(self, ws: web.WebSocketResponse, query: Mapping[str, str], compress: str | None):
        self.ws = ws
        self.query: dict[str, str] = dict(query)
        self.compress = compress
        self._compressor = zlib.compressobj() if compress == "zlib-stream" else None
        self.received: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []
        self.identify: dict[str, Any] | None = None
        self.intents = 0
        self.session_id = secrets.token_hex(16)
        self.seq = 0
        self.heartbeats = 0
        self.closed = False
        self.ready = asyncio.Event()
        self._lock = asyncio.Lock()

    async def send(self, payload: Mapping[str, Any]) -> None:
        """Send a raw gateway payload (compressed if the connection negotiated zlib-stream)."""
        async with self._lock:
            await self._send_locked(payload)

    async def _send_locked(self, payload: Mapping[str, Any]) -> None:
        self.sent.append(dict(payload))
        data = _json_dumps(payload)
        if self._compressor is not None:
            chunk = self._compressor.compress(data.encode()) + self._compressor.flush(
                zlib.Z_SYNC_FLUSH
            )
            await self.ws.send_bytes(chunk)
        else:
            await self.ws.send_str(data)

    async def dispatch(self, event: str, data: Any) -> int:
        """Send an op 0 DISPATCH ``{"t": event, "s": next seq, "d": data}``; return ``s``."""
        async with self._lock:
            self.seq += 1
            seq = self.seq
            await self._send_locked({"op": 0, "t": event, "s": seq, "d": data})
        return seq

    def received_ops(self, op: int) -> list[dict[str, Any]]:
        """The payloads with opcode *op* the client sent on this connection."""
        return [p for p in self.received if p.get("op") == op]

    def sent_events(self) -> list[str]:
        """The ``t`` of every DISPATCH the fake sent on this connection, in order."""
        return [p["t"] for p in self.sent if p.get("op") == 0]


# ---------------------------------------------------------------------------------------------
# The fake
# ---------------------------------------------------------------------------------------------

_Handler = Callable[[RecordedCall, re.Match[str]], Awaitable[_Reply]]


class FakeDiscord:
    """A loopback Discord: REST under :attr:`api_base`, gateway at :attr:`gateway_url`.

    Use as ``async with FakeDiscord() as fake:``. On enter it starts the server and (unless
    ``install=False``) calls :meth:`install`, which points discord.py at the fake and blocks
    aiohttp requests to any other host; on exit it restores everything, closes open gateway
    connections and stops the server.

    World (all ids are fresh snowflakes, payloads are plain dicts you may inspect/modify):
    :attr:`application_id`, :attr:`bot_user`, :attr:`user` (a human guild member),
    :attr:`guild_id` with :attr:`channel_id` (a text channel), roles and members,
    :attr:`users`, :attr:`channels`, :attr:`messages`, :attr:`commands`,
    :attr:`scheduled_events`, :attr:`interactions`.

    Recording: :attr:`calls` (REST, :class:`RecordedCall`), :attr:`connections` (gateway,
    :class:`GatewayConnection`), :attr:`unhandled` (REST calls no route knew).
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_username: str = "circlebot",
        guild_name: str = "Fake Circle",
        application_flags: int = 0,
        heartbeat_interval_ms: int = 41250,
        compression: bool = True,
        validate_token: bool = True,
        ack_deadline: float | None = 3.0,
        install: bool = True,
        block_network: bool = True,
        port: int = 0,
        rate_limits: DiscordRateLimits | None = None,
    ) -> None:
        self.token = token
        self.rate_limits = rate_limits
        """Enforced limits (:class:`DiscordRateLimits`); None: unlimited."""
        self.rate_limited: dict[str, int] = {"global": 0, "route": 0}
        """How many requests the limits refused, by which limit."""
        self._windows: dict[tuple[str, ...], _Window] = {}
        self.requested_port = port
        """The port to serve on (0: one the OS picks), e.g. one a process already tries."""
        self.ack_deadline = ack_deadline
        """Seconds after dispatch within which an interaction must be answered (as on Discord;
        later callbacks get 404 10062 "Unknown interaction"). ``None`` disables the check."""
        self.validate_token = validate_token
        self.compression = compression
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.application_flags = application_flags
        self._auto_install = install
        self._block_network = block_network

        self.application_id: int = snowflake()
        self.bot_user: dict[str, Any] = user_payload(
            bot_username, user_id=self.application_id, bot=True
        )
        self.user: dict[str, Any] = user_payload("alice", global_name="Alice")
        self.users: dict[int, dict[str, Any]] = {
            int(self.bot_user["id"]): self.bot_user,
            int(self.user["id"]): self.user,
        }

        self.guild_id: int = snowflake()
        self.guild_name = guild_name
        self.bot_role_id: int = snowflake()
        self.roles: dict[int, list[dict[str, Any]]] = {
            self.guild_id: [
                self._role(self.guild_id, "@everyone", _EVERYONE_PERMISSIONS, position=0),
                self._role(
                    self.bot_role_id,
                    bot_username,
                    _BOT_PERMISSIONS,
                    position=1,
                    managed=True,
                    tags={"bot_id": self.bot_user["id"]},
                ),
            ]
        }
        self.members: dict[int, dict[int, dict[str, Any]]] = {
            self.guild_id: {
                int(self.bot_user["id"]): member_payload(self.bot_user, roles=[self.bot_role_id]),
                int(self.user["id"]): member_payload(self.user),
            }
        }
        self.channels: dict[int, dict[str, Any]] = {}
        self.channel_id: int = int(self.add_text_channel("general")["id"])
        self.dm_channels: dict[int, int] = {}
        """recipient user id -> DM channel id"""

        self.messages: dict[int, dict[str, Any]] = {}
        """All messages the fake knows (sent via REST or created by interaction responses)."""
        self._nonces: dict[tuple[str, str], int] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        """Registered application commands by guild id (``None`` = global), as echoed."""
        self.scheduled_events: dict[int, dict[int, dict[str, Any]]] = {self.guild_id: {}}
        self.interactions: dict[int, dict[str, Any]] = {}
        """Interactions dispatched through :meth:`dispatch`, by id."""
        self.interaction_responses: dict[int, int] = {}
        """interaction id -> callback type it was answered with."""
        self._dispatched_at: dict[int, float] = {}
        self._tokens: dict[str, int] = {}
        self._originals: dict[int, int] = {}

        self.calls: list[RecordedCall] = []
        self.unhandled: list[RecordedCall] = []
        self.connections: list[GatewayConnection] = []
        self._overrides: list[_Override] = []
        self._changed: asyncio.Condition | None = None

        self._runner: web.AppRunner | None = None
        self.port: int = 0
        self._patches: list[tuple[Any, str, Any]] = []
        self._monkeypatched = False
        self._routes: list[tuple[str, re.Pattern[str], bool, _Handler]] = []
        self._build_routes()

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start the server on 127.0.0.1 (`requested_port`, else ephemeral) and :meth:`install` if enabled."""
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway-ws", self._handle_gateway)
        app.router.add_get("/gateway-ws/", self._handle_gateway)
        app.router.add_route("*", "/api/v{version:\\d+}/{tail:.*}", self._handle_http)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.requested_port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        if self._auto_install:
            self.install()

    async def stop(self) -> None:
        """Restore patches, close open gateway connections (1001) and stop the server."""
        self.uninstall()
        for conn in self.connections:
            if not conn.ws.closed:
                with contextlib.suppress(Exception):
                    await conn.ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"fake stop")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """The REST base to put in ``discord.http.Route.BASE``: ``http://127.0.0.1:PORT/api/v10``."""
        return f"{self.base_url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """The gateway WebSocket URL: ``ws://127.0.0.1:PORT/gateway-ws``."""
        return f"ws://127.0.0.1:{self.port}/gateway-ws"

    def install(self, monkeypatch: Any = None) -> None:
        """Point discord.py at the fake.

        Sets ``discord.http.Route.BASE`` and ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``
        and, if ``block_network``, wraps ``aiohttp.ClientSession._request`` so requests to any
        host but 127.0.0.1/localhost raise ``RuntimeError`` (tests can never reach
        discord.com). With a pytest *monkeypatch* the patches are registered there (undone at
        test teardown; construct with ``install=False`` so entering the fake does not install
        first); otherwise :meth:`uninstall` (called by :meth:`stop`) restores them. Idempotent.
        """
        if self._patches or self._monkeypatched:
            return
        patches: list[tuple[Any, str, Any]] = [
            (discord.http.Route, "BASE", self.api_base),
            (discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(self.gateway_url)),
        ]
        if self._block_network:
            patches.append(
                (
                    aiohttp.ClientSession,
                    "_request",
                    _guarded_request(aiohttp.ClientSession._request),
                )
            )
        if monkeypatch is not None:
            for target, name, value in patches:
                monkeypatch.setattr(target, name, value)
            self._monkeypatched = True
            return
        for target, name, value in patches:
            self._patches.append((target, name, target.__dict__[name]))
            setattr(target, name, value)

    def uninstall(self) -> None:
        """Undo :meth:`install` (no-op if it was done through a monkeypatch)."""
        for target, name, original in reversed(self._patches):
            setattr(target, name, original)
        self._patches.clear()

    # -- world helpers ------------------------------------------------------------------------

    @property
    def guild_ids(self) -> list[int]:
        """The guilds the bot is in (READY lists them; GUILD_CREATE is sent for each).

        The fake currently models a single guild, :attr:`guild_id`; the per-guild dicts
        (:attr:`roles`, :attr:`members`, :attr:`scheduled_events`) are keyed by guild id."""
        return [self.guild_id]

    @staticmethod
    def _role(
        role_id: int,
        name: str,
        permissions: int,
        *,
        position: int,
        managed: bool = False,
        tags: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        role: dict[str, Any] = {
            "id": str(role_id),
            "name": name,
            "permissions": str(permissions),
            "position": position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if tags is not None:
            role["tags"] = tags
        return role

    def add_text_channel(self, name: str, *, guild_id: int | None = None) -> dict[str, Any]:
        """Create a text channel in the guild (visible in GUILD_CREATE if added before the client
        identifies) and return its payload."""
        gid = guild_id or self.guild_id
        position = sum(1 for c in self.channels.values() if c.get("guild_id") == str(gid))
        channel = text_channel_payload(gid, name=name, position=position)
        self.channels[int(channel["id"])] = channel
        return channel

    def add_user(self, username: str, *, member: bool = True) -> dict[str, Any]:
        """Create a user (and, by default, make them a member of the guild); return the user."""
        user = user_payload(username)
        self.users[int(user["id"])] = user
        if member:
            self.members[self.guild_id][int(user["id"])] = member_payload(user)
        return user

    def dm_channel(self, user: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The bot's DM channel with *user* (default :attr:`user`), created on first use."""
        user = user or self.user
        uid = int(user["id"])
        if uid not in self.dm_channels:
            channel = dm_channel_payload(user)
            self.channels[int(channel["id"])] = channel
            self.dm_channels[uid] = int(channel["id"])
        return self.channels[self.dm_channels[uid]]

    def guild_create_payload(
        self, guild_id: int | None = None, *, intents: int | None = None
    ) -> dict[str, Any]:
        """The ``GUILD_CREATE`` ``d`` for a guild, built from the fake's current state.

        Like Discord, ``members`` holds only the bot's own member unless *intents* includes
        GUILD_PRESENCES (or *intents* is ``None``); ``member_count`` is always the full count,
        so a client with the GUILD_MEMBERS intent requests chunks (op 8), which the fake answers.
        """
        gid = guild_id or self.guild_id
        all_members = list(self.members.get(gid, {}).values())
        members = all_members
        if intents is not None and not intents & _INTENT_GUILD_PRESENCES:
            members = [m for m in all_members if m["user"]["id"] == self.bot_user["id"]]
        return {
            "id": str(gid),
            "name": self.guild_name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": self.user["id"],
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": self.roles.get(gid, []),
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(self.channel_id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "incidents_data": None,
            "joined_at": _iso(),
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(all_members),
            "members": members,
            "channels": [
                c
                for c in self.channels.values()
                if c.get("guild_id") == str(gid) and c.get("type") not in (10, 11, 12)
            ],
            "threads": [
                c
                for c in self.channels.values()
                if c.get("guild_id") == str(gid) and c.get("type") in (10, 11, 12)
            ],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": list(self.scheduled_events.get(gid, {}).values()),
            "soundboard_sounds": [],
        }

    def application_payload(self) -> dict[str, Any]:
        """``GET /oauth2/applications/@me`` body (``interactions_endpoint_url`` is ``None`` so
        discord.py receives interactions over the gateway)."""
        return {
            "id": str(self.application_id),
            "name": self.bot_user["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": self.application_flags,
            "owner": self.user,
            "team": None,
            "bot": self.bot_user,
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "tags": [],
            "approximate_guild_count": 1,
        }

    # -- interaction payload helpers (defaults filled from the fake's world) -------------------

    def _context_channel(self, dm: bool, user: Mapping[str, Any]) -> dict[str, Any]:
        return self.dm_channel(user) if dm else self.channels[self.channel_id]

    def slash_command_interaction(
        self,
        command: str,
        options: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        *,
        dm: bool = False,
        user: Mapping[str, Any] | None = None,
        channel: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """:func:`slash_command_interaction` from :attr:`user` in the default text channel (or in
        their DM with the bot when ``dm=True``). ``command_id``/``command_guild_id`` are taken
        from the commands synced to the fake (guild commands first) when not given."""
        user = user or self.user
        channel = channel or self._context_channel(dm, user)
        name = command.split()[0]
        if "command_id" not in kwargs:
            scopes: list[int | None] = [None]
            if channel.get("guild_id"):
                scopes.insert(0, int(channel["guild_id"]))
            for scope in scopes:
                cmd = next((c for c in self.commands.get(scope, []) if c["name"] == name), None)
                if cmd is not None:
                    kwargs["command_id"] = int(cmd["id"])
                    kwargs.setdefault("command_guild_id", scope)
                    break
        return slash_command_interaction(
            command,
            options,
            application_id=self.application_id,
            user=user,
            channel=channel,
            **kwargs,
        )

    def button_interaction(
        self,
        custom_id: str,
        *,
        dm: bool = False,
        user: Mapping[str, Any] | None = None,
        channel: Mapping[str, Any] | None = None,
        message: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """:func:`button_interaction`; *message* defaults to the newest stored message whose
        components contain *custom_id* (its channel then becomes the default channel), else a
        synthesized bot message in the default channel / DM."""
        user = user or self.user
        if message is None:
            message = self.find_message_with_component(custom_id)
        if channel is None:
            if message is not None and int(message["channel_id"]) in self.channels:
                channel = self.channels[int(message["channel_id"])]
            else:
                channel = self._context_channel(dm, user)
        return button_interaction(
            custom_id,
            application_id=self.application_id,
            user=user,
            channel=channel,
            message=message,
            bot_user=self.bot_user,
            **kwargs,
        )

    def modal_submit_interaction(
        self,
        custom_id: str,
        values: Mapping[str, str | Sequence[str]],
        *,
        dm: bool = False,
        user: Mapping[str, Any] | None = None,
        channel: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """:func:`modal_submit_interaction` from :attr:`user` in the default channel / DM."""
        user = user or self.user
        channel = channel or self._context_channel(dm, user)
        return modal_submit_interaction(
            custom_id,
            values,
            application_id=self.application_id,
            user=user,
            channel=channel,
            **kwargs,
        )

    def user_message(
        self,
        content: str,
        *,
        dm: bool = False,
        user: Mapping[str, Any] | None = None,
        channel: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A ``MESSAGE_CREATE`` ``d`` for *content* posted by *user* (default :attr:`user`) in
        the default text channel (or their DM with the bot). Send it with
        ``await fake.dispatch("MESSAGE_CREATE", msg)``. Note :meth:`dispatch` does not filter by
        intents: a real bot only gets it with GUILD_MESSAGES / DM_MESSAGES, and a non-empty
        ``content`` only with MESSAGE_CONTENT."""
        user = user or self.user
        channel = channel or self._context_channel(dm, user)
        payload = message_payload(
            channel_id=channel["id"],
            guild_id=channel.get("guild_id"),
            author=user,
            content=content,
            **extra,
        )
        if channel.get("guild_id"):
            member = self.members.get(int(channel["guild_id"]), {}).get(int(user["id"]))
            if member is not None:
                payload["member"] = {k: v for k, v in member.items() if k != "user"}
        return payload

    def find_message_with_component(self, custom_id: str) -> dict[str, Any] | None:
        """The newest stored message with a component whose ``custom_id`` is *custom_id*."""
        for message in reversed(list(self.messages.values())):
            if _find_component(message.get("components", []), custom_id) is not None:
                return message
        return None

    # -- gateway API --------------------------------------------------------------------------

    def _live_connections(self) -> list[GatewayConnection]:
        return [c for c in self.connections if not c.closed and c.ready.is_set()]

    async def wait_for_connection(self, timeout: float = 5.0) -> GatewayConnection:
        """Wait until a client has IDENTIFYed (READY sent) and return that connection."""
        await self._wait(lambda: bool(self._live_connections()), timeout, "an identified client")
        return self._live_connections()[-1]

    async def dispatch(
        self, event: str, data: Any, *, connection: GatewayConnection | None = None
    ) -> int:
        """Send a DISPATCH (op 0) *event* with *data* to *connection* (default: every open,
        identified connection) and return the last sequence number used.

        ``INTERACTION_CREATE`` payloads are remembered so the callback/webhook routes can
        answer for them (unknown interactions get Discord's 404 10062).
        """
        if event == "INTERACTION_CREATE":
            self.interactions[int(data["id"])] = data
            self._tokens[data["token"]] = int(data["id"])
            self._dispatched_at[int(data["id"])] = time.monotonic()
        elif event == "MESSAGE_CREATE":
            self.messages.setdefault(int(data["id"]), data)
        targets = [connection] if connection is not None else self._live_connections()
        if not targets:
            raise RuntimeError("no identified gateway connection to dispatch to")
        seq = 0
        for conn in targets:
            seq = await conn.dispatch(event, data)
        return seq

    async def interact(self, payload: Mapping[str, Any], *, timeout: float = 5.0) -> RecordedCall:
        """Dispatch an ``INTERACTION_CREATE`` and wait for (and return) its callback POST."""
        await self.dispatch("INTERACTION_CREATE", dict(payload))
        return await self.wait_for_call(
            "POST", rf"/interactions/{payload['id']}/[^/]+/callback", timeout=timeout
        )

    async def redeliver(self, interaction_id: int | str, *, timeout: float = 5.0) -> RecordedCall:
        """Dispatch an ``INTERACTION_CREATE`` already dispatched once, byte for byte (as a
        gateway resume replays it), and wait for (and return) the bot's next callback POST
        for it. Discord answers that callback 40060: the interaction was acknowledged."""
        iid = int(interaction_id)
        payload = self.interactions[iid]
        route = rf"/interactions/{iid}/[^/]+/callback"
        seen = len(self.calls_to("POST", route))
        targets = self._live_connections()
        if not targets:
            raise RuntimeError("no identified gateway connection to dispatch to")
        for conn in targets:
            await conn.dispatch("INTERACTION_CREATE", payload)
        return await self.wait_for_call("POST", route, count=seen + 1, timeout=timeout)

    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        requested = request.query.get("compress")
        compress = requested if self.compression and requested == "zlib-stream" else None
        conn = GatewayConnection(ws, request.query, compress)
        self.connections.append(conn)
        try:
            await conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    break
                payload = json.loads(msg.data)
                conn.received.append(payload)
                await self._on_gateway_payload(conn, payload)
        finally:
            conn.closed = True
            await self._notify()
        return ws

    async def _on_gateway_payload(self, conn: GatewayConnection, payload: dict[str, Any]) -> None:
        op, d = payload.get("op"), payload.get("d")
        if op == 1:  # HEARTBEAT
            conn.heartbeats += 1
            await conn.send({"op": 11})
        elif op == 2:  # IDENTIFY
            if self.validate_token and d.get("token") != self.token:
                await conn.ws.close(code=4004, message=b"Authentication failed.")
                return
            conn.identify = d
            conn.intents = int(d.get("intents", 0))
            await conn.dispatch("READY", self._ready_payload(conn))
            if conn.intents & _INTENT_GUILDS:
                for gid in self.guild_ids:
                    payload = self.guild_create_payload(gid, intents=conn.intents)
                    await conn.dispatch("GUILD_CREATE", payload)
            conn.ready.set()
            await self._notify()
        elif op == 6:  # RESUME
            conn.session_id = d.get("session_id", conn.session_id)
            conn.seq = int(d.get("seq") or 0)
            await conn.dispatch("RESUMED", {})
            conn.ready.set()
            await self._notify()
        elif op == 8:  # REQUEST_GUILD_MEMBERS
            gid = int(d["guild_id"])
            members = list(self.members.get(gid, {}).values())
            if d.get("user_ids"):
                wanted = {str(u) for u in d["user_ids"]}
                members = [m for m in members if m["user"]["id"] in wanted]
            chunk = {
                "guild_id": str(gid),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if d.get("nonce"):
                chunk["nonce"] = d["nonce"]
            await conn.dispatch("GUILD_MEMBERS_CHUNK", chunk)
        # op 3 (presence) / 4 (voice state) and others: recorded only.

    def _ready_payload(self, conn: GatewayConnection) -> dict[str, Any]:
        ready: dict[str, Any] = {
            "v": API_VERSION,
            "user": {**self.bot_user, "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(gid), "unavailable": True} for gid in self.guild_ids],
            "session_id": conn.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ['["fake-discord-gateway",{"micros":0}]'],
        }
        if conn.identify and "shard" in conn.identify:
            ready["shard"] = conn.identify["shard"]
        return ready

    # -- REST recording / programming ---------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        status: int,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        times: int | None = 1,
        delay: float = 0.0,
        written: bool = False,
    ) -> None:
        """Answer the next *times* (``None`` = all) *method* calls whose path fully matches
        *path_regex* with *status*, JSON body *json* (default: a Discord-style error body) and
        extra *headers*, after sleeping *delay* seconds. Rules are consulted in the order they
        were added; the call is still recorded. Works for success statuses too (to return a
        custom body).

        ``written=True``: the call takes effect first (the message or event is made), and
        only the answer is the failure, like a Discord that wrote and then answered 503.
        With ``status=200`` and ``written=True`` the real answer is sent, ``delay`` late (a
        post made and then answered after the client stopped waiting)."""
        if json is None and status >= 400:
            json = {"message": f"{status}: fake error", "code": 0}
        self._overrides.append(
            _Override(
                method=method.upper(),
                pattern=re.compile(path_regex),
                status=status,
                body=json,
                headers=dict(headers or {}),
                remaining=times,
                delay=delay,
                written=written,
            )
        )

    def rate_limit_next(
        self,
        method: str,
        path_regex: str,
        *,
        retry_after: float = 0.05,
        is_global: bool = False,
        times: int = 1,
        bucket: str = "fakebucket0123456789abcdef",
    ) -> None:
        """Answer the next *times* matching calls with a realistic 429: body
        ``{"message", "retry_after", "global", "code"}`` plus ``Retry-After`` and
        ``X-RateLimit-*`` headers (and ``Via``, which discord.py requires to retry)."""
        headers = {
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": bucket,
            "X-RateLimit-Scope": "global" if is_global else "user",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        self.fail_next(
            method,
            path_regex,
            status=429,
            json={
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": is_global,
                "code": 0,
            },
            headers=headers,
            times=times,
        )

    def clear_failures(self) -> None:
        """Forget all rules set with :meth:`fail_next` / :meth:`rate_limit_next`."""
        self._overrides.clear()

    def calls_to(self, method: str, path_regex: str) -> list[RecordedCall]:
        """Recorded calls with *method* (``"*"`` = any) whose path fully matches *path_regex*."""
        return [c for c in self.calls if c.matches(method, path_regex)]

    async def wait_for_call(
        self,
        method: str,
        path_regex: str,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> RecordedCall:
        """Wait until at least *count* matching calls were recorded; return the *count*-th one.

        Raises ``AssertionError`` listing the recorded calls on timeout.
        """
        await self._wait(
            lambda: len(self.calls_to(method, path_regex)) >= count,
            timeout,
            f"{count} x {method} {path_regex}",
        )
        return self.calls_to(method, path_regex)[count - 1]

    def describe_calls(self) -> str:
        """A one-line-per-call summary of :attr:`calls`, for assertion messages."""
        return "\n".join(f"  {c.method} {c.path} -> {c.status}" for c in self.calls) or "  (none)"

    async def _notify(self) -> None:
        if self._changed is None:
            return
        async with self._changed:
            self._changed.notify_all()

    async def _wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        assert self._changed is not None, "FakeDiscord is not started"
        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(predicate)
        except TimeoutError:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}; REST calls so far:\n"
                + self.describe_calls()
            ) from None

    async def _handle_http(self, request: web.Request) -> web.StreamResponse:
        call = await self._record_request(request)
        reply = await self._reply_for(call)
        call.status, call.response = reply.status, reply.body
        self.calls.append(call)
        await self._notify()
        headers = {"Via": "1.1 google", **reply.headers}
        if reply.status == 204 or reply.body is None:
            return web.Response(status=reply.status, headers=headers)
        headers["Content-Type"] = "application/json"  # exactly; see module docstring
        return web.Response(
            status=reply.status, body=_json_dumps(reply.body).encode(), headers=headers
        )

    async def _record_request(self, request: web.Request) -> RecordedCall:
        path = "/" + request.match_info["tail"]
        call = RecordedCall(
            method=request.method,
            path=path,
            query=dict(request.query),
            headers=dict(request.headers),
        )
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                assert isinstance(part, aiohttp.BodyPartReader)
                data = await part.read()
                if part.filename is not None:
                    call.files.append(
                        RecordedFile(
                            field=part.name or "",
                            filename=part.filename,
                            content_type=part.headers.get("Content-Type", ""),
                            data=bytes(data),
                        )
                    )
                else:
                    call.form[part.name or ""] = bytes(data).decode()
            if "payload_json" in call.form:
                call.json = json.loads(call.form["payload_json"])
        else:
            raw = await request.read()
            if raw:
                call.text = raw.decode(errors="replace")
                if ctype.startswith("application/json"):
                    call.json = json.loads(call.text)
        return call

    async def _reply_for(self, call: RecordedCall) -> _Reply:
        for rule in self._overrides:
            if rule.matches(call.method, call.path) and rule.remaining != 0:
                if rule.remaining is not None:
                    rule.remaining -= 1
                real = await self._limited_route(call) if rule.written else None
                if rule.delay:
                    await asyncio.sleep(rule.delay)
                if real is not None and rule.status < 300:
                    return real
                return _Reply(rule.status, rule.body, dict(rule.headers))
        return await self._limited_route(call)

    async def _limited_route(self, call: RecordedCall) -> _Reply:
        """The route's answer, under :attr:`rate_limits` when set (a 429, or bucket headers)."""
        if self.rate_limits is None:
            return await self._route(call)
        limited, headers = self._limit(call, self.rate_limits)
        if limited is not None:
            return limited
        reply = await self._route(call)
        reply.headers.update(headers)
        return reply

    def _window(self, key: tuple[str, ...], per: float, now: float) -> _Window:
        window = self._windows.get(key)
        if window is None or now >= window.opened + per:
            window = self._windows[key] = _Window(now)
        return window

    def _limit(
        self, call: RecordedCall, limits: DiscordRateLimits
    ) -> tuple[_Reply | None, dict[str, str]]:
        """A 429 when `call` is over a limit (else None), and the bucket headers to answer with."""
        now = time.monotonic()
        checks: list[tuple[str, _Window, int, float, str]] = []
        for route in limits.routes:
            if call.method != route.method:
                continue
            match = re.fullmatch(route.path_regex, call.path)
            if match is None:
                continue
            major = match.group(1) if match.groups() else ""
            window = self._window(("r", route.bucket, major), route.per, now)
            checks.append(("route", window, route.limit, route.per, route.bucket))
        exempt = call.path.startswith(("/interactions/", "/webhooks/"))
        if not checks and not exempt and limits.other_routes is not None:
            limit, per = limits.other_routes
            bucket = f"fake-{call.method.lower()}-{call.path}"[:64]
            window = self._window(("o", call.method, call.path), per, now)
            checks.append(("route", window, limit, per, bucket))
        if limits.global_per_second and not exempt:
            window = self._window(("g",), limits.global_window, now)
            checks.append(("global", window, limits.global_per_second, limits.global_window, ""))
        for scope, window, limit, per, bucket in checks:
            if window.count >= limit:
                self.rate_limited[scope] += 1
                retry_after = round(max(window.opened + per - now, 0.001), 3)
                is_global = scope == "global"
                answer = {
                    "Retry-After": str(max(1, math.ceil(retry_after))),
                    "X-RateLimit-Scope": "global" if is_global else "user",
                }
                if is_global:
                    answer["X-RateLimit-Global"] = "true"
                else:
                    answer.update(_bucket_headers(window, limit, per, bucket, now))
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": retry_after,
                    "global": is_global,
                    "code": 0,
                }
                return _Reply(429, body, answer), {}
        headers: dict[str, str] = {}
        for scope, window, limit, per, bucket in checks:
            window.count += 1
            if scope == "route":
                headers = _bucket_headers(window, limit, per, bucket, now)
        return None, headers

    async def _route(self, call: RecordedCall) -> _Reply:
        refused = _refused_body(call)
        if refused is not None:
            return refused
        for method, pattern, needs_auth, handler in self._routes:
            if method != call.method:
                continue
            match = pattern.fullmatch(call.path)
            if match is None:
                continue
            if needs_auth and self.validate_token:
                if call.headers.get("Authorization") != f"Bot {self.token}":
                    return _error(401, 0, "401: Unauthorized")
            return await handler(call, match)
        self.unhandled.append(call)
        return _error(404, 0, f"404: Not Found (no fake route for {call.method} {call.path})")

    # -- REST routes --------------------------------------------------------------------------

    def _build_routes(self) -> None:
        sf = r"(\d+)"
        tok = r"([^/]+)"
        routes: list[tuple[str, str, bool, _Handler]] = [
            ("GET", r"/gateway", False, self._r_gateway),
            ("GET", r"/gateway/bot", True, self._r_gateway_bot),
            ("GET", r"/users/@me", True, self._r_me),
            ("GET", rf"/users/{sf}", True, self._r_get_user),
            ("POST", r"/users/@me/channels", True, self._r_create_dm),
            ("GET", r"/oauth2/applications/@me", True, self._r_application),
            ("GET", r"/applications/@me", True, self._r_application),
            ("GET", rf"/applications/{sf}/commands", True, self._r_get_commands),
            ("PUT", rf"/applications/{sf}/commands", True, self._r_put_commands),
            ("GET", rf"/applications/{sf}/guilds/{sf}/commands", True, self._r_get_commands),
            ("PUT", rf"/applications/{sf}/guilds/{sf}/commands", True, self._r_put_commands),
            ("GET", rf"/channels/{sf}", True, self._r_get_channel),
            ("POST", rf"/channels/{sf}/typing", True, self._r_no_content),
            ("POST", rf"/channels/{sf}/messages", True, self._r_create_message),
            ("POST", rf"/channels/{sf}/messages/{sf}/threads", True, self._r_start_thread),
            ("GET", rf"/channels/{sf}/messages/{sf}", True, self._r_get_message),
            ("PATCH", rf"/channels/{sf}/messages/{sf}", True, self._r_edit_message),
            ("DELETE", rf"/channels/{sf}/messages/{sf}", True, self._r_delete_message),
            ("GET", rf"/guilds/{sf}", True, self._r_get_guild),
            ("GET", rf"/guilds/{sf}/members/{sf}", True, self._r_get_member),
            ("GET", rf"/guilds/{sf}/scheduled-events", True, self._r_list_events),
            ("POST", rf"/guilds/{sf}/scheduled-events", True, self._r_create_event),
            ("GET", rf"/guilds/{sf}/scheduled-events/{sf}", True, self._r_get_event),
            ("PATCH", rf"/guilds/{sf}/scheduled-events/{sf}", True, self._r_edit_event),
            ("DELETE", rf"/guilds/{sf}/scheduled-events/{sf}", True, self._r_delete_event),
            ("POST", rf"/interactions/{sf}/{tok}/callback", False, self._r_callback),
            ("POST", rf"/webhooks/{sf}/{tok}", False, self._r_followup),
            ("GET", rf"/webhooks/{sf}/{tok}/messages/([^/]+)", False, self._r_wh_get),
            ("PATCH", rf"/webhooks/{sf}/{tok}/messages/([^/]+)", False, self._r_wh_edit),
            ("DELETE", rf"/webhooks/{sf}/{tok}/messages/([^/]+)", False, self._r_wh_delete),
        ]
        self._routes = [(m, re.compile(p), auth, h) for m, p, auth, h in routes]

    async def _r_gateway(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        return _Reply(body={"url": self.gateway_url})

    async def _r_gateway_bot(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        return _Reply(
            body={
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14400000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _r_me(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        return _Reply(body={**self.bot_user, "verified": True, "mfa_enabled": False})

    async def _r_get_user(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        user = self.users.get(int(m[1]))
        return _Reply(body=user) if user else _error(404, 10013, "Unknown User")

    async def _r_create_dm(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        user = self.users.get(int((call.json or {}).get("recipient_id", 0)))
        if user is None:
            return _error(400, 50033, "Invalid Recipient(s)")
        return _Reply(body=self.dm_channel(user))

    async def _r_application(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        return _Reply(body=self.application_payload())

    def _command_scope(self, m: re.Match[str]) -> tuple[int, int | None]:
        app_id = int(m[1])
        guild_id = int(m[2]) if m.lastindex and m.lastindex >= 2 else None
        return app_id, guild_id

    async def _r_get_commands(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        app_id, guild_id = self._command_scope(m)
        if app_id != self.application_id:
            return _error(403, 50001, "Missing Access")
        return _Reply(body=self.commands.get(guild_id, []))

    async def _r_put_commands(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        app_id, guild_id = self._command_scope(m)
        if app_id != self.application_id:
            return _error(403, 50001, "Missing Access")
        existing = {c["name"]: c for c in self.commands.get(guild_id, [])}
        echoed = []
        for cmd in call.json or []:
            out = {
                "type": 1,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                **cmd,
                "id": existing.get(cmd["name"], {}).get("id", str(snowflake())),
                "application_id": str(self.application_id),
                "version": str(snowflake()),
            }
            if guild_id is not None:
                out["guild_id"] = str(guild_id)
            else:
                out.setdefault("contexts", None)
                out.setdefault("integration_types", [0])
            echoed.append(out)
        self.commands[guild_id] = echoed
        return _Reply(body=echoed)

    async def _r_get_channel(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        channel = self.channels.get(int(m[1]))
        return _Reply(body=channel) if channel else _error(404, 10003, "Unknown Channel")

    async def _r_no_content(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        return _Reply(status=204)

    def _attachments_from(self, call: RecordedCall) -> list[dict[str, Any]]:
        attachments = []
        for f in call.files:
            aid = snowflake()
            url = f"{self.base_url}/attachments/{aid}/{f.filename}"
            attachments.append(
                {
                    "id": str(aid),
                    "filename": f.filename,
                    "size": len(f.data),
                    "url": url,
                    "proxy_url": url,
                    "content_type": f.content_type,
                }
            )
        return attachments

    def _new_message(
        self, channel: Mapping[str, Any], body: Mapping[str, Any], call: RecordedCall, **extra: Any
    ) -> dict[str, Any]:
        message = message_payload(
            channel_id=channel["id"],
            guild_id=channel.get("guild_id"),
            author=self.bot_user,
            content=body.get("content") or "",
            components=body.get("components"),
            embeds=body.get("embeds"),
            flags=int(body.get("flags") or 0),
            **extra,
        )
        message["attachments"] = self._attachments_from(call)
        if body.get("poll"):
            message["poll"] = body["poll"]
        self.messages[int(message["id"])] = message
        return message

    async def _r_create_message(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        channel = self.channels.get(int(m[1]))
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        body = call.json or {}
        if not any(body.get(k) for k in ("content", "embeds", "components", "poll", "sticker_ids")):
            if not call.files:
                return _error(400, 50006, "Cannot send an empty message")
        extra: dict[str, Any] = {}
        if body.get("message_reference"):
            extra["message_reference"] = body["message_reference"]
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            # Discord: the same author's message with this nonce in the last few minutes is
            # returned as it is instead of a second one being made.
            earlier = self.messages.get(self._nonces.get((channel["id"], str(nonce)), 0))
            if earlier is not None:
                return _Reply(body=copy.deepcopy(earlier))
        message = self._new_message(channel, body, call, **extra)
        if nonce is not None:
            message["nonce"] = str(nonce)
            self._nonces[(channel["id"], str(nonce))] = int(message["id"])
        return _Reply(body=message)

    async def _r_start_thread(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        """A public thread from a message (``type`` 11); its id is the message's id, as on
        Discord, and a message has at most one (160004 for a second)."""
        channel = self.channels.get(int(m[1]))
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        if channel.get("type") not in (0, 5):  # DMs and threads cannot hold message threads
            return _error(400, 50024, "Cannot execute action on this channel type")
        message = self._channel_message(m)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        name = str((call.json or {}).get("name") or "")
        if not 1 <= len(name) <= 100:
            return _error(400, 50035, "Invalid Form Body")
        if int(m[2]) in self.channels:
            return _error(400, 160004, "A thread has already been created for this message")
        now = _iso()
        thread = {
            "id": m[2],
            "type": 11,
            "guild_id": channel["guild_id"],
            "parent_id": channel["id"],
            "owner_id": self.bot_user["id"],
            "name": name,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": int(
                    (call.json or {}).get("auto_archive_duration") or 1440
                ),
                "archive_timestamp": now,
                "locked": False,
                "create_timestamp": now,
            },
        }
        self.channels[int(m[2])] = thread
        message["thread"] = copy.deepcopy(thread)
        message["flags"] = int(message.get("flags") or 0) | 32  # HAS_THREAD
        return _Reply(status=201, body=copy.deepcopy(thread))

    def messages_in(self, channel_id: int | str) -> list[dict[str, Any]]:
        """The messages in a channel or thread, oldest first."""
        return [m for m in self.messages.values() if m["channel_id"] == str(channel_id)]

    def _channel_message(self, m: re.Match[str]) -> dict[str, Any] | None:
        message = self.messages.get(int(m[2]))
        if message is None or message["channel_id"] != m[1]:
            return None
        return message

    async def _r_get_message(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        message = self._channel_message(m)
        return _Reply(body=message) if message else _error(404, 10008, "Unknown Message")

    def _apply_edit(self, message: dict[str, Any], call: RecordedCall) -> dict[str, Any]:
        body = call.json or {}
        for key in ("content", "embeds", "flags", "poll"):
            if key in body:
                message[key] = body[key] if body[key] is not None else message.get(key)
        if "components" in body:
            message["components"] = _assign_component_ids(body["components"] or [])
        if "attachments" in body:
            keep = {str(a.get("id")) for a in body["attachments"] or []}
            message["attachments"] = [a for a in message["attachments"] if a["id"] in keep]
        message["attachments"] = message.get("attachments", []) + self._attachments_from(call)
        message["edited_timestamp"] = _iso()
        return message

    async def _r_edit_message(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        message = self._channel_message(m)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        return _Reply(body=self._apply_edit(message, call))

    async def _r_delete_message(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        if self._channel_message(m) is None:
            return _error(404, 10008, "Unknown Message")
        del self.messages[int(m[2])]
        return _Reply(status=204)

    async def _r_get_guild(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        gid = int(m[1])
        if gid not in self.guild_ids:
            return _error(404, 10004, "Unknown Guild")
        body = self.guild_create_payload(gid)
        for key in ("members", "channels", "threads", "presences", "voice_states", "joined_at"):
            body.pop(key, None)
        return _Reply(body=body)

    async def _r_get_member(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        member = self.members.get(int(m[1]), {}).get(int(m[2]))
        return _Reply(body=member) if member else _error(404, 10007, "Unknown Member")

    def _events(self, m: re.Match[str]) -> dict[int, dict[str, Any]] | None:
        return self.scheduled_events.get(int(m[1]))

    async def _r_list_events(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        events = self._events(m)
        if events is None:
            return _error(404, 10004, "Unknown Guild")
        return _Reply(body=list(events.values()))

    async def _r_create_event(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        events = self._events(m)
        if events is None:
            return _error(404, 10004, "Unknown Guild")
        body = call.json or {}
        missing = [k for k in ("name", "privacy_level", "scheduled_start_time", "entity_type")]
        missing = [k for k in missing if k not in body]
        if missing:
            return _error(400, 50035, f"Invalid Form Body (missing {', '.join(missing)})")
        if sum(1 for e in events.values() if e.get("status") in (1, 2)) >= 100:
            # Discord: at most 100 scheduled/active events per guild.
            return _error(400, 30038, "Maximum number of guild scheduled events reached (100)")
        event = {
            "id": str(snowflake()),
            "guild_id": m[1],
            "channel_id": None,
            "creator_id": self.bot_user["id"],
            "creator": self.bot_user,
            "description": None,
            "scheduled_end_time": None,
            "entity_id": None,
            "entity_metadata": None,
            "status": 1,
            "user_count": 0,
            "image": None,
            "recurrence_rule": None,
            **body,
        }
        events[int(event["id"])] = event
        return _Reply(body=event)

    async def _r_get_event(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        event = (self._events(m) or {}).get(int(m[2]))
        return _Reply(body=event) if event else _error(404, 10070, "Unknown Guild Scheduled Event")

    async def _r_edit_event(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        event = (self._events(m) or {}).get(int(m[2]))
        if event is None:
            return _error(404, 10070, "Unknown Guild Scheduled Event")
        event.update(call.json or {})
        return _Reply(body=event)

    async def _r_delete_event(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        events = self._events(m) or {}
        if events.pop(int(m[2]), None) is None:
            return _error(404, 10070, "Unknown Guild Scheduled Event")
        return _Reply(status=204)

    # interactions & webhooks

    async def _r_callback(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        iid, token = int(m[1]), m[2]
        interaction = self.interactions.get(iid)
        if interaction is None or interaction["token"] != token:
            return _error(404, 10062, "Unknown interaction")
        if iid in self.interaction_responses:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        age = time.monotonic() - self._dispatched_at.get(iid, time.monotonic())
        if self.ack_deadline is not None and age > self.ack_deadline:
            return _error(404, 10062, "Unknown interaction")
        body = call.json or {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        self.interaction_responses[iid] = kind
        flags = int(data.get("flags") or 0)
        info: dict[str, Any] = {"id": str(iid), "type": interaction["type"]}
        resource: dict[str, Any] = {"type": kind}
        channel = interaction.get("channel") or {"id": interaction["channel_id"]}
        if kind in (4, 5):  # CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
            if kind == 5:
                flags |= 1 << 7  # LOADING
            message = self._new_message(
                channel,
                {**data, "flags": flags},
                call,
                message_type=20 if interaction["type"] == 2 else 0,
                application_id=self.application_id,
                interaction_metadata={
                    "id": str(iid),
                    "type": interaction["type"],
                    "user": interaction.get("user") or interaction["member"]["user"],
                    "authorizing_integration_owners": interaction.get(
                        "authorizing_integration_owners", {}
                    ),
                },
            )
            self._originals[iid] = int(message["id"])
            info.update(
                response_message_id=message["id"],
                response_message_loading=kind == 5,
                response_message_ephemeral=bool(flags & 64),
            )
            resource["message"] = message
        elif kind in (6, 7):  # DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE
            source = interaction.get("message")
            if source is not None:
                stored = self.messages.setdefault(int(source["id"]), dict(source))
                self._originals[iid] = int(stored["id"])
                if kind == 7:
                    self._apply_edit(stored, call)
                    resource["message"] = stored
                info.update(response_message_id=stored["id"], response_message_loading=False)
        return _Reply(body={"interaction": info, "resource": resource})

    def _webhook_interaction(self, m: re.Match[str]) -> dict[str, Any] | None:
        if int(m[1]) != self.application_id:
            return None
        iid = self._tokens.get(m[2])
        return self.interactions.get(iid) if iid is not None else None

    async def _r_followup(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        interaction = self._webhook_interaction(m)
        if interaction is None:
            return _error(404, 10015, "Unknown Webhook")
        if int(interaction["id"]) not in self.interaction_responses:
            return _error(404, 10015, "Unknown Webhook")  # Discord: must ack first
        channel = interaction.get("channel") or {"id": interaction["channel_id"]}
        message = self._new_message(
            channel, call.json or {}, call, application_id=self.application_id
        )
        if call.query.get("wait", "false").lower() not in ("true", "1"):
            return _Reply(status=204)
        return _Reply(body=message)

    def _webhook_message(self, m: re.Match[str]) -> dict[str, Any] | None:
        interaction = self._webhook_interaction(m)
        if interaction is None:
            return None
        mid = self._originals.get(int(interaction["id"])) if m[3] == "@original" else int(m[3])
        return self.messages.get(mid) if mid is not None else None

    async def _r_wh_get(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        message = self._webhook_message(m)
        return _Reply(body=message) if message else _error(404, 10008, "Unknown Message")

    async def _r_wh_edit(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        message = self._webhook_message(m)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        message["flags"] = int(message.get("flags") or 0) & ~(1 << 7)  # no longer loading
        return _Reply(body=self._apply_edit(message, call))

    async def _r_wh_delete(self, call: RecordedCall, m: re.Match[str]) -> _Reply:
        message = self._webhook_message(m)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        del self.messages[int(message["id"])]
        return _Reply(status=204)


def _bucket_headers(
    window: _Window, limit: int, per: float, bucket: str, now: float
) -> dict[str, str]:
    """Discord's ``X-RateLimit-*`` headers for a route bucket."""
    reset_after = max(window.opened + per - now, 0.0)
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, limit - window.count)),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }


def _error(status: int, code: int, message: str) -> _Reply:
    return _Reply(status=status, body={"message": message, "code": code})


# allowed_mentions.users (and .roles) hold at most 100 ids; Discord refuses more with 50035.
MAX_ALLOWED_MENTIONS = 100


def _refused_body(call: RecordedCall) -> _Reply | None:
    """Discord's 400 "Invalid Form Body" for a message body over the allowed_mentions cap, in
    any route that carries a message (posts, edits, interaction responses, follow-ups)."""
    body = call.json if isinstance(call.json, dict) else {}
    for path, holder in ((), body), (("data",), body.get("data")):
        mentions = holder.get("allowed_mentions") if isinstance(holder, dict) else None
        if not isinstance(mentions, dict):
            continue
        for kind in ("users", "roles"):
            if len(mentions.get(kind) or []) > MAX_ALLOWED_MENTIONS:
                error: dict[str, Any] = {
                    "_errors": [
                        {
                            "code": "BASE_TYPE_MAX_LENGTH",
                            "message": f"Must be {MAX_ALLOWED_MENTIONS} or fewer in length.",
                        }
                    ]
                }
                for key in reversed((*path, "allowed_mentions", kind)):
                    error = {key: error}
                return _Reply(
                    status=400,
                    body={"message": "Invalid Form Body", "code": 50035, "errors": error},
                )
    return None


def _guarded_request(original: Callable[..., Any]) -> Callable[..., Any]:
    async def _request(self: aiohttp.ClientSession, method: str, str_or_url: Any, *a, **kw):
        host = yarl.URL(str(str_or_url)).host
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise RuntimeError(f"FakeDiscord blocked a real network request: {method} {str_or_url}")
        return await original(self, method, str_or_url, *a, **kw)

    return _request


# ---------------------------------------------------------------------------------------------
# Client helper
# ---------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running_client(
    client: discord.Client, fake: FakeDiscord, *, timeout: float = 5.0
) -> AsyncIterator[discord.Client]:
    """Run ``client.start(fake.token)`` in a background task until the client is ready.

    On exit: ``await client.close()`` and wait for the start task, so no task is left
    pending. If the client fails before READY (bad token, crash...), its exception is raised.
    Construct the client with ``guild_ready_timeout=0.05`` or READY takes 2 s.
    """
    task = asyncio.create_task(client.start(fake.token), name="fake-discord-client-start")
    try:
        try:
            async with asyncio.timeout(timeout):
                while not client.is_ready():
                    if task.done():
                        task.result()  # re-raises the failure
                        raise RuntimeError("client.start() returned before the client was ready")
                    await asyncio.sleep(0.01)
        except TimeoutError:
            raise AssertionError(
                f"client not ready after {timeout}s; REST calls so far:\n" + fake.describe_calls()
            ) from None
        yield client
    finally:
        await client.close()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        failure = None if task.cancelled() else task.exception()  # marks it retrieved
    # Only reached when the body did not raise: surface a crash of the client task.
    if failure is not None:
        raise failure
