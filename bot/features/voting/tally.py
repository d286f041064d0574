"""Vote counting for topic polls: pure functions, no I/O, standard library only.

Polls list their options in a fixed order (the *listing order*). Every tie that has to be
decided is decided by a fixed, documented rule so that counting the same ballots always gives
the same answer, whatever order the ballots arrived in.

Counting by totals (single choice, approval, dot voting, score voting)
----------------------------------------------------------------------
Each ballot maps option ids to a weight: 1 for single choice and approval, the number of dots
for dot voting (stacking allowed), a rating from 0 to 5 for score voting. The weights are added
up per option. The options are ranked by total, highest first; options with equal totals keep
their listing order. The winner is the option with the highest total. If several options share
the highest total, the one listed first on the poll wins and the result says the tie was broken.
Nobody wins if there are no ballots or if every total is 0. For score voting the average rating
of each option is also given: the sum divided by the number of ballots that rated the option
(a rating of 0 counts as a rating, an option left out does not).

Ranked choice (instant runoff)
------------------------------
Each ballot lists options in order of preference; it may stop early.

1. Each round, every ballot counts for its highest-ranked option that is still in the count.
   A ballot with no such option left is *exhausted* and takes no further part.
2. An option with more than half of the ballots still taking part wins. (When only one option
   is left it always has all of them, so it wins.)
3. Two options left with exactly half each: the one that had more votes in the most recent
   earlier round where they differed wins; if they never differed, the one listed earlier on
   the poll wins.
4. Otherwise options are eliminated and their ballots move to their next choice:
   - all options with no votes at all are eliminated together (they have no ballots to move,
     so this changes nothing but the number of rounds);
   - otherwise the one option with the fewest votes is eliminated. If several options share
     the fewest votes, the earlier rounds are looked at, most recent first: in each, only the
     tied options that had the fewest votes in that round stay in the tie. If the tie remains
     after the first round, the tied option listed latest on the poll is eliminated.
5. If no ballot names any option, nobody wins.

Entries naming an option that is not on the poll are ignored (a repeated entry changes nothing
either): the caller validates ballots, this module only counts them. Option id -1 is reserved
for "exhausted" in the transfer tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "EXHAUSTED",
    "IrvResult",
    "IrvRound",
    "Method",
    "TieBreak",
    "TotalsResult",
    "count_irv",
    "count_totals",
    "describe_irv",
    "format_bars",
]

EXHAUSTED = -1
"""Key used in `IrvRound.transfers` for ballots that had no continuing choice left."""

_MAX_LABEL = 30
_FULL = "█"
_EMPTY = "░"


class Method(StrEnum):
    """How a poll is voted on; the values are stored with polls, so never rename them."""

    SINGLE = "single"
    APPROVAL = "approval"
    DOT = "dot"
    SCORE = "score"
    RANKED = "ranked"


class TieBreak(StrEnum):
    """Which rule finally decided an instant-runoff tie, so it can be explained to people."""

    EARLIER_ROUNDS = "earlier_rounds"
    LISTING_ORDER = "listing_order"


@dataclass(frozen=True)
class TotalsResult:
    """Outcome of a single, approval, dot or score poll.

    Keeps totals, ranking and the tie flag together so results can be shown without recounting.
    """

    method: Method
    totals: dict[int, int]
    turnout: int
    ranking: list[int]
    winners: list[int]
    winner: int | None
    tie_broken: bool
    averages: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class IrvRound:
    """One instant-runoff round: the counts, who was eliminated and where their ballots went.

    Kept per round so the whole runoff can be replayed to the members step by step.
    """

    number: int
    counts: dict[int, int]
    exhausted: int
    eliminated: list[int]
    transfers: dict[int, int]
    majority_of: int
    tie_broken: bool
    tie_break: TieBreak | None = None


@dataclass(frozen=True)
class IrvResult:
    """Outcome of a ranked-choice poll, with every round so the result can be explained."""

    rounds: list[IrvRound]
    winner: int | None
    tie_broken: bool
    turnout: int
    exhausted: int


def _listing(options: Sequence[int]) -> dict[int, int]:
    """Map each option id to its position on the poll (duplicates keep the first position)."""
    position: dict[int, int] = {}
    for option in options:
        if option == EXHAUSTED:
            raise ValueError(f"option id {EXHAUSTED} is reserved for exhausted ballots")
        position.setdefault(option, len(position))
    return position


def count_totals(
    method: Method, options: Sequence[int], ballots: Sequence[Mapping[int, int]]
) -> TotalsResult:
    """Count a single, approval, dot or score poll by adding up the weights on each ballot.

    Entries for options that are not listed are ignored; use `count_irv` for ranked polls.
    """
    method = Method(method)
    if method is Method.RANKED:
        raise ValueError("ranked polls are counted with count_irv")
    position = _listing(options)
    totals = dict.fromkeys(position, 0)
    ratings = dict.fromkeys(position, 0)
    for ballot in ballots:
        for option, weight in ballot.items():
            if option in totals:
                totals[option] += weight
                ratings[option] += 1
    ranking = sorted(position, key=lambda option: -totals[option])
    top = totals[ranking[0]] if ranking else 0
    winners = [] if not ballots or top <= 0 else [o for o in position if totals[o] == top]
    averages: dict[int, float] = {}
    if method is Method.SCORE:
        averages = {o: totals[o] / ratings[o] if ratings[o] else 0.0 for o in position}
    return TotalsResult(
        method=method,
        totals=totals,
        turnout=len(ballots),
        ranking=ranking,
        winners=winners,
        winner=winners[0] if winners else None,
        tie_broken=len(winners) > 1,
        averages=averages,
    )


def _break_tie(
    tied: Sequence[int], history: Sequence[Mapping[int, int]], position: Mapping[int, int]
) -> tuple[int, TieBreak]:
    """Pick which of the tied options loses: backwards through earlier rounds, then listing order.

    `history` holds the counts of the earlier rounds, oldest first; all tied options appear in it.
    """
    candidates = list(tied)
    for counts in reversed(history):
        fewest = min(counts[o] for o in candidates)
        candidates = [o for o in candidates if counts[o] == fewest]
        if len(candidates) == 1:
            return candidates[0], TieBreak.EARLIER_ROUNDS
    return max(candidates, key=position.__getitem__), TieBreak.LISTING_ORDER


def _final_outcome(
    continuing: Sequence[int],
    counts: Mapping[int, int],
    active: int,
    history: Sequence[Mapping[int, int]],
    position: Mapping[int, int],
) -> tuple[bool, int | None, TieBreak | None]:
    """Whether this round ends the count, and if so the winner and the tie rule that decided it."""
    if active == 0:
        return True, None, None
    leader = max(continuing, key=counts.__getitem__)
    if 2 * counts[leader] > active:
        return True, leader, None
    if len(continuing) == 2 and 2 * counts[leader] == active:
        loser, rule = _break_tie(continuing, history, position)
        return True, next(o for o in continuing if o != loser), rule
    return False, None, None


def count_irv(options: Sequence[int], ballots: Sequence[Sequence[int]]) -> IrvResult:
    """Count a ranked-choice poll by instant runoff, following the rules in the module docstring.

    Returns every round so the count can be shown to members, not just the winner.

    Each continuing option keeps the pile of ballots currently counting for it, and each
    ballot a pointer to its current choice; an elimination moves only the eliminated
    options' ballots onward. The whole count reads every ballot's list once, however many
    rounds there are (10,000 ballots over 25 options: tens of milliseconds).
    """
    position = _listing(options)
    prefs = [tuple(o for o in ballot if o in position) for ballot in ballots]
    turnout = len(prefs)
    continuing = list(position)
    piles: dict[int, list[int]] = {option: [] for option in continuing}
    pointer = [0] * turnout
    for index, pref in enumerate(prefs):
        if pref:
            piles[pref[0]].append(index)
    rounds: list[IrvRound] = []
    while True:
        number = len(rounds) + 1
        counts = {option: len(piles[option]) for option in continuing}
        active = sum(counts.values())
        exhausted = turnout - active
        history = [r.counts for r in rounds]
        done, winner, rule = _final_outcome(continuing, counts, active, history, position)
        if done:
            rounds.append(
                IrvRound(
                    number=number,
                    counts=counts,
                    exhausted=exhausted,
                    eliminated=[],
                    transfers={},
                    majority_of=active,
                    tie_broken=rule is not None,
                    tie_break=rule,
                )
            )
            break

        fewest = min(counts.values())
        rule = None
        if fewest == 0:
            eliminated = [o for o in continuing if counts[o] == 0]
        else:
            tied = [o for o in continuing if counts[o] == fewest]
            if len(tied) == 1:
                eliminated = tied
            else:
                loser, rule = _break_tie(tied, history, position)
                eliminated = [loser]
        continuing = [o for o in continuing if o not in eliminated]
        still = set(continuing)
        transfers = dict.fromkeys(continuing, 0)
        transfers[EXHAUSTED] = 0
        for option in eliminated:
            for index in piles.pop(option):
                pref = prefs[index]
                at = pointer[index] + 1
                while at < len(pref) and pref[at] not in still:
                    at += 1
                if at < len(pref):
                    pointer[index] = at
                    piles[pref[at]].append(index)
                    transfers[pref[at]] += 1
                else:
                    transfers[EXHAUSTED] += 1
        rounds.append(
            IrvRound(
                number=number,
                counts=counts,
                exhausted=exhausted,
                eliminated=eliminated,
                transfers=transfers,
                majority_of=active,
                tie_broken=rule is not None,
                tie_break=rule,
            )
        )
    return IrvResult(
        rounds=rounds,
        winner=winner,
        tie_broken=any(r.tie_broken for r in rounds),
        turnout=turnout,
        exhausted=rounds[-1].exhausted,
    )


def _label(labels: Mapping[int, str], option: int) -> str:
    """The option's label, or `#id` when the caller has none for it."""
    return labels.get(option, f"#{option}")


