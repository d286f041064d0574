"""``/cop checkins ...`` for facilitators: turn on the default check-in, define one, its
questions, list, stop, and the status of its rounds (counts and shared answers only).

Every refusal is one sentence and changes nothing. The status never shows a private answer,
nor which member answered what privately: it shows how many were asked and answered, the
answers shared with names (with them), those shared anonymously once the round has closed
(without), and those shared with the facilitators (with names, as they were sent).
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlmodel import col

from bot import hosting
from bot.commands import Command, CommandHandler, Param, Role
from bot.context import Context, UserError
from bot.events import Reply, Respond
from bot.features.reflections.questions import (
    DEFAULT_NUDGES,
    KINDS,
    MAX_QUESTIONS,
    Question,
    Timing,
    defaults,
    dump,
    load,
    new_question,
    open_words,
    parse_open,
    parse_timing,
    timing_words,
)
from bot.features.reflections.retention import community_retention
from bot.features.reflections.rounds import _move as move_round
from bot.features.reflections.rounds import (
    answered_count,
    new_round,
    plan,
    plan_job,
    skip,
)
from bot.features.reflections.share import open_answer
from bot.i18n import Translator
from bot.text import parse_id
from bot.ui import Context as Small
from bot.ui import Message, Section, plain
from storage.models import Community, Member
from storage.reflections import (
    Checkin,
    CheckinAnswer,
    CheckinDelivery,
    CheckinRound,
    CheckinStatus,
    CheckinTiming,
    Privacy,
    RoundStatus,
)

log = logging.getLogger(__name__)

DEFAULT_DAYS = 2
DEFAULT_OPEN = "5d"
MAX_TITLE = 120
STATUS_ROUNDS = 5  # rounds shown per check-in, newest first
RATE_ROUNDS = 12  # closed rounds in the response rate over time


def _private(blocks: list[Section | Small]) -> Respond:
    text = "\n".join(plain(b.parts) for b in blocks)
    return Respond(Message(text=text, blocks=list(blocks)), private=True)


async def _find(ctx: Context, raw: str | None) -> Checkin:
    community = ctx.require_community()
    number = parse_id(raw)
    row = None
    if number is not None:
        row = (
            await ctx.session.execute(
                select(Checkin).where(
                    col(Checkin.community_id) == community.id, col(Checkin.number) == number
                )
            )
        ).scalar_one_or_none()
    if row is None:
        raise UserError(ctx.t("reflections.unknown", number=(raw or "")[:20]))
    return row


async def _create(
    ctx: Context, title: str, questions: list[Question], timing: Timing, open_minutes: int
) -> Checkin:
    community = ctx.require_community()
    assert community.id is not None
    last = await ctx.session.scalar(
        select(func.max(col(Checkin.number))).where(col(Checkin.community_id) == community.id)
    )
    checkin = Checkin(
        community_id=community.id,
        number=(last or 0) + 1,
        title=title,
        questions=dump(questions),
        timing=timing.timing,
        days=timing.days,
        schedule=timing.schedule,
        tz=community.timezone,
        open_minutes=open_minutes,
        nudges=DEFAULT_NUDGES,
        # The community's retention, as `/cop checkins retention` last set it, carries over.
        retention_months=await community_retention(ctx.session, community.id),
        created_by=ctx.actor.user.user_id,
        created_at=ctx.now,
    )
    ctx.session.add(checkin)
    await ctx.session.flush()
    await plan(ctx, checkin)
    log.info("community %s: check-in %s defined (%s)", community.id, checkin.id, checkin.timing)
    return checkin


def _described(t: Translator, checkin: Checkin) -> str:
    return t(
        "reflections.described",
        number=checkin.number,
        title=checkin.title,
        timing=timing_words(t, checkin),
        open=open_words(t, checkin.open_minutes),
    )


async def default(ctx: Context) -> Reply:
    """The agenda's individual reflection, two days after each meeting, open five days."""
    community = ctx.require_community()
    # The title and questions are kept and asked of every member: the community's language.
    title = ctx.t_channel("reflections.default.title")
    same = (
        await ctx.session.execute(
            select(Checkin).where(
                col(Checkin.community_id) == community.id,
                col(Checkin.status) == CheckinStatus.ACTIVE,
                col(Checkin.title) == title,
            )
        )
    ).scalar_one_or_none()
    if same is not None:
        raise UserError(ctx.t("reflections.default_already", number=same.number))
    checkin = await _create(
        ctx,
        title,
        defaults(ctx.t_channel),
        Timing(CheckinTiming.AFTER, days=DEFAULT_DAYS),
        parse_open(ctx.t, DEFAULT_OPEN),
    )
    return _private(
        [
            Section.of(ctx.t("reflections.default_on")),
            Section.of(_described(ctx.t, checkin)),
            *_question_lines(ctx.t, load(checkin.questions)),
        ]
    )


