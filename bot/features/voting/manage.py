"""Changing and deleting a posted poll: ``/cop poll edit`` and ``/cop poll delete``.

An edit changes only what is given (question, options, deadline, quorum) and edits the poll
message in place; options change only while no ballot is cast, since a ballot names options.
A deadline change re-plans the close job and the close reminder. Deleting asks first (a
facilitator's "Delete poll" button) and keeps nothing: the poll, its options, ballots, jobs
and unsent messages go; posted messages say "This poll was deleted." instead.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlmodel import col

from bot.commands import Role
from bot.context import Context, UserError
from bot.events import Reply, Respond
from bot.features.voting.polls import (
    BUTTON_METHODS,
    MAX_LABEL,
    MAX_QUESTION,
    options_of,
    poll_for_command,
    poll_for_interaction,
    read_deadline,
    refresh_poll_message,
    schedule_jobs,
    split_options,
    unschedule,
)
from bot.features.voting.tally import Method
from bot.ui import ActionId, Actions, Button, Message, Section
from storage.models import Community, OutboxMessage
from storage.voting import Ballot, Poll, PollOption, Topic

log = logging.getLogger(__name__)

EDITABLE = ("question", "options", "closes", "quorum")


async def edit(ctx: Context) -> Reply:
    """Change what is given; one sentence and no change for anything that may not change."""
    p = ctx.params
    if not any(p.get(name) for name in EDITABLE):
        raise UserError(ctx.t("voting.refuse.edit_nothing_given"))
    poll = await poll_for_command(ctx)
    if poll.status != "open" or (poll.closes_at is not None and poll.closes_at <= ctx.now):
        raise UserError(ctx.t("voting.refuse.edit_closed", id=poll.id))
    community = ctx.require_community()
    changed = False
    question = p.get("question", "").strip()[:MAX_QUESTION]
    if question and question != poll.question:
        poll.question = question
        changed = True
    if p.get("options"):
        changed = await _edit_options(ctx, poll, split_options(ctx, p["options"])) or changed
    deadline_moved = False
    if p.get("closes"):
        closes = read_deadline(ctx, p["closes"])
        if closes != poll.closes_at:
            poll.closes_at = closes
            changed = deadline_moved = True
    if p.get("quorum"):
        quorum = int(p["quorum"])
        if not 1 <= quorum <= 100_000:
            raise UserError(ctx.t("voting.refuse.quorum"))
        if quorum != poll.quorum:
            poll.quorum = quorum
            changed = True
    if not changed:
        raise UserError(ctx.t("voting.refuse.edit_unchanged", id=poll.id))
    ctx.session.add(poll)
    await ctx.session.flush()
    if deadline_moved:
        await unschedule(ctx, poll.id)
        await schedule_jobs(ctx, poll)
    await refresh_poll_message(ctx, poll, community, delay=timedelta(0))
    log.info("poll %s edited", poll.id)
    return Respond(Message(text=ctx.t("voting.edited", id=poll.id)))


async def _edit_options(ctx: Context, poll: Poll, labels: list[str]) -> bool:
    """Replace the options (same limits as ``poll new``); refused once a ballot is cast.

    An option kept by label keeps its row (and its topic); a removed topic goes back to the
    backlog. Returns whether anything changed.
    """
    options = await options_of(ctx.session, poll.id)
    if [o.label for o in options] == labels:
        return False
    ballots = (
        await ctx.session.execute(
            select(func.count()).select_from(Ballot).where(col(Ballot.poll_id) == poll.id)
        )
    ).scalar_one()
    if ballots:
        raise UserError(ctx.t("voting.refuse.edit_options_voted", id=poll.id, n=ballots))
    method = Method(poll.method)
    most = ctx.capabilities.max_buttons
    if method in BUTTON_METHODS and len(labels) > most:
        raise UserError(ctx.t("voting.refuse.too_many_buttons", max=most, n=len(labels)))
    if poll.max_choices and poll.max_choices > len(labels):
        raise UserError(ctx.t("voting.refuse.max_range", n=len(labels)))
    by_label = {o.label.casefold(): o for o in options}
    kept: list[PollOption] = []
    for label in labels:
        option = by_label.pop(label.casefold(), None)
        kept.append(
            option
            if option is not None
            else PollOption(
                poll_id=poll.id,
                community_id=poll.community_id,
                position=0,
                label=label[:MAX_LABEL],
            )
        )
    for gone in by_label.values():
        await _topic_to_backlog(ctx, gone)
        await ctx.session.delete(gone)
    await ctx.session.flush()
    for position, (option, label) in enumerate(zip(kept, labels, strict=True), 1):
        option.position, option.label = position, label[:MAX_LABEL]
        ctx.session.add(option)
    await ctx.session.flush()
    return True


async def _topic_to_backlog(ctx: Context, option: PollOption) -> None:
    """A topic whose vote is undone goes back to the backlog with the support it had."""
    if option.topic_id is None:
        return
    topic = await ctx.session.get(Topic, option.topic_id)
    if topic is not None and topic.status == "voting":
        topic.status = "backlog"
        ctx.session.add(topic)


# -- deleting ----------------------------------------------------------------------------------


async def ask_delete(ctx: Context) -> Reply:
    """Ask before deleting: the buttons carry the poll's id; only a facilitator may press."""
    poll = await poll_for_command(ctx)
    text = ctx.t("voting.delete.confirm", id=poll.id, question=poll.question)
    buttons = [
        Button(
            action=ActionId("vote", "delete", poll.id),
            label=ctx.t("voting.button.delete"),
            style="danger",
        ),
        Button(action=ActionId("vote", "keep", poll.id), label=ctx.t("voting.button.keep")),
    ]
    return Respond(Message(text=text, blocks=[Section.of(text), Actions(elements=buttons)]))


