"""What a poll's result and export attach: the chart PNG and the CSV files, in members' terms.

Builds on the pure drawing and CSV helpers in `chart` with the poll's words from the catalog:
options carry the numbers members saw on the poll message (never database ids), ranked polls
are drawn round by round, and a tie decided by listing order is said on the chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.features.voting.ballots import Choice
from bot.features.voting.chart import csv_file, rounds_figure, to_png, totals_figure
from bot.features.voting.render import counts_of, numbered
from bot.features.voting.tally import IrvResult, TieBreak, TotalsResult
from bot.i18n import Translator
from bot.ui import File
from storage.voting import Poll, PollOption

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# An export is at most three files (totals, rounds, ballots): within Discord's 10 attachments
# per message (adapters/discord/render.py MAX_FILES) and one files_upload_v2 call on Slack.
MAX_EXPORT_FILES = 3


def _names(options: Sequence[PollOption]) -> list[str]:
    """``4. Outdoor play``: each option as the poll message shows it (`render.numbered`)."""
    shown = numbered(options)
    return [shown[o.id] for o in options]


def _numbers(options: Sequence[PollOption]) -> dict[int, int]:
    """Option id -> the number members saw on the poll and type into ballots (not the id)."""
    return {option: int(text.split(".", 1)[0]) for option, text in numbered(options).items()}


def tie_note(t: Translator, options: Sequence[PollOption], result: TotalsResult | IrvResult) -> str:
    """The chart's footnote when a tie had to be decided by a rule, else ``""``."""
    labels = {o.id: o.label for o in options}
    if isinstance(result, TotalsResult):
        if not result.tie_broken or result.winner is None:
            return ""
        return t("voting.chart.tie_listing", name=labels[result.winner])
    notes = []
    for rnd in result.rounds:
        if rnd.tie_break is TieBreak.LISTING_ORDER:
            notes.append(t("voting.chart.tie_round_listing", n=rnd.number))
        elif rnd.tie_break is TieBreak.EARLIER_ROUNDS:
            notes.append(t("voting.chart.tie_round_earlier", n=rnd.number))
    return " ".join(notes)


def result_figure(
    t: Translator, poll: Poll, options: Sequence[PollOption], result: TotalsResult | IrvResult
) -> Figure:
    """The result drawn: totals as bars, or for ranked polls one bar group per round."""
    note = tie_note(t, options, result)
    if isinstance(result, IrvResult):
        return rounds_figure(
            poll.question,
            _names(options),
            [[rnd.counts.get(o.id) for o in options] for rnd in result.rounds],
            [t("voting.chart.round", n=rnd.number) for rnd in result.rounds],
            t("voting.chart.unit_ranked"),
            t("voting.chart.gone"),
            note,
        )
    counts = counts_of(result, options)
    return totals_figure(
        poll.question,
        _names(options),
        [counts[o.id] for o in options],
        t(f"voting.chart.unit_{poll.method}"),
        note,
    )


def result_chart(
    t: Translator,
    poll: Poll,
    options: Sequence[PollOption],
    result: TotalsResult | IrvResult,
    voted: int,
) -> bytes | None:
    """The result's chart as PNG, or None when nobody voted (the text says so instead)."""
    if voted == 0:
        return None
    return to_png(result_figure(t, poll, options, result))


def _status(t: Translator, result: IrvResult, index: int, option: int, closed: bool) -> str:
    rnd = result.rounds[index]
    tie = t("voting.export.tie_listing") if rnd.tie_break is TieBreak.LISTING_ORDER else ""
    if rnd.tie_break is TieBreak.EARLIER_ROUNDS:
        tie = t("voting.export.tie_earlier")
    if option in rnd.eliminated:
        return t("voting.export.eliminated") + tie
    if index == len(result.rounds) - 1 and option == result.winner:
        return t("voting.export.winner" if closed else "voting.export.leading") + tie
    return ""


def export_files(
    t: Translator,
    poll: Poll,
    options: Sequence[PollOption],
    result: TotalsResult | IrvResult,
    ballots: Sequence[tuple[str, Choice]] | None,
) -> list[File]:
    """``poll-N-totals.csv``, ``poll-N-rounds.csv`` (ranked) and ``poll-N-ballots.csv``.

    `ballots` is ``(voter name, choice)`` per ballot, or None for an anonymous poll, whose
    export has no ballots file at all (who chose what is never written down).
    """
    number = _numbers(options)
    col_number, col_option = t("voting.export.col_number"), t("voting.export.col_option")
    # An open (live) poll has a leader, not yet a winner.
    yes = t("voting.export.yes") if poll.status == "closed" else t("voting.export.leading")
    files: list[tuple[str, bytes]] = []
    if isinstance(result, IrvResult):
        first = result.rounds[0].counts if result.rounds else {}
        head = [col_number, col_option, t("voting.export.col_first"), t("voting.export.col_winner")]
        rows: list[list[object]] = [
            [number[o.id], o.label, first.get(o.id, 0), yes if o.id == result.winner else ""]
            for o in options
        ]
        files.append(("totals", csv_file(head, rows)))
        rounds: list[list[object]] = []
        for index, rnd in enumerate(result.rounds):
            for o in options:
                if o.id in rnd.counts:
                    status = _status(t, result, index, o.id, poll.status == "closed")
                    rounds.append([rnd.number, number[o.id], o.label, rnd.counts[o.id], status])
            rounds.append([rnd.number, "", t("voting.export.exhausted"), rnd.exhausted, ""])
        head = [
            t("voting.export.col_round"),
            col_number,
            col_option,
            t("voting.export.col_votes"),
            t("voting.export.col_status"),
        ]
        files.append(("rounds", csv_file(head, rounds)))
    else:
        head = [col_number, col_option, t(f"voting.export.col_total_{poll.method}")]
        if result.averages:
            head.append(t("voting.export.col_average"))
        head.append(t("voting.export.col_winner"))
        rows = []
        for o in options:
            row: list[object] = [number[o.id], o.label, result.totals.get(o.id, 0)]
            if result.averages:
                row.append(round(result.averages.get(o.id, 0.0), 2))
            rows.append([*row, yes if o.id == result.winner else ""])
        files.append(("totals", csv_file(head, rows)))
    if ballots is not None:
        head = [
            t("voting.export.col_voter"),
            col_number,
            col_option,
            t(f"voting.export.col_value_{poll.method}"),
        ]
        labels = {o.id: o.label for o in options}
        lines: list[list[object]] = []
        for voter, choice in ballots:
            if isinstance(choice, list):  # a ranking, best first
                pairs = [(o, rank) for rank, o in enumerate(choice, 1)]
            else:
                pairs = sorted(choice.items(), key=lambda p: number.get(p[0], 0))
            lines.extend([voter, number[o], labels[o], v] for o, v in pairs if o in number)
        files.append(("ballots", csv_file(head, lines)))
    assert len(files) <= MAX_EXPORT_FILES
    return [
        File(
            filename=f"poll-{poll.id}-{part}.csv",
            content=content,
            title=t(f"voting.export.title_{part}", id=poll.id),
            mime="text/csv",
        )
        for part, content in files
    ]
