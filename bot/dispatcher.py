"""Routes an adapter's event to the feature that handles it and returns the Reply; runs jobs.

The dispatcher resolves the community (from the channel, or from the one community
a DM-ing member belongs to), checks the role the command requires, runs the handler
in one database transaction, and turns refusals into one private sentence. A job is
run the same way, in a context of its own. Work is bounded: at most `concurrency`
events are in the database at once (sized to the pool by the app), so a burst of
clicks queues instead of failing. A transient database error (a lock, a pool wait, a
unique-key race of two first clicks) is retried on a fresh transaction before anyone
is told anything; if it persists the person is told plainly that nothing was saved.
A `ProfileSeen` (what the platform says of a person: zone and locale) is not routed to a
feature: it is kept on the person's member rows in that workspace (`_profile_seen`).
A platform's retry or replay of a request already handled (its `delivery` key is marked in
the same transaction as the effect, see `bot.replays`) does nothing and answers Ack.
Anything unexpected is logged by event kind and ids only (never message or reflection
text) and answered with a generic apology; the transaction is rolled back, so nothing
is half-done.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import replace
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlmodel import col

from bot import hosting, replays
from bot.commands import UNPARSED, ParseError, Role, validate_params
from bot.context import Context, Services, UserError, channel_of, find_member, require
from bot.events import (
    Ack,
    ActionClicked,
    CommandInvoked,
    Event,
    FormSubmitted,
    HomeOpened,
    MemberJoined,
    ProfileSeen,
    Reply,
    Respond,
)
from bot.hooks import MemberJoined as MemberJoinedHook
from bot.i18n import Translator, load_catalog, translator
from bot.jobs import Claimed, complete
from bot.languages import community_language, member_language
from bot.text import clean
from bot.ui import ActionIdError, Message, Section
from bot.ui import Context as Context_
from bot.zones import ZoneRefused, canonical_zone
from storage.db import is_transient
from storage.models import Community, Member, MemberRole

log = logging.getLogger(__name__)

#: Pauses before retrying a transaction that hit a transient database error.
RETRY_PAUSES = (0.02, 0.1, 0.4)


#: A locale as platforms give it (Slack's ``en-US``): a BCP 47 language tag, at most 35 long.
_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,4}")

#: Job kinds of the core itself (no feature declares them).
CORE_JOBS = {replays.SWEEP_KIND: replays.forget_expired}


class UnknownJobKind(RuntimeError):
    """A job row names a kind no feature declares (e.g. after a feature was removed)."""


class Dispatcher:
    """`handle(event) -> Reply`, the single entry point adapters call; `run_job` for jobs."""

    def __init__(self, services: Services, *, concurrency: int = 8) -> None:
        self.services = services
        self.registry = services.registry
        self._gate = asyncio.Semaphore(max(1, concurrency))
        self._sweep_checked: datetime | None = None

    async def handle(self, event: Event) -> Reply:
        started = time.monotonic()
        if isinstance(event, ProfileSeen):
            await self._profile_seen(event)
            self.services.metrics.event_handled("ProfileSeen", "ok", started)
            return Ack()
        event = cleaned(event)
        kind = type(event).__name__
        user = event.actor.user.user_id
        t = Translator()
        reply: Reply
        result = "ok"  # for /metrics: ok, duplicate, refused, not_saved or error
        if not event.place.is_dm:
            # Before the transaction: a platform call never runs inside one (bot.audience).
            await self.services.audiences.warm(event.place.conversation)
        async with self._gate:
            for attempt, pause in enumerate((*RETRY_PAUSES, None)):
                try:
                    async with self.services.db.session() as session:
                        ctx = Context(self.services, session, event=event, t=t)
                        if await self._already_handled(ctx):
                            reply = Ack()
                            result = "duplicate"
                        else:
                            await self._resolve(ctx)
                            t = ctx.t
                            reply = await self._route(ctx)
                            await self._announce_joined(ctx)
                            reply = self._with_dm_hint(ctx, reply)
                    if ctx.scheduled:
                        self.services.wake_jobs()
                    break
                except (UserError, ParseError) as refusal:
                    log.info("%s refused for %s", kind, user)
                    reply = Respond(Message(text=str(refusal)), private=True)
                    result = "refused"
                    break
                except Exception as exc:
                    if is_transient(exc) and pause is not None:
                        log.info(
                            "%s from %s: transient database error, retry %d",
                            kind,
                            user,
                            attempt + 1,
                        )
                        await asyncio.sleep(pause)
                        continue
                    if is_transient(exc):
                        log.error("%s from %s not saved: the database stayed busy", kind, user)
                        reply = Respond(Message(text=t("core.error.not_saved")), private=True)
                        result = "not_saved"
                    else:
                        log.exception("%s from %s failed", kind, user)
                        reply = Respond(Message(text=t("core.error.unexpected")), private=True)
                        result = "error"
                    break
        self.services.wake_outbox()
        self.services.metrics.event_handled(kind, result, started)
        return reply

    async def run_job(self, job: Claimed) -> None:
        """Run one claimed job in its own context and transaction, and complete it there.

        Any error propagates to the runner, which rolls nothing forward and retries the job
        later with backoff (a transient database error included).
        """
        handler = self.registry.jobs.get(job.kind) or CORE_JOBS.get(job.kind)
        if handler is None:
            raise UnknownJobKind(job.kind)
        if job.community_id is not None:
            await self._warm_audience(job.community_id)
        async with self.services.db.session() as session:
            ctx = Context(self.services, session, job=job)
            if job.community_id is not None:
                community = await session.get(Community, job.community_id)
                if community is not None:
                    ctx.community = community
                    ctx.t = ctx.t_channel = translator(community_language(community))
            log.info("job %s running", job.id)
            await handler(ctx, *job.args)
            await complete(session, job)
        if ctx.scheduled:
            self.services.wake_jobs()
        self.services.wake_outbox()

    async def _profile_seen(self, seen: ProfileSeen) -> None:
        """Keep what the platform says of a person on each of their member rows in that
        workspace (a zone circlebot would not accept, or a malformed locale, is kept as
        none). Rows already holding the same values are not written. A failure is logged
        and dropped: the adapter reports the profile again on a later day."""
        user = seen.actor.user
        zone = platform_zone(seen.zone)
        locale = seen.locale if seen.locale and _LOCALE.fullmatch(seen.locale) else None
        communities = select(col(Community.id)).where(
            col(Community.platform) == user.platform,
            col(Community.workspace_id) == user.workspace_id,
        )
        stmt = (
            update(Member)
            .where(
                col(Member.community_id).in_(communities),
                col(Member.user_id) == user.user_id,
                or_(
                    col(Member.platform_timezone).is_distinct_from(zone),
                    col(Member.platform_locale).is_distinct_from(locale),
                ),
            )
            .values(platform_timezone=zone, platform_locale=locale)
            .execution_options(synchronize_session=False)
        )
        async with self._gate:
            for attempt, pause in enumerate((*RETRY_PAUSES, None)):
                try:
                    async with self.services.db.session() as session:
                        result = await session.execute(stmt)
                    changed = getattr(result, "rowcount", 0) or 0
                    log.info("profile of %s: %d member rows updated", user.user_id, changed)
                    return
                except Exception as exc:
                    if is_transient(exc) and pause is not None:
                        log.info("profile of %s: transient error, retry %d", user.user_id, attempt)
                        await asyncio.sleep(pause)
                        continue
                    log.exception("profile of %s not kept", user.user_id)
                    return

    async def _warm_audience(self, community_id: int) -> None:
        """Refresh the cached audience of a job's channel, between two transactions."""
        async with self.services.db.session() as session:
            community = await session.get(Community, community_id)
        if community is not None:
            await self.services.audiences.warm(channel_of(community))

    async def _already_handled(self, ctx: Context) -> bool:
        """Whether this request (a retry or replay of one) already had its effect.

        The mark is written in the handler's transaction, so it commits with the effect; a
        rolled-back attempt (a refusal, an error, a transient retry) leaves none. A copy
        answers Ack: the first attempt has already given the person its answer.
        """
        event = ctx.event
        key = event.delivery if event is not None else None
        if key is None:
            return False
        if not await replays.first_time(ctx.session, key, ctx.now):
            log.info(
                "%s %s already handled; nothing done", type(event).__name__, replays.kind_of(key)
            )
            return True
        # Now and then, make sure the sweep job is waiting (it reschedules itself; this
        # restores it after a failure for good). Should this transaction roll back, the
        # next look comes one period later: marks are then only kept a little longer.
        now = ctx.now
        if self._sweep_checked is None or now - self._sweep_checked >= replays.SWEEP_EVERY:
            await replays.ensure_sweep(ctx)
            self._sweep_checked = now
        return False

    async def _resolve(self, ctx: Context) -> None:
        conv = ctx.place.conversation
        session = ctx.session
        if not ctx.place.is_dm:
            community = (
                await session.execute(
                    select(Community).where(
                        col(Community.platform) == conv.platform,
                        col(Community.workspace_id) == conv.workspace_id,
                        col(Community.channel_id) == conv.channel_id,
                    )
                )
            ).scalar_one_or_none()
        else:
            rows = (
                await session.execute(
                    select(Community)
                    .join(Member, col(Member.community_id) == col(Community.id))
                    .where(
                        col(Community.platform) == conv.platform,
                        col(Community.workspace_id) == conv.workspace_id,
                        col(Member.user_id) == ctx.actor.user.user_id,
                        col(Member.role) != MemberRole.LEFT,
                    )
                )
            ).scalars()
            found = list(rows)
            community = found[0] if len(found) == 1 else None
        if community is not None:
            ctx.community = community
            assert community.id is not None
            ctx.member = await find_member(session, community.id, ctx.actor.user.user_id)
            ctx.member_of = community.id
        # Private answers and forms in the actor's language, channel posts in the community's.
        ctx.speak_to_actor()
        if community is None and ctx.place.is_dm:
            await self._speak_across(ctx)

    async def _speak_across(self, ctx: Context) -> None:
        """In a DM that names no one community, the language the person chose (or their
        platform's) on any of their member rows here: it is the same on all of them."""
        user = ctx.actor.user
        rows = await ctx.session.execute(
            select(Member)
            .join(Community, col(Member.community_id) == col(Community.id))
            .where(
                col(Community.platform) == user.platform,
                col(Community.workspace_id) == user.workspace_id,
                col(Member.user_id) == user.user_id,
            )
            .order_by(col(Member.id))
        )
        members = list(rows.scalars())
        own = next((m for m in members if m.language), None)
        seen = next((m for m in members if m.platform_locale), None)
        if own is not None or seen is not None or ctx.actor.locale:
            ctx.t = translator(member_language(own or seen, None, ctx.actor.locale))

    def _with_dm_hint(self, ctx: Context, reply: Reply) -> Reply:
        """Tell someone whose DMs failed, once and privately, how to open them.

        Only on a private answer or a silent one: a public reply cannot carry a private
        note, and a form must open as it is; the hint then waits for the next interaction.
        """
        member = ctx.member
        if member is None or member.dm_closed_at is None:
            return reply
        if isinstance(reply, Respond) and not reply.private:
            return reply
        if not isinstance(reply, Respond | Ack):
            return reply
        platform = ctx.actor.user.platform
        key = f"core.dm_closed.{platform}"
        hint = ctx.t(key if key in load_catalog("en") else "core.dm_closed.other")
        member.dm_closed_at = None
        ctx.session.add(member)
        log.info("told %s how to open DMs", ctx.actor.user.user_id)
        if isinstance(reply, Ack):
            return Respond(Message(text=hint), private=True)
        msg = reply.message
        blocks = list(msg.blocks) if msg.blocks else [Section.of(msg.text)]
        return Respond(
            Message(text=f"{msg.text}\n\n{hint}", blocks=[*blocks, Context_(parts=[hint])]),
            private=True,
        )

    async def _announce_joined(self, ctx: Context) -> None:
        """Emit ``member.joined`` when this event made someone a member, however it did: the
        platform's channel-join event, ``/cop join``, or a first command or joining button.
        It runs in the handler's transaction, after the handler succeeded, so a refusal that
        undid the joining announces nothing."""
        community, member = ctx.community, ctx.member
        if not ctx.just_joined or community is None or member is None or member.id is None:
            return
        if member.role == MemberRole.LEFT:
            return
        await ctx.emit("member.joined", MemberJoinedHook(community.id or 0, member.id))

    async def _route(self, ctx: Context) -> Reply:
        event = ctx.event
        if isinstance(event, CommandInvoked):
            path, given = event.path, event.params
            if path == UNPARSED:  # refused in the person's language (ParseError)
                parsed, given = self.registry.parse(event.params.get("text", ""), ctx.t)
                path = parsed.path
            cmd = self.registry.commands.get(path)
            if cmd is None:
                raise UserError(ctx.t("core.parse.unknown", word=" ".join(path)[:40]))
            if cmd.needs_community and ctx.community is None:
                key = (
                    "core.refuse.no_community_dm" if ctx.place.is_dm else "core.refuse.no_community"
                )
                raise UserError(ctx.t(key))
            if cmd.role >= Role.MEMBER:
                await ctx.join()
            if cmd.role == Role.HOST:
                await hosting.require_host(ctx)  # a facilitator, or a meeting's host while on
            else:
                require(ctx, cmd.role)
            # Whichever adapter parsed them, the parameters pass the registry's checks here.
            ctx.params = validate_params(cmd, given, ctx.t)
            log.info("command %s by %s", cmd.name, ctx.actor.user.user_id)
            return await cmd.handler(ctx)
        if isinstance(event, ActionClicked):
            entry = self.registry.actions.get((event.action.feature, event.action.verb))
            if entry is None:
                raise UserError(ctx.t("core.refuse.stale_button"))
            ctx.may_join = entry.joins
            # Kind only: the arguments can name a choice (vote:cast:POLL:OPTION), and an anonymous
            # poll's voter must never be linked to it, not even in logs.
            action = f"{event.action.feature}:{event.action.verb}"
            log.info("action %s by %s", action, ctx.actor.user.user_id)
            try:
                reply = await entry.handler(ctx)
            except ActionIdError:
                raise UserError(ctx.t("core.refuse.stale_button")) from None
            # A button for members must have checked whose it is (an ANYONE button, such as
            # a help button, needs no community).
            if entry.role >= Role.MEMBER and not ctx.entered:
                raise RuntimeError(f"action {action} never checked its community (ctx.enter)")
            return reply
        if isinstance(event, FormSubmitted):
            form_handler = self.registry.forms.get(event.form_id)
            if form_handler is None:
                raise UserError(ctx.t("core.refuse.stale_form"))
            log.info("form %s by %s", event.form_id, ctx.actor.user.user_id)
            return await form_handler(ctx)
        if isinstance(event, MemberJoined):
            if ctx.community is not None:
                await ctx.join()
            return Ack()
        if isinstance(event, HomeOpened) and self.registry.home is not None:
            return await self.registry.home(ctx)
        return Ack()


