"""``/cop my-data erase``: a private confirmation first, then the person's data goes in one
transaction, in every community of this workspace.

What happens (said before confirming, decided in docs/decisions.md):

- deleted: reflection answers, commitments, check-in deliveries and preferences, RSVPs,
  agreement acknowledgements, consent positions, proposals and topics nobody else's
  record depends on;
- unlinked, still counted: ballots in closed polls, anonymous or named (a decision already
  taken does not change); a ballot in a poll still open is withdrawn instead, since an
  unlinked ballot there would let the person vote a second time;
- kept as counts: attendance (the community's hours), with the name replaced by a marker;
- kept without the name: proposals and topics that went to a vote, a consent check or into
  the agreements, and the versions they made;
- the member row stays as a tombstone (user id, role, joined date; the name is the one the
  platform shows now, as a newcomer's row would hold; the time zone is cleared): the person
  may still be in the channel, and their role and a "left" must keep holding. What they
  created for the community (polls, meeting series, check-ins) stays: it is the community's.

The buttons carry a digest of the person and when they were offered: someone else's press
is refused, an old one expires, and a second press finds nothing left and says so.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.context import Context, UserError
from bot.events import Reply, Respond
from bot.features.mydata.gather import attendance_of, proposals_of
from bot.features.mydata.people import digest, rows_of
from bot.hooks import MemberErasing
from bot.i18n import translator
from bot.ui import ActionId, ActionIdError, Actions, Button, Message, Section
from storage.agreements import (
    AgreementAck,
    AgreementPosition,
    AgreementProposal,
    AgreementVersion,
)
from storage.meetings import MeetingAttendance, MeetingRsvp
from storage.models import Community, Member, OutboxMessage
from storage.reflections import (
    CheckinAnswer,
    CheckinCommitment,
    CheckinDelivery,
    ReflectionPreference,
)
from storage.voting import Ballot, Poll, PollOption, Topic

log = logging.getLogger(__name__)

#: How long the Confirm button works after it was offered.
CONFIRM_FOR = timedelta(hours=1)
_DIGEST = re.compile(r"[0-9a-f]{16}")
#: Proposals and topics in these states are deleted when nothing else depends on them.
PROPOSAL_DELETABLE = frozenset({"open", "dropped"})
TOPIC_DELETABLE = frozenset({"proposed", "backlog", "dropped", "merged"})


async def ask(ctx: Context) -> Reply:
    """The private confirmation: what will happen, with Confirm and Cancel."""
    user = ctx.actor.user
    rows = await rows_of(ctx.session, user)
    if not rows:
        raise UserError(ctx.t("mydata.erase.nothing"))
    names = ", ".join(c.name for c, _m in rows)
    text = ctx.t("mydata.erase.confirm", communities=names)
    who = digest(user)
    issued = int(ctx.now.timestamp())
    buttons = [
        Button(
            action=ActionId("mydata", "erase", who, issued),
            label=ctx.t("mydata.button.erase"),
            style="danger",
        ),
        Button(action=ActionId("mydata", "keep", who), label=ctx.t("mydata.button.keep")),
    ]
    return Respond(Message(text=text, blocks=[Section.of(text), Actions(elements=buttons)]))


def _check_owner(ctx: Context, nargs: int) -> None:
    """A button of this feature carries the person's digest (and `nargs` arguments in all);
    anything else is a stale or forged button, and someone else's digest is refused."""
    args = ctx.action.args
    if len(args) != nargs or not _DIGEST.fullmatch(args[0]):
        raise UserError(ctx.t("core.refuse.stale_button"))
    if args[0] != digest(ctx.actor.user):
        log.info("erase button of someone else pressed by %s", ctx.actor.user.user_id)
        raise UserError(ctx.t("mydata.erase.not_yours"))


async def cancel(ctx: Context) -> Reply:
    _check_owner(ctx, 1)
    return Respond(Message(text=ctx.t("mydata.erase.kept")))


async def confirm(ctx: Context) -> Reply:
    """Erase everything of the person in one transaction; a second press changes nothing."""
    _check_owner(ctx, 2)
    try:
        issued = datetime.fromtimestamp(ctx.action.int_arg(1), UTC)
    except (ActionIdError, OverflowError, OSError, ValueError):
        raise UserError(ctx.t("core.refuse.stale_button")) from None
    if ctx.now - issued > CONFIRM_FOR:
        raise UserError(ctx.t("mydata.erase.expired"))
    user = ctx.actor.user
    changed = 0
    rows = await rows_of(ctx.session, user)
    for community, member in rows:
        # Features that put the person's words somewhere take them back first.
        await ctx.emit("member.erasing", MemberErasing(community.id, member.id))
        changed += await erase_member(ctx.session, community, member, ctx.actor.name[:100])
    await blank_sent_dms(ctx, user.platform, user.workspace_id, user.user_id)
    if changed == 0:
        log.info("erase pressed again by %s: nothing left", user.user_id)
        return Respond(Message(text=ctx.t("mydata.erase.already")))
    log.info("data erased for %s in %d communities", user.user_id, len(rows))
    return Respond(Message(text=ctx.t("mydata.erase.done")))


