"""The interest survey through the real Discord adapter: the survey's post carries a button per
form of five areas (a Discord modal holds at most 5 components), a press opens a modal with one
native 0-5 select per area, and the member's picks are stored.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.survey import SurveyItem, SurveyRating
from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord

AREAS = (
    "Relationships with families",
    "Learning environments",
    "Health and safety",
    "Curriculum and planning",
    "Professionalism",
    "Observation and assessment",
)


def buttons(components: list[dict]) -> dict[str, str]:
    return {
        c["label"]: c["custom_id"]
        for row in components
        for c in row.get("components", [])
        if c.get("type") == 2
    }


async def test_a_member_rates_the_areas_in_a_modal_and_it_is_stored(
    fake_discord: FakeDiscord, db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(fake.slash_command_interaction("cop join", user=bob))
        for command, options in [
            *(("cop survey areas", {"verb": "add", "area": area}) for area in AREAS),
            ("cop survey open", {"days": 7}),
        ]:
            answer = await fake.interact(
                fake.slash_command_interaction(
                    command, options, member_permissions=ADMIN_PERMISSIONS
                )
            )
            assert answer.status == 200 and answer.json["data"]["flags"] == EPHEMERAL, answer.json
        await app.worker.drain()
        [post] = [
            c.json
            for c in fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")
            if "interest survey" in shown_text(c.json)
        ]
        shown = buttons(post["components"])
        assert list(shown) == ["Rate areas 1–5", "Rate area 6", "Propose an area"]
        pressed = await fake.interact(fake.button_interaction(shown["Rate areas 1–5"], user=bob))
        assert pressed.status == 200 and pressed.json["type"] == 9  # a modal
        modal = pressed.json["data"]
        # Five areas fill the modal's 5 components, each a native select from 0 to 5.
        assert len(modal["components"]) == 5
        selects = [row["component"] for row in modal["components"] if row["type"] == 18]
        assert [s["custom_id"] for s in selects] == ["a1", "a2", "a3", "a4", "a5"]
        assert [o["value"] for o in selects[0]["options"]] == list("012345")
        said = await fake.interact(
            fake.modal_submit_interaction(
                modal["custom_id"],
                {"a1": ["3"], "a2": [], "a3": ["5"], "a4": [], "a5": ["1"]},
                user=bob,
                labels=True,
            )
        )
        assert said.status == 200
        assert "Saved your ratings (3 rated on this form)" in shown_text(said.json["data"])
        async with app.db.session() as session:
            rows = (
                await session.execute(
                    select(SurveyItem.title, SurveyRating.score)
                    .join(SurveyItem, SurveyItem.id == SurveyRating.item_id)
                    .order_by(SurveyItem.position)
                )
            ).all()
    assert [tuple(r) for r in rows] == [
        ("Relationships with families", 3),
        ("Health and safety", 5),
        ("Professionalism", 1),
    ]
