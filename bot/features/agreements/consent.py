"""Proposals and consent checks: anyone proposes a change; a facilitator adopts it, drops it
(the proposer is told why, privately) or asks everyone: agree, abstain, concern or block.

Positions can change until the check closes, at its deadline or as soon as every member
has answered. A concern or a block needs a reason, which goes to the facilitators only;
the channel sees counts, never names. One block keeps the proposal from passing: the
facilitator amends it and checks again (a new round; the old round's answers stay with it).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import col

from bot.commands import Role
from bot.context import Context, UserError, channel_of, require
from bot.deadlines import DeadlineError, parse_deadline
from bot.events import FormErrors, FormSubmitted, OpenForm, Reply, Respond, UserRef
from bot.features.agreements.versions import (
    MAX_AGREEMENTS,
    MAX_TEXT,
    Change,
    Item,
    current,
    items_of,
    make_version,
    next_number,
)
from bot.i18n import Translator, translator
from bot.languages import fan_out_each, member_t
from bot.text import parse_id
from bot.ui import (
    ActionId,
    Actions,
    Button,
    Form,
    Input,
    Message,
    Option,
    Section,
    check_form,
    plain,
)
from bot.ui import Context as Small
from storage.agreements import AgreementPosition, AgreementProposal
from storage.models import Community, Member, MemberRole

log = logging.getLogger(__name__)

POSITIONS = ("agree", "abstain", "concern", "block")
NEEDS_REASON = ("concern", "block")
DEFAULT_CHECK = "in 3 days"
MAX_WAITING = 3  # open proposals per member, so nobody floods the facilitators
MAX_WHY = 500
MAX_REASON = 500
EDIT_COALESCE = timedelta(seconds=2)  # presses within it make one edit of the check's post


# -- reading ---------------------------------------------------------------------------------


async def members_of(ctx: Context, community_id: int) -> list[Member]:
    rows = await ctx.session.execute(
        select(Member).where(
            col(Member.community_id) == community_id, col(Member.role) != MemberRole.LEFT
        )
    )
    return list(rows.scalars())


async def tell_facilitators(
    ctx: Context, community: Community, key: str, compose: Callable[[Translator], Message]
) -> None:
    """DM the community's facilitators, each in their own language (`compose` writes the
    message in a language); with none named yet, the admin who set it up."""
    assert community.id is not None
    everyone = await members_of(ctx, community.id)
    named = [m for m in everyone if m.role == MemberRole.FACILITATOR]
    if named:
        await fan_out_each(ctx, key=key, community=community, members=named, compose=compose)
        return
    creator = next((m for m in everyone if m.user_id == community.created_by), None)
    await ctx.outbox.enqueue(
        key=f"{key}:creator",
        to=UserRef(community.platform, community.workspace_id, community.created_by),
        message=compose(member_t(creator, community)),
        community_id=community.id,
    )


async def find(ctx: Context, raw: str | None) -> AgreementProposal:
    community = ctx.require_community()
    number = parse_id(raw)
    row = None
    if number is not None:
        row = (
            await ctx.session.execute(
                select(AgreementProposal).where(
                    col(AgreementProposal.community_id) == community.id,
                    col(AgreementProposal.number) == number,
                )
            )
        ).scalar_one_or_none()
    if row is None:
        raise UserError(ctx.t("agreements.proposal.unknown", number=raw))
    return row


def kind_label(t: Translator, p: AgreementProposal) -> str:
    return t(f"agreements.proposal.kind.{p.kind}", target=p.target)


def proposal_line(t: Translator, p: AgreementProposal) -> str:
    if p.kind == "remove":
        return t("agreements.proposal.line_remove", number=p.number, kind=kind_label(t, p))
    return t("agreements.proposal.line", number=p.number, kind=kind_label(t, p), text=p.text)


async def tally(ctx: Context, p: AgreementProposal) -> Counter[str]:
    rows = await ctx.session.execute(
        select(col(AgreementPosition.position), func.count())
        .where(col(AgreementPosition.proposal_id) == p.id, col(AgreementPosition.round) == p.round)
        .group_by(col(AgreementPosition.position))
    )
    return Counter({position: int(n) for position, n in rows.all()})


# -- proposing -------------------------------------------------------------------------------


async def _new(
    ctx: Context, kind: str, target: int | None, text: str, why: str | None = None
) -> Reply:
    community = ctx.require_community()
    assert ctx.member is not None
    raw = ctx.params.get("why") if why is None else why
    why = " ".join((raw or "").split())
    if len(why) > MAX_WHY:
        raise UserError(ctx.t("core.parse.too_long", name="why", max=MAX_WHY))
    version = await current(ctx, community.id)
    if version is None:
        raise UserError(ctx.t("agreements.none_yet"))
    if target is not None and target not in {i.n for i in items_of(version)}:
        raise UserError(ctx.t("agreements.unknown", n=target))
    waiting = await ctx.session.scalar(
        select(func.count()).where(
            col(AgreementProposal.community_id) == community.id,
            col(AgreementProposal.proposer_member_id) == ctx.member.id,
            col(AgreementProposal.status).in_(("open", "checking", "blocked")),
        )
    )
    if (waiting or 0) >= MAX_WAITING:
        raise UserError(ctx.t("agreements.proposal.limit", max=MAX_WAITING))
    last = await ctx.session.scalar(
        select(func.max(col(AgreementProposal.number))).where(
            col(AgreementProposal.community_id) == community.id
        )
    )
    proposal = AgreementProposal(
        community_id=community.id,
        number=(last or 0) + 1,
        kind=kind,
        target=target,
        text=text,
        why=why,
        proposer_member_id=ctx.member.id,
        proposer_id=ctx.actor.user.user_id,
        proposer_name=ctx.actor.name[:100],
        created_at=ctx.now,
    )
    ctx.session.add(proposal)
    await ctx.session.flush()

    def compose(t: Translator) -> Message:
        head = t(
            "agreements.proposal.to_facilitators",
            name=proposal.proposer_name,
            community=community.name,
        )
        lines = [proposal_line(t, proposal)]
        if why:
            lines.append(t("agreements.proposal.why", why=why))
        foot = t("agreements.proposal.to_facilitators_foot", number=proposal.number)
        return Message(
            text="\n".join([head, *lines, foot]),
            blocks=[Section.of(head), *(Section.of(x) for x in lines), Small(parts=[foot])],
        )

    await tell_facilitators(ctx, community, f"agreements:proposal:{proposal.id}:new", compose)
    log.info("community %s: agreements proposal %s (%s)", community.id, proposal.id, kind)
    return Respond(Message(text=ctx.t("agreements.proposal.made", number=proposal.number)))


async def propose(ctx: Context) -> Reply:
    """An addition (TEXT) or, with number=, a rewording of that agreement; with no text, the
    proposal form (for a rewording of number=, when given)."""
    text = " ".join((ctx.params.get("text") or "").split())
    if not text:
        community = ctx.require_community()
        assert community.id is not None
        if await current(ctx, community.id) is None:
            raise UserError(ctx.t("agreements.none_yet"))
        number = ctx.params.get("number") or ""
        return propose_form(ctx, community.id, "reword" if number else "add", number)
    target = parse_id(ctx.params.get("number")) if ctx.params.get("number") else None
    if ctx.params.get("number") and target is None:
        raise UserError(ctx.t("agreements.unknown", n=ctx.params["number"]))
    return await _new(ctx, "reword" if target else "add", target, text)


# -- the proposal form -------------------------------------------------------------------------

PROPOSAL_KINDS = ("add", "reword", "remove")


def propose_inputs(ctx: Context, kind: str = "add", number: str = "") -> list[Input]:
    """The proposal form's fields, with the limits of the typed commands."""
    return [
        Input(
            name="kind",
            label=ctx.t("agreements.form.kind_label"),
            kind="select",
            options=[
                Option(value=k, label=ctx.t(f"agreements.form.kind.{k}")) for k in PROPOSAL_KINDS
            ],
            initial=kind,
        ),
        Input(
            name="number",
            label=ctx.t("agreements.form.number_label"),
            kind="number",
            required=False,
            max_length=9,
            initial=number,
            hint=ctx.t("agreements.form.number_hint"),
        ),
        Input(
            name="text",
            label=ctx.t("agreements.form.text_label"),
            required=False,
            max_length=MAX_TEXT,
            hint=ctx.t("agreements.form.text_hint"),
        ),
        Input(
            name="why",
            label=ctx.t("agreements.form.why_label"),
            kind="long",
            required=False,
            max_length=MAX_WHY,
        ),
    ]


