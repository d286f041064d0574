"""`/cop agreements ...`: show, draft from the starter set, change, history, recap, status,
questions, settings, and the proposal commands of `consent`."""

from __future__ import annotations

import json
import logging

from sqlalchemy import select
from sqlmodel import col

from bot import hosting
from bot.commands import Command, CommandHandler, Param, Role
from bot.context import Context, UserError
from bot.events import Reply, Respond
from bot.features.agreements import consent
from bot.features.agreements.recap import post_recap, question_list, questions_row
from bot.features.agreements.settings import RECAP_CHOICES, settings
from bot.features.agreements.versions import (
    MAX_AGREEMENTS,
    MAX_TEXT,
    STARTER,
    Change,
    Item,
    agreed,
    change_line,
    changes_of,
    current,
    footer,
    items_of,
    list_blocks,
    make_version,
    next_number,
    propose_button,
)
from bot.text import parse_id
from bot.ui import Actions, Message, Section, Time, plain
from bot.ui import Context as Small
from storage.agreements import AgreementVersion
from storage.models import Member, MemberRole

log = logging.getLogger(__name__)

MAX_QUESTION = 300


def _private(blocks: list[Section | Small], *extra: Actions) -> Respond:
    text = "\n".join(plain(b.parts) for b in blocks)
    return Respond(Message(text=text, blocks=[*blocks, *extra]), private=True)


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


async def _current_items(ctx: Context) -> tuple[AgreementVersion, list[Item]]:
    community = ctx.require_community()
    assert community.id is not None
    version = await current(ctx, community.id)
    if version is None:
        raise UserError(ctx.t("agreements.none_yet"))
    return version, items_of(version)


def _text(ctx: Context) -> str:
    text = " ".join((ctx.params.get("text") or "").split())
    if not text:
        raise UserError(ctx.t("agreements.empty_text"))
    return text


def _numbered(ctx: Context, items: list[Item]) -> Item:
    n = parse_id(ctx.params.get("number"))
    found = [i for i in items if i.n == n]
    if not found:
        raise UserError(ctx.t("agreements.unknown", n=ctx.params.get("number")))
    return found[0]


async def show(ctx: Context) -> Reply:
    community = ctx.require_community()
    assert community.id is not None
    version = await current(ctx, community.id)
    if version is None:
        return _private([Section.of(ctx.t("agreements.none_yet"))])
    blocks: list[Section | Small] = [
        Section.of(ctx.t("agreements.list_title", version=version.number)),
        *list_blocks(ctx.t, items_of(version)),
        footer(ctx.t, version, community.timezone),
    ]
    return _private(blocks, Actions(elements=[propose_button(ctx.t, community.id)]))


async def starter(ctx: Context) -> Reply:
    blocks: list[Section | Small] = [Section.of(ctx.t("agreements.starter_title"))]
    for i, key in enumerate(STARTER, 1):
        blocks.append(Section.of(f"{i}. {ctx.t(f'agreements.starter.{key}')}"))
    return _private(blocks)


def _picks(ctx: Context, raw: str) -> list[int]:
    word = raw.strip().lower()
    if word == "all":
        return list(range(1, len(STARTER) + 1))
    if word == "none":
        return []
    picks: list[int] = []
    for part in word.replace(" ", ",").split(","):
        if not part:
            continue
        n = parse_id(part)
        if n is None or n > len(STARTER):
            raise UserError(ctx.t("agreements.bad_pick", pick=raw, count=len(STARTER)))
        if n not in picks:
            picks.append(n)
    if not picks:
        raise UserError(ctx.t("agreements.bad_pick", pick=raw, count=len(STARTER)))
    return picks


async def draft(ctx: Context) -> Reply:
    community = ctx.require_community()
    assert community.id is not None
    before = await current(ctx, community.id)
    if before is not None:
        raise UserError(ctx.t("agreements.already", version=before.number))
    picks = _picks(ctx, ctx.params["pick"])
    # The agreements are the community's, kept and posted: in its language.
    t = ctx.t_channel
    items = [
        Item(n, t(f"agreements.starter.{STARTER[pick - 1]}")) for n, pick in enumerate(picks, 1)
    ]
    changes = [Change("added", i.n, i.text) for i in items]
    version = await make_version(ctx, community, items, changes, "starter")
    blocks: list[Section | Small] = [
        Section.of(ctx.t("agreements.list_title", version=version.number)),
        *list_blocks(ctx.t, items),
    ]
    if not items:
        blocks.append(Section.of(ctx.t("agreements.drafted_empty")))
    return _private(blocks)


