"""Reflection check-ins through the real Discord adapter: the DM with its Answer button
arrives, the press opens a modal, and the modal's submission is stored sealed with its
privacy choice.

Discord modals hold at most 5 components: three questions with a privacy choice each would be
six, so the modal shows the questions and one privacy choice for the whole submission (the
form's fallback).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.reflections import CheckinAnswer
from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    custom_ids,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord


async def test_the_dm_button_opens_a_modal_and_its_answers_are_stored(
    fake_discord: FakeDiscord, db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(fake.slash_command_interaction("cop join", user=bob))
        for command, options in (
            (
                "cop checkins add",
                {"title": "Weekly", "timing": "schedule:every Monday at 10:00", "open": "1d"},
            ),
            ("cop checkins question", {"number": 1, "verb": "add", "text": "What did you see?"}),
            ("cop checkins question", {"number": 1, "verb": "add", "text": "What will you try?"}),
            ("cop checkins question", {"number": 1, "verb": "add", "text": "What do you need?"}),
        ):
            answer = await fake.interact(
                fake.slash_command_interaction(
                    command, options, member_permissions=ADMIN_PERMISSIONS
                )
            )
            assert answer.status == 200 and answer.json["data"]["flags"] == EPHEMERAL, answer.json
        await app.advance(timedelta(hours=1, minutes=5))  # Mon 2 Nov, 10:05 in New York
        await app.worker.drain()
        # The DM arrives in bob's DM channel, with the Answer button.
        dm = fake.dm_channel(bob)["id"]
        [invite] = [
            c.json
            for c in fake.calls_to("POST", rf"/channels/{dm}/messages")
            if "Time to reflect" in shown_text(c.json)
        ]
        [answer_id] = custom_ids(invite["components"])
        assert answer_id.startswith("reflect:answer:")
        pressed = await fake.interact(
            fake.button_interaction(answer_id, user=bob, channel=fake.dm_channel(bob))
        )
        assert pressed.status == 200 and pressed.json["type"] == 9  # a modal
        modal = pressed.json["data"]
        rows = modal["components"]
        assert len(rows) <= 5  # Discord's limit: the questions and one privacy choice
        inputs = [c["custom_id"] for row in rows for c in row.get("components", [])]
        assert inputs == ["q1", "q2", "q3", "privacy"]
        said = await fake.interact(
            fake.modal_submit_interaction(
                modal["custom_id"],
                {"q1": "They built a ramp", "q2": "", "q3": "Time", "privacy": "Anonymous"},
                user=bob,
                channel=fake.dm_channel(bob),
            )
        )
        assert said.status == 200
        assert "Saved your answers to check-in 1" in shown_text(said.json["data"])
        await app.worker.drain()
        async with app.db.session() as session:
            stored = list(
                (
                    await session.execute(select(CheckinAnswer).order_by(CheckinAnswer.question))
                ).scalars()
            )
        sealer = app.services.sealer
        opened = [sealer.open(a.sealed, f"reflection:{a.id}:{a.question}") for a in stored]
        # Nothing of an anonymous answer is posted before the round closes.
        channel_texts = [
            shown_text(c.json)
            for c in fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")
        ]
    assert [(a.question, a.privacy) for a in stored] == [(0, "anonymous"), (2, "anonymous")]
    assert opened == ["They built a ramp", "Time"]
    assert not any("ramp" in a.sealed for a in stored)
    assert not any("ramp" in text for text in channel_texts)


async def test_two_questions_get_a_native_privacy_select_each(
    fake_discord: FakeDiscord, db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(fake.slash_command_interaction("cop join", user=bob))
        for command, options in (
            ("cop checkins add", {"title": "Weekly", "timing": "schedule:every Monday at 10:00"}),
            ("cop checkins question", {"number": 1, "verb": "add", "text": "What did you see?"}),
            (
                "cop checkins question",
                {"number": 1, "verb": "add", "text": "How sure are you?", "kind": "scale"},
            ),
        ):
            await fake.interact(
                fake.slash_command_interaction(
                    command, options, member_permissions=ADMIN_PERMISSIONS
                )
            )
        await app.advance(timedelta(hours=1, minutes=5))
        await app.worker.drain()
        dm = fake.dm_channel(bob)["id"]
        [invite] = [c.json for c in fake.calls_to("POST", rf"/channels/{dm}/messages")]
        [answer_id] = custom_ids(invite["components"])
        pressed = await fake.interact(
            fake.button_interaction(answer_id, user=bob, channel=fake.dm_channel(bob))
        )
        modal = pressed.json["data"]
        # Four components fit: each answer has its own privacy choice, as a real select.
        labelled = [row["component"] for row in modal["components"] if row["type"] == 18]
        assert [c["custom_id"] for c in labelled] == ["p1", "q2", "p2"]
        assert [o["value"] for o in labelled[0]["options"]] == [
            "private",
            "facilitators",
            "named",
            "anonymous",
        ]
        said = await fake.interact(
            fake.modal_submit_interaction(
                modal["custom_id"],
                {"q1": "A calm morning", "p1": ["facilitators"], "q2": ["2"], "p2": ["private"]},
                user=bob,
                channel=fake.dm_channel(bob),
                labels=True,
            )
        )
        assert said.status == 200
        await app.worker.drain()
        async with app.db.session() as session:
            stored = list(
                (
                    await session.execute(select(CheckinAnswer).order_by(CheckinAnswer.question))
                ).scalars()
            )
    assert [(a.question, a.privacy) for a in stored] == [(0, "facilitators"), (1, "private")]
