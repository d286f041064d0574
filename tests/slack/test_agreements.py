"""Agreements through the real Slack adapter: a recap at a meeting's start, "I agree" pressed."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from storage.agreements import AgreementAck, AgreementPosition, AgreementProposal, AgreementVersion
from storage.models import Community, Member
from tests.fakes.slack_fake import (
    CHANNEL_ID,
    block_actions_payload,
    event_payload,
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


async def test_a_recap_at_the_meeting_start_and_i_agree_is_stored(slack_api):
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    async with running_bot(slack_api) as bot:
        for text in (
            'setup "Finger Lakes CoP" America/New_York',
            "agreements draft pick=1,2,6",
            'meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"',
        ):
            status, _ = await bot.post(slash_command_payload(text, fake=slack_api, user_id=ADMIN))
            assert status == 200
        await bot.app.worker.drain()
        before = len(slack_api.calls_to("chat.postMessage"))

        await bot.app.advance(timedelta(days=1, hours=10))  # past Tue 3 Nov 18:30 EST
        await bot.app.worker.drain()
        [recap] = [
            c
            for c in slack_api.calls_to("chat.postMessage")[before:]
            if c.params["text"].startswith("Before we begin")
        ]
        assert recap.params["channel"] == CHANNEL_ID
        assert (
            "To think about: Which agreement matters most to you today, and why?"
            in (recap.params["text"])
        )
        ts = next(
            m["ts"] for m in slack_api.messages[CHANNEL_ID] if m["text"] == recap.params["text"]
        )
        agree = button(recap.json_param("blocks"), "I agree")
        await bot.post(
            block_actions_payload(agree, "", user_id=MEMBER, message_ts=ts, fake=slack_api)
        )
        [answer] = await slack_api.wait_for("@response_url")
        async with bot.app.db.session() as session:
            rows = (
                await session.execute(
                    select(AgreementAck.version, Member.user_id).join(
                        Member, Member.id == AgreementAck.member_id
                    )
                )
            ).all()
    assert (
        answer.params["text"] == "Thank you — you agreed to version 1 of the community agreements."
    )
    assert answer.params.get("response_type", "ephemeral") == "ephemeral"
    assert [tuple(r) for r in rows] == [(1, MEMBER)]


async def test_a_consent_check_with_a_block_and_its_reason_through_a_modal(slack_api):
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    async with running_bot(slack_api) as bot:
        for user, text in (
            (ADMIN, 'setup "Finger Lakes CoP" America/New_York'),
            (ADMIN, "agreements draft pick=1,2"),
            (MEMBER, "agreements propose We start and end on time."),
            (ADMIN, "agreements check 1"),
        ):
            status, _ = await bot.post(slash_command_payload(text, fake=slack_api, user_id=user))
            assert status == 200
        # Posts to one channel are paced (Slack: about one a second), on the app's clock.
        await bot.app.worker.drain()
        await bot.app.advance(timedelta(seconds=5))
        await bot.app.worker.drain()
        [check] = [
            c
            for c in slack_api.calls_to("chat.postMessage")
            if c.params["text"].startswith("Consent check on proposal 1")
        ]
        ts = next(
            m["ts"] for m in slack_api.messages[CHANNEL_ID] if m["text"] == check.params["text"]
        )
        block = button(check.json_param("blocks"), "Block")
        await bot.post(
            block_actions_payload(block, "", user_id=MEMBER, message_ts=ts, fake=slack_api)
        )
        [opened] = await slack_api.wait_for("views.open")
        view = opened.json_param("view")
        assert view["callback_id"] == "agreements.reason"
        await bot.post(
            view_submission_payload(
                "agreements.reason",
                values={"reason": {"value": {"type": "plain_text_input", "value": "Too rigid"}}},
                private_metadata=view["private_metadata"],
                view={"blocks": view["blocks"]},
                user_id=MEMBER,
            )
        )
        await slack_api.wait_for("chat.postEphemeral")
        await bot.app.worker.drain()
        async with bot.app.db.session() as session:
            positions = (
                await session.execute(select(AgreementPosition.position, AgreementPosition.reason))
            ).all()
        channel_texts = [
            c.params["text"]
            for c in slack_api.calls_to("chat.postMessage") + slack_api.calls_to("chat.update")
            if c.params["channel"] == CHANNEL_ID
        ]
    assert [tuple(p) for p in positions] == [("block", "Too rigid")]
    # The reason reached the facilitator (ADMIN) privately, never the channel.
    dms = [c for c in slack_api.calls_to("chat.postMessage") if c.params["channel"].startswith("D")]
    assert any("Too rigid" in c.params["text"] for c in dms)
    assert not any("Too rigid" in text for text in channel_texts)


def thirty() -> list[str]:
    """Thirty agreements of nearly the longest length (300), each told apart by its first words."""
    filler = " ".join(["we listen with care and speak with respect"] * 7)
    return [f"Agreement number {n} says {filler}"[:295] for n in range(1, 31)]


async def _thirty_agreements(bot) -> list[str]:  # type: ignore[no-untyped-def]
    """Seed version 1 with thirty long agreements in the bot's community."""
    texts = thirty()
    async with bot.app.db.session() as session:
        [community] = (await session.execute(select(Community))).scalars().all()
        session.add(
            AgreementVersion(
                community_id=community.id,
                number=1,
                items=json.dumps([{"n": n, "text": t} for n, t in enumerate(texts, 1)]),
                changes="[]",
                decided="facilitator",
                proposed_by=ADMIN,
                proposed_name="ana",
            )
        )
    return texts


