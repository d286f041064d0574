"""Casting ballots: buttons for single choice and approval, forms for ranked, dots and score.

One ballot per member per poll (a unique constraint); a repeated click or delivery changes
nothing, a changed ballot replaces the old one while the poll allows it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.context import Context, UserError
from bot.events import OpenForm, Reply, Respond
from bot.features.voting.ballots import (
    BallotError,
    Choice,
    ballot_numbers,
    decode,
    encode,
    parse_dots,
    parse_ranking,
    parse_scores,
)
from bot.features.voting.polls import (
    check_open,
    options_of,
    poll_for_interaction,
    queue_refresh,
)
from bot.features.voting.tally import Method
from bot.i18n import Translator
from bot.text import parse_id
from bot.ui import Form, Input, Message, Option, Section, check_form, ranked_values, ranking
from storage.voting import Ballot, Poll, PollOption

log = logging.getLogger(__name__)

# -- voting ------------------------------------------------------------------------------------


def _member_id(ctx: Context) -> int:
    assert ctx.member is not None  # poll_for_interaction lets only members through
    return ctx.member.id


def _approved(existing: Ballot | None) -> dict[int, int]:
    choice = decode(existing.choices) if existing else {}
    assert isinstance(choice, dict)  # an approval ballot is stored as {option: 1}
    return dict(choice)


async def _existing(session: AsyncSession, poll: Poll, member_id: int) -> Ballot | None:
    return (
        await session.execute(
            select(Ballot).where(col(Ballot.poll_id) == poll.id, col(Ballot.member_id) == member_id)
        )
    ).scalar_one_or_none()


async def store_ballot(ctx: Context, poll: Poll, choice: Choice) -> bool:
    """Save `choice` as the member's one ballot; False when it was already exactly that.

    The unique (poll, member) constraint makes a double click or a retried delivery insert
    nothing; the conflict path then compares and updates the one row.
    """
    check_open(ctx, poll)
    member = ctx.member
    assert member is not None and member.id is not None
    raw = encode(choice)
    existing = await _existing(ctx.session, poll, member.id)
    if existing is None:
        dialect = ctx.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(Ballot)
            .values(
                poll_id=poll.id,
                community_id=poll.community_id,
                member_id=member.id,
                choices=raw,
                cast_at=ctx.now,
                updated_at=ctx.now,
            )
            .on_conflict_do_nothing(index_elements=["poll_id", "member_id"])
            .returning(col(Ballot.id))
        )
        if (await ctx.session.execute(stmt)).scalar_one_or_none() is not None:
            await _after_ballot(ctx, poll)
            return True
        existing = await _existing(ctx.session, poll, member.id)
        assert existing is not None
    if existing.choices == raw:
        return False
    if not poll.allow_change:
        raise UserError(ctx.t("voting.refuse.final"))
    existing.choices = raw
    existing.updated_at = ctx.now
    ctx.session.add(existing)
    await ctx.session.flush()
    await _after_ballot(ctx, poll)
    return True


async def _after_ballot(ctx: Context, poll: Poll) -> None:
    log.info("ballot on poll %s", poll.id)
    await queue_refresh(ctx, poll)


def _confirm(ctx: Context, changed: bool, poll: Poll, what: str) -> Reply:
    if not changed:
        return Respond(Message(text=ctx.t("voting.vote.unchanged", choice=what)))
    key = "voting.vote.saved_change" if poll.allow_change else "voting.vote.saved_final"
    return Respond(Message(text=ctx.t(key, choice=what)))


async def _option(ctx: Context, poll: Poll, option_id: int) -> PollOption:
    option = await ctx.session.get(PollOption, option_id)
    if option is None or option.poll_id != poll.id:
        raise UserError(ctx.t("voting.refuse.other_poll"))
    return option


async def cast(ctx: Context) -> Reply:
    """A button: single choice (choose this one) or approval (add this one to my approvals)."""
    poll = await poll_for_interaction(ctx, ctx.action.int_arg(0))
    option = await _option(ctx, poll, ctx.action.int_arg(1))
    check_open(ctx, poll)
    method = Method(poll.method)
    if method is Method.SINGLE:
        changed = await store_ballot(ctx, poll, {option.id: 1})
        return _confirm(ctx, changed, poll, option.label)
    if method is not Method.APPROVAL:
        raise UserError(ctx.t("core.refuse.stale_button"))
    existing = await _existing(ctx.session, poll, _member_id(ctx))
    approved = _approved(existing)
    if option.id not in approved and poll.max_choices and len(approved) >= poll.max_choices:
        raise UserError(ctx.t("voting.refuse.approval_max", max=poll.max_choices))
    approved[option.id] = 1
    changed = await store_ballot(ctx, poll, approved)
    return await _approval_reply(ctx, poll, approved, changed)


async def unapprove(ctx: Context) -> Reply:
    """The "remove" button under an approval confirmation (pressing twice changes nothing)."""
    poll = await poll_for_interaction(ctx, ctx.action.int_arg(0))
    option = await _option(ctx, poll, ctx.action.int_arg(1))
    check_open(ctx, poll)
    existing = await _existing(ctx.session, poll, _member_id(ctx))
    approved = _approved(existing)
    if option.id not in approved:
        return await _approval_reply(ctx, poll, approved, False)
    if not poll.allow_change:
        raise UserError(ctx.t("voting.refuse.final"))
    del approved[option.id]
    if approved:
        await store_ballot(ctx, poll, approved)
    else:
        await ctx.session.delete(existing)
        await ctx.session.flush()
        await _after_ballot(ctx, poll)
    return await _approval_reply(ctx, poll, approved, True)


async def _approval_reply(
    ctx: Context, poll: Poll, approved: dict[int, int], changed: bool
) -> Reply:
    from bot.ui import ActionId, Actions, Button

    options = await options_of(ctx.session, poll.id)
    chosen = [o for o in options if o.id in approved]
    names = ", ".join(o.label for o in chosen) or ctx.t("voting.vote.nothing")
    reply = _confirm(ctx, changed, poll, names)
    assert isinstance(reply, Respond)
    if not chosen or not poll.allow_change:
        return reply
    buttons = [
        Button(
            action=ActionId("vote", "unapprove", poll.id, o.id),
            label=ctx.t("voting.button.remove", option=o.label[:60]),
        )
        for o in chosen
    ]
    return Respond(
        Message(
            text=reply.message.text,
            blocks=[Section.of(reply.message.text), Actions(elements=buttons)],
        )
    )


MAX_TYPED = 300  # a typed ballot: room for 25 options by number or a few by name
FORM_IDS = {Method.RANKED: "vote.ranked", Method.DOT: "vote.dots", Method.SCORE: "vote.score"}
RANK = "rank"  # the ranked form's selects are rank.1, rank.2, ... (`bot.ui.ranking`)
_ORDINALS = {1: "one", 2: "two", 3: "three", 21: "twenty_one", 22: "twenty_two", 23: "twenty_three"}


def option_numbers(options: Sequence[PollOption]) -> list[int]:
    """Each option's number on the poll and on ballots (`ballots.ballot_numbers`)."""
    return ballot_numbers([o.topic_id for o in options])