async def add(ctx: Context) -> Reply:
    community = ctx.require_community()
    title = " ".join(ctx.params.get("title", "").split())
    if not title:
        raise UserError(ctx.t("reflections.needs_title"))
    timing = parse_timing(ctx.t, ctx.params.get("timing") or "", community.timezone)
    minutes = parse_open(ctx.t, ctx.params.get("open") or DEFAULT_OPEN)
    checkin = await _create(ctx, title, [], timing, minutes)
    return _private(
        [
            Section.of(_described(ctx.t, checkin)),
            Small(parts=[ctx.t("reflections.add_questions", number=checkin.number)]),
        ]
    )


def _question_lines(t: Translator, questions: list[Question]) -> list[Section | Small]:
    if not questions:
        return [Small(parts=[t("reflections.no_questions")])]
    lines: list[Section | Small] = []
    for i, q in enumerate(questions, 1):
        kind = t(f"reflections.kind.{q.kind}", options=", ".join(q.options))
        if q.commitment:
            kind = t("reflections.kind.with_commitment", kind=kind)
        lines.append(Small(parts=[t("reflections.question_line", n=i, text=q.text, kind=kind)]))
    return lines


async def question(ctx: Context) -> Reply:
    """``question N add TEXT [kind=] [options=] [commitment=]`` / ``question N remove Q``."""
    checkin = await _find(ctx, ctx.params.get("number"))
    if checkin.status != CheckinStatus.ACTIVE:
        raise UserError(ctx.t("reflections.stopped_already", number=checkin.number))
    questions = load(checkin.questions)
    text = ctx.params.get("text") or ""
    if ctx.params.get("verb") == "remove":
        n = parse_id(text.strip())
        if n is None or n > len(questions):
            raise UserError(ctx.t("reflections.question.unknown", n=text[:20]))
        questions = [q for i, q in enumerate(questions, 1) if i != n]
        said = ctx.t("reflections.question.removed", n=n, number=checkin.number)
    else:
        if len(questions) >= MAX_QUESTIONS:
            raise UserError(ctx.t("reflections.question.too_many", max=MAX_QUESTIONS))
        q = new_question(
            ctx.t,
            text,
            ctx.params.get("kind"),
            ctx.params.get("options"),
            ctx.params.get("commitment"),
        )
        if any(" ".join(o.text.split()).casefold() == q.text.casefold() for o in questions):
            raise UserError(ctx.t("reflections.question.twice"))
        questions = [*questions, q]
        said = ctx.t("reflections.question.added", n=len(questions), number=checkin.number)
    checkin.questions = dump(questions)
    ctx.session.add(checkin)
    return _private(
        [
            Section.of(said),
            Section.of(_described(ctx.t, checkin)),
            *_question_lines(ctx.t, questions),
        ]
    )


