"""Reflection check-ins through the real Slack adapter: the DM with its Answer button arrives,
the press opens a modal (views.open) with a privacy choice per answer, and the submission is
stored sealed with each answer's privacy; the named answer goes to the round's thread."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.reflections import CheckinAnswer, CheckinRound
from tests.fakes.slack_fake import (
    CHANNEL_ID,
    block_actions_payload,
    dm_channel_for,
    slash_command_payload,
    view_submission_payload,
)
from tests.slack.helpers import running_bot

ADMIN = "U0ADMIN001"
MEMBER = "U0MEMBER01"


def button(blocks: list[dict], label: str) -> str:
    [action] = [
        e["action_id"]
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button" and e["text"]["text"] == label
    ]
    return action


def typed(text: str) -> dict:
    return {"answer": {"type": "plain_text_input", "value": text}}


def picked(value: str) -> dict:
    return {"answer": {"type": "static_select", "selected_option": {"value": value}}}


async def test_the_dm_button_opens_a_modal_and_the_answers_are_stored_sealed(slack_api):
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    slack_api.add_user(MEMBER, profile={"display_name": "cara"})
    async with running_bot(slack_api) as bot:
        for user, text in (
            (ADMIN, 'setup "Finger Lakes CoP" America/New_York'),
            (MEMBER, "join"),
            (ADMIN, 'checkins add Weekly timing=schedule:"every Monday at 10:00" open=1d'),
            (ADMIN, "checkins question 1 add What did you notice?"),
            (ADMIN, "checkins question 1 add How confident are you? kind=scale"),
            (ADMIN, 'checkins question 1 add How was the week? options="calm,busy"'),
        ):
            status, _ = await bot.post(slash_command_payload(text, fake=slack_api, user_id=user))
            assert status == 200
        await bot.app.advance(timedelta(hours=1, minutes=5))  # Mon 2 Nov, 10:05 EST
        await bot.app.worker.drain()
        # The DM arrives with the button (one per member, through the outbox).
        dm = dm_channel_for(MEMBER)
        [invite] = [
            c
            for c in slack_api.calls_to("chat.postMessage")
            if c.params["channel"] == dm and "Time to reflect" in c.params["text"]
        ]
        ts = next(m["ts"] for m in slack_api.messages[dm] if m["text"] == invite.params["text"])
        answer = button(invite.json_param("blocks"), "Answer")
        await bot.post(
            block_actions_payload(
                answer, "", in_dm=True, channel_id=dm, user_id=MEMBER, message_ts=ts, fake=slack_api
            )
        )
        [opened] = await slack_api.wait_for("views.open")
        view = opened.json_param("view")
        assert view["callback_id"] == "reflections.answer"
        # Slack shows every question with its own privacy choice (six inputs fit a modal).
        assert [b["block_id"] for b in view["blocks"]] == ["q1", "p1", "q2", "p2", "q3", "p3"]
        privacy = view["blocks"][1]["element"]
        assert privacy["type"] == "static_select"
        assert privacy["initial_option"]["value"] == "private"  # only me, unless chosen
        assert [o["value"] for o in privacy["options"]] == [
            "private",
            "facilitators",
            "named",
            "anonymous",
        ]
        assert [o["value"] for o in view["blocks"][2]["element"]["options"]] == list("12345")
        before = len(slack_api.calls_to("chat.postMessage"))
        await bot.post(
            view_submission_payload(
                "reflections.answer",
                values={
                    "q1": typed("The children led the water play."),
                    "p1": picked("named"),
                    "q2": picked("4"),
                    "p2": picked("private"),
                    "q3": picked("busy"),
                    "p3": picked("anonymous"),
                },
                private_metadata=view["private_metadata"],
                view={"blocks": view["blocks"]},
                user_id=MEMBER,
            )
        )
        await slack_api.wait_for("chat.postMessage", count=before + 1)
        await bot.app.worker.drain()
        # The author is answered privately, in the DM (a modal's answer has no channel).
        [saved] = [
            c
            for c in slack_api.calls_to("chat.postMessage")
            if c.params["text"].startswith("Saved your answers")
        ]
        async with bot.app.db.session() as session:
            rows = list(
                (
                    await session.execute(select(CheckinAnswer).order_by(CheckinAnswer.question))
                ).scalars()
            )
            rnd = (
                await session.execute(select(CheckinRound).where(CheckinRound.number == 1))
            ).scalar_one()
        sealer = bot.app.services.sealer
        assert [(a.question, a.privacy) for a in rows] == [
            (0, "named"),
            (1, "private"),
            (2, "anonymous"),
        ]
        assert [sealer.open(a.sealed, f"reflection:{a.id}:{a.question}") for a in rows] == [
            "The children led the water play.",
            "4",
            "busy",
        ]
        assert not any("water play" in a.sealed for a in rows)
        # The named answer is a reply in the thread of the round's channel post.
        [post] = [
            c
            for c in slack_api.calls_to("chat.postMessage")
            if c.params["channel"] == CHANNEL_ID
            and c.params["text"].startswith("Reflection check-in 1 is open")
        ]
        parent = next(
            m["ts"] for m in slack_api.messages[CHANNEL_ID] if m["text"] == post.params["text"]
        )
        [shared] = [
            c
            for c in slack_api.calls_to("chat.postMessage")
            if "The children led the water play." in c.params["text"]
        ]
        assert shared.params["channel"] == CHANNEL_ID and shared.params["thread_ts"] == parent
        assert not any(
            "busy" in c.params["text"] or c.params["text"].startswith("cara — How confident")
            for c in slack_api.calls_to("chat.postMessage")
        )
        # Pressed again, the form opens with the member's own answers in it.
        await bot.post(
            block_actions_payload(
                answer, "", in_dm=True, channel_id=dm, user_id=MEMBER, message_ts=ts, fake=slack_api
            )
        )
        [_, again] = await slack_api.wait_for("views.open", count=2)
        blocks = {b["block_id"]: b["element"] for b in again.json_param("view")["blocks"]}
    assert saved.params["channel"] == dm
    assert blocks["q1"]["initial_value"] == "The children led the water play."
    assert blocks["p1"]["initial_option"]["value"] == "named"
    assert blocks["q2"]["initial_option"]["value"] == "4"
    assert blocks["p3"]["initial_option"]["value"] == "anonymous"
    assert rnd.asked == 2
