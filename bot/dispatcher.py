"""Routes an adapter's event to the feature that handles it and returns the Reply.

The dispatcher resolves the community (from the channel, or from the one community
a DM-ing member belongs to), checks the role the command requires, runs the handler
in one database transaction, and turns refusals into one private sentence. Anything
unexpected is logged by event kind and ids only (never message or reflection text)
and answered with a generic apology; the transaction is rolled back, so nothing is
half-done.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.commands import ParseError, Role
from bot.context import Context, Services, UserError, find_member, require
from bot.events import (
    Ack,
    ActionClicked,
    CommandInvoked,
    Event,
    FormSubmitted,
    HomeOpened,
    MemberJoined,
    Reply,
    Respond,
)
from bot.i18n import Translator, load_catalog, translator
from bot.ui import ActionIdError, Message, Section
from bot.ui import Context as Context_
from storage.models import Community, Member

log = logging.getLogger(__name__)


class Dispatcher:
    """`handle(event) -> Reply`, the single entry point adapters call."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.registry = services.registry

    async def handle(self, event: Event) -> Reply:
        kind = type(event).__name__
        t = Translator()
        try:
            async with self.services.db.session() as session:
                ctx = Context(self.services, event, session, t=t)
                await self._resolve(ctx)
                t = ctx.t
                reply = self._with_dm_hint(ctx, await self._route(ctx))
            for fn in ctx.after_commit:
                try:
                    await fn()
                except Exception:
                    log.exception(
                        "%s from %s: after-commit step failed", kind, event.actor.user.user_id
                    )
        except (UserError, ParseError) as refusal:
            log.info("%s refused for %s", kind, event.actor.user.user_id)
            reply = Respond(Message(text=str(refusal)), private=True)
        except Exception:
            log.exception("%s from %s failed", kind, event.actor.user.user_id)
            reply = Respond(Message(text=t("core.error.unexpected")), private=True)
        self.services.wake_outbox()
        return reply

    async def _resolve(self, ctx: Context) -> None:
        conv = ctx.place.conversation
        session = ctx.session
        if not ctx.place.is_dm:
            community = (
                await session.execute(
                    select(Community).where(
                        Community.platform == conv.platform,
                        Community.workspace_id == conv.workspace_id,
                        Community.channel_id == conv.channel_id,
                    )
                )
            ).scalar_one_or_none()
        else:
            rows = (
                await session.execute(
                    select(Community)
                    .join(Member, Member.community_id == Community.id)
                    .where(
                        Community.platform == conv.platform,
                        Community.workspace_id == conv.workspace_id,
                        Member.user_id == ctx.actor.user.user_id,
                        Member.role != "left",
                    )
                )
            ).scalars()
            found = list(rows)
            community = found[0] if len(found) == 1 else None
        if community is not None:
            ctx.community = community
            ctx.t = translator(community.language)
            ctx.member = await find_member(session, community.id, ctx.actor.user.user_id)  # type: ignore[arg-type]

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

    async def _route(self, ctx: Context) -> Reply:
        event = ctx.event
        if isinstance(event, CommandInvoked):
            cmd = self.registry.commands.get(event.path)
            if cmd is None:
                raise UserError(ctx.t("core.parse.unknown", word=" ".join(event.path)[:40]))
            if cmd.needs_community and ctx.community is None:
                key = (
                    "core.refuse.no_community_dm" if ctx.place.is_dm else "core.refuse.no_community"
                )
                raise UserError(ctx.t(key))
            if cmd.role >= Role.MEMBER:
                await ctx.join()
            require(ctx, cmd.role)
            ctx.params = dict(event.params)
            log.info("command %s by %s", cmd.name, ctx.actor.user.user_id)
            return await cmd.handler(ctx)
        if isinstance(event, ActionClicked):
            entry = self.registry.actions.get((event.action.feature, event.action.verb))
            if entry is None:
                raise UserError(ctx.t("core.refuse.stale_button"))
            handler, role = entry
            if role >= Role.MEMBER:
                await ctx.join()
            # Kind only: the arguments can name a choice (vote:cast:POLL:OPTION), and an anonymous
            # poll's voter must never be linked to it, not even in logs.
            action = f"{event.action.feature}:{event.action.verb}"
            log.info("action %s by %s", action, ctx.actor.user.user_id)
            try:
                return await handler(ctx)
            except ActionIdError:
                raise UserError(ctx.t("core.refuse.stale_button")) from None
        if isinstance(event, FormSubmitted):
            form_handler = self.registry.forms.get(event.form_id)
            if form_handler is None:
                raise UserError(ctx.t("core.refuse.stale_form"))
            log.info("form %s by %s", event.form_id, ctx.actor.user.user_id)
            return await form_handler(ctx)
        if isinstance(event, MemberJoined):
            await ctx.join()
            for fn in self.registry.hooks.get("member.joined", []):
                await fn(ctx)
            return Ack()
        if isinstance(event, HomeOpened):
            home = self.registry.hooks.get("home", [])
            if home:
                return await home[0](ctx)
        return Ack()
