"""Roles at a meeting: members share their experience (panelists), lead a breakout, take
notes or host; a facilitator hands a meeting to a member host.

Members take a role with a button on the meeting card (one per role; a second press gives it
up) or ``/cop meeting role 3 share``, and give it up with ``/cop meeting unrole 3 share``.
Each role has a limit (`storage.meeting_roles.LIMITS`: three sharers, four breakout leads,
one note-taker, one host). The agenda shows who, through the ``agenda.sections`` hook the
meetings feature answers itself: the host and the note-taker under "Welcome and
agreements", the sharers under "Sharing", the breakout leads under "Topic discussion" (the
breakouts are on the topic). A meeting whose agenda has none of these segments shows no
roles there; its digest and card buttons still work.

Pressing "Host" as a member is an offer, shown on the agenda; only a facilitator makes
someone host (``/cop meeting host 3 @cara``), and from then until the meeting ends that
member may edit its agenda, post its agreements recap and open its check-in (`bot.hosting`).
The host hears by DM when they are named, replaced, and when the meeting ends or is
cancelled, so they know their power ended.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlmodel import col

from bot.commands import Role
from bot.context import Context, UserError, find_member
from bot.events import Reply, Respond
from bot.features.meetings.find import (
    find_meeting,
    friendly,
    meeting_from_button,
    refresh_card,
    series_of_meeting,
)
from bot.features.meetings.render import ROLES
from bot.hooks import AgendaSections, DigestSections, MeetingEnded, MemberErasing
from bot.i18n import Translator, translator
from bot.languages import member_t
from bot.ui import Block, Inline, Mention, Message, Section
from bot.ui import Context as Small
from storage.meeting_roles import LIMITS, MeetingRole, MeetingRoleKind, roles_of, still_on
from storage.meetings import Meeting
from storage.models import Community, Member, MemberRole

log = logging.getLogger(__name__)

KINDS = ROLES
NONE_WORDS = ("none", "-")


# -- taking and giving up ---------------------------------------------------------------------


async def _mine(ctx: Context, meeting: Meeting, kind: str) -> MeetingRole | None:
    assert ctx.member is not None
    return (
        await ctx.session.execute(
            select(MeetingRole).where(
                col(MeetingRole.community_id) == meeting.community_id,
                col(MeetingRole.meeting_id) == meeting.id,
                col(MeetingRole.member_id) == ctx.member.id,
                col(MeetingRole.role) == kind,
            )
        )
    ).scalar_one_or_none()


def _open(ctx: Context, meeting: Meeting) -> None:
    if not still_on(meeting, ctx.now):
        raise UserError(ctx.t("meetings.roles.closed", number=meeting.number))


async def _take(ctx: Context, meeting: Meeting, kind: str) -> Reply:
    """Give the actor `kind` at `meeting` unless it is full; a facilitator taking host is
    host at once, a member's press is an offer."""
    assert ctx.member is not None and meeting.id is not None
    holders = [
        (r, m)
        for r, m in await roles_of(ctx.session, meeting.community_id, meeting.id)
        if r.role == kind
    ]
    limit = LIMITS[MeetingRoleKind(kind)]
    if len(holders) >= limit:
        names = ", ".join(m.display_name for _r, m in holders)
        raise UserError(
            ctx.t("meetings.roles.full", role=kind, number=meeting.number, limit=limit, names=names)
        )
    granted = ctx.actor.user.user_id if kind == "host" and ctx.role() >= Role.FACILITATOR else None
    ctx.session.add(
        MeetingRole(
            community_id=meeting.community_id,
            meeting_id=meeting.id,
            member_id=ctx.member.id,
            role=kind,
            granted_by=granted,
            created_at=ctx.now,
        )
    )
    await ctx.session.flush()
    await refresh_card(ctx, meeting, await series_of_meeting(ctx, meeting))
    log.info("meeting %s: member %s took role %s", meeting.id, ctx.member.id, kind)
    key = "host_offer" if kind == "host" and granted is None else kind
    return _private(ctx.t(f"meetings.roles.taken.{key}", number=meeting.number))


async def _give_up(ctx: Context, meeting: Meeting, row: MeetingRole) -> Reply:
    await ctx.session.delete(row)
    await ctx.session.flush()
    await refresh_card(ctx, meeting, await series_of_meeting(ctx, meeting))
    log.info("meeting %s: member %s gave up role %s", meeting.id, row.member_id, row.role)
    key = "host_offer" if row.role == "host" and row.granted_by is None else row.role
    return _private(ctx.t(f"meetings.roles.withdrawn.{key}", number=meeting.number))