def _count(result: Any) -> int:
    return max(0, cast(CursorResult[Any], result).rowcount or 0)


async def erase_member(
    session: AsyncSession, community: Community, member: Member, name: str
) -> int:
    """Erase one member row's data (see the module docstring); returns how many rows changed.

    `name` is the one the platform shows for the person now, as a newcomer's row would hold.
    """
    marker = translator(community.language)("mydata.erased_name")
    n = 0
    by_member = member.id
    for model in (CheckinCommitment, CheckinAnswer, CheckinDelivery, ReflectionPreference):
        n += _count(await session.execute(delete(model).where(col(model.member_id) == by_member)))
    n += _count(
        await session.execute(delete(MeetingRsvp).where(col(MeetingRsvp.member_id) == by_member))
    )
    n += _count(
        await session.execute(delete(AgreementAck).where(col(AgreementAck.member_id) == by_member))
    )
    n += _count(
        await session.execute(
            delete(AgreementPosition).where(col(AgreementPosition.member_id) == by_member)
        )
    )
    n += await _ballots(session, member)
    n += await _attendance(session, community, member, marker)
    n += await _proposals(session, community, member, marker)
    n += await _topics(session, community, member, marker)
    n += _count(
        await session.execute(
            update(AgreementVersion)
            .where(
                col(AgreementVersion.community_id) == community.id,
                col(AgreementVersion.proposed_by) == member.user_id,
            )
            .values(proposed_by="", proposed_name=marker)
        )
    )
    profile = member.platform_timezone or member.platform_locale or member.language
    if member.display_name != name or member.timezone or member.dm_closed_at or profile:
        member.display_name = name
        member.timezone = member.language = None
        member.platform_timezone = member.platform_locale = None
        member.dm_closed_at = None
        session.add(member)
        n += 1
    await session.flush()
    return n


async def _ballots(session: AsyncSession, member: Member) -> int:
    """Closed polls keep the ballot counted and unlinked; open ones lose it (see above)."""
    open_polls = select(col(Poll.id)).where(col(Poll.status) == "open")
    mine = col(Ballot.member_id) == member.id
    withdrawn = await session.execute(
        delete(Ballot).where(mine, col(Ballot.poll_id).in_(open_polls))
    )
    unlinked = await session.execute(update(Ballot).where(mine).values(member_id=None))
    return _count(withdrawn) + _count(unlinked)


async def _attendance(
    session: AsyncSession, community: Community, member: Member, marker: str
) -> int:
    """Each attendance row stays (the meeting's count and minutes) without the person."""
    rows = (
        await session.execute(select(MeetingAttendance).where(attendance_of(community, member)))
    ).scalars()
    n = 0
    for row in rows:
        row.member_id = None
        row.user_id = f"erased:{row.id}"  # unique per meeting, as the table requires
        row.display_name = marker
        if row.marked_by == member.user_id:
            row.marked_by = ""
        session.add(row)
        n += 1
    return n


async def _proposals(
    session: AsyncSession, community: Community, member: Member, marker: str
) -> int:
    proposals = list(
        (
            await session.execute(select(AgreementProposal).where(proposals_of(community, member)))
        ).scalars()
    )
    n = 0
    for p in proposals:
        others = (
            await session.execute(
                select(func.count())
                .select_from(AgreementPosition)
                .where(col(AgreementPosition.proposal_id) == p.id)
            )
        ).scalar_one()
        if p.status in PROPOSAL_DELETABLE and others == 0:
            await session.delete(p)
        else:
            p.proposer_member_id, p.proposer_id = None, ""
            p.proposer_name, p.why = marker, ""
            session.add(p)
        n += 1
    return n


async def _topics(session: AsyncSession, community: Community, member: Member, marker: str) -> int:
    topics = list(
        (
            await session.execute(
                select(Topic).where(
                    col(Topic.community_id) == community.id,
                    col(Topic.proposer_id) == member.user_id,
                )
            )
        ).scalars()
    )
    n = 0
    for topic in topics:
        merged_in = exists().where(col(Topic.merged_into) == topic.id)
        on_a_poll = exists().where(col(PollOption.topic_id) == topic.id)
        referenced = (await session.execute(select(merged_in | on_a_poll))).scalar_one()
        if topic.status in TOPIC_DELETABLE and not referenced:
            await session.delete(topic)
        else:
            topic.proposer_id, topic.proposer_name, topic.why = "", marker, ""
            session.add(topic)
        n += 1
    return n


async def blank_sent_dms(ctx: Context, platform: str, workspace_id: str, user_id: str) -> None:
    """The copies of direct messages already delivered to the person keep only a blank.

    Rows still waiting are left to go out (a reminder already queued); sealed rows are
    blanked by the outbox itself once delivered.
    """
    blank = Message(text="").model_dump_json()
    await ctx.session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.platform) == platform,
            col(OutboxMessage.workspace_id) == workspace_id,
            col(OutboxMessage.kind) == "dm",
            col(OutboxMessage.target) == user_id,
            col(OutboxMessage.status).in_(("sent", "failed")),
            col(OutboxMessage.sealed).is_(False),
        )
        .values(payload=blank)
    )
