"""Recaps and acknowledgements: the agreements and one question at every meeting, and the
"I agree" button.

A recap is posted by the meetings feature's ``meeting.start`` hook or, as the community
chooses, its ``meeting.reminder`` hook; so a moved meeting carries it to its new time and a
cancelled one (which neither reminds nor starts) posts none. One row per meeting, holding
the start time it was posted for, makes it once per time. Questions are asked in turn, none
twice before all were asked.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from bot.commands import Role
from bot.context import Context, UserError, channel_of, require
from bot.events import Reply, Respond
from bot.features.agreements.versions import (
    QUESTIONS,
    agree_button,
    current,
    items_of,
    list_blocks,
)
from bot.hooks import MeetingReminded, MeetingStarted
from bot.i18n import Translator, translator
from bot.ui import Actions, Message, Section, plain
from bot.ui import Context as Small
from storage.agreements import (
    AgreementAck,
    AgreementQuestions,
    AgreementRecap,
    AgreementSettings,
)
from storage.models import Community

log = logging.getLogger(__name__)


def starter_questions(t: Translator) -> list[str]:
    return [t(f"agreements.questions.{key}") for key in QUESTIONS]


async def questions_row(ctx: Context, community: Community) -> AgreementQuestions:
    assert community.id is not None
    row = await ctx.session.get(AgreementQuestions, community.id, with_for_update=True)
    if row is None:
        row = AgreementQuestions(community_id=community.id)
        ctx.session.add(row)
    return row


def question_list(t: Translator, row: AgreementQuestions) -> list[str]:
    return json.loads(row.questions) if row.questions is not None else starter_questions(t)


async def next_question(ctx: Context, community: Community) -> str:
    """The first question not asked this round; a new round begins when all were asked."""
    t = translator(community.language)
    row = await questions_row(ctx, community)
    questions = question_list(t, row)
    asked = set(json.loads(row.asked))
    fresh = [q for q in questions if q not in asked]
    if not fresh:
        asked, fresh = set(), questions
    question = fresh[0]
    row.asked = json.dumps([q for q in questions if q in asked | {question}])
    ctx.session.add(row)
    return question


async def recap_at(ctx: Context, community_id: int) -> str:
    """When the community's recap goes out: ``start`` (default), ``first-reminder`` or
    ``last-reminder``."""
    row = await ctx.session.get(AgreementSettings, community_id)
    return row.recap_at if row is not None else "start"


async def post_recap(
    ctx: Context,
    community: Community,
    meeting_id: int | None,
    meeting_start: datetime | None = None,
    *,
    ahead: bool = False,
) -> bool:
    """Post the agreements and the next question in the channel; False when there are none
    (or this meeting already had its recap for this start time).

    A meeting moved after its recap went out (with a reminder) gets it again for the new
    time, with the same question: the meeting it was asked for never took place.
    """
    assert community.id is not None
    version = await current(ctx, community.id)
    if version is None or not items_of(version):
        return False
    recap: AgreementRecap | None = None
    if meeting_id is not None:
        recap = (
            await ctx.session.execute(
                select(AgreementRecap)
                .where(col(AgreementRecap.meeting_id) == meeting_id)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if recap is not None and (
            meeting_start is None
            or recap.meeting_start is None
            or recap.meeting_start == meeting_start
        ):
            return False
    if recap is None:
        question = await next_question(ctx, community)
        recap = AgreementRecap(
            community_id=community.id,
            meeting_id=meeting_id,
            version=version.number,
            question=question[:300],
            posted_at=ctx.now,
            meeting_start=meeting_start,
        )
        ctx.session.add(recap)
        await ctx.session.flush()
        key = f"agreements:recap:{recap.id}"
    else:
        assert meeting_start is not None
        question = recap.question
        recap.version, recap.posted_at, recap.meeting_start = version.number, ctx.now, meeting_start
        ctx.session.add(recap)
        key = f"agreements:recap:{recap.id}:{int(meeting_start.timestamp())}"
    t = translator(community.language)
    head = t(
        "agreements.recap_ahead" if ahead else "agreements.recap_title", version=version.number
    )
    items = list_blocks(t, items_of(version))
    ask = t("agreements.recap_question", question=question)
    blocks: list[Section | Small | Actions] = [Section.of(head), *items, Section.of(ask)]
    blocks.append(Small(parts=[t("agreements.agree_prompt")]))
    blocks.append(agree_button(t, community.id, version.number, propose=True))
    text = "\n".join([head, *(plain(b.parts) for b in items), ask])
    await ctx.outbox.enqueue(
        key=key,
        to=channel_of(community),
        message=Message(text=text, blocks=blocks),
        community_id=community.id,
    )
    log.info("community %s: agreements recap %s posted", community.id, recap.id)
    return True


async def on_meeting_start(ctx: Context, started: MeetingStarted) -> None:
    """The ``meeting.start`` hook: a recap of the agreements as the meeting begins, unless
    one went out with a reminder for this start time already."""
    community = await ctx.session.get(Community, started.community_id)
    if community is not None:
        await post_recap(ctx, community, started.meeting_id, started.starts_at)


async def on_meeting_reminder(ctx: Context, reminded: MeetingReminded) -> None:
    """The ``meeting.reminder`` hook: the recap goes with the reminder the community chose
    (`/cop agreements settings recap=`); at the start otherwise."""
    chosen = await recap_at(ctx, reminded.community_id)
    if chosen == "start" or (chosen == "last-reminder" and not reminded.last):
        return
    community = await ctx.session.get(Community, reminded.community_id)
    if community is not None:
        await post_recap(ctx, community, reminded.meeting_id, reminded.starts_at, ahead=True)


async def acknowledge(ctx: Context) -> Reply:
    """ "I agree" on a version: recorded once per member; an old version's button says so."""
    community_id, pressed = ctx.action.int_arg(0), ctx.action.int_arg(1)
    if await ctx.session.get(Community, community_id) is None:
        raise UserError(ctx.t("core.refuse.stale_button"))
    community = await ctx.enter(community_id)  # the button's community, never the channel's
    require(ctx, Role.MEMBER)
    version = await current(ctx, community_id)
    if version is None or pressed > version.number:
        raise UserError(ctx.t("core.refuse.stale_button"))
    if pressed != version.number:
        raise UserError(ctx.t("agreements.old_version", pressed=pressed, version=version.number))
    assert ctx.member is not None and community.id is not None
    dialect = ctx.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stored = await ctx.session.execute(
        insert(AgreementAck)
        .values(
            community_id=community.id,
            version=version.number,
            member_id=ctx.member.id,
            acked_at=ctx.now,
        )
        .on_conflict_do_nothing(index_elements=["community_id", "version", "member_id"])
        .returning(col(AgreementAck.id))  # not rowcount: psycopg's async cursor says -1
    )
    if stored.scalar_one_or_none() is None:
        return Respond(Message(text=ctx.t("agreements.acked_before", version=version.number)))
    log.info("community %s: member %s agreed to version %s", community.id, ctx.member.id, pressed)
    return Respond(Message(text=ctx.t("agreements.acked", version=version.number)))