def propose_typed(ctx: Context, kind: str = "add", number: str = "") -> list[Input]:
    """The same fields with the kind typed, for a platform that cannot show the select."""
    inputs = propose_inputs(ctx, kind, number)
    inputs[0] = Input(
        name="kind",
        label=ctx.t("agreements.form.kind_label"),
        max_length=10,
        initial=kind,
        hint=ctx.t("agreements.form.kind_hint"),
    )
    return inputs


def propose_form(ctx: Context, community_id: int, kind: str = "add", number: str = "") -> OpenForm:
    return OpenForm(
        Form(
            form_id="agreements.propose",
            title=ctx.t("agreements.form.title"),
            inputs=propose_inputs(ctx, kind, number),
            fallback=propose_typed(ctx, kind, number),
            submit_label=ctx.t("agreements.form.submit"),
            metadata=str(community_id),
        )
    )


async def propose_button(ctx: Context) -> Reply:
    """ "Propose a change" (on a recap, a version, the list): opens the proposal form."""
    community_id = ctx.action.int_arg(0)
    if await ctx.session.get(Community, community_id) is None:
        raise UserError(ctx.t("core.refuse.stale_button"))
    await ctx.enter(community_id)  # the button's community, never the channel's
    require(ctx, Role.MEMBER)
    if await current(ctx, community_id) is None:
        raise UserError(ctx.t("agreements.none_yet"))
    return propose_form(ctx, community_id)


