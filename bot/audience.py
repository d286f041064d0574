"""Who a conversation reaches, asked of the platform outside any transaction and cached.

Poll turnout says "3 of 12 channel members voted" when the platform can list the channel
(`bot.ports.AudienceSource`), else it counts the members known to circlebot. Listing is
rate-limited by the platforms, so a count is reused for the adapter's `audience_ttl`, and
the dispatcher asks (`warm`) before it opens an event's or a job's transaction; handlers
only read the cache (`known`), so no platform call ever runs inside a transaction.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

from bot.events import ConversationRef
from bot.ports import Audience, AudienceSource

log = logging.getLogger(__name__)

#: A listing slower than this is given up for now (the event still has its 3 seconds).
WARM_TIMEOUT = 1.0


class Audiences:
    """The audience of each conversation, by platform adapter, cached per conversation."""

    def __init__(
        self,
        sources: Mapping[str, object] | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        timeout: float = WARM_TIMEOUT,
    ) -> None:
        self._sources = {
            platform: source
            for platform, source in (sources or {}).items()
            if isinstance(source, AudienceSource)
        }
        self._monotonic = monotonic
        self._timeout = timeout
        self._cache: dict[ConversationRef, tuple[float, Audience | None]] = {}

    async def warm(self, conversation: ConversationRef) -> None:
        """Ask the platform unless a fresh count is cached; failures keep the last count."""
        source = self._sources.get(conversation.platform)
        if source is None:
            return
        cached = self._cache.get(conversation)
        now = self._monotonic()
        if cached is not None and now - cached[0] < source.audience_ttl:
            return
        try:
            async with asyncio.timeout(self._timeout):
                found = await source.audience(conversation)
        except Exception as exc:  # a count is a nicety: never fail the event for it
            log.info("audience of %s not known (%s)", conversation.channel_id, type(exc).__name__)
            if cached is None:
                self._cache[conversation] = (now, None)
            return
        self._cache[conversation] = (now, found)

    def known(self, conversation: ConversationRef) -> Audience | None:
        """The last count for `conversation` (possibly stale), or None; never calls out."""
        cached = self._cache.get(conversation)
        return cached[1] if cached is not None else None
