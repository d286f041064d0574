"""Input hygiene at the core's edge: text, ids and dates as people (or hostile clients) send them.

Everything a person types passes `clean` once, where it enters the core (command parameters,
form values, names), so features only ever see text that is safe to store and to show back:
NFC-normalised, without control characters (a NUL that PostgreSQL refuses, terminal escape
sequences, a bell), without the bidirectional overrides and isolates that make a name read
backwards, with whitespace-only text treated as empty. Ids from buttons, forms and commands
are ASCII digits inside the database's integer range (`parse_id`), checked before any query;
dates outside `EARLIEST`..`LATEST` are refused by the grammars that read them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_ID",
    "clean",
    "in_range",
    "is_clean",
    "parse_id",
]

#: The largest value of a PostgreSQL INTEGER (and so of every id column).
MAX_ID = 2**31 - 1
#: The dates circlebot accepts anywhere; outside them a date is a typo or an attack.
EARLIEST = date(1970, 1, 1)
LATEST = date(2100, 12, 31)

# Removed from all text: C0 and C1 controls but tab and newline (NUL, which PostgreSQL refuses,
# BEL, DEL...), lone surrogates (no database or platform can encode them), the bidirectional
# embeddings, overrides, isolates and marks (LRE RLE PDF LRO RLO, LRI RLI FSI PDI, LRM RLM ALM:
# in a name or title they make the rest of a message read backwards, "Trojan Source"), and
# invisible characters that mean nothing in a title (zero-width space, word joiner, BOM).
_DROPPED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff"
    "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b\u2060\ufeff]"
)
# Characters that render as nothing; text made of only these (and whitespace) is empty.
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800\u200c\u200d\u034f")
# Line breaks other than "\n" (CR, VT, FF, NEL, line and paragraph separators).
_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# Terminal escape sequences (CSI such as ESC[31m, OSC such as ESC]0;title BEL, and two-byte
# escapes): removed whole, so no "[31m" is left behind when the ESC goes.
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])?")
_ASCII_ID = re.compile(r"[0-9]{1,10}")


def clean(text: str | None, *, multiline: bool = False) -> str:
    """`text` as circlebot stores and shows it; ``""`` when nothing visible is left.

    Single-line text has every run of whitespace (tabs and newlines included) made one space;
    multi-line text keeps its lines and tabs but loses trailing spaces and extra blank lines.

    >>> clean("  Outdoor\\x00 play\\u202e  ")
    'Outdoor play'
    >>> clean(" \\t\\n ")
    ''
    """
    if not text:
        return ""
    text = _BREAKS.sub("\n", text)
    kept = _DROPPED.sub("", _ESCAPE.sub("", text))
    kept = unicodedata.normalize("NFC", kept)
    if multiline:
        lines = [line.rstrip() for line in kept.split("\n")]
        kept = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    else:
        kept = " ".join(kept.split())
    return kept if _visible(kept) else ""


def _visible(text: str) -> bool:
    for ch in text:
        if ch.isspace() or ch in _BLANK:
            continue
        if unicodedata.category(ch) in ("Cf", "Mn", "Me"):
            continue
        return True
    return False


def is_clean(text: str) -> bool:
    """Whether `text` holds nothing `clean` would remove (newlines and tabs allowed)."""
    return unicodedata.is_normalized("NFC", text) and not _DROPPED.search(text)


def parse_id(raw: str | None) -> int | None:
    """A database id from a button, form or command: ASCII digits, 1..`MAX_ID`; else None.

    ``int()`` alone would take ``+1``, ``0_1``, ``٣`` and a 20-digit number that the database
    cannot hold, so none of those reaches a query.
    """
    if raw is None or not _ASCII_ID.fullmatch(raw):
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


def in_range(day: date) -> bool:
    """Whether `day` lies in the years circlebot works with (`EARLIEST`..`LATEST`)."""
    return EARLIEST <= day <= LATEST
