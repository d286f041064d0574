"""Loopback fakes of Slack for tests that run the *real* slack-bolt / slack-sdk code paths.

Why this exists
---------------
Mocking ``AsyncWebClient`` methods or calling ``app.async_dispatch`` directly skips the parts
of Slack integration that break in practice: request signing, form/JSON encoding, response
parsing, retry handlers, ``files_upload_v2``'s three-step dance and Socket Mode's
connect/hello/ack protocol. The fakes here are small aiohttp servers bound to ``127.0.0.1`` on
ephemeral ports, so the real libraries talk HTTP/WebSocket to them and no test ever reaches
slack.com. (bolt-python's own test-suite does the same with a thread-based mock server on a
fixed port and ``sleep`` calls; these fakes are asyncio-native, use ephemeral ports and let
tests wait on events instead of sleeping.)

Pieces
------
* :class:`FakeSlackWebAPI` -- the Web API (``https://slack.com/api/``) plus the ``response_url``
  and file-upload endpoints. Records every call, answers with realistic default payloads,
  supports programmable failures (:meth:`FakeSlackWebAPI.fail_next`) and custom responders.
* :class:`FakeSocketModeServer` -- the Socket Mode WebSocket. ``apps.connections.open`` on the
  attached :class:`FakeSlackWebAPI` hands out its URL; tests push envelopes and await acks.
* Payload builders (:func:`slash_command_payload`, :func:`block_actions_payload`, ...) backed by
  JSON fixtures in ``tests/fixtures/slack`` (loaded through :func:`load_payload`), an encoder
  for the HTTP wire format (:func:`encode_for_http`), request signing (:func:`sign`) and
  :func:`post_signed`.
* :func:`serve_bolt` -- serves a bolt ``AsyncApp`` over real HTTP on loopback using bolt's own
  aiohttp adapter (``AsyncSlackAppServer``).

Typical use::

    async with FakeSlackWebAPI() as fake:
        app = AsyncApp(
            signing_secret=SIGNING_SECRET,
            client=AsyncWebClient(token=BOT_TOKEN, base_url=fake.base_url),
        )
        ...  # register listeners
        async with serve_bolt(app) as base:
            status, _ = await post_signed(
                base + "/slack/events", encode_for_http(slash_command_payload("help", fake=fake))
            )
        [call] = await fake.wait_for("chat.postMessage")

All IDs used by the fixtures and the fake's default answers are the module constants below
(``TEAM_ID``, ``USER_ID``, ``CHANNEL_ID``, ``BOT_USER_ID`` ...), so they agree with each other.

Library behaviour worth knowing (slack-bolt 1.30 / slack-sdk 3.47, pinned by
``tests/slack/test_fake_slack.py``)
------------------------------------------------------------------------------------------
* bolt does not deduplicate retries. A re-delivered event (same ``event_id``) reaches the
  listener again; the retry number is in ``request.headers["x-slack-retry-num"]`` (a list).
  Over HTTP a first delivery has no such header; over Socket Mode it is ``["0"]``.
* Events are auto-acked (empty 200) before the listener runs, and the rest of every listener
  runs in a background task after ``ack()``. Wait for its effects (``fake.wait_for``), not for
  the HTTP response. A listener that doesn't call ``ack()`` within 3 s makes bolt answer 404
  (HTTP) or send no ack at all (Socket Mode).
* bolt makes a fresh ``AsyncWebClient`` per request from ``app.client``, copying
  base_url/retry handlers and adding ``team_id`` to every call's params.
* ``AsyncWebClient`` retries only connection errors by default; 429/5xx need
  ``AsyncRateLimitErrorRetryHandler`` / ``AsyncServerErrorRetryHandler``. The former sleeps
  ``Retry-After`` plus up to 1 s of random jitter.
* bolt parses any form body containing the substring "payload" as an interactive payload, so
  ``/cop payload`` reaches no listener (404).
* ``SocketModeClient.__init__`` needs a running loop; ``close()`` doesn't await its tasks (use
  :func:`close_socket_mode`). A ``disconnect`` message makes it call
  ``apps.connections.open`` again and reconnect.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import inspect
import itertools
import json
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import WSMsgType, web
from multidict import CIMultiDict

# ---------------------------------------------------------------------------------------------
# Identities shared by the fixtures and the fake's default answers.

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "slack"

SIGNING_SECRET = "circlebot-test-signing-secret"
BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-1-A0CIRCLEA-1700000000-test"
#: Bot token returned by the fake ``oauth.v2.access`` (an OAuth install).
INSTALLED_BOT_TOKEN = "xoxb-1700000000-1700000001-installedBotToken"

TEAM_ID = "T012AB3C4"
TEAM_DOMAIN = "circle-dev"
TEAM_NAME = "Circle Dev"
APP_ID = "A0CIRCLEA"
BOT_ID = "B0CIRCLEB"
BOT_USER_ID = "U0CIRCLEB"
BOT_NAME = "circlebot"
USER_ID = "U012A3CDE"
USER_NAME = "ada"
CHANNEL_ID = "C012AB3CD"
CHANNEL_NAME = "general"
DM_CHANNEL_ID = "D012A3CDE"  # the DM between the bot and USER_ID (see dm_channel_for)

#: Pseudo method names under which non-Web-API traffic is recorded in ``FakeSlackWebAPI.calls``.
RESPONSE_URL_CALL = "@response_url"
FILE_UPLOAD_CALL = "@file_upload"

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"

#: Used for response_url when a payload is built without a fake: port 9 (discard) on loopback
#: refuses connections, so a forgotten ``fake=`` fails loudly instead of reaching hooks.slack.com.
UNREACHABLE_RESPONSE_URL = "http://127.0.0.1:9/response_url/unreachable"

INTERACTIVE_TYPES = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "interactive_message",
        "dialog_submission",
        "dialog_cancellation",
        "dialog_suggestion",
    }
)
EVENT_TYPES = frozenset({"event_callback", "url_verification", "app_rate_limited"})

# Methods Slack serves without a token (client credentials travel as Basic auth or form fields).
_TOKENLESS_METHODS = frozenset(
    {"oauth.v2.access", "oauth.v2.exchange", "oauth.access", "openid.connect.token"}
)

_DEFAULT_ERRORS_BY_STATUS = {
    429: "ratelimited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "request_timeout",
}


def dm_channel_for(user_id: str) -> str:
    """The fake's deterministic DM channel id for ``user_id`` ("U012A3CDE" -> "D012A3CDE")."""
    return "D" + user_id[1:]


def next_slack_ts(n: int, base: int = 1_700_000_000) -> str:
    """The ``n``-th message timestamp: "1700000000.000100", "1700000000.000200", ...

    Slack's ``ts`` is "<unix seconds>.<6 digits>" and doubles as the message id; the fake's are
    strictly increasing so tests can rely on ordering.
    """
    micros = base * 1_000_000 + 100 * n
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


