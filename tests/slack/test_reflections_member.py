"""The member's side of check-ins on Slack end to end: ``/cop checkins pause`` answers
ephemerally in one sentence; a commitment's check-back arrives in the member's DM with its
buttons; *Tell how it went* opens the modal (static selects for how and who may read it);
the submitted note is stored sealed and reaches the facilitator by DM only. Signed requests
through real slack-bolt against the fake Web API.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from bot.context import background
from bot.features.reflections import member
from storage.models import Member
from storage.reflections import (
    Checkin,
    CheckinAnswer,
    CheckinCommitment,
    CheckinRound,
    CommitmentStatus,
    RoundStatus,
)
from tests.fakes.slack_fake import (
    CHANNEL_ID,
    block_actions_payload,
    dm_channel_for,
    slash_command_payload,
    view_submission_payload,
)
from tests.slack.helpers import START, SlackBot, buttons, running_bot

ADMIN = "U0ADMIN001"
MEMBER = "U0MEMBER01"
FACILITATOR = "U0FACIL001"
TRIED = "Offer two choices at clean-up time"
NOTE = "They chose quickly; the room was calmer"


def select_value(label: str, value: str) -> dict[str, Any]:
    return {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": label}, "value": value},
    }


async def _community(bot: SlackBot) -> None:
    fake = bot.fake
    fake.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    fake.add_user(MEMBER, profile={"display_name": "Begoña"})
    fake.add_user(FACILITATOR, profile={"display_name": "Ben"})
    for who, text in (
        (ADMIN, 'setup "Finger Lakes CoP" America/New_York'),
        (ADMIN, f"facilitator add <@{FACILITATOR}>"),
        (MEMBER, "join"),
    ):
        status, _ = await bot.post(slash_command_payload(text, fake=fake, user_id=who))
        assert status == 200


async def _commitment(bot: SlackBot) -> None:
    """A round Begoña answered with a commitment, as the core stores it."""
    async with bot.db.session() as session:
        begoña = (
            await session.execute(select(Member).where(col(Member.user_id) == MEMBER))
        ).scalar_one()
        checkin = Checkin(
            community_id=begoña.community_id,
            number=1,
            title="Individual reflection",
            questions=json.dumps([{"text": "One strategy I'll try", "commitment": True}]),
            timing="after",
            days=2,
            tz="America/New_York",
            open_minutes=7200,
            created_by=ADMIN,
        )
        session.add(checkin)
        await session.flush()
        rnd = CheckinRound(
            community_id=begoña.community_id,
            checkin_id=checkin.id,
            number=1,
            questions=checkin.questions,
            opens_at=START,
            closes_at=START + timedelta(days=5),
            status=RoundStatus.OPEN,
        )
        session.add(rnd)
        await session.flush()
        answer = CheckinAnswer(
            community_id=begoña.community_id,
            round_id=rnd.id,
            member_id=begoña.id,
            question=0,
            sealed="",
        )
        session.add(answer)
        await session.flush()
        answer.sealed = bot.app.services.sealer.seal(TRIED, f"reflection:{answer.id}:0")
        answer_id = answer.id
    async with background(bot.app.services) as ctx:
        stored = await ctx.session.get(CheckinAnswer, answer_id)
        assert stored is not None
        await member.commitment_from_answer(ctx, stored, TRIED)


async def test_pause_answers_ephemerally_in_one_sentence(slack_api) -> None:
    async with running_bot(slack_api) as bot:
        await _community(bot)
        status, text = await bot.post(
            slash_command_payload("checkins pause 3w", fake=slack_api, user_id=MEMBER)
        )
        _, refused = await bot.post(
            slash_command_payload("checkins pause soon", fake=slack_api, user_id=MEMBER)
        )
    assert status == 200
    answer = json.loads(text)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith(
        "Check-ins from Finger Lakes CoP are paused for you (no questions, reminders or "
        "check-backs) until "
    )
    assert json.loads(refused)["text"] == (
        "I couldn't read soon as a pause: give days or weeks like 10d or 3w, "
        "or a date like 2027-01-04."
    )


async def test_a_commitment_check_back_and_its_note_through_the_modal(slack_api) -> None:
    async with running_bot(slack_api) as bot:
        await _community(bot)
        await _commitment(bot)
        # No meeting planned: asked three weeks later, 09:00 in New York.
        await bot.app.advance_to(START + timedelta(days=21))
        await bot.app.worker.drain()
        dm = dm_channel_for(MEMBER)
        [ask] = [
            c
            for c in slack_api.calls_to("chat.postMessage")
            if c.params["channel"] == dm and "You said you'd try" in c.params["text"]
        ]
        pressable = buttons(ask.json_param("blocks"))
        assert list(pressable) == ["Tried it", "Not yet", "Drop it", "Tell how it went"]

        click = block_actions_payload(
            pressable["Tell how it went"], "", in_dm=True, user_id=MEMBER, fake=slack_api
        )
        assert await bot.post(click) == (200, "")
        [opened] = await slack_api.wait_for("views.open")
        view = opened.json_param("view")
        status, _ = await bot.post(
            view_submission_payload(
                view["callback_id"],
                values={
                    "how": {"value": select_value("Tried it", "tried")},
                    "note": {"value": {"type": "plain_text_input", "value": NOTE}},
                    "privacy": {"value": select_value("my facilitators", "facilitators")},
                },
                private_metadata=view["private_metadata"],
                view={"blocks": view["blocks"]},
                user_id=MEMBER,
            )
        )
        assert status == 200
        await bot.app.worker.drain()
        async with bot.db.session() as session:
            commitment = (await session.execute(select(CheckinCommitment))).scalar_one()
        posts = slack_api.calls_to("chat.postMessage")

    assert view["callback_id"] == "reflections.commitment_note"
    kinds = {b.get("block_id"): b["element"]["type"] for b in view["blocks"] if "element" in b}
    assert kinds == {"how": "static_select", "note": "plain_text_input", "privacy": "static_select"}
    assert ask.params["text"].startswith(f"You said you'd try: “{TRIED}”. Did you?")
    assert commitment.status == CommitmentStatus.TRIED
    assert commitment.note_sealed and NOTE not in commitment.note_sealed
    with_note = [p for p in posts if NOTE in p.params["text"]]
    assert [p.params["channel"] for p in with_note] == [dm_channel_for(FACILITATOR)]
    assert with_note[0].params["text"].startswith("Begoña (Finger Lakes CoP) on what they said")
    assert not any(TRIED in p.params["text"] for p in posts if p.params["channel"] == CHANNEL_ID)
