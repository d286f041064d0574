"""Reaching a platform's API at start: one line when it cannot be reached, then quiet retries.

A network that is down at boot (a Wi-Fi box after a power cut, a proxy starting later) is
not a configuration mistake, so circlebot keeps trying instead of exiting; but it says what
is wrong once, in one line, and then waits without a traceback or a line per attempt. A
refused credential is a mistake and still ends the process (`StartupError`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds between attempts: soon at first (a network coming up), then once a minute.
START_RETRY_DELAYS: tuple[float, ...] = (2, 5, 10, 30, 60)


class Unreachable(Exception):
    """The API did not answer (connection refused, DNS, timeout): worth trying again.

    `reason` is a few words for the operator (never a token or a URL's secret part).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def until_reachable(
    attempt: Callable[[], Awaitable[T]],
    *,
    what: str,
    hint: str,
    delays: Sequence[float] = START_RETRY_DELAYS,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """`attempt()`'s result, calling it again with backoff for as long as it raises `Unreachable`.

    The first failure is logged once as a warning naming `what` and the `hint`; later ones
    only at debug level; the recovery once at warning level, so the operator who saw the
    problem sees it end.
    """
    failures = 0
    while True:
        try:
            result = await attempt()
        except Unreachable as err:
            delay = delays[min(failures, len(delays) - 1)]
            if failures == 0:
                log.warning(
                    "cannot reach %s (%s); %s. Trying again quietly, at least once a minute",
                    what,
                    err.reason,
                    hint,
                )
            else:
                log.debug("still cannot reach %s (%s)", what, err.reason)
            failures += 1
            await sleep(delay)
            continue
        if failures:
            log.warning("reached %s after %d failed attempt(s); carrying on", what, failures)
        return result
