"""The command registry: parsing text the way Slack and the console hand it over."""

from __future__ import annotations

import pytest

from bot.commands import Command, Param, ParseError, Registry, Role, normalise_user
from bot.features import build_registry
from bot.i18n import Translator

T = Translator()


async def _noop(ctx):  # type: ignore[no-untyped-def]
    raise AssertionError("not called")


@pytest.fixture
def registry() -> Registry:
    return build_registry()


def test_positional_keyword_and_quoted_parameters(registry: Registry) -> None:
    cmd, params = registry.parse('setup "Finger Lakes CoP" America/New_York', T)
    assert cmd.path == ("setup",)
    assert params == {"name": "Finger Lakes CoP", "timezone": "America/New_York"}
    _, params = registry.parse("setup timezone=Asia/Tokyo name='Ōsaka circle' language=EN", T)
    assert params == {"name": "Ōsaka circle", "timezone": "Asia/Tokyo", "language": "EN"}


def test_last_text_parameter_takes_the_rest() -> None:
    reg = Registry()
    reg.command(
        Command(
            ("note",), "k", _noop, Role.MEMBER, (Param("n", "k", kind="int"), Param("text", "k"))
        )
    )
    _, params = reg.parse("note 3 bring your own snack, please", T)
    assert params == {"n": "3", "text": "bring your own snack, please"}
    with pytest.raises(ParseError, match="must be a whole number"):
        reg.parse("note three things", T)


@pytest.mark.parametrize(
    ("raw", "user"),
    [
        ("<@U123|ben>", "U123"),
        ("<@U123>", "U123"),
        ("<@!4567>", "4567"),
        ("@ben", "ben"),
        ("ben", "ben"),
    ],
)
def test_mentions_from_every_platform_become_user_ids(
    registry: Registry, raw: str, user: str
) -> None:
    assert normalise_user(raw) == user
    _, params = registry.parse(f"facilitator add {raw}", T)
    assert params == {"user": user}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("facilitator", '"/cop facilitator" needs one of: add, remove.'),
        ("frobnicate now", 'I don\'t know the command "frobnicate"; try /cop help.'),
        ("facilitator add", "Please give user; the form is: /cop facilitator add USER"),
        ("facilitator add @a @b", 'I didn\'t expect "@b"; the form is: /cop facilitator add USER'),
        ("setup " + "x" * 101, "name is too long; keep it under 100 characters."),
    ],
)
def test_bad_command_text_gets_one_sentence(registry: Registry, text: str, message: str) -> None:
    with pytest.raises(ParseError) as err:
        registry.parse(text, T)
    assert str(err.value) == message


def test_empty_text_means_help(registry: Registry) -> None:
    cmd, _ = registry.parse("   ", T)
    assert cmd.path == ("help",)


def test_registry_refuses_paths_discord_cannot_express() -> None:
    reg = Registry()
    with pytest.raises(ValueError):
        reg.command(Command(("a", "b", "c"), "k", _noop))
    reg.command(Command(("a", "b"), "k", _noop))
    with pytest.raises(ValueError):
        reg.command(Command(("a", "b"), "k", _noop))
    with pytest.raises(ValueError):
        reg.command(
            Command(("x",), "k", _noop, params=(Param("p", "k", rest=True), Param("q", "k")))
        )


def test_choices_are_checked_and_normalised() -> None:
    reg = Registry()
    reg.command(Command(("m",), "k", _noop, params=(Param("how", "k", choices=("yes", "no")),)))
    assert reg.parse("m YES", T)[1] == {"how": "yes"}
    with pytest.raises(ParseError, match="must be one of yes, no"):
        reg.parse("m maybe", T)
