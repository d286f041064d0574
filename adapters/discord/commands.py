"""Builds the ``/cop`` application-command group from the core's command registry.

One sub-command per one-word path (``/cop help``), a sub-command group per first word of
two-word paths (``/cop facilitator add``). Parameter kinds become typed options: ``int`` an
integer, ``user`` a user picker, ``choices`` a fixed choice list, ``zone`` a text option
with autocompletion of IANA zones; text options carry the registry's ``max_length``.
Every callback hands the raw option values to `on_command`, which validates them with the
core's `validate_params` and runs the command.

Descriptions are English by default and carry their catalog key (a ``locale_str`` with
``key=``); `CatalogTranslator`, installed on the command tree before the sync, gives Discord
their text in every other language circlebot has a catalog for (Spanish for Discord's
``es-ES`` and ``es-419``), so a member whose app is in Spanish reads ``/cop`` in Spanish.
Names stay as they are: they are what Slack and the console type too.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import discord
from discord import app_commands

from bot.commands import Command, Param, Registry
from bot.i18n import DEFAULT_LANGUAGE, Translator, load_catalog, translator
from bot.languages import catalog_language
from bot.zones import accepted_zones

log = logging.getLogger(__name__)

# Discord application-command limits.
MAX_CHILDREN = 25  # sub-commands / groups per group, and options per command: 25
MAX_DESCRIPTION = 100  # command and option descriptions: 1-100 characters
MAX_CHOICES = 25  # fixed choices per option: 25 (more become autocompletion)
MAX_TEXT_OPTION = 6000  # string option max_length: 6,000
_NAME = re.compile(r"^[-_\w]{1,32}$")  # command and option names: 1-32 lowercase word chars

OnCommand = Callable[[discord.Interaction, Command, dict[str, Any]], Awaitable[None]]
# `/cop more` has no registry command of its own: the typed text names one.
OnText = Callable[[discord.Interaction, Command | None, dict[str, Any]], Awaitable[None]]
AppCommand = app_commands.Command[Any, ..., None]

# Only names the core accepts, so a suggestion is never refused after it is picked.
_ZONES = accepted_zones()


async def zone_autocomplete(
    _interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Accepted IANA zones containing what was typed (Discord shows at most 25 suggestions)."""
    needle = current.lower().replace(" ", "_")
    found = [z for z in _ZONES if needle in z.lower()][:MAX_CHOICES]
    return [app_commands.Choice(name=z, value=z) for z in found]


def _describe(t: Translator, key: str, **values: Any) -> str:
    try:
        text = t(key, **values)
    except KeyError:
        text = key
    text = " ".join(text.split()) or "-"
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def _described(t: Translator, key: str, **values: Any) -> app_commands.locale_str:
    """The description in `t`'s language, carrying its key for `CatalogTranslator`."""
    return app_commands.locale_str(_describe(t, key, **values), key=key, values=values)


#: Where a translation is asked for that circlebot gives: descriptions only.
_DESCRIPTIONS = frozenset(
    {
        app_commands.TranslationContextLocation.command_description,
        app_commands.TranslationContextLocation.group_description,
        app_commands.TranslationContextLocation.parameter_description,
    }
)


