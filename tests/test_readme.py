"""The README is the user's manual: every command example in it must parse."""

from __future__ import annotations

import re
from pathlib import Path

from bot.commands import ParseError
from bot.features import build_registry
from bot.i18n import Translator

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
EXAMPLE = re.compile(r"`(/cop [^`]+)`")


def _examples() -> list[str]:
    found = []
    for raw in EXAMPLE.findall(README):
        if re.search(r"[A-Z]{2,}|\[|…|\.\.\.", raw):
            continue  # a usage pattern (NAME, [optional], …), not an example
        found.append(raw.replace("\\|", "|"))
    return found


def test_every_command_example_in_the_readme_parses() -> None:
    registry, t = build_registry(), Translator()
    examples = _examples()
    assert len(examples) > 25  # the scan found the reference's examples
    failures = []
    for example in examples:
        try:
            cmd, _ = registry.parse(example.removeprefix("/cop"), t)
        except ParseError as err:
            words = example.split()[1:]
            named = tuple(words) in registry.commands  # prose naming a command, not an example
            if not (named and str(err).startswith("Please give")):
                failures.append(f"{example}: {err}")
    assert failures == []


def test_every_command_is_documented() -> None:
    registry = build_registry()
    missing = [c.name for c in registry.commands.values() if f"/cop {c.name}" not in README]
    assert missing == []
