"""`/cop journal`: a member's own answers, newest first, opened with the sealer and shown
privately to them alone; nothing of anyone else, whatever they shared.

In a channel it covers that channel's community; in a DM every community the person belongs
to (or the one named with ``community=``); ``since=YYYY-MM-DD`` keeps answers from that
day on. Answers are grouped by round, newest round first; at most `MAX_ROUNDS` rounds. A
note on how a commitment went is shown under the round it came from (the check-back's
"Only you can read it, in /cop journal" points here).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context, UserError, find_member
from bot.events import Reply, Respond
from bot.features.reflections.commitments import opened, questions_of
from bot.features.reflections.member_prefs import member_zone
from bot.sealed import SealBroken
from bot.text import in_range
from bot.ui import Context as Small
from bot.ui import Message, Section, Time, plain
from storage.models import Community
from storage.reflections import (
    Checkin,
    CheckinAnswer,
    CheckinCommitment,
    CheckinRound,
    CommitmentStatus,
)

log = logging.getLogger(__name__)

MAX_ROUNDS = 20


def parse_since(ctx: Context, raw: str | None, zone: ZoneInfo) -> datetime | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise UserError(ctx.t("reflections.member.bad_since", since=raw[:40])) from None
    if not in_range(day):  # 0001-01-01 or 9999-12-31: no answer was ever written then
        raise UserError(ctx.t("reflections.member.bad_since", since=raw[:40]))
    return datetime.combine(day, time(0), tzinfo=zone)


async def journal_for(ctx: Context, communities: list[Community], since_raw: str | None) -> Reply:
    """The journal over `communities` (the actor's own answers only)."""
    user_id = ctx.actor.user.user_id
    entries: list[
        tuple[CheckinRound, Checkin, Community, list[CheckinAnswer], list[str], ZoneInfo]
    ] = []
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
        notes = await _notes(ctx, community.id, member.id, since)
        for round_id in [*by_round, *(r for r in notes if r not in by_round)]:
            rnd = await ctx.session.get(CheckinRound, round_id)
            checkin = await ctx.session.get(Checkin, rnd.checkin_id) if rnd else None
            if rnd is None or checkin is None:
                continue
            mine = sorted(by_round.get(round_id, []), key=lambda a: a.question)
            entries.append((rnd, checkin, community, mine, notes.get(round_id, []), zone))
    if not entries:
        key = (
            "reflections.member.journal_empty_since"
            if since_raw
            else "reflections.member.journal_empty"
        )
        return Respond(Message(text=ctx.t(key, since=since_raw or "")), private=True)
    entries.sort(key=lambda e: (max([a.updated_at for a in e[3]] or [e[0].opens_at]), e[0].id))
    entries.reverse()
    shown = entries[:MAX_ROUNDS]
    blocks: list[Section | Small] = [Section.of(ctx.t("reflections.member.journal_title"))]
    for rnd, checkin, community, mine, noted, zone in shown:
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
        blocks.append(Section.of("\n".join([*lines, *noted])))
    if len(entries) > MAX_ROUNDS:
        blocks.append(Small(parts=[ctx.t("reflections.member.journal_more", shown=MAX_ROUNDS)]))
    text = "\n".join(plain(b.parts) for b in blocks)
    return Respond(Message(text=text, blocks=list(blocks)), private=True)


async def _notes(
    ctx: Context, community_id: int, member_id: int, since: datetime | None
) -> dict[int, list[str]]:
    """The member's notes on how their commitments went, as journal lines by round."""
    query = select(CheckinCommitment).where(
        col(CheckinCommitment.community_id) == community_id,
        col(CheckinCommitment.member_id) == member_id,
        col(CheckinCommitment.note_sealed).is_not(None),
        col(CheckinCommitment.round_id).is_not(None),
    )
    if since is not None:
        query = query.where(col(CheckinCommitment.checked_at) >= since)
    notes: dict[int, list[str]] = {}
    for c in (await ctx.session.execute(query.order_by(col(CheckinCommitment.id)))).scalars():
        assert c.round_id is not None and c.note_sealed is not None
        try:
            text = opened(ctx, c)
            note = ctx.services.sealer.open(c.note_sealed, f"commitment-note:{c.id}")
        except SealBroken:
            log.warning("commitment %s did not open", c.id)
            text = note = ctx.t("reflections.member.journal_unreadable")
        how = (
            c.status if c.status in (CommitmentStatus.TRIED, CommitmentStatus.NOT_YET) else "other"
        )
        line = ctx.t(f"reflections.member.journal_note.{how}", text=text, note=note)
        notes.setdefault(c.round_id, []).append(line)
    return notes
