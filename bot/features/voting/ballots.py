"""Ballots: reading what a voter typed into a form, storing it, and counting stored ballots.

Pure: no I/O. Voters name options by their number on the poll (`ballot_numbers`: the topic's
number for a poll made from topics, else 1, 2, 3 in listing order) or by label. Counting delegates to `bot.features.voting.tally`, so a result is a pure function of the
stored ballots.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.features.voting.tally import IrvResult, Method, TotalsResult, count_irv, count_totals

__all__ = [
    "MAX_SCORE",
    "BallotError",
    "Choice",
    "ballot_numbers",
    "decode",
    "encode",
    "parse_dots",
    "parse_ranking",
    "parse_scores",
    "tally",
]

MAX_SCORE = 5
Choice = dict[int, int] | list[int]
"""A ballot: option id -> weight (single, approval, dot, score) or option ids best first (ranked)."""


@dataclass
class BallotError(ValueError):
    """What a voter typed cannot be a ballot; `code` + `values` become one translated sentence.

    Codes: ``empty``, ``unknown`` (value), ``repeated`` (value), ``too_many_dots`` (dots),
    ``score_range`` (max), ``too_many_scores`` (count).
    """

    code: str
    values: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.code


def encode(choice: Choice) -> str:
    """The stored JSON of a ballot (keys sorted, so equal ballots store equal text)."""
    if isinstance(choice, list):
        return json.dumps(choice)
    return json.dumps({str(k): v for k, v in sorted(choice.items())})


def decode(raw: str) -> Choice:
    """A stored ballot back as a `Choice`."""
    value = json.loads(raw)
    if isinstance(value, list):
        return [int(v) for v in value]
    return {int(k): int(v) for k, v in value.items()}


def ballot_numbers(topic_ids: Sequence[int | None]) -> list[int]:
    """The number of each option (in listing order) on the poll message and on ballots.

    A poll made from topics numbers its options by their topics (#1 #2 #4 #5 after a merge),
    so "4" means topic #4 in the topic list, on the poll and in a typed ballot alike; any
    other poll numbers them 1, 2, 3.
    """
    ids = [t for t in topic_ids if t is not None]
    if ids and len(ids) == len(topic_ids) and len(set(ids)) == len(ids):
        return ids
    return list(range(1, len(topic_ids) + 1))


def _number(piece: str) -> bool:
    """ASCII digits, at most 9: ``str.isdigit`` also takes "²", which ``int`` refuses."""
    return piece.isascii() and piece.isdigit() and len(piece) <= 9


def _pieces(text: str) -> list[str]:
    """``2, 4 > 1`` / ``2 4 1`` / ``Outdoor play, Routines`` -> the named options as strings."""
    parts = [p.strip() for p in re.split(r"[,;>\n]+", text) if p.strip()]
    out: list[str] = []
    for part in parts:
        words = part.split()
        if all(_number(w) for w in words):
            out.extend(words)
        else:
            out.append(part)
    return out


def _option(
    piece: str, options: Sequence[tuple[int, str]], numbers: Sequence[int] | None = None
) -> int:
    """The option id a piece names: its number on the poll, or its label (case-insensitive).

    `numbers` are the options' numbers (`ballot_numbers`); by default 1, 2, 3.
    """
    if _number(piece):
        shown = numbers if numbers is not None else range(1, len(options) + 1)
        for (option_id, _label), n in zip(options, shown, strict=True):
            if n == int(piece):
                return option_id
    else:
        for option_id, label in options:
            if label.casefold() == piece.casefold():
                return option_id
    raise BallotError("unknown", {"value": piece[:40]})


def parse_ranking(
    text: str, options: Sequence[tuple[int, str]], numbers: Sequence[int] | None = None
) -> list[int]:
    """A ranked ballot, best first; it may stop early but may not name an option twice."""
    ranking: list[int] = []
    for piece in _pieces(text):
        option = _option(piece, options, numbers)
        if option in ranking:
            raise BallotError("repeated", {"value": piece[:40]})
        ranking.append(option)
    if not ranking:
        raise BallotError("empty")
    return ranking


_DOTS = re.compile(r"^([0-9]{1,9})\s*[x*:]\s*([0-9]{1,9})$")


def parse_dots(
    text: str,
    options: Sequence[tuple[int, str]],
    dots: int,
    numbers: Sequence[int] | None = None,
) -> dict[int, int]:
    """Dots by option number: ``1 1 3`` (two on 1, one on 3) or ``1x2, 3``; at most `dots`."""
    placed: dict[int, int] = {}
    for raw in re.split(r"[,;\s]+", text.strip()):
        if not raw:
            continue
        m = _DOTS.match(raw)
        piece, count = (m.group(1), int(m.group(2))) if m else (raw, 1)
        option = _option(piece, options, numbers)
        placed[option] = placed.get(option, 0) + count
    placed = {k: v for k, v in placed.items() if v > 0}
    if not placed:
        raise BallotError("empty")
    if sum(placed.values()) > dots:
        raise BallotError("too_many_dots", {"dots": dots})
    return placed


_PAIR = re.compile(r"^([0-9]{1,9})\s*[:=]\s*([0-9]{1,9})$")


def parse_scores(
    text: str, options: Sequence[tuple[int, str]], numbers: Sequence[int] | None = None
) -> dict[int, int]:
    """Scores 0-5: in poll order (``5 3 0 4``) or by number (``1:5 3:4``); unrated is left out."""
    scores: dict[int, int] = {}
    tokens = [t for t in re.split(r"[,;\s]+", text.strip()) if t]
    if not tokens:
        raise BallotError("empty")
    if all(_PAIR.match(t) for t in tokens):
        pairs = [
            (_option(m.group(1), options, numbers), int(m.group(2)))
            for t in tokens
            if (m := _PAIR.match(t))
        ]
    elif all(_number(t) for t in tokens):
        if len(tokens) > len(options):
            raise BallotError("too_many_scores", {"count": len(options)})
        pairs = [(options[i][0], int(t)) for i, t in enumerate(tokens)]
    else:
        bad = next(t for t in tokens if not _number(t) and not _PAIR.match(t))
        raise BallotError("unknown", {"value": bad[:40]})
    for option, score in pairs:
        if not 0 <= score <= MAX_SCORE:
            raise BallotError("score_range", {"max": MAX_SCORE})
        scores[option] = score
    return scores


def tally(
    method: Method, option_ids: Sequence[int], ballots: Sequence[Choice]
) -> TotalsResult | IrvResult:
    """Count stored ballots with the poll's method (instant runoff for ranked)."""
    method = Method(method)
    if method is Method.RANKED:
        return count_irv(option_ids, [b for b in ballots if isinstance(b, list)])
    return count_totals(method, option_ids, [b for b in ballots if isinstance(b, dict)])