async def list_(ctx: Context) -> Reply:
    community = ctx.require_community()
    rows = list(
        (
            await ctx.session.execute(
                select(Checkin)
                .where(col(Checkin.community_id) == community.id)
                .order_by(col(Checkin.number))
            )
        ).scalars()
    )
    if not rows:
        return _private([Section.of(ctx.t("reflections.list_none"))])
    blocks: list[Section | Small] = [Section.of(ctx.t("reflections.list_title"))]
    for checkin in rows:
        line = _described(ctx.t, checkin)
        if checkin.status != CheckinStatus.ACTIVE:
            line = ctx.t("reflections.list_stopped", line=line)
        blocks.append(Section.of(line))
        if checkin.status == CheckinStatus.ACTIVE:
            blocks.extend(_question_lines(ctx.t, load(checkin.questions)))
    return _private(blocks)


async def stop(ctx: Context) -> Reply:
    checkin = await _find(ctx, ctx.params.get("number"))
    if checkin.status != CheckinStatus.ACTIVE:
        raise UserError(ctx.t("reflections.stopped_already", number=checkin.number))
    checkin.status, checkin.stopped_at = CheckinStatus.STOPPED, ctx.now
    ctx.session.add(checkin)
    waiting = (
        await ctx.session.execute(
            select(CheckinRound).where(
                col(CheckinRound.checkin_id) == checkin.id,
                col(CheckinRound.status) == RoundStatus.SCHEDULED,
            )
        )
    ).scalars()
    for rnd in waiting:
        await skip(ctx, rnd, "the check-in was stopped")
    await ctx.schedule.cancel(plan_job(checkin.id))
    log.info("check-in %s stopped", checkin.id)
    return _private([Section.of(ctx.t("reflections.stopped", number=checkin.number))])


async def open_now(ctx: Context) -> Reply:
    """``/cop checkins open [N]``: a round of check-in N opens now (N may be left out when the
    community has one active check-in). A meeting's host (`bot.hosting`) opens the round of
    the meeting they host: a round already waiting for that meeting opens now instead, and
    the meeting's end then makes no second one."""
    community = ctx.require_community()
    hosted = await hosting.acting_for(ctx)
    if ctx.params.get("number"):
        checkin = await _find(ctx, ctx.params["number"])
    else:
        active = (
            await ctx.session.execute(
                select(Checkin)
                .where(
                    col(Checkin.community_id) == community.id,
                    col(Checkin.status) == CheckinStatus.ACTIVE,
                )
                .order_by(col(Checkin.number))
            )
        ).scalars()
        found = list(active)
        if len(found) != 1:
            numbers = ", ".join(str(c.number) for c in found) or "-"
            raise UserError(ctx.t("reflections.open_now.which", numbers=numbers))
        checkin = found[0]
    if checkin.status != CheckinStatus.ACTIVE:
        raise UserError(ctx.t("reflections.stopped_already", number=checkin.number))
    meeting_id = hosted.meeting_id if hosted is not None else None
    rnd = None
    if meeting_id is not None:
        rnd = (
            await ctx.session.execute(
                select(CheckinRound).where(
                    col(CheckinRound.checkin_id) == checkin.id,
                    col(CheckinRound.meeting_id) == meeting_id,
                )
            )
        ).scalar_one_or_none()
        if rnd is not None and rnd.status != RoundStatus.SCHEDULED:
            raise UserError(ctx.t("reflections.open_now.had", number=checkin.number))
        if rnd is not None:
            await move_round(ctx, checkin, rnd, ctx.now)
    if rnd is None:
        rnd = await new_round(ctx, checkin, ctx.now, meeting_id)
    if rnd is None:
        raise UserError(ctx.t("reflections.open_now.had", number=checkin.number))
    log.info("check-in %s: round %s opened now by %s", checkin.id, rnd.id, ctx.actor.user.user_id)
    text = ctx.t("reflections.open_now.done", number=checkin.number, round=rnd.number)
    return _private([Section.of(text)])


# -- status -----------------------------------------------------------------------------------