async def add(ctx: Context) -> Reply:
    community = ctx.require_community()
    assert community.id is not None
    _version, items = await _current_items(ctx)
    text = _text(ctx)
    for i in items:
        if _same(i.text, text):
            raise UserError(ctx.t("agreements.duplicate", n=i.n))
    if len(items) >= MAX_AGREEMENTS:
        raise UserError(ctx.t("agreements.too_many", max=MAX_AGREEMENTS))
    item = Item(await next_number(ctx, community.id), text)
    new = await make_version(
        ctx, community, [*items, item], [Change("added", item.n, text)], "facilitator"
    )
    return _private([Section.of(ctx.t("agreements.version_posted", version=new.number))])


async def edit(ctx: Context) -> Reply:
    community = ctx.require_community()
    _version, items = await _current_items(ctx)
    target = _numbered(ctx, items)
    text = _text(ctx)
    if _same(target.text, text):
        raise UserError(ctx.t("agreements.same_text", n=target.n))
    for i in items:
        if i.n != target.n and _same(i.text, text):
            raise UserError(ctx.t("agreements.duplicate", n=i.n))
    changed = [Item(i.n, text) if i.n == target.n else i for i in items]
    change = Change("reworded", target.n, text, target.text)
    new = await make_version(ctx, community, changed, [change], "facilitator")
    return _private([Section.of(ctx.t("agreements.version_posted", version=new.number))])


async def remove(ctx: Context) -> Reply:
    community = ctx.require_community()
    _version, items = await _current_items(ctx)
    target = _numbered(ctx, items)
    rest = [i for i in items if i.n != target.n]
    change = Change("removed", target.n, target.text)
    new = await make_version(ctx, community, rest, [change], "facilitator")
    return _private([Section.of(ctx.t("agreements.version_posted", version=new.number))])


async def history(ctx: Context) -> Reply:
    community = ctx.require_community()
    assert community.id is not None
    versions = (
        await ctx.session.execute(
            select(AgreementVersion)
            .where(col(AgreementVersion.community_id) == community.id)
            .order_by(col(AgreementVersion.number).desc())
            .limit(20)
        )
    ).scalars()
    blocks: list[Section | Small] = [Section.of(ctx.t("agreements.history_title"))]
    for version in versions:
        how = ctx.t(f"agreements.how.{version.decided}")
        blocks.append(
            Section.of(
                ctx.t(
                    "agreements.history_line",
                    version=version.number,
                    how=how,
                    name=version.proposed_name,
                ),
                " ",
                Time(at=version.created_at, style="date", zone=community.timezone),
            )
        )
        lines = [change_line(ctx.t, c) for c in changes_of(version)]
        if lines:
            blocks.append(Small(parts=["\n".join(lines)]))
    if len(blocks) == 1:
        blocks.append(Section.of(ctx.t("agreements.history_none")))
    return _private(blocks)


async def recap(ctx: Context) -> Reply:
    community = ctx.require_community()
    # A meeting's host (bot.hosting) posts the recap of the meeting they host, once for its
    # time: the start's own recap then knows it went out.
    hosted = await hosting.acting_for(ctx)
    if hosted is not None:
        if await post_recap(ctx, community, hosted.meeting_id, hosted.starts_at):
            return _private([Section.of(ctx.t("agreements.recap_posted"))])
        if items_of(await current(ctx, community.id or 0)):
            raise UserError(ctx.t("agreements.recap_already", number=hosted.number))
        raise UserError(ctx.t("agreements.recap_none"))
    if not await post_recap(ctx, community, None):
        raise UserError(ctx.t("agreements.recap_none"))
    return _private([Section.of(ctx.t("agreements.recap_posted"))])


async def status(ctx: Context) -> Reply:
    community = ctx.require_community()
    assert community.id is not None
    version, _items = await _current_items(ctx)
    members = list(
        (
            await ctx.session.execute(
                select(Member)
                .where(
                    col(Member.community_id) == community.id, col(Member.role) != MemberRole.LEFT
                )
                .order_by(col(Member.display_name))
            )
        ).scalars()
    )
    done = await agreed(ctx, community.id, version.number)
    yes = [m.display_name for m in members if m.id in done]
    waiting = [m.display_name for m in members if m.id not in done]
    nobody = ctx.t("agreements.status_nobody")
    return _private(
        [
            Section.of(
                ctx.t(
                    "agreements.status_title",
                    version=version.number,
                    agreed=len(yes),
                    members=len(members),
                )
            ),
            Section.of(ctx.t("agreements.status_agreed", names=", ".join(yes) or nobody)),
            Section.of(ctx.t("agreements.status_waiting", names=", ".join(waiting) or nobody)),
        ]
    )


