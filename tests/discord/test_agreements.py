"""Agreements through the real Discord adapter: a recap at a meeting's start, "I agree"."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from storage.agreements import AgreementAck, AgreementPosition, AgreementProposal, AgreementVersion
from storage.models import Community, Member
from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    custom_ids,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord
from tests.slack.test_agreements import thirty


async def test_a_recap_at_the_meeting_start_and_i_agree_is_stored(
    fake_discord: FakeDiscord, db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        for command, options in (
            ("cop agreements draft", {"pick": "1,2,6"}),
            ("cop meeting series", {"schedule": "monthly on the first Tuesday at 18:30"}),
        ):
            answer = await fake.interact(
                fake.slash_command_interaction(
                    command, options, member_permissions=ADMIN_PERMISSIONS
                )
            )
            assert answer.status == 200 and answer.json["type"] == 4
        await app.worker.drain()
        before = len(fake.calls_to("POST", channel_posts))
        await app.advance(timedelta(days=2))  # past Tue 3 Nov 18:30 in the community's zone
        await app.worker.drain()

        [recap] = [
            c.json
            for c in fake.calls_to("POST", channel_posts)[before:]
            if "Before we begin" in shown_text(c.json)
        ]
        text = shown_text(recap)
        assert "1\\. What is shared here stays here" in text  # escaped: not a Markdown list
        assert "To think about:" in text
        assert recap["allowed_mentions"] == {"parse": []}
        agree, propose = custom_ids(recap.get("components", []))
        assert agree.startswith("agree:ack:") and propose.startswith("agree:propose:")

        press = await fake.interact(fake.button_interaction(agree, user=bob))
        assert press.status == 200 and press.json["type"] == 4
        assert press.json["data"]["flags"] == EPHEMERAL
        assert press.json["data"]["content"] == (
            "Thank you — you agreed to version 1 of the community agreements."
        )
        async with app.db.session() as session:
            rows = (
                await session.execute(
                    select(AgreementAck.version, Member.user_id).join(
                        Member, Member.id == AgreementAck.member_id
                    )
                )
            ).all()
    assert [tuple(r) for r in rows] == [(1, bob["id"])]


async def test_a_consent_check_with_a_concern_and_its_reason_through_a_modal(
    fake_discord: FakeDiscord, db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(
            fake.slash_command_interaction(
                "cop agreements draft", {"pick": "1,2"}, member_permissions=ADMIN_PERMISSIONS
            )
        )
        await fake.interact(fake.slash_command_interaction("cop join", user=bob))
        await fake.interact(
            fake.slash_command_interaction(
                "cop agreements propose", {"text": "We start on time."}, user=bob
            )
        )
        await fake.interact(
            fake.slash_command_interaction(
                "cop agreements check", {"proposal": 1}, member_permissions=ADMIN_PERMISSIONS
            )
        )
        await app.worker.drain()
        await app.advance(timedelta(seconds=5))
        await app.worker.drain()
        [check] = [
            c.json
            for c in fake.calls_to("POST", channel_posts)
            if "Consent check on proposal 1" in shown_text(c.json)
        ]
        concern = next(
            i for i in custom_ids(check["components"]) if i.startswith("consent:concern")
        )
        pressed = await fake.interact(fake.button_interaction(concern, user=bob))
        modal = pressed.json["data"]
        said = await fake.interact(
            fake.modal_submit_interaction(
                modal["custom_id"], {"reason": "Mornings are hard"}, user=bob
            )
        )
        await app.worker.drain()
        async with app.db.session() as session:
            positions = (
                await session.execute(select(AgreementPosition.position, AgreementPosition.reason))
            ).all()
    assert pressed.json["type"] == 9  # a modal, asking why
    assert said.json["data"]["flags"] == EPHEMERAL
    assert said.json["data"]["content"].startswith("Your answer to proposal 1: a concern.")
    assert [tuple(p) for p in positions] == [("concern", "Mornings are hard")]
    texts = [shown_text(c.json) for c in fake.calls_to("POST", channel_posts)]
    texts += [shown_text(c.json) for c in fake.calls_to("PATCH", channel_posts + r"/\d+")]
    assert not any("Mornings are hard" in t for t in texts)


async def test_thirty_agreements_arrive_whole_in_the_recap_the_announcement_and_the_list(
    fake_discord: FakeDiscord, db, clock
) -> None:
    fake = fake_discord
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    followups = rf"/webhooks/{fake.application_id}/[^/]+"
    texts = thirty()
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        async with app.db.session() as session:
            [community] = (await session.execute(select(Community))).scalars().all()
            session.add(
                AgreementVersion(
                    community_id=community.id,
                    number=1,
                    items=json.dumps([{"n": n, "text": t} for n, t in enumerate(texts, 1)]),
                    changes="[]",
                    decided="facilitator",
                    proposed_by="ana",
                    proposed_name="ana",
                )
            )
        for command, options in (
            ("cop agreements recap", {}),
            ("cop meeting series", {"schedule": "monthly on the first Tuesday at 18:30"}),
        ):
            answer = await fake.interact(
                fake.slash_command_interaction(
                    command, options, member_permissions=ADMIN_PERMISSIONS
                )
            )
            assert answer.status == 200
        before = len(fake.calls_to("POST", followups))
        shown = await fake.interact(fake.slash_command_interaction("cop agreements show"))
        await app.worker.drain()
        await app.advance(timedelta(seconds=10))
        await app.worker.drain()
        listed = [shown_text(shown.json)]
        listed += [shown_text(c.json) for c in fake.calls_to("POST", followups)[before:]]
        posts = [shown_text(c.json) for c in fake.calls_to("POST", channel_posts)]
    start = next(i for i, p in enumerate(posts) if "Before we begin" in p)
    announce = next(i for i, p in enumerate(posts) if "New meetings" in p)
    # A long message goes as several messages marked "(continued)", every agreement whole.
    recap = "\n".join(posts[start:announce])
    card = "\n".join(posts[announce:])
    for where, text in (("recap", recap), ("announcement", card), ("list", "\n".join(listed))):
        missing = [n for n, t in enumerate(texts, 1) if t not in text]
        assert missing == [], (where, missing)
        assert "did not fit" not in text, where
    assert len(posts[start:announce]) > 1  # the recap did not fit one Discord message


async def test_a_proposal_through_the_modal(fake_discord: FakeDiscord, db, clock) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(
            fake.slash_command_interaction(
                "cop agreements draft", {"pick": "1,2"}, member_permissions=ADMIN_PERMISSIONS
            )
        )
        pressed = await fake.interact(
            fake.slash_command_interaction("cop agreements propose", user=bob)
        )
        modal = pressed.json["data"]
        said = await fake.interact(
            fake.modal_submit_interaction(
                modal["custom_id"],
                {"kind": ["add"], "number": "", "text": "We start on time.", "why": "Pickups"},
                user=bob,
                labels=True,
            )
        )
        await app.worker.drain()
        async with app.db.session() as session:
            proposals = (
                await session.execute(
                    select(AgreementProposal.kind, AgreementProposal.text, AgreementProposal.why)
                )
            ).all()
    assert pressed.json["type"] == 9  # a modal
    kinds = next(
        c["component"]
        for c in modal["components"]
        if c.get("component", {}).get("custom_id") == "kind"
    )
    assert kinds["type"] == 3 and [o["value"] for o in kinds["options"]] == [
        "add",
        "reword",
        "remove",
    ]
    assert said.json["data"]["flags"] == EPHEMERAL
    assert said.json["data"]["content"].startswith("Thank you — your proposal 1")
    assert [tuple(p) for p in proposals] == [("add", "We start on time.", "Pickups")]
