"""On Discord, a network of three communities: an announcement typed in one community's channel
reaches every community's channel once, with no mention allowed.

Real discord.py (app commands with a sub-command group) over the fake gateway and REST API, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from typing import Any

from storage.db import Database
from tests.discord.helpers import ADMIN_PERMISSIONS, running_bot, setup_community, shown_text
from tests.fakes.discord_fake import FakeDiscord
from tests.support import network_posts

CODE = re.compile(r"network: ([A-Z0-9]{5}-[A-Z0-9]{5})")


async def test_an_announcement_reaches_the_other_communities_channels(
    fake_discord: FakeDiscord, db: Database, clock: Any
) -> None:
    fake = fake_discord
    beta, gamma = fake.add_text_channel("beta"), fake.add_text_channel("gamma")
    ben, bob, gia = fake.add_user("ben"), fake.add_user("bob"), fake.add_user("gia")
    alpha = fake.channels[int(fake.channel_id)]
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake, "Alpha")
        for channel, name in ((beta, "Beta"), (gamma, "Gamma")):
            await fake.interact(
                fake.slash_command_interaction(
                    "cop setup",
                    {"name": name, "timezone": "America/New_York"},
                    channel=channel,
                    member_permissions=ADMIN_PERMISSIONS,
                )
            )
        for channel, person in ((alpha, ben), (beta, bob), (gamma, gia)):
            added = await fake.interact(
                fake.slash_command_interaction(
                    "cop facilitator add",
                    [{"name": "user", "type": 6, "value": person["id"]}],
                    resolved={"users": {person["id"]: person}},
                    channel=channel,
                    member_permissions=ADMIN_PERMISSIONS,
                )
            )
            assert "is now a facilitator" in shown_text(added.json), added.json
        made = await fake.interact(
            fake.slash_command_interaction(
                "cop network create", {"name": "Hudson Valley"}, user=ben, channel=alpha
            )
        )
        assert "created the Hudson Valley network" in shown_text(made.json), made.json
        for person, channel in ((bob, beta), (gia, gamma)):
            invite = await fake.interact(
                fake.slash_command_interaction("cop network invite", user=ben, channel=alpha)
            )
            code = CODE.search(shown_text(invite.json))
            assert code is not None, invite.json
            joined = await fake.interact(
                fake.slash_command_interaction(
                    "cop network join", {"code": code.group(1)}, user=person, channel=channel
                )
            )
            assert "joined the Hudson Valley network" in shown_text(joined.json), joined.json
        await app.worker.drain()
        before = len(fake.calls)
        said = await fake.interact(
            fake.slash_command_interaction(
                "cop network announce",
                {"text": "Conference on Friday @everyone <@&1>"},
                user=ben,
                channel=alpha,
            )
        )
        assert "3 communities of the Hudson Valley network" in shown_text(said.json), said.json
        await app.worker.drain()
        # The networks feature stored one announcement, queued for its three communities.
        assert await network_posts(db) == [("announce", 3), ("communities", 3)]
        posts = [
            c
            for c in fake.calls[before:]
            if c.method == "POST" and re.fullmatch(r"/channels/\d+/messages", c.path)
        ]
        channels = sorted(c.path.split("/")[2] for c in posts)
        assert channels == sorted(str(c["id"]) for c in (alpha, beta, gamma))
        for post in posts:
            assert "Announcement from the Hudson Valley network (ben):" in shown_text(post.json)
            # Shown as typed but defused (a zero-width space after the @), and no mention parsed.
            assert "Conference on Friday @\u200beveryone" in shown_text(post.json)
            assert "@everyone" not in shown_text(post.json)
            assert post.json["allowed_mentions"] == {"parse": []}
