"""The digest end to end through Slack: a facilitator picks the offset by slash command, the
digest is posted in the channel at that time with the meeting's RSVP buttons, and a member's
press on one records their answer (through bolt's real request handling, signed requests).

The news comes from the small test feature of tests/test_digest.py (``/cop news TEXT``), so
the post holds exactly that line between the topic and the buttons.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.meetings import MeetingRsvp
from storage.models import Member
from tests.fakes.slack_fake import CHANNEL_ID, block_actions_payload, slash_command_payload
from tests.slack.helpers import running_bot
from tests.test_digest import registry

ADMIN, MEMBER = "U0ADMIN001", "U0MEMBER01"


async def test_the_digest_arrives_with_rsvp_buttons_and_a_press_records_the_answer(slack_api):
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    slack_api.add_user(MEMBER, profile={"display_name": "cara"})
    async with running_bot(slack_api, registry=registry()) as bot:

        async def cop(text: str, user: str = ADMIN) -> None:
            status, _ = await bot.post(slash_command_payload(text, fake=slack_api, user_id=user))
            assert status == 200

        await cop('setup "Finger Lakes CoP" America/New_York')
        await cop('meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"')
        await cop('meeting agenda next topic="Outdoor play"')
        await cop("digest settings offset=12h")
        bot.clock.advance(timedelta(minutes=5))
        await cop('news "Two new resources on loose parts"', MEMBER)
        await bot.app.worker.drain()
        before = len(slack_api.calls_to("chat.postMessage"))
        # Tue 3 Nov 18:30 EST is 23:30 UTC: the digest is due twelve hours earlier.
        await bot.app.advance(timedelta(hours=21, minutes=24))  # to 11:29 UTC
        assert not [
            p
            for p in slack_api.calls_to("chat.postMessage")[before:]
            if p.params["text"].startswith("What's new in")
        ]
        await bot.app.advance(timedelta(minutes=2))
        posts = slack_api.calls_to("chat.postMessage")[before:]
        [digest] = [p for p in posts if p.params["text"].startswith("What's new in")]
        assert digest.params["channel"] == CHANNEL_ID
        blocks = digest.json_param("blocks")
        text = "\n".join(
            b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b
        )
        assert "Topic: Outdoor play" in text and "news: Two new resources on loose parts" in text
        [actions] = [b for b in blocks if b["type"] == "actions"]
        going = next(
            e["action_id"] for e in actions["elements"] if e["action_id"].startswith("rsvp:going:")
        )
        ts = next(
            m["ts"]
            for m in slack_api.messages[CHANNEL_ID]
            if m.get("text") == digest.params["text"]
        )
        status, _ = await bot.post(
            block_actions_payload(going, "", user_id=MEMBER, message_ts=ts, fake=slack_api)
        )
        assert status == 200
        await slack_api.wait_for("@response_url", count=1)
        async with bot.db.session() as session:
            answers = (
                await session.execute(
                    select(Member.user_id, MeetingRsvp.answer).join(
                        Member, Member.id == MeetingRsvp.member_id
                    )
                )
            ).all()
        assert [tuple(a) for a in answers] == [(MEMBER, "going")]
        # Later days post nothing more: one digest per meeting.
        await bot.app.advance(timedelta(hours=20))
        again = slack_api.calls_to("chat.postMessage")[before:]
        assert len([p for p in again if p.params["text"].startswith("What's new in")]) == 1