async def questions(ctx: Context) -> Reply:
    community = ctx.require_community()
    row = await questions_row(ctx, community)
    listed = question_list(ctx.t_channel, row)  # kept and asked in the channel
    asked = set(json.loads(row.asked))
    added, removing = ctx.params.get("add"), ctx.params.get("remove")
    reply: list[Section | Small] = []
    if added is not None:
        text = " ".join(added.split())
        if not text:
            raise UserError(ctx.t("agreements.empty_text"))
        listed = [*listed, text]
        reply.append(Section.of(ctx.t("agreements.question_added", n=len(listed))))
    if removing is not None:
        n = parse_id(removing)
        if n is None or n > len(listed):
            raise UserError(ctx.t("agreements.question_unknown", n=removing))
        if len(listed) == 1:
            raise UserError(ctx.t("agreements.question_last"))
        listed = [q for i, q in enumerate(listed, 1) if i != n]
        reply.append(Section.of(ctx.t("agreements.question_removed", n=n)))
    if added is not None or removing is not None:
        row.questions = json.dumps(listed)
        ctx.session.add(row)
    reply.append(Section.of(ctx.t("agreements.questions_title")))
    for i, q in enumerate(listed, 1):
        mark = ctx.t("agreements.questions_asked") if q in asked else ""
        reply.append(Section.of(ctx.t("agreements.questions_line", n=i, text=q, asked=mark)))
    return _private(reply)


def commands() -> tuple[Command, ...]:
    text = Param("text", "agreements.param.text", rest=True, max_length=MAX_TEXT)
    n = Param("number", "agreements.param.n", kind="int", max_length=9)
    proposal = Param("proposal", "agreements.param.proposal", kind="int", max_length=9)
    why = Param(
        "why", "agreements.param.why", required=False, keyword=True, max_length=consent.MAX_WHY
    )

    def cmd(verb: str, handler: CommandHandler, role: Role, *params: Param) -> Command:
        return Command(
            ("agreements", verb),
            f"agreements.help.{verb}",
            handler,
            role,
            params,
            f"agreements.example.{verb}",
        )

    return (
        cmd("show", show, Role.MEMBER),
        cmd("starter", starter, Role.MEMBER),
        cmd(
            "draft", draft, Role.FACILITATOR, Param("pick", "agreements.param.pick", max_length=80)
        ),
        cmd("add", add, Role.FACILITATOR, text),
        cmd("edit", edit, Role.FACILITATOR, n, text),
        cmd("remove", remove, Role.FACILITATOR, n),
        cmd("history", history, Role.MEMBER),
        cmd("recap", recap, Role.HOST),
        cmd("status", status, Role.FACILITATOR),
        cmd(
            "questions",
            questions,
            Role.FACILITATOR,
            Param(
                "add",
                "agreements.param.question",
                required=False,
                keyword=True,
                max_length=MAX_QUESTION,
            ),
            Param("remove", "agreements.param.qn", kind="int", required=False, keyword=True),
        ),
        cmd(
            "settings",
            settings,
            Role.FACILITATOR,
            Param(
                "recap",
                "agreements.param.recap",
                kind="choice",
                choices=RECAP_CHOICES,
                required=False,
                keyword=True,
            ),
        ),
        cmd(
            "propose",
            consent.propose,
            Role.MEMBER,
            Param("text", "agreements.param.text", required=False, rest=True, max_length=MAX_TEXT),
            Param("number", "agreements.param.n", kind="int", required=False, keyword=True),
            why,
        ),
        cmd("propose-removal", consent.propose_removal, Role.MEMBER, n, why),
        cmd("proposals", consent.proposals, Role.MEMBER),
        cmd("adopt", consent.adopt, Role.FACILITATOR, proposal),
        cmd(
            "drop",
            consent.drop,
            Role.FACILITATOR,
            proposal,
            Param(
                "reason", "agreements.param.reason", required=False, keyword=True, max_length=300
            ),
        ),
        cmd(
            "check",
            consent.check,
            Role.FACILITATOR,
            proposal,
            Param("closes", "agreements.param.closes", required=False, keyword=True, max_length=60),
        ),
        cmd("amend", consent.amend, Role.FACILITATOR, proposal, text),
    )
