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
* every English key an f-string template of the module matches (key families).

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
            parts.append(r"[a-z0-9_-]+")
    if not parts or parts[0] == r"[a-z0-9_-]+":
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


def keys_in_source(source: str, english: Mapping[str, English]) -> Iterator[Extracted]:
    """(line, keyword, message, comments) for every key `source` refers to."""
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
                if key not in seen and pattern.fullmatch(key):
                    yield emit(node.lineno, key, False)


def extract_keys(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Extracted]:
    """Babel extraction method: see the module docstring."""
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    yield from keys_in_source(source, english_keys())