def _private(text: str) -> Respond:
    return Respond(Message(text=text, blocks=[Section.of(text)]), private=True)


async def pressed(ctx: Context) -> Reply:
    """A role button on the card: take the role, or give it up on a second press."""
    kind = ctx.action.args[1] if len(ctx.action.args) == 2 else ""
    if kind not in KINDS:
        raise UserError(ctx.t("core.refuse.stale_button"))
    meeting = await meeting_from_button(ctx)
    _open(ctx, meeting)
    row = await _mine(ctx, meeting, kind)
    if row is not None:
        return await _give_up(ctx, meeting, row)
    return await _take(ctx, meeting, kind)


@friendly
async def take(ctx: Context) -> Reply:
    """``/cop meeting role 3 share``: take a role (a second time says so)."""
    meeting = await find_meeting(ctx, ctx.params["meeting"])
    kind = ctx.params["role"]
    _open(ctx, meeting)
    if await _mine(ctx, meeting, kind) is not None:
        raise UserError(ctx.t("meetings.roles.already", role=kind, number=meeting.number))
    return await _take(ctx, meeting, kind)


@friendly
async def untake(ctx: Context) -> Reply:
    """``/cop meeting unrole 3 share``: give a role up."""
    meeting = await find_meeting(ctx, ctx.params["meeting"])
    kind = ctx.params["role"]
    _open(ctx, meeting)
    row = await _mine(ctx, meeting, kind)
    if row is None:
        raise UserError(ctx.t("meetings.roles.not_holding", role=kind, number=meeting.number))
    return await _give_up(ctx, meeting, row)


# -- the host ---------------------------------------------------------------------------------


async def _tell(
    ctx: Context, community: Community, member: Member, key: str, what: str, meeting: Meeting
) -> None:
    """DM one (former) host; `what` names the change in the outbox key so each goes once."""
    t = member_t(member, community)  # a DM: in the (former) host's own language
    text = t(f"meetings.roles.dm.{key}", number=meeting.number, community=community.name)
    await ctx.outbox.fan_out(
        key=f"meeting:{meeting.id}:host:{what}",
        community=community,
        members=[member],
        message=Message(text=text, blocks=[Section.of(text)]),
    )


async def _hosts(ctx: Context, meeting: Meeting) -> list[tuple[MeetingRole, Member]]:
    assert meeting.id is not None
    rows = await roles_of(ctx.session, meeting.community_id, meeting.id)
    return [(r, m) for r, m in rows if r.role == "host"]


@friendly
async def name_host(ctx: Context) -> Reply:
    """``/cop meeting host 3 @cara`` (a facilitator): cara runs meeting 3 until it ends;
    ``none`` takes the meeting back. Whoever hosted or offered before is replaced."""
    community = ctx.require_community()
    meeting = await find_meeting(ctx, ctx.params["meeting"])
    _open(ctx, meeting)
    raw = ctx.params["user"]
    member: Member | None = None
    if raw.lower() not in NONE_WORDS:
        member = await find_member(ctx.session, meeting.community_id, raw)
        if member is None or member.role == MemberRole.LEFT:
            raise UserError(ctx.t("meetings.roles.host_not_member", user=raw[:40]))
    before = await _hosts(ctx, meeting)
    if member is not None and any(m.id == member.id and r.granted_by for r, m in before):
        raise UserError(
            ctx.t("meetings.roles.host_already", member=member.display_name, number=meeting.number)
        )
    if member is None and not before:
        raise UserError(ctx.t("meetings.roles.host_none", number=meeting.number))
    for row, old in before:
        await ctx.session.delete(row)
        if row.granted_by:
            await _tell(ctx, community, old, "replaced", f"replaced:{row.id}", meeting)
    await ctx.session.flush()
    if member is None:
        text = ctx.t_channel("meetings.roles.host_removed", number=meeting.number)
    else:
        assert member.id is not None
        row = MeetingRole(
            community_id=meeting.community_id,
            meeting_id=meeting.id,
            member_id=member.id,
            role="host",
            granted_by=ctx.actor.user.user_id,
            created_at=ctx.now,
        )
        ctx.session.add(row)
        await ctx.session.flush()
        await _tell(ctx, community, member, "named", f"named:{row.id}", meeting)
        text = ctx.t_channel(
            "meetings.roles.host_named", member=member.display_name, number=meeting.number
        )
    await refresh_card(ctx, meeting, await series_of_meeting(ctx, meeting))
    log.info("meeting %s: host set by %s", meeting.id, ctx.actor.user.user_id)
    return Respond(Message(text=text, blocks=[Section.of(text)]), private=False)


