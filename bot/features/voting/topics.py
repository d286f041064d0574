"""Topic intake: a facilitator asks, members propose, the list becomes a vote.

One intake is open per community at a time. Members propose through a form (title and an
optional "why this matters to my practice"); facilitators merge duplicates, edit or drop a
proposal (the proposer is told privately), carry backlog topics in, and turn the list into a
poll. Topics that lose go to the backlog with their support.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.commands import Command, Param, Role
from bot.context import (
    Context,
    Services,
    UserError,
    background,
    channel_of,
    find_member,
    require,
)
from bot.events import FormErrors, FormSubmitted, OpenForm, Reply, Respond, UserRef
from bot.features.voting.polls import (
    MAX_QUESTION,
    POLL_PARAMS,
    build_poll,
    check_option_count,
    open_poll,
    read_deadline,
)
from bot.features.voting.render import intake_message, topic_line
from bot.i18n import Translator, translator
from bot.languages import member_t
from bot.text import clean, parse_id
from bot.ui import Form, Input, Message, Section, check_form
from storage.models import Community
from storage.voting import Topic, TopicIntake

log = logging.getLogger(__name__)

MAX_TITLE = 100
MAX_WHY = 500
MAX_PER_MEMBER = 10  # proposals per member per intake, so one person cannot flood the list


async def open_intake(ctx: Context) -> TopicIntake | None:
    community = ctx.require_community()
    return (
        await ctx.session.execute(
            select(TopicIntake)
            .where(col(TopicIntake.community_id) == community.id, col(TopicIntake.status) == "open")
            .order_by(col(TopicIntake.id).desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def proposals(session: AsyncSession, intake: TopicIntake) -> list[Topic]:
    """The intake's proposals still in play, in the order they were made."""
    rows = await session.execute(
        select(Topic)
        .where(
            col(Topic.community_id) == intake.community_id,
            col(Topic.intake_id) == intake.id,
            col(Topic.status).in_(("proposed", "voting")),
        )
        .order_by(col(Topic.id))
    )
    return list(rows.scalars())


async def refresh_intake(ctx: Context, intake: TopicIntake) -> None:
    """Edit the intake message in place (proposals are rare enough to need no coalescing)."""
    community = ctx.require_community()
    topics = await proposals(ctx.session, intake)
    message = intake_message(ctx.t_channel, intake, topics, community.timezone, ctx.now)
    await ctx.outbox.enqueue_edit(
        edit_of=f"intake:{intake.id}:message",
        platform=community.platform,
        workspace_id=community.workspace_id,
        message=message,
        community_id=community.id,
    )


async def open_(ctx: Context) -> Reply:
    community = ctx.require_community()
    if await open_intake(ctx) is not None:
        raise UserError(ctx.t("voting.refuse.intake_open"))
    intake = TopicIntake(
        community_id=community.id,
        prompt=ctx.params["prompt"][:MAX_QUESTION],
        opened_by=ctx.actor.user.user_id,
        created_at=ctx.now,
    )
    if ctx.params.get("closes"):
        intake.closes_at = read_deadline(ctx, ctx.params["closes"])
    ctx.session.add(intake)
    await ctx.session.flush()
    await ctx.outbox.enqueue(
        key=f"intake:{intake.id}:message",
        to=ctx.channel(),
        message=intake_message(ctx.t_channel, intake, [], community.timezone),
        community_id=community.id,
    )
    log.info("intake %s opened in community %s", intake.id, community.id)
    if intake.closes_at is not None:
        await _schedule_deadline(ctx, intake)
    return Respond(Message(text=ctx.t("voting.intake.opened")))


def deadline_job_id(intake_id: int) -> str:
    return f"intake-deadline:{intake_id}"


async def _schedule_deadline(ctx: Context, intake: TopicIntake) -> None:
    assert intake.closes_at is not None
    await ctx.schedule.at(
        deadline_job_id(intake.id),
        intake.closes_at,
        "intake.deadline",
        [intake.id],
        community_id=intake.community_id,
    )


async def deadline_job(ctx: Context, intake_id: int) -> None:
    """The intake's deadline passed: say so once in the channel and take the button away."""
    session = ctx.session
    intake = await session.get(TopicIntake, int(intake_id))
    if intake is None or intake.status != "open" or intake.closes_at is None:
        return
    if intake.closes_at > ctx.now:
        return  # the deadline was moved later; its own job will come
    community = await session.get(Community, intake.community_id)
    if community is None:
        return
    t = translator(community.language)
    topics = await proposals(session, intake)
    posted = await ctx.outbox.enqueue(
        key=f"intake:{intake.id}:deadline",
        to=channel_of(community),
        message=Message(text=t("voting.intake.deadline", prompt=intake.prompt, count=len(topics))),
        community_id=community.id,
    )
    if posted:
        await ctx.outbox.enqueue_edit(
            edit_of=f"intake:{intake.id}:message",
            platform=community.platform,
            workspace_id=community.workspace_id,
            message=intake_message(t, intake, topics, community.timezone, ctx.now),
            community_id=community.id,
        )
        log.info("intake %s reached its deadline", intake.id)