def _block_text(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        if b["type"] == "section":
            out.append(b["text"]["text"])
        elif b["type"] == "context":
            out += [e.get("text", "") for e in b["elements"]]
    return "\n".join(out)


async def test_thirty_agreements_arrive_whole_in_the_recap_the_list_and_the_agenda(slack_api):
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    async with running_bot(slack_api) as bot:
        status, _ = await bot.post(
            slash_command_payload(
                'setup "Finger Lakes CoP" America/New_York', fake=slack_api, user_id=ADMIN
            )
        )
        assert status == 200
        texts = await _thirty_agreements(bot)
        answers = {}
        for text in (
            "agreements recap",
            "agreements show",
            'meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"',
            "meeting agenda 1",
        ):
            status, body = await bot.post(
                slash_command_payload(text, fake=slack_api, user_id=ADMIN)
            )
            assert status == 200
            answers[text] = json.loads(body) if body else {}
        await bot.app.worker.drain()
        await bot.app.advance(timedelta(seconds=5))
        await bot.app.worker.drain()
        posts = [
            c for c in slack_api.calls_to("chat.postMessage") if c.params["channel"] == CHANNEL_ID
        ]
    [recap] = [c for c in posts if c.params["text"].startswith("Before we begin")]
    [announce] = [c for c in posts if c.params["text"].startswith("New meetings")]
    for where, blocks in (
        ("recap", recap.json_param("blocks")),
        ("announcement", announce.json_param("blocks")),
        ("list", answers["agreements show"]["blocks"]),
        ("agenda", answers["meeting agenda 1"]["blocks"]),
    ):
        # Within Slack's limits (50 blocks, 3,000 characters a section), nothing cut.
        assert len(blocks) <= 50, where
        assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
        shown = _block_text(blocks)
        assert "more_parts" not in shown and "not shown" not in shown, where
        missing = [n for n, t in enumerate(texts, 1) if f"{n}. {t}" not in shown]
        assert missing == [], (where, missing)


async def test_a_proposal_through_the_modal_and_the_agreements_to_a_new_member(slack_api):
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    async with running_bot(slack_api) as bot:
        for text in ('setup "Finger Lakes CoP" America/New_York', "agreements draft pick=1,2"):
            status, _ = await bot.post(slash_command_payload(text, fake=slack_api, user_id=ADMIN))
            assert status == 200
        # The member joins the channel: the agreements come to them privately, once.
        for _ in range(2):
            status, _ = await bot.post(
                event_payload(
                    "member_joined_channel", event={"user": MEMBER, "channel": CHANNEL_ID}
                )
            )
            assert status == 200
        await bot.app.worker.drain()
        welcome = [
            c
            for c in slack_api.calls_to("chat.postMessage")
            if c.params["channel"].startswith("D") and "Welcome to" in c.params["text"]
        ]
        # "agreements propose" with no text opens the form.
        status, _ = await bot.post(
            slash_command_payload("agreements propose", fake=slack_api, user_id=MEMBER)
        )
        assert status == 200
        [opened] = await slack_api.wait_for("views.open")
        view = opened.json_param("view")
        await bot.post(
            view_submission_payload(
                "agreements.propose",
                values={
                    "kind": {
                        "value": {
                            "type": "static_select",
                            "selected_option": {
                                "text": {"type": "plain_text", "text": "Reword"},
                                "value": "reword",
                            },
                        }
                    },
                    "number": {"value": {"type": "plain_text_input", "value": "2"}},
                    "text": {"value": {"type": "plain_text_input", "value": "Everyone may pass."}},
                    "why": {"value": {"type": "plain_text_input", "value": "Shorter"}},
                },
                private_metadata=view["private_metadata"],
                view={"blocks": view["blocks"]},
                user_id=MEMBER,
            )
        )
        [thanks] = await slack_api.wait_for("chat.postEphemeral")
        async with bot.app.db.session() as session:
            proposals = (
                await session.execute(
                    select(AgreementProposal.kind, AgreementProposal.target, AgreementProposal.text)
                )
            ).all()
    [note] = welcome
    assert note.params["text"].startswith(
        "Welcome to Finger Lakes CoP! These are the community agreements we keep at every meeting"
    )
    assert "1. What is shared here stays here" in note.params["text"]
    assert view["callback_id"] == "agreements.propose"
    kinds = next(b for b in view["blocks"] if b.get("block_id") == "kind")
    assert kinds["element"]["type"] == "static_select"
    assert [o["value"] for o in kinds["element"]["options"]] == ["add", "reword", "remove"]
    assert thanks.params["text"].startswith("Thank you — your proposal 1 is with the facilitators")
    assert [tuple(p) for p in proposals] == [("reword", 2, "Everyone may pass.")]