async def host_ended(ctx: Context, meeting: Meeting, why: str) -> None:
    """The meeting ended (`why` ``ended``) or was cancelled (``cancelled``): tell its host
    their time as host is over."""
    community = await ctx.session.get(Community, meeting.community_id)
    if community is None:
        return
    for row, member in await _hosts(ctx, meeting):
        if row.granted_by:
            await _tell(ctx, community, member, why, why, meeting)


async def on_meeting_end(ctx: Context, ended: MeetingEnded) -> None:
    """The ``meeting.end`` hook: the host's power ends with the meeting, and they hear so."""
    meeting = await ctx.session.get(Meeting, ended.meeting_id)
    if meeting is not None and meeting.community_id == ended.community_id:
        await host_ended(ctx, meeting, "ended")


async def on_member_erasing(ctx: Context, erasing: MemberErasing) -> None:
    """The ``member.erasing`` hook: the roles a member took go with their data (their member
    row stays as a tombstone, so the foreign key's cascade alone would not take them)."""
    await ctx.session.execute(
        delete(MeetingRole).where(
            col(MeetingRole.community_id) == erasing.community_id,
            col(MeetingRole.member_id) == erasing.member_id,
        )
    )
    log.info("community %s: roles of an erased member removed", erasing.community_id)


# -- who is doing what: the agenda and the digest --------------------------------------------

#: Which roles show under which default segment of the agenda.
UNDER = {"welcome": ("host", "notes"), "sharing": ("share",), "topic": ("lead",)}


def _line(t: Translator, key: str, members: list[Member]) -> Section:
    parts: list[Inline] = [t(f"meetings.roles.agenda.{key}")]
    for i, member in enumerate(members):
        if i:
            parts.append(", ")
        parts.append(Mention(user_id=member.user_id, name=member.display_name))
    return Section(parts=parts)


def _lines(
    t: Translator, rows: list[tuple[MeetingRole, Member]], kinds: tuple[str, ...]
) -> list[Section]:
    out: list[Section] = []
    for kind in kinds:
        if kind == "host":
            named = [m for r, m in rows if r.role == "host" and r.granted_by]
            offered = [m for r, m in rows if r.role == "host" and not r.granted_by]
            if named:
                out.append(_line(t, "host", named))
            if offered:
                out.append(_line(t, "host_offer", offered))
            continue
        members = [m for r, m in rows if r.role == kind]
        if members:
            out.append(_line(t, kind, members))
    return out


async def _meeting_rows(
    ctx: Context, community_id: int, meeting_id: int
) -> list[tuple[MeetingRole, Member]]:
    return await roles_of(ctx.session, community_id, meeting_id)


async def agenda_section(ctx: Context, asked: AgendaSections) -> list[Section] | None:
    """The ``agenda.sections`` hook: who holds the roles that belong under `asked.segment`."""
    kinds = UNDER.get(asked.segment)
    if not kinds:
        return None
    rows = await _meeting_rows(ctx, asked.community_id, asked.meeting_id)
    return _lines(translator(asked.language), rows, kinds) or None


async def digest_section(ctx: Context, asked: DigestSections) -> list[Block]:
    """The ``digest.sections`` hook: who is sharing, leading, taking notes and hosting at the
    meeting the digest leads up to; nothing when nobody has signed up."""
    if asked.meeting_id is None:
        return []
    meeting = await ctx.session.get(Meeting, asked.meeting_id)
    if meeting is None or meeting.community_id != asked.community_id:
        return []
    rows = await _meeting_rows(ctx, asked.community_id, asked.meeting_id)
    t = translator(asked.language)
    lines = _lines(t, rows, ("host", "share", "lead", "notes"))
    if not lines:
        return []
    head = Section.of(t("meetings.roles.digest_title", number=meeting.number))
    return [head, *lines, Small(parts=[t("meetings.roles.digest_how", number=meeting.number)])]