async def propose_submitted(ctx: Context) -> Reply:
    """The proposal form: add (text), reword N (number and text) or remove N (number)."""
    event = ctx.event
    assert isinstance(event, FormSubmitted)
    community_id = parse_id(event.metadata)
    if community_id is None or await ctx.session.get(Community, community_id) is None:
        raise UserError(ctx.t("core.refuse.stale_form"))
    community = await ctx.enter(community_id, join=False)
    require(ctx, Role.MEMBER)
    values, errors = check_form(propose_inputs(ctx), event.values, ctx.t)
    if errors:
        return FormErrors(errors)
    kind, text = values["kind"], " ".join(values.get("text", "").split())
    version = await current(ctx, community.id or 0)
    if version is None:
        raise UserError(ctx.t("agreements.none_yet"))
    target = None
    if kind in ("reword", "remove"):
        target = parse_id(values.get("number"))
        if target is None:
            return FormErrors({"number": ctx.t("agreements.form.number_needed")})
        if target not in {i.n for i in items_of(version)}:
            return FormErrors({"number": ctx.t("agreements.unknown", n=target)})
    if kind == "remove":
        text = ""
    elif not text:
        return FormErrors({"text": ctx.t("agreements.form.text_needed")})
    return await _new(ctx, kind, target, text, values.get("why", ""))


async def propose_removal(ctx: Context) -> Reply:
    target = parse_id(ctx.params.get("number"))
    if target is None:
        raise UserError(ctx.t("agreements.proposal.needs_number"))
    return await _new(ctx, "remove", target, "")


async def proposals(ctx: Context) -> Reply:
    community = ctx.require_community()
    rows = list(
        (
            await ctx.session.execute(
                select(AgreementProposal)
                .where(col(AgreementProposal.community_id) == community.id)
                .order_by(col(AgreementProposal.number).desc())
                .limit(15)
            )
        ).scalars()
    )
    if not rows:
        return Respond(Message(text=ctx.t("agreements.proposal.list_none")))
    blocks: list[Section | Small] = [Section.of(ctx.t("agreements.proposal.list_title"))]
    for p in sorted(rows, key=lambda p: (p.status in ("adopted", "dropped"), p.number)):
        status = ctx.t(f"agreements.proposal.status.{p.status}", version=p.version)
        by = ctx.t("agreements.proposal.by", name=p.proposer_name)
        blocks.append(Section.of(f"{proposal_line(ctx.t, p)} — {by}; {status}"))
        if p.why:
            blocks.append(Small(parts=[ctx.t("agreements.proposal.why", why=p.why)]))
    return Respond(Message(text="\n".join(plain(b.parts) for b in blocks), blocks=list(blocks)))


# -- deciding --------------------------------------------------------------------------------


def _undecided(ctx: Context, p: AgreementProposal, *allowed: str) -> None:
    if p.status not in allowed:
        status = ctx.t(f"agreements.proposal.status.{p.status}", version=p.version)
        raise UserError(ctx.t("agreements.proposal.not_open", number=p.number, status=status))


