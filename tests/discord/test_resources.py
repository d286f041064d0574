"""Resources through the real Discord adapter: `/cop resources add` with its options, refused
when the link spells out a control character, and the list rendered with the link clickable and
the title escaped, pinging nobody."""

from __future__ import annotations

from sqlalchemy import select

from storage.resources import Resource
from tests.discord.helpers import EPHEMERAL, running_bot, setup_community, shown_text
from tests.fakes.discord_fake import FakeDiscord

LINK = "https://example.org/outdoor_play?a=1&b=*2*"
TITLE = "*Outdoor* play — `ideas` # <b>"


async def test_add_and_list_render_the_link_as_text_and_the_title_escaped(
    fake_discord: FakeDiscord, db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        added = await fake.interact(
            fake.slash_command_interaction(
                "cop resources add",
                {"url": LINK, "title": TITLE, "tags": "#outdoor #Toddlers"},
                user=bob,
            )
        )
        assert added.status == 200 and added.json["type"] == 4
        assert added.json["data"]["flags"] == EPHEMERAL
        assert shown_text(added.json).startswith("Saved as resource 1 for the community:")
        # A control character spelled out in the link is refused: nothing is saved.
        refused = await fake.interact(
            fake.slash_command_interaction(
                "cop resources add", {"url": "https://example.org/a%07b"}, user=bob
            )
        )
        assert shown_text(refused.json) == (
            "A link can't contain control characters; paste it again as the site shows it."
        )
        listed = await fake.interact(
            fake.slash_command_interaction("cop resources list", {"tag": "#outdoor"}, user=bob)
        )
        searched = await fake.interact(
            fake.slash_command_interaction("cop resources search", {"words": "toddlers"}, user=bob)
        )
        async with app.db.session() as session:
            stored = (await session.execute(select(Resource.url, Resource.title))).all()
    assert [tuple(r) for r in stored] == [(LINK, TITLE)]
    for answer in (listed, searched):
        data = answer.json["data"]
        assert data["flags"] == EPHEMERAL
        assert data.get("allowed_mentions", {"parse": []}) == {"parse": []}
        text = shown_text(answer.json)
        # The link as typed (Discord links it itself); the title's markdown shown, not applied.
        assert f" — {LINK}  #outdoor #toddlers" in text
        assert "\\*Outdoor\\* play — \\`ideas\\` # \\<b>" in text
    assert shown_text(listed.json).startswith("Resources tagged #outdoor (1), newest first:")