async def reconcile_deadlines(services: Services) -> None:
    """After start: re-arm missing deadline jobs of open intakes (a passed one runs at once)."""
    async with background(services) as ctx:
        intakes = list(
            (
                await ctx.session.execute(
                    select(TopicIntake).where(
                        col(TopicIntake.status) == "open",
                        col(TopicIntake.closes_at).is_not(None),
                    )
                )
            ).scalars()
        )
        have = await ctx.schedule.exists([deadline_job_id(i.id or 0) for i in intakes])
        for intake in intakes:
            if deadline_job_id(intake.id or 0) not in have:
                await _schedule_deadline(ctx, intake)


def _accepting(ctx: Context, intake: TopicIntake | None) -> TopicIntake:
    if intake is None or intake.status != "open":
        raise UserError(ctx.t("voting.refuse.no_intake"))
    if intake.closes_at is not None and intake.closes_at <= ctx.now:
        raise UserError(ctx.t("voting.refuse.intake_closed"))
    return intake


def propose_inputs(ctx: Context) -> list[Input]:
    """The proposal form's fields, with the same limits as ``/cop topics propose``."""
    return [
        Input(name="title", label=ctx.t("voting.form.propose_label"), max_length=MAX_TITLE),
        Input(
            name="why",
            label=ctx.t("voting.form.why_label"),
            kind="long",
            required=False,
            max_length=MAX_WHY,
        ),
    ]


def propose_form(ctx: Context, intake: TopicIntake) -> OpenForm:
    return OpenForm(
        Form(
            form_id="topics.propose",
            title=ctx.t("voting.form.propose_title"),
            inputs=propose_inputs(ctx),
            submit_label=ctx.t("voting.form.propose_submit"),
            metadata=str(intake.id),
        )
    )


async def add_topic(ctx: Context, intake: TopicIntake, title: str, why: str) -> Reply:
    """Store one proposal; the same title twice in one intake is refused, not duplicated."""
    _accepting(ctx, intake)
    title, why = clean(title), clean(why, multiline=True)
    if not title:
        raise UserError(ctx.t("voting.refuse.no_title"))
    if len(title) > MAX_TITLE:
        raise UserError(ctx.t("core.parse.too_long", name="title", max=MAX_TITLE))
    if len(why) > MAX_WHY:
        raise UserError(ctx.t("core.parse.too_long", name="why", max=MAX_WHY))
    existing = await proposals(ctx.session, intake)
    for topic in existing:
        if topic.title.casefold() == title.casefold():
            raise UserError(ctx.t("voting.refuse.topic_twice", id=topic.id, title=topic.title))
    mine = [t for t in existing if t.proposer_id == ctx.actor.user.user_id]
    if len(mine) >= MAX_PER_MEMBER:
        raise UserError(ctx.t("voting.refuse.topic_limit", max=MAX_PER_MEMBER))
    topic = Topic(
        community_id=intake.community_id,
        intake_id=intake.id,
        title=title,
        why=why,
        proposer_id=ctx.actor.user.user_id,
        proposer_name=ctx.actor.name[:100],
        created_at=ctx.now,
    )
    ctx.session.add(topic)
    await ctx.session.flush()
    await refresh_intake(ctx, intake)
    log.info("topic %s proposed in intake %s", topic.id, intake.id)
    return Respond(Message(text=ctx.t("voting.topics.proposed", id=topic.id, title=title)))


async def propose(ctx: Context) -> Reply:
    """``/cop topics propose`` opens the form; with a title it proposes at once."""
    intake = _accepting(ctx, await open_intake(ctx))
    if not ctx.params.get("title"):
        return propose_form(ctx, intake)
    return await add_topic(ctx, intake, ctx.params["title"], ctx.params.get("why", ""))


async def propose_button(ctx: Context) -> Reply:
    intake = await ctx.session.get(TopicIntake, ctx.action.int_arg(0))
    if intake is None:
        raise UserError(ctx.t("core.refuse.stale_button"))
    await ctx.enter(intake.community_id)
    require(ctx, Role.MEMBER)
    return propose_form(ctx, _accepting(ctx, intake))