class CatalogTranslator(app_commands.Translator):
    """Command, group and option descriptions from the catalogs, for each Discord locale
    whose language has one (``es-ES`` and ``es-419`` read Spanish). A key the language has
    no text for yet gets none, so Discord shows the English one."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        lang = catalog_language(locale.value)
        if key is None or lang in (None, DEFAULT_LANGUAGE) or context.location not in _DESCRIPTIONS:
            return None
        assert lang is not None
        if key not in load_catalog(lang):
            return None
        return _describe(translator(lang), key, **string.extras.get("values", {}))


def _annotation(p: Param) -> Any:
    if p.choices and len(p.choices) <= MAX_CHOICES:
        return Literal[p.choices]
    if p.kind == "int":
        return int
    if p.kind == "user":
        return discord.User
    return app_commands.Range[str, 1, min(p.max_length, MAX_TEXT_OPTION)]


def _choice_autocomplete(choices: tuple[str, ...]) -> Callable[..., Any]:
    async def complete(
        _interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        found = [c for c in choices if current.lower() in c][:MAX_CHOICES]
        return [app_commands.Choice(name=c, value=c) for c in found]

    return complete


def build_command(cmd: Command, on_command: OnCommand, t: Translator) -> AppCommand:
    """One app command for a registry command; options required-first (Discord's rule)."""
    params = sorted(cmd.params, key=lambda p: not p.required)[:MAX_CHILDREN]
    for p in params:
        if not _NAME.match(p.name) or p.name != p.name.lower():
            raise ValueError(f"{cmd.name}: parameter {p.name!r} is not a Discord option name")

    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        await on_command(interaction, cmd, values)

    signature = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD)] + [
        inspect.Parameter(
            p.name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=_annotation(p),
            default=inspect.Parameter.empty if p.required else None,
        )
        for p in params
    ]
    callback.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]  # discord.py reads the options from it
    callback.__annotations__ = {}
    command: AppCommand = app_commands.Command(
        name=cmd.path[-1], description=_described(t, cmd.help), callback=callback
    )
    for p in params:
        parameter = command._params[p.name]
        parameter.description = _described(t, p.help)
        if p.kind == "zone" and not p.choices:
            parameter.autocomplete = zone_autocomplete
        elif p.choices and len(p.choices) > MAX_CHOICES:
            parameter.autocomplete = _choice_autocomplete(p.choices)
    return command


def build_cop_group(
    registry: Registry,
    on_command: OnCommand,
    t: Translator | None = None,
    *,
    on_text: OnText | None = None,
) -> app_commands.Group:
    """The ``/cop`` group with every registry command, usable in servers and in DMs.

    Discord allows 25 children per group; if the registry ever outgrows that, the rest stay
    reachable through ``/cop more text:"..."`` (parsed like Slack and the console do).
    """
    t = t or Translator()
    cop = app_commands.Group(
        name="cop",
        description=_described(t, "adapters.discord.cmd.cop"),
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True),
    )
    subgroups: dict[str, app_commands.Group] = {}
    overflow: list[Command] = []
    for cmd in registry.commands.values():
        first = cmd.path[0]
        top_level = len(cop.commands)
        if len(cmd.path) == 1:
            if top_level >= MAX_CHILDREN - 1:  # keep one slot for /cop more
                overflow.append(cmd)
                continue
            cop.add_command(build_command(cmd, on_command, t))
            continue
        group = subgroups.get(first)
        if group is None:
            if top_level >= MAX_CHILDREN - 1:
                overflow.append(cmd)
                continue
            group = app_commands.Group(
                name=first, description=_described(t, "adapters.discord.cmd.group", name=first)
            )
            subgroups[first] = group
            cop.add_command(group)
        if len(group.commands) >= MAX_CHILDREN:
            overflow.append(cmd)
            continue
        group.add_command(build_command(cmd, on_command, t))
    if overflow:
        log.warning(
            "%d commands exceed Discord's 25 per group; reachable via /cop more", len(overflow)
        )
        if on_text is not None:
            cop.add_command(_more_command(on_text, t))
    return cop


def _more_command(on_text: OnText, t: Translator) -> AppCommand:
    async def more(interaction: discord.Interaction, text: app_commands.Range[str, 1, 300]) -> None:
        await on_text(interaction, None, {"text": text})

    more.__annotations__ = {"text": app_commands.Range[str, 1, 300]}
    command: AppCommand = app_commands.Command(
        name="more", description=_described(t, "adapters.discord.cmd.more"), callback=more
    )
    command._params["text"].description = _described(t, "adapters.discord.cmd.more_text")
    return command
