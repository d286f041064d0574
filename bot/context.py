"""The one context that command, button, form, hook and job handlers all get.

A `Context` is one transaction: ``ctx.session`` plus the effects a handler may have,
all written in that session so they commit together or not at all:
``ctx.schedule.at(...)`` / ``ctx.schedule.cancel(...)`` (durable jobs), ``ctx.outbox``
(messages), ``ctx.emit(hook, payload)`` (other features), ``ctx.get(Model, id)``
(an object of this community, or a one-sentence refusal). Joining a community is an
explicit decision (`Context.enter` with ``join``), never a side effect of loading.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.audience import Audiences
from bot.commands import Registry, Role
from bot.events import (
    ActionClicked,
    Actor,
    CommandInvoked,
    ConversationRef,
    Event,
    FormSubmitted,
    MemberJoined,
    Place,
)
from bot.hooks import HOOKS
from bot.i18n import Translator, translator
from bot.jobs import Claimed, Schedule
from bot.languages import community_language, language_chosen, member_language
from bot.metrics import Metrics
from bot.outbox import BoundOutbox, Outbox
from bot.ports import Capabilities, Clock
from bot.sealed import Sealer
from bot.ui import ActionId
from bot.zones import ZoneRefused, canonical_zone
from storage.db import Database
from storage.models import Community, Member, MemberRole

M = TypeVar("M")


class UserError(Exception):
    """A refusal or a bad input: `str()` is one sentence shown privately to the asker."""


@dataclass
class Services:
    """Everything features share, built once by the app and passed in (no globals)."""

    db: Database
    clock: Clock
    outbox: Outbox
    registry: Registry
    wake_outbox: Callable[[], None] = lambda: None
    wake_jobs: Callable[[], None] = lambda: None
    default_timezone: str = "UTC"
    # What each platform can show, by platform name; features ask `ctx.capabilities`.
    capabilities: dict[str, Capabilities] = field(default_factory=dict)
    # Channel audiences for poll turnout, read from the cache only (`bot.audience`).
    audiences: Audiences = field(default_factory=Audiences)
    # Seals and opens reflection text (`bot.sealed`); one key per deployment.
    sealer: Sealer = field(default_factory=Sealer.generate)
    # What the dispatcher, jobs and outbox count for /metrics (`bot.metrics`); one per app.
    metrics: Metrics = field(default_factory=Metrics)


@dataclass
class Context:
    """One event or one job being handled, inside one transaction."""

    services: Services
    session: AsyncSession
    event: Event | None = None
    job: Claimed | None = None
    community: Community | None = None
    member: Member | None = None
    params: dict[str, str] = field(default_factory=dict)
    # The actor's language (`bot.languages`): private answers, forms, their own DMs. In a job,
    # the community's. Channel posts use `t_channel`, the community's language.
    t: Translator = field(default_factory=Translator)
    t_channel: Translator = field(default_factory=Translator)
    just_joined: bool = False
    # Set by the dispatcher from the action's declaration: may this press make a member?
    may_join: bool = False
    # Whether the handler checked the button's community (`enter`); actions must.
    entered: bool = False
    scheduled: bool = False
    # The community whose member row for the actor `member` already is (None or a row),
    # looked up in this transaction: `enter` then does not read it again.
    member_of: int | None = None
    _schedule: Schedule | None = None
    _outbox: BoundOutbox | None = None

    @property
    def actor(self) -> Actor:
        if self.event is None:
            raise RuntimeError("a job has no actor")
        return self.event.actor

    @property
    def place(self) -> Place:
        if self.event is None:
            raise RuntimeError("a job has no place")
        return self.event.place

    @property
    def now(self) -> datetime:
        return self.services.clock.now()

    @property
    def action(self) -> ActionId:
        assert isinstance(self.event, ActionClicked)
        return self.event.action

    @property
    def schedule(self) -> Schedule:
        if self._schedule is None:
            self._schedule = Schedule(
                self.session,
                self.services.clock,
                lambda: self.community.id if self.community else None,
                self._job_written,
            )
        return self._schedule

    def _job_written(self, _when: datetime) -> None:
        self.scheduled = True

    @property
    def outbox(self) -> BoundOutbox:
        if self._outbox is None:
            self._outbox = BoundOutbox(self.services.outbox, self.session)
        return self._outbox

    @property
    def capabilities(self) -> Capabilities:
        """What the current community's platform can show (defaults when unknown)."""
        platform = self.community.platform if self.community else None
        if platform is None and self.event is not None:
            platform = self.event.actor.user.platform
        return self.services.capabilities.get(platform or "", Capabilities())

    def require_community(self) -> Community:
        if self.community is None:
            raise UserError(self.t("core.refuse.no_community"))
        return self.community

    def role(self) -> Role:
        """The actor's role in the resolved community."""
        if self.event is not None and self.actor.is_admin:
            return Role.ADMIN
        if self.member is not None and self.member.role == MemberRole.FACILITATOR:
            return Role.FACILITATOR
        if self.member is not None and self.member.role != MemberRole.LEFT:
            return Role.MEMBER
        return Role.ANYONE

    def is_member(self) -> bool:
        return self.member is not None and self.member.role != MemberRole.LEFT

    async def get(self, model: type[M], object_id: int | str) -> M:
        """The row of this community with that id, or a one-sentence refusal.

        A row of another community is refused exactly like a missing one would be wrong to
        use: the id may have been copied from somewhere else.
        """
        row = await self.session.get(model, object_id)
        if row is None:
            raise UserError(self.t("core.refuse.stale_button"))
        owner = getattr(row, "community_id", None)
        if self.community is not None and owner is not None and owner != self.community.id:
            raise UserError(self.t("core.refuse.other_object"))
        return row

    async def enter(self, community_id: int, *, join: bool | None = None) -> Community:
        """Switch to the community a button or form names, and check the actor may act there.

        A button of community A works only for members of A, pressed in A's channel or in a
        DM; so does a form, which answers from where its button was pressed. A non-member may
        become a member by it only when the action declared so (``joins``, or `join` here)
        and only in A's own channel.
        """
        community = await self.session.get(Community, community_id)
        if community is None:
            raise UserError(self.t("core.refuse.gone"))
        self.t_channel = translator(community_language(community))
        self.t = translator(member_language(None, community, self.actor.locale))
        if community.platform != self.actor.user.platform or (
            community.workspace_id != self.actor.user.workspace_id
        ):
            raise UserError(self.t("core.refuse.other_community"))
        conv = self.place.conversation
        at_home = not self.place.is_dm and conv.channel_id == community.channel_id
        form = isinstance(self.event, FormSubmitted)
        elsewhere, outsider = (
            ("core.refuse.form_other_place", "core.refuse.form_not_member")
            if form
            else ("core.refuse.other_place", "core.refuse.not_member")
        )
        pressed = form or isinstance(self.event, ActionClicked)
        if pressed and not self.place.is_dm and not at_home:
            raise UserError(self.t(elsewhere, community=community.name))
        if self.member_of == community.id:  # the dispatcher read it for the channel's community
            member = self.member
        else:
            member = await find_member(self.session, community.id, self.actor.user.user_id)
        self.community, self.member, self.member_of = community, member, community.id
        self.speak_to_actor()
        if member is not None and member.role == MemberRole.LEFT and not self._rejoins():
            self.community, self.member, self.member_of = None, None, None
            raise UserError(self.t("core.refuse.left"))
        if not self.is_member():
            may_join = self.may_join if join is None else join
            if not (may_join and at_home):
                self.community, self.member, self.member_of = None, None, None
                raise UserError(self.t(outsider, community=community.name))
            await self.join()
        self.entered = True
        return community

    async def join(self) -> None:
        """Make the actor a member of the current community on first use.

        Leaving sticks: someone who left comes back only by `/cop join` or by entering the
        channel again (`_rejoins`); anything else they try is refused in one sentence. A
        workspace admin who left keeps their admin rights without becoming a member again.
        """
        if self.community is None:
            return
        if self.member is None:
            self.member = await add_member(self.session, self.community, self.actor, self.now)
            self.just_joined = self.member.role != MemberRole.LEFT
            if self.member.language is None:
                # One person, one language: the one they chose in another community here
                # (before any hook writes to them, a welcome note included).
                self.member.language = await language_chosen(
                    self.session, self.community, self.actor.user.user_id
                )
                self.session.add(self.member)
                self.speak_to_actor()
        if self.member.role != MemberRole.LEFT:
            return
        if not self._rejoins():
            if self.event is not None and self.actor.is_admin:
                return
            raise UserError(self.t("core.refuse.left"))
        self.member.role = MemberRole.MEMBER
        self.member.joined_at = self.now
        self.session.add(self.member)
        self.just_joined = True

    def speak_to_actor(self) -> None:
        """Set `t` to the actor's language and `t_channel` to the community's."""
        live = self.event.actor.locale if self.event is not None else None
        self.t_channel = translator(community_language(self.community))
        self.t = translator(member_language(self.member, self.community, live))

    def _rejoins(self) -> bool:
        """Whether this event brings back a member who left: `/cop join`, or entering the channel."""
        event = self.event
        if isinstance(event, MemberJoined):
            return True
        return isinstance(event, CommandInvoked) and event.path == ("join",)

    def channel(self) -> ConversationRef:
        """The community's home channel."""
        return channel_of(self.require_community())

    async def emit(self, hook: str, payload: object) -> list[Any]:
        """Run every subscriber of `hook` in this transaction; returns their non-None results."""
        expected = HOOKS.get(hook)
        if expected is None or not isinstance(payload, expected):
            raise TypeError(f"hook {hook!r} takes a {expected.__name__ if expected else '?'}")
        results = []
        for fn in self.services.registry.hooks.get(hook, []):
            result = await fn(self, payload)
            if result is not None:
                results.append(result)
        return results