async def propose_submitted(ctx: Context) -> Reply:
    event = ctx.event
    assert isinstance(event, FormSubmitted)
    intake_id = parse_id(event.metadata)
    if intake_id is None:
        raise UserError(ctx.t("core.refuse.stale_form"))
    intake = await ctx.session.get(TopicIntake, intake_id)
    if intake is None:
        raise UserError(ctx.t("core.refuse.stale_form"))
    await ctx.enter(intake.community_id, join=False)
    require(ctx, Role.MEMBER)
    values, errors = check_form(propose_inputs(ctx), event.values, ctx.t)
    if errors:
        return FormErrors(errors)
    return await add_topic(ctx, intake, values.get("title", ""), values.get("why", ""))


async def list_(ctx: Context) -> Reply:
    community = ctx.require_community()
    lines = []
    if community.next_topic:
        lines.append(ctx.t("voting.topics.next", name=community.name, title=community.next_topic))
    intake = await open_intake(ctx)
    if intake is not None:
        lines.append(ctx.t("voting.topics.intake", prompt=intake.prompt))
        topics = await proposals(ctx.session, intake)
        lines.extend(topic_line(ctx.t, t) for t in topics)
        if not topics:
            lines.append(ctx.t("voting.intake.none"))
    backlog = (
        await ctx.session.execute(
            select(Topic)
            .where(col(Topic.community_id) == community.id, col(Topic.status) == "backlog")
            .order_by(col(Topic.support).desc(), col(Topic.id))
            .limit(25)
        )
    ).scalars()
    backlog_lines = [topic_line(ctx.t, t) for t in backlog]
    if backlog_lines:
        lines.append(ctx.t("voting.topics.backlog"))
        lines.extend(backlog_lines)
    if not lines:
        lines.append(ctx.t("voting.topics.empty"))
    text = "\n".join(lines)
    return Respond(Message(text=text, blocks=[Section.of(text)]))


async def _topic(ctx: Context, param: str, *statuses: str) -> Topic:
    community = ctx.require_community()
    raw = ctx.params[param]
    topic = await ctx.session.get(Topic, int(raw))
    if topic is None or topic.community_id != community.id or topic.status not in statuses:
        raise UserError(ctx.t("voting.refuse.no_topic", id=raw))
    return topic


async def _tell_proposer(
    ctx: Context, topic: Topic, key: str, note: Callable[[Translator], str]
) -> None:
    """A private note to whoever proposed `topic` (nobody else sees why it changed), in
    their own language: `note` writes it in the language given."""
    community = ctx.require_community()
    assert community.id is not None
    proposer = await find_member(ctx.session, community.id, topic.proposer_id)
    await ctx.outbox.enqueue(
        key=key,
        to=UserRef(community.platform, community.workspace_id, topic.proposer_id),
        message=Message(text=note(member_t(proposer, community, ctx))),
        community_id=community.id,
    )


async def _refresh_if_open(ctx: Context, topic: Topic) -> None:
    if topic.intake_id is not None:
        intake = await ctx.session.get(TopicIntake, topic.intake_id)
        if intake is not None and intake.status == "open":
            await refresh_intake(ctx, intake)


async def merge(ctx: Context) -> Reply:
    source = await _topic(ctx, "topic", "proposed", "backlog")
    target = await _topic(ctx, "into", "proposed", "backlog")
    if source.id == target.id:
        raise UserError(ctx.t("voting.refuse.merge_self"))
    source.status = "merged"
    source.merged_into = target.id
    target.support += source.support
    ctx.session.add_all([source, target])
    await ctx.session.flush()
    community = ctx.require_community()

    def note(t: Translator) -> str:
        return t(
            "voting.topics.merged_note", title=source.title, into=target.title, name=community.name
        )

    await _tell_proposer(ctx, source, f"topic:{source.id}:merged", note)
    await _refresh_if_open(ctx, target)
    log.info("topic %s merged into %s", source.id, target.id)
    return Respond(
        Message(
            text=ctx.t("voting.topics.merged", id=source.id, into=target.id, title=target.title)
        )
    )


async def edit(ctx: Context) -> Reply:
    topic = await _topic(ctx, "topic", "proposed", "backlog")
    title = ctx.params["title"]  # one line, at most MAX_TITLE (the parameter's own limit)
    if title == topic.title:
        raise UserError(ctx.t("voting.refuse.same_title"))
    before, topic.title = topic.title, title
    ctx.session.add(topic)
    await ctx.session.flush()
    community = ctx.require_community()

    def note(t: Translator) -> str:
        return t("voting.topics.edited_note", before=before, title=title, name=community.name)

    stamp = int(ctx.now.timestamp())
    await _tell_proposer(ctx, topic, f"topic:{topic.id}:edited:{stamp}", note)
    await _refresh_if_open(ctx, topic)
    return Respond(Message(text=ctx.t("voting.topics.edited", id=topic.id, title=title)))


