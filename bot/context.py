"""What a feature handler gets: the shared services and the event it answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import Registry, Role
from bot.events import ActionClicked, Actor, ConversationRef, Event, Place
from bot.i18n import Translator, translator
from bot.outbox import Outbox
from bot.ports import Clock
from bot.scheduling import Scheduler
from storage.db import Database
from storage.models import Community, Member


class UserError(Exception):
    """A refusal or a bad input: `str()` is one sentence shown privately to the asker."""


@dataclass
class Services:
    """Everything features share, built once by the app and passed in (no globals)."""

    db: Database
    clock: Clock
    outbox: Outbox
    scheduler: Scheduler
    registry: Registry
    wake_outbox: Callable[[], None] = lambda: None
    default_timezone: str = "UTC"

    async def fire(self, hook: str, *args: Any) -> None:
        """Run every subscriber of `hook` (e.g. ``meeting.start``) in registration order."""
        for fn in self.registry.hooks.get(hook, []):
            await fn(self, *args)


@dataclass
class Context:
    """One event being handled; `community`/`member` are resolved by the dispatcher."""

    services: Services
    event: Event
    session: AsyncSession
    community: Community | None = None
    member: Member | None = None
    params: dict[str, str] = field(default_factory=dict)
    t: Translator = field(default_factory=Translator)
    just_joined: bool = False
    # Run by the dispatcher after the transaction commits (scheduler writes: the job store
    # uses its own connection, which a still-open SQLite write transaction would block).
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def actor(self) -> Actor:
        return self.event.actor

    @property
    def place(self) -> Place:
        return self.event.place

    @property
    def now(self):  # type: ignore[no-untyped-def]
        return self.services.clock.now()

    @property
    def action(self):  # type: ignore[no-untyped-def]
        assert isinstance(self.event, ActionClicked)
        return self.event.action

    def require_community(self) -> Community:
        if self.community is None:
            raise UserError(self.t("core.refuse.no_community"))
        return self.community

    def role(self) -> Role:
        """The actor's role in the resolved community."""
        if self.actor.is_admin:
            return Role.ADMIN
        if self.member is not None and self.member.role == "facilitator":
            return Role.FACILITATOR
        if self.member is not None and self.member.role != "left":
            return Role.MEMBER
        return Role.ANYONE

    async def enter(self, community_id: int, *, join: bool = True) -> Community:
        """Switch to `community_id` (from a button's id or a form's metadata) and check membership.

        Members join on first interaction; the community's language applies from here on.
        """
        community = await self.session.get(Community, community_id)
        if community is None:
            raise UserError(self.t("core.refuse.gone"))
        if community.platform != self.actor.user.platform or (
            community.workspace_id != self.actor.user.workspace_id
        ):
            raise UserError(self.t("core.refuse.other_community"))
        self.community = community
        self.t = translator(community.language)
        self.member = await find_member(self.session, community.id, self.actor.user.user_id)
        if join:
            await self.join()
        return community

    async def join(self) -> None:
        """Make the actor a member of the current community (again, if they had left)."""
        if self.community is None:
            return
        if self.member is None:
            self.member = await add_member(self.session, self.community, self.actor, self.now)
            self.just_joined = True
        elif self.member.role == "left":
            self.member.role = "member"
            self.member.joined_at = self.now
            self.session.add(self.member)
            self.just_joined = True

    def channel(self) -> ConversationRef:
        """The community's home channel."""
        return channel_of(self.require_community())


def channel_of(community: Community) -> ConversationRef:
    """A community's home channel, where its polls, reminders and results are posted."""
    return ConversationRef(community.platform, community.workspace_id, community.channel_id)


async def find_member(session: AsyncSession, community_id: int, user_id: str) -> Member | None:
    return (
        await session.execute(
            select(Member).where(Member.community_id == community_id, Member.user_id == user_id)
        )
    ).scalar_one_or_none()


async def add_member(session: AsyncSession, community: Community, actor: Actor, now) -> Member:  # type: ignore[no-untyped-def]
    member = Member(
        community_id=community.id,  # type: ignore[arg-type]
        user_id=actor.user.user_id,
        display_name=actor.name[:100],
        role="member",
        joined_at=now,
    )
    session.add(member)
    await session.flush()
    return member


def require(ctx: Context, role: Role) -> None:
    """Refuse, in one sentence, when the actor's role in the current community is below `role`."""
    if ctx.role() >= role:
        return
    if role == Role.ADMIN:
        raise UserError(ctx.t("core.refuse.admin_only"))
    if role == Role.FACILITATOR:
        name = ctx.community.name if ctx.community else ""
        raise UserError(ctx.t("core.refuse.facilitator_only", community=name))
    raise UserError(ctx.t("core.refuse.members_only"))