async def apply(ctx: Context, community: Community, p: AgreementProposal, decided: str) -> int:
    """Make the version the proposal asks for; returns its number."""
    assert community.id is not None
    version = await current(ctx, community.id)
    items = items_of(version)
    numbers = {i.n for i in items}
    if p.target is not None and p.target not in numbers:
        raise UserError(ctx.t("agreements.proposal.target_gone", target=p.target, number=p.number))
    if p.kind == "add":
        if len(items) >= MAX_AGREEMENTS:
            raise UserError(ctx.t("agreements.too_many", max=MAX_AGREEMENTS))
        item = Item(await next_number(ctx, community.id), p.text)
        items, change = [*items, item], Change("added", item.n, p.text)
    elif p.kind == "reword":
        old = next(i for i in items if i.n == p.target)
        items = [Item(i.n, p.text) if i.n == p.target else i for i in items]
        change = Change("reworded", old.n, p.text, old.text)
    else:
        old = next(i for i in items if i.n == p.target)
        items = [i for i in items if i.n != p.target]
        change = Change("removed", old.n, old.text)
    made = await make_version(
        ctx, community, items, [change], decided, proposer=(p.proposer_id, p.proposer_name)
    )
    p.status, p.version = "adopted", made.number
    ctx.session.add(p)
    return made.number


async def adopt(ctx: Context) -> Reply:
    community = ctx.require_community()
    p = await find(ctx, ctx.params.get("proposal"))
    _undecided(ctx, p, "open", "blocked")
    number = await apply(ctx, community, p, "facilitator")
    return Respond(Message(text=ctx.t("agreements.version_posted", version=number)))


async def drop(ctx: Context) -> Reply:
    community = ctx.require_community()
    p = await find(ctx, ctx.params.get("proposal"))
    _undecided(ctx, p, "open", "blocked")
    reason = " ".join((ctx.params.get("reason") or "").split())
    p.status = "dropped"
    ctx.session.add(p)
    proposer = await ctx.session.get(Member, p.proposer_member_id) if p.proposer_member_id else None
    if proposer is not None and proposer.role != MemberRole.LEFT:
        t = member_t(proposer, community)  # a DM: in the proposer's own language
        key = (
            "agreements.proposal.dropped_note"
            if reason
            else "agreements.proposal.dropped_note_plain"
        )
        text = t(key, number=p.number, community=community.name, reason=reason)
        await ctx.outbox.fan_out(
            key=f"agreements:proposal:{p.id}:dropped",
            community=community,
            members=[proposer],
            message=Message(text=text, blocks=[Section.of(text)]),
        )
    return Respond(Message(text=ctx.t("agreements.proposal.dropped", number=p.number)))


async def amend(ctx: Context) -> Reply:
    p = await find(ctx, ctx.params.get("proposal"))
    _undecided(ctx, p, "open", "blocked")
    text = " ".join((ctx.params.get("text") or "").split())
    if p.kind == "remove" or not text:
        raise UserError(ctx.t("agreements.proposal.needs_text"))
    p.text, p.status = text, "open"
    ctx.session.add(p)
    return Respond(Message(text=ctx.t("agreements.proposal.amended", number=p.number, text=text)))


# -- the consent check -------------------------------------------------------------------------


def _check_key(p: AgreementProposal) -> str:
    return f"agreements:check:{p.id}:{p.round}"


def check_message(
    t: Translator,
    p: AgreementProposal,
    counts: Counter[str],
    members: int,
    zone: str,
    *,
    open_: bool,
) -> Message:
    head = t("agreements.consent.title", number=p.number, kind=kind_label(t, p))
    blocks: list[Section | Small | Actions] = [Section.of(head)]
    lines = [head]
    if p.kind != "remove":
        blocks.append(Section.of(p.text))
        lines.append(p.text)
    if p.why:
        why = t("agreements.consent.why", why=p.why)
        blocks.append(Small(parts=[why]))
        lines.append(why)
    answered = sum(counts.values())
    tallied = t(
        "agreements.consent.counts",
        answered=answered,
        members=members,
        **{k: counts.get(k, 0) for k in POSITIONS},
    )
    blocks.append(Section.of(tallied))
    lines.append(tallied)
    if open_:
        blocks.append(Small(parts=[t("agreements.consent.how")]))
        if p.closes_at is not None:
            blocks.append(
                Small(parts=t.parts("agreements.consent.closes", when=t.moment(p.closes_at, zone)))
            )
        blocks.append(
            Actions(
                elements=[
                    Button(
                        action=ActionId("consent", position, p.id, p.round),
                        label=t(f"agreements.consent.button.{position}"),
                        style="danger" if position == "block" else "default",
                    )
                    for position in POSITIONS
                ]
            )
        )
    else:
        blocks.append(Small(parts=[t("agreements.consent.closed")]))
    return Message(text="\n".join(lines), blocks=blocks)