@asynccontextmanager
async def background(services: Services) -> AsyncIterator[Context]:
    """A context with no event, for work the app starts itself (reconcilers, benchmarks)."""
    async with services.db.session() as session:
        ctx = Context(services, session)
        yield ctx
    if ctx.scheduled:
        services.wake_jobs()
    services.wake_outbox()


def channel_of(community: Community) -> ConversationRef:
    """A community's home channel, where its polls, reminders and results are posted."""
    return ConversationRef(community.platform, community.workspace_id, community.channel_id)


def check_zone(t: Translator, zone: str) -> str:
    """The zone's accepted IANA name (`bot.zones`), or a one-sentence refusal with a suggestion."""
    try:
        return canonical_zone(zone)
    except ZoneRefused as refused:
        raise UserError(t(refused.key, **refused.values)) from None


async def find_member(session: AsyncSession, community_id: int, user_id: str) -> Member | None:
    return (
        await session.execute(
            select(Member).where(
                col(Member.community_id) == community_id, col(Member.user_id) == user_id
            )
        )
    ).scalar_one_or_none()


async def add_member(
    session: AsyncSession, community: Community, actor: Actor, now: datetime
) -> Member:
    """Insert the member, or find the row a simultaneous first click just wrote (an upsert).

    A row found there keeps its role, "left" included: `Context.join` decides about that.
    """
    assert community.id is not None
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    added = await session.execute(
        insert(Member)
        .values(
            community_id=community.id,
            user_id=actor.user.user_id,
            display_name=actor.name[:100],
            role=MemberRole.MEMBER,
            joined_at=now,
        )
        .on_conflict_do_nothing(index_elements=["community_id", "user_id"])
        .returning(Member)
    )
    member = added.scalar_one_or_none() or await find_member(
        session, community.id, actor.user.user_id
    )
    assert member is not None
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
