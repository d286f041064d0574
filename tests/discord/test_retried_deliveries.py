"""Every Discord interaction delivered twice has one effect, in one process and after a restart.

The same INTERACTION_CREATE, byte for byte, reaches the real discord.py client a second time
through FakeDiscord (as a gateway resume replays it): slash commands, a button press, a button
that opens a modal, and the modal's submission. Then the app is stopped, started again on the
same database (SQLite and PostgreSQL), and every one of those interactions arrives once more.
Effects are counted where they land: rows of every table (less the record of handled requests
itself) and every successful call the fake received that is not a read (channel posts,
follow-ups, edits, accepted interaction answers). Discord refuses each copy's answer with 40060
(the interaction was acknowledged already); those refused answers are the only calls a copy
makes.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from storage.challenges import Challenge
from storage.db import Database
from storage.models import Member
from storage.tables import metadata
from storage.voting import Ballot, Poll
from tests.discord.helpers import ADMIN_PERMISSIONS, custom_ids, running_bot
from tests.fakes.discord_fake import FakeDiscord


async def rows(db: Database) -> dict[str, int]:
    """How many rows each table holds (the record of handled requests left out)."""
    out: dict[str, int] = {}
    async with db.session() as s:
        for table in metadata.sorted_tables:
            if table.name != "seen_request":
                query = select(func.count()).select_from(table)
                out[table.name] = int((await s.execute(query)).scalar_one())
    return out


def effects(fake: FakeDiscord) -> Counter[str]:
    """Successful calls that change something someone sees, by method and route shape (ids and
    tokens made ``#``); reads and the command sync of a start are left out."""
    out: Counter[str] = Counter()
    for call in fake.calls:
        if call.method == "GET" or "/commands" in call.path or not 200 <= call.status < 300:
            continue
        out[f"{call.method} {re.sub(r'/[0-9]{5,}|/[A-Za-z0-9_-]{30,}', '/#', call.path)}"] += 1
    return out


async def count(db: Database, model: Any) -> int:
    async with db.session() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_every_interaction_delivered_twice_has_one_effect_even_after_a_restart(
    fake_discord: FakeDiscord, db: Database, clock: Any
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    delivered: list[int] = []
    refused_copies = 0

    async def twice(payload: dict[str, Any]) -> Any:
        nonlocal refused_copies
        first = await fake.interact(payload)
        assert first.status == 200, first.response
        await app.worker.drain()  # the first one's posts go out before the copy comes
        before_rows, before_calls = await rows(db), effects(fake)
        again = await fake.redeliver(payload["id"])
        assert again.status == 400 and again.response["code"] == 40060, again.response
        refused_copies += 1
        await app.worker.drain()
        assert await rows(db) == before_rows, f"the copy of {payload['data']} changed rows"
        assert effects(fake) == before_calls, f"the copy of {payload['data']} posted"
        delivered.append(int(payload["id"]))
        return first

    async with running_bot(fake, db, clock) as (app, _adapter):
        admin = {"member_permissions": ADMIN_PERMISSIONS}
        await twice(
            fake.slash_command_interaction(
                "cop setup", {"name": "Finger Lakes CoP", "timezone": "America/New_York"}, **admin
            )
        )
        await twice(fake.slash_command_interaction("cop join", user=bob))
        await twice(
            fake.slash_command_interaction(
                "cop poll new", {"question": "Snack?", "options": "Apples | Pears"}, **admin
            )
        )
        await app.worker.drain()
        [poll] = [
            c
            for c in fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")
            if c.json.get("components")
        ]
        apples = custom_ids(poll.json["components"])[0]
        await twice(fake.button_interaction(apples, user=bob))
        listed = await twice(fake.slash_command_interaction("cop challenge list", user=bob))
        bring = next(
            i for i in custom_ids(listed.json["data"]["components"]) if i.startswith("challenge:")
        )
        pressed = await twice(fake.button_interaction(bring, user=bob))
        assert pressed.json["type"] == 9  # the modal, opened once
        await twice(
            fake.modal_submit_interaction(
                pressed.json["data"]["custom_id"],
                {"text": "Biting at lunch", "visibility": ["open"]},
                user=bob,
                labels=True,
            )
        )
        await app.worker.drain()
        assert [await count(db, m) for m in (Poll, Ballot, Challenge)] == [1, 1, 1]
        assert await count(db, Member) == 2
        assert len(fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")) == 1

    # Restarted on the same database: every interaction once more, nothing more happens.
    async with running_bot(fake, db, clock) as (app, _adapter):
        await app.worker.drain()
        before_rows, before_calls = await rows(db), effects(fake)
        for interaction in delivered:
            again = await fake.redeliver(interaction)
            assert again.status == 400 and again.response["code"] == 40060, again.response
        await app.worker.drain()
        after_rows, after_calls = await rows(db), effects(fake)

    assert after_rows == before_rows
    assert after_calls == before_calls
    assert len(delivered) == refused_copies == 7
