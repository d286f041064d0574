"""``/cop my language [es|en|auto]``: the language circlebot writes to this person in.

It covers what is theirs alone: direct messages, private answers and forms; channel posts
stay in each community's language. Like the time zone, it is kept on every member row the
person has on this workspace (a community they join later copies it as it makes their
row: `bot.context.Context.join`). ``auto`` clears it: then the language their
app is in (the platform's locale) is used when circlebot speaks it, else the community's
(`bot.languages`). Alone, the command says which language is used and why.
"""

from __future__ import annotations

import logging

from bot.context import Context, UserError
from bot.events import Reply, Respond
from bot.features.mydata.people import rows_of
from bot.i18n import Translator, available_languages, load_catalog, translator
from bot.languages import AUTO, catalog_language, community_language, member_language
from bot.ui import Message
from storage.models import Community, Member

log = logging.getLogger(__name__)


def language_name(t: Translator, lang: str) -> str:
    """A language's name in `t`'s language (``español``, ``Spanish``), or its code."""
    key = f"mydata.language.name.{lang}"
    return t(key) if key in load_catalog("en") else lang


def chosen(typed: str) -> str | None:
    """The catalog language `typed` names (a code, a locale such as es-MX, or a language's
    name in any catalog: "español", "Spanish"), or None."""
    word = typed.strip().lower()
    lang = catalog_language(word)
    if lang is not None:
        return lang
    for lang in available_languages():
        for speaker in available_languages():
            if language_name(translator(speaker), lang).lower() == word:
                return lang
    return None


async def my_language(ctx: Context) -> Reply:
    """Show the person's language and where it comes from, or set (or clear) it everywhere."""
    rows = await rows_of(ctx.session, ctx.actor.user)
    typed = ctx.params.get("language")
    if typed is None:
        return Respond(Message(text=_shown(ctx, rows)))
    wanted = None if typed.strip().lower() == AUTO else chosen(typed)
    if wanted is None and typed.strip().lower() != AUTO:
        codes = ", ".join(available_languages())  # codes: data, not words of a sentence
        raise UserError(ctx.t("mydata.language.unknown", language=typed[:20], choices=codes))
    if not rows:
        raise UserError(ctx.t("mydata.language.nowhere"))
    for _community, member in rows:
        member.language = wanted
        ctx.session.add(member)
    log.info("language set by %s in %d communities", ctx.actor.user.user_id, len(rows))
    # The answer is already in the language chosen (or the one now in force).
    if wanted is not None:
        ctx.t = translator(wanted)
        name = language_name(ctx.t, wanted)
        return Respond(Message(text=ctx.t("mydata.language.set", language=name)))
    community, member = _here(ctx, rows)
    live = ctx.actor.locale
    lang = member_language(member, community, live)
    ctx.t = translator(lang)
    if catalog_language(live or member.platform_locale) is not None:
        key = "mydata.language.cleared_platform"
    else:
        key = "mydata.language.cleared"
    return Respond(Message(text=ctx.t(key, language=language_name(ctx.t, lang))))


def _here(ctx: Context, rows: list[tuple[Community, Member]]) -> tuple[Community, Member]:
    """The community and row the answer speaks of: the current one, else the oldest."""
    for community, member in rows:
        if ctx.community is not None and community.id == ctx.community.id:
            return community, member
    return rows[0]


def _shown(ctx: Context, rows: list[tuple[Community, Member]]) -> str:
    if not rows:
        lang = member_language(None, ctx.community, ctx.actor.locale)
        return ctx.t("mydata.language.default", language=language_name(ctx.t, lang))
    community, member = _here(ctx, rows)
    own = next((m.language for _c, m in rows if m.language), None)
    if own is not None:
        return ctx.t("mydata.language.own", language=language_name(ctx.t, own))
    platform = catalog_language(ctx.actor.locale or member.platform_locale)
    if platform is not None:
        return ctx.t("mydata.language.platform", language=language_name(ctx.t, platform))
    lang = community_language(community)
    return ctx.t(
        "mydata.language.community", language=language_name(ctx.t, lang), community=community.name
    )
