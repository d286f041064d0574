"""Bring a challenge on Discord end to end, through discord.py's real code paths on the loopback
fake: ``/cop challenge list`` answers ephemerally with the "Bring a challenge" button; pressing
it opens a modal (the text, and a native select for who may see it is yours); the submission
is stored as an open challenge and answered ephemerally in one sentence. The adding is also
tried as a typed slash command with ``private:yes``."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from storage.challenges import Challenge, ChallengeStatus
from tests.discord.helpers import EPHEMERAL, custom_ids, running_bot, setup_community
from tests.fakes.discord_fake import FakeDiscord

TEXT = "Transitions after outdoor play take twenty minutes."
PRIVATE = "A parent questions our nap routine every day"


async def test_the_bring_a_challenge_button_opens_the_modal_and_stores_it(
    fake_discord: FakeDiscord, db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(fake.slash_command_interaction("cop join", user=bob))
        listed = await fake.interact(fake.slash_command_interaction("cop challenge list", user=bob))
        bring = next(
            i for i in custom_ids(listed.json["data"]["components"]) if i.startswith("challenge:")
        )
        pressed = await fake.interact(fake.button_interaction(bring, user=bob))
        modal = pressed.json["data"]
        said = await fake.interact(
            fake.modal_submit_interaction(
                modal["custom_id"], {"text": TEXT, "visibility": ["open"]}, user=bob, labels=True
            )
        )
        typed = await fake.interact(
            fake.slash_command_interaction(
                "cop challenge add", {"text": PRIVATE, "private": "yes"}, user=bob
            )
        )
        await app.worker.drain()
        async with app.db.session() as session:
            rows = list(
                (await session.execute(select(Challenge).order_by(col(Challenge.number)))).scalars()
            )

    assert listed.json["data"]["flags"] == EPHEMERAL
    assert bring.startswith("challenge:bring:")
    assert pressed.json["type"] == 9  # a modal
    labelled = [row["component"] for row in modal["components"] if row["type"] == 18]
    assert [c["custom_id"] for c in labelled] == ["visibility"]
    assert [o["value"] for o in labelled[0]["options"]] == ["open", "private"]  # a real select
    inputs = [c for row in modal["components"] if row["type"] == 1 for c in row["components"]]
    assert [(c["custom_id"], c["style"]) for c in inputs] == [("text", 2)]  # a paragraph input
    assert said.json["data"]["flags"] == EPHEMERAL
    assert said.json["data"]["content"] == (
        "Challenge #1 is in: it is on the next meeting's agenda, under Problem-solving, "
        "with your name."
    )
    assert typed.json["data"]["content"].startswith("Challenge #2 is in, privately")
    assert [(r.number, r.text, r.private, r.status) for r in rows] == [
        (1, TEXT, False, ChallengeStatus.OPEN),
        (2, PRIVATE, True, ChallengeStatus.OPEN),
    ]
