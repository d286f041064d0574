"""``/cop my language``: a member's own language for what is theirs alone, set on every
community they belong to here, cleared by ``auto``, refused in one sentence when circlebot
does not speak it, kept in their export; and the one rule that picks a person's language
(`bot.languages`): their choice, else their platform's locale, else the community's.
Through the console on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import command
from sqlalchemy import select
from sqlmodel import col

from adapters.console import run_script
from bot.i18n import translator
from bot.languages import catalog_language, member_language
from bot.ports import FakeClock
from storage.db import Database, alembic_config
from storage.models import Community, Member

NY = "America/New_York"
ES = translator("es")
EN = translator("en")


async def _run(db: Database, tmp_path: Path, script: str) -> list[str]:
    lines: list[str] = []
    await run_script(
        [line.strip() for line in script.strip().splitlines()],
        db,
        FakeClock(datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo(NY))),
        zone=NY,
        write=lines.append,
        files_dir=tmp_path,
    )
    return lines


async def _languages(db: Database, user: str) -> list[str | None]:
    async with db.session() as session:
        rows = await session.execute(
            select(col(Member.language)).where(col(Member.user_id) == user).order_by(Member.id)
        )
        return list(rows.scalars())


async def test_my_language_is_set_everywhere_shown_cleared_and_refused(
    db: Database, tmp_path: Path
) -> None:
    lines = await _run(
        db,
        tmp_path,
        """
        :as ana admin
        :in #cop
        /cop setup "Finger Lakes CoP" America/New_York
        :in #cop2
        /cop setup "Infant Care Circle" America/New_York
        :as cara
        /cop join
        :in #cop
        /cop join
        /cop my language
        /cop my language fr
        /cop my language es
        /cop my language
        /cop my-data export
        /cop my language auto
        /cop my language español
        """,
    )
    community = EN("mydata.language.community", language="English", community="Finger Lakes CoP")
    assert f"[private @cara] {community}" in lines
    refusal = EN("mydata.language.unknown", language="fr", choices="en, es")
    assert f"[private @cara] {refusal}" in lines
    # The answer to the change is already in the language chosen, and so is what follows.
    name = ES("mydata.language.name.es")
    assert f"[private @cara] {ES('mydata.language.set', language=name)}" in lines
    assert f"[private @cara] {ES('mydata.language.own', language=name)}" in lines
    cleared = EN("mydata.language.cleared", language="English")
    assert f"[private @cara] {cleared}" in lines
    # "español" is a language's name: it is taken as es.
    assert await _languages(db, "cara") == ["es", "es"]
    exported = json.loads((tmp_path / "my-data.json").read_text(encoding="utf-8"))
    assert [c["membership"]["language"] for c in exported["communities"]] == ["es", "es"]


async def test_a_refusal_changes_nothing_and_nobody_else(db: Database, tmp_path: Path) -> None:
    await _run(
        db,
        tmp_path,
        """
        :as ana admin
        :in #cop
        /cop setup "Finger Lakes CoP" America/New_York
        :as cara
        /cop join
        /cop my language es
        /cop my language klingon
        :as dan
        /cop join
        """,
    )
    assert await _languages(db, "cara") == ["es"]
    assert await _languages(db, "dan") == [None]


def test_the_language_of_a_person_their_choice_then_platform_then_community() -> None:
    english = Community(
        platform="x", workspace_id="w", channel_id="c", name="A", timezone="UTC", created_by="u"
    )
    spanish = Community(
        platform="x",
        workspace_id="w",
        channel_id="d",
        name="B",
        timezone="UTC",
        language="es",
        created_by="u",
    )
    assert catalog_language("es-ES") == catalog_language("es_419") == "es"
    assert catalog_language("EN-us") == "en"
    assert catalog_language("pt-BR") is None and catalog_language(None) is None
    plain = Member(community_id=1, user_id="u", display_name="u")
    assert member_language(plain, english) == "en"
    assert member_language(plain, spanish) == "es"
    assert member_language(plain, english, "es-419") == "es"
    slack = Member(community_id=1, user_id="u", display_name="u", platform_locale="es-ES")
    assert member_language(slack, english) == "es"
    # A locale circlebot has no catalog for leaves the community's language.
    french = Member(community_id=1, user_id="u", display_name="u", platform_locale="fr-FR")
    assert member_language(french, spanish) == "es"
    chose = Member(community_id=1, user_id="u", display_name="u", language="en")
    chose.platform_locale = "es-ES"
    assert member_language(chose, spanish, "es-ES") == "en"


async def test_migration_0021_up_down_up_keeps_the_members(empty_db_url: str) -> None:
    database = Database(empty_db_url)
    try:
        await database.upgrade()
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
                    display_name="rosa",
                    platform_locale="es-ES",
                    language="es",
                )
            )
        async with database.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0020"))
        async with database.engine.connect() as conn:
            columns = await conn.run_sync(
                lambda c: {col["name"] for col in sa.inspect(c).get_columns("member")}
            )
            kept = (
                await conn.execute(sa.text("SELECT user_id, platform_locale FROM member"))
            ).all()
        assert "language" not in columns
        assert [tuple(r) for r in kept] == [("U2", "es-ES")]
        await database.upgrade()
        assert await _languages(database, "U2") == [None]
    finally:
        await database.dispose()
