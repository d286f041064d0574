"""One declarative registry of everything circlebot answers to.

Commands (``/cop <group> <name> params``), button actions, form submissions and
scheduled job kinds are registered here by each feature. Adapters read the same
registry: Slack and the console parse command text with `Registry.parse`, Discord
turns `Registry.commands` into app commands, and `/cop help` lists what the asking
person may run. Paths are at most two words deep because Discord allows no more
(``/cop facilitator add``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Literal

from bot.events import Reply
from bot.i18n import Translator
from bot.text import clean

if TYPE_CHECKING:
    from bot.context import Context
    from bot.feature import (
        Action,
        ActionHandler,
        Feature,
        FormHandler,
        HookHandler,
        JobHandler,
        Reconciler,
    )

MAX_PATH = 2
ParamKind = Literal["text", "int", "choice", "user", "zone", "when", "duration"]


class Role(IntEnum):
    """Who may run something; a higher role may do everything a lower one may.

    The values are never stored (members' roles are `storage.models.MemberRole`), only
    compared. `HOST` is a member a facilitator handed one meeting to: the dispatcher lets
    them run `HOST` commands through `bot.hosting` while that meeting is on.
    """

    ANYONE = 0
    MEMBER = 1
    HOST = 2
    FACILITATOR = 3
    ADMIN = 4


@dataclass(frozen=True)
class Param:
    """A typed command parameter; `rest` takes the remainder of the line (last one only)."""

    name: str
    help: str  # translation key
    kind: ParamKind = "text"
    required: bool = True
    choices: tuple[str, ...] = ()
    rest: bool = False
    max_length: int = 300
    # Only as ``name=value`` in typed text, so an unquoted text parameter before it takes the rest.
    keyword: bool = False
    # Keeps its line breaks (a list typed one item a line); other text is made one line.
    multiline: bool = False


CommandHandler = Callable[["Context"], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    """``/cop`` + `path` + `params`; `help` and `example` are translation keys."""

    path: tuple[str, ...]
    help: str
    handler: CommandHandler
    role: Role = Role.MEMBER
    params: tuple[Param, ...] = ()
    example: str | None = None
    needs_community: bool = True

    @property
    def name(self) -> str:
        return " ".join(self.path)

    def usage(self) -> str:
        """``/cop meeting series SCHEDULE [title=] [dm=yes|no]``: the form help and README show.

        Leading parameters that are given in order show as NAME; once one is an optional
        ``name=value`` (or keyword-only), the rest show as ``name=`` too.
        """
        parts = ["/cop", *self.path]
        in_order = True
        last = len(self.params) - 1
        for i, p in enumerate(self.params):
            takes_rest = p.rest or i == last and p.kind == "text"
            in_order = in_order and not p.keyword and (i == 0 or p.required or takes_rest)
            choices = "|".join(p.choices)
            if in_order:
                shown = choices or p.name.upper()
            elif p.required:
                shown = f"{p.name}={choices or p.name.upper()}"
            else:
                shown = f"{p.name}={choices}"
            parts.append(shown if p.required else f"[{shown}]")
        return " ".join(parts)


class ParseError(ValueError):
    """Command text that does not fit; `str()` is one user-facing sentence."""


#: The path of a `CommandInvoked` whose text an adapter could not parse (its params hold
#: ``{"text": ...}``): the dispatcher parses it again with the person's translator, so the
#: refusal reads in their language, which the adapter cannot know.
UNPARSED: tuple[str, ...] = ("",)


@dataclass(frozen=True)
class Token:
    """One word of command text; `option` is the name of an unquoted ``name=`` it starts with."""

    text: str
    option: str | None = None

    @property
    def word(self) -> str:
        """The word as typed, without its quotes."""
        return f"{self.option}={self.text}" if self.option else self.text


_OPTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_SPACE = " \t\n"


def tokenize(text: str) -> list[Token]:
    """Split like `shlex.split` (POSIX quotes and backslashes), remembering unquoted ``name=``.

    ``close="in 2 days"`` is an option; ``"close=in 2 days"`` and ``\\close=...`` are text.
    Raises `ValueError` for an unclosed quote or a trailing backslash.
    """
    tokens: list[Token] = []
    chars: list[str] = []
    quoted: list[bool] = []
    started = False
    i, n = 0, len(text)

    def finish() -> None:
        word = "".join(chars)
        eq = word.find("=")
        option = None
        if eq > 0 and not any(quoted[: eq + 1]) and _OPTION_NAME.fullmatch(word[:eq]):
            option = word[:eq].lower()
        tokens.append(Token(word[eq + 1 :] if option else word, option))
        chars.clear()
        quoted.clear()

    while i < n:
        c = text[i]
        if c in _SPACE:
            if started:
                finish()
                started = False
            i += 1
            continue
        started = True
        if c == "\\":
            if i + 1 >= n:
                raise ValueError("no escaped character")
            chars.append(text[i + 1])
            quoted.append(True)
            i += 2
        elif c in "'\"":
            end = i + 1
            while True:
                if end >= n:
                    raise ValueError("no closing quotation")
                if c == '"' and text[end] == "\\" and end + 1 < n and text[end + 1] in '"\\':
                    chars.append(text[end + 1])
                    quoted.append(True)
                    end += 2
                    continue
                if text[end] == c:
                    break
                chars.append(text[end])
                quoted.append(True)
                end += 1
            i = end + 1
        else:
            chars.append(c)
            quoted.append(False)
            i += 1
    if started:
        finish()
    return tokens


_MENTION = re.compile(r"^<@!?([A-Za-z0-9]+)(?:\|[^>]*)?>$")


def normalise_user(raw: str) -> str:
    """``<@U123|ana>``, ``<@123>`` or ``@ana`` -> the user id (``U123``, ``123``, ``ana``)."""
    m = _MENTION.match(raw)
    if m:
        return m.group(1)
    return raw[1:] if raw.startswith("@") else raw


@dataclass
class Registry:
    """Everything the features declared, gathered from their `Feature` objects."""

    commands: dict[tuple[str, ...], Command] = field(default_factory=dict)
    actions: dict[tuple[str, str], Action] = field(default_factory=dict)
    forms: dict[str, FormHandler] = field(default_factory=dict)
    jobs: dict[str, JobHandler] = field(default_factory=dict)
    reconcilers: list[Reconciler] = field(default_factory=list)
    hooks: dict[str, list[HookHandler]] = field(default_factory=dict)
    emits: set[str] = field(default_factory=set)
    features: list[str] = field(default_factory=list)
    home: ActionHandler | None = None
    # Which feature declared each command, so help can group them by job.
    owners: dict[tuple[str, ...], str] = field(default_factory=dict)

    @classmethod
    def of(cls, features: Sequence[Feature]) -> Registry:
        registry = cls()
        for feature in features:
            registry.add(feature)
        return registry

    def add(self, feature: Feature) -> None:
        """Take in one feature's declarations; a name declared twice is a programming error."""
        from bot.hooks import HOOKS

        if feature.name in self.features:
            raise ValueError(f"feature {feature.name!r} added twice")
        self.features.append(feature.name)
        for cmd in feature.commands:
            self.command(cmd)
            self.owners[cmd.path] = feature.name
        for key, action in feature.actions.items():
            name, _, verb = key.partition(":")
            if not verb or (name, verb) in self.actions:
                raise ValueError(f"{feature.name}: bad or repeated action {key!r}")
            self.actions[(name, verb)] = action
        for form_id, handler in feature.forms.items():
            if form_id in self.forms:
                raise ValueError(f"{feature.name}: form {form_id!r} registered twice")
            self.forms[form_id] = handler
        for kind, job in feature.jobs.items():
            if kind in self.jobs:
                raise ValueError(f"{feature.name}: job kind {kind!r} registered twice")
            self.jobs[kind] = job
        for hook in [*feature.hooks, *feature.emits]:
            if hook not in HOOKS:
                raise ValueError(f"{feature.name}: unknown hook {hook!r} (see bot.hooks)")
        for hook, fn in feature.hooks.items():
            self.hooks.setdefault(hook, []).append(fn)
        self.emits.update(feature.emits)
        if feature.reconcile is not None:
            self.reconcilers.append(feature.reconcile)
        if feature.home is not None:
            if self.home is not None:
                raise ValueError(f"{feature.name}: a second home view")
            self.home = feature.home

    def command(self, cmd: Command) -> None:
        if not 1 <= len(cmd.path) <= MAX_PATH:
            raise ValueError(f"command path {cmd.path} must be 1..{MAX_PATH} words")
        if cmd.path in self.commands:
            raise ValueError(f"command {cmd.name!r} registered twice")
        rests = [p for p in cmd.params if p.rest]
        # Keyword-only parameters are never positional, so they may follow the rest.
        positional = [p for p in cmd.params if not p.keyword]
        if rests and positional[-1] is not rests[0]:
            raise ValueError(f"{cmd.name}: only the last positional parameter may take the rest")
        self.commands[cmd.path] = cmd

    def groups(self) -> dict[str, list[Command]]:
        """Commands by first word, for Discord's sub-command groups and for help."""
        out: dict[str, list[Command]] = {}
        for cmd in self.commands.values():
            out.setdefault(cmd.path[0], []).append(cmd)
        return out

    def suggest(self, words: Sequence[str]) -> str | None:
        """The command or group name nearest to mistyped `words` (``meetng list``), if close."""
        names = sorted({c.name for c in self.commands.values()} | set(self.groups()))
        typed = " ".join(w.lower() for w in words[:MAX_PATH])
        near = difflib.get_close_matches(typed, names, n=1, cutoff=0.6)
        if not near and len(words) > 1:
            near = difflib.get_close_matches(words[0].lower(), names, n=1, cutoff=0.6)
        return near[0] if near else None

    def unknown(self, words: Sequence[str], t: Translator) -> str:
        """One sentence refusing a command that does not exist, with the nearest one if any."""
        group, near = words[0], self.suggest(words)
        if group in self.groups():
            if len(words) > 1 and near and near.startswith(f"{group} "):
                return t(
                    "core.parse.unknown_sub_near", group=group, sub=excerpt(words[1]), near=near
                )
            subs = sorted(c.path[-1] for c in self.groups()[group] if len(c.path) > 1)
            return t("core.parse.unknown_sub", group=group, subs=", ".join(subs))
        if near:
            typed = " ".join(words[: near.count(" ") + 1])
            return t("core.parse.unknown_near", word=excerpt(typed), near=near)
        return t("core.parse.unknown", word=excerpt(group))

    def parse(self, text: str, t: Translator) -> tuple[Command, dict[str, str]]:
        """Split ``"facilitator add @ben"`` into the command and its raw parameters.

        Parameters may be positional or ``name=value``; quotes group words. An unquoted
        ``name=`` must name a parameter of the command, once: a misspelled option is refused,
        never read as text (quote it, ``"a=b"``, to mean the text).
        """
        try:
            tokens = tokenize(clean(text, multiline=True))
        except ValueError:
            raise ParseError(t("core.parse.quotes")) from None
        if not tokens:
            tokens = [Token("help")]
        words = [w.word.lower() for w in tokens[:MAX_PATH]]
        cmd = None
        for depth in range(min(MAX_PATH, len(words)), 0, -1):
            cmd = self.commands.get(tuple(words[:depth]))
            if cmd:
                tokens = tokens[depth:]
                break
        if cmd is None:
            raise ParseError(self.unknown(words, t))
        return cmd, self._bind(cmd, tokens, t)

    def _bind(self, cmd: Command, tokens: list[Token], t: Translator) -> dict[str, str]:
        by_name = {p.name: p for p in cmd.params}
        values: dict[str, str] = {}
        positional: list[str] = []
        for tok in tokens:
            if tok.option is None:
                positional.append(tok.text)
            elif tok.option not in by_name:
                raise ParseError(unknown_option(cmd, tok.option, t))
            elif tok.option in values:
                raise ParseError(t("core.parse.twice", name=tok.option))
            else:
                values[tok.option] = tok.text
        free = [p for p in cmd.params if p.name not in values and not p.keyword]
        for i, p in enumerate(free):
            if not positional:
                break
            if p.rest or i == len(free) - 1 and p.kind == "text":
                values[p.name] = " ".join(positional)
                positional = []
                break
            values[p.name] = positional.pop(0)
        if positional:
            raise ParseError(
                t("core.parse.extra", extra=excerpt(" ".join(positional), 60), usage=cmd.usage())
            )
        return validate_params(cmd, values, t)


def excerpt(typed: str, limit: int = 40) -> str:
    """What a refusal quotes of typed text: one line (an escaped or quoted line break stays
    inside a word), at most `limit` characters, so the refusal stays one sentence."""
    return clean(typed)[:limit]


def unknown_option(cmd: Command, name: str, t: Translator) -> str:
    """One sentence refusing ``name=``, naming the nearest parameter of `cmd` if one is close."""
    shown = name[:30]
    near = difflib.get_close_matches(name, [p.name for p in cmd.params], n=1, cutoff=0.75)
    if near:
        return t("core.parse.unknown_option_near", name=shown, near=near[0])
    if not cmd.params:
        return t("core.parse.unknown_option_none", name=shown, command=cmd.name)
    return t("core.parse.unknown_option", name=shown, command=cmd.name, usage=cmd.usage())


def validate_params(cmd: Command, raw: dict[str, str], t: Translator) -> dict[str, str]:
    """Clean every value (`bot.text.clean`), then check required, length, choices and ints.

    Lengths count the cleaned text; a parameter given but empty (``name=""``, only spaces)
    is refused rather than ignored, one left out is missing. Also used for Discord,
    whose options arrive already split, and again by the dispatcher for every command, so
    checking twice changes nothing.
    """
    out: dict[str, str] = {}
    for p in cmd.params:
        value = clean(raw.get(p.name), multiline=p.multiline)
        if not value:
            if raw.get(p.name) is not None:
                raise ParseError(t("core.parse.empty", name=p.name))
            if p.required:
                raise ParseError(t("core.parse.missing", name=p.name, usage=cmd.usage()))
            continue
        if len(value) > p.max_length:
            raise ParseError(t("core.parse.too_long", name=p.name, max=p.max_length))
        if p.choices and value.lower() not in p.choices:
            raise ParseError(
                t(
                    "core.parse.choice",
                    name=p.name,
                    choices=", ".join(p.choices),
                    value=excerpt(value),
                )
            )
        # ASCII digits only: re's \d and int() also take "+1", "0_1" and Arabic-Indic digits.
        if p.kind == "int" and not re.fullmatch(r"[0-9]{1,9}", value):
            raise ParseError(t("core.parse.int", name=p.name, value=excerpt(value)))
        if p.kind == "user":
            typed, value = value, normalise_user(value)
            # "@" alone, or a mention with nobody in it ("<@>", "<@|ana>").
            if not value or value.startswith("<@"):
                raise ParseError(t("core.parse.no_user", value=excerpt(typed)))
        out[p.name] = value.lower() if p.choices else value
    return out


def command_args(values: dict[str, Any]) -> dict[str, str]:
    """Discord option values (ints, users) as the strings `validate_params` expects."""
    return {k: str(getattr(v, "id", v)) for k, v in values.items() if v is not None}
