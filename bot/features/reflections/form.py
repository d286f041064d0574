"""The answer form: the "Answer" button in a member's DM opens it, its submission stores the
answers sealed, one row per question, each with its author's privacy choice.

Inputs: one per question (free text, a 1–5 scale or a choice) and, for each, who may read
it: only me (the default), my facilitators, the group with my name, the group anonymously.
Discord's modals hold at most 5 components, so a form of more than two questions cannot
show a privacy choice per answer there: the form's `fallback` is the questions and one
privacy choice for the whole submission, which an adapter shows when the per-answer form
does not fit (and which the console, typing its forms, always uses). A check-in holds at
most four questions, so the fallback always fits. Pressing "Answer" again reopens the form prefilled with the
member's own answers (a form goes only to the person who pressed), editable until close.
An emptied answer is deleted; an answer changed after it was shared is shared again.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlmodel import col

from bot.commands import Role
from bot.context import Context, UserError, require
from bot.events import FormErrors, FormSubmitted, OpenForm, Reply, Respond
from bot.features.reflections import member
from bot.features.reflections.questions import Question, load
from bot.features.reflections.share import (
    aad,
    readable,
    share_named,
    share_with_facilitators,
    withdraw_named,
)
from bot.i18n import Translator
from bot.text import parse_id
from bot.ui import Context as Small
from bot.ui import Form, Input, Message, Option, Section, check_form
from storage.models import Community, Member
from storage.reflections import (
    Checkin,
    CheckinAnswer,
    CheckinDelivery,
    CheckinRound,
    Privacy,
    RoundStatus,
)

log = logging.getLogger(__name__)

FORM_ID = "reflections.answer"
MAX_ANSWER = 2000  # one reflection: a few paragraphs; longer text is refused, never cut
PRIVACIES = (Privacy.PRIVATE, Privacy.FACILITATORS, Privacy.NAMED, Privacy.ANONYMOUS)
WHOLE = "privacy"  # the fallback's one privacy choice for every answer


def privacy_options(t: Translator) -> list[Option]:
    return [Option(value=p.value, label=t(f"reflections.privacy.{p.value}")) for p in PRIVACIES]


def _question_input(index: int, q: Question, initial: str) -> Input:
    name = f"q{index + 1}"
    if q.kind == "text":
        return Input(
            name=name,
            label=q.text,
            kind="long",
            required=False,
            max_length=MAX_ANSWER,
            placeholder=q.text,
            initial=initial,
        )
    return Input(
        name=name,
        label=q.text,
        kind="select",
        required=False,
        options=[Option(value=c, label=c) for c in q.choices()],
        initial=initial if initial in q.choices() else "",
    )


def _privacy_input(t: Translator, name: str, label: str, initial: str) -> Input:
    return Input(
        name=name,
        label=label,
        kind="select",
        required=False,
        options=privacy_options(t),
        initial=initial or Privacy.PRIVATE.value,
        hint=t("reflections.privacy.hint"),
    )


def build_form(
    t: Translator, rnd: CheckinRound, answers: dict[int, tuple[str, str]], title: str
) -> Form:
    """The form for one round; `answers` maps a question index to (text, privacy) to prefill."""
    questions = load(rnd.questions)
    inputs: list[Input] = []
    for i, q in enumerate(questions):
        text, privacy = answers.get(i, ("", ""))
        inputs.append(_question_input(i, q, text))
        label = t("reflections.privacy.label_of", n=i + 1)
        inputs.append(_privacy_input(t, f"p{i + 1}", label, privacy))
    # Always a fallback: a platform shows it where the per-answer form does not fit (Discord's
    # modals hold at most 5 components), and one that types its forms (the console) uses it.
    chosen = {p for _text, p in answers.values()}
    whole = chosen.pop() if len(chosen) == 1 else ""
    fallback = [
        *(_question_input(i, q, answers.get(i, ("", ""))[0]) for i, q in enumerate(questions)),
        _privacy_input(t, WHOLE, t("reflections.privacy.label_all"), whole),
    ]
    return Form(
        form_id=FORM_ID,
        title=title,
        inputs=inputs,
        submit_label=t("reflections.form.submit"),
        metadata=str(rnd.id),
        fallback=fallback,
    )


async def _answers_of(ctx: Context, rnd: CheckinRound, member_id: int) -> list[CheckinAnswer]:
    rows = await ctx.session.execute(
        select(CheckinAnswer).where(
            col(CheckinAnswer.round_id) == rnd.id,
            col(CheckinAnswer.community_id) == rnd.community_id,
            col(CheckinAnswer.member_id) == member_id,
        )
    )
    return list(rows.scalars())


async def _delivery(ctx: Context, rnd: CheckinRound, member_id: int) -> CheckinDelivery:
    row = (
        await ctx.session.execute(
            select(CheckinDelivery).where(
                col(CheckinDelivery.round_id) == rnd.id,
                col(CheckinDelivery.member_id) == member_id,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise UserError(ctx.t("reflections.answer.not_asked"))
    return row


async def _round_for(
    ctx: Context, round_id: int | None, missing: str
) -> tuple[CheckinRound, Community]:
    """The round a button or form names, after checking who answers and that it is open;
    `missing` is the sentence for a round that does not exist."""
    rnd = await ctx.session.get(CheckinRound, round_id) if round_id else None
    if rnd is None:
        raise UserError(ctx.t(missing))
    community = await ctx.enter(rnd.community_id, join=False)
    require(ctx, Role.MEMBER)
    if rnd.status != RoundStatus.OPEN or ctx.now >= rnd.closes_at:
        raise UserError(ctx.t("reflections.answer.closed"))
    return rnd, community


async def answer_pressed(ctx: Context) -> Reply:
    """The "Answer" button (``reflect:answer:<round>``): opens the form, prefilled."""
    rnd, _community = await _round_for(ctx, ctx.action.int_arg(0), "core.refuse.stale_button")
    assert ctx.member is not None
    await _delivery(ctx, rnd, ctx.member.id)
    prefill = {
        a.question: (readable(ctx, a) or "", a.privacy)  # unreadable: asked afresh
        for a in await _answers_of(ctx, rnd, ctx.member.id)
    }
    checkin = await ctx.session.get(Checkin, rnd.checkin_id)
    title = ctx.t("reflections.form.title", checkin=checkin.number if checkin else "")
    return OpenForm(build_form(ctx.t, rnd, prefill, title))


def _normalise_choices(form: Form, values: dict[str, str]) -> dict[str, str]:
    """A select typed as text (a fallback) may differ in case or give the label: the value."""
    out = dict(values)
    for field in [*form.inputs, *form.fallback]:
        raw = out.get(field.name)
        if field.kind != "select" or raw is None:
            continue
        typed = " ".join(raw.split()).casefold()
        for option in field.options:
            if typed in (option.value.casefold(), option.label.casefold()):
                out[field.name] = option.value
    return out


async def answer_submitted(ctx: Context) -> Reply:
    """Store the answers (sealed), delete emptied ones, share what the author chose to."""
    event = ctx.event
    assert isinstance(event, FormSubmitted)
    rnd, community = await _round_for(ctx, parse_id(event.metadata), "core.refuse.stale_form")
    author = ctx.member
    assert author is not None and community.id is not None
    delivery = await _delivery(ctx, rnd, author.id)
    checkin = await ctx.session.get(Checkin, rnd.checkin_id)
    assert checkin is not None
    questions = load(rnd.questions)
    form = build_form(ctx.t, rnd, {}, "")
    whole = WHOLE in event.values
    inputs = form.fallback if whole and form.fallback else form.inputs
    values, errors = check_form(inputs, _normalise_choices(form, event.values), ctx.t)
    if errors:
        return FormErrors(errors)
    given = {i: values.get(f"q{i + 1}", "") for i in range(len(questions))}
    if not any(given.values()):
        return FormErrors({"q1": ctx.t("reflections.answer.empty")})
    existing = {a.question: a for a in await _answers_of(ctx, rnd, author.id)}
    summary: list[str] = []
    for i, q in enumerate(questions):
        privacy = Privacy(values.get(WHOLE if whole else f"p{i + 1}") or Privacy.PRIVATE)
        text, old = given[i], existing.get(i)
        if not text:
            if old is not None:
                await _drop(ctx, community, rnd, q, old)
            continue
        await _store(ctx, community, checkin, rnd, author, i, q, text, privacy, old)
        summary.append(
            ctx.t(
                "reflections.answer.saved_line",
                question=q.text,
                privacy=ctx.t(f"reflections.privacy.short.{privacy.value}"),
            )
        )
    delivery.answered_at = delivery.answered_at or ctx.now
    ctx.session.add(delivery)
    log.info("round %s: member %s answered", rnd.id, author.id)
    head = ctx.t("reflections.answer.saved", checkin=checkin.number)
    until = ctx.t.parts(
        "reflections.answer.until", when=ctx.t.moment(rnd.closes_at, community.timezone)
    )
    blocks: list[Section | Small] = [Section.of(head), *(Section.of(s) for s in summary)]
    blocks.append(Small(parts=until))
    return Respond(Message(text="\n".join([head, *summary]), blocks=blocks), private=True)


async def _drop(
    ctx: Context, community: Community, rnd: CheckinRound, q: Question, old: CheckinAnswer
) -> None:
    if q.commitment:
        await member.commitment_from_answer(ctx, old, "")  # withdrawn with its answer
    if old.privacy == Privacy.NAMED and old.shared_at is not None:
        await withdraw_named(ctx, community, rnd, old, old.sealed)
    await ctx.session.delete(old)


async def _store(
    ctx: Context,
    community: Community,
    checkin: Checkin,
    rnd: CheckinRound,
    author: Member,
    index: int,
    q: Question,
    text: str,
    privacy: Privacy,
    old: CheckinAnswer | None,
) -> None:
    assert community.id is not None
    if old is None:
        answer = CheckinAnswer(
            community_id=community.id,
            round_id=rnd.id,
            member_id=author.id,
            question=index,
            sealed="",
            privacy=privacy,
            created_at=ctx.now,
            updated_at=ctx.now,
        )
        ctx.session.add(answer)
        await ctx.session.flush()
        before_text, before_privacy, was_shared = None, None, False
    else:
        answer = old
        before_text, before_privacy = readable(ctx, old), Privacy(old.privacy)
        was_shared = old.shared_at is not None
    if before_text == text and before_privacy == privacy:
        return  # unchanged: nothing to store or share again
    # The version whose post is in the thread, which this change replaces or withdraws.
    posted = answer.sealed if was_shared and before_privacy == Privacy.NAMED else None
    answer.sealed = ctx.services.sealer.seal(text, aad(answer))
    answer.privacy, answer.updated_at = privacy, ctx.now
    if q.commitment and before_text != text:
        await member.commitment_from_answer(ctx, answer, text)
    if posted is not None and privacy != Privacy.NAMED:
        await withdraw_named(ctx, community, rnd, answer, posted)
    if privacy == Privacy.NAMED:
        await share_named(ctx, community, rnd, answer, author, q.text, text, replaces=posted)
        answer.shared_at = ctx.now
    elif privacy == Privacy.FACILITATORS:
        edited = was_shared and before_privacy == Privacy.FACILITATORS
        await share_with_facilitators(
            ctx, community, checkin, rnd, answer, author, q.text, text, edited=edited
        )
        answer.shared_at = ctx.now
    else:
        answer.shared_at = None  # private, or anonymous: posted when the round closes
    ctx.session.add(answer)