def _deadline(ctx: Context, text: str, zone: str) -> datetime:
    try:
        return parse_deadline(text, ctx.now, zone, max_ahead=timedelta(days=60))
    except DeadlineError as err:
        # The deadline sentences are the voting feature's, shared through the catalog.
        raise UserError(ctx.t(f"voting.deadline.{err.code}", text=text[:60])) from None


async def check(ctx: Context) -> Reply:
    community = ctx.require_community()
    assert community.id is not None
    p = await find(ctx, ctx.params.get("proposal"))
    if p.status == "checking":
        raise UserError(ctx.t("agreements.consent.checking_already", number=p.number))
    _undecided(ctx, p, "open", "blocked")
    version = await current(ctx, community.id)
    if p.target is not None and p.target not in {i.n for i in items_of(version)}:
        raise UserError(ctx.t("agreements.proposal.target_gone", target=p.target, number=p.number))
    closes = _deadline(ctx, ctx.params.get("closes") or DEFAULT_CHECK, community.timezone)
    p.status, p.round, p.closes_at = "checking", p.round + 1, closes
    ctx.session.add(p)
    members = len(await members_of(ctx, community.id))
    await ctx.outbox.enqueue(
        key=_check_key(p),
        to=channel_of(community),
        message=check_message(
            translator(community.language), p, Counter(), members, community.timezone, open_=True
        ),
        community_id=community.id,
    )
    await ctx.schedule.at(
        f"agreements.close:{p.id}",
        closes,
        "agreements.close",
        [p.id, p.round],
        community_id=community.id,
    )
    return Respond(Message(text=ctx.t("agreements.consent.started", number=p.number)))


async def _pressed(ctx: Context) -> tuple[AgreementProposal, Community]:
    p = await ctx.session.get(AgreementProposal, ctx.action.int_arg(0))
    if p is None:
        raise UserError(ctx.t("core.refuse.stale_button"))
    community = await ctx.enter(p.community_id)  # the button's community, never the channel's
    require(ctx, Role.MEMBER)
    if p.status != "checking" or ctx.action.int_arg(1) != p.round:
        raise UserError(ctx.t("agreements.consent.closed"))
    return p, community


def reason_form(ctx: Context, p: AgreementProposal, position: str) -> OpenForm:
    return OpenForm(
        Form(
            form_id="agreements.reason",
            title=ctx.t("agreements.consent.reason_title"),
            inputs=reason_inputs(ctx),
            submit_label=ctx.t("agreements.consent.reason_submit"),
            metadata=f"{p.id}:{p.round}:{position}",
        )
    )


def reason_inputs(ctx: Context) -> list[Input]:
    return [
        Input(
            name="reason",
            label=ctx.t("agreements.consent.reason_label"),
            kind="long",
            max_length=MAX_REASON,
            hint=ctx.t("agreements.consent.reason_hint"),
        )
    ]


async def press(ctx: Context) -> Reply:
    """Agree or abstain at once; a concern or a block opens the form that asks why."""
    position = ctx.action.verb
    if position not in POSITIONS:
        raise UserError(ctx.t("core.refuse.stale_button"))
    p, community = await _pressed(ctx)
    if position in NEEDS_REASON:
        return reason_form(ctx, p, position)
    return await record(ctx, community, p, position, "")


async def reason_submitted(ctx: Context) -> Reply:
    event = ctx.event
    assert isinstance(event, FormSubmitted)
    parts = event.metadata.split(":")
    proposal_id = parse_id(parts[0]) if len(parts) == 3 else None
    position = parts[2] if len(parts) == 3 else ""
    p = await ctx.session.get(AgreementProposal, proposal_id) if proposal_id else None
    if p is None or position not in NEEDS_REASON:
        raise UserError(ctx.t("core.refuse.stale_form"))
    community = await ctx.enter(p.community_id, join=False)
    require(ctx, Role.MEMBER)
    if p.status != "checking" or parse_id(parts[1]) != p.round:
        raise UserError(ctx.t("agreements.consent.closed"))
    values, errors = check_form(reason_inputs(ctx), event.values, ctx.t)
    if errors:
        return FormErrors(errors)
    reason = " ".join(values.get("reason", "").split())
    if not reason:
        return FormErrors({"reason": ctx.t("agreements.consent.reason_needed")})
    return await record(ctx, community, p, position, reason)


