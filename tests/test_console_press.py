"""Console presses reach only what the current person can see; `:as` roles stay with the name."""

from __future__ import annotations

from tests.support import transcript

SETUP = """
:as ana admin
/cop setup "FL" America/New_York
/cop poll new Which? options="A | B | C" method=approval
:as ben
/cop join
:as ana
:press A
"""


async def test_press_skips_someone_elses_private_reply() -> None:
    lines = await transcript(SETUP + ":as ben\n:press Remove A\n:press 3 B\n")
    assert "  1) Remove A" in lines  # ana's private reply, message 5, has a button
    at = lines.index("ben> :press Remove A")
    assert lines[at + 1] == "! message 3 has no button 'Remove A' (it has A, B, C)"
    assert lines[at + 3] == (
        "[private @ben] Your vote is saved: B. You can change it until the poll closes."
    )


async def test_press_by_number_refuses_a_message_sent_to_another_person() -> None:
    lines = await transcript(SETUP + ":as ben\n:press 5 Remove A\n:as ana\n:press 5 Remove A\n")
    at = lines.index("ben> :press 5 Remove A")
    assert lines[at + 1] == "! message 5 was sent to @ana only"
    at = lines.index("ana> :press 5 Remove A")
    assert lines[at + 1] == (
        "[private @ana] Your vote is saved: nothing yet. You can change it until the poll closes."
    )


async def test_admin_given_with_as_lasts_until_member() -> None:
    lines = await transcript(
        """
        :as ana admin
        /cop setup "FL" America/New_York
        :as ben
        /cop facilitator add @ben
        :as ana
        /cop facilitator add @cara
        :as ana member
        /cop facilitator add @dan
        :as ana
        /cop facilitator add @eve
        """
    )
    assert lines[lines.index("ben> /cop facilitator add @ben") + 1] == (
        "[private @ben] Only a workspace admin can do that."
    )
    assert lines[lines.index("ana> /cop facilitator add @cara") + 1] == (
        "[#general] cara is now a facilitator of FL."
    )
    for name in ("dan", "eve"):
        assert lines[lines.index(f"ana> /cop facilitator add @{name}") + 1] == (
            "[private @ana] Only a workspace admin can do that."
        )


async def test_as_refuses_an_unknown_role() -> None:
    lines = await transcript(":as ana boss\n")
    assert lines[-1] == "! use :as NAME, :as NAME admin or :as NAME member"
