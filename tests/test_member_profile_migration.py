"""Migration 0020 (the zone and locale a platform gives, on member rows) goes up and down on
SQLite and PostgreSQL without losing a member or the zone they set themselves."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from storage.db import Database, alembic_config
from storage.models import Community, Member


async def _columns(database: Database) -> set[str]:
    async with database.engine.connect() as conn:
        return await conn.run_sync(
            lambda c: {col["name"] for col in sa.inspect(c).get_columns("member")}
        )


async def test_migration_0020_up_down_up_keeps_the_members(empty_db_url: str) -> None:
    database = Database(empty_db_url)
    try:
        await database.upgrade()
        assert {"platform_timezone", "platform_locale"} <= await _columns(database)
        async with database.session() as session:
            community = Community(
                platform="slack",
                workspace_id="T1",
                channel_id="C1",
                name="A",
                timezone="UTC",
                created_by="U1",
            )
            session.add(community)
            await session.flush()
            session.add(
                Member(
                    community_id=community.id,
                    user_id="U2",
                    display_name="eva",
                    timezone="Europe/Madrid",
                    platform_timezone="Europe/Lisbon",
                    platform_locale="pt-PT",
                )
            )
        async with database.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0019"))
        assert not {"platform_timezone", "platform_locale"} & await _columns(database)
        async with database.engine.connect() as conn:
            kept = (await conn.execute(sa.text("SELECT user_id, timezone FROM member"))).all()
        assert [tuple(r) for r in kept] == [("U2", "Europe/Madrid")]
        await database.upgrade()
        async with database.engine.connect() as conn:
            back = (
                await conn.execute(sa.text("SELECT platform_timezone, platform_locale FROM member"))
            ).all()
        assert [tuple(r) for r in back] == [(None, None)]
    finally:
        await database.dispose()