def _round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves upwards (never banker's)."""
    return (2 * numerator + denominator) // (2 * denominator)


def format_bars(labels: Mapping[int, str], totals: Mapping[int, int], width: int = 10) -> list[str]:
    """One text bar per option in `totals` order, e.g. `Outdoor play  ██████░░░░ 6 (60%)`.

    Bar length and percentage are shares of the sum of totals, rounded half up; labels longer
    than 30 characters are cut with an ellipsis and shorter ones padded so the bars line up.
    """
    if width < 0:
        raise ValueError("width must not be negative")
    names = {}
    for option in totals:
        name = _label(labels, option)
        if len(name) > _MAX_LABEL:
            name = name[: _MAX_LABEL - 1] + "…"
        names[option] = name
    pad = max((len(name) for name in names.values()), default=0)
    whole = sum(totals.values())
    lines = []
    for option, count in totals.items():
        if whole > 0:
            filled = min(max(_round_half_up(width * count, whole), 0), width)
            percent = _round_half_up(100 * count, whole)
        else:
            filled = percent = 0
        bar = _FULL * filled + _EMPTY * (width - filled)
        lines.append(f"{names[option].ljust(pad)}  {bar} {count} ({percent}%)")
    return lines


def _votes(n: int, noun: str = "vote") -> str:
    """`1 vote`, `2 votes`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _tie_note(rule: TieBreak | None) -> str:
    """How a tie was decided, in words, or nothing when there was no tie."""
    if rule is TieBreak.EARLIER_ROUNDS:
        return " (tie broken by earlier rounds)"
    if rule is TieBreak.LISTING_ORDER:
        return " (tie broken by listing order)"
    return ""


def describe_irv(result: IrvResult, labels: Mapping[int, str]) -> list[str]:
    """One English sentence per round and a closing winner line, for posting a ranked result.

    Options without a label are shown as `#id`.
    """
    lines = []
    for rnd in result.rounds:
        order = sorted(rnd.counts, key=lambda o: -rnd.counts[o])  # stable: listing order on ties
        standings = ", ".join(f"{_label(labels, o)} {rnd.counts[o]}" for o in order)
        head = f"Round {rnd.number}: {standings or 'no options'}"
        if rnd.majority_of == 0:
            lines.append(f"{head} — no votes.")
        elif rnd.eliminated:
            names = ", ".join(_label(labels, o) for o in rnd.eliminated)
            moved = [
                _votes(n) + f" moved to {_label(labels, o)}"
                for o, n in rnd.transfers.items()
                if o != EXHAUSTED and n > 0
            ]
            gone = rnd.transfers.get(EXHAUSTED, 0)
            what = ", ".join([*moved, f"{gone} exhausted"]) if moved or gone else "no votes to move"
            lines.append(f"{head} — {names} eliminated{_tie_note(rnd.tie_break)}; {what}.")
        elif result.winner is not None:
            name = _label(labels, result.winner)
            if rnd.tie_broken:
                lines.append(f"{head} — tied; {name} wins{_tie_note(rnd.tie_break)}.")
            else:
                lines.append(f"{head} — {name} has a majority.")
    if result.winner is None:
        lines.append("No winner: no ballot named any option.")
    else:
        final = result.rounds[-1]
        line = (
            f"Winner: {_label(labels, result.winner)} with "
            f"{final.counts[result.winner]} of {_votes(final.majority_of)}"
        )
        if final.exhausted:
            line += f" ({_votes(final.exhausted, 'ballot')} exhausted)"
        lines.append(line + ".")
    return lines
