"""The interest survey through the real Slack adapter: the survey's post carries a button per
form of five areas, a press opens a modal (views.open) with one 0-5 select per area, and the
member's picks are stored; a forged out-of-range value is refused on its field, storing nothing.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.survey import SurveyItem, SurveyRating
from tests.fakes.slack_fake import (
    CHANNEL_ID,
    block_actions_payload,
    slash_command_payload,
    view_submission_payload,
)
from tests.slack.helpers import buttons, running_bot

ADMIN = "U0ADMIN001"
MEMBER = "U0MEMBER01"
AREAS = (
    "Relationships with families",
    "Learning environments",
    "Health and safety",
    "Curriculum and planning",
    "Professionalism",
    "Observation and assessment",
)


def picked(value: str) -> dict:
    return {"value": {"type": "static_select", "selected_option": {"value": value}}}


async def test_a_member_rates_the_areas_in_a_modal_and_it_is_stored(slack_api):
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    slack_api.add_user(MEMBER, profile={"display_name": "cara"})
    async with running_bot(slack_api) as bot:
        commands = [(ADMIN, 'setup "Finger Lakes CoP" America/New_York'), (MEMBER, "join")]
        commands += [(ADMIN, f"survey areas add {area}") for area in AREAS]
        commands += [(ADMIN, "survey open days=7")]
        for user, text in commands:
            status, _ = await bot.post(slash_command_payload(text, fake=slack_api, user_id=user))
            assert status == 200
        await bot.app.worker.drain()
        [post] = [
            c
            for c in slack_api.calls_to("chat.postMessage")
            if c.params["channel"] == CHANNEL_ID and "interest survey" in c.params["text"]
        ]
        ts = next(
            m["ts"] for m in slack_api.messages[CHANNEL_ID] if m["text"] == post.params["text"]
        )
        shown = buttons(post.json_param("blocks"))
        assert list(shown) == ["Rate areas 1–5", "Rate area 6", "Propose an area"]
        await bot.post(
            block_actions_payload(
                shown["Rate areas 1–5"], "", user_id=MEMBER, message_ts=ts, fake=slack_api
            )
        )
        [opened] = await slack_api.wait_for("views.open")
        view = opened.json_param("view")
        assert view["callback_id"] == "survey.rate"
        # One native select per area, five to a modal, each from 0 to 5.
        assert [b["block_id"] for b in view["blocks"]] == ["a1", "a2", "a3", "a4", "a5"]
        assert [b["element"]["type"] for b in view["blocks"]] == ["static_select"] * 5
        assert [o["value"] for o in view["blocks"][0]["element"]["options"]] == list("012345")
        assert view["blocks"][2]["label"]["text"] == "3. Health and safety"
        # A forged value outside 0-5 is refused on its field and nothing is stored.
        status, body = await bot.post(
            view_submission_payload(
                "survey.rate",
                values={"a1": picked("9"), "a2": picked("4")},
                private_metadata=view["private_metadata"],
                view={"blocks": view["blocks"]},
                user_id=MEMBER,
            )
        )
        assert status == 200
        assert json.loads(body) == {
            "response_action": "errors",
            "errors": {"a1": 'Rate "Relationships with families" with a whole number from 0 to 5.'},
        }
        status, _ = await bot.post(
            view_submission_payload(
                "survey.rate",
                values={"a1": picked("5"), "a2": picked("4"), "a3": picked("0")},
                private_metadata=view["private_metadata"],
                view={"blocks": view["blocks"]},
                user_id=MEMBER,
            )
        )
        assert status == 200
        await bot.app.worker.drain()
        async with bot.app.db.session() as session:
            rows = (
                await session.execute(
                    select(SurveyItem.title, SurveyRating.score)
                    .join(SurveyItem, SurveyItem.id == SurveyRating.item_id)
                    .order_by(SurveyItem.position)
                )
            ).all()
    assert [tuple(r) for r in rows] == [
        ("Relationships with families", 5),
        ("Learning environments", 4),
        ("Health and safety", 0),
    ]
