"""Ballot numbers are the numbers members see: after a merge, topic #4 is "4" everywhere."""

from __future__ import annotations

from tests.support import transcript

MERGED_THEN_RANKED = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" UTC
/cop topics open What next?
:as ben
/cop topics propose Outdoor play
/cop topics propose Family engagement
/cop topics propose Outdoor games
/cop topics propose Transitions
/cop topics propose Routines
:as ana
/cop topics merge 3 1
/cop topics vote method=ranked
:as cara
:press Rank your choices
:submit ballot="4 1"
:as dan
:press Rank your choices
:submit ballot="3 1"
:submit ballot="5 5"
:submit ballot="5 2"
"""


async def test_a_topic_poll_numbers_options_by_topic_and_ballots_take_those_numbers() -> None:
    lines = await transcript(MERGED_THEN_RANKED)
    # Topic #3 merged into #1: the list shows #1 #2 #4 #5, and so do the poll and its form.
    at = lines.index("[#cop] Vote #1: What next?")
    assert lines[at + 2 : at + 7] == [
        "  First choices so far:",
        "  1. Outdoor play       ░░░░░░░░░░ 0 (0%)",
        "  2. Family engagement  ░░░░░░░░░░ 0 (0%)",
        "  4. Transitions        ░░░░░░░░░░ 0 (0%)",
        "  5. Routines           ░░░░░░░░░░ 0 (0%)",
    ]
    form = lines.index("[form @cara] Rank your choices")
    assert lines[form + 1 : form + 4] == [
        "  ballot: Option numbers, best first (required)",
        "    1. Outdoor play; 2. Family engagement; 4. Transitions; 5. Routines",
        "  answer with :submit ballot=...",
    ]
    # "4" is topic #4, Transitions (it used to be the 4th option, Routines).
    assert (
        "[private @cara] Your vote is saved: 1st Transitions, 2nd Outdoor play. "
        "You can change it until the poll closes."
    ) in lines
    # The merged topic's number is no option; a repeat is refused; neither changes anything.
    assert any(
        '"3" is not an option on this poll; use the numbers shown on it.' in x for x in lines
    )
    assert any('"5" is ranked twice; rank each option once.' in x for x in lines)
    assert (
        "[private @dan] Your vote is saved: 1st Routines, 2nd Family engagement. "
        "You can change it until the poll closes."
    ) in lines
    assert sum("Your vote is saved" in x for x in lines) == 2


async def test_a_poll_not_made_from_topics_numbers_its_options_1_2_3() -> None:
    lines = await transcript(
        """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" UTC
/cop poll new Which topic next? options="Outdoor play | Family engagement | Transitions" method=ranked
:as cara
:press Rank your choices
:submit ballot="3 1"
"""
    )
    assert any(x.startswith("  3. Transitions ") for x in lines)
    assert "    1. Outdoor play; 2. Family engagement; 3. Transitions" in lines
    assert (
        "[private @cara] Your vote is saved: 1st Transitions, 2nd Outdoor play. "
        "You can change it until the poll closes."
    ) in lines


def test_a_multi_select_takes_its_own_options_once_each_up_to_its_cap() -> None:
    from bot.i18n import Translator
    from bot.ui import Input, Option, check_form

    field = Input(
        name="picks",
        label="Pick two",
        kind="multi",
        max_selected=2,
        options=[Option(value=v, label=v.upper()) for v in "abc"],
    )
    t = Translator()
    assert check_form([field], {"picks": "a,c"}, t) == ({"picks": "a,c"}, {})
    assert check_form([field], {"picks": "a,b,c"}, t) == (
        {},
        {"picks": '"Pick two" takes at most 2 choices.'},
    )
    for bad in ("a,a", "a,z"):
        assert check_form([field], {"picks": bad}, t) == (
            {},
            {"picks": '"Pick two" must be one of the choices offered.'},
        )


def test_ranked_values_reads_a_ranking_in_place_order_and_tells_a_fallback_apart() -> None:
    from bot.ui import ranked_values

    submitted = {"rank.10": "7", "rank.2": "", "rank.1": "4", "rank.3": "1"}
    assert ranked_values("rank", submitted) == [("rank.1", "4"), ("rank.3", "1"), ("rank.10", "7")]
    assert ranked_values("rank", {"ballot": "4 1"}) is None
