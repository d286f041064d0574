"""The agreements where members meet them outside a recap: under the "Welcome and
agreements" segment of every meeting's agenda (the ``agenda.sections`` hook), and privately
to each new member when they join (the ``member.joined`` hook).

The welcome note goes once per member and community (its outbox key names both), and never
when the community has no agreements yet.
"""

from __future__ import annotations

import logging

from bot.context import Context
from bot.features.agreements.versions import agree_button, current, items_of
from bot.hooks import AgendaSections, MemberJoined
from bot.i18n import translator
from bot.languages import member_t
from bot.ui import Actions, Message, Section
from bot.ui import Context as Small
from storage.models import Community, Member, MemberRole

log = logging.getLogger(__name__)


async def agenda_section(ctx: Context, asked: AgendaSections) -> list[Section] | None:
    """The current list, numbered and compact (one block), under "Welcome and agreements"."""
    if asked.segment != "welcome":
        return None
    version = await current(ctx, asked.community_id)
    items = items_of(version)
    if version is None or not items:
        return None
    t = translator(asked.language)
    lines = [t("agreements.agenda_title", version=version.number)]
    lines += [t("agreements.agenda_line", n=i.n, text=i.text) for i in items]
    return [Section.of("\n".join(lines))]


async def on_member_joined(ctx: Context, joined: MemberJoined) -> None:
    """A new member gets the current agreements privately, with "I agree"."""
    community = await ctx.session.get(Community, joined.community_id)
    member = await ctx.session.get(Member, joined.member_id)
    if community is None or member is None or member.role == MemberRole.LEFT:
        return
    assert community.id is not None
    version = await current(ctx, community.id)
    items = items_of(version)
    if version is None or not items:
        return
    t = member_t(member, community, ctx)  # a DM: in the new member's own language
    head = t("agreements.welcome", community=community.name, version=version.number)
    lines = [t("agreements.list_line", n=i.n, text=i.text) for i in items]
    blocks: list[Section | Small | Actions] = [Section.of(head)]
    blocks += [Section.of(line) for line in lines]
    blocks.append(Small(parts=[t("agreements.welcome_foot")]))
    blocks.append(agree_button(t, community.id, version.number, propose=True))
    await ctx.outbox.fan_out(
        key=f"agreements:{community.id}:welcome",
        community=community,
        members=[member],
        message=Message(text="\n".join([head, *lines]), blocks=blocks),
    )
    log.info("community %s: agreements sent to new member %s", community.id, member.id)
