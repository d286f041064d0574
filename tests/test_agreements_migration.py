"""Migration 0012 (agreements settings, the meeting time of each recap) goes up and down on
SQLite and PostgreSQL without losing a recap."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from storage.agreements import AgreementRecap, AgreementSettings
from storage.db import Database, alembic_config
from storage.models import Community

T0 = datetime(2026, 11, 3, 23, 30, tzinfo=UTC)


async def _columns(database: Database, table: str) -> set[str]:
    async with database.engine.connect() as conn:
        return await conn.run_sync(
            lambda c: {col["name"] for col in sa.inspect(c).get_columns(table)}
        )


async def _tables(database: Database) -> set[str]:
    async with database.engine.connect() as conn:
        return await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))


async def test_migration_0012_up_down_up_keeps_the_recaps(empty_db_url: str) -> None:
    database = Database(empty_db_url)
    try:
        await database.upgrade()
        assert "agreement_settings" in await _tables(database)
        assert "meeting_start" in await _columns(database, "agreement_recap")
        async with database.session() as session:
            community = Community(
                platform="console",
                workspace_id="w",
                channel_id="c",
                name="A",
                timezone="UTC",
                created_by="u",
            )
            session.add(community)
            await session.flush()
            session.add(
                AgreementRecap(
                    community_id=community.id, version=1, question="Why?", meeting_start=T0
                )
            )
            session.add(AgreementSettings(community_id=community.id, recap_at="last-reminder"))
        async with database.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0011"))
        assert "agreement_settings" not in await _tables(database)
        assert "meeting_start" not in await _columns(database, "agreement_recap")
        async with database.engine.connect() as conn:
            kept = (await conn.execute(sa.text("SELECT question FROM agreement_recap"))).all()
        assert [tuple(r) for r in kept] == [("Why?",)]
        await database.upgrade()
        assert "agreement_settings" in await _tables(database)
        assert "meeting_start" in await _columns(database, "agreement_recap")
    finally:
        await database.dispose()
