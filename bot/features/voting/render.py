"""Messages of topic voting: the poll, its result with the rounds, the intake list.

Pure builders: they take rows and counts and return neutral `Message`s; every word comes
from the ``voting`` catalog. Labels are passed through as typed (adapters escape them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.features.voting.ballots import ballot_numbers
from bot.features.voting.tally import (
    EXHAUSTED,
    IrvResult,
    Method,
    TieBreak,
    TotalsResult,
    format_bars,
)
from bot.i18n import Translator
from bot.ui import (
    ActionId,
    Actions,
    Block,
    Button,
    Context,
    File,
    Message,
    Section,
    Time,
    plain,
)
from storage.voting import Poll, PollOption, Topic, TopicIntake

# Methods voted on in a form; the others get one button per option, and `build_poll` keeps
# their option count within the platform's `Capabilities.max_buttons`. Adapters cut labels.
FORM_METHODS = (Method.RANKED, Method.DOT, Method.SCORE)


@dataclass(frozen=True)
class Standing:
    """What a poll message may show right now."""

    voted: int
    members: int
    result: TotalsResult | IrvResult | None  # None when counts are hidden
    # Which count `members` is: "channel", "viewers" (bot.ports.AudienceKind) or "known".
    counted: str = "known"


def numbered(options: Sequence[PollOption]) -> dict[int, str]:
    """Option id -> ``1. label``: the numbers ballots take (a topic poll's are its topics')."""
    numbers = ballot_numbers([o.topic_id for o in options])
    return {o.id: f"{n}. {o.label}" for n, o in zip(numbers, options, strict=True)}


def _labels(options: Sequence[PollOption]) -> dict[int, str]:
    return {o.id: o.label for o in options}


def method_line(t: Translator, poll: Poll) -> str:
    """``Ranked choice: rank as many as you like.``, with the poll's limits filled in."""
    method = Method(poll.method)
    key = f"voting.how.{method.value}"
    if method is Method.APPROVAL and poll.max_choices:
        key = "voting.how.approval_max"
    return t(key, max=poll.max_choices or 0, dots=poll.dots or 0)


def _deadline_parts(t: Translator, poll: Poll, zone: str) -> list[str | Time]:
    if poll.status == "closed" and poll.closed_at is not None:
        return t.parts("voting.poll.closed_at", when=t.moment(poll.closed_at, zone))
    if poll.closes_at is None:
        return [t("voting.poll.no_deadline")]
    return t.parts("voting.poll.closes", when=t.moment(poll.closes_at, zone))


def _flags(t: Translator, poll: Poll) -> list[str]:
    flags = []
    if poll.anonymous:
        flags.append(t("voting.flag.anonymous"))
    if not poll.live and poll.status == "open":
        flags.append(t("voting.flag.hidden"))
    if not poll.allow_change and poll.status == "open":
        flags.append(t("voting.flag.final"))
    if poll.quorum:
        flags.append(t("voting.flag.quorum", quorum=poll.quorum))
    return flags


def counts_of(
    result: TotalsResult | IrvResult, options: Sequence[PollOption], *, final: bool = True
) -> dict[int, int]:
    """Per-option numbers to draw: totals, or for ranked polls the final (or first) round's."""
    if isinstance(result, TotalsResult):
        return {o.id: result.totals.get(o.id, 0) for o in options}
    if not final:
        first = result.rounds[0].counts if result.rounds else {}
        return {o.id: first.get(o.id, 0) for o in options}
    last = result.rounds[-1].counts if result.rounds else {}
    return {o.id: last.get(o.id, 0) for o in options if o.id in last}


def vote_buttons(t: Translator, poll: Poll, options: Sequence[PollOption]) -> list[Button]:
    """One button per option (single, approval) or one that opens the ballot form."""
    method = Method(poll.method)
    if method in FORM_METHODS:
        label = t(f"voting.button.{method.value}")
        return [Button(action=ActionId("vote", "form", poll.id), label=label, style="primary")]
    return [Button(action=ActionId("vote", "cast", poll.id, o.id), label=o.label) for o in options]


