"""The reflections part of the digest (the ``digest.sections`` hook): which check-in answers
were shared with the group since the last digest, round by round, with the names of those who
shared with their name and only a count of those who shared anonymously.

The digest points to the round's thread and never copies an answer's text: an answer its
author takes back (or erases with their data) leaves the thread's post, and nothing of it
stays in a digest. Private answers and answers shared with the facilitators only are never
counted, not even in a digest asked for by their author.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context
from bot.hooks import DigestSections
from bot.i18n import translator
from bot.ui import Block, Section
from storage.models import Member
from storage.reflections import Checkin, CheckinAnswer, CheckinRound, Privacy

SHARED_WITH_GROUP = (Privacy.NAMED, Privacy.ANONYMOUS)


async def digest_sections(ctx: Context, asked: DigestSections) -> list[Block]:
    rows = await ctx.session.execute(
        select(CheckinAnswer, CheckinRound, Checkin, Member)
        .join(CheckinRound, col(CheckinRound.id) == col(CheckinAnswer.round_id))
        .join(Checkin, col(Checkin.id) == col(CheckinRound.checkin_id))
        .join(Member, col(Member.id) == col(CheckinAnswer.member_id))
        .where(
            col(CheckinAnswer.community_id) == asked.community_id,
            col(CheckinAnswer.privacy).in_(SHARED_WITH_GROUP),
            col(CheckinAnswer.shared_at) >= asked.since,
            col(CheckinAnswer.shared_at) < asked.until,
        )
        .order_by(col(CheckinRound.opens_at), col(Member.display_name))
    )
    rounds: dict[int, tuple[Checkin, CheckinRound, list[str], set[int]]] = {}
    for answer, rnd, checkin, member in rows.all():
        _, _, names, anonymous = rounds.setdefault(rnd.id, (checkin, rnd, [], set()))
        if answer.privacy == Privacy.NAMED:
            if member.display_name not in names:
                names.append(member.display_name)
        else:
            anonymous.add(answer.member_id)  # people, not answers: counted once each
    if not rounds:
        return []
    t = translator(asked.language)
    lines = [t("digest.reflections.title")]
    for checkin, rnd, names, anonymous in rounds.values():
        values = {
            "title": checkin.title,
            "round": rnd.number,
            "names": ", ".join(names),
            "anonymous": len(anonymous),
        }
        kind = "both" if names and anonymous else "named" if names else "anonymous"
        lines.append(t(f"digest.reflections.{kind}", **values))
    return [Section.of("\n".join(lines))]
