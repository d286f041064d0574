"""Closing polls and what follows: the result (once per close), reminders, reopening,
results on demand, the CSV export, and sending the winner to the agenda.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.commands import Role
from bot.context import Context, Services, UserError, background, channel_of
from bot.events import Reply, Respond
from bot.features.voting.ballots import (
    Choice,
    decode,
    tally,
)
from bot.features.voting.files import export_files, result_chart
from bot.features.voting.polls import (
    audience_of,
    ballots_of,
    options_of,
    poll_for_command,
    poll_for_interaction,
    read_deadline,
    refresh_poll_message,
    schedule_jobs,
    turnout_base,
    unschedule,
)
from bot.features.voting.render import (
    reminder_message,
    result_lines,
    result_message,
)
from bot.features.voting.tally import IrvResult, Method, TotalsResult
from bot.hooks import TopicChosen
from bot.i18n import Translator, translator
from bot.languages import fan_out_each
from bot.ui import Message, Section
from storage.models import Community, Member, MemberRole
from storage.voting import Ballot, Poll, PollOption, Topic

log = logging.getLogger(__name__)

# -- closing -----------------------------------------------------------------------------------


async def close_poll(ctx: Context, poll_id: int) -> bool:
    """Close an open poll and post its result once; False (and nothing done) if it was closed.

    The conditional update lets exactly one closer win, whether job, command or a job that
    fires twice; the result's outbox key carries the close number, so a reopened poll gets
    a new result when it closes again and a repeated close never a second one.
    """
    now, session = ctx.now, ctx.session
    won = await session.execute(
        update(Poll)
        .where(col(Poll.id) == poll_id, col(Poll.status) == "open")
        .values(status="closed", closed_at=now, closed_count=col(Poll.closed_count) + 1)
        .returning(col(Poll.closed_count))
    )
    number = won.scalar_one_or_none()
    if number is None:
        return False
    poll = (
        await session.execute(
            select(Poll).where(col(Poll.id) == poll_id).execution_options(populate_existing=True)
        )
    ).scalar_one()
    community = await session.get(Community, poll.community_id)
    assert community is not None
    t = translator(community.language)
    options = await options_of(session, poll_id)
    ballots = await ballots_of(session, poll)
    result = tally(Method(poll.method), [o.id for o in options], ballots)
    poll.winner_option_id = result.winner
    session.add(poll)
    await _to_backlog(session, options, result)
    members, counted = await turnout_base(
        session, community.id, len(ballots), audience_of(ctx, community)
    )
    chart = result_chart(t, poll, options, result, len(ballots))
    await ctx.outbox.enqueue(
        key=f"poll:{poll_id}:result:{number}",
        to=channel_of(community),
        message=result_message(t, poll, options, result, len(ballots), members, chart, counted),
        community_id=community.id,
    )
    await refresh_poll_message(ctx, poll, community, delay=timedelta(0))
    log.info("poll %s closed (close %d, %d ballots)", poll_id, number, len(ballots))
    return True


async def _to_backlog(
    session: AsyncSession, options: Sequence[PollOption], result: TotalsResult | IrvResult
) -> None:
    """Topics on a closed poll go back to the backlog carrying their support."""
    if isinstance(result, IrvResult):
        support = result.rounds[0].counts if result.rounds else {}
    else:
        support = result.totals
    for option in options:
        if option.topic_id is None:
            continue
        topic = await session.get(Topic, option.topic_id)
        if topic is not None and topic.status == "voting":
            topic.status = "backlog"
            topic.support = support.get(option.id, 0)
            session.add(topic)


async def close_job(ctx: Context, poll_id: int) -> None:
    """Scheduled at the poll's deadline; harmless when the poll is already closed."""
    if await close_poll(ctx, int(poll_id)):
        await ctx.schedule.cancel(f"poll-remind:{poll_id}")