def poll_message(
    t: Translator,
    poll: Poll,
    options: Sequence[PollOption],
    standing: Standing,
    zone: str,
) -> Message:
    """The poll as posted and edited in place: question, method, deadline, turnout, bars."""
    deadline = _deadline_parts(t, poll, zone)
    head = t("voting.poll.title", id=poll.id, question=poll.question)
    blocks: list[Block] = [Section.of(head), Context(parts=[method_line(t, poll), " ", *deadline])]
    names = numbered(options)
    if standing.result is not None:
        final = poll.status == "closed"
        lines = format_bars(names, counts_of(standing.result, options, final=final))
        if isinstance(standing.result, IrvResult):
            key = (
                "voting.poll.first_choices" if poll.status == "open" else "voting.poll.final_round"
            )
            lines.insert(0, t(key))
    else:
        lines = list(names.values())
    blocks.append(Section.of("\n".join(lines)))
    turnout = t(
        f"voting.poll.turnout_{standing.counted}", voted=standing.voted, members=standing.members
    )
    blocks.append(Context(parts=[" · ".join([turnout, *_flags(t, poll)])]))
    if poll.status == "open":
        blocks.append(Actions(elements=vote_buttons(t, poll, options)))
    else:
        blocks.append(Context(parts=[t("voting.poll.closed_note")]))
    text = "\n".join([head, method_line(t, poll) + " " + plain(deadline), *lines, turnout])
    return Message(text=text, blocks=blocks)


# -- results ---------------------------------------------------------------------------------


def _votes(t: Translator, n: int) -> str:
    return t.n("voting.irv.votes", n)


def _tie(t: Translator, rule: TieBreak | None) -> str:
    if rule is TieBreak.EARLIER_ROUNDS:
        return t("voting.irv.tie_earlier")
    if rule is TieBreak.LISTING_ORDER:
        return t("voting.irv.tie_listing")
    return ""


def irv_lines(t: Translator, result: IrvResult, labels: Mapping[int, str]) -> list[str]:
    """Every round (standings, eliminations, transfers, exhausted ballots) and the winner line.

    Same wording as `tally.describe_irv` in English, but translatable.
    """
    name = labels.get
    lines = []
    for rnd in result.rounds:
        order = sorted(rnd.counts, key=lambda o: -rnd.counts[o])
        standings = ", ".join(f"{name(o, f'#{o}')} {rnd.counts[o]}" for o in order)
        head = t("voting.irv.head", n=rnd.number, standings=standings or t("voting.irv.no_options"))
        if rnd.majority_of == 0:
            lines.append(t("voting.irv.no_votes", head=head))
        elif rnd.eliminated:
            names = ", ".join(name(o, f"#{o}") for o in rnd.eliminated)
            moved = [
                t("voting.irv.moved", votes=_votes(t, n), option=name(o, f"#{o}"))
                for o, n in rnd.transfers.items()
                if o != EXHAUSTED and n > 0
            ]
            gone = rnd.transfers.get(EXHAUSTED, 0)
            if moved or gone:
                what = ", ".join([*moved, t("voting.irv.exhausted", n=gone)])
            else:
                what = t("voting.irv.nothing_moved")
            lines.append(
                t(
                    "voting.irv.eliminated",
                    head=head,
                    names=names,
                    tie=_tie(t, rnd.tie_break),
                    what=what,
                )
            )
        elif result.winner is not None:
            winner = name(result.winner, f"#{result.winner}")
            key = "voting.irv.tied_win" if rnd.tie_broken else "voting.irv.majority"
            lines.append(t(key, head=head, name=winner, tie=_tie(t, rnd.tie_break)))
    if result.winner is None:
        lines.append(t("voting.irv.no_winner"))
    else:
        final = result.rounds[-1]
        values = {
            "name": name(result.winner, f"#{result.winner}"),
            "top": final.counts[result.winner],
        }
        if final.exhausted:
            # the exhausted ballots are a count phrase of their own, with its own plural
            ballots = t.n("voting.irv.ballots", final.exhausted)
            line = t.n("voting.irv.winner_exhausted", final.majority_of, ballots=ballots, **values)
        else:
            line = t.n("voting.irv.winner", final.majority_of, **values)
        lines.append(line)
    return lines


def result_lines(
    t: Translator,
    poll: Poll,
    options: Sequence[PollOption],
    result: TotalsResult | IrvResult,
    voted: int,
    members: int,
    counted: str = "known",
) -> list[str]:
    """The result as text lines: winner (and tie note), bars or rounds, turnout and quorum."""
    labels = _labels(options)
    lines = [t("voting.result.title", id=poll.id, question=poll.question)]
    if voted == 0:  # no rounds of zeros and no chart: say it plainly
        key = "voting.result.nobody" if poll.status == "closed" else "voting.result.nobody_yet"
        lines.append(t(key))
    elif isinstance(result, IrvResult):
        lines.extend(irv_lines(t, result, labels))
    else:
        if result.winner is None:
            lines.append(t("voting.result.no_winner"))
        else:
            key = "voting.result.winner" if poll.status == "closed" else "voting.result.leading"
            lines.append(t(key, name=labels[result.winner]))
            if result.tie_broken:
                tied = ", ".join(labels[o] for o in result.winners)
                lines.append(t("voting.result.tie", tied=tied, name=labels[result.winner]))
        lines.extend(format_bars(numbered(options), counts_of(result, options)))
        if result.averages:
            avg = ", ".join(
                f"{labels[o]} {result.averages[o]:.1f}"
                for o in result.ranking  # best first
            )
            lines.append(t("voting.result.averages", averages=avg))
    lines.append(turnout_line(t, poll, voted, members, counted))
    return lines