async def drop(ctx: Context) -> Reply:
    topic = await _topic(ctx, "topic", "proposed", "backlog")
    topic.status = "dropped"
    ctx.session.add(topic)
    await ctx.session.flush()
    community = ctx.require_community()
    reason = ctx.params.get("reason", "").strip()

    def note(t: Translator) -> str:
        text = t("voting.topics.dropped_note", title=topic.title, name=community.name)
        if reason:
            text += " " + t("voting.topics.reason", reason=reason)
        return text

    await _tell_proposer(ctx, topic, f"topic:{topic.id}:dropped", note)
    await _refresh_if_open(ctx, topic)
    return Respond(Message(text=ctx.t("voting.topics.dropped", id=topic.id, title=topic.title)))


async def carry(ctx: Context) -> Reply:
    """Bring a backlog topic (with its support) into the open intake's list."""
    intake = await open_intake(ctx)
    if intake is None:
        raise UserError(ctx.t("voting.refuse.no_intake"))
    topic = await _topic(ctx, "topic", "backlog")
    for other in await proposals(ctx.session, intake):
        if other.title.casefold() == topic.title.casefold():
            raise UserError(ctx.t("voting.refuse.topic_twice", id=other.id, title=other.title))
    topic.status = "proposed"
    topic.intake_id = intake.id
    ctx.session.add(topic)
    await ctx.session.flush()
    await refresh_intake(ctx, intake)
    return Respond(Message(text=ctx.t("voting.topics.carried", id=topic.id, title=topic.title)))


async def vote(ctx: Context) -> Reply:
    """Close intake and open a poll whose options are its proposals, in the order proposed."""
    intake = await open_intake(ctx)
    if intake is None:
        raise UserError(ctx.t("voting.refuse.no_intake"))
    topics = await proposals(ctx.session, intake)
    check_option_count(ctx, len(topics))
    question = ctx.params.get("question") or intake.prompt
    poll = build_poll(ctx, question, len(topics))
    poll.intake_id = intake.id
    await open_poll(ctx, poll, [t.title for t in topics], [t.id for t in topics])
    for topic in topics:
        topic.status = "voting"
        ctx.session.add(topic)
    intake.status = "closed"
    intake.poll_id = poll.id
    ctx.session.add(intake)
    await ctx.session.flush()
    await refresh_intake(ctx, intake)
    if intake.closes_at is not None:
        await ctx.schedule.cancel(deadline_job_id(intake.id or 0))
    log.info("intake %s became poll %s", intake.id, poll.id)
    return Respond(Message(text=ctx.t("voting.opened", id=poll.id)))


def commands() -> tuple[Command, ...]:
    topic = Param("topic", "voting.param.topic", kind="int")
    closes = Param("closes", "voting.param.closes", required=False, keyword=True, max_length=60)
    return (
        Command(
            ("topics", "open"),
            "voting.help.topics_open",
            open_,
            Role.FACILITATOR,
            (Param("prompt", "voting.param.prompt", max_length=MAX_QUESTION), closes),
            "voting.example.topics_open",
        ),
        Command(
            ("topics", "propose"),
            "voting.help.topics_propose",
            propose,
            Role.MEMBER,
            (
                Param("title", "voting.param.title", required=False, max_length=MAX_TITLE),
                Param("why", "voting.param.why", required=False, keyword=True, max_length=MAX_WHY),
            ),
            "voting.example.topics_propose",
        ),
        Command(
            ("topics", "list"),
            "voting.help.topics_list",
            list_,
            Role.MEMBER,
            (),
            "voting.example.topics_list",
        ),
        Command(
            ("topics", "merge"),
            "voting.help.topics_merge",
            merge,
            Role.FACILITATOR,
            (topic, Param("into", "voting.param.into", kind="int")),
            "voting.example.topics_merge",
        ),
        Command(
            ("topics", "edit"),
            "voting.help.topics_edit",
            edit,
            Role.FACILITATOR,
            (topic, Param("title", "voting.param.title", max_length=MAX_TITLE)),
            "voting.example.topics_edit",
        ),
        Command(
            ("topics", "drop"),
            "voting.help.topics_drop",
            drop,
            Role.FACILITATOR,
            (topic, Param("reason", "voting.param.reason", required=False, max_length=200)),
            "voting.example.topics_drop",
        ),
        Command(
            ("topics", "carry"),
            "voting.help.topics_carry",
            carry,
            Role.FACILITATOR,
            (topic,),
            "voting.example.topics_carry",
        ),
        Command(
            ("topics", "vote"),
            "voting.help.topics_vote",
            vote,
            Role.FACILITATOR,
            (
                Param(
                    "question",
                    "voting.param.question",
                    required=False,
                    keyword=True,
                    max_length=MAX_QUESTION,
                ),
                *POLL_PARAMS,
            ),
            "voting.example.topics_vote",
        ),
    )