def platform_zone(name: str | None) -> str | None:
    """The zone a platform gave, as circlebot spells it; an old link name (US/Eastern) becomes
    the place it stands for, anything else circlebot refuses becomes None."""
    if not name:
        return None
    try:
        return canonical_zone(name)
    except ZoneRefused as refused:
        if refused.key == "core.refuse.zone_legacy":
            return refused.values.get("suggestion")
        log.info("a platform gave a zone circlebot does not use; ignored")
        return None


def cleaned(event: Event) -> Event:
    """`event` with every text a person controls passed through `bot.text.clean`, once.

    Names become one line (a name cleaned to nothing is shown as the user id); form values
    keep their line breaks until their form's own check (`bot.ui.check_form`) reads them.
    Command parameters are checked against their declaration in `_route`.
    """
    user = event.actor.user
    actor = replace(event.actor, name=clean(event.actor.name)[:100] or user.user_id)
    place = replace(event.place, name=clean(event.place.name)[:100])
    if isinstance(event, FormSubmitted):
        values = {k: clean(v, multiline=True) for k, v in event.values.items()}
        return replace(event, actor=actor, place=place, values=values)
    if isinstance(event, ActionClicked) and event.value is not None:
        return replace(event, actor=actor, place=place, value=clean(event.value))
    return replace(event, actor=actor, place=place)
