"""``/cop my timezone [ZONE]``: the person's own time zone, kept on each of their member rows.

One person lives in one place, so the zone is set on every community they belong to on
this workspace at once; a community they join later copies it when they join its channel
(the ``member.joined`` hook), with the zone and locale the platform gave
(`Member.platform_timezone`, `Member.platform_locale`, kept by the core from the adapter's
``ProfileSeen``). Check-in invitations, nudges and quiet hours read `Member.timezone`, else
the platform's zone, else the community's; ``/cop my timezone`` alone says which it is.
"""

from __future__ import annotations

import logging

from bot.context import Context, UserError, check_zone
from bot.events import Reply, Respond
from bot.features.mydata.people import rows_of
from bot.hooks import MemberJoined
from bot.i18n import load_catalog
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
        given = _platform_zone(rows)
        if given is not None:
            return Respond(Message(text=ctx.t("mydata.zone.cleared_platform", zone=given)))
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
    given = _platform_zone(rows)
    if given is not None:
        key = f"mydata.zone.from.{ctx.actor.user.platform}"
        if key in load_catalog("en"):
            return ctx.t(key, zone=given)
        return ctx.t("mydata.zone.platform", zone=given)
    community = ctx.community
    if community is None and rows:
        community = rows[0][0]
    if community is None:
        return ctx.t("mydata.zone.default", zone=ctx.services.default_timezone)
    return ctx.t("mydata.zone.community", zone=community.timezone, community=community.name)


def _platform_zone(rows: list[tuple[Community, Member]]) -> str | None:
    return next((m.platform_timezone for _c, m in rows if m.platform_timezone), None)


async def on_member_joined(ctx: Context, payload: MemberJoined) -> None:
    """A newcomer who set their zone in another community here keeps it in this one, and
    so does what their platform said of them (zone and locale). Their language is copied by
    the core as the row is made (`Context.join`), before any welcome note is written."""
    member = await ctx.session.get(Member, payload.member_id)
    if member is None or ctx.event is None:
        return
    rows = [(c, m) for c, m in await rows_of(ctx.session, ctx.actor.user) if m.id != member.id]
    own = next((m.timezone for _c, m in rows if m.timezone), None)
    if own is not None and member.timezone is None:
        member.timezone = own
    seen = next((m for _c, m in rows if m.platform_timezone or m.platform_locale), None)
    if seen is not None and member.platform_timezone is None and member.platform_locale is None:
        member.platform_timezone = seen.platform_timezone
        member.platform_locale = seen.platform_locale
    ctx.session.add(member)