async def remind_job(ctx: Context, poll_id: int) -> None:
    """Once, privately, to members who have not voted; nobody is named anywhere."""
    session = ctx.session
    marked = await session.execute(
        update(Poll)
        .where(
            col(Poll.id) == int(poll_id), col(Poll.status) == "open", col(Poll.reminded).is_(False)
        )
        .values(reminded=True)
        .returning(col(Poll.id))
    )
    if marked.scalar_one_or_none() is None:
        return
    poll = await session.get(Poll, int(poll_id))
    assert poll is not None
    community = await session.get(Community, poll.community_id)
    assert community is not None
    voted = select(col(Ballot.member_id)).where(
        col(Ballot.poll_id) == poll.id, col(Ballot.member_id).is_not(None)
    )
    waiting = (
        await session.execute(
            select(Member)
            .where(
                col(Member.community_id) == community.id,
                col(Member.role) != MemberRole.LEFT,
                col(Member.id).not_in(voted),
            )
            .order_by(col(Member.id))
        )
    ).scalars()
    options = await options_of(session, poll.id)

    def compose(t: Translator) -> Message:
        return reminder_message(t, poll, options, community.name, community.timezone)

    # DMs: each in the member's own language.
    sent = await fan_out_each(
        ctx, key=f"poll:{poll.id}:remind", community=community, members=waiting, compose=compose
    )
    log.info("poll %s: reminded %d members", poll.id, sent)


async def reconcile(services: Services) -> None:
    """After start, in the background: re-create the missing jobs of open polls with a deadline."""
    async with background(services) as ctx:
        polls = list(
            (
                await ctx.session.execute(
                    select(Poll).where(col(Poll.status) == "open", col(Poll.closes_at).is_not(None))
                )
            ).scalars()
        )
        have = await ctx.schedule.exists([f"poll-close:{p.id}" for p in polls])
        missing = [p for p in polls if f"poll-close:{p.id}" not in have]
        for poll in missing:
            await schedule_jobs(ctx, poll)
    if missing:
        log.info("re-created the jobs of %d open polls", len(missing))


async def close(ctx: Context) -> Reply:
    poll = await poll_for_command(ctx, status="open")
    if poll.status != "open":
        raise UserError(ctx.t("voting.refuse.already_closed", id=poll.id))
    assert poll.id is not None
    await close_poll(ctx, poll.id)
    await unschedule(ctx, poll.id)
    return Respond(Message(text=ctx.t("voting.closed_now", id=poll.id)))


async def reopen(ctx: Context) -> Reply:
    poll = await poll_for_command(ctx, status="closed")
    if poll.status == "open":
        raise UserError(ctx.t("voting.refuse.already_open", id=poll.id))
    poll.status = "open"
    poll.closed_at = None
    poll.winner_option_id = None
    poll.closes_at = read_deadline(ctx, ctx.params["closes"]) if ctx.params.get("closes") else None
    poll.reminded = True  # a reminder goes out once per poll, never again after reopening
    ctx.session.add(poll)
    for option in await options_of(ctx.session, poll.id):
        topic = await ctx.session.get(Topic, option.topic_id) if option.topic_id else None
        if topic is not None and topic.status == "backlog":
            topic.status = "voting"
            ctx.session.add(topic)
    await ctx.session.flush()
    community = ctx.require_community()
    await refresh_poll_message(ctx, poll, community, delay=timedelta(0))
    await schedule_jobs(ctx, poll)
    log.info("poll %s reopened", poll.id)
    return Respond(
        Message(text=ctx.t_channel("voting.reopened", id=poll.id, question=poll.question)),
        private=False,
    )


async def results(ctx: Context) -> Reply:
    """The count so far (live polls) or the result; names who voted, never who chose what."""
    poll = await poll_for_command(ctx)
    if poll.status == "open" and not poll.live:
        raise UserError(ctx.t("voting.refuse.hidden"))
    options = await options_of(ctx.session, poll.id)
    ballots = await ballots_of(ctx.session, poll)
    result = tally(Method(poll.method), [o.id for o in options], ballots)
    community = ctx.require_community()
    members, counted = await turnout_base(
        ctx.session, poll.community_id, len(ballots), audience_of(ctx, community)
    )
    lines = result_lines(ctx.t, poll, options, result, len(ballots), members, counted)
    if poll.status == "open":
        lines[0] = ctx.t("voting.result.so_far", id=poll.id, question=poll.question)
    voters = (
        await ctx.session.execute(
            select(col(Member.display_name))
            .join(Ballot, col(Ballot.member_id) == col(Member.id))
            .where(col(Ballot.poll_id) == poll.id)
            .order_by(col(Member.display_name))
        )
    ).scalars()
    names = ", ".join(voters)
    if names:
        lines.append(ctx.t("voting.result.voters", names=names))
    text = "\n".join(lines)
    return Respond(Message(text=text, blocks=[Section.of(text)]))