async def _round_blocks(
    ctx: Context, community: Community, rnd: CheckinRound
) -> list[Section | Small]:
    t, zone = ctx.t, community.timezone
    if rnd.status == RoundStatus.SCHEDULED:
        return [
            Section(
                parts=t.parts(
                    "reflections.status.waiting",
                    round=rnd.number,
                    when=t.moment(rnd.opens_at, zone),
                )
            )
        ]
    if rnd.status == RoundStatus.SKIPPED:
        return [Section.of(t("reflections.status.skipped", round=rnd.number))]
    answered = rnd.answered if rnd.status == RoundStatus.CLOSED else await answered_count(ctx, rnd)
    rate = round(100 * answered / rnd.asked) if rnd.asked else 0
    key = "closed" if rnd.status == RoundStatus.CLOSED else "open"
    blocks: list[Section | Small] = [
        Section(
            parts=t.parts(
                f"reflections.status.{key}",
                round=rnd.number,
                asked=rnd.asked,
                answered=answered,
                rate=rate,
                when=t.moment(rnd.closed_at or rnd.closes_at, zone),
            )
        )
    ]
    blocks.append(await _who_answered(ctx, rnd))
    blocks.extend(await _shared(ctx, rnd))
    return blocks


async def _who_answered(ctx: Context, rnd: CheckinRound) -> Small:
    """Who answered (never what), in name order: nothing about when, so the order of the
    anonymous answers posted at close cannot be matched to anyone."""
    names = sorted(
        (
            await ctx.session.execute(
                select(col(Member.display_name))
                .join(CheckinDelivery, col(CheckinDelivery.member_id) == col(Member.id))
                .where(
                    col(CheckinDelivery.round_id) == rnd.id,
                    col(CheckinDelivery.community_id) == rnd.community_id,
                    col(CheckinDelivery.answered_at).is_not(None),
                )
            )
        ).scalars(),
        key=str.casefold,
    )
    if not names:
        return Small(parts=[ctx.t("reflections.status.nobody_yet")])
    return Small(parts=[ctx.t("reflections.status.who", names=", ".join(names))])


async def _rates(ctx: Context, checkin: Checkin) -> Small | None:
    """The response rate of the closed rounds over time, oldest first (None for fewer than two)."""
    rounds = list(
        (
            await ctx.session.execute(
                select(CheckinRound)
                .where(
                    col(CheckinRound.checkin_id) == checkin.id,
                    col(CheckinRound.community_id) == checkin.community_id,
                    col(CheckinRound.status) == RoundStatus.CLOSED,
                    col(CheckinRound.asked) > 0,
                )
                .order_by(col(CheckinRound.number).desc())
                .limit(RATE_ROUNDS)
            )
        ).scalars()
    )
    if len(rounds) < 2:
        return None
    rates = " · ".join(
        ctx.t("reflections.status.rate", round=r.number, rate=round(100 * r.answered / r.asked))
        for r in reversed(rounds)
    )
    return Small(parts=[ctx.t("reflections.status.rates", rates=rates)])


async def _shared(ctx: Context, rnd: CheckinRound) -> list[Section | Small]:
    """The answers this round's authors shared: never a private one, never an anonymous one's
    author, and anonymous ones only once the round has closed (as the group saw them)."""
    shown = [Privacy.NAMED, Privacy.FACILITATORS]
    if rnd.status == RoundStatus.CLOSED:
        shown.append(Privacy.ANONYMOUS)
    rows = (
        await ctx.session.execute(
            select(CheckinAnswer, Member)
            .join(Member, col(Member.id) == col(CheckinAnswer.member_id))
            .where(
                col(CheckinAnswer.round_id) == rnd.id,
                col(CheckinAnswer.community_id) == rnd.community_id,
                col(CheckinAnswer.privacy).in_(shown),
                col(CheckinAnswer.shared_at).is_not(None),
            )
        )
    ).all()
    questions = [q.text for q in load(rnd.questions)]
    by_kind: dict[str, list[str]] = {p: [] for p in shown}
    for answer, author in rows:
        question = questions[answer.question] if answer.question < len(questions) else ""
        text = open_answer(ctx, answer)
        if answer.privacy == Privacy.ANONYMOUS:
            line = ctx.t("reflections.status.line_anonymous", question=question, text=text)
        else:
            line = ctx.t(
                "reflections.status.line_named",
                name=author.display_name,
                question=question,
                text=text,
            )
        by_kind[answer.privacy].append(line)
    blocks: list[Section | Small] = []
    for privacy in shown:
        lines = sorted(by_kind[privacy])  # anonymous ones in no order that follows the authors
        if lines:
            blocks.append(Small(parts=[ctx.t(f"reflections.status.shared_{privacy.value}")]))
            blocks.extend(Small(parts=[line]) for line in lines)
    return blocks


