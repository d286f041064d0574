"""Several instances on Discord: each runs the shards it is given (DISCORD_SHARD_COUNT and
DISCORD_SHARD_IDS), and the app commands are synced by one instance at a time (`bot.once`)."""

from __future__ import annotations

from bot.config import SettingsError, load_settings
from bot.once import COMMAND_SYNC, once
from bot.ports import FakeClock
from storage.db import Database
from tests.discord.helpers import running_adapter, running_bot
from tests.fakes.discord_fake import FakeDiscord

PUT_COMMANDS = r"/applications/\d+/guilds/\d+/commands"


async def test_an_instance_identifies_only_its_shards(fake_discord: FakeDiscord) -> None:
    async with running_adapter(fake_discord, shard_count=3, shard_ids=(0, 2)) as adapter:
        assert adapter.connected()
        shards = sorted(tuple(c.identify["shard"]) for c in fake_discord.connections if c.identify)
    assert shards == [(0, 3), (2, 3)]


async def test_without_shard_settings_one_connection_identifies_without_a_shard(
    fake_discord: FakeDiscord,
) -> None:
    async with running_adapter(fake_discord):
        [connection] = [c for c in fake_discord.connections if c.identify]
        assert "shard" not in connection.identify


def test_shard_settings_are_checked_together(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "4")
    monkeypatch.setenv("DISCORD_SHARD_IDS", "2, 3")
    settings = load_settings(_env_file=None)
    assert (settings.discord_shard_count, settings.discord_shard_ids) == (4, (2, 3))
    for ids, count, says in (
        ("4", "4", "DISCORD_SHARD_IDS must be below DISCORD_SHARD_COUNT"),
        ("1,1", "4", "DISCORD_SHARD_IDS names a shard twice"),
        ("one", "4", "DISCORD_SHARD_IDS is invalid: must be shard numbers"),
        ("1", "", "DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT"),
    ):
        monkeypatch.setenv("DISCORD_SHARD_IDS", ids)
        monkeypatch.setenv("DISCORD_SHARD_COUNT", count)
        try:
            load_settings(_env_file=None)
        except SettingsError as err:
            assert says in str(err)
        else:
            raise AssertionError(f"{ids!r} of {count!r} shards was accepted")


async def test_commands_are_not_synced_while_another_instance_syncs_them(
    fake_discord: FakeDiscord, db: Database, db_url: str, clock: FakeClock
) -> None:
    other_instance = Database(db_url)
    async with once(other_instance, COMMAND_SYNC) as theirs:
        assert theirs
        async with running_bot(fake_discord, db, clock):
            synced_meanwhile = len(fake_discord.calls_to("PUT", PUT_COMMANDS))
    async with running_bot(fake_discord, db, clock):
        pass
    # On PostgreSQL the first bot left the sync to the other instance; SQLite is one
    # process, so there nothing is shared and each start syncs.
    expected = 0 if db.dialect == "postgresql" else 1
    assert synced_meanwhile == expected
    assert len(fake_discord.calls_to("PUT", PUT_COMMANDS)) == expected + 1
    await other_instance.dispose()
