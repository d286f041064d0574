"""The host of a meeting: a member a facilitator handed one meeting to (``/cop meeting host``).

`Role.HOST` sits between member and facilitator. No member holds it in general: the
dispatcher asks this module, for a command declared `Role.HOST`, whether the member is the
named host of a meeting of this community that has not ended yet (the one happening now or
one coming); the handler then acts on that meeting only (`acting_for`, `require_host_of`).
The power lasts from when the facilitator names them until the meeting ends (or is
cancelled, or someone else is named); after that a host who tries is told in one sentence
that it ended, and when. Features ask here rather than the meetings feature, so none of
them imports another.
"""

from __future__ import annotations

import logging

from bot.commands import Role
from bot.context import Context, UserError
from storage.meeting_roles import Hosted, hosted

log = logging.getLogger(__name__)


async def hosting(ctx: Context) -> list[Hosted]:
    """Every meeting of the current community the actor was made host of, soonest first."""
    community, member = ctx.community, ctx.member
    if community is None or member is None or not ctx.is_member():
        return []
    return await hosted(ctx.session, community.id, member.id, ctx.now)


async def acting_for(ctx: Context) -> Hosted | None:
    """The meeting the actor hosts now (the one happening, else the next they host), or None
    for a facilitator (who needs no hosting) or a member who hosts nothing that is still on."""
    if ctx.role() >= Role.FACILITATOR:
        return None
    return next((h for h in await hosting(ctx) if h.on), None)


def _ended(ctx: Context, past: list[Hosted]) -> UserError:
    last = past[-1]
    return UserError(ctx.t("core.refuse.host_ended", number=last.number))


async def require_host(ctx: Context) -> Hosted | None:
    """Let a facilitator through (None), or a member hosting a meeting that is still on (that
    meeting); refuse anyone else in one sentence, telling a former host their time ended."""
    if ctx.role() >= Role.FACILITATOR:
        return None
    meetings = await hosting(ctx)
    on = [h for h in meetings if h.on]
    if on:
        return on[0]
    if meetings:
        log.info("member %s: hosting has ended", ctx.actor.user.user_id)
        raise _ended(ctx, meetings)
    raise UserError(ctx.t("core.refuse.host_only"))


async def require_host_of(ctx: Context, meeting_id: int, number: int) -> None:
    """Refuse, in one sentence, unless the actor is a facilitator or the host of this very
    meeting while it is still on (`number` is what members call it)."""
    if ctx.role() >= Role.FACILITATOR:
        return
    meetings = await hosting(ctx)
    mine = [h for h in meetings if h.meeting_id == meeting_id]
    if mine and mine[0].on:
        return
    if mine:
        raise _ended(ctx, mine)
    on = [h for h in meetings if h.on]
    if on:
        raise UserError(ctx.t("core.refuse.host_other", number=number, mine=on[0].number))
    if meetings:
        raise _ended(ctx, meetings)
    raise UserError(ctx.t("core.refuse.host_only"))
