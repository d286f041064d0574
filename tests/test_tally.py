"""Tests for bot.features.voting.tally: known profiles, every tie-break rule, and counting properties."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.features.voting.tally import (
    EXHAUSTED,
    IrvResult,
    Method,
    TieBreak,
    count_irv,
    count_totals,
    describe_irv,
    format_bars,
)

OUTDOOR, FAMILY, TRANSITIONS, ROUTINES = 1, 2, 3, 4
LABELS = {
    OUTDOOR: "Outdoor play",
    FAMILY: "Family engagement",
    TRANSITIONS: "Transitions",
    ROUTINES: "Routines",
}


def repeat(n: int, ballot):
    """n copies of one ballot."""
    return [ballot] * n


# --- count_totals: known profiles ------------------------------------------------------------


def test_single_counts_one_vote_per_ballot():
    ballots = [{1: 1}, {2: 1}, {1: 1}, {1: 1}, {2: 1}]
    result = count_totals(Method.SINGLE, [1, 2, 3], ballots)
    assert result.method is Method.SINGLE
    assert result.totals == {1: 3, 2: 2, 3: 0}
    assert result.turnout == 5
    assert result.ranking == [1, 2, 3]
    assert result.winners == [1]
    assert result.winner == 1
    assert result.tie_broken is False
    assert result.averages == {}


def test_single_tie_is_broken_by_listing_order_not_by_id():
    ballots = [{10: 1}, {30: 1}, {20: 1}, {10: 1}, {30: 1}]
    result = count_totals(Method.SINGLE, [30, 20, 10], ballots)
    assert result.totals == {30: 2, 20: 1, 10: 2}
    assert result.winners == [30, 10]
    assert result.winner == 30
    assert result.tie_broken is True
    assert result.ranking == [30, 10, 20]


def test_approval_adds_every_approved_option():
    ballots = [{1: 1, 2: 1}, {2: 1, 3: 1}, {2: 1}, {1: 1, 3: 1}]
    result = count_totals(Method.APPROVAL, [1, 2, 3], ballots)
    assert result.totals == {1: 2, 2: 3, 3: 2}
    assert result.ranking == [2, 1, 3]
    assert result.winner == 2
    assert result.tie_broken is False


def test_dot_voting_allows_stacking():
    ballots = [{1: 3}, {2: 2, 3: 1}, {3: 2, 1: 1}]
    result = count_totals(Method.DOT, [1, 2, 3], ballots)
    assert result.totals == {1: 4, 2: 2, 3: 3}
    assert result.ranking == [1, 3, 2]
    assert result.winner == 1


def test_score_averages_count_only_ballots_that_rated_the_option():
    ballots = [{1: 5, 2: 0}, {1: 3}, {2: 4, 3: 2}]
    result = count_totals(Method.SCORE, [1, 2, 3, 4], ballots)
    assert result.totals == {1: 8, 2: 4, 3: 2, 4: 0}
    # option 2 was rated 0 once and 4 once: the explicit 0 counts as a rating
    assert result.averages == {1: 4.0, 2: 2.0, 3: 2.0, 4: 0.0}
    assert result.winner == 1
    assert result.ranking == [1, 2, 3, 4]


def test_score_winner_is_by_sum_not_average():
    ballots = [{1: 5}, {2: 3}, {2: 3}]
    result = count_totals(Method.SCORE, [1, 2], ballots)
    assert result.averages == {1: 5.0, 2: 3.0}
    assert result.winner == 2


@pytest.mark.parametrize("method", [Method.SINGLE, Method.APPROVAL, Method.DOT, Method.SCORE])
def test_totals_without_ballots_have_no_winner(method):
    result = count_totals(method, [1, 2], [])
    assert result.totals == {1: 0, 2: 0}
    assert result.turnout == 0
    assert result.ranking == [1, 2]
    assert result.winners == []
    assert result.winner is None
    assert result.tie_broken is False


def test_all_zero_scores_have_no_winner_but_count_turnout():
    result = count_totals(Method.SCORE, [1, 2], [{1: 0, 2: 0}, {1: 0}])
    assert result.turnout == 2
    assert result.winners == []
    assert result.winner is None
    assert result.averages == {1: 0.0, 2: 0.0}


def test_totals_ignore_unknown_options():
    result = count_totals(Method.APPROVAL, [1, 2], [{1: 1, 99: 1}, {99: 1}])
    assert result.totals == {1: 1, 2: 0}
    assert result.turnout == 2
    assert result.winner == 1


def test_totals_accept_method_as_plain_string():
    assert count_totals("dot", [1], [{1: 2}]).method is Method.DOT


def test_ranked_method_is_refused_by_count_totals():
    with pytest.raises(ValueError, match="count_irv"):
        count_totals(Method.RANKED, [1, 2], [])


def test_exhausted_key_cannot_be_an_option():
    with pytest.raises(ValueError):
        count_irv([1, EXHAUSTED], [])
    with pytest.raises(ValueError):
        count_totals(Method.SINGLE, [EXHAUSTED], [])


# --- count_irv: known profiles ---------------------------------------------------------------


def classic_ballots():
    """Outdoor play leads on first preferences, Family engagement wins after two eliminations."""
    return [
        *repeat(4, [OUTDOOR]),
        *repeat(2, [OUTDOOR, TRANSITIONS]),
        *repeat(5, [FAMILY, OUTDOOR]),
        *repeat(3, [TRANSITIONS, FAMILY]),
        [ROUTINES, TRANSITIONS],
        [ROUTINES],
    ]


def test_irv_classic_three_rounds_with_transfers_and_exhausted_ballots():
    result = count_irv([OUTDOOR, FAMILY, TRANSITIONS, ROUTINES], classic_ballots())
    assert result.turnout == 16
    assert result.winner == FAMILY
    assert result.tie_broken is False
    assert result.exhausted == 2
    assert len(result.rounds) == 3
    r1, r2, r3 = result.rounds

    assert r1.number == 1
    assert r1.counts == {OUTDOOR: 6, FAMILY: 5, TRANSITIONS: 3, ROUTINES: 2}
    assert r1.exhausted == 0
    assert r1.majority_of == 16
    assert r1.eliminated == [ROUTINES]
    assert r1.transfers == {OUTDOOR: 0, FAMILY: 0, TRANSITIONS: 1, EXHAUSTED: 1}
    assert r1.tie_broken is False
    assert r1.tie_break is None

    assert r2.number == 2
    assert r2.counts == {OUTDOOR: 6, FAMILY: 5, TRANSITIONS: 4}
    assert r2.exhausted == 1
    assert r2.majority_of == 15
    assert r2.eliminated == [TRANSITIONS]
    # three [Transitions, Family] ballots move on; the [Routines, Transitions] one runs out
    assert r2.transfers == {OUTDOOR: 0, FAMILY: 3, EXHAUSTED: 1}

    assert r3.number == 3
    assert r3.counts == {OUTDOOR: 6, FAMILY: 8}
    assert r3.exhausted == 2
    assert r3.majority_of == 14
    assert r3.eliminated == []
    assert r3.transfers == {}
    assert r3.tie_broken is False


def test_irv_first_round_majority_ends_the_count():
    ballots = [[1, 2], [1], [1, 3], [2, 1], [3]]
    result = count_irv([1, 2, 3], ballots)
    assert result.winner == 1
    assert len(result.rounds) == 1
    assert result.rounds[0].counts == {1: 3, 2: 1, 3: 1}
    assert result.rounds[0].eliminated == []


def test_irv_majority_is_of_continuing_ballots_not_turnout():
    # Round 2: 1 has 3 of the 5 continuing ballots but only 3 of 6 cast: that is a majority.
    ballots = [*repeat(3, [1]), *repeat(2, [2]), [3]]
    result = count_irv([1, 2, 3], ballots)
    assert [r.counts for r in result.rounds] == [{1: 3, 2: 2, 3: 1}, {1: 3, 2: 2}]
    assert result.rounds[-1].majority_of == 5
    assert result.winner == 1
    assert result.exhausted == 1


def test_irv_without_ballots_has_one_empty_round_and_no_winner():
    result = count_irv([1, 2, 3], [])
    assert result == IrvResult(
        rounds=result.rounds, winner=None, tie_broken=False, turnout=0, exhausted=0
    )
    assert len(result.rounds) == 1
    only = result.rounds[0]
    assert only.counts == {1: 0, 2: 0, 3: 0}
    assert (only.number, only.exhausted, only.majority_of) == (1, 0, 0)
    assert only.eliminated == [] and only.transfers == {}


def test_irv_without_options_exhausts_every_ballot():
    result = count_irv([], [[1], [2]])
    assert result.winner is None
    assert result.turnout == 2
    assert result.exhausted == 2
    assert result.rounds[0].counts == {}


def test_irv_ignores_unknown_options_and_repeated_entries():
    # 99 is not on the poll; the repeated 2 on the last ballot is ignored
    ballots = [[99, 1], [2], [2, 2, 1], [99]]
    result = count_irv([1, 2], ballots)
    assert result.rounds[0].counts == {1: 1, 2: 2}
    assert result.rounds[0].exhausted == 1
    assert result.turnout == 4
    assert result.winner == 2


def test_irv_ballots_naming_only_unknown_options_give_no_winner():
    result = count_irv([1], [[5], [6, 7]])
    assert result.winner is None
    assert result.exhausted == 2
    assert len(result.rounds) == 1


def test_irv_options_without_votes_are_eliminated_together():
    ballots = [*repeat(2, [1]), *repeat(2, [2, 1]), [3, 2]]
    result = count_irv([1, 2, 3, 4, 5], ballots)
    r1, r2, r3 = result.rounds
    assert r1.counts == {1: 2, 2: 2, 3: 1, 4: 0, 5: 0}
    assert r1.eliminated == [4, 5]
    assert r1.transfers == {1: 0, 2: 0, 3: 0, EXHAUSTED: 0}
    assert r1.tie_broken is False
    assert r2.counts == {1: 2, 2: 2, 3: 1}
    assert r2.eliminated == [3]
    assert r2.transfers == {1: 0, 2: 1, EXHAUSTED: 0}
    assert r3.counts == {1: 2, 2: 3}
    assert result.winner == 2
    assert result.tie_broken is False


# --- count_irv: tie-breaks -------------------------------------------------------------------


def test_irv_elimination_tie_broken_by_earlier_round():
    # Round 2 ties 2 and 3 at the bottom; in round 1 option 2 had fewer, so it goes even
    # though it is listed before 3.
    ballots = [*repeat(5, [1]), *repeat(3, [2, 3]), *repeat(4, [3]), [4, 2]]
    result = count_irv([1, 2, 3, 4], ballots)
    r1, r2, r3 = result.rounds
    assert r1.counts == {1: 5, 2: 3, 3: 4, 4: 1}
    assert r1.eliminated == [4] and r1.tie_broken is False
    assert r2.counts == {1: 5, 2: 4, 3: 4}
    assert r2.eliminated == [2]
    assert r2.tie_broken is True
    assert r2.tie_break is TieBreak.EARLIER_ROUNDS
    assert r2.transfers == {1: 0, 3: 3, EXHAUSTED: 1}
    assert r3.counts == {1: 5, 3: 7}
    assert r3.tie_broken is False
    assert result.winner == 3
    assert result.tie_broken is True


@pytest.mark.parametrize(
    ("options", "eliminated", "winner"), [([1, 2, 3], 3, 2), ([1, 3, 2], 2, 1)]
)
def test_irv_first_round_tie_eliminates_the_option_listed_later(options, eliminated, winner):
    ballots = [*repeat(3, [1]), *repeat(2, [2, 1]), *repeat(2, [3, 2])]
    result = count_irv(options, ballots)
    first = result.rounds[0]
    assert first.counts == {1: 3, 2: 2, 3: 2}
    assert first.eliminated == [eliminated]
    assert first.tie_broken is True
    assert first.tie_break is TieBreak.LISTING_ORDER
    assert result.winner == winner
    assert result.tie_broken is True


def test_irv_tie_break_uses_the_most_recent_round_where_the_options_differed():
    # Round 3 ties 2 and 3. In round 2 option 2 had fewer (5 v 6); in round 1 it had more
    # (5 v 4). The most recent difference counts, so 2 goes.
    ballots = [
        *repeat(8, [1]),
        *repeat(5, [2, 1]),
        *repeat(4, [3]),
        [4, 2],
        *repeat(2, [4]),
        *repeat(2, [5, 3]),
    ]
    result = count_irv([1, 2, 3, 4, 5], ballots)
    r1, r2, r3, r4 = result.rounds
    assert r1.counts == {1: 8, 2: 5, 3: 4, 4: 3, 5: 2}
    assert r2.counts == {1: 8, 2: 5, 3: 6, 4: 3}
    assert r3.counts == {1: 8, 2: 6, 3: 6}
    assert r3.eliminated == [2]
    assert r3.tie_break is TieBreak.EARLIER_ROUNDS
    assert r3.transfers == {1: 5, 3: 0, EXHAUSTED: 1}
    assert r4.counts == {1: 13, 3: 6}
    assert r4.exhausted == 3
    assert result.winner == 1


def test_irv_tie_equal_in_every_earlier_round_falls_back_to_listing_order():
    ballots = [*repeat(3, [1]), *repeat(2, [2]), *repeat(2, [3, 2]), [4]]
    result = count_irv([1, 2, 3, 4], ballots)
    r1, r2, r3 = result.rounds
    assert r1.counts == {1: 3, 2: 2, 3: 2, 4: 1}
    assert r1.eliminated == [4] and r1.tie_broken is False
    assert r2.counts == {1: 3, 2: 2, 3: 2}
    assert r2.eliminated == [3]
    assert r2.tie_break is TieBreak.LISTING_ORDER
    assert r3.counts == {1: 3, 2: 4}
    assert result.winner == 2


def test_irv_three_way_tie_is_narrowed_round_by_round():
    # Round 2 ties 2, 3 and 4. Round 1 narrows it to 2 and 3 (4 had more), which were equal
    # there too, so 3 (listed later) goes; plain listing order would have removed 4.
    ballots = [
        *repeat(5, [1]),
        *repeat(3, [2]),
        *repeat(3, [3, 1]),
        *repeat(4, [4]),
        [5, 2],
        [5, 3],
    ]
    result = count_irv([1, 2, 3, 4, 5], ballots)
    r1, r2, r3, r4 = result.rounds
    assert r1.counts == {1: 5, 2: 3, 3: 3, 4: 4, 5: 2}
    assert r1.eliminated == [5]
    assert r2.counts == {1: 5, 2: 4, 3: 4, 4: 4}
    assert r2.eliminated == [3]
    assert r2.tie_break is TieBreak.LISTING_ORDER
    assert r2.transfers == {1: 3, 2: 0, 4: 0, EXHAUSTED: 1}
    # Round 3 ties 2 and 4; round 2 had them equal, round 1 gave 2 fewer votes.
    assert r3.counts == {1: 8, 2: 4, 4: 4}
    assert r3.eliminated == [2]
    assert r3.tie_break is TieBreak.EARLIER_ROUNDS
    assert r3.transfers == {1: 0, 4: 0, EXHAUSTED: 4}
    assert r4.counts == {1: 8, 4: 4}
    assert result.winner == 1
    assert result.exhausted == 5


def test_irv_final_fifty_fifty_decided_by_earlier_round():
    # Listed first, 2 would win on listing order; 1 led in round 1, so 1 wins.
    ballots = [*repeat(3, [1]), *repeat(2, [2]), [3, 2]]
    result = count_irv([2, 1, 3], ballots)
    r1, r2 = result.rounds
    assert r1.counts == {2: 2, 1: 3, 3: 1}
    assert r2.counts == {2: 3, 1: 3}
    assert r2.eliminated == []
    assert r2.tie_broken is True
    assert r2.tie_break is TieBreak.EARLIER_ROUNDS
    assert result.winner == 1
    assert result.tie_broken is True


@pytest.mark.parametrize(("options", "winner"), [([1, 2], 1), ([2, 1], 2)])
def test_irv_final_fifty_fifty_without_history_goes_to_option_listed_first(options, winner):
    result = count_irv(options, [[1], [2, 1], [1, 2], [2]])
    assert len(result.rounds) == 1
    assert result.rounds[0].tie_break is TieBreak.LISTING_ORDER
    assert result.rounds[0].tie_broken is True
    assert result.winner == winner
    assert result.tie_broken is True


# --- format_bars -----------------------------------------------------------------------------


def test_format_bars_example():
    lines = format_bars(LABELS, {OUTDOOR: 6, TRANSITIONS: 4})
    assert lines == [
        "Outdoor play  ██████░░░░ 6 (60%)",
        "Transitions   ████░░░░░░ 4 (40%)",
    ]


def test_format_bars_round_halves_up():
    # 1/8 of 4 cells is 0.5 -> 1 cell and 12.5% -> 13%; 7/8 is 3.5 -> 4 cells, 87.5% -> 88%
    assert format_bars({1: "A", 2: "B"}, {1: 1, 2: 7}, width=4) == [
        "A  █░░░ 1 (13%)",
        "B  ████ 7 (88%)",
    ]
    assert format_bars({1: "A", 2: "B"}, {1: 1, 2: 2}) == [
        "A  ███░░░░░░░ 1 (33%)",
        "B  ███████░░░ 2 (67%)",
    ]


def test_format_bars_all_zero_gives_zero_percent():
    assert format_bars({1: "A", 2: "Bee"}, {1: 0, 2: 0}, width=3) == [
        "A    ░░░ 0 (0%)",
        "Bee  ░░░ 0 (0%)",
    ]
    assert format_bars({1: "A"}, {}) == []


def test_format_bars_cuts_long_labels_and_names_unlabelled_options():
    lines = format_bars({1: "x" * 40}, {1: 1, 7: 1}, width=2)
    assert lines[0] == "x" * 29 + "…  █░ 1 (50%)"
    assert lines[1] == "#7" + " " * 28 + "  █░ 1 (50%)"


def test_format_bars_rejects_negative_width():
    with pytest.raises(ValueError):
        format_bars({}, {1: 1}, width=-1)


# --- describe_irv ----------------------------------------------------------------------------


def test_describe_classic_example():
    result = count_irv([OUTDOOR, FAMILY, TRANSITIONS, ROUTINES], classic_ballots())
    assert describe_irv(result, LABELS) == [
        "Round 1: Outdoor play 6, Family engagement 5, Transitions 3, Routines 2"
        " — Routines eliminated; 1 vote moved to Transitions, 1 exhausted.",
        "Round 2: Outdoor play 6, Family engagement 5, Transitions 4"
        " — Transitions eliminated; 3 votes moved to Family engagement, 1 exhausted.",
        "Round 3: Family engagement 8, Outdoor play 6 — Family engagement has a majority.",
        "Winner: Family engagement with 8 of 14 votes (2 ballots exhausted).",
    ]


def test_describe_tie_breaks():
    ballots = [*repeat(3, [OUTDOOR]), *repeat(2, [FAMILY, OUTDOOR]), *repeat(1, [TRANSITIONS])]
    ballots.append([ROUTINES, OUTDOOR])
    # Round 1: Outdoor 3, Family 2, Transitions 1, Routines 1 -> Routines (listed later) out
    result = count_irv([OUTDOOR, FAMILY, TRANSITIONS, ROUTINES], ballots)
    lines = describe_irv(result, LABELS)
    assert lines[0] == (
        "Round 1: Outdoor play 3, Family engagement 2, Transitions 1, Routines 1"
        " — Routines eliminated (tie broken by listing order); 1 vote moved to Outdoor play,"
        " 0 exhausted."
    )
    assert lines[1] == (
        "Round 2: Outdoor play 4, Family engagement 2, Transitions 1 — Outdoor play has a majority."
    )
    assert lines[2] == "Winner: Outdoor play with 4 of 7 votes."


def test_describe_earlier_round_tie_break_and_final_tie():
    ballots = [*repeat(5, [1]), *repeat(3, [2, 3]), *repeat(4, [3]), [4, 2]]
    lines = describe_irv(count_irv([1, 2, 3, 4], ballots), {1: "A", 2: "B", 3: "C", 4: "D"})
    assert lines[1] == (
        "Round 2: A 5, B 4, C 4 — B eliminated (tie broken by earlier rounds);"
        " 3 votes moved to C, 1 exhausted."
    )

    final = describe_irv(count_irv([2, 1, 3], [*repeat(3, [1]), *repeat(2, [2]), [3, 2]]), {})
    assert final[-2] == "Round 2: #2 3, #1 3 — tied; #1 wins (tie broken by earlier rounds)."
    assert final[-1] == "Winner: #1 with 3 of 6 votes."


def test_describe_zero_vote_eliminations_and_no_votes():
    result = count_irv([1, 2, 3], [[1], [1], [2]])
    assert describe_irv(result, {1: "A", 2: "B", 3: "C"})[0] == (
        "Round 1: A 2, B 1, C 0 — A has a majority."
    )
    result = count_irv([1, 2, 3], [[1], [2], [1, 2], [2]])
    # A and B tie 2-2 with C at 0: C goes alone first
    assert describe_irv(result, {1: "A", 2: "B", 3: "C"})[0] == (
        "Round 1: A 2, B 2, C 0 — C eliminated; no votes to move."
    )
    assert describe_irv(count_irv([1, 2], []), {1: "A", 2: "B"}) == [
        "Round 1: A 0, B 0 — no votes.",
        "No winner: no ballot named any option.",
    ]


# --- properties ------------------------------------------------------------------------------

OPTION_IDS = st.lists(st.integers(0, 30), min_size=1, max_size=5, unique=True)


@st.composite
def ranked_profile(draw, min_ballots=0):
    options = draw(OPTION_IDS)
    ballot = st.lists(st.sampled_from([*options, 99]), unique=True, max_size=len(options) + 1)
    ballots = draw(st.lists(ballot, min_size=min_ballots, max_size=12))
    return options, ballots


@st.composite
def totals_profile(draw, method):
    options = draw(OPTION_IDS)
    pick = st.sampled_from(options)
    if method is Method.SINGLE:
        ballot = pick.map(lambda o: {o: 1})
    elif method is Method.APPROVAL:
        ballot = st.dictionaries(pick, st.just(1), min_size=1)
    elif method is Method.DOT:
        ballot = st.dictionaries(pick, st.integers(1, 5), min_size=1)
    else:
        ballot = st.dictionaries(pick, st.integers(0, 5))
    return options, draw(st.lists(ballot, max_size=12))


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_strict_majority_of_first_preferences_always_wins(data):
    options, others = data.draw(ranked_profile())
    favourite = data.draw(st.sampled_from(options))
    rest = [o for o in options if o != favourite]
    tail = st.permutations(rest).flatmap(lambda p: st.integers(0, len(p)).map(lambda k: p[:k]))
    extra = data.draw(st.integers(0, 3))
    backers = [[favourite, *data.draw(tail)] for _ in range(len(others) + 1 + extra)]
    ballots = data.draw(st.permutations(others + backers))
    assert count_irv(options, ballots).winner == favourite


@settings(max_examples=200, deadline=None)
@given(profile=ranked_profile(), data=st.data())
def test_irv_result_does_not_depend_on_ballot_order(profile, data):
    options, ballots = profile
    shuffled = data.draw(st.permutations(ballots))
    assert count_irv(options, shuffled) == count_irv(options, ballots)


@settings(max_examples=200, deadline=None)
@given(profile=ranked_profile())
def test_irv_rounds_account_for_every_ballot(profile):
    options, ballots = profile
    result = count_irv(options, ballots)
    assert result.turnout == len(ballots)
    assert result.winner is None or result.winner in options
    assert result.winner is None or result.winner in result.rounds[-1].counts
    assert result.exhausted == result.rounds[-1].exhausted
    assert result.tie_broken == any(r.tie_broken for r in result.rounds)
    first_choices = Counter(next((o for o in b if o in options), None) for b in ballots)
    assert result.rounds[0].counts == {o: first_choices[o] for o in options}
    for number, rnd in enumerate(result.rounds, start=1):
        assert rnd.number == number
        assert sum(rnd.counts.values()) + rnd.exhausted == result.turnout
        assert rnd.majority_of == sum(rnd.counts.values())
        assert rnd.tie_broken == (rnd.tie_break is not None)
    for rnd, nxt in zip(result.rounds, result.rounds[1:], strict=False):
        assert rnd.eliminated
        assert set(nxt.counts) == set(rnd.counts) - set(rnd.eliminated)
        moved = sum(rnd.counts[o] for o in rnd.eliminated)
        assert sum(rnd.transfers.values()) == moved
        assert nxt.exhausted == rnd.exhausted + rnd.transfers[EXHAUSTED]
        for option, count in nxt.counts.items():
            assert count == rnd.counts[option] + rnd.transfers[option]
        # only an option with the fewest votes (or every zero-vote option) is eliminated
        fewest = min(rnd.counts.values())
        assert all(rnd.counts[o] == fewest for o in rnd.eliminated)
        assert len(rnd.eliminated) == 1 or fewest == 0
    last = result.rounds[-1]
    assert last.eliminated == [] and last.transfers == {}


@pytest.mark.parametrize("method", [Method.SINGLE, Method.APPROVAL, Method.DOT, Method.SCORE])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_totals_properties(method, data):
    options, ballots = data.draw(totals_profile(method))
    result = count_totals(method, options, ballots)
    assert list(result.totals) == options
    assert sum(result.totals.values()) == sum(sum(b.values()) for b in ballots)
    if method is Method.SINGLE:
        assert sum(result.totals.values()) == result.turnout == len(ballots)
    assert sorted(result.ranking) == sorted(options)
    ranked_totals = [result.totals[o] for o in result.ranking]
    assert ranked_totals == sorted(ranked_totals, reverse=True)
    assert result.winner is None or result.winner in options
    if result.winner is not None:
        assert result.winner == result.ranking[0]
        assert result.totals[result.winner] == max(result.totals.values()) > 0
    assert result.tie_broken == (len(result.winners) > 1)
    shuffled = data.draw(st.permutations(ballots))
    assert count_totals(method, options, shuffled) == result


@settings(max_examples=100, deadline=None)
@given(
    totals=st.dictionaries(st.integers(0, 9), st.integers(0, 50), max_size=6),
    width=st.integers(0, 20),
)
def test_format_bars_have_fixed_width(totals, width):
    lines = format_bars({}, totals, width=width)
    whole = sum(totals.values())
    assert len(lines) == len(totals)
    for line, (option, count) in zip(lines, totals.items(), strict=True):
        head, shown, percent = line.rsplit(" ", 2)
        assert head.startswith(f"#{option}  ")
        bar = head[len(f"#{option}  ") :]
        assert len(bar) == width and set(bar) <= {"█", "░"}
        assert shown == str(count)
        share = Fraction(count, whole) if whole else Fraction(0)
        assert percent == f"({math.floor(100 * share + Fraction(1, 2))}%)"
        assert bar.count("█") == math.floor(width * share + Fraction(1, 2))


def _reference_irv_rounds(options, ballots):
    """The rules of the module docstring, recounting every ballot from scratch each round:
    slow and obviously right, to hold the incremental count to."""
    position = {o: i for i, o in enumerate(dict.fromkeys(options))}
    prefs = [[o for o in b if o in position] for b in ballots]
    continuing = list(position)
    rounds = []
    while True:
        top = [next((o for o in p if o in continuing), None) for p in prefs]
        counts = {o: sum(1 for c in top if c == o) for o in continuing}
        active = sum(counts.values())
        leader = max(continuing, key=counts.__getitem__) if continuing else None
        if (
            active == 0
            or 2 * counts[leader] > active
            or (len(continuing) == 2 and 2 * counts[leader] == active)
        ):
            rounds.append((counts, [], {}))
            return rounds
        fewest = min(counts.values())
        tied = [o for o in continuing if counts[o] == fewest]
        if fewest == 0:
            out = tied
        else:
            for earlier, _, _ in reversed(rounds):
                low = min(earlier[o] for o in tied)
                tied = [o for o in tied if earlier[o] == low]
            out = [max(tied, key=position.__getitem__)] if len(tied) > 1 else tied
        continuing = [o for o in continuing if o not in out]
        after = [next((o for o in p if o in continuing), None) for p in prefs]
        moved = dict.fromkeys(continuing, 0)
        moved[EXHAUSTED] = 0
        for old, new in zip(top, after, strict=True):
            if old in out:
                moved[EXHAUSTED if new is None else new] += 1
        rounds.append((counts, out, moved))


@settings(max_examples=300, deadline=None)
@given(profile=ranked_profile())
def test_irv_rounds_match_a_count_from_scratch_every_round(profile):
    """The count moves only eliminated options' ballots; it must agree round by round
    with recounting every ballot each round."""
    options, ballots = profile
    result = count_irv(options, ballots)
    expected = _reference_irv_rounds(options, ballots)
    assert [(r.counts, r.eliminated, r.transfers) for r in result.rounds] == expected
