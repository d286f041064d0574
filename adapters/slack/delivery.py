"""Web API plumbing for sending: the retrying client, error mapping, pacing, user lookups.

Kept apart from the bolt listeners so the outbox path can be read (and tested) on its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.ports import DeliveryError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The `DeliveryError` reason of a 429 (`bot.outbox.RATE_LIMITED`).
RATE_LIMITED = "ratelimited"

#: Slack errors worth another try later; every other ``ok: false`` error is permanent.
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "bad_gateway",
        "team_added_to_org",
    }
)
#: Permanent errors the outbox records as the reason (the list is for readers; any other
#: ok=false code is permanent too and recorded as is).
PERMANENT_ERRORS = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "account_inactive",
        "user_not_found",
        "cannot_dm_bot",
        "invalid_auth",
        "token_revoked",
        "not_installed",
        "msg_too_long",
        "invalid_blocks",
        "restricted_action",
    }
)


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for key, value in dict(headers).items():
        if key.lower() == name.lower():
            if isinstance(value, list | tuple):
                return str(value[0]) if value else None
            return str(value)
    return None


#: How long a Web API request may take before circlebot stops waiting (slack-sdk's default
#: is 30 s). A post that times out may still have been posted: the outbox then looks for
#: it before posting again, so a short wait costs a look-up, never a duplicate.
REQUEST_TIMEOUT = 5.0

#: Methods that must never be repeated blindly: a repeat posts (or shares) twice.
WRITES = frozenset({"chat.postMessage", "chat.postEphemeral", "files.completeUploadExternal"})

#: Errors on a write that Slack may give after doing (part of) the work.
_MAYBE_DONE = frozenset({"internal_error", "fatal_error", "service_unavailable", "bad_gateway"})


def delivery_error(err: SlackApiError, *, writes: bool = False) -> DeliveryError:
    """A `SlackApiError` as the outbox's `DeliveryError` (reason = Slack's error code).

    With `writes` (a post), a 5xx or an internal error may have come after the message was
    stored: it is ambiguous, not merely transient.
    """
    response = err.response
    status = getattr(response, "status_code", 200)
    code = ""
    try:
        code = str(response.get("error") or "")
    except Exception:  # a non-JSON body (HTML error page)
        code = ""
    if status == 429 or code == RATE_LIMITED:
        retry_after = _retry_after(getattr(response, "headers", None))
        return DeliveryError(RATE_LIMITED, transient=True, retry_after=retry_after)
    if status >= 500 or code in _MAYBE_DONE:
        return DeliveryError(code or f"http_{status}", transient=True, ambiguous=writes)
    if code in TRANSIENT_ERRORS:
        return DeliveryError(code, transient=True)
    return DeliveryError(code or f"http_{status}", transient=False)


def classify(exc: BaseException, *, writes: bool = False) -> DeliveryError:
    """Any failure of a Web API call as a `DeliveryError`: transient, ambiguous or permanent.

    Transient: surely not delivered (429, a connection that was never made). Ambiguous (only
    for `writes`): the request may have been written and acted on (a timeout, a reset or a
    dropped connection, a 5xx). Permanent: Slack said no (``channel_not_found``), or the call
    itself was malformed.
    """
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, SlackApiError):
        return delivery_error(exc, writes=writes)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return DeliveryError("connection_refused", transient=True)
    if isinstance(exc, TimeoutError):
        return DeliveryError("timeout", transient=True, ambiguous=writes)
    if isinstance(exc, aiohttp.ClientError | OSError):
        return DeliveryError("connection_lost", transient=True, ambiguous=writes)
    if isinstance(exc, SlackClientError):
        # slack-sdk's own complaint, e.g. a file upload answered with an error page.
        return DeliveryError("client_error", transient=True, ambiguous=writes)
    return DeliveryError(f"unexpected_{type(exc).__name__}"[:60], transient=False)


async def call(what: str, op: Awaitable[T], *, writes: bool = False) -> T:
    """Await a Web API call; every failure becomes a `DeliveryError` (see `classify`).

    Content and tokens are never logged.
    """
    try:
        return await op
    except Exception as exc:
        mapped = classify(exc, writes=writes)
        log.info("slack %s failed: %s (%s)", what, mapped.reason, mapped.kind)
        raise mapped from None


def _method(request: HttpRequest) -> str:
    return request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class SafeServerErrorRetry(AsyncServerErrorRetryHandler):
    """Retry 500/503 inside the client, except for writes (the outbox looks before a repeat)."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _method(request) in WRITES:
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


