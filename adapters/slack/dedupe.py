"""Drops Slack re-deliveries so each event or click has one effect.

Slack re-sends an Events API request (``X-Slack-Retry-Num``) when the first delivery was not
acknowledged in 3 seconds, and a captured signed request can be replayed for as long as its
timestamp is inside the 5-minute signature window. bolt does not deduplicate either, so the
adapter keys every request on its identity and ignores repeats:

* events: ``event_id``;
* button clicks: ``(team, user, action_id, action_ts)``;
* slash commands and view submissions: their ``trigger_id`` (unique per interaction).

The set is in memory, bounded and expires entries after 10 minutes (longer than both Slack's
retry schedule and the signature window). With several bot processes behind one Request URL a
retry may reach another process; run one Slack process per app, or put a shared store here.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

DEFAULT_TTL = 600.0
DEFAULT_SIZE = 10_000


class SeenSet:
    """A bounded set whose entries expire after `ttl` seconds.

    >>> seen = SeenSet()
    >>> seen.first("Ev1"), seen.first("Ev1")
    (True, False)
    """

    def __init__(
        self,
        ttl: float = DEFAULT_TTL,
        size: int = DEFAULT_SIZE,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.size = size
        self._now = now
        self._seen: OrderedDict[Hashable, float] = OrderedDict()

    def first(self, key: Hashable) -> bool:
        """True the first time `key` is offered (and records it), False for a repeat."""
        now = self._now()
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at < self.ttl and len(self._seen) < self.size:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now
        return True

    def __len__(self) -> int:
        return len(self._seen)
