"""``/cop my timezone [ZONE]``: the person's own time zone, kept on each of their member rows.

One person lives in one place, so the zone is set on every community they belong to on
this workspace at once; a community they join later copies it when they join its channel
(the ``member.joined`` hook). Reminders, check-in nudges and quiet hours read
`Member.timezone` and fall back to the community's zone when it is not set.
"""

from __future__ import annotations

import logging

from bot.context import Context, UserError, check_zone
from bot.events import Reply, Respond
from bot.features.mydata.people import rows_of
from bot.hooks import MemberJoined
from bot.ui import Message
from storage.models import Community, Member

log = logging.getLogger(__name__)

#: Typed instead of a zone, goes back to each community's own zone.
CLEAR = frozenset({"none", "community", "clear"})


async def my_timezone(ctx: Context) -> Reply:
    """Show the person's zone and where it comes from, or set (or clear) it everywhere."""
    rows = await rows_of(ctx.session, ctx.actor.user)
    typed = ctx.params.get("zone")
    if typed is None:
        return Respond(Message(text=_shown(ctx, rows)))
    if not rows:
        raise UserError(ctx.t("mydata.zone.nowhere"))
    if typed.lower() in CLEAR:
        for _community, member in rows:
            member.timezone = None
            ctx.session.add(member)
        log.info("time zone cleared by %s", ctx.actor.user.user_id)
        return Respond(Message(text=ctx.t("mydata.zone.cleared")))
    zone = check_zone(ctx.t, typed)
    for _community, member in rows:
        member.timezone = zone
        ctx.session.add(member)
    log.info("time zone set by %s in %d communities", ctx.actor.user.user_id, len(rows))
    return Respond(Message(text=ctx.t("mydata.zone.set", zone=zone)))


def _shown(ctx: Context, rows: list[tuple[Community, Member]]) -> str:
    own = next((m.timezone for _c, m in rows if m.timezone), None)
    if own is not None:
        return ctx.t("mydata.zone.own", zone=own)
    community = ctx.community
    if community is None and rows:
        community = rows[0][0]
    if community is None:
        return ctx.t("mydata.zone.default", zone=ctx.services.default_timezone)
    return ctx.t("mydata.zone.community", zone=community.timezone, community=community.name)


async def on_member_joined(ctx: Context, payload: MemberJoined) -> None:
    """A newcomer who set their zone in another community here keeps it in this one."""
    member = await ctx.session.get(Member, payload.member_id)
    if member is None or member.timezone is not None or ctx.event is None:
        return
    rows = await rows_of(ctx.session, ctx.actor.user)
    own = next((m.timezone for _c, m in rows if m.timezone), None)
    if own is not None:
        member.timezone = own
        ctx.session.add(member)