class SafeConnectionErrorRetry(AsyncConnectionErrorRetryHandler):
    """Retry connection errors inside the client; for writes only a connection never made."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _method(request) in WRITES:
            return isinstance(error, aiohttp.ClientConnectorError)
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


class ShortRateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """slack-sdk's 429 handler, but only for short waits.

    It sleeps ``Retry-After`` inside the call; a long wait would stall the outbox worker (and
    an interactive reply past Slack's 3-second window), so a longer ``Retry-After`` escapes as
    an error and the outbox reschedules the row after it instead.
    """

    def __init__(self, max_retry_count: int = 2, max_wait: float = 5.0) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return _retry_after(response.headers) <= self.max_wait

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        """Sleep ``Retry-After`` as a number of seconds, whole or not (slack-sdk's own handler
        takes it with ``int()``, so "0.5" raised ValueError out of the call: a 429 that
        became a permanent failure)."""
        state.next_attempt_requested = True
        await asyncio.sleep(_retry_after(response.headers if response is not None else None))
        state.increment_current_attempt()


def _retry_after(headers: Any) -> float:
    """``Retry-After`` in seconds (1 when missing or unreadable, as Slack's minimum)."""
    raw = _header(headers, "Retry-After")
    try:
        return max(float(raw), 0.0) if raw is not None else 1.0
    except ValueError:
        return 1.0


def retry_handlers(
    *, max_rate_limit_wait: float = 5.0, server_error_retries: int = 2, rate_limits: bool = True
) -> list[AsyncRetryHandler]:
    """Connection errors, 429 (short waits) and 500/503 are retried inside the client.

    Writes are retried only where nothing can have been written (429, a refused connection).
    Without `rate_limits` a 429 is not retried here: the outbox's client leaves it to the
    outbox, which waits Retry-After with the message unclaimed and slows the workspace's pace.
    """
    handlers: list[AsyncRetryHandler] = [SafeConnectionErrorRetry(max_retry_count=2)]
    if rate_limits:
        handlers.append(ShortRateLimitRetry(max_retry_count=2, max_wait=max_rate_limit_wait))
    handlers.append(SafeServerErrorRetry(max_retry_count=server_error_retries))
    return handlers


def web_client(
    token: str | None,
    base_url: str,
    handlers: list[AsyncRetryHandler] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=handlers if handlers is not None else retry_handlers(),
        timeout=timeout,  # type: ignore[arg-type]  # aiohttp takes seconds as a float
    )


#: Slack: chat.postMessage "will generally allow an app to post 1 message per second to a
#: specific channel, with short bursts above this allowed". The outbox keeps this pace per
#: channel (`Capabilities.pace_seconds`), and a channel that got a 429 waits its Retry-After.
CHANNEL_PACE_SECONDS = 1.0

#: Slack's workspace-wide allowance for chat.postMessage is "several hundred a minute" (the
#: figure is not published): circlebot's default cap, `SLACK_MESSAGES_PER_MINUTE` to change.
DEFAULT_MESSAGES_PER_MINUTE = 600


#: On a 429 the workspace's interval grows by this factor (at most once a `CALM` second, since
#: the posts already on their way meet the same limit), up to `MAX_SLOWDOWN` times the
#: configured one; each post that goes through takes back `RECOVERY` of it. A workspace whose
#: real cap is lower than configured settles near its real cap instead of drawing 429s.
SLOWDOWN = 1.5
MAX_SLOWDOWN = 8.0
RECOVERY = 0.98
CALM = 1.0


class WorkspacePacer:
    """At most one outgoing post per `interval` seconds per workspace, slower after a 429.

    Slack rate-limits chat.postMessage to about one message a second per channel (the outbox
    paces per destination through `Capabilities.pace_seconds`) and to a few hundred a minute
    per workspace; this keeps fan-outs (a reminder DM to every member) under the latter. The
    outbox sends to different channels at once, so the workspace cap is the real bound.
    Posts are spaced evenly (no burst), so a fan-out at the configured cap draws no 429s.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._slower: dict[str, float] = {}
        self._calm_until: dict[str, float] = {}

    def current(self, workspace: str) -> float:
        """The workspace's interval now (the configured one unless 429s slowed it)."""
        return self._slower.get(workspace, self.interval)

    async def wait(self, workspace: str) -> None:
        if self.interval <= 0:
            return
        lock = self._locks.setdefault(workspace, asyncio.Lock())
        async with lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            at = self._next.get(workspace, now)
            if at > now:
                await asyncio.sleep(at - now)
            self._next[workspace] = max(now, at) + self.current(workspace)

    def slow_down(self, workspace: str) -> None:
        """Slack answered 429: space this workspace's posts further apart."""
        now = time.monotonic()
        if self.interval <= 0 or now < self._calm_until.get(workspace, 0.0):
            return
        self._calm_until[workspace] = now + CALM
        slower = min(self.current(workspace) * SLOWDOWN, self.interval * MAX_SLOWDOWN)
        self._slower[workspace] = slower
        log.info("slack: workspace %s rate limited; one post every %.2fs", workspace, slower)

    def went_through(self, workspace: str) -> None:
        """A post was accepted: come back towards the configured pace."""
        slower = self._slower.get(workspace)
        if slower is None:
            return
        slower *= RECOVERY
        if slower <= self.interval:
            del self._slower[workspace]
        else:
            self._slower[workspace] = slower


@dataclass(frozen=True)
class UserInfo:
    """What ``users.info`` said of a person; `found` is False for the stand-in of a failed
    call (then `zone` and `locale` are None because nothing is known, not because Slack said
    so)."""

    name: str
    is_admin: bool
    zone: str | None = None
    locale: str | None = None
    found: bool = False


#: The scope ``users.info`` needs; a failure names it in the one warning it logs.
USERS_SCOPE = "users:read"


class UserDirectory:
    """Names, workspace-admin flags, zones and locales from ``users.info``, cached per user
    for `ttl` seconds.

    Slack payloads do not say whether someone is a workspace admin (they need it for
    ``/cop setup`` and ``/cop facilitator add``), and events carry no names, zones or
    locales (``include_locale=true`` adds ``user.locale``; ``user.tz`` is always there).
    ``users.info`` is a Tier 4 method (100+ calls a minute per workspace): one call per
    person per `ttl` stays far below it. A failed lookup counts as "not an admin" and is
    cached briefly (`failure_ttl`), so one slow call cannot hold up every interaction and a
    failing call is never retried in a loop; each kind of failure is logged as a warning
    once per workspace (naming the ``users:read`` scope), later ones at info level.
    """

    def __init__(
        self,
        ttl: float = 300.0,
        failure_ttl: float = 30.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.failure_ttl = failure_ttl
        self._now = now
        self._cache: dict[tuple[str, str], tuple[float, UserInfo]] = {}
        self._warned: set[tuple[str, str]] = set()

    async def lookup(
        self,
        client: AsyncWebClient,
        team: str,
        user_id: str,
        fallback_name: str | None = None,
        timeout: float = 1.5,
    ) -> UserInfo:
        key = (team, user_id)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self._now():
            return cached[1]
        try:
            async with asyncio.timeout(max(timeout, 0.05)):
                response = await client.users_info(user=user_id, include_locale=True)
            user = response["user"]
            profile = user.get("profile") or {}
            zone, locale = user.get("tz"), user.get("locale")
            info = UserInfo(
                name=profile.get("display_name")
                or profile.get("real_name")
                or user.get("real_name")
                or user.get("name")
                or fallback_name
                or user_id,
                is_admin=bool(
                    user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")
                ),
                zone=zone if isinstance(zone, str) and zone else None,
                locale=locale if isinstance(locale, str) and locale else None,
                found=True,
            )
            self._cache[key] = (self._now() + self.ttl, info)
        except (
            SlackApiError,
            SlackClientError,
            aiohttp.ClientError,
            TimeoutError,
            KeyError,
        ) as err:
            self._failed(team, user_id, err)
            info = UserInfo(name=fallback_name or user_id, is_admin=False)
            self._cache[key] = (self._now() + self.failure_ttl, info)
        return info

    def cached(self, team: str, user_id: str) -> UserInfo | None:
        """The last lookup's answer for this person (even past its time), or None."""
        found = self._cache.get((team, user_id))
        return found[1] if found is not None else None

    def _failed(self, team: str, user_id: str, err: Exception) -> None:
        code = type(err).__name__
        if isinstance(err, SlackApiError) and err.response is not None:
            code = str(err.response.get("error") or code)
        if (team, code) in self._warned:
            log.info("users.info for %s failed (%s) again", user_id, code)
            return
        self._warned.add((team, code))
        log.warning(
            "users.info failed (%s) in workspace %s: treating people as non-admins, with no "
            "name, time zone or locale from Slack; it needs the %s scope (and is rate "
            "limited as Tier 4, 100+ calls a minute). Logged once.",
            code,
            team,
            USERS_SCOPE,
        )
