"""Versions of a community's agreements: reading the current one and making the next.

Every change makes a new numbered version holding the whole list and what changed, in the
transaction of the command that made it; the channel is told with an "I agree" button,
members who agreed to an older version get one private note of what changed, and those
who have not agreed yet get at most one private reminder per version, three days later.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlmodel import col

from bot.context import Context, channel_of
from bot.i18n import Translator, translator
from bot.languages import fan_out_each, member_t
from bot.ui import ActionId, Actions, Button, Message, Section, Time, plain
from bot.ui import Context as Small
from storage.agreements import AgreementAck, AgreementVersion
from storage.models import Community, Member, MemberRole

log = logging.getLogger(__name__)

MAX_AGREEMENTS = 30  # a list a group can still read aloud at the start of a meeting
MAX_TEXT = 300  # one agreement: a sentence or two a group can say aloud
REMIND_AFTER = timedelta(days=3)  # the one private reminder to those who have not agreed
# Starter agreements and recap questions: agreements.starter.s01... and
# agreements.questions.q01... in the catalogs.
STARTER = tuple(f"s{i:02d}" for i in range(1, 13))
QUESTIONS = tuple(f"q{i:02d}" for i in range(1, 9))

ChangeKind = Literal["added", "reworded", "removed"]


@dataclass(frozen=True)
class Item:
    """One agreement: its stable number in the community and its text."""

    n: int
    text: str


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    n: int
    text: str
    old: str | None = None


def items_of(version: AgreementVersion | None) -> list[Item]:
    if version is None:
        return []
    return [Item(int(d["n"]), str(d["text"])) for d in json.loads(version.items)]


def changes_of(version: AgreementVersion) -> list[Change]:
    return [
        Change(d["kind"], int(d["n"]), str(d["text"]), d.get("old"))
        for d in json.loads(version.changes)
    ]


async def current(ctx: Context, community_id: int) -> AgreementVersion | None:
    """The community's newest version, or None before the first."""
    return (
        await ctx.session.execute(
            select(AgreementVersion)
            .where(col(AgreementVersion.community_id) == community_id)
            .order_by(col(AgreementVersion.number).desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def next_number(ctx: Context, community_id: int) -> int:
    """The next agreement number: never one a removed agreement had."""
    versions = (
        await ctx.session.execute(
            select(col(AgreementVersion.items)).where(
                col(AgreementVersion.community_id) == community_id
            )
        )
    ).scalars()
    seen = [int(d["n"]) for items in versions for d in json.loads(items)]
    return max(seen, default=0) + 1


def change_line(t: Translator, change: Change) -> str:
    return t(f"agreements.changed_{change.kind}", n=change.n, text=change.text, old=change.old)


def propose_button(t: Translator, community_id: int) -> Button:
    """ "Propose a change": opens the proposal form (`consent.propose_form`)."""
    return Button(
        action=ActionId("agree", "propose", community_id), label=t("agreements.propose_button")
    )


def agree_button(
    t: Translator, community_id: int, version: int, *, propose: bool = False
) -> Actions:
    """ "I agree" to `version`; with `propose`, "Propose a change" beside it."""
    agree = Button(
        action=ActionId("agree", "ack", community_id, version),
        label=t("agreements.agree_button"),
        style="primary",
    )
    return Actions(elements=[agree, propose_button(t, community_id)] if propose else [agree])


def list_blocks(t: Translator, items: list[Item]) -> list[Section]:
    return [Section.of(t("agreements.list_line", n=i.n, text=i.text)) for i in items]


async def make_version(
    ctx: Context,
    community: Community,
    items: list[Item],
    changes: list[Change],
    decided: str,
    *,
    proposer: tuple[str, str] | None = None,
) -> AgreementVersion:
    """Store the next version and tell the channel and the members concerned (once each).

    `proposer` (user id, name) is who asked for the change; by default the actor.
    """
    assert community.id is not None
    before = await current(ctx, community.id)
    number = (before.number if before else 0) + 1
    if proposer is None:
        proposer = (ctx.actor.user.user_id, ctx.actor.name)
    version = AgreementVersion(
        community_id=community.id,
        number=number,
        items=json.dumps([{"n": i.n, "text": i.text} for i in items]),
        changes=json.dumps(
            [{"kind": c.kind, "n": c.n, "text": c.text, "old": c.old} for c in changes]
        ),
        decided=decided,
        proposed_by=proposer[0],
        proposed_name=proposer[1][:100],
        created_at=ctx.now,
    )
    ctx.session.add(version)
    await ctx.session.flush()
    t = translator(community.language)
    head = t("agreements.new_version", version=number)
    lines = [change_line(t, c) for c in changes]
    blocks: list[Section | Small | Actions] = [Section.of(head)]
    blocks += [Section.of(line) for line in lines]
    listed = list_blocks(t, items)
    if before is not None and items:
        blocks += [Section.of(t("agreements.now_reads")), *listed]
        lines += [t("agreements.now_reads"), *(plain(b.parts) for b in listed)]
    blocks.append(Small(parts=[t("agreements.agree_prompt")]))
    blocks.append(agree_button(t, community.id, number))
    await ctx.outbox.enqueue(
        key=f"agreements:{community.id}:v{number}",
        to=channel_of(community),
        message=Message(text="\n".join([head, *lines]), blocks=blocks),
        community_id=community.id,
    )
    if before is not None:
        await _note_to_earlier_agreers(ctx, community, number, changes)
    await ctx.schedule.at(
        f"agreements.remind:{community.id}:{number}",
        ctx.now + REMIND_AFTER,
        "agreements.remind",
        [community.id, number],
        community_id=community.id,
    )
    log.info("community %s: agreements version %s (%s)", community.id, number, decided)
    return version


async def _note_to_earlier_agreers(
    ctx: Context, community: Community, number: int, changes: list[Change]
) -> None:
    assert community.id is not None
    latest = (
        select(col(AgreementAck.member_id), func.max(col(AgreementAck.version)).label("v"))
        .where(col(AgreementAck.community_id) == community.id)
        .group_by(col(AgreementAck.member_id))
        .subquery()
    )
    members = (
        await ctx.session.execute(
            select(Member, latest.c.v)
            .join(latest, latest.c.member_id == col(Member.id))
            .where(col(Member.role) != MemberRole.LEFT)
        )
    ).all()
    for member, old in members:
        t = member_t(member, community)  # a DM: in the member's own language
        head = t("agreements.changed_note", community=community.name, old=old, version=number)
        lines = [change_line(t, c) for c in changes]
        blocks: list[Section | Small | Actions] = [Section.of(head)]
        blocks += [Section.of(line) for line in lines]
        blocks.append(Small(parts=[t("agreements.changed_note_foot", version=number)]))
        blocks.append(agree_button(t, community.id, number))
        await ctx.outbox.fan_out(
            key=f"agreements:{community.id}:v{number}:changed",
            community=community,
            members=[member],
            message=Message(text="\n".join([head, *lines]), blocks=blocks),
        )


async def agreed(ctx: Context, community_id: int, version: int) -> set[int]:
    """Member ids who agreed to `version`."""
    rows = await ctx.session.execute(
        select(col(AgreementAck.member_id)).where(
            col(AgreementAck.community_id) == community_id, col(AgreementAck.version) == version
        )
    )
    return set(rows.scalars())


async def remind(ctx: Context, community_id: int, number: int) -> None:
    """The one private reminder of a version to the members who have not agreed to it (nor to
    an earlier one: those had the note of what changed)."""
    community = await ctx.session.get(Community, int(community_id))
    if community is None:
        return
    version = await current(ctx, community.id)
    if version is None or version.number != int(number):
        return  # a newer version asks again with its own reminder
    done = await agreed(ctx, community.id, version.number)
    # Who agreed to an earlier version was asked privately already, by the note of changes.
    done |= set(
        (
            await ctx.session.execute(
                select(col(AgreementAck.member_id)).where(
                    col(AgreementAck.community_id) == community.id,
                    col(AgreementAck.version) < version.number,
                )
            )
        ).scalars()
    )
    waiting = [
        m
        for m in (
            await ctx.session.execute(
                select(Member).where(
                    col(Member.community_id) == community.id, col(Member.role) != MemberRole.LEFT
                )
            )
        ).scalars()
        if m.id not in done
    ]
    items = items_of(version)
    assert community.id is not None
    community_id = community.id

    def compose(t: Translator) -> Message:
        head = t("agreements.reminder", community=community.name, version=version.number)
        blocks: list[Section | Small | Actions] = [Section.of(head), *list_blocks(t, items)]
        blocks.append(agree_button(t, community_id, version.number))
        text = "\n".join([head, *(plain(b.parts) for b in list_blocks(t, items))])
        return Message(text=text, blocks=blocks)

    # DMs: each member's in their own language.
    await fan_out_each(
        ctx,
        key=f"agreements:{community.id}:v{version.number}:remind",
        community=community,
        members=waiting,
        compose=compose,
    )


def footer(t: Translator, version: AgreementVersion, zone: str) -> Small:
    how = t(f"agreements.how.{version.decided}")
    return Small(
        parts=[
            t("agreements.list_foot", version=version.number, how=how),
            " ",
            Time(at=version.created_at, style="date", zone=zone),
            ". ",
            t("agreements.list_history"),
        ]
    )