async def _start_loopback(app: web.Application, port: int = 0) -> tuple[web.AppRunner, int]:
    """Serve ``app`` on 127.0.0.1 (an OS-assigned port unless given); returns runner and port."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    port = runner.addresses[0][1]
    return runner, port


# ---------------------------------------------------------------------------------------------
# Fake Web API


@dataclass
class RecordedCall:
    """One request the fake received.

    ``method`` is the Web API method ("chat.postMessage") or a pseudo name
    (:data:`RESPONSE_URL_CALL`, :data:`FILE_UPLOAD_CALL`). ``params`` merges the query string
    with the form or JSON body, exactly as sent: JSON bodies keep lists/dicts, form bodies keep
    strings (slack_sdk JSON-encodes ``blocks`` etc. for form calls; use :meth:`json_param`).
    ``headers`` is case-insensitive.
    """

    method: str
    params: dict[str, Any]
    headers: CIMultiDict[str]
    http_method: str = "POST"
    path: str = ""
    raw_body: bytes = b""

    @property
    def token(self) -> str | None:
        """The token from ``Authorization: Bearer ...`` or a ``token`` param, if any."""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[len("Bearer ") :]
        token = self.params.get("token")
        return token if isinstance(token, str) else None

    def json_param(self, name: str, default: Any = None) -> Any:
        """``params[name]``, JSON-decoded when it was sent as a JSON string in a form body."""
        value = self.params.get(name, default)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value


@dataclass
class FakeResponse:
    """A fully specified answer: status, body, headers and an optional artificial delay.

    ``body`` may be a dict (sent as JSON), str (``text/plain`` unless ``content_type`` says
    otherwise), bytes or None. ``delay`` (seconds) is slept before answering, e.g. to push a
    listener past bolt's 3-second ack window.
    """

    body: dict[str, Any] | str | bytes | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    delay: float = 0.0


ResponderResult = dict[str, Any] | FakeResponse
Responder = ResponderResult | Callable[[RecordedCall], ResponderResult | Awaitable[ResponderResult]]


@dataclass(frozen=True)
class SlackRateLimits:
    """Slack's published limits on ``chat.postMessage``, which the fake enforces when given.

    Slack: "chat.postMessage ... will generally allow an app to post 1 message per second to
    a specific channel, with short bursts above this allowed", and a workspace-wide limit of
    "several hundred messages per minute" (the exact figure is not published: configurable
    here). Both are token buckets: a channel's refills `per_channel_per_second` and holds
    `channel_burst`; a workspace's (one per bot token) refills `workspace_per_minute` / 60
    a second and holds `workspace_burst`. A post over either is answered as Slack does:
    HTTP 429, ``{"ok": false, "error": "ratelimited"}`` and ``Retry-After`` in whole seconds
    (at least 1), and it does not count. ``None`` switches a limit off. `whole_seconds=False`
    gives ``Retry-After`` to the millisecond instead ("0.734"), as some proxies and other
    fakes do: a client must not treat that as an error.
    """

    per_channel_per_second: float | None = 1.0
    channel_burst: int = 3
    workspace_per_minute: float | None = 600.0
    workspace_burst: int = 10
    whole_seconds: bool = True

    def bound(self, per_channel: Mapping[str, int]) -> float:
        """The least time, in seconds, these limits allow for posting ``per_channel[c]``
        messages to each channel ``c`` of one workspace, all queued at once."""
        total = sum(per_channel.values())
        bound = 0.0
        if self.workspace_per_minute:
            bound = max(0, total - self.workspace_burst) / (self.workspace_per_minute / 60)
        if self.per_channel_per_second:
            most = max(per_channel.values(), default=0)
            bound = max(bound, max(0, most - self.channel_burst) / self.per_channel_per_second)
        return bound


class TokenBucket:
    """`burst` tokens, refilled at `rate` a second; `take` spends one or says how long until one."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.at = now

    def _refill(self, now: float) -> None:
        self.tokens = min(float(self.burst), self.tokens + (now - self.at) * self.rate)
        self.at = now

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0 when one is there now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


