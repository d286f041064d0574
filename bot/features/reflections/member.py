"""The member's own side of reflection check-ins: pause, opt out, quiet hours, nudges,
commitments checked back, the journal and retention.

The core of the feature (bot/features/reflections/__init__.py) merges `COMMANDS`,
`ACTIONS`, `FORMS` and `JOBS` from here, asks `may_ask` before it sends anyone a
check-in (so a paused or opted-out member is never asked), and calls
`commitment_from_answer` when an answer to a commitment question is stored.

The member commands answer privately, in one sentence. In a channel they apply to that
channel's community; in a DM to every community the person belongs to, or to the one
named with ``community=`` (a check-in number needs one community).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlmodel import col

from bot.across import my_communities
from bot.commands import Command, CommandHandler, Param, Role
from bot.context import Context, UserError, find_member, require
from bot.events import Reply, Respond
from bot.feature import Action, FormHandler, JobHandler
from bot.features.reflections import commitments, journal, nudges, retention, share
from bot.features.reflections.commitments import commitment_from_answer
from bot.features.reflections.member_prefs import (
    may_ask,
    member_zone,
    opted_out_numbers,
    own_preference,
    parse_hhmm,
    store_opted_out,
)
from bot.hooks import MemberErasing
from bot.ui import Message, Section, Time, plain
from storage.models import Community, Member
from storage.reflections import Checkin, ReflectionPreference

__all__ = [
    "ACTIONS",
    "COMMANDS",
    "FORMS",
    "JOBS",
    "commitment_from_answer",
    "may_ask",
    "on_member_erasing",
    "reconcile",
]

log = logging.getLogger(__name__)

MAX_PAUSE = timedelta(days=366)
_DURATION = re.compile(r"^([0-9]{1,3})\s*(d|day|days|w|wk|wks|week|weeks)$")
_RANGE = re.compile(r"^(\S+)\s*-\s*(\S+)$")

reconcile = retention.reconcile


async def on_member_erasing(ctx: Context, erasing: MemberErasing) -> None:
    """The ``member.erasing`` hook: what the person shared with their name is withdrawn (each
    post in a thread, and each DM to the facilitators, is edited to say so) before mydata
    deletes their answers and commitments. Anonymous shares stay: nothing in them leads
    back to the person."""
    community = await ctx.session.get(Community, erasing.community_id)
    if community is None:
        return
    answers = await share.withdraw_all(ctx, community, erasing.member_id)
    notes = await commitments.withdraw_notes(ctx, community, erasing.member_id)
    log.info(
        "member %s erasing: %d answers and %d note messages withdrawn",
        erasing.member_id,
        answers,
        notes,
    )


# -- which communities ---------------------------------------------------------------------


async def _targets(ctx: Context, *, one: bool = False) -> list[tuple[Community, Member]]:
    """The communities (with the actor's member row) a member command applies to."""
    named = (ctx.params.get("community") or "").strip()
    if named:
        found = [c for c in await my_communities(ctx) if c.name.casefold() == named.casefold()]
        if not found:
            raise UserError(ctx.t("reflections.member.unknown_community", name=named[:60]))
        communities = found[:1]
    elif not ctx.place.is_dm:
        ctx.require_community()
        await ctx.join()
        require(ctx, Role.MEMBER)
        assert ctx.community is not None
        communities = [ctx.community]
    else:
        communities = await my_communities(ctx)
        if not communities:
            raise UserError(ctx.t("core.across.none"))
        if one and len(communities) > 1:
            raise UserError(ctx.t("reflections.member.say_which"))
    out = []
    for community in communities:
        assert community.id is not None
        member = await find_member(ctx.session, community.id, ctx.actor.user.user_id)
        if member is None:
            raise UserError(ctx.t("core.refuse.members_only"))
        out.append((community, member))
    return out


def _names(targets: list[tuple[Community, Member]]) -> str:
    return ", ".join(c.name for c, _ in targets)


async def _prefs(
    ctx: Context, targets: list[tuple[Community, Member]]
) -> list[tuple[Community, Member, ReflectionPreference]]:
    out = []
    for community, member in targets:
        out.append(
            (community, member, await own_preference(ctx.session, community.id, member.id, ctx.now))
        )
    return out


def _private(*parts: str | Time) -> Respond:
    section = Section.of(*parts)
    return Respond(Message(text=plain(section.parts), blocks=[section]), private=True)


# -- pause and resume ------------------------------------------------------------------------


def _pause_until(ctx: Context, raw: str, member: Member, community: Community) -> datetime:
    text = " ".join(raw.lower().split())
    m = _DURATION.match(text)
    if m:
        n = int(m.group(1))
        days = n * 7 if m.group(2).startswith("w") else n
        until = ctx.now + timedelta(days=days)
    else:
        try:
            day = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            raise UserError(ctx.t("reflections.member.bad_pause", value=raw[:40])) from None
        # Paused until that day begins where the member lives: asked again from that day on.
        until = datetime.combine(day, time(0), tzinfo=member_zone(member, community))
    if until <= ctx.now:
        raise UserError(ctx.t("reflections.member.pause_past", value=raw[:40]))
    if until - ctx.now > MAX_PAUSE:
        raise UserError(ctx.t("reflections.member.pause_too_long", value=raw[:40]))
    return until


async def pause(ctx: Context) -> Reply:
    """``/cop checkins pause 3w`` (or 10d, 2w, a date): no check-ins, nudges or check-backs."""
    targets = await _targets(ctx)
    community, member = targets[0]
    until = _pause_until(ctx, ctx.params.get("duration") or "", member, community)
    for _c, _m, pref in await _prefs(ctx, targets):
        pref.paused_until, pref.updated_at = until, ctx.now
        ctx.session.add(pref)
    zone = member_zone(member, community).key
    log.info("check-ins paused by %s in %d communities", ctx.actor.user.user_id, len(targets))
    return _private(
        *ctx.t.parts(
            "reflections.member.paused",
            communities=_names(targets),
            when=ctx.t.moment(until, zone, "date"),
        )
    )


async def resume(ctx: Context) -> Reply:
    targets = await _targets(ctx)
    for _c, _m, pref in await _prefs(ctx, targets):
        pref.paused_until, pref.opted_out_at, pref.updated_at = None, None, ctx.now
        ctx.session.add(pref)
    return _private(ctx.t("reflections.member.resumed", communities=_names(targets)))


# -- opting out of one check-in ----------------------------------------------------------------


async def _checkin(ctx: Context, community: Community) -> Checkin:
    """The check-in of `community` with the number typed, or a one-sentence refusal."""
    raw = ctx.params.get("number") or ""
    checkin = None
    if raw.isascii() and raw.isdigit():
        checkin = (
            await ctx.session.execute(
                select(Checkin).where(
                    col(Checkin.community_id) == community.id, col(Checkin.number) == int(raw)
                )
            )
        ).scalar_one_or_none()
    if checkin is None:
        raise UserError(ctx.t("reflections.member.unknown_checkin", number=raw[:20]))
    return checkin


async def optout(ctx: Context) -> Reply:
    """``/cop checkins optout N``: never asked (nor nudged) for check-in N of this community."""
    targets = await _targets(ctx, one=True)
    community, _member = targets[0]
    checkin = await _checkin(ctx, community)
    ((_c, _m, pref),) = await _prefs(ctx, targets)
    numbers = opted_out_numbers(pref) | {checkin.number}
    store_opted_out(pref, numbers)
    pref.updated_at = ctx.now
    ctx.session.add(pref)
    return _private(
        ctx.t("reflections.member.opted_out", number=checkin.number, title=checkin.title)
    )


async def optin(ctx: Context) -> Reply:
    targets = await _targets(ctx, one=True)
    community, _member = targets[0]
    checkin = await _checkin(ctx, community)
    ((_c, _m, pref),) = await _prefs(ctx, targets)
    store_opted_out(pref, opted_out_numbers(pref) - {checkin.number})
    pref.opted_out_at, pref.updated_at = None, ctx.now
    ctx.session.add(pref)
    return _private(
        ctx.t("reflections.member.opted_in", number=checkin.number, title=checkin.title)
    )


# -- quiet hours -------------------------------------------------------------------------------


async def quiet(ctx: Context) -> Reply:
    """``/cop checkins quiet 21:00-07:30`` (or ``default``): no nudge between those times."""
    raw = " ".join((ctx.params.get("hours") or "").split())
    if raw.lower() == "default":
        start = end = None
    else:
        m = _RANGE.match(raw)
        start = parse_hhmm(m.group(1)) if m else None
        end = parse_hhmm(m.group(2)) if m else None
        if start is None or end is None:
            raise UserError(ctx.t("reflections.member.bad_quiet", value=raw[:40]))
        if start == end:
            raise UserError(ctx.t("reflections.member.quiet_same", value=raw[:40]))
    targets = await _targets(ctx)
    for _c, _m, pref in await _prefs(ctx, targets):
        pref.quiet_from = start.strftime("%H:%M") if start else None
        pref.quiet_to = end.strftime("%H:%M") if end else None
        pref.updated_at = ctx.now
        ctx.session.add(pref)
    if start is None or end is None:
        return _private(ctx.t("reflections.member.quiet_default", communities=_names(targets)))
    return _private(
        ctx.t(
            "reflections.member.quiet_set",
            start=start.strftime("%H:%M"),
            end=end.strftime("%H:%M"),
            communities=_names(targets),
        )
    )


async def show_journal(ctx: Context) -> Reply:
    targets = await _targets(ctx)
    return await journal.journal_for(ctx, [c for c, _ in targets], ctx.params.get("since"))


# -- the declarations the core merges ---------------------------------------------------------


def _commands() -> list[Command]:
    community = Param(
        "community",
        "reflections.member.param.community",
        required=False,
        keyword=True,
        max_length=100,
    )

    def cmd(path: tuple[str, ...], name: str, handler: CommandHandler, *params: Param) -> Command:
        # Role.ANYONE with no community needed: in a DM these answer for all one's
        # communities; `_targets` checks membership in each one.
        return Command(
            path,
            f"reflections.member.help.{name}",
            handler,
            Role.ANYONE,
            params,
            f"reflections.member.example.{name}",
            needs_community=False,
        )

    number = Param("number", "reflections.member.param.number", kind="int", max_length=9)
    return [
        cmd(
            ("checkins", "pause"),
            "pause",
            pause,
            Param("duration", "reflections.member.param.duration", max_length=20),
            community,
        ),
        cmd(("checkins", "resume"), "resume", resume, community),
        cmd(("checkins", "optout"), "optout", optout, number, community),
        cmd(("checkins", "optin"), "optin", optin, number, community),
        cmd(
            ("checkins", "quiet"),
            "quiet",
            quiet,
            Param("hours", "reflections.member.param.hours", max_length=20),
            community,
        ),
        cmd(
            ("journal",),
            "journal",
            show_journal,
            community,
            Param(
                "since",
                "reflections.member.param.since",
                required=False,
                keyword=True,
                max_length=20,
            ),
        ),
        Command(
            ("checkins", "retention"),
            "reflections.member.help.retention",
            retention.set_retention,
            Role.FACILITATOR,
            (Param("months", "reflections.member.param.months", max_length=10),),
            "reflections.member.example.retention",
        ),
    ]


COMMANDS: list[Command] = _commands()
ACTIONS: dict[str, Action] = {
    f"commit:{verb}": Action(commitments.press) for verb in ("tried", "notyet", "drop", "tell")
}
FORMS: dict[str, FormHandler] = {commitments.FORM_ID: commitments.note_submitted}
JOBS: dict[str, JobHandler] = {
    "reflections.nudge": nudges.nudge_job,
    "reflections.commitment": commitments.checkback_job,
    "reflections.retention": retention.retention_job,
}
