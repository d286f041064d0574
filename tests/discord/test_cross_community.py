"""On Discord, one community's button or form used from another's channel or by an outsider is
refused ephemerally in one sentence, and nothing is stored.

Real discord.py (DynamicItem buttons, modal submits) over the fake gateway, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.i18n import Translator
from storage.db import Database
from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    custom_ids,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord
from tests.test_cross_community import changed, snapshot

T = Translator()


def _refusal(call: Any) -> str:
    """The text of an interaction's answer, which must be a private message (type 4)."""
    assert call.status == 200, call.response
    assert call.json["type"] == 4 and call.json["data"]["flags"] == EPHEMERAL, call.json
    return str(call.json["data"]["content"])


async def test_alpha_buttons_and_forms_are_refused_outside_alpha(
    fake_discord: FakeDiscord, db: Database, clock: Any
) -> None:
    fake = fake_discord
    beta = fake.add_text_channel("beta")
    bob, nia = fake.add_user("bob"), fake.add_user("nia")  # nia never joins anything
    posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake, "Alpha")
        made = await fake.interact(
            fake.slash_command_interaction(
                "cop setup",
                {"name": "Beta", "timezone": "America/New_York"},
                channel=beta,
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        assert "Beta is set up" in shown_text(made.json)
        joined = await fake.interact(
            fake.slash_command_interaction("cop join", user=bob, channel=beta)
        )
        assert "Welcome to Beta" in shown_text(joined.json)
        for options in (
            {"question": "Snack?", "options": "Apples | Pears"},
            {"question": "Rank?", "options": "Apples | Pears", "method": "ranked"},
        ):
            opened = await fake.interact(
                fake.slash_command_interaction(
                    "cop poll new", options, member_permissions=ADMIN_PERMISSIONS
                )
            )
            assert "is posted in the channel" in shown_text(opened.json), opened.json
            await app.worker.drain()
            clock.advance(timedelta(seconds=2))  # the channel's posting pace
        await app.worker.drain()
        single, ranked = (custom_ids(c.json["components"]) for c in fake.calls_to("POST", posts))
        vote, form = single[0], ranked[0]
        assert vote.startswith("vote:cast:") and form.startswith("vote:form:")

        before = await snapshot(db)
        requests = len(fake.calls)

        # Bob (Beta) presses Alpha's vote button in Beta's channel; Nia presses it in her DM.
        elsewhere = await fake.interact(fake.button_interaction(vote, user=bob, channel=beta))
        in_dm = await fake.interact(
            fake.button_interaction(vote, user=nia, channel=fake.dm_channel(nia))
        )
        # Bob submits Alpha's ranked ballot form from Beta's channel.
        poll = form.split(":")[2]
        submitted = await fake.interact(
            fake.modal_submit_interaction(
                f"form:vote.ranked:{poll}", {"ballot": "2 1"}, user=bob, channel=beta
            )
        )
        await app.worker.drain()
        after = await snapshot(db)
        traffic = [(c.method, c.path) for c in fake.calls[requests:]]

    assert _refusal(elsewhere) == T("core.refuse.other_place", community="Alpha")
    assert _refusal(in_dm) == T("core.refuse.not_member", community="Alpha")
    assert _refusal(submitted) == T("core.refuse.form_other_place", community="Alpha")
    assert changed(before, after) == []  # no member, ballot, job or outbox row
    # Only the three interaction answers went out: nothing posted or edited in any channel.
    assert all("/interactions/" in path for _, path in traffic), traffic
    assert len(traffic) == 3
