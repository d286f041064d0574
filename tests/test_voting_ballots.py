"""Ballot forms, stored ballots and the translated IRV rounds (pure parts)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.features.voting.ballots import (
    BallotError,
    decode,
    encode,
    parse_dots,
    parse_ranking,
    parse_scores,
    tally,
)
from bot.features.voting.render import irv_lines
from bot.features.voting.tally import count_irv, describe_irv
from bot.i18n import Translator

OPTIONS = [(11, "Outdoor play"), (12, "Family engagement"), (13, "Transitions")]


def test_ranking_by_number_or_label() -> None:
    assert parse_ranking("3 1", OPTIONS) == [13, 11]
    assert parse_ranking("2, 3 > 1", OPTIONS) == [12, 13, 11]
    assert parse_ranking("transitions, Outdoor play", OPTIONS) == [13, 11]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("4", "unknown"),
        ("0", "unknown"),
        ("1 2 1", "repeated"),
        ("Cooking", "unknown"),
    ],
)
def test_bad_rankings(text: str, code: str) -> None:
    with pytest.raises(BallotError) as err:
        parse_ranking(text, OPTIONS)
    assert err.value.code == code


def test_dots_stack_and_are_capped() -> None:
    assert parse_dots("1 1 3", OPTIONS, 3) == {11: 2, 13: 1}
    assert parse_dots("1x2, 2", OPTIONS, 3) == {11: 2, 12: 1}
    with pytest.raises(BallotError) as err:
        parse_dots("1 1 1 2", OPTIONS, 3)
    assert err.value.code == "too_many_dots" and err.value.values == {"dots": 3}


def test_scores_in_order_or_by_number() -> None:
    assert parse_scores("5 3", OPTIONS) == {11: 5, 12: 3}
    assert parse_scores("3:4 1:0", OPTIONS) == {13: 4, 11: 0}
    for text, code in [("6", "score_range"), ("1 2 3 4", "too_many_scores"), ("a", "unknown")]:
        with pytest.raises(BallotError) as err:
            parse_scores(text, OPTIONS)
        assert err.value.code == code


def test_equal_ballots_store_equal_text() -> None:
    assert encode({13: 1, 11: 2}) == encode({11: 2, 13: 1})
    assert decode(encode({13: 1, 11: 2})) == {11: 2, 13: 1}
    assert decode(encode([13, 11])) == [13, 11]


@given(st.lists(st.permutations([11, 12, 13]).map(lambda p: list(p)[:2]), max_size=30))
def test_counting_stored_ballots_is_order_independent(ballots: list[list[int]]) -> None:
    stored = [decode(encode(b)) for b in ballots]
    forward = tally("ranked", [11, 12, 13], stored)
    backward = tally("ranked", [11, 12, 13], list(reversed(stored)))
    assert forward == backward


PROFILES = [
    [[1, 3], [2, 1], [3, 1], [2, 3], [3, 2]],  # elimination with a transfer
    [[1], [2, 1], [3], [4, 2], [3, 2]],  # ties broken by poll order and earlier rounds, exhaustion
    [[1], [2]],  # two left, exactly half each
    [],
]


@pytest.mark.parametrize("ballots", PROFILES)
def test_translated_rounds_read_exactly_like_the_tally_module(ballots: list[list[int]]) -> None:
    labels = {1: "Outdoor play", 2: "Family engagement", 3: "Transitions", 4: "Routines"}
    result = count_irv([1, 2, 3, 4], ballots)
    assert irv_lines(Translator("en"), result, labels) == describe_irv(result, labels)