async def status(ctx: Context) -> Reply:
    community = ctx.require_community()
    if ctx.params.get("number"):
        checkins = [await _find(ctx, ctx.params.get("number"))]
    else:
        checkins = list(
            (
                await ctx.session.execute(
                    select(Checkin)
                    .where(
                        col(Checkin.community_id) == community.id,
                        col(Checkin.status) == CheckinStatus.ACTIVE,
                    )
                    .order_by(col(Checkin.number))
                )
            ).scalars()
        )
    if not checkins:
        return _private([Section.of(ctx.t("reflections.list_none"))])
    blocks: list[Section | Small] = []
    for checkin in checkins:
        blocks.append(Section.of(_described(ctx.t, checkin)))
        rounds = list(
            (
                await ctx.session.execute(
                    select(CheckinRound)
                    .where(
                        col(CheckinRound.checkin_id) == checkin.id,
                        col(CheckinRound.community_id) == community.id,
                    )
                    .order_by(col(CheckinRound.number).desc())
                    .limit(STATUS_ROUNDS)
                )
            ).scalars()
        )
        if not rounds:
            blocks.append(Small(parts=[ctx.t("reflections.status.no_rounds")]))
        if (rates := await _rates(ctx, checkin)) is not None:
            blocks.append(rates)
        for rnd in rounds:
            blocks.extend(await _round_blocks(ctx, community, rnd))
    return _private(blocks)


def commands() -> tuple[Command, ...]:
    number = Param("number", "reflections.param.number", kind="int", max_length=9)

    def cmd(verb: str, handler: CommandHandler, *params: Param) -> Command:
        return Command(
            ("checkins", verb),
            f"reflections.help.{verb}",
            handler,
            Role.FACILITATOR,
            params,
            f"reflections.example.{verb}",
        )

    return (
        cmd("default", default),
        cmd(
            "add",
            add,
            Param("title", "reflections.param.title", rest=True, max_length=MAX_TITLE),
            Param("timing", "reflections.param.timing", keyword=True, max_length=220),
            Param("open", "reflections.param.open", required=False, keyword=True, max_length=20),
        ),
        cmd(
            "question",
            question,
            number,
            Param("verb", "reflections.param.verb", kind="choice", choices=("add", "remove")),
            Param("text", "reflections.param.text", required=False, rest=True, max_length=300),
            Param(
                "kind",
                "reflections.param.kind",
                kind="choice",
                choices=KINDS,
                required=False,
                keyword=True,
            ),
            Param(
                "options", "reflections.param.options", required=False, keyword=True, max_length=800
            ),
            Param(
                "commitment",
                "reflections.param.commitment",
                kind="choice",
                choices=("yes", "no"),
                required=False,
                keyword=True,
            ),
        ),
        cmd("list", list_),
        cmd("stop", stop, number),
        Command(
            ("checkins", "open"),
            "reflections.open_now.help",
            open_now,
            Role.HOST,  # a facilitator, or a meeting's host for that meeting (bot.hosting)
            (
                Param(
                    "number", "reflections.param.number", kind="int", required=False, max_length=9
                ),
            ),
            "reflections.open_now.example",
        ),
        cmd(
            "status",
            status,
            Param("number", "reflections.param.number", kind="int", required=False, max_length=9),
        ),
    )
