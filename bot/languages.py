"""Which language a person reads: their own choice, else their platform's, else the community's.

Channel posts are the community's (`Community.language`); everything that is one person's
alone (a DM, a private answer, a form) is in that person's language, resolved here once for
every feature: the language they chose with ``/cop my language`` (`Member.language`), else
the locale their platform gives (Slack's ``users.info`` locale, Discord's interaction
locale: `Member.platform_locale`, or the live one of the interaction being answered) when
circlebot has a catalog for it (``es-ES`` and ``es-419`` are ``es``), else the
community's language.

`fan_out_each` is ``ctx.outbox.fan_out`` for a message composed per recipient's language:
the members are grouped by language, so a fan-out to 200 members composes the message once
per language, not once per member.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.i18n import DEFAULT_LANGUAGE, Translator, available_languages, translator
from bot.ui import Message
from storage.models import Community, Member

if TYPE_CHECKING:
    from bot.context import Context

log = logging.getLogger(__name__)

#: Typed instead of a language, clears the member's own choice.
AUTO = "auto"


def _catalogs() -> list[str]:
    """The languages with a catalog (asked each time: a test may register one)."""
    return available_languages()


def catalog_language(locale: str | None) -> str | None:
    """The catalog language of a platform locale (``es-ES``, ``es_419``, ``EN``), or None
    when circlebot has no catalog for it."""
    if not locale:
        return None
    lang = locale.replace("_", "-").split("-", 1)[0].lower()
    return lang if lang in _catalogs() else None


def member_language(
    member: Member | None, community: Community | None, live_locale: str | None = None
) -> str:
    """The language of what `member` reads alone. `live_locale` is the locale the platform
    gave with the interaction being answered (Discord's), fresher than the stored one."""
    if member is not None and member.language and member.language in _catalogs():
        return member.language
    for locale in (live_locale, member.platform_locale if member is not None else None):
        lang = catalog_language(locale)
        if lang is not None:
            return lang
    return community_language(community)


def community_language(community: Community | None) -> str:
    """The language of a community's channel posts."""
    if community is None or community.language not in _catalogs():
        return DEFAULT_LANGUAGE
    return community.language


async def language_chosen(session: AsyncSession, community: Community, user_id: str) -> str | None:
    """The language a person chose (``/cop my language``) on any of their member rows in
    `community`'s workspace, for a row of theirs just made."""
    found = await session.execute(
        select(col(Member.language))
        .join(Community, col(Member.community_id) == col(Community.id))
        .where(
            col(Community.platform) == community.platform,
            col(Community.workspace_id) == community.workspace_id,
            col(Member.user_id) == user_id,
            col(Member.language).is_not(None),
        )
        .limit(1)
    )
    return found.scalar_one_or_none()


def member_t(
    member: Member | None, community: Community | None, ctx: Context | None = None
) -> Translator:
    """A translator for a message to `member` alone (a DM); see `member_language`. With the
    `ctx` of an interaction by that very member, the locale it came with counts too."""
    return translator(member_language(member, community, _live(ctx, member)))


def _live(ctx: Context | None, member: Member | None) -> str | None:
    """The platform locale of the interaction `ctx` handles, when `member` is its actor."""
    event = ctx.event if ctx is not None else None
    if event is None or member is None or event.actor.user.user_id != member.user_id:
        return None
    return event.actor.locale


async def fan_out_each(
    ctx: Context,
    *,
    key: str,
    community: Community,
    members: Iterable[Member],
    compose: Callable[[Translator], Message | Awaitable[Message]],
    sealed: bool = False,
) -> int:
    """DM each member once, in their own language: `compose` (a function or a coroutine
    function) is called once per language.

    Keys are the same as ``ctx.outbox.fan_out``'s (``<key>:member:<id>``), so a retried job
    queues nothing twice whatever language a member reads.
    """
    groups: dict[str, list[Member]] = {}
    for member in members:
        lang = member_language(member, community, _live(ctx, member))
        groups.setdefault(lang, []).append(member)
    queued = 0
    for lang, group in groups.items():
        message = compose(translator(lang))
        if inspect.isawaitable(message):
            message = await message
        queued += await ctx.outbox.fan_out(
            key=key, community=community, members=group, message=message, sealed=sealed
        )
    return queued
