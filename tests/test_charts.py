"""Result charts people can read: whole-number axes, every ranked round, ties marked, none empty.

The figures are inspected (ticks, bar groups, texts), never compared pixel by pixel.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.text import Text

from bot.features.voting.ballots import tally
from bot.features.voting.chart import rounds_figure, totals_figure
from bot.features.voting.files import result_chart, result_figure
from bot.features.voting.render import result_lines
from bot.features.voting.tally import Method
from bot.i18n import Translator
from storage.voting import Poll, PollOption
from tests.support import transcript

T = Translator("en")
LABELS = ["Outdoor play", "Family engagement", "Transitions", "Routines"]


def _poll(method: str, n: int = 4) -> tuple[Poll, list[PollOption]]:
    poll = Poll(id=7, community_id=1, question="Which topic next?", method=method, created_by="b")
    poll.status = "closed"
    options = [
        PollOption(id=40 + i, poll_id=7, community_id=1, position=i, label=label)
        for i, label in enumerate(LABELS[:n], 1)
    ]
    return poll, options


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def _whole(ticks: object) -> bool:
    return all(float(t).is_integer() for t in ticks)  # type: ignore[attr-defined]


def test_count_axes_have_whole_numbers_only() -> None:
    # One vote at most: matplotlib's default axis would read 0, 0.2, 0.4 ... 1.0.
    bars = totals_figure("Snack?", ["Apples", "Pears"], [1, 0], "votes")
    [ax] = bars.axes
    assert len(ax.get_xticks()) >= 2 and _whole(ax.get_xticks())
    rounds = rounds_figure("Snack?", ["A", "B"], [[1, 0], [1, None]], ["R1", "R2"], "votes", "out")
    [ax] = rounds.axes
    assert len(ax.get_yticks()) >= 2 and _whole(ax.get_yticks())


# Round 1: 1 and 2 lead with 2, 3 and 4 tie on 1 (never counted before): listing order drops 4,
# whose ballot moves to 3. Round 2: 2 / 2 / 2, and round 1 had 3 lowest: earlier rounds drop 3.
# Round 3: Family engagement has 3 of 5.
RANKED = [[41], [41], [42], [42], [43, 42], [44, 43]]


def test_ranked_chart_has_one_bar_group_per_round_and_shows_who_is_out() -> None:
    poll, options = _poll("ranked")
    result = tally(Method.RANKED, [o.id for o in options], [list(b) for b in RANKED])
    assert len(result.rounds) == 3
    fig = result_figure(T, poll, options, result)
    [ax] = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Round 1", "Round 2", "Round 3"]
    assert _whole(ax.get_yticks())
    # One colour (container) per option, as in the legend, with a bar in each round it was in.
    assert [c.get_label() for c in ax.containers] == [
        "1. Outdoor play",
        "2. Family engagement",
        "3. Transitions",
        "4. Routines",
    ]
    assert [len(c.patches) for c in ax.containers] == [3, 3, 2, 1]
    assert [p.get_height() for p in ax.containers[1].patches] == [2, 2, 3]
    [legend] = fig.legends
    assert [t.get_text() for t in legend.get_texts()][1] == "2. Family engagement"
    # Routines is out in rounds 2 and 3, Transitions in round 3.
    assert [t.get_text() for t in ax.texts].count("out") == 3
    notes = _texts(fig)
    assert "Round 1: tie broken by listing order. Round 2: tie broken by earlier rounds." in notes


def test_a_tie_broken_by_listing_order_is_marked_on_the_chart_and_in_the_text() -> None:
    poll, options = _poll("single", 3)
    ballots = [{41: 1}, {42: 1}, {43: 0}]
    result = tally(Method.SINGLE, [o.id for o in options], ballots)
    assert result.tie_broken
    fig = result_figure(T, poll, options, result)
    assert "Tie broken by listing order: Outdoor play is listed first on the poll." in _texts(fig)
    lines = result_lines(T, poll, options, result, 3, 5)
    assert (
        "Outdoor play, Family engagement tied; Outdoor play wins: tie broken by listing order "
        "(Outdoor play is listed first on the poll)."
    ) in lines
    # No tie, no note.
    clear = tally(Method.SINGLE, [o.id for o in options], [{41: 1}, {41: 1}, {42: 1}])
    notes = _texts(result_figure(T, poll, options, clear))
    assert not any("tie" in n.lower() for n in notes)


def test_ranked_text_says_listing_order_too() -> None:
    poll, options = _poll("ranked")
    result = tally(Method.RANKED, [o.id for o in options], [list(b) for b in RANKED])
    text = "\n".join(result_lines(T, poll, options, result, 6, 6))
    assert "Routines eliminated (tie broken by listing order)" in text
    assert "Transitions eliminated (tie broken by earlier rounds)" in text


def test_bars_keep_the_numbers_members_saw_and_whole_counts() -> None:
    poll, options = _poll("dot", 3)
    result = tally(Method.DOT, [o.id for o in options], [{41: 2, 43: 1}, {43: 3}])
    fig = result_figure(T, poll, options, result)
    [ax] = fig.axes
    shown = {t.get_text() for t in ax.get_yticklabels()}
    assert shown == {"1. Outdoor play", "2. Family engagement", "3. Transitions"}
    assert ax.get_xlabel() == "dots"
    assert _whole(ax.get_xticks())
    assert sorted(p.get_width() for p in ax.patches) == [0, 2, 4]


def test_no_chart_when_nobody_voted() -> None:
    for method in ("single", "ranked"):
        poll, options = _poll(method, 3)
        result = tally(Method(method), [o.id for o in options], [])
        assert result_chart(T, poll, options, result, 0) is None
        lines = result_lines(T, poll, options, result, 0, 5)
        assert lines[1] == "Nobody voted, so there is no winner and no chart."
    poll, options = _poll("single", 3)
    result = tally(Method.SINGLE, [o.id for o in options], [{41: 1}])
    png = result_chart(T, poll, options, result, 1)
    assert png is not None and png.startswith(b"\x89PNG\r\n\x1a\n")


async def test_console_close_with_no_ballots_posts_no_chart() -> None:
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup "Finger Lakes CoP" America/New_York
        /cop poll new Empty? options="A | B" method=ranked
        /cop poll close
        """,
        zone="America/New_York",
    )
    start = lines.index("ana> /cop poll close")
    assert lines[start + 1 : start + 4] == [
        "[private @ana] Poll #1 is closed; the result is posted in the channel.",
        "[#cop] Result of vote #1: Empty?",
        "  Nobody voted, so there is no winner and no chart.",
    ]
    assert not any("[file:" in line for line in lines)
