"""`/cop help`: grouped by job, one command in detail, and "did you mean" for typos."""

from __future__ import annotations

import pytest

from bot.commands import ParseError
from bot.features import build_registry
from bot.i18n import Translator
from tests.support import transcript

SETUP = """
:as ana admin
/cop setup "FL CoP" America/New_York
"""


def _answer(lines: list[str], line: str) -> list[str]:
    """The bot's lines after the echoed input `line`, up to the next echoed input."""
    at = lines.index(line) + 1
    end = next((i for i in range(at, len(lines)) if "> " in lines[i][:20]), len(lines))
    return lines[at:end]


async def test_help_for_one_command_lists_its_parameters_and_an_example() -> None:
    lines = await transcript(SETUP + "/cop help poll new\n")
    answer = _answer(lines, "ana> /cop help poll new")
    assert answer[0].startswith("[private @ana] /cop poll new QUESTION options=OPTIONS ")
    assert "  Facilitators may run it." in answer
    assert "  • question (required): what members vote on" in answer
    assert any(a.startswith("  • closes (optional): when voting ends") for a in answer)
    assert answer[-1].startswith('  Example: /cop poll new Which topic next? options="Outdoor')


async def test_help_for_a_group_lists_each_command_with_its_example() -> None:
    lines = await transcript(SETUP + "/cop help meeting\n")
    answer = _answer(lines, "ana> /cop help meeting")
    assert answer[0] == "[private @ana] /cop meeting commands:"
    series = next(a for a in answer if a.startswith("  • /cop meeting series "))
    assert "SCHEDULE [title=] [duration=]" in series and "[dm=yes|no]" in series
    assert '      Example: /cop meeting cancel 4 reason="the room is flooded"' in answer
    assert answer[-1] == "  For one of them in detail: /cop help meeting NAME."


async def test_help_names_options_as_they_are_typed() -> None:
    """Help shows ``title=``, not a positional [TITLE]: the form the README uses."""
    lines = await transcript(SETUP + "/cop help meeting\n/cop help settings\n")
    text = "\n".join(_answer(lines, "ana> /cop help meeting"))
    assert "SCHEDULE [TITLE] [DURATION]" not in text
    assert "/cop meeting edit [SERIES] [schedule=] [title=]" in text
    settings = _answer(lines, "ana> /cop help settings")
    assert settings[0].startswith("[private @ana] /cop settings [NAME] [timezone=] [language=]")


async def test_facilitator_help_is_one_line_a_job_within_one_discord_message() -> None:
    lines = await transcript(SETUP + "/cop help\n")
    answer = _answer(lines, "ana> /cop help")
    jobs = [a.split(":")[0].strip() for a in answer[1:-1]]
    assert jobs[:3] == ["Community", "Topics and voting", "Meetings"]
    voting = next(a for a in answer if a.startswith("  Topics and voting: "))
    assert "/cop poll new, list, results, close" in voting
    assert "/cop topics open, propose" in voting and "/cop survey areas, schedule" in voting
    assert answer[-1].startswith("  What each one does: /cop help GROUP")
    # The whole overview, an admin's included, fits one Discord message.
    assert len("\n".join(answer)) <= 2000


async def test_a_member_sees_only_their_commands_in_help() -> None:
    lines = await transcript(SETUP + ":as ben\n/cop help\n/cop help poll new\n")
    answer = "\n".join(_answer(lines, "ben> /cop help"))
    assert "/cop poll list" in answer and "/cop poll new" not in answer
    detail = _answer(lines, "ben> /cop help poll new")
    assert "  Facilitators may run it." in detail  # detail says who may, for anyone asking


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("meetng list", 'I don\'t know the command "meetng list"; did you mean /cop meeting list?'),
        ("meeting lsit", '"/cop meeting" has no "lsit"; did you mean /cop meeting list?'),
        ("pol new Which?", 'I don\'t know the command "pol new"; did you mean /cop poll new?'),
        ("hlep", 'I don\'t know the command "hlep"; did you mean /cop help?'),
        ("frobnicate now", 'I don\'t know the command "frobnicate"; try /cop help.'),
    ],
)
def test_misspelled_commands_get_the_nearest_one(typed: str, answer: str) -> None:
    with pytest.raises(ParseError) as err:
        build_registry().parse(typed, Translator())
    assert str(err.value) == answer


async def test_help_for_a_misspelled_command_suggests_one() -> None:
    lines = await transcript(SETUP + "/cop help meetng\n/cop help zzz\n")
    assert _answer(lines, "ana> /cop help meetng") == [
        '[private @ana] I don\'t know the command "meetng"; did you mean /cop help meeting?'
    ]
    assert _answer(lines, "ana> /cop help zzz") == [
        '[private @ana] I don\'t know the command "zzz"; /cop help lists them.'
    ]


async def test_every_command_has_detailed_help() -> None:
    """Each command's detail renders: every parameter's help text is in the catalog."""
    registry = build_registry()
    script = SETUP + "".join(f"/cop help {cmd.name}\n" for cmd in registry.commands.values())
    lines = await transcript(script)
    for cmd in registry.commands.values():
        answer = _answer(lines, f"ana> /cop help {cmd.name}")
        assert answer[0].startswith(f"[private @ana] {cmd.usage()} — "), cmd.name
        assert len(answer) == 2 + len(cmd.params) + (1 if cmd.example else 0), cmd.name