async def record(
    ctx: Context, community: Community, p: AgreementProposal, position: str, reason: str
) -> Reply:
    assert ctx.member is not None and community.id is not None
    row = (
        await ctx.session.execute(
            select(AgreementPosition).where(
                col(AgreementPosition.proposal_id) == p.id,
                col(AgreementPosition.round) == p.round,
                col(AgreementPosition.member_id) == ctx.member.id,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        row = AgreementPosition(
            community_id=community.id,
            proposal_id=p.id,
            round=p.round,
            member_id=ctx.member.id,
            position=position,
        )
    row.position, row.reason, row.updated_at = position, reason, ctx.now
    ctx.session.add(row)
    await ctx.session.flush()
    t = translator(community.language)
    if reason:
        name = ctx.member.display_name

        def compose(t: Translator) -> Message:
            text = t(
                "agreements.consent.reason_to_facilitators",
                name=name,
                number=p.number,
                community=community.name,
                position=t(f"agreements.consent.position.{position}"),
                reason=reason,
            )
            return Message(text=text, blocks=[Section.of(text)])

        await tell_facilitators(
            ctx, community, f"agreements:reason:{row.id}:{int(ctx.now.timestamp())}", compose
        )
    counts = await tally(ctx, p)
    members = len(await members_of(ctx, community.id))
    if sum(counts.values()) >= members:
        await close_check(ctx, p.id, p.round)
    else:
        await ctx.outbox.enqueue_edit(
            edit_of=_check_key(p),
            platform=community.platform,
            workspace_id=community.workspace_id,
            message=check_message(t, p, counts, members, community.timezone, open_=True),
            community_id=community.id,
            delay=EDIT_COALESCE,
        )
    said = ctx.t(f"agreements.consent.position.{position}")
    return Respond(
        Message(text=ctx.t("agreements.consent.recorded", number=p.number, position=said))
    )


async def close_job(ctx: Context, proposal_id: int, round_: int) -> None:
    """The ``agreements.close`` job: the check's deadline came."""
    await close_check(ctx, proposal_id, round_, from_job=True)


async def close_check(
    ctx: Context, proposal_id: int, round_: int, *, from_job: bool = False
) -> None:
    """At the deadline or the last answer: post the outcome, and adopt if nobody blocks."""
    p = await ctx.session.get(AgreementProposal, int(proposal_id), with_for_update=True)
    if p is None or p.status != "checking" or p.round != int(round_):
        return
    community = await ctx.session.get(Community, p.community_id)
    if community is None:
        return
    counts = await tally(ctx, p)
    members = len(await members_of(ctx, p.community_id))
    t = translator(community.language)
    await ctx.outbox.enqueue_edit(
        edit_of=_check_key(p),
        platform=community.platform,
        workspace_id=community.workspace_id,
        message=check_message(t, p, counts, members, community.timezone, open_=False),
        community_id=community.id,
    )
    if not from_job:  # the job's own runner removes it when it returns
        await ctx.schedule.cancel(f"agreements.close:{p.id}")
    values = {k: counts.get(k, 0) for k in POSITIONS}
    if counts.get("block"):
        p.status = "blocked"
        outcome = t("agreements.consent.blocked", number=p.number, **values)
    elif not counts:
        p.status = "blocked"
        outcome = t("agreements.consent.nobody", number=p.number)
    else:
        try:
            version = await apply(ctx, community, p, "consent")
        except UserError as gone:  # the agreement it rewords was removed meanwhile
            p.status = "blocked"
            outcome = str(gone)
        else:
            outcome = t("agreements.consent.adopted", number=p.number, version=version, **values)
    ctx.session.add(p)
    await ctx.outbox.enqueue(
        key=f"agreements:check:{p.id}:{p.round}:outcome",
        to=channel_of(community),
        message=Message(text=outcome, blocks=[Section.of(outcome)]),
        community_id=community.id,
    )
    log.info("community %s: consent check on proposal %s closed: %s", community.id, p.id, p.status)
