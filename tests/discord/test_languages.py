"""Languages on Discord through the real discord.py stack: the synced ``/cop`` descriptions carry
Spanish localisations from the catalogs (``CatalogTranslator``), and a member whose Discord app
is in Spanish (``interaction.locale`` es-ES, no ``/cop my language``) is answered and DM'd in
Spanish while the channel posts of the English community stay English.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import col

from bot.features import build_registry
from bot.i18n import load_catalog, translator
from storage.models import Member
from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord

ES = translator("es")
EN = translator("en")


async def test_the_synced_commands_carry_spanish_descriptions(
    fake_discord: FakeDiscord, memory_db, clock
) -> None:
    fake = fake_discord
    async with running_bot(fake, memory_db, clock):
        pass
    [put] = fake.calls_to(
        "PUT", rf"/applications/{fake.application_id}/guilds/{fake.guild_id}/commands"
    )
    [cop] = put.json
    assert cop["description"] == EN("adapters.discord.cmd.cop")
    spanish = ES("adapters.discord.cmd.cop")
    assert spanish != cop["description"]
    assert cop["description_localizations"] == {"es-ES": spanish, "es-419": spanish}
    subs = {o["name"]: o for o in cop["options"]}
    my = subs["my"]
    assert my["description_localizations"]["es-ES"] == ES("adapters.discord.cmd.group", name="my")
    language = {o["name"]: o for o in my["options"]}["language"]
    assert language["description"] == EN("mydata.help.language")
    assert language["description_localizations"]["es-ES"] == ES("mydata.help.language")
    assert language["description_localizations"]["es-419"] == ES("mydata.help.language")
    [option] = language["options"]
    assert option["description_localizations"]["es-ES"] == ES("mydata.param.language")
    # A description the Spanish catalog has no text for yet has no localisation, so Discord
    # shows the English one; every one it has is there, within Discord's 100 characters.
    registry = build_registry()
    spanish_keys = load_catalog("es")
    for path, command in registry.commands.items():
        shown = subs[path[0]]
        if len(path) == 2:
            shown = {o["name"]: o for o in shown["options"]}[path[1]]
        localised = shown.get("description_localizations") or {}
        assert ("es-ES" in localised) == (command.help in spanish_keys), path
        assert all(1 <= len(text) <= 100 for text in localised.values())


async def test_a_member_whose_app_is_in_spanish_reads_spanish_privately_and_english_in_the_channel(
    fake_discord: FakeDiscord, db, clock
) -> None:
    fake = fake_discord
    bob = fake.add_user("bob")
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, db, clock) as (app, adapter):
        await setup_community(fake)
        # bob's Discord is in Spanish; he never says which language he wants.
        joined = await fake.interact(
            fake.slash_command_interaction("cop join", user=bob, locale="es-ES")
        )
        # A channel post: the community's English, whoever caused it.
        assert joined.json["data"].get("flags") != EPHEMERAL
        assert shown_text(joined.json) == EN(
            "communities.joined", name="Finger Lakes CoP", member="bob"
        )
        asked = await fake.interact(
            fake.slash_command_interaction("cop my language", user=bob, locale="es-ES")
        )
        assert asked.json["data"]["flags"] == EPHEMERAL
        assert shown_text(asked.json) == ES("mydata.language.platform", language="español")
        # After the answer the adapter told the core bob's locale, once.
        await adapter.settled()
        async with app.db.session() as session:
            kept = (
                await session.execute(
                    select(col(Member.platform_locale), col(Member.language)).where(
                        col(Member.user_id) == bob["id"]
                    )
                )
            ).all()
        assert [tuple(r) for r in kept] == [("es-ES", None)]

        # A poll with a reminder a day before it closes: the poll is posted in English, and
        # the reminder reaches bob by DM in Spanish (a job, long after his interaction).
        opened = await fake.interact(
            fake.slash_command_interaction(
                "cop poll new",
                {
                    "question": "Snack?",
                    "options": "Apples | Pears",
                    "closes": "in 2 days",
                    "remind": "1d",
                },
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        assert opened.status == 200
        await app.worker.drain()
        [poll] = [
            c.json for c in fake.calls_to("POST", channel_posts) if "Snack?" in shown_text(c.json)
        ]
        closes = f"{EN('voting.poll.closes', when='<t:')}"
        assert closes in shown_text(poll)  # English: "Closes <t:...>"
        assert ES("voting.poll.closes", when="<t:") not in shown_text(poll)
        await app.advance(timedelta(days=1, minutes=1))
        await app.worker.drain()
        bob_dm = fake.dm_channels.get(int(bob["id"]))
        assert bob_dm is not None, "bob got no reminder"
        [dm] = fake.calls_to("POST", rf"/channels/{bob_dm}/messages")
        values = {"community": "Finger Lakes CoP", "question": "Snack?", "when": "<t:"}
        said = ES("voting.remind.text", **values).split("<t:")[0]
        assert said != EN("voting.remind.text", **values).split("<t:")[0]
        assert shown_text(dm.json).startswith(said + "<t:")
