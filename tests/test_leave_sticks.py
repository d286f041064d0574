"""Leaving a community sticks: only `/cop join` (or entering the channel again) brings one back.

Before, a member's next command or button press of any kind made them a member again,
silently; now it is refused in one sentence and nothing changes.
"""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select

from bot.context import Context
from bot.features import build_registry
from storage.db import Database
from storage.models import Member, MemberRole
from storage.voting import Ballot
from tests.fakes.slack_fake import (
    CHANNEL_ID,
    FakeSlackWebAPI,
    block_actions_payload,
    event_payload,
    slash_command_payload,
)
from tests.slack.helpers import running_bot
from tests.support import transcript

LEFT = "You left this community; /cop join to take part again."


def replies(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("[") and not line.startswith("[#cop] Vote")]


async def roles(db: Database) -> dict[str, str]:
    async with db.session() as session:
        rows = (await session.execute(select(Member.user_id, Member.role))).all()
    return {name: str(role) for name, role in rows}


async def ballots(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(Ballot))).scalar_one())


async def test_a_member_who_left_is_refused_until_they_join(db: Database) -> None:
    setup = """
        :as ana admin
        :in #cop
        /cop setup Circle America/New_York
        /cop poll new "Snack?" options="Apples | Pears"
        :as cara
        /cop join
        /cop leave
        /cop poll list
        :press Apples
        /cop about
        """
    lines = await transcript(setup, db=db)
    assert replies(lines)[-4:] == [
        "[private @cara] You have left Circle; your past answers stay private to you.",
        f"[private @cara] {LEFT}",
        f"[private @cara] {LEFT}",
        f"[private @cara] {LEFT}",
    ]
    # Nothing changed: still left, and the press cast no ballot.
    assert (await roles(db))["cara"] == MemberRole.LEFT
    assert await ballots(db) == 0

    back = await transcript(
        """
        :as cara
        :in #cop
        /cop join
        /cop poll list
        """,
        db=db,
    )
    assert replies(back)[0] == "[#cop] Welcome to Circle, cara!"
    assert "Snack?" in "\n".join(back[back.index("cara> /cop poll list") :])
    assert (await roles(db))["cara"] == MemberRole.MEMBER


async def test_a_workspace_admin_who_left_keeps_admin_rights_without_rejoining(
    db: Database,
) -> None:
    lines = await transcript(
        """
        :as ana admin
        :in #cop
        /cop setup Circle America/New_York
        /cop leave
        /cop about
        """,
        db=db,
    )
    assert replies(lines)[-1] == (
        "[private @ana] Circle: time zone America/New_York, language en; "
        "members: 0; facilitators: none yet."
    )
    assert (await roles(db))["ana"] == MemberRole.LEFT


async def test_slack_refuses_a_leaver_until_they_enter_the_channel_again() -> None:
    admin, cara = "U0ADMIN001", "U0CARA0001"
    registry = build_registry()
    joined, committed = asyncio.Event(), asyncio.Event()

    async def on_joined(_ctx: Context, _payload: object) -> None:
        joined.set()

    async with FakeSlackWebAPI() as slack_api, running_bot(slack_api, registry=registry) as bot:
        slack_api.add_user(admin, is_admin=True, profile={"display_name": "ana"})

        async def slash(text: str, user: str) -> str:
            status, body = await bot.post(slash_command_payload(text, fake=slack_api, user_id=user))
            assert status == 200
            return str(json.loads(body)["text"]) if body else ""

        await slash("setup Circle America/New_York", admin)
        await slash('poll new "Snack?" options="Apples | Pears"', admin)
        await bot.app.worker.drain()
        [posted] = slack_api.calls_to("chat.postMessage")
        ts = slack_api.messages[CHANNEL_ID][0]["ts"]
        [apples] = [
            e["action_id"]
            for b in posted.json_param("blocks")
            if b["type"] == "actions"
            for e in b["elements"]
            if e.get("text", {}).get("text") == "Apples"
        ]
        await slash("join", cara)
        await slash("leave", cara)
        refused_command = await slash("poll list", cara)
        press = block_actions_payload(apples, "", user_id=cara, message_ts=ts, fake=slack_api)
        await bot.post(press)
        [refused_press] = await slack_api.wait_for("@response_url")
        still_left = (await roles(bot.db)).get(cara)
        no_ballot = await ballots(bot.db)

        # Hooked only now, so the signal is the re-entry and not cara's first /cop join. The
        # dispatcher wakes the outbox once the event's transaction has committed.
        registry.hooks.setdefault("member.joined", []).append(on_joined)
        wake = bot.app.services.wake_outbox

        def wake_after_commit() -> None:
            if joined.is_set():
                committed.set()
            wake()

        bot.app.services.wake_outbox = wake_after_commit
        await bot.post(event_payload("member_joined_channel", event={"user": cara}))
        await asyncio.wait_for(committed.wait(), timeout=5)
        back = (await roles(bot.db)).get(cara)
        allowed = await slash("poll list", cara)

    assert refused_command == LEFT
    assert refused_press.params["text"] == LEFT
    assert still_left == MemberRole.LEFT and no_ballot == 0
    assert back == MemberRole.MEMBER
    assert allowed != LEFT and "Snack?" in allowed
