"""The reflection tables on both databases: they migrate up and down, and their unique
constraints are what make a round once per meeting and an answer once per question."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError

from storage.db import Database, alembic_config
from storage.models import Community, Member
from storage.reflections import (
    Checkin,
    CheckinAnswer,
    CheckinDelivery,
    CheckinRound,
    Privacy,
    ReflectionPreference,
)

T0 = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
TABLES = {
    "checkin",
    "checkin_round",
    "checkin_delivery",
    "checkin_answer",
    "checkin_commitment",
    "reflection_preference",
}


async def _tables(database: Database) -> set[str]:
    async with database.engine.connect() as conn:
        return await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))


async def test_migration_0013_up_down_up(empty_db_url: str) -> None:
    database = Database(empty_db_url)
    try:
        await database.upgrade()
        assert TABLES <= await _tables(database)
        async with database.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0012"))
        assert not TABLES & await _tables(database)
        await database.upgrade()
        assert TABLES <= await _tables(database)
    finally:
        await database.dispose()


async def _seed(db: Database) -> tuple[int, int, int]:
    async with db.session() as s:
        c = Community(
            platform="console",
            workspace_id="w",
            channel_id="c",
            name="A",
            timezone="UTC",
            created_by="u",
        )
        s.add(c)
        await s.flush()
        m = Member(community_id=c.id, user_id="u1", display_name="Ana")
        s.add(m)
        k = Checkin(
            community_id=c.id,
            number=1,
            title="After the meeting",
            questions="[]",
            timing="after",
            days=2,
            tz="UTC",
            open_minutes=5 * 24 * 60,
            created_by="u",
        )
        s.add(k)
        await s.flush()
        r = CheckinRound(
            community_id=c.id,
            checkin_id=k.id,
            number=1,
            questions="[]",
            opens_at=T0,
            closes_at=T0 + timedelta(days=5),
        )
        s.add(r)
        await s.flush()
        return c.id, m.id, r.id


async def test_an_answer_is_once_per_member_round_and_question(db: Database) -> None:
    community, member, round_id = await _seed(db)
    async with db.session() as s:
        s.add(
            CheckinDelivery(community_id=community, round_id=round_id, member_id=member, dm_key="k")
        )
        s.add(
            CheckinAnswer(
                community_id=community,
                round_id=round_id,
                member_id=member,
                question=0,
                sealed="token",
                privacy=Privacy.ANONYMOUS,
            )
        )
        s.add(ReflectionPreference(community_id=community, member_id=member, paused_until=T0))
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            s.add(
                CheckinAnswer(
                    community_id=community,
                    round_id=round_id,
                    member_id=member,
                    question=0,
                    sealed="again",
                )
            )
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            s.add(
                CheckinDelivery(
                    community_id=community, round_id=round_id, member_id=member, dm_key="k2"
                )
            )
    async with db.session() as s:
        rows = (await s.execute(sa.text("SELECT sealed, privacy FROM checkin_answer"))).all()
    assert [tuple(r) for r in rows] == [("token", "anonymous")]


async def test_a_round_is_once_per_checkin_and_meeting_or_opening(db: Database) -> None:
    community, _member, round_id = await _seed(db)
    async with db.session() as s:
        first = await s.get(CheckinRound, round_id)
        assert first is not None
        checkin_id = first.checkin_id
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            s.add(
                CheckinRound(
                    community_id=community,
                    checkin_id=checkin_id,
                    number=2,
                    questions="[]",
                    opens_at=T0,
                    closes_at=T0 + timedelta(days=1),
                )
            )
