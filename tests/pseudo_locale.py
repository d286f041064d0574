"""A pseudo-locale built from the English catalog at test time, to see which words reach
people without going through the catalog.

Every English text becomes ``⟦…⟧`` with its letters swapped for accented look-alikes
(``Vote`` -> ``⟦Vóté⟧``) and its ``{placeholders}`` kept, so a transcript rendered in the
pseudo-locale shows at a glance, and a test checks, that each visible word came through a
catalog entry: anything outside the brackets is user data, a number, a date or a leak.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.i18n import forget_locale_dir, register_locale_dir

PSEUDO = "qps"  # the conventional private-use "pseudo" locale code
OPEN, CLOSE = "⟦", "⟧"
_SWAP = str.maketrans(
    "aceinorsuyACEINORSUY",
    "áçéîñóŕšúýÁÇÉÎÑÓŔŠÚÝ",
)
ENGLISH_PO = Path(__file__).resolve().parent.parent / "bot/locale/en/LC_MESSAGES/circlebot.po"


def pseudo_text(text: str) -> str:
    """``Vote #{id}`` -> ``⟦Vóté #{id}⟧``: letters swapped outside placeholders, all wrapped."""
    out = []
    for literal, field, spec, conversion in string.Formatter().parse(text):
        out.append(literal.replace("{", "{{").replace("}", "}}").translate(_SWAP))
        if field is not None:
            out.append(
                "{"
                + field
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
    # keep a leading or trailing space outside the brackets, where a caller joins it
    body = "".join(out)
    lead = body[: len(body) - len(body.lstrip(" "))]
    trail = body[len(body.rstrip(" ")) :]
    return f"{lead}{OPEN}{body.strip(' ')}{CLOSE}{trail}" if body.strip() else body


def build(folder: Path) -> None:
    """Write the pseudo-locale catalog under `folder` and let the translator find it."""
    with ENGLISH_PO.open("rb") as fh:
        english = read_po(fh, locale="en", domain="circlebot")
    catalog = Catalog(locale="en", domain="circlebot")
    for message in english:
        if not message.id:
            continue
        if isinstance(message.string, str):
            catalog.add(message.id, pseudo_text(message.string))
        else:
            catalog.add(message.id, tuple(pseudo_text(s) for s in message.string))
    target = folder / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    with (target / "circlebot.po").open("wb") as fh:
        write_po(fh, catalog)
    register_locale_dir(folder)


def remove(folder: Path) -> None:
    """Stop the translator from finding the pseudo-locale built under `folder`."""
    forget_locale_dir(folder)


_BRACKETED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")


def outside(text: str) -> str:
    """`text` without the parts that came through the catalog (innermost brackets first)."""
    while True:
        stripped = _BRACKETED.sub(" ", text)
        if stripped == text:
            return stripped
        text = stripped