async def export(ctx: Context) -> Reply:
    """The poll as CSV files (totals, rounds, ballots), sent where only the facilitator sees them.

    From a DM the files are the answer; from a channel they go to the facilitator's DMs, since
    a private reply cannot carry files everywhere (Slack). Anonymous polls have no ballots file.
    """
    poll = await poll_for_command(ctx)
    if poll.status == "open" and not poll.live:
        raise UserError(ctx.t("voting.refuse.hidden"))
    options = await options_of(ctx.session, poll.id)
    ballots = await ballots_of(ctx.session, poll)
    result = tally(Method(poll.method), [o.id for o in options], ballots)
    voters: list[tuple[str, Choice]] | None = None
    if not poll.anonymous:
        found = await ctx.session.execute(
            select(col(Ballot.choices), col(Member.display_name))
            .outerjoin(Member, col(Member.id) == col(Ballot.member_id))
            .where(col(Ballot.poll_id) == poll.id)
            .order_by(col(Member.display_name), col(Ballot.id))
        )
        voters = [(name or ctx.t("voting.export.left"), decode(raw)) for raw, name in found]
    files = export_files(ctx.t, poll, options, result, voters)
    log.info("poll %s exported (%s)", poll.id, "totals only" if poll.anonymous else "with ballots")
    lines = [
        ctx.t("voting.exported", id=poll.id, question=poll.question, ballots=len(ballots)),
        ", ".join(f.filename for f in files),
    ]
    if poll.anonymous:
        lines.append(ctx.t("voting.export.anonymous"))
    text = "\n".join(lines)
    message = Message(text=text, blocks=[Section.of(text), *files])
    if ctx.place.is_dm:
        return Respond(message, private=False)  # a DM: nobody else is there to see it
    user = ctx.actor.user
    await ctx.outbox.enqueue(
        key=f"poll:{poll.id}:export:{user.platform}:{user.workspace_id}:{user.user_id}:"
        f"{ctx.now.isoformat()}",
        to=user,
        message=message,
        community_id=poll.community_id,
    )
    return Respond(Message(text=ctx.t("voting.export.sent", id=poll.id)))


async def send_to_agenda(ctx: Context, poll: Poll) -> Reply:
    """Store the winner as the community's next topic and tell the meetings feature."""
    if poll.status != "closed":
        raise UserError(ctx.t("voting.refuse.still_open", id=poll.id))
    if poll.winner_option_id is None:
        raise UserError(ctx.t("voting.refuse.no_winner"))
    option = await ctx.session.get(PollOption, poll.winner_option_id)
    community = ctx.require_community()
    assert option is not None
    title = option.label[:200]
    if community.next_topic == title:
        raise UserError(ctx.t("voting.refuse.already_next", title=title))
    community.next_topic = title
    ctx.session.add(community)
    if option.topic_id is not None:
        topic = await ctx.session.get(Topic, option.topic_id)
        if topic is not None:
            topic.status = "chosen"
            ctx.session.add(topic)
    assert community.id is not None
    await ctx.emit("topic.chosen", TopicChosen(community.id, title))
    log.info("poll %s winner sent to the agenda of community %s", poll.id, community.id)
    return Respond(
        Message(text=ctx.t_channel("voting.next_topic_set", name=community.name, title=title)),
        private=False,
    )


async def agenda(ctx: Context) -> Reply:
    return await send_to_agenda(ctx, await poll_for_command(ctx, status="closed"))


async def agenda_button(ctx: Context) -> Reply:
    poll = await poll_for_interaction(ctx, ctx.action.int_arg(0), Role.FACILITATOR)
    return await send_to_agenda(ctx, poll)


async def list_polls(ctx: Context) -> Reply:
    community = ctx.require_community()
    polls = (
        await ctx.session.execute(
            select(Poll)
            .where(col(Poll.community_id) == community.id)
            .order_by(col(Poll.id).desc())
            .limit(10)
        )
    ).scalars()
    lines = [ctx.t("voting.list.title", name=community.name)]
    for poll in polls:
        state = ctx.t(f"voting.list.{poll.status}")
        lines.append(
            ctx.t(
                "voting.list.line",
                id=poll.id,
                question=poll.question,
                state=state,
                method=ctx.t(f"voting.method.{poll.method}"),
            )
        )
    if len(lines) == 1:
        lines.append(ctx.t("voting.list.none"))
    return Respond(Message(text="\n".join(lines)))
