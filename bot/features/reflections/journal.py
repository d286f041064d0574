"""`/cop journal`: a member's own answers, newest first, opened with the sealer and shown
privately to them alone; nothing of anyone else, whatever they shared.

In a channel it covers that channel's community; in a DM every community the person belongs
to (or the one named with ``community=``); ``since=YYYY-MM-DD`` keeps answers from that
day on. Answers are grouped by round, newest round first; at most `MAX_ROUNDS` rounds.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context, UserError, find_member
from bot.events import Reply, Respond
from bot.features.reflections.commitments import questions_of
from bot.features.reflections.member_prefs import member_zone
from bot.sealed import SealBroken
from bot.ui import Context as Small
from bot.ui import Message, Section, Time, plain
from storage.models import Community
from storage.reflections import Checkin, CheckinAnswer, CheckinRound

log = logging.getLogger(__name__)

MAX_ROUNDS = 20


def parse_since(ctx: Context, raw: str | None, zone: ZoneInfo) -> datetime | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise UserError(ctx.t("reflections.member.bad_since", since=raw[:40])) from None
    return datetime.combine(day, time(0), tzinfo=zone)


async def journal_for(ctx: Context, communities: list[Community], since_raw: str | None) -> Reply:
    """The journal over `communities` (the actor's own answers only)."""
    user_id = ctx.actor.user.user_id
    entries: list[tuple[CheckinRound, Checkin, Community, list[CheckinAnswer], ZoneInfo]] = []
    for community in communities:
        assert community.id is not None
        member = await find_member(ctx.session, community.id, user_id)
        if member is None:
            continue
        zone = member_zone(member, community)
        since = parse_since(ctx, since_raw, zone)
        query = select(CheckinAnswer).where(
            col(CheckinAnswer.community_id) == community.id,
            col(CheckinAnswer.member_id) == member.id,
        )
        if since is not None:
            query = query.where(col(CheckinAnswer.updated_at) >= since)
        answers = list((await ctx.session.execute(query)).scalars())
        by_round: dict[int, list[CheckinAnswer]] = {}
        for answer in answers:
            by_round.setdefault(answer.round_id, []).append(answer)
        for round_id, mine in by_round.items():
            rnd = await ctx.session.get(CheckinRound, round_id)
            checkin = await ctx.session.get(Checkin, rnd.checkin_id) if rnd else None
            if rnd is None or checkin is None:
                continue
            entries.append((rnd, checkin, community, sorted(mine, key=lambda a: a.question), zone))
    if not entries:
        key = (
            "reflections.member.journal_empty_since"
            if since_raw
            else "reflections.member.journal_empty"
        )
        return Respond(Message(text=ctx.t(key, since=since_raw or "")), private=True)
    entries.sort(key=lambda e: (max(a.updated_at for a in e[3]), e[0].id), reverse=True)
    shown = entries[:MAX_ROUNDS]
    blocks: list[Section | Small] = [Section.of(ctx.t("reflections.member.journal_title"))]
    for rnd, checkin, community, mine, zone in shown:
        questions = questions_of(rnd)
        blocks.append(
            Section.of(
                ctx.t(
                    "reflections.member.journal_round",
                    title=checkin.title,
                    community=community.name,
                    number=rnd.number,
                ),
                " ",
                Time(at=rnd.opens_at, style="date", zone=zone.key),
            )
        )
        lines = []
        for answer in mine:
            q = questions[answer.question] if answer.question < len(questions) else {}
            asked = str(q.get("text", "")) or ctx.t("reflections.member.journal_question_gone")
            try:
                text = ctx.services.sealer.open(
                    answer.sealed, f"reflection:{answer.id}:{answer.question}"
                )
            except SealBroken:
                log.warning("answer %s did not open", answer.id)
                text = ctx.t("reflections.member.journal_unreadable")
            privacy = ctx.t(f"reflections.member.privacy.{answer.privacy}")
            lines.append(
                ctx.t(
                    "reflections.member.journal_line", question=asked, answer=text, privacy=privacy
                )
            )
        blocks.append(Section.of("\n".join(lines)))
    if len(entries) > MAX_ROUNDS:
        blocks.append(Small(parts=[ctx.t("reflections.member.journal_more", shown=MAX_ROUNDS)]))
    text = "\n".join(plain(b.parts) for b in blocks)
    return Respond(Message(text=text, blocks=list(blocks)), private=True)