def _ordinal(t: Translator, n: int) -> str:
    return t(f"voting.ordinal.{_ORDINALS.get(n, 'other')}", n=n)


def _rank_label(t: Translator, n: int) -> str:
    return t("voting.form.rank_label", nth=_ordinal(t, n))


def ballot_form(ctx: Context, poll: Poll, options: Sequence[PollOption], initial: str) -> Form:
    """The ballot form: a ranked poll offers one select per place ("1st choice", ...) with the
    typed field as the fallback for platforms that cannot show that many; dots and scores are
    typed. Every option is listed with its number on the poll, next to the field."""
    method = Method(poll.method)
    numbers = option_numbers(options)
    listing = "; ".join(f"{n}. {o.label}" for n, o in zip(numbers, options, strict=True))
    typed = ballot_input(ctx, poll, hint=listing, initial=initial)
    native: list[Input] = []
    if method is Method.RANKED:
        choices = [
            Option(value=str(n), label=f"{n}. {o.label}")
            for n, o in zip(numbers, options, strict=True)
        ]
        labels = [_rank_label(ctx.t, i) for i in range(1, len(options) + 1)]
        native = ranking(RANK, labels, choices, initial.split())
    return Form(
        form_id=FORM_IDS[method],
        title=ctx.t(f"voting.form.{method.value}_title"),
        inputs=native or [typed],
        fallback=[typed] if native else [],
        submit_label=ctx.t("voting.form.submit"),
        metadata=str(poll.id),
    )