class FakeSlackWebAPI:
    """A loopback Slack Web API for ``AsyncWebClient(base_url=fake.base_url)``.

    Use as ``async with FakeSlackWebAPI() as fake: ...``. Endpoints:

    * ``/api/<method>`` (GET or POST; form, JSON, multipart or query params) -- the Web API.
    * ``/response_url/...`` -- target for ``response_url``s (see :meth:`new_response_url`);
      posts are recorded as :data:`RESPONSE_URL_CALL`.
    * ``/upload/v1/<file_id>`` -- the ``upload_url`` handed out by
      ``files.getUploadURLExternal``; posts are recorded as :data:`FILE_UPLOAD_CALL`.

    How an answer is chosen, first match wins:

    1. a queued failure for the method or for ``"*"`` (:meth:`fail_next`), then, with
       ``rate_limits``, a 429 for a ``chat.postMessage`` over them (:class:`SlackRateLimits`);
    2. ``not_authed`` when no token was sent, ``not_allowed_token_type`` for an ``xapp-`` token
       outside ``apps.connections.open``, and ``invalid_auth`` when ``valid_tokens`` is given and
       the token is not in it;
    3. a custom responder (:meth:`set_responder`);
    4. the built-in default (realistic shapes for the methods a bot uses, see ``_defaults``);
    5. ``{"ok": true}`` for anything else -- still recorded.

    Small in-memory state keeps defaults coherent: posted messages (:attr:`messages`),
    published/opened views (:attr:`views`, :attr:`home_views`), uploaded files
    (:attr:`uploaded_files`) and registered channels/users (:meth:`add_channel`,
    :meth:`add_user`). A channel registered with ``is_member=False`` / ``is_archived=True``
    makes ``chat.postMessage``/``chat.update``/``chat.postEphemeral`` fail with
    ``not_in_channel`` / ``is_archived`` like Slack does.
    """

    def __init__(
        self,
        *,
        valid_tokens: set[str] | None = None,
        port: int = 0,
        ts_base: int = 1_700_000_000,
        ts_clock: Callable[[], float] | None = None,
        rate_limits: SlackRateLimits | None = None,
    ) -> None:
        #: Enforced ``chat.postMessage`` limits (:class:`SlackRateLimits`); None: unlimited.
        self.rate_limits = rate_limits
        #: How many posts the limits refused, by which limit ("channel" or "workspace").
        self.rate_limited: dict[str, int] = {"channel": 0, "workspace": 0}
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        #: Unix seconds of the first message ``ts``; pass the time the test's clock says when
        #: ``conversations.history`` (``oldest``) must find what was posted "now".
        self.ts_base = ts_base
        #: With a clock (``time.time``), each ``ts`` is that clock's time (strictly increasing),
        #: as on Slack, for tests that run longer than a minute against a real process.
        self.ts_clock = ts_clock
        self._last_ts = 0.0
        self.valid_tokens = valid_tokens
        self.requested_port = port
        self.calls: list[RecordedCall] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.uploaded_files: dict[str, bytes] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        #: channel id -> its members' user ids, served by ``conversations.members`` (pages of
        #: ``limit``, ``next_cursor``); a channel not listed answers ``missing_scope``, as for
        #: an app without channels:read.
        self.channel_members: dict[str, list[str]] = {}
        #: Set by :class:`FakeSocketModeServer`; ``apps.connections.open`` hands out its URL.
        self.socket_mode_server: FakeSocketModeServer | None = None
        self._failures: dict[str, list[list[Any]]] = {}
        self._slow: dict[str, list[list[Any]]] = {}
        self._responders: dict[str, Responder] = {}
        self._changed = asyncio.Condition()
        self._ts_counter = itertools.count(1)
        self._id_counter = itertools.count(1)
        self._pending_uploads: dict[str, dict[str, Any]] = {}
        self._open_dms: set[str] = set()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._defaults: dict[str, Callable[[RecordedCall], ResponderResult]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.members": self._conversations_members,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "apps.connections.open": self._apps_connections_open,
            "oauth.v2.access": self._oauth_v2_access,
        }

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind to 127.0.0.1 on an ephemeral port (``async with`` does this for you)."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response_url/{tail:.*}", self._handle_response_url)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        self._runner, self._port = await _start_loopback(app, self.requested_port)

    async def stop(self) -> None:
        """Stop serving; in-flight requests get at most one second to finish."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlackWebAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:<port>/`` -- the server root (ends with "/")."""
        if self._port is None:
            raise RuntimeError("FakeSlackWebAPI is not running; use `async with`")
        return f"http://127.0.0.1:{self._port}/"

    @property
    def base_url(self) -> str:
        """The value for ``AsyncWebClient(base_url=...)``; ends with "/" like slack.com's."""
        return self.root_url + "api/"

    def new_response_url(self, kind: str = "commands") -> str:
        """A fresh ``response_url`` served by this fake (``kind``: "commands" or "actions")."""
        n = next(self._id_counter)
        return f"{self.root_url}response_url/{kind}/{TEAM_ID}/{1_700_000_000_000 + n}/{uuid.uuid4().hex}"

    # -- recording ----------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        """All recorded calls to ``method``, oldest first."""
        return [c for c in self.calls if c.method == method]

    @property
    def methods_called(self) -> list[str]:
        """Method names of all recorded calls, in arrival order (handy in assertions)."""
        return [c.method for c in self.calls]

    @property
    def response_url_posts(self) -> list[RecordedCall]:
        """Posts to any ``response_url`` handed out by :meth:`new_response_url`."""
        return self.calls_to(RESPONSE_URL_CALL)

    async def wait_for(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedCall]:
        """Wait until ``count`` calls to ``method`` were answered; returns ``calls_to(method)``.

        Calls are recorded only after the answer has been written, so when this returns the
        client is no longer waiting on the fake. Raises ``AssertionError`` on timeout, listing
        what was recorded instead.
        """

        def ready() -> bool:
            return len(self.calls_to(method)) >= count

        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(ready)
        except TimeoutError:
            raise AssertionError(
                f"expected {count} call(s) to {method!r} within {timeout}s; "
                f"got {len(self.calls_to(method))}. Recorded: {self.methods_called}"
            ) from None
        return self.calls_to(method)

    async def _record(self, call: RecordedCall) -> None:
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    # -- programming answers ------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        body: dict[str, Any] | str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        times: int | None = 1,
        delay: float = 0.0,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail (``"*"`` matches any method).

        ``times=None`` keeps failing until :meth:`clear_failures` (e.g. a revoked token:
        ``fail_next("*", error="invalid_auth", times=None)``). Failures queue up in order, so
        ``fail_next(m, status=503); fail_next(m, status=429)`` fails twice, differently.

        Without ``body`` the answer is ``{"ok": false, "error": ...}`` where ``error`` defaults
        by status (429 "ratelimited", 500 "internal_error", 503 "service_unavailable", ...).
        A 429 without a ``Retry-After`` header gets ``Retry-After: 1`` like Slack's.
        Examples::

            fake.fail_next("chat.postMessage", error="not_in_channel")   # HTTP 200, ok=false
            fake.fail_next("chat.postMessage", status=429, headers={"Retry-After": "0"})
            fake.fail_next("chat.update", status=503)
            fake.fail_next(RESPONSE_URL_CALL, status=404, body="expired_url")
        """
        if body is None:
            if error is None:
                error = _DEFAULT_ERRORS_BY_STATUS.get(status)
            if error is None:
                raise ValueError("fail_next needs an error, a body or an error status")
            body = {"ok": False, "error": error}
        response_headers = dict(headers or {})
        if status == 429 and not any(k.lower() == "retry-after" for k in response_headers):
            response_headers["Retry-After"] = "1"
        response = FakeResponse(body=body, status=status, headers=response_headers, delay=delay)
        self._failures.setdefault(method, []).append([response, times])

    def slow_next(self, method: str, delay: float, *, times: int | None = 1) -> None:
        """Do the next ``times`` calls to ``method`` as usual, but answer ``delay`` s late.

        Unlike ``fail_next(..., delay=...)`` the call takes effect (a post is stored): the
        answer merely arrives after the client may have stopped waiting, like a Slack that
        posted the message and then timed out. ``times=None``: until :meth:`clear_failures`.
        Also works for :data:`FILE_UPLOAD_CALL`.
        """
        self._slow.setdefault(method, []).append([delay, times])

    def _pop_slow(self, method: str) -> float:
        queue = self._slow.get(method)
        if not queue:
            return 0.0
        entry = queue[0]
        delay, remaining = entry
        if remaining is not None:
            entry[1] = remaining - 1
            if entry[1] <= 0:
                queue.pop(0)
        return float(delay)

    def clear_failures(self, method: str | None = None) -> None:
        """Drop queued failures for ``method`` (or all of them)."""
        if method is None:
            self._failures.clear()
            self._slow.clear()
        else:
            self._failures.pop(method, None)
            self._slow.pop(method, None)

    def set_responder(self, method: str, responder: Responder) -> None:
        """Answer ``method`` with ``responder`` instead of the default, until cleared.

        ``responder`` is a dict (``"ok": true`` is added when missing), a :class:`FakeResponse`,
        or a sync/async callable taking the :class:`RecordedCall` and returning either.
        """
        self._responders[method] = responder

    def clear_responder(self, method: str) -> None:
        """Go back to the default answer for ``method``."""
        self._responders.pop(method, None)

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        *,
        is_member: bool = True,
        is_archived: bool = False,
        is_private: bool = False,
        **fields: Any,
    ) -> dict[str, Any]:
        """Register a channel for ``conversations.info`` and for posting checks (see class doc)."""
        channel = self._default_channel(channel_id, name)
        channel.update(
            is_member=is_member, is_archived=is_archived, is_private=is_private, **fields
        )
        self.channels[channel_id] = channel
        return channel

    def add_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """Register a user for ``users.info``; ``fields`` override the generated profile."""
        user = _deep_merge(self._default_user(user_id), fields)
        self.users[user_id] = user
        return user

    def next_ts(self) -> str:
        """Allocate the next message ``ts`` (see :func:`next_slack_ts`)."""
        if self.ts_clock is not None:
            self._last_ts = max(round(self.ts_clock(), 6), round(self._last_ts + 0.0001, 6))
            return f"{self._last_ts:.6f}"
        return next_slack_ts(next(self._ts_counter), self.ts_base)

    def new_id(self, prefix: str) -> str:
        """A fresh Slack-looking id such as "V0FAKE0003" (prefix "V")."""
        return f"{prefix}0FAKE{next(self._id_counter):04d}"

    # -- HTTP handlers ------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        call = await self._read_call(request, request.match_info["method"])
        response = (
            self._pop_failure(call.method) or self._over_limit(call) or await self._answer(call)
        )
        slow = self._pop_slow(call.method)
        if slow:
            response.delay = max(response.delay, slow)
        return await self._send(request, call, response)

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        call = await self._read_call(request, RESPONSE_URL_CALL)
        response = self._pop_failure(RESPONSE_URL_CALL) or FakeResponse(
            body="ok", content_type="text/html"
        )
        return await self._send(request, call, response)

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        raw = await request.read()
        call = RecordedCall(
            method=FILE_UPLOAD_CALL,
            params={"file_id": file_id, "size": len(raw)},
            headers=CIMultiDict(request.headers),
            http_method=request.method,
            path=request.path,
            raw_body=raw,
        )
        response = self._pop_failure(FILE_UPLOAD_CALL)
        if response is None:
            if file_id not in self._pending_uploads:
                response = FakeResponse(body="file_not_found", status=404)
            else:
                self.uploaded_files[file_id] = raw
                response = FakeResponse(body=f"OK - {len(raw)}", content_type="text/plain")
                response.delay = self._pop_slow(FILE_UPLOAD_CALL)
        return await self._send(request, call, response)

    async def _read_call(self, request: web.Request, method: str) -> RecordedCall:
        params: dict[str, Any] = dict(request.query)
        raw = b""
        content_type = request.content_type
        if content_type.startswith("multipart/"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    params[key] = {
                        "filename": value.filename,
                        "content_type": value.content_type,
                        "content": value.file.read(),
                    }
                else:
                    params[key] = value
        else:
            raw = await request.read()
            if raw and content_type == JSON_CONTENT_TYPE:
                decoded = json.loads(raw)
                if isinstance(decoded, dict):
                    params.update(decoded)
            elif raw and content_type == FORM_CONTENT_TYPE:
                params.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        return RecordedCall(
            method=method,
            params=params,
            headers=CIMultiDict(request.headers),
            http_method=request.method,
            path=request.path,
            raw_body=raw,
        )

    def _pop_failure(self, method: str) -> FakeResponse | None:
        # "*" stands for Web API methods only, not the response_url / upload pseudo methods.
        keys = (method,) if method.startswith("@") else (method, "*")
        for key in keys:
            queue = self._failures.get(key)
            if not queue:
                continue
            entry = queue[0]
            response, remaining = entry
            if remaining is not None:
                entry[1] = remaining - 1
                if entry[1] <= 0:
                    queue.pop(0)
            return response
        return None

    def _bucket(self, key: tuple[str, ...], rate: float, burst: int, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(rate, burst, now)
        return bucket

    def _over_limit(self, call: RecordedCall) -> FakeResponse | None:
        """A 429 for a ``chat.postMessage`` over :attr:`rate_limits`, else None (and counted)."""
        limits = self.rate_limits
        if limits is None or call.method != "chat.postMessage" or self._auth_error(call):
            return None
        now = time.monotonic()
        token = call.token or ""
        channel, _ = self._post_target(call)
        checks: list[tuple[str, TokenBucket]] = []
        if limits.per_channel_per_second:
            rate, burst = limits.per_channel_per_second, limits.channel_burst
            checks.append(("channel", self._bucket(("c", token, channel), rate, burst, now)))
        if limits.workspace_per_minute:
            rate, burst = limits.workspace_per_minute / 60, limits.workspace_burst
            checks.append(("workspace", self._bucket(("w", token), rate, burst, now)))
        for which, bucket in checks:
            wait = bucket.wait(now)
            if wait > 0:
                self.rate_limited[which] += 1
                retry_after = (
                    str(max(1, math.ceil(wait))) if limits.whole_seconds else f"{wait:.3f}"
                )
                return FakeResponse(
                    body={"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": retry_after},
                )
        for _which, bucket in checks:
            bucket.take()
        return None

    def arrivals(self) -> dict[str, int]:
        """How many messages arrived per outbox key (the key circlebot puts in the metadata)."""
        counts: dict[str, int] = {}
        for messages in self.messages.values():
            for message in messages:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                key = payload.get("key")
                if key:
                    counts[key] = counts.get(key, 0) + 1
        return counts

    async def _answer(self, call: RecordedCall) -> FakeResponse:
        auth_error = self._auth_error(call)
        if auth_error is not None:
            return FakeResponse(body={"ok": False, "error": auth_error})
        responder = self._responders.get(call.method)
        if responder is not None:
            result = responder(call) if callable(responder) else copy.deepcopy(responder)
            if inspect.isawaitable(result):
                result = await result
        else:
            default = self._defaults.get(call.method)
            result = default(call) if default is not None else {"ok": True}
        if isinstance(result, FakeResponse):
            return result
        if "ok" not in result:
            result = {"ok": True, **result}
        return FakeResponse(body=result)

    def _auth_error(self, call: RecordedCall) -> str | None:
        if call.method in _TOKENLESS_METHODS:
            return None
        token = call.token
        if not token:
            return "not_authed"
        if token.startswith("xapp-") and call.method != "apps.connections.open":
            return "not_allowed_token_type"
        if self.valid_tokens is not None and token not in self.valid_tokens:
            return "invalid_auth"
        return None

    async def _send(
        self, request: web.Request, call: RecordedCall, response: FakeResponse
    ) -> web.StreamResponse:
        try:
            if response.delay:
                await asyncio.sleep(response.delay)
            web_response = _to_web_response(response)
            try:
                await web_response.prepare(request)
                await web_response.write_eof()
            except ConnectionResetError:
                pass  # the client stopped waiting (its timeout): the answer goes nowhere
            return web_response
        finally:
            # Record after the answer is written so wait_for() never races the client.
            await self._record(call)

    # -- default answers ----------------------------------------------------------------------

    def _auth_test(self, call: RecordedCall) -> ResponderResult:
        token = call.token or ""
        identity: dict[str, Any] = {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "team_id": TEAM_ID,
            "is_enterprise_install": False,
        }
        if token.startswith("xoxp-"):
            identity.update(user=USER_NAME, user_id=USER_ID)
        else:
            identity.update(user=BOT_NAME, user_id=BOT_USER_ID, bot_id=BOT_ID)
        return identity

    def _post_target(self, call: RecordedCall) -> tuple[str, str | None]:
        channel = str(call.params.get("channel") or "")
        if not channel:
            return channel, "channel_not_found"
        if channel[0] in "UW":  # posting to a user id lands in the DM with that user
            channel = dm_channel_for(channel)
        registered = self.channels.get(channel)
        if registered is not None:
            if registered.get("is_archived"):
                return channel, "is_archived"
            if not registered.get("is_member", True):
                return channel, "not_in_channel"
        return channel, None

    def _bot_message(self, call: RecordedCall, ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "user": BOT_USER_ID,
            "type": "message",
            "ts": ts,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": call.params.get("text") or "",
            "team": TEAM_ID,
            "bot_profile": {
                "id": BOT_ID,
                "app_id": APP_ID,
                "name": BOT_NAME,
                "deleted": False,
                "team_id": TEAM_ID,
            },
        }
        for key in ("blocks", "attachments", "metadata"):
            value = call.json_param(key)
            if value:
                message[key] = value
        if call.params.get("thread_ts"):
            message["thread_ts"] = call.params["thread_ts"]
        return message

    def _chat_post_message(self, call: RecordedCall) -> ResponderResult:
        channel, error = self._post_target(call)
        if error:
            return {"ok": False, "error": error}
        if not (
            call.params.get("text") or call.json_param("blocks") or call.json_param("attachments")
        ):
            return {"ok": False, "error": "no_text"}
        ts = self.next_ts()
        message = self._bot_message(call, ts)
        thread_ts = message.get("thread_ts")
        if thread_ts:  # a reply: its parent becomes a thread (as Slack marks it)
            parent = self._find(channel, str(thread_ts))
            if parent is None:
                return {"ok": False, "error": "thread_not_found"}
            parent["thread_ts"] = parent["ts"]
            parent["reply_count"] = parent.get("reply_count", 0) + 1
        self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": copy.deepcopy(message)}

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    def thread_replies(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The replies in the thread under message `ts` of `channel`, oldest first."""
        return [
            m for m in self.messages.get(channel, []) if m.get("thread_ts") == ts and m["ts"] != ts
        ]

    def _chat_post_ephemeral(self, call: RecordedCall) -> ResponderResult:
        _, error = self._post_target(call)
        if error:
            return {"ok": False, "error": error}
        if not call.params.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": self.next_ts()}

    def _chat_update(self, call: RecordedCall) -> ResponderResult:
        channel, error = self._post_target(call)
        if error:
            return {"ok": False, "error": error}
        ts = str(call.params.get("ts") or "")
        if not ts:
            return {"ok": False, "error": "message_not_found"}
        message = self._bot_message(call, ts)
        stored = self.messages.setdefault(channel, [])
        for i, existing in enumerate(stored):
            if existing["ts"] == ts:
                stored[i] = {**existing, **message, "edited": {"user": BOT_USER_ID, "ts": ts}}
                break
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_delete(self, call: RecordedCall) -> ResponderResult:
        channel, error = self._post_target(call)
        if error:
            return {"ok": False, "error": error}
        ts = str(call.params.get("ts") or "")
        self.messages[channel] = [m for m in self.messages.get(channel, []) if m["ts"] != ts]
        return {"ok": True, "channel": channel, "ts": ts}

    def _conversations_open(self, call: RecordedCall) -> ResponderResult:
        users = call.json_param("users") or ""
        if isinstance(users, list):
            users = ",".join(users)
        ids = [u.strip() for u in str(users).split(",") if u.strip()]
        if not ids:
            channel = call.params.get("channel")
            if not channel:
                return {"ok": False, "error": "users_list_not_supplied"}
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": channel}}
        channel_id = (
            dm_channel_for(ids[0])
            if len(ids) == 1
            else "G" + hashlib.sha1(",".join(sorted(ids)).encode()).hexdigest()[:8].upper()
        )
        result: dict[str, Any] = {"ok": True, "channel": {"id": channel_id}}
        if channel_id in self._open_dms:
            result.update(no_op=True, already_open=True)
        self._open_dms.add(channel_id)
        return result

    def _default_channel(self, channel_id: str, name: str | None = None) -> dict[str, Any]:
        if channel_id.startswith("D"):
            return {
                "id": channel_id,
                "created": 1_700_000_000,
                "is_im": True,
                "is_org_shared": False,
                "user": "U" + channel_id[1:],
                "is_user_deleted": False,
                "priority": 0,
                "is_member": True,
                "is_archived": False,
            }
        name = name or (CHANNEL_NAME if channel_id == CHANNEL_ID else f"channel-{channel_id}")
        return {
            "id": channel_id,
            "name": name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": channel_id.startswith("G"),
            "is_private": False,
            "created": 1_700_000_000,
            "is_archived": False,
            "is_general": name == "general",
            "unlinked": 0,
            "name_normalized": name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": TEAM_ID,
            "updated": 1_700_000_000_000,
            "creator": USER_ID,
            "is_ext_shared": False,
            "shared_team_ids": [TEAM_ID],
            "is_member": True,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }

    def _conversations_history(self, call: RecordedCall) -> ResponderResult:
        """Newest first, after ``oldest``; metadata only with ``include_all_metadata``.

        As on Slack, replies in threads are not listed (conversations.replies lists them).
        """
        channel = str(call.params.get("channel") or "")
        registered = self.channels.get(channel)
        if not channel or (registered is not None and not registered.get("is_member", True)):
            return {"ok": False, "error": "channel_not_found" if not channel else "not_in_channel"}
        top_level = [
            m
            for m in reversed(self.messages.get(channel, []))
            if m.get("thread_ts") in (None, m["ts"])
        ]
        return self._message_page(call, top_level)

    def _conversations_replies(self, call: RecordedCall) -> ResponderResult:
        """The thread under ``ts``: the parent first (always), then its replies after
        ``oldest``, oldest first; metadata only with ``include_all_metadata``."""
        channel = str(call.params.get("channel") or "")
        registered = self.channels.get(channel)
        if not channel or (registered is not None and not registered.get("is_member", True)):
            return {"ok": False, "error": "channel_not_found" if not channel else "not_in_channel"}
        parent = self._find(channel, str(call.params.get("ts") or ""))
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        oldest = float(call.params.get("oldest") or 0)
        replies = [m for m in self.thread_replies(channel, parent["ts"]) if float(m["ts"]) > oldest]
        return self._message_page(call, [parent, *replies], after_oldest=False)

    def _message_page(
        self, call: RecordedCall, messages: list[dict[str, Any]], *, after_oldest: bool = True
    ) -> ResponderResult:
        oldest = float(call.params.get("oldest") or 0)
        limit = int(call.params.get("limit") or 100)
        offset = int(call.params.get("cursor") or 0)
        with_metadata = str(call.params.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [m for m in messages if not after_oldest or float(m["ts"]) > oldest]
        page = []
        for message in found[offset : offset + limit]:
            shown = copy.deepcopy(message)
            if not with_metadata:
                shown.pop("metadata", None)
            page.append(shown)
        more = offset + limit < len(found)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": str(offset + limit) if more else ""},
        }

    def _conversations_info(self, call: RecordedCall) -> ResponderResult:
        channel_id = str(call.params.get("channel") or "")
        if not channel_id:
            return {"ok": False, "error": "channel_not_found"}
        channel = self.channels.get(channel_id) or self._default_channel(channel_id)
        return {"ok": True, "channel": copy.deepcopy(channel)}

    def _conversations_members(self, call: RecordedCall) -> ResponderResult:
        channel_id = str(call.params.get("channel") or "")
        members = self.channel_members.get(channel_id)
        if members is None:
            return {"ok": False, "error": "missing_scope"}
        limit = int(call.params.get("limit") or 100)
        start = int(call.params.get("cursor") or 0)
        page = members[start : start + limit]
        more = start + limit < len(members)
        cursor = str(start + limit) if more else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _default_user(self, user_id: str) -> dict[str, Any]:
        is_bot = user_id == BOT_USER_ID
        name = (
            BOT_NAME if is_bot else (USER_NAME if user_id == USER_ID else f"user_{user_id.lower()}")
        )
        real_name = name.capitalize()
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": False,
            "color": "9f69e7",
            "real_name": real_name,
            # The zone of most test communities: a user's DMs keep their community's timing
            # (quiet hours) unless a test gives them a zone of their own with add_user(tz=...).
            "tz": "America/New_York",
            "tz_label": "Eastern Standard Time",
            "tz_offset": -18000,
            "profile": {
                "title": "",
                "phone": "",
                "skype": "",
                "real_name": real_name,
                "real_name_normalized": real_name,
                "display_name": name,
                "display_name_normalized": name,
                "status_text": "",
                "status_emoji": "",
                "status_expiration": 0,
                "avatar_hash": "ge3b51ca72de",
                "team": TEAM_ID,
            },
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "is_email_confirmed": not is_bot,
            "who_can_share_contact_card": "EVERYONE",
        }
        if is_bot:
            user["profile"]["bot_id"] = BOT_ID
            user["profile"]["api_app_id"] = APP_ID
        else:
            user["locale"] = "en-US"
            user["has_2fa"] = False
        return user

    def _users_info(self, call: RecordedCall) -> ResponderResult:
        user_id = str(call.params.get("user") or "")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        user = copy.deepcopy(self.users.get(user_id) or self._default_user(user_id))
        # Like Slack: ``user.locale`` only when asked for with include_locale=true.
        if str(call.params.get("include_locale", "")).lower() not in ("1", "true"):
            user.pop("locale", None)
        return {"ok": True, "user": user}

    def _build_view(self, call: RecordedCall, view_id: str | None = None) -> dict[str, Any]:
        submitted = call.json_param("view") or {}
        view_id = view_id or self.new_id("V")
        previous = self.views.get(view_id, {})
        view = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": submitted.get("type", previous.get("type", "modal")),
            "blocks": submitted.get("blocks", []),
            "private_metadata": submitted.get("private_metadata", ""),
            "callback_id": submitted.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "title": submitted.get("title"),
            "clear_on_close": submitted.get("clear_on_close", False),
            "notify_on_close": submitted.get("notify_on_close", False),
            "close": submitted.get("close"),
            "submit": submitted.get("submit"),
            "previous_view_id": None,
            "root_view_id": previous.get("root_view_id", view_id),
            "app_id": APP_ID,
            "external_id": submitted.get("external_id", ""),
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        self.views[view_id] = view
        return view

    def _views_open(self, call: RecordedCall) -> ResponderResult:
        if not call.params.get("trigger_id") and not call.params.get("interactivity_pointer"):
            return {"ok": False, "error": "invalid_arguments"}
        if not call.json_param("view"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": copy.deepcopy(self._build_view(call))}

    def _views_update(self, call: RecordedCall) -> ResponderResult:
        view_id = call.params.get("view_id")
        external_id = call.params.get("external_id")
        if not view_id and external_id:
            view_id = next(
                (v["id"] for v in self.views.values() if v["external_id"] == external_id), None
            )
        if not view_id:
            return {"ok": False, "error": "not_found"}
        return {"ok": True, "view": copy.deepcopy(self._build_view(call, view_id))}

    def _views_publish(self, call: RecordedCall) -> ResponderResult:
        user_id = call.params.get("user_id")
        if not user_id:
            return {"ok": False, "error": "invalid_arguments"}
        existing = self.home_views.get(user_id)
        view = self._build_view(call, existing["id"] if existing else None)
        self.home_views[user_id] = view
        return {"ok": True, "view": copy.deepcopy(view)}

    def _files_get_upload_url_external(self, call: RecordedCall) -> ResponderResult:
        filename = call.params.get("filename")
        if not filename or not call.params.get("length"):
            return {"ok": False, "error": "invalid_arguments"}
        file_id = self.new_id("F")
        self._pending_uploads[file_id] = {
            "name": filename,
            "length": int(call.params["length"]),
            "alt_txt": call.params.get("alt_txt"),
        }
        return {"ok": True, "upload_url": f"{self.root_url}upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, call: RecordedCall) -> ResponderResult:
        entries = call.json_param("files") or []
        files = []
        for entry in entries:
            file_id = entry.get("id")
            pending = self._pending_uploads.get(file_id)
            if pending is None or file_id not in self.uploaded_files:
                return {"ok": False, "error": "file_not_found"}
            name = pending["name"]
            files.append(
                {
                    "id": file_id,
                    "created": 1_700_000_000,
                    "timestamp": 1_700_000_000,
                    "name": name,
                    "title": entry.get("title") or name,
                    "mimetype": "",
                    "filetype": name.rsplit(".", 1)[-1] if "." in name else "",
                    "user": BOT_USER_ID,
                    "user_team": TEAM_ID,
                    "size": len(self.uploaded_files[file_id]),
                    "is_external": False,
                    "url_private": f"https://files.slack.com/files-pri/{TEAM_ID}-{file_id}/{name}",
                    "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{file_id}/{name}",
                }
            )
        channel = call.params.get("channel_id")
        if channel:  # sharing the files posts a message of the bot's carrying them
            ts = self.next_ts()
            message = {
                "user": BOT_USER_ID,
                "type": "message",
                "ts": ts,
                "bot_id": BOT_ID,
                "text": call.params.get("initial_comment") or "",
                "files": copy.deepcopy(files),
                "upload": True,
            }
            if call.params.get("thread_ts"):  # shared in a thread
                message["thread_ts"] = call.params["thread_ts"]
            self.messages.setdefault(str(channel), []).append(message)
        return {"ok": True, "files": files}

    def _apps_connections_open(self, call: RecordedCall) -> ResponderResult:
        if not (call.token or "").startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if self.socket_mode_server is None:
            # Not a Slack error: says which fixture is missing when a test forgot the server.
            return {"ok": False, "error": "fake_socket_mode_server_not_attached"}
        return {"ok": True, "url": self.socket_mode_server.issue_url()}

    def _oauth_v2_access(self, call: RecordedCall) -> ResponderResult:
        if not call.params.get("code"):
            return {"ok": False, "error": "invalid_code"}
        return {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": USER_ID},
            "scope": "commands,chat:write,im:write,users:read,channels:read",
            "token_type": "bot",
            "access_token": INSTALLED_BOT_TOKEN,
            "bot_user_id": BOT_USER_ID,
            "team": {"id": TEAM_ID, "name": TEAM_NAME},
            "enterprise": None,
            "is_enterprise_install": False,
        }


def _to_web_response(response: FakeResponse) -> web.Response:
    headers = dict(response.headers)
    content_type = response.content_type
    for key in list(headers):
        if key.lower() == "content-type":
            content_type = content_type or headers.pop(key)
    body = response.body
    if isinstance(body, dict | list):
        payload = json.dumps(body).encode()
        content_type = content_type or JSON_CONTENT_TYPE
    elif isinstance(body, str):
        payload = body.encode()
        content_type = content_type or "text/plain"
    elif isinstance(body, bytes):
        payload = body
        content_type = content_type or "application/octet-stream"
    else:
        payload = b""
        content_type = content_type or "text/plain"
    return web.Response(
        status=response.status, body=payload, headers=headers, content_type=content_type
    )


# ---------------------------------------------------------------------------------------------
# Payloads, encoding and signing


def _deep_merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``overrides`` into ``base`` in place: dicts merge recursively, anything else
    (lists included) replaces. Returns ``base``."""
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def load_payload(name: str, **overrides: Any) -> dict[str, Any]:
    """Load ``tests/fixtures/slack/<name>.json`` as a fresh dict, deep-merging ``overrides``.

    Dict overrides merge key by key (``load_payload("view_submission", view={"callback_id":
    "x"})`` keeps the rest of the view); other values, lists included, replace. The fixtures
    mirror the examples in Slack's documentation and use this module's ID constants.
    """
    filename = name if name.endswith(".json") else f"{name}.json"
    data = json.loads((FIXTURES_DIR / filename).read_text(encoding="utf-8"))
    return _deep_merge(data, overrides)


def new_trigger_id() -> str:
    """A fresh trigger id: Slack issues a new one for every command, click and submission."""
    n = time.time_ns()
    return f"{n // 1000}.{1234567890123}.{uuid.uuid4().hex}"


def _response_url(fake: FakeSlackWebAPI | None, response_url: str | None, kind: str) -> str:
    if response_url is not None:
        return response_url
    if fake is not None:
        return fake.new_response_url(kind)
    return UNREACHABLE_RESPONSE_URL


def slash_command_payload(
    text: str = "",
    *,
    command: str = "/cop",
    fake: FakeSlackWebAPI | None = None,
    response_url: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A slash command invocation (the form fields Slack posts), from ``slash_command.json``.

    ``response_url`` points at ``fake`` when given (posts land in ``fake.response_url_posts``).
    Override ``user_id``, ``channel_id``, ``team_id``, ``trigger_id``... as keyword arguments.
    All values are strings, as on the wire. Each call gets a fresh ``trigger_id`` (Slack
    issues one per interaction); post the same payload twice to model a replay.
    """
    overrides.setdefault("trigger_id", new_trigger_id())
    return load_payload(
        "slash_command",
        command=command,
        text=text,
        response_url=_response_url(fake, response_url, "commands"),
        **overrides,
    )


def block_actions_payload(
    action_id: str = "vote",
    value: str = "topic-1",
    *,
    in_dm: bool = False,
    block_id: str | None = None,
    channel_id: str | None = None,
    user_id: str | None = None,
    message_ts: str | None = None,
    fake: FakeSlackWebAPI | None = None,
    response_url: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A button click on a bot message, in a channel or (``in_dm=True``) in the bot's DM.

    Built from ``block_actions_button.json`` / ``block_actions_button_dm.json``; the clicked
    button is ``actions[0]``. ``message_ts`` sets both ``container.message_ts`` and
    ``message.ts`` (what a handler passes to ``chat.update``).
    """
    payload = load_payload("block_actions_button_dm" if in_dm else "block_actions_button")
    action = payload["actions"][0]
    action.update(action_id=action_id, value=value, action_ts=f"{time.time():.6f}")
    if block_id is not None:
        action["block_id"] = block_id
    if channel_id is not None:
        payload["channel"]["id"] = channel_id
        payload["container"]["channel_id"] = channel_id
    if user_id is not None:
        payload["user"]["id"] = user_id
    if message_ts is not None:
        payload["container"]["message_ts"] = message_ts
        payload["message"]["ts"] = message_ts
    payload["response_url"] = _response_url(fake, response_url, "actions")
    payload["trigger_id"] = new_trigger_id()
    return _deep_merge(payload, overrides)


def view_submission_payload(
    callback_id: str = "propose_topic",
    *,
    values: dict[str, dict[str, dict[str, Any]]] | None = None,
    private_metadata: str | dict[str, Any] | None = None,
    user_id: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A modal submission from ``view_submission.json``.

    ``values`` replaces ``view.state.values`` wholesale (shape:
    ``{block_id: {action_id: {"type": "plain_text_input", "value": "..."}}}``);
    ``private_metadata`` may be a dict, which is JSON-encoded as Slack carries a string.
    """
    payload = load_payload("view_submission")
    view = payload["view"]
    view["callback_id"] = callback_id
    if values is not None:
        view["state"]["values"] = copy.deepcopy(values)
    if private_metadata is not None:
        view["private_metadata"] = (
            private_metadata if isinstance(private_metadata, str) else json.dumps(private_metadata)
        )
    if user_id is not None:
        payload["user"]["id"] = user_id
    payload["trigger_id"] = new_trigger_id()
    return _deep_merge(payload, overrides)


def view_closed_payload(
    callback_id: str = "propose_topic",
    *,
    private_metadata: str | dict[str, Any] | None = None,
    is_cleared: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """A modal dismissed with Cancel/X (sent only for views with ``notify_on_close``)."""
    payload = load_payload("view_closed", is_cleared=is_cleared)
    payload["view"]["callback_id"] = callback_id
    if private_metadata is not None:
        payload["view"]["private_metadata"] = (
            private_metadata if isinstance(private_metadata, str) else json.dumps(private_metadata)
        )
    return _deep_merge(payload, overrides)


def event_payload(
    event_type: Literal["app_home_opened", "member_joined_channel", "message"],
    *,
    event_id: str | None = None,
    event: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """An Events API ``event_callback`` envelope from ``event_<event_type>.json``.

    Every call gets a fresh unique ``event_id`` unless one is given -- reuse the same payload
    (or pass the same id) to model Slack's retries. ``event`` deep-merges into the inner
    event, ``overrides`` into the envelope.
    """
    payload = load_payload(f"event_{event_type}")
    payload["event_id"] = event_id or f"Ev{uuid.uuid4().hex[:10].upper()}"
    payload["event_time"] = int(time.time())
    if event:
        _deep_merge(payload["event"], event)
    return _deep_merge(payload, overrides)


def url_verification_payload(challenge: str | None = None) -> dict[str, Any]:
    """The one-off ``url_verification`` request Slack sends when the Request URL is saved."""
    payload = load_payload("url_verification")
    if challenge is not None:
        payload["challenge"] = challenge
    return payload


PayloadKind = Literal["slash_commands", "interactive", "events_api"]


def payload_kind(payload: Mapping[str, Any]) -> PayloadKind:
    """Classify a payload the way Slack routes it; names match Socket Mode envelope types."""
    kind = payload.get("type")
    if kind is None and "command" in payload:
        return "slash_commands"
    if kind in INTERACTIVE_TYPES:
        return "interactive"
    if kind in EVENT_TYPES:
        return "events_api"
    raise ValueError(f"cannot tell what kind of Slack payload this is: type={kind!r}")


@dataclass(frozen=True)
class SlackBody:
    """An HTTP request body exactly as Slack would send it, plus the payload it encodes."""

    body: str
    content_type: str
    payload: dict[str, Any]


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def encode_for_http(payload: Mapping[str, Any]) -> SlackBody:
    """Encode like Slack's HTTP delivery does.

    Slash commands are form fields; interactive payloads are one form field ``payload``
    holding JSON; Events API bodies are raw JSON.
    """
    kind = payload_kind(payload)
    if kind == "slash_commands":
        body = urlencode({k: _form_value(v) for k, v in payload.items()})
        return SlackBody(body, FORM_CONTENT_TYPE, dict(payload))
    if kind == "interactive":
        body = urlencode({"payload": json.dumps(payload)})
        return SlackBody(body, FORM_CONTENT_TYPE, dict(payload))
    return SlackBody(json.dumps(payload), JSON_CONTENT_TYPE, dict(payload))


def sign(body: str | bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 request signature headers for ``body`` (``timestamp`` defaults to now).

    Implemented from Slack's spec (HMAC-SHA256 of ``v0:<ts>:<body>``) rather than by calling
    ``SignatureVerifier``, so tests that check it with the real verifier prove both agree.
    """
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    ts = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def retry_headers(num: int = 1, reason: str = "http_timeout") -> dict[str, str]:
    """Headers Slack adds when it re-delivers an Events API request."""
    return {"X-Slack-Retry-Num": str(num), "X-Slack-Retry-Reason": reason}


async def post_signed(
    url: str,
    body: str | SlackBody,
    content_type: str | None = None,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """POST ``body`` signed with ``secret`` like Slack does; returns ``(status, text)``.

    ``body`` may be a :class:`SlackBody` (its content type is used) or a raw string with
    ``content_type``. ``headers`` are added last, so they can override the signature headers
    (e.g. to send a bad signature) or add :func:`retry_headers`.
    """
    if isinstance(body, SlackBody):
        content_type = content_type or body.content_type
        body = body.body
    request_headers = {"Content-Type": content_type or FORM_CONTENT_TYPE}
    request_headers.update(sign(body, secret, timestamp))
    request_headers.update(headers or {})
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body.encode(), headers=request_headers) as response:
            return response.status, await response.text()


async def http_get(
    url: str, headers: Mapping[str, str] | None = None
) -> tuple[int, CIMultiDict[str], str]:
    """GET ``url`` without following redirects; returns ``(status, headers, text)``.

    For bolt's OAuth routes: their redirects point at slack.com, which tests must not reach.
    """
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers=dict(headers or {}), allow_redirects=False) as response:
            return response.status, CIMultiDict(response.headers), await response.text()


@asynccontextmanager
async def serve_bolt(app: Any, path: str = "/slack/events") -> AsyncIterator[str]:
    """Serve a bolt ``AsyncApp`` on loopback; yields the base URL (``http://127.0.0.1:<port>``).

    Uses bolt's own aiohttp server class (``slack_bolt.app.async_server.AsyncSlackAppServer``,
    which wraps ``slack_bolt.adapter.aiohttp.to_bolt_request``/``to_aiohttp_response``), so
    requests take the same path as ``app.start()`` in production, OAuth install/redirect GET
    routes included when the app has an OAuth flow. Post events to ``base + path``.
    """
    from slack_bolt.app.async_server import AsyncSlackAppServer

    server = AsyncSlackAppServer(port=0, path=path, app=app, host="127.0.0.1")
    runner, port = await _start_loopback(server.web_app)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------------------------------------
# Fake Socket Mode


class FakeSocketModeServer:
    """A loopback Socket Mode WebSocket for ``slack_sdk.socket_mode.aiohttp.SocketModeClient``.

    Use as ``async with FakeSocketModeServer(fake_api) as server``: it attaches itself to the
    :class:`FakeSlackWebAPI` so ``apps.connections.open`` (called by the client with the
    ``xapp-`` token) returns ``ws://127.0.0.1:<port>/link/?ticket=...``. On connect it sends
    Slack's ``hello``; afterwards the test pushes envelopes (:meth:`send_envelope`) and awaits
    the client's acks (:meth:`wait_for_ack`). Every message the client sends is kept in
    :attr:`received`; acks (messages with an ``envelope_id``) also in :attr:`acks`.

    Close the client before leaving this context (see :func:`socket_mode_session`): when the
    server goes away first, the client auto-reconnects and keeps retrying in the background.
    """

    def __init__(self, web_api: FakeSlackWebAPI | None = None, *, send_hello: bool = True):
        self.web_api = web_api
        self.send_hello = send_hello
        self.issued_urls: list[str] = []
        self.connection_count = 0
        self.open_connections: list[web.WebSocketResponse] = []
        self.received: list[dict[str, Any]] = []
        self.acks: dict[str, list[dict[str, Any]]] = {}
        self.envelopes_sent: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    async def __aenter__(self) -> FakeSocketModeServer:
        app = web.Application()
        app.router.add_get("/link/", self._handle_ws)
        self._runner, self._port = await _start_loopback(app)
        if self.web_api is not None:
            self.web_api.socket_mode_server = self
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.web_api is not None and self.web_api.socket_mode_server is self:
            self.web_api.socket_mode_server = None
        await self.drop_connections()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def issue_url(self) -> str:
        """A fresh WSS-style URL with a one-off ticket, as ``apps.connections.open`` returns."""
        if self._port is None:
            raise RuntimeError("FakeSocketModeServer is not running; use `async with`")
        url = f"ws://127.0.0.1:{self._port}/link/?ticket={uuid.uuid4()}&app_id={APP_ID}"
        self.issued_urls.append(url)
        return url

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(predicate)
        except TimeoutError:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}; received: {self.received}"
            ) from None

    async def _handle_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connection_count += 1
        self.open_connections.append(ws)
        try:
            if self.send_hello:
                await ws.send_json(
                    {
                        "type": "hello",
                        "num_connections": len(self.open_connections),
                        "debug_info": {
                            "host": "applink-fake-0",
                            "build_number": 1,
                            "approximate_connection_time": 18060,
                        },
                        "connection_info": {"app_id": APP_ID},
                    }
                )
            await self._notify()
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                self.received.append(data)
                if isinstance(data, dict) and "envelope_id" in data:
                    self.acks.setdefault(data["envelope_id"], []).append(data)
                await self._notify()
        finally:
            if ws in self.open_connections:
                self.open_connections.remove(ws)
            await self._notify()
        return ws

    async def wait_for_connection(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until ``count`` connections were accepted in total (reconnects count too)."""
        await self._wait(
            lambda: self.connection_count >= count and bool(self.open_connections),
            timeout,
            f"{count} connection(s)",
        )

    async def send_envelope(
        self,
        payload: Mapping[str, Any],
        type: PayloadKind | None = None,
        envelope_id: str | None = None,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
        accepts_response_payload: bool | None = None,
        timeout: float = 5.0,
    ) -> str:
        """Send an envelope on the newest open connection; returns its ``envelope_id``.

        ``type`` defaults from the payload (:func:`payload_kind`). Like Slack,
        ``events_api`` envelopes always carry ``retry_attempt``/``retry_reason`` (default 0 and
        ""), others only when given; ``accepts_response_payload`` defaults to true for slash
        commands, view submissions and block suggestions. Waits up to ``timeout`` for a
        connection if none is open yet.
        """
        await self.wait_for_connection(timeout=timeout)
        kind = type or payload_kind(payload)
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id or str(uuid.uuid4()),
            "payload": dict(payload),
            "type": kind,
            "accepts_response_payload": (
                accepts_response_payload
                if accepts_response_payload is not None
                else kind == "slash_commands"
                or payload.get("type") in ("view_submission", "block_suggestion")
            ),
        }
        if kind == "events_api" or retry_attempt is not None:
            envelope["retry_attempt"] = retry_attempt or 0
        if kind == "events_api" or retry_reason is not None:
            envelope["retry_reason"] = retry_reason or ""
        self.envelopes_sent.append(envelope)
        await self.open_connections[-1].send_json(envelope)
        return envelope["envelope_id"]

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The client's first ack for ``envelope_id``: ``{"envelope_id": ..., "payload"?: ...}``."""
        await self._wait(lambda: envelope_id in self.acks, timeout, f"ack of {envelope_id}")
        return self.acks[envelope_id][0]

    async def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's ``disconnect`` message; the client re-opens via apps.connections.open."""
        await self.wait_for_connection()
        await self.open_connections[-1].send_json(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake-0"}}
        )

    async def drop_connections(self) -> None:
        """Close every open WebSocket (going-away), like a Slack-side restart."""
        for ws in list(self.open_connections):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"server shutdown")


async def close_socket_mode(handler_or_client: Any) -> None:
    """Close a bolt Socket Mode handler or ``SocketModeClient`` and reap its tasks.

    ``SocketModeClient.close()`` cancels its receiver/monitor/processor tasks without awaiting
    them; awaiting here avoids "Task was destroyed but it is pending" at loop shutdown.
    """
    client = getattr(handler_or_client, "client", handler_or_client)
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


@asynccontextmanager
async def socket_mode_session(
    handler: Any, server: FakeSocketModeServer, timeout: float = 5.0
) -> AsyncIterator[Any]:
    """Connect a bolt ``AsyncSocketModeHandler`` to ``server`` and close it cleanly on exit.

    Returns once the WebSocket is accepted (``hello`` is on its way). The handler must be
    created inside the running event loop (``SocketModeClient.__init__`` starts a task and an
    aiohttp session).
    """
    expected = server.connection_count + 1
    try:
        await asyncio.wait_for(handler.connect_async(), timeout)
        await server.wait_for_connection(count=expected, timeout=timeout)
        yield handler
    finally:
        await close_socket_mode(handler)


# ---------------------------------------------------------------------------------------------
# Running the fake by hand, against the real `circlebot run` process


async def _serve_forever(port: int) -> None:
    async with FakeSlackWebAPI(port=port) as fake:
        print(f"fake Slack Web API at {fake.base_url}  (Ctrl-C to stop)", flush=True)
        seen = 0
        while True:
            await asyncio.sleep(0.2)
            for call in fake.calls[seen:]:
                # Method names and channels only: this is a log, not a transcript.
                print(f"  {call.method} {call.params.get('channel', '')}".rstrip(), flush=True)
            seen = len(fake.calls)


async def _send_command(url: str, text: str, fake_root: str | None) -> None:
    response_url = f"{fake_root.rstrip('/')}/response_url/commands/manual" if fake_root else None
    payload = slash_command_payload(text, response_url=response_url)
    status, body = await post_signed(url, encode_for_http(payload))
    print(status, body)


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.fakes.slack_fake serve --port 4000`` runs the fake Web API;
    ``python -m tests.fakes.slack_fake command "help" --url http://127.0.0.1:3000/slack/events``
    posts a signed ``/cop help`` to a running bot (signing secret :data:`SIGNING_SECRET`)."""
    import argparse

    parser = argparse.ArgumentParser(prog="slack_fake")
    sub = parser.add_subparsers(dest="what", required=True)
    serve = sub.add_parser("serve", help="run the fake Web API on 127.0.0.1")
    serve.add_argument("--port", type=int, default=4000)
    command = sub.add_parser("command", help="post a signed /cop command to a bot")
    command.add_argument("text")
    command.add_argument("--url", default="http://127.0.0.1:3000/slack/events")
    command.add_argument("--fake", default="http://127.0.0.1:4000/", help="fake root URL")
    args = parser.parse_args(argv)
    try:
        if args.what == "serve":
            asyncio.run(_serve_forever(args.port))
        else:
            asyncio.run(_send_command(args.url, args.text, args.fake))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
