"""Topic voting: polls with five methods, deadlines, reminders, results that feed the agenda.

A facilitator opens a poll (directly, or from topic intake in `voting_topics`); members vote
with buttons (single choice, approval) or a form (ranked, dots, score); the poll message is
edited in place through the outbox, bursts coalescing into one edit. A deadline closes the
poll through the scheduler (re-created from the rows at start); closing is idempotent and
posts the result once per close, keyed ``poll:{id}:result:{n}``. Counting is a pure function
of the stored ballots (`voting_ballots.tally`). Logs name kinds and ids, never ballots.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.commands import Param, Role
from bot.context import Context, UserError, channel_of, require
from bot.deadlines import DeadlineError, parse_deadline, parse_offset
from bot.events import FormSubmitted
from bot.features.voting.ballots import (
    Choice,
    decode,
    tally,
)
from bot.features.voting.render import (
    Standing,
    poll_message,
)
from bot.features.voting.tally import Method
from bot.i18n import translator
from bot.ports import Audience
from bot.ui import Message
from storage.models import Community, Member, MemberRole
from storage.voting import Ballot, Poll, PollOption

log = logging.getLogger(__name__)

MAX_OPTIONS = 25
MIN_OPTIONS = 2
MAX_LABEL = 100
MAX_QUESTION = 300
BUTTON_METHODS = (Method.SINGLE, Method.APPROVAL)  # one button per option
EDIT_DELAY = timedelta(seconds=2)  # ballots arriving within it become one edit of the poll


# -- loading -----------------------------------------------------------------------------------


async def options_of(session: AsyncSession, poll_id: int) -> list[PollOption]:
    rows = await session.execute(
        select(PollOption)
        .where(col(PollOption.poll_id) == poll_id)
        .order_by(col(PollOption.position))
    )
    return list(rows.scalars())


async def ballots_of(session: AsyncSession, poll: Poll) -> list[Choice]:
    rows = await session.execute(
        select(col(Ballot.choices))
        .where(col(Ballot.poll_id) == poll.id, col(Ballot.community_id) == poll.community_id)
        .order_by(col(Ballot.id))
    )
    return [decode(raw) for raw in rows.scalars()]


async def member_count(session: AsyncSession, community_id: int) -> int:
    return (
        await session.execute(
            select(func.count())
            .select_from(Member)
            .where(col(Member.community_id) == community_id, col(Member.role) != MemberRole.LEFT)
        )
    ).scalar_one()


async def poll_for_command(ctx: Context, *, status: str | None = None) -> Poll:
    """The poll named by the ``poll`` parameter in this community, else the latest one.

    `status` narrows "the latest" (``open`` for close, ``closed`` for reopen).
    """
    community = ctx.require_community()
    raw = ctx.params.get("poll")
    if raw:
        poll = await ctx.session.get(Poll, int(raw))
        if poll is None or poll.community_id != community.id:
            raise UserError(ctx.t("voting.refuse.no_poll", id=raw))
        return poll
    query = select(Poll).where(col(Poll.community_id) == community.id)
    if status:
        query = query.where(col(Poll.status) == status)
    poll = (
        await ctx.session.execute(query.order_by(col(Poll.id).desc()).limit(1))
    ).scalar_one_or_none()
    if poll is None:
        key = {"open": "voting.refuse.no_open", "closed": "voting.refuse.no_closed"}.get(
            status or "", "voting.refuse.no_polls"
        )
        raise UserError(ctx.t(key))
    return poll


async def poll_for_interaction(ctx: Context, poll_id: int, role: Role = Role.MEMBER) -> Poll:
    """Load a poll from a button or form, enter its community (never the channel's) and check role.

    Whether a non-member pressing in the community's channel joins is the action's own
    declaration (`Action.joins`); anyone else is refused.
    """
    poll = await ctx.session.get(Poll, poll_id)
    if poll is None:
        form = isinstance(ctx.event, FormSubmitted)
        raise UserError(ctx.t("core.refuse.stale_form" if form else "core.refuse.stale_button"))
    await ctx.enter(poll.community_id)
    require(ctx, role)
    return poll


def check_open(ctx: Context, poll: Poll) -> None:
    closes = poll.closes_at
    if poll.status != "open" or (closes is not None and closes <= ctx.now):
        raise UserError(ctx.t("voting.refuse.closed", question=poll.question[:80]))


# -- the poll message --------------------------------------------------------------------------


def audience_of(ctx: Context, community: Community) -> Audience | None:
    """The channel's audience as last counted outside a transaction (`bot.audience`)."""
    return ctx.services.audiences.known(channel_of(community))


async def turnout_base(
    session: AsyncSession, community_id: int, voted: int, audience: Audience | None
) -> tuple[int, str]:
    """(how many could vote, which count that is): the platform's count, else known members.

    Never fewer than `voted`: someone who left the channel after voting still voted.
    """
    if audience is not None:
        return max(audience.count, voted), audience.kind.value
    return max(await member_count(session, community_id), voted), "known"


async def standing(
    session: AsyncSession,
    poll: Poll,
    options: Sequence[PollOption],
    audience: Audience | None = None,
) -> Standing:
    ballots = await ballots_of(session, poll)
    members, counted = await turnout_base(session, poll.community_id, len(ballots), audience)
    shown = poll.live or poll.status == "closed"
    result = tally(Method(poll.method), [o.id for o in options], ballots) if shown else None
    return Standing(voted=len(ballots), members=members, result=result, counted=counted)


async def render_poll(
    session: AsyncSession, poll: Poll, community: Community, audience: Audience | None = None
) -> Message:
    options = await options_of(session, poll.id)
    now = await standing(session, poll, options, audience)
    return poll_message(translator(community.language), poll, options, now, community.timezone)


async def refresh_poll_message(
    ctx: Context, poll: Poll, community: Community, *, delay: timedelta = EDIT_DELAY
) -> None:
    """Queue an in-place edit of the poll message; a burst within `delay` becomes one edit."""
    if ctx.session.get_bind().dialect.name == "postgresql":
        # Simultaneous ballots each render the poll: without this lock the last edit written
        # may be one rendered before another ballot committed, and the channel keeps showing
        # a stale count. The lock takes them one at a time from here, and (read committed)
        # each renders after the ones before it committed. NO KEY UPDATE, because a ballot
        # insert holds KEY SHARE on its poll; FOR UPDATE would deadlock two ballots.
        await ctx.session.get(Poll, poll.id, with_for_update={"key_share": True})
    await ctx.outbox.enqueue_edit(
        edit_of=f"poll:{poll.id}:message",
        platform=community.platform,
        workspace_id=community.workspace_id,
        message=await render_poll(ctx.session, poll, community, audience_of(ctx, community)),
        community_id=community.id,
        delay=delay,
    )


REFRESH_KIND = "poll.refresh"


async def queue_refresh(ctx: Context, poll: Poll) -> None:
    """After a ballot: redraw the poll's counts within `EDIT_DELAY`, in a job of its own.

    The voter's transaction only writes the ballot and this job row (a no-op while a
    refresh is pending), so a vote costs the same whether the poll has 5 ballots or 5,000;
    reading and counting them all happens once per burst, in `refresh_job`.
    """
    await ctx.schedule.soon(
        f"poll-refresh:{poll.id}", ctx.now + EDIT_DELAY, REFRESH_KIND, [poll.id]
    )


async def refresh_job(ctx: Context, poll_id: int) -> None:
    """Queue the edit of the poll message with its counts as they are now."""
    poll = await ctx.session.get(Poll, int(poll_id))
    if poll is None:
        return
    community = await ctx.session.get(Community, poll.community_id)
    if community is None:
        return
    await refresh_poll_message(ctx, poll, community, delay=timedelta(0))


# -- creating ----------------------------------------------------------------------------------

YES = ("yes", "no")
POLL_PARAMS = (
    Param(
        "method",
        "voting.param.method",
        choices=tuple(m.value for m in Method),
        required=False,
        keyword=True,
    ),
    Param("closes", "voting.param.closes", required=False, keyword=True, max_length=60),
    Param("anonymous", "voting.param.anonymous", choices=YES, required=False, keyword=True),
    Param(
        "results", "voting.param.results", choices=("live", "hidden"), required=False, keyword=True
    ),
    Param("change", "voting.param.change", choices=YES, required=False, keyword=True),
    Param("quorum", "voting.param.quorum", kind="int", required=False, keyword=True),
    Param("max", "voting.param.max", kind="int", required=False, keyword=True),
    Param("dots", "voting.param.dots", kind="int", required=False, keyword=True),
    Param("remind", "voting.param.remind", required=False, keyword=True, max_length=40),
)


def split_options(ctx: Context, raw: str) -> list[str]:
    """``A | B | C`` (or ``;`` or new lines) -> labels; 2..25, each at most 100 characters, no repeats."""
    labels = [p.strip() for p in raw.replace(";", "|").replace("\n", "|").split("|")]
    labels = [label for label in labels if label]
    seen: set[str] = set()
    for label in labels:
        if len(label) > MAX_LABEL:
            raise UserError(ctx.t("voting.refuse.option_long", max=MAX_LABEL, option=label[:30]))
        if label.casefold() in seen:
            raise UserError(ctx.t("voting.refuse.option_twice", option=label[:60]))
        seen.add(label.casefold())
    check_option_count(ctx, len(labels))
    return labels


def check_option_count(ctx: Context, n: int) -> None:
    if not MIN_OPTIONS <= n <= MAX_OPTIONS:
        raise UserError(ctx.t("voting.refuse.option_count", min=MIN_OPTIONS, max=MAX_OPTIONS, n=n))


def read_deadline(ctx: Context, text: str) -> datetime:
    """`text` as an instant in the community's zone, or one sentence saying why not."""
    community = ctx.require_community()
    try:
        return parse_deadline(text, ctx.now, community.timezone)
    except DeadlineError as err:
        raise UserError(ctx.t(f"voting.deadline.{err.code}", text=text[:60])) from None


def build_poll(ctx: Context, question: str, n_options: int) -> Poll:
    """A poll from the typed settings (not yet added); every bad value is one sentence."""
    community = ctx.require_community()
    p = ctx.params
    method = Method(p.get("method") or "single")
    anonymous = p.get("anonymous") == "yes"
    # Live counts of an anonymous poll could tie a vote to a voter by timing, so they are hidden
    # unless asked for.
    live = p.get("results", "hidden" if anonymous else "live") == "live"
    if method in BUTTON_METHODS and n_options > ctx.capabilities.max_buttons:
        most = ctx.capabilities.max_buttons
        raise UserError(ctx.t("voting.refuse.too_many_buttons", max=most, n=n_options))
    poll = Poll(
        community_id=community.id,
        question=question[:MAX_QUESTION],
        method=method.value,
        anonymous=anonymous,
        live=live,
        allow_change=p.get("change", "yes") == "yes",
        created_by=ctx.actor.user.user_id,
        created_at=ctx.now,
    )
    if "quorum" in p:
        quorum = int(p["quorum"])
        if not 1 <= quorum <= 100_000:
            raise UserError(ctx.t("voting.refuse.quorum"))
        poll.quorum = quorum
    if "max" in p:
        if method is not Method.APPROVAL:
            raise UserError(ctx.t("voting.refuse.max_not_approval"))
        most = int(p["max"])
        if not 1 <= most <= n_options:
            raise UserError(ctx.t("voting.refuse.max_range", n=n_options))
        poll.max_choices = most
    if method is Method.DOT:
        dots = int(p.get("dots", "3"))
        if not 1 <= dots <= 99:
            raise UserError(ctx.t("voting.refuse.dots_range"))
        poll.dots = dots
    elif "dots" in p:
        raise UserError(ctx.t("voting.refuse.dots_not_dot"))
    if p.get("closes"):
        poll.closes_at = read_deadline(ctx, p["closes"])
    if p.get("remind"):
        if poll.closes_at is None:
            raise UserError(ctx.t("voting.refuse.remind_needs_deadline"))
        try:
            before = parse_offset(p["remind"])
        except DeadlineError:
            raise UserError(
                ctx.t("voting.refuse.remind_unreadable", text=p["remind"][:40])
            ) from None
        if poll.closes_at - before <= ctx.now:
            raise UserError(ctx.t("voting.refuse.remind_too_late"))
        poll.remind_before = int(before.total_seconds() // 60)
    return poll


async def open_poll(
    ctx: Context, poll: Poll, labels: Sequence[str], topic_ids: Sequence[int | None] = ()
) -> Poll:
    """Store the poll and its options, post its message, schedule its close and reminder."""
    community = ctx.require_community()
    ctx.session.add(poll)
    await ctx.session.flush()
    topics = list(topic_ids) or [None] * len(labels)
    for position, (label, topic_id) in enumerate(zip(labels, topics, strict=True), 1):
        ctx.session.add(
            PollOption(
                poll_id=poll.id,
                community_id=community.id,
                position=position,
                label=label[:MAX_LABEL],
                topic_id=topic_id,
            )
        )
    await ctx.session.flush()
    await ctx.outbox.enqueue(
        key=f"poll:{poll.id}:message",
        to=ctx.channel(),
        message=await render_poll(ctx.session, poll, community, audience_of(ctx, community)),
        community_id=community.id,
    )
    await schedule_jobs(ctx, poll)
    log.info("poll %s opened in community %s (%s)", poll.id, community.id, poll.method)
    return poll


async def schedule_jobs(ctx: Context, poll: Poll) -> None:
    """(Re)create the close and reminder jobs of an open poll; stable ids make this idempotent."""
    if poll.status != "open" or poll.closes_at is None:
        return
    assert poll.id is not None
    await ctx.schedule.at(
        f"poll-close:{poll.id}",
        poll.closes_at,
        "poll.close",
        [poll.id],
        community_id=poll.community_id,
    )
    if poll.remind_before and not poll.reminded:
        when = poll.closes_at - timedelta(minutes=poll.remind_before)
        if when > ctx.now:
            await ctx.schedule.at(
                f"poll-remind:{poll.id}",
                when,
                "poll.remind",
                [poll.id],
                community_id=poll.community_id,
            )


async def unschedule(ctx: Context, poll_id: int) -> None:
    await ctx.schedule.cancel(f"poll-close:{poll_id}")
    await ctx.schedule.cancel(f"poll-remind:{poll_id}")
    await ctx.schedule.cancel(f"poll-refresh:{poll_id}")