def turnout_line(
    t: Translator, poll: Poll, voted: int, members: int, counted: str = "known"
) -> str:
    """``Turnout: 3 of 12 channel members voted.``, naming which count it is; and the quorum."""
    turnout = t(f"voting.result.turnout_{counted}", voted=voted, members=members)
    if poll.quorum:
        key = "voting.result.quorum_met" if voted >= poll.quorum else "voting.result.quorum_missed"
        turnout += " " + t(key, quorum=poll.quorum)
    return turnout


def result_message(
    t: Translator,
    poll: Poll,
    options: Sequence[PollOption],
    result: TotalsResult | IrvResult,
    voted: int,
    members: int,
    chart: bytes | None,
    counted: str = "known",
) -> Message:
    """The posted result; a facilitator's button sends the winner to the agenda."""
    lines = result_lines(t, poll, options, result, voted, members, counted)
    blocks: list[Block] = [
        Section.of(lines[0]),
        Section.of("\n".join(lines[1:-1])),
        Context(parts=[lines[-1]]),
    ]
    if result.winner is not None:
        blocks.append(
            Actions(
                elements=[
                    Button(
                        action=ActionId("vote", "agenda", poll.id), label=t("voting.button.agenda")
                    )
                ]
            )
        )
    if chart is not None:
        blocks.append(
            File(
                filename=f"poll-{poll.id}-result.png",
                content=chart,
                title=t("voting.chart.file_title", id=poll.id),
                mime="image/png",
            )
        )
    return Message(text="\n".join(lines), blocks=blocks)


# -- topic intake ----------------------------------------------------------------------------


def topic_line(t: Translator, topic: Topic) -> str:
    key = "voting.topics.line_support" if topic.status == "backlog" else "voting.topics.line"
    return t(
        key, id=topic.id, title=topic.title, proposer=topic.proposer_name, support=topic.support
    )


def intake_message(
    t: Translator,
    intake: TopicIntake,
    topics: Sequence[Topic],
    zone: str,
    now: datetime | None = None,
) -> Message:
    """The intake call: the prompt, the deadline, the proposals so far, a button to propose.

    Past its deadline (`now`), the call says proposals are closed and loses its button.
    """
    head = t("voting.intake.title", prompt=intake.prompt)
    past_deadline = now is not None and intake.closes_at is not None and intake.closes_at <= now
    accepting = intake.status == "open" and not past_deadline
    if not accepting:
        when: list[str | Time] = [t("voting.intake.closed")]
    elif intake.closes_at is not None:
        when = t.parts("voting.intake.closes", when=t.moment(intake.closes_at, zone))
    else:
        when = [t("voting.intake.open")]
    lines = [topic_line(t, topic) for topic in topics] or [t("voting.intake.none")]
    count = t("voting.intake.count", count=len(topics))
    blocks: list[Block] = [
        Section.of(head),
        Context(parts=when),
        Section.of("\n".join(lines)),
        Context(parts=[count]),
    ]
    if accepting:
        blocks.append(
            Actions(
                elements=[
                    Button(
                        action=ActionId("topics", "propose", intake.id),
                        label=t("voting.button.propose"),
                        style="primary",
                    )
                ]
            )
        )
    text = "\n".join([head, plain(when), *lines, count])
    return Message(text=text, blocks=blocks)


def reminder_message(
    t: Translator, poll: Poll, options: Sequence[PollOption], community: str, zone: str
) -> Message:
    """The private nudge to a member who has not voted: names nobody, offers the vote."""
    if poll.closes_at is not None:
        parts: list[str | Time] = t.parts(
            "voting.remind.text",
            community=community,
            question=poll.question,
            when=t.moment(poll.closes_at, zone),
        )
    else:
        parts = [t("voting.remind.no_deadline", community=community, question=poll.question)]
    return Message(
        text=plain(parts),
        blocks=[Section(parts=parts), Actions(elements=vote_buttons(t, poll, options))],
    )
