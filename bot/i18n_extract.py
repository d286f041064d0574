"""Babel extraction method for circlebot's message keys (babel.cfg names it).

Babel's own python extractor finds ``t("key")``, ``ctx.t("key")``, ``self.t("key")`` and
``t.n("key", count)`` (keywords ``t`` and ``n``), but it cannot see the keys the code holds
in a variable or a table (``key = "voting.closed"; t(key)``), nor a key family built with
an f-string (``t(f"agreements.how.{how}")``), and it glues ``t("a" if c else "b")`` into
one bogus id ``"ab"``. This method walks the module's syntax tree instead and yields:

* the literal key of every ``t(...)`` / ``.t(...)`` call, both keys of a conditional
  ``t("a" if c else "b")``, and every ``.n("key", count)`` as a plural (the key is both
  msgid and msgid_plural, hence the keyword spec ``n:1,2``);
* every other string constant of the module that is a key of the English catalog (keys
  held in variables and tables);
* every English key an f-string template of the module matches (key families) where each
  placeholder stands for a string constant of the code or a number (so
  ``f"meetings.{err.key}"`` reaches the error keys the code names, not every meetings key).

Each entry carries its English text as an extracted comment (``#. English: ...``), which
``pybabel update`` copies into every language's catalog for its translators. So the
template (``bot/locale/circlebot.pot``) holds every key the code can reach, and
``pybabel update`` never marks a used key obsolete. A brand-new key that the code holds
in a variable must first be added to the English catalog; until then the translator
raises on it (tests catch that).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import IO, Any, NamedTuple

from babel.messages.pofile import read_po

ENGLISH_PO = Path(__file__).parent / "locale" / "en" / "LC_MESSAGES" / "circlebot.po"

Extracted = tuple[int, str | None, str | tuple[str, str], list[str]]


class English(NamedTuple):
    """What the template needs from the English catalog about one key."""

    plural: bool
    text: str


@cache
def english_keys() -> dict[str, English]:
    """Every key of the English catalog: whether it has plural forms, and its text."""
    if not ENGLISH_PO.is_file():
        return {}
    with ENGLISH_PO.open("rb") as fh:
        catalog = read_po(fh, locale="en", domain="circlebot")
    out: dict[str, English] = {}
    for m in catalog:
        if not m.id:
            continue
        key = m.id if isinstance(m.id, str) else m.id[0]
        text = m.string if isinstance(m.string, str) else " | ".join(m.string or ())
        out[key] = English(m.pluralizable, text)
    return out


def template_pattern(node: ast.JoinedStr) -> re.Pattern[str] | None:
    """A regex matching the keys an f-string can produce, or None if it is no key template."""
    parts: list[str] = []
    for value in node.values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            parts.append(re.escape(value.value))
        else:
            parts.append(r"([a-z0-9_-]+)")
    if not parts or parts[0] == r"([a-z0-9_-]+)":
        return None
    pattern = "".join(parts)
    if not re.match(r"[a-z_]+\\\.", pattern):
        return None
    return re.compile(pattern)


def _is_message_call(node: ast.Call) -> str | None:
    """ "t" for a translator call, "n" for a plural one, None for anything else."""
    func = node.func
    if isinstance(func, ast.Name) and func.id == "t":
        return "t"
    if isinstance(func, ast.Attribute) and func.attr in ("t", "n"):
        return func.attr
    return None


def _constants(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _constants(node.body) + _constants(node.orelse)
    return []


# Key families whose placeholder the code fills with a value that is not a string constant
# anywhere (a generated table, an enum's name, a catalog directory). Keep this short: a
# new family belongs here only when its values cannot be spelled as constants.
DYNAMIC_FAMILIES = (
    re.compile(r"agreements\.starter\.s\d\d"),  # versions.STARTER: s01..s12, generated
    re.compile(r"agreements\.questions\.q\d\d"),  # versions.QUESTIONS: q01..q08, generated
    re.compile(r"core\.help\.who_[a-z]+"),  # commands.Role member names, lower-cased
    re.compile(r"mydata\.language\.name\.[a-z]+"),  # one per catalog in bot/locale
)


def dynamic_family_keys(english: Collection[str]) -> list[str]:
    """The English keys a documented dynamic family produces."""
    return [k for k in english if any(f.fullmatch(k) for f in DYNAMIC_FAMILIES)]


@cache
def code_constants() -> frozenset[str]:
    """Every string constant of circlebot's code (bot/, adapters/, storage/): the values a
    key family's placeholder can take."""
    root = Path(__file__).parent.parent
    found: set[str] = set()
    for folder in ("bot", "adapters", "storage"):
        for path in (root / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.add(node.value)
    return frozenset(found)


def _reachable(match: re.Match[str], values: Collection[str]) -> bool:
    """Whether each placeholder of a key family takes a value the code has (or a number)."""
    return all(part.isdigit() or part in values for part in match.groups())


def keys_in_source(
    source: str, english: Mapping[str, English], values: Collection[str] = frozenset()
) -> Iterator[Extracted]:
    """(line, keyword, message, comments) for every key `source` refers to: a key family
    (an f-string) reaches the English keys whose placeholders take one of `values`."""
    tree = ast.parse(source)
    seen: set[str] = set()

    def emit(lineno: int, key: str, plural: bool) -> Extracted:
        seen.add(key)
        known = english.get(key)
        comments = [f"English: {known.text}"] if known else []
        if plural or (known is not None and known.plural):
            return (lineno, "n", (key, key), comments)
        return (lineno, "t", key, comments)

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        kind = _is_message_call(node)
        if kind is None:
            continue
        for key in _constants(node.args[0]):
            yield emit(node.lineno, key, kind == "n")
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in english and node.value not in seen:
                yield emit(node.lineno, node.value, False)
        elif isinstance(node, ast.JoinedStr):
            pattern = template_pattern(node)
            if pattern is None:
                continue
            for key in english:
                match = pattern.fullmatch(key)
                if key not in seen and match and _reachable(match, values):
                    yield emit(node.lineno, key, False)


def extract_keys(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Extracted]:
    """Babel extraction method: see the module docstring. The documented dynamic families
    are yielded with the module that defines DYNAMIC_FAMILIES (this one)."""
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    english = english_keys()
    yield from keys_in_source(source, english, code_constants())
    if "DYNAMIC_FAMILIES = (" in source:
        for key in dynamic_family_keys(english):
            yield (1, "n" if english[key].plural else "t", key, [f"English: {english[key].text}"])
