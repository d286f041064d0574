"""Strict command options: a misspelled or repeated ``name=`` is refused, never taken as text.

Each case is a mistake a facilitator made in their first week, typed into the console the way
Slack and Discord's ``/cop more`` hand text over (`Registry.parse`).
"""

from __future__ import annotations

import shlex

import pytest

from bot.commands import ParseError, Registry, tokenize
from bot.features import build_registry
from bot.i18n import Translator
from tests.support import transcript

T = Translator()

SETUP = """
:as ana admin
:in #cop
/cop setup "Finger Lakes CoP" America/New_York
/cop facilitator add @ana
"""


def _replies(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("[")]


@pytest.fixture
def registry() -> Registry:
    return build_registry()


async def test_a_misspelled_poll_option_is_refused_not_posted() -> None:
    lines = await transcript(
        SETUP
        + """
/cop poll new Which? options="A | B" close="in 2 days"
/cop poll list
"""
    )
    replies = _replies(lines)
    assert "[private @ana] I don't know close=; did you mean closes=?" in replies
    # Nothing was posted: no poll with "close=" in its question, no poll at all.
    assert not any("close=in 2 days" in line for line in lines)
    assert not any(line.startswith("[#cop] Which?") for line in lines)


async def test_a_quoted_name_value_stays_text() -> None:
    lines = await transcript(
        SETUP
        + """
/cop poll new "Is close=near?" options="A | B"
/cop poll new question="x=y?" options="A | B"
"""
    )
    text = "\n".join(lines)
    assert "Is close=near?" in text.replace("\n", " ")
    assert "x=y?" in text
    assert "I don't know" not in text


async def test_meeting_mistakes_from_the_issue_are_refused() -> None:
    lines = await transcript(
        SETUP
        + """
/cop meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"
/cop meeting agenda next topc="Play"
/cop meeting series "monthly on the first Tuesday at 18:30" locaton="Room 4"
/cop meeting series "weekly on Thursday at 12:00" agenda="Watch together; Discuss"
/cop meeting cancel 1 reasn="Snow day"
/cop meeting edit 1 until=2027-06-30
/cop meeting list
"""
    )
    replies = _replies(lines)
    assert "[private @ana] I don't know topc=; did you mean topic=?" in replies
    assert "[private @ana] I don't know locaton=; did you mean location=?" in replies
    unknown = [r for r in replies if r.startswith("[private @ana] I don't know ")]
    assert any(
        r.startswith("[private @ana] I don't know agenda= for /cop meeting series;")
        for r in unknown
    )
    # A name with no near parameter gets the command's form, not a far-fetched guess (title=).
    assert any(
        r.startswith("[private @ana] I don't know until= for /cop meeting edit;") for r in unknown
    )
    assert any("reasn=" in r for r in unknown)
    text = "\n".join(lines)
    assert "Topic: topc=Play" not in text
    assert "too long" not in text
    assert "couldn't read that schedule" not in text
    assert "Watch together" not in "\n".join(r for r in replies if "I don't know" not in r)


async def test_an_option_given_twice_is_refused() -> None:
    lines = await transcript(
        SETUP
        + """
/cop poll new Which? options="A | B" closes="in 2 days" Closes="in 3 days"
"""
    )
    assert "[private @ana] closes= is given twice; give it once." in _replies(lines)


def test_refusals_name_the_nearest_option_or_the_form(registry: Registry) -> None:
    with pytest.raises(ParseError, match=r"^I don't know anonymus=; did you mean anonymous=\?$"):
        registry.parse('poll new Which? options="A|B" anonymus=yes', T)
    with pytest.raises(ParseError, match=r"^I don't know colour= for /cop setup; the form is: "):
        registry.parse("setup Circle colour=blue", T)
    with pytest.raises(ParseError, match=r"^I don't know x=; /cop join takes no options\.$"):
        registry.parse("join x=1", T)
    # Text that only looks like an option (no name before "=", or not a word) stays text.
    _, params = registry.parse('poll new 2+2=4? options="A|B"', T)
    assert params["question"] == "2+2=4?"


@pytest.mark.parametrize(
    "text",
    [
        'a "b c" d',
        "close=\"in 2 days\" 'x y'",
        'x="a\\"b" y\\ z',
        "it's",
        'x="a',
        "trail\\",
        "a\\\nb  \t c",
    ],
)
def test_tokens_split_as_a_shell_would(text: str) -> None:
    try:
        expected: list[str] | None = shlex.split(text)
    except ValueError:
        expected = None
    try:
        got: list[str] | None = [tok.word for tok in tokenize(text)]
    except ValueError:
        got = None
    assert got == expected


async def test_an_empty_facilitator_is_refused() -> None:
    lines = await transcript(
        SETUP
        + """
/cop facilitator add @
/cop facilitator add <@>
/cop about
"""
    )
    replies = _replies(lines)
    assert replies[2:] == [
        '[private @ana] "@" names nobody; please name a member, e.g. @ben.',
        '[private @ana] "<@>" names nobody; please name a member, e.g. @ben.',
        "[private @ana] Finger Lakes CoP: time zone America/New_York, language en; members: 1; "
        "facilitators: ana.",
    ]


async def test_settings_with_nothing_to_change_say_so() -> None:
    lines = await transcript(
        SETUP
        + """
/cop settings
/cop settings timezone=America/New_York
/cop settings name=""
/cop settings name="   "
/cop about
/cop settings name="Finger Lakes Circle"
"""
    )
    replies = _replies(lines)
    assert replies[2:] == [
        "[private @ana] Nothing to change: give name=, timezone= or language=, e.g. /cop "
        "settings timezone=America/Chicago.",
        "[private @ana] Nothing changed: Finger Lakes CoP already uses time zone "
        "America/New_York and language en.",
        "[private @ana] name can't be empty.",
        "[private @ana] name can't be empty.",
        "[private @ana] Finger Lakes CoP: time zone America/New_York, language en; members: 1; "
        "facilitators: ana.",
        "[private @ana] Finger Lakes Circle now uses time zone America/New_York and language en.",
    ]
