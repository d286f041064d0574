"""The neutral UI model: action ids, message round trips through JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bot.ui import (
    ActionId,
    ActionIdError,
    Actions,
    Button,
    Context,
    File,
    Mention,
    Message,
    Section,
    Time,
    format_time,
    plain,
)


def test_action_id_round_trips_and_exposes_its_parts() -> None:
    aid = ActionId("vote", "cast", 42, 3)
    assert aid == "vote:cast:42:3"
    parsed = ActionId.parse("vote:cast:42:3")
    assert (parsed.feature, parsed.verb, parsed.args) == ("vote", "cast", ["42", "3"])
    assert parsed.int_arg(1) == 3


@pytest.mark.parametrize(
    "raw",
    ["vote", "vote::1", "x" * 101, "vote:cast:a b", ""],
)
def test_action_id_rejects_malformed_input(raw: str) -> None:
    with pytest.raises(ActionIdError):
        ActionId.parse(raw)


def test_action_id_limit_is_exactly_one_hundred_characters() -> None:
    ok = ActionId("f", "v", "x" * 96)
    assert len(ok) == 100
    with pytest.raises(ActionIdError):
        ActionId("f", "v", "x" * 97)
    with pytest.raises(ActionIdError):
        ActionId("f", "v", "a:b")
    with pytest.raises(ActionIdError):
        ActionId.parse("vote:cast:x").int_arg(0)


def test_message_survives_the_outbox_as_json() -> None:
    at = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    msg = Message(
        text="Meeting soon",
        blocks=[
            Section.of(
                "Hi ",
                Mention(user_id="U1", name="ana"),
                ", we meet ",
                Time(at=at, zone="America/New_York"),
            ),
            Actions(
                elements=[
                    Button(action=ActionId("rsvp", "going", 7), label="Going", style="primary")
                ]
            ),
            Context(parts=["small print"]),
            File(filename="m.ics", content=b"BEGIN:VCALENDAR\r\n\x00\xff", title="Calendar"),
        ],
    )
    back = Message.model_validate_json(msg.model_dump_json())
    assert back == msg
    assert isinstance(back.blocks[0].parts[1], Mention)  # type: ignore[union-attr]
    assert back.blocks[3].content == b"BEGIN:VCALENDAR\r\n\x00\xff"  # type: ignore[union-attr]
    assert [b.label for b in back.buttons()] == ["Going"]


def test_time_needs_an_aware_instant_and_renders_in_its_zone() -> None:
    with pytest.raises(ValidationError):
        Time(at=datetime(2026, 12, 1, 18, 30))
    t = Time(at=datetime(2026, 12, 1, 23, 30, tzinfo=UTC), zone="America/New_York")
    assert format_time(t) == "Tue 1 Dec 2026, 18:30 EST"
    assert plain(["at ", t, " with ", Mention(user_id="U1", name="ana")]) == (
        "at Tue 1 Dec 2026, 18:30 EST with @ana"
    )
