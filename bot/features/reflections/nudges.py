"""Nudges that respect people: at most one private reminder per round, never in quiet hours.

The core schedules ``reflections.nudge`` with ``[round_id]`` at the round's opening plus
the check-in's nudge offset. That run nudges, by DM, everyone asked in the round who has
not answered, is not paused or opted out, and was not nudged before. Someone for whom it
is quiet hours right then gets a job of their own, ``reflections.nudge:{round}:{member}``
(the same kind, with ``[round_id, member_id]``), at the end of their quiet hours, unless
that is after the round closes: then they are not nudged at all. The outbox key
``reflections:nudge:{round}:member:{member}`` and the delivery's `nudges` count make the
cap hold however often the job runs.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context
from bot.events import UserRef
from bot.features.reflections.member_prefs import (
    asks,
    member_zone,
    preference,
    quiet_hours,
    quiet_until,
)
from bot.i18n import Translator
from bot.languages import member_t
from bot.ui import ActionId, Actions, Button, Message, Section, plain
from bot.ui import Context as Small
from storage.models import Community, Member, MemberRole
from storage.reflections import (
    Checkin,
    CheckinAnswer,
    CheckinDelivery,
    CheckinRound,
    CheckinStatus,
    RoundStatus,
)

log = logging.getLogger(__name__)

MAX_NUDGES = 1  # per member and round: the promise, "at most one"


def nudge_key(round_id: int, member_id: int) -> str:
    return f"reflections:nudge:{round_id}:member:{member_id}"


def nudge_job_id(round_id: int, member_id: int) -> str:
    return f"reflections.nudge:{round_id}:{member_id}"


async def _answered(ctx: Context, round_id: int, member_id: int) -> bool:
    found = await ctx.session.execute(
        select(col(CheckinAnswer.id))
        .where(col(CheckinAnswer.round_id) == round_id, col(CheckinAnswer.member_id) == member_id)
        .limit(1)
    )
    return found.first() is not None


async def nudge_job(ctx: Context, round_id: int, member_id: int | None = None) -> None:
    """The ``reflections.nudge`` job: see the module docstring."""
    rnd = await ctx.session.get(CheckinRound, int(round_id))
    if rnd is None or rnd.status != RoundStatus.OPEN or ctx.now >= rnd.closes_at:
        return
    checkin = await ctx.session.get(Checkin, rnd.checkin_id)
    community = await ctx.session.get(Community, rnd.community_id)
    if checkin is None or community is None or checkin.status != CheckinStatus.ACTIVE:
        return
    query = select(CheckinDelivery).where(
        col(CheckinDelivery.round_id) == rnd.id,
        col(CheckinDelivery.answered_at).is_(None),
        col(CheckinDelivery.nudges) < MAX_NUDGES,
    )
    if member_id is not None:
        query = query.where(col(CheckinDelivery.member_id) == int(member_id))
    deliveries = list((await ctx.session.execute(query.with_for_update())).scalars())
    sent = later = 0
    for delivery in deliveries:
        member = await ctx.session.get(Member, delivery.member_id)
        if member is None or member.role == MemberRole.LEFT:
            continue
        if await _answered(ctx, rnd.id, member.id):
            continue
        pref = await preference(ctx.session, community.id, member.id)
        if not asks(pref, ctx.now, checkin.number):
            continue
        zone = member_zone(member, community)
        until = quiet_until(ctx.now, zone, *quiet_hours(pref))
        if until is not None:
            if until < rnd.closes_at:
                await ctx.schedule.at(
                    nudge_job_id(rnd.id, member.id),
                    until,
                    "reflections.nudge",
                    [rnd.id, member.id],
                    community_id=community.id,
                )
                later += 1
            continue
        await ctx.outbox.enqueue(
            key=nudge_key(rnd.id, member.id),
            to=UserRef(community.platform, community.workspace_id, member.user_id),
            message=nudge_message(member_t(member, community), community, checkin, rnd, zone.key),
            community_id=community.id,
        )
        delivery.nudges += 1
        delivery.nudged_at = ctx.now
        ctx.session.add(delivery)
        sent += 1
    log.info("round %s: %d nudged, %d after their quiet hours", rnd.id, sent, later)


def nudge_message(
    t: Translator, community: Community, checkin: Checkin, rnd: CheckinRound, zone: str
) -> Message:
    """The one reminder, in `t`'s language (the member's): until when the round is open, the
    same Answer button as the invitation's (`rounds.invitation`), and how to pause or opt
    out."""
    head = Section(
        parts=t.parts(
            "reflections.member.nudge",
            title=checkin.title,
            community=community.name,
            when=t.moment(rnd.closes_at, zone),
        )
    )
    foot = Small(parts=[t("reflections.member.nudge_foot", number=checkin.number)])
    answer = Button(
        action=ActionId("reflect", "answer", rnd.id),
        label=t("reflections.round.answer_button"),
        style="primary",
    )
    return Message(
        text="\n".join(plain(b.parts) for b in (head, foot)),
        blocks=[head, Actions(elements=[answer]), foot],
    )