async def _pressed_poll(ctx: Context) -> Poll:
    """The poll a confirmation button names; once deleted, its buttons are stale like any."""
    return await poll_for_interaction(ctx, ctx.action.int_arg(0), Role.FACILITATOR)


async def keep_button(ctx: Context) -> Reply:
    """The "Keep it" button: nothing changes."""
    poll = await _pressed_poll(ctx)
    return Respond(Message(text=ctx.t("voting.delete.kept", id=poll.id)))


async def delete_button(ctx: Context) -> Reply:
    """The "Delete poll" button: remove every row of the poll, say so where it was posted."""
    poll = await _pressed_poll(ctx)
    community = ctx.require_community()
    await delete_poll(ctx, poll, community)
    return Respond(Message(text=ctx.t("voting.delete.done", id=poll.id)))


async def delete_poll(ctx: Context, poll: Poll, community: Community) -> None:
    """The poll, options, ballots, jobs and unsent messages go; posted ones are overwritten.

    Sent rows of the outbox keep only the deletion notice (they are needed to edit the
    posted messages), so no question, option or count of the poll stays anywhere.
    """
    session = ctx.session
    poll_id = poll.id
    prefix = f"poll:{poll_id}:"
    for option in await options_of(session, poll_id):
        await _topic_to_backlog(ctx, option)
    await unschedule(ctx, poll_id)
    notice = Message(text=ctx.t_channel("voting.delete.notice"))  # replaces channel posts
    ours = col(OutboxMessage.key).startswith(prefix, autoescape=True)
    posted = list(
        (
            await session.execute(
                select(col(OutboxMessage.key)).where(
                    ours,
                    col(OutboxMessage.kind) == "channel",
                    or_(
                        col(OutboxMessage.status) == "sent", col(OutboxMessage.status) == "sending"
                    ),
                )
            )
        ).scalars()
    )
    await session.execute(
        delete(OutboxMessage)
        .where(ours, or_(col(OutboxMessage.status) != "sent", col(OutboxMessage.kind) == "edit"))
        .where(col(OutboxMessage.status) != "sending")
    )
    await session.execute(
        update(OutboxMessage).where(ours).values(payload=notice.model_dump_json())
    )
    for key in posted:
        await ctx.outbox.enqueue_edit(
            edit_of=key,
            platform=community.platform,
            workspace_id=community.workspace_id,
            message=notice,
            community_id=community.id,
        )
    poll.winner_option_id = None
    await session.flush()
    await session.execute(delete(Ballot).where(col(Ballot.poll_id) == poll_id))
    await session.execute(delete(PollOption).where(col(PollOption.poll_id) == poll_id))
    await session.execute(delete(Poll).where(col(Poll.id) == poll_id))
    log.info("poll %s deleted from community %s", poll_id, community.id)
