"""Meeting roles through the real Slack adapter: the role buttons on the meeting card (their
own actions block, well under Slack's 25 elements), a press stored and shown on the card."""

from __future__ import annotations

from sqlalchemy import select

from storage.meeting_roles import MeetingRole
from storage.models import Member
from tests.fakes.slack_fake import CHANNEL_ID, block_actions_payload, slash_command_payload
from tests.slack.helpers import running_bot
from tests.slack.test_agreements import button

ADMIN = "U0ADMIN001"
MEMBER = "U0MEMBER01"


async def test_a_role_button_on_the_meeting_card_signs_up_and_is_stored(slack_api):
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    slack_api.add_user(MEMBER, profile={"display_name": "cara"})
    async with running_bot(slack_api) as bot:
        for text in (
            'setup "Finger Lakes CoP" America/New_York',
            'meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"',
        ):
            status, _ = await bot.post(slash_command_payload(text, fake=slack_api, user_id=ADMIN))
            assert status == 200
        await bot.app.worker.drain()
        [card] = [
            c
            for c in slack_api.calls_to("chat.postMessage")
            if c.params["text"].startswith("New meetings: Monthly CoP")
        ]
        blocks = card.json_param("blocks")
        actions = [b for b in blocks if b["type"] == "actions"]
        labels = [[e["text"]["text"] for e in b["elements"]] for b in actions]
        assert labels[-1] == ["Share my experience", "Lead a breakout", "Take notes", "Host"]
        ts = next(
            m["ts"] for m in slack_api.messages[CHANNEL_ID] if m["text"] == card.params["text"]
        )
        share = button(blocks, "Share my experience")
        await bot.post(
            block_actions_payload(share, "", user_id=MEMBER, message_ts=ts, fake=slack_api)
        )
        [answer] = await slack_api.wait_for("@response_url")
        await bot.app.worker.drain()
        [edit] = [c for c in slack_api.calls_to("chat.update") if c.params.get("ts") == ts][-1:]
        async with bot.app.db.session() as session:
            rows = (
                await session.execute(
                    select(Member.user_id, MeetingRole.role).join(
                        Member, Member.id == MeetingRole.member_id
                    )
                )
            ).all()
    assert answer.params["text"].startswith("You are sharing your experience at meeting 1")
    assert answer.params.get("response_type", "ephemeral") == "ephemeral"
    shown = "".join(b["text"]["text"] for b in edit.json_param("blocks") if b["type"] == "section")
    assert f"Sharing their experience: <@{MEMBER}>" in shown
    assert [tuple(r) for r in rows] == [(MEMBER, "share")]