async def open_ballot_form(ctx: Context) -> Reply:
    """The "Rank your choices" / "Place your dots" / "Score the options" button."""
    poll = await poll_for_interaction(ctx, ctx.action.int_arg(0))
    check_open(ctx, poll)
    method = Method(poll.method)
    if method not in FORM_IDS:
        raise UserError(ctx.t("core.refuse.stale_button"))
    options = await options_of(ctx.session, poll.id)
    existing = await _existing(ctx.session, poll, _member_id(ctx))
    initial = ""
    if existing is not None:
        initial = _as_typed(method, decode(existing.choices), options)
    return OpenForm(ballot_form(ctx, poll, options, initial))


def ballot_input(ctx: Context, poll: Poll, hint: str = "", initial: str = "") -> Input:
    """The typed field of a ranked, dot or score ballot form; `hint` lists the numbered options."""
    return Input(
        name="ballot",
        label=ctx.t(f"voting.form.{poll.method}_label", dots=poll.dots or 0),
        kind="long",
        max_length=MAX_TYPED,
        hint=hint,
        initial=initial,
    )


def _as_typed(method: Method, choice: Choice, options: Sequence[PollOption]) -> str:
    """A stored ballot as the voter would type it (numbers on the poll), to pre-fill the form."""
    number = {o.id: n for n, o in zip(option_numbers(options), options, strict=True)}
    if isinstance(choice, list):
        return " ".join(str(number[o]) for o in choice if o in number)
    if method is Method.DOT:
        return " ".join(f"{number[o]}x{n}" for o, n in choice.items() if o in number)
    return " ".join(f"{number[o]}:{s}" for o, s in choice.items() if o in number)


async def submit_ballot(ctx: Context) -> Reply:
    """A ranked, dot or score ballot from its form: the selects or the typed fallback.

    Selected places are read as the typed numbers they stand for, so one parser checks both
    (a number picked twice, an unknown value) and a refusal changes nothing.
    """
    from bot.events import FormErrors, FormSubmitted

    event = ctx.event
    assert isinstance(event, FormSubmitted)
    poll_id = parse_id(event.metadata)
    if poll_id is None:
        raise UserError(ctx.t("core.refuse.stale_form"))
    poll = await poll_for_interaction(ctx, poll_id)
    check_open(ctx, poll)
    method = Method(poll.method)
    if FORM_IDS.get(method) != event.form_id:
        raise UserError(ctx.t("core.refuse.stale_form"))
    options = await options_of(ctx.session, poll.id)
    pairs = [(o.id, o.label) for o in options]
    numbers = option_numbers(options)
    form = ballot_form(ctx, poll, options, "")
    places = ranked_values(RANK, event.values) if method is Method.RANKED else None
    if places is not None:
        values, errors = check_form(form.inputs, event.values, ctx.t)
        typed = " ".join(value for _name, value in places)
    else:
        values, errors = check_form([ballot_input(ctx, poll)], event.values, ctx.t)
        typed = values.get("ballot", "")
    if errors:
        return FormErrors(errors)
    try:
        if method is Method.RANKED:
            choice: Choice = parse_ranking(typed, pairs, numbers)
        elif method is Method.DOT:
            choice = parse_dots(typed, pairs, poll.dots or 1, numbers)
        else:
            choice = parse_scores(typed, pairs, numbers)
    except BallotError as err:
        field = "ballot"
        if places is not None:  # the refusal goes under the select that made it
            named = [name for name, value in places if value == err.values.get("value")]
            field = named[-1] if named else f"{RANK}.1"
        return FormErrors({field: ctx.t(f"voting.ballot.{err.code}", **err.values)})
    changed = await store_ballot(ctx, poll, choice)
    return _confirm(ctx, changed, poll, describe_ballot(ctx.t, method, choice, options))


def describe_ballot(
    t: Translator, method: Method, choice: Choice, options: Sequence[PollOption]
) -> str:
    """A ballot in words for its confirmation: ``1st Transitions, 2nd Outdoor play``."""
    labels = {o.id: o.label for o in options}
    if isinstance(choice, list):  # places as ordinals: "1. X" would read as option number 1
        return ", ".join(
            t("voting.vote.ranked", nth=_ordinal(t, i), option=labels[o])
            for i, o in enumerate(choice, 1)
        )
    if method is Method.DOT:
        return ", ".join(t("voting.vote.dots", option=labels[o], n=n) for o, n in choice.items())
    return ", ".join(f"{labels[o]} {s}" for o, s in choice.items())
