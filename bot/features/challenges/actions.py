"""The buttons and forms of challenges: "Bring a challenge" (opens the form, in the channel or
a DM), Discussed / Carry to next meeting on the facilitators' after-meeting list, and "Tell
how it went" on the member's private question a week later (opens the note form).

Every button names its object by id and is re-checked here: the community (`ctx.enter`),
the role (facilitators decide), and whose it is (only the member who brought a challenge
answers how it went; to anyone else the button is as stale as one that no longer exists).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.commands import Role
from bot.context import Context, UserError, find_member, require
from bot.events import FormErrors, FormSubmitted, OpenForm, Reply, Respond, UserRef
from bot.features.challenges import store
from bot.features.challenges.render import (
    bring_form,
    bring_inputs,
    note_form,
    note_inputs,
)
from bot.i18n import Translator
from bot.languages import fan_out_each, member_t
from bot.text import parse_id
from bot.ui import Message, Section, check_form
from storage.challenges import Challenge, ChallengeStatus
from storage.models import Community

log = logging.getLogger(__name__)


def _say(text: str) -> Respond:
    return Respond(Message(text=text), private=True)


def typed(values: Mapping[str, str], choice: str) -> dict[str, str]:
    """A select's value as typed in a fallback ("Private ") read as the option value."""
    return {**values, choice: values.get(choice, "").strip().lower()}


async def bring_pressed(ctx: Context) -> Reply:
    """ "Bring a challenge": the form, for members of the button's community."""
    community_id = ctx.action.int_arg(0)
    if await ctx.session.get(Community, community_id) is None:
        raise UserError(ctx.t("core.refuse.stale_button"))
    community = await ctx.enter(community_id)
    assert community.id is not None
    return OpenForm(bring_form(ctx.t, community.id))


async def bring_submitted(ctx: Context) -> Reply:
    event = ctx.event
    assert isinstance(event, FormSubmitted)
    community_id = parse_id(event.metadata)
    if community_id is None or await ctx.session.get(Community, community_id) is None:
        raise UserError(ctx.t("core.refuse.stale_form"))
    community = await ctx.enter(community_id, join=False)
    values, errors = check_form(bring_inputs(ctx.t), typed(event.values, "visibility"), ctx.t)
    if errors:
        return FormErrors(errors)
    private = values["visibility"] == "private"
    c = await store.bring(ctx, community, values["text"], private)
    key = "challenges.added_private" if private else "challenges.added"
    return _say(ctx.t(key, number=c.number))


async def _challenge(
    ctx: Context, raw: int | None, stale: str = "core.refuse.stale_button"
) -> Challenge:
    """The challenge a button or form names, in its own community; `stale` says a missing
    one (a button's sentence, or ``core.refuse.stale_form`` for a form)."""
    c = await ctx.session.get(Challenge, raw) if raw is not None else None
    if c is None:
        raise UserError(ctx.t(stale))
    await ctx.enter(c.community_id, join=False)
    return c


async def decide_pressed(ctx: Context) -> Reply:
    """Discussed / Carry to next meeting, from the facilitators' list after a meeting."""
    c = await _challenge(ctx, ctx.action.int_arg(0))
    require(ctx, Role.FACILITATOR)
    if ctx.action.verb == "done":
        await store.mark_discussed(ctx, c)
        return _say(ctx.t("challenges.done", number=c.number))
    await store.carry(ctx, c)
    return _say(ctx.t("challenges.carried", number=c.number))


async def _own(ctx: Context, raw: int | None, stale: str = "core.refuse.stale_button") -> Challenge:
    c = await _challenge(ctx, raw, stale)
    if ctx.member is None or ctx.member.id != c.member_id:
        # Someone else's challenge: answered exactly as one that no longer exists.
        raise UserError(ctx.t(stale))
    if c.status != ChallengeStatus.DISCUSSED:
        raise UserError(ctx.t("challenges.note_not_discussed", number=c.number))
    return c


async def tell_pressed(ctx: Context) -> Reply:
    """ "Tell how it went": the note form, for the member who brought the challenge only."""
    c = await _own(ctx, ctx.action.int_arg(0))
    return OpenForm(note_form(ctx.t, c))


async def note_submitted(ctx: Context) -> Reply:
    """The note on how it went: sealed, kept for its author, and sent to the facilitators
    only when the author chose so (sealed in the outbox too)."""
    event = ctx.event
    assert isinstance(event, FormSubmitted)
    c = await _own(ctx, parse_id(event.metadata), "core.refuse.stale_form")
    values, errors = check_form(note_inputs(ctx.t), typed(event.values, "share"), ctx.t)
    if errors:
        return FormErrors(errors)
    note = values["note"]
    first = c.note_sealed is None
    c.note_sealed = ctx.services.sealer.seal(note, f"challenge-note:{c.id}")
    c.noted_at = ctx.now
    ctx.session.add(c)
    log.info("challenge %s noted", c.id)
    if values["share"] != "facilitators":
        return _say(ctx.t("challenges.noted_me", note=note))
    if not first:
        return _say(ctx.t("challenges.noted_again", note=note))
    community = await ctx.session.get(Community, c.community_id)
    assert community is not None and ctx.member is not None
    name = ctx.member.display_name

    def compose(t: Translator) -> Message:
        body = t(
            "challenges.note_to_facilitators",
            name=name,
            community=community.name,
            number=c.number,
            text=c.text,
            note=note,
        )
        return Message(text=body, blocks=[Section.of(body)])

    key = f"challenges:{c.id}:note"
    others = [m for m in await store.facilitators(ctx, community.id) if m.id != ctx.member.id]
    # DMs: each in the facilitator's own language.
    if others:
        await fan_out_each(
            ctx, key=key, community=community, members=others, compose=compose, sealed=True
        )
    elif community.created_by != ctx.member.user_id:
        creator = await find_member(ctx.session, community.id, community.created_by)
        await ctx.outbox.enqueue(
            key=f"{key}:creator",
            to=UserRef(community.platform, community.workspace_id, community.created_by),
            message=compose(member_t(creator, community)),
            community_id=community.id,
            sealed=True,
        )
    return _say(ctx.t("challenges.noted_facilitators", note=note))
