"""A poll on Discord end to end: slash command, button votes (twice), edit in place, deadline.

Runs the real voting feature, App (manual scheduler on a FakeClock), DiscordAdapter and
discord.py against FakeDiscord.
"""

from __future__ import annotations

from datetime import timedelta

from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    custom_ids,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord


async def test_poll_by_slash_command_votes_by_button_edit_in_place_and_deadline(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, memory_db, clock) as (app, _adapter):
        await setup_community(fake)
        opened = await fake.interact(
            fake.slash_command_interaction(
                "cop poll new",
                {
                    "question": "Which topic next?",
                    "options": "Outdoor play | Family engagement | Transitions",
                    "closes": "in 2 days",
                },
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        assert opened.status == 200, opened.response
        await app.worker.drain()
        polls = [c for c in fake.calls_to("POST", channel_posts) if c.json.get("components")]
        assert polls, f"no poll posted; reply was {opened.json}"
        [poll] = polls
        buttons = custom_ids(poll.json["components"])
        assert len(buttons) >= 3 and all(b.startswith("vote:") for b in buttons)
        assert "Which topic next?" in shown_text(poll.json)
        poll_id = int(poll.response["id"])

        first = await fake.interact(fake.button_interaction(buttons[0], user=bob))
        again = await fake.interact(fake.button_interaction(buttons[0], user=bob))
        assert first.json["type"] == 4 and first.json["data"]["flags"] == EPHEMERAL
        assert again.json["type"] == 4 and again.json["data"]["flags"] == EPHEMERAL
        assert "Outdoor play" in first.json["data"]["content"]
        assert "nothing changed" in again.json["data"]["content"]
        await app.advance(timedelta(seconds=5))  # past the coalescing delay of poll edits
        edits = fake.calls_to("PATCH", rf"/channels/{fake.channel_id}/messages/{poll_id}")
        assert len(edits) == 1, "the double press produced one edit in place"
        assert "1 of 2 members known to circlebot voted" in shown_text(edits[0].json)
        assert custom_ids(edits[0].json["components"]) == buttons
        assert fake.calls_to("POST", channel_posts) == [poll] or all(
            not c.json.get("components") for c in fake.calls_to("POST", channel_posts)[1:]
        )

        before = len(fake.calls_to("POST", channel_posts))
        await app.advance(timedelta(days=2, minutes=1))
        await app.worker.drain()
        after_close = fake.calls_to("POST", channel_posts)[before:]
        assert len(after_close) == 1, "the result is posted once"
        assert "Winner: Outdoor play." in shown_text(after_close[0].json)
        assert after_close[0].json["allowed_mentions"] == {"parse": []}
        closing = fake.calls_to("PATCH", rf"/channels/{fake.channel_id}/messages/{poll_id}")
        assert closing[-1].json["components"] == []  # the poll's buttons are gone

        await app.advance(timedelta(days=3))
        await app.worker.drain()
        assert fake.calls_to("POST", channel_posts)[before:] == after_close
