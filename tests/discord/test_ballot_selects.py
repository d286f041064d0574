"""A ranked ballot on Discord: the button opens a modal of string selects (one per place, in
labels) when the poll fits Discord's modal, the typed numbers field when it does not; either
submission is checked by the core and stored.

Runs the real voting feature, App, DiscordAdapter and discord.py against FakeDiscord, on both
databases.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from adapters.discord.render import MAX_MODAL_INPUTS
from storage.db import Database
from storage.voting import Ballot, PollOption
from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    custom_ids,
    running_bot,
    setup_community,
)
from tests.fakes.discord_fake import FakeDiscord

MODAL = 9  # interaction callback type: open a modal


async def _ranked_poll(app: Any, fake: FakeDiscord, options: list[str]) -> str:
    """Post a ranked poll; return the custom_id of its "Rank your choices" button."""
    opened = await fake.interact(
        fake.slash_command_interaction(
            "cop poll new",
            {"question": "Which topic next?", "options": " | ".join(options), "method": "ranked"},
            member_permissions=ADMIN_PERMISSIONS,
        )
    )
    assert opened.status == 200, opened.response
    await app.worker.drain()
    posts = fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")
    [button] = [i for p in posts for i in custom_ids(p.json.get("components") or [])]
    return button


async def _stored(db: Database) -> tuple[list[Any], list[PollOption]]:
    async with db.session() as s:
        ballots = [json.loads(b.choices) for b in (await s.execute(select(Ballot))).scalars()]
        options = list(
            (await s.execute(select(PollOption).order_by(col(PollOption.position)))).scalars()
        )
    return ballots, options


async def test_ranked_ballot_by_string_selects_in_the_modal(
    fake_discord: FakeDiscord, db: Database, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        await app.worker.drain()
        button = await _ranked_poll(app, fake, ["Outdoor play", "Family engagement", "Transitions"])
        await app.worker.drain()
        pressed = await fake.interact(fake.button_interaction(button, user=bob))
        modal = pressed.json["data"]
        twice = await fake.interact(
            fake.modal_submit_interaction(
                modal["custom_id"], {"rank.1": ["2"], "rank.2": ["2"]}, user=bob, labels=True
            )
        )
        refused, _ = await _stored(db)
        voted = await fake.interact(
            fake.modal_submit_interaction(
                modal["custom_id"], {"rank.1": ["3"], "rank.2": ["1"]}, user=bob, labels=True
            )
        )
        await app.worker.drain()
        ballots, options = await _stored(db)

    assert pressed.json["type"] == MODAL
    labels = modal["components"]
    assert [c["type"] for c in labels] == [18, 18, 18]  # labels, each wrapping a select
    assert [c["label"] for c in labels] == ["1st choice", "2nd choice", "3rd choice"]
    selects = [c["component"] for c in labels]
    assert [(s["type"], s["custom_id"], s["required"]) for s in selects] == [
        (3, "rank.1", True),
        (3, "rank.2", False),
        (3, "rank.3", False),
    ]
    assert [(o["value"], o["label"]) for o in selects[0]["options"]] == [
        ("1", "1. Outdoor play"),
        ("2", "2. Family engagement"),
        ("3", "3. Transitions"),
    ]
    assert twice.json["data"]["flags"] == EPHEMERAL
    assert '"2" is ranked twice' in twice.json["data"]["content"]
    assert refused == []
    assert "Your vote is saved: 1st Transitions, 2nd Outdoor play." in voted.json["data"]["content"]
    assert ballots == [[options[2].id, options[0].id]]


async def test_a_ranking_longer_than_a_modal_holds_falls_back_to_typed_numbers(
    fake_discord: FakeDiscord, db: Database, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    names = [f"Topic {n}" for n in range(1, MAX_MODAL_INPUTS + 2)]  # 6 places, 5 components
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        await app.worker.drain()
        button = await _ranked_poll(app, fake, names)
        await app.worker.drain()
        pressed = await fake.interact(fake.button_interaction(button, user=bob))
        modal = pressed.json["data"]
        voted = await fake.interact(
            fake.modal_submit_interaction(modal["custom_id"], {"ballot": "6 1"}, user=bob)
        )
        await app.worker.drain()
        ballots, options = await _stored(db)

    [row] = modal["components"]
    [field] = row["components"]
    assert field["type"] == 4 and field["custom_id"] == "ballot"  # a text input
    assert field["placeholder"].startswith("1. Topic 1; 2. Topic 2; 3. Topic 3")
    assert "Your vote is saved: 1st Topic 6, 2nd Topic 1." in voted.json["data"]["content"]
    assert ballots == [[options[5].id, options[0].id]]


def test_a_multi_select_in_a_modal_keeps_its_cap_and_a_long_one_falls_back() -> None:
    from adapters.discord.render import MAX_SELECT_OPTIONS, build_modal
    from bot.ui import Form, Input, Option

    typed = Input(name="typed", label="Type them", hint="a, b or c")
    picks = Input(
        name="picks",
        label="Pick two",
        kind="multi",
        max_selected=2,
        initial="b",
        options=[Option(value=v, label=v.upper()) for v in "abc"],
    )
    form = Form(form_id="f", title="T", inputs=[picks], fallback=[typed], metadata="1")
    [label] = build_modal(form, "form:f:1").to_dict()["components"]
    select = label["component"]
    assert label["type"] == 18 and select["type"] == 3
    assert (select["min_values"], select["max_values"]) == (1, 2)
    assert [o["value"] for o in select["options"] if o.get("default")] == ["b"]

    many = [Option(value=str(n), label=str(n)) for n in range(MAX_SELECT_OPTIONS + 1)]
    long_form = form.model_copy(update={"inputs": [picks.model_copy(update={"options": many})]})
    [row] = build_modal(long_form, "form:f:1").to_dict()["components"]
    [field] = row["components"]
    assert (field["type"], field["custom_id"], field["placeholder"]) == (4, "typed", "a, b or c")
