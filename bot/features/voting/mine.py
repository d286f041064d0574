"""The open polls of one community as its member sees them: deadline, and whether they voted.

This is what ``/cop poll list`` shows for each community when asked in a DM (`bot.across`),
where a person looks across their groups for what is still waiting for their vote.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from bot.context import Context
from bot.events import Reply, Respond
from bot.ui import Inline, Message, Section, plain
from storage.voting import Ballot, Poll

OPEN_SHOWN = 10  # per community, as many as the channel list shows


async def open_polls(ctx: Context) -> Reply:
    """The current community's open polls, newest first, each with its deadline and your ballot."""
    community = ctx.require_community()
    polls = list(
        (
            await ctx.session.execute(
                select(Poll)
                .where(col(Poll.community_id) == community.id, col(Poll.status) == "open")
                .order_by(col(Poll.id).desc())
                .limit(OPEN_SHOWN)
            )
        ).scalars()
    )
    voted: set[int] = set()
    if polls and ctx.member is not None:
        voted = set(
            (
                await ctx.session.execute(
                    select(col(Ballot.poll_id)).where(
                        col(Ballot.poll_id).in_([p.id for p in polls]),
                        col(Ballot.member_id) == ctx.member.id,
                    )
                )
            ).scalars()
        )
    blocks = [Section.of(ctx.t("voting.mine.title"))]
    for poll in polls:
        how = "voted" if poll.id in voted else "not_voted"
        parts: list[Inline]
        if poll.closes_at is not None:
            parts = ctx.t.parts(
                f"voting.mine.closes_{how}",
                id=poll.id,
                question=poll.question,
                when=ctx.t.moment(poll.closes_at, community.timezone),
            )
        else:
            parts = [ctx.t(f"voting.mine.open_{how}", id=poll.id, question=poll.question)]
        blocks.append(Section(parts=parts))
    if not polls:
        blocks.append(Section.of(ctx.t("voting.mine.none")))
    return Respond(Message(text="\n".join(plain(b.parts) for b in blocks), blocks=blocks))
