"""Names each Slack request, so a re-delivery or replay of it has one effect.

Slack re-sends an Events API request (``X-Slack-Retry-Num``) when the first delivery was not
acknowledged in 3 seconds, and a captured signed request can be replayed for as long as its
timestamp is inside the 5-minute signature window; bolt deduplicates neither. Every event the
adapter hands to the core carries a `delivery` key naming the request:

* Events API: ``slack:event:<event_id>``;
* a slash command: ``slack:command:<trigger_id>`` (unique per invocation);
* a click: a digest of team, user, action_id and action_ts (``slack:action:...``): the
  action id can name a ballot choice, which is never stored next to the voter;
* a view submission: a digest of its trigger_id, else the view's id and hash.

The core remembers the key in the database with the request's effect (`bot.replays`), across
restarts and for every instance behind the Request URL. `SeenSet` is the in-memory filter left
for App Home openings, which only redraw a view and need no durable record.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from bot.replays import delivery_key

DEFAULT_TTL = 600.0
DEFAULT_SIZE = 10_000


def event_key(body: dict[str, Any]) -> str | None:
    event_id = body.get("event_id")
    return f"slack:event:{event_id}" if event_id else None


def command_key(body: dict[str, Any]) -> str | None:
    trigger = body.get("trigger_id")
    return f"slack:command:{trigger}" if trigger else None


def action_key(team: str, user: str, action_id: str, action_ts: str) -> str | None:
    if not action_ts:
        return None  # no identity to tell a replay from a second press
    return delivery_key("slack:action", team, user, action_id, action_ts)


def view_key(body: dict[str, Any]) -> str | None:
    view = body.get("view") or {}
    trigger = body.get("trigger_id")
    if trigger:
        return delivery_key("slack:view", trigger)
    if view.get("id") and view.get("hash"):
        return delivery_key("slack:view", view["id"], view["hash"])
    return None


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
