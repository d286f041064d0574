"""Slack gives a member's zone and locale: the users.info call the adapter makes for a name
and the admin flag asks ``include_locale=true``, and after the command is answered the
adapter hands the core a ``ProfileSeen``, which keeps ``user.tz`` and ``user.locale`` on the
person's member rows. Once a day at most; a failing users.info (missing users:read) logs one
warning and changes nothing. Signed requests through real slack-bolt against the fake Web API.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import select, update
from sqlmodel import col

from bot.i18n import Translator
from storage.db import Database
from storage.models import Member
from tests.fakes.slack_fake import slash_command_payload
from tests.slack.helpers import SlackBot, running_bot

ADMIN = "U0ADMIN001"
MEMBER = "U0MEMBER01"
OTHER = "U0OTHER001"
ES = Translator("es")


async def _profile(db: Database, user_id: str) -> tuple[str | None, str | None]:
    async with db.session() as session:
        row = (
            await session.execute(select(Member).where(col(Member.user_id) == user_id))
        ).scalar_one()
        return row.platform_timezone, row.platform_locale


async def _command(bot: SlackBot, text: str, user: str) -> str:
    status, body = await bot.post(slash_command_payload(text, fake=bot.fake, user_id=user))
    assert status == 200
    await bot.adapter.settled()  # the profile report runs after the answer, in the background
    return str(json.loads(body)["text"]) if body else ""


async def _setup(bot: SlackBot) -> None:
    bot.fake.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    await _command(bot, 'setup "Finger Lakes CoP" America/New_York', ADMIN)


async def test_a_members_zone_and_locale_come_from_slack_once_a_day(slack_api, db) -> None:
    async with running_bot(slack_api, db=db) as bot:
        await _setup(bot)
        slack_api.add_user(
            MEMBER, tz="Europe/Madrid", locale="es-ES", profile={"display_name": "Begoña"}
        )
        before = len(slack_api.calls_to("users.info"))
        await _command(bot, "join", MEMBER)
        lookups = [c for c in slack_api.calls_to("users.info")[before:]]
        assert [c.params["user"] for c in lookups] == [MEMBER]  # one call, no call of its own
        assert str(lookups[0].params["include_locale"]).lower() in ("1", "true")
        assert await _profile(db, MEMBER) == ("Europe/Madrid", "es-ES")

        # Her Slack is in Spanish (es-ES), so her private answers are in Spanish.
        said = await _command(bot, "my timezone", MEMBER)
        assert said == ES("mydata.zone.from.slack", zone="Europe/Madrid")
        assert said.startswith("Su zona horaria es Europe/Madrid")
        # A second command within the day: no users.info call, and no second report (a value
        # changed behind the adapter's back stays as it is).
        async with db.session() as session:
            await session.execute(
                update(Member)
                .where(col(Member.user_id) == MEMBER)
                .values(platform_timezone="Asia/Tokyo")
            )
        await _command(bot, "my timezone", MEMBER)
        assert len(slack_api.calls_to("users.info")) == before + 1
        assert await _profile(db, MEMBER) == ("Asia/Tokyo", "es-ES")

        # A zone set by hand wins over Slack's, and clearing it goes back to Slack's.
        said = await _command(bot, "my timezone America/Chicago", MEMBER)
        assert said == ES("mydata.zone.set", zone="America/Chicago")
        said = await _command(bot, "my timezone", MEMBER)
        assert said == ES("mydata.zone.own", zone="America/Chicago")
        said = await _command(bot, "my timezone none", MEMBER)
        assert said == ES("mydata.zone.cleared_platform", zone="Asia/Tokyo")


async def test_an_old_zone_name_is_kept_as_its_place_and_a_bad_one_as_none(slack_api, db) -> None:
    async with running_bot(slack_api, db=db) as bot:
        await _setup(bot)
        slack_api.add_user(MEMBER, tz="US/Eastern", locale="en-US")
        slack_api.add_user(OTHER, tz="Etc/GMT+5", locale="not a locale!")
        await _command(bot, "join", MEMBER)
        await _command(bot, "join", OTHER)
        assert await _profile(db, MEMBER) == ("America/New_York", "en-US")
        assert await _profile(db, OTHER) == (None, None)


async def test_a_failing_users_info_logs_one_warning_and_changes_nothing(
    slack_api, db, caplog
) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(slack_api, db=db) as bot:
        await _setup(bot)
        slack_api.add_user(MEMBER, tz="Europe/Madrid")
        slack_api.add_user(OTHER, tz="Europe/Madrid")
        before = len(slack_api.calls_to("users.info"))
        slack_api.fail_next("users.info", error="missing_scope", times=None)
        await _command(bot, "join", MEMBER)
        await _command(bot, "join", OTHER)
        await _command(bot, "my timezone", MEMBER)  # inside the failure's pause: no call
        said = await _command(bot, "my timezone", OTHER)
        assert len(slack_api.calls_to("users.info")) == before + 2  # once per person, no loop
        assert await _profile(db, MEMBER) == (None, None)
        assert await _profile(db, OTHER) == (None, None)
        assert said.startswith("You have not set a time zone, so Finger Lakes CoP's is used")
    warnings = [
        r for r in caplog.records if r.levelno == logging.WARNING and "users.info" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert "users:read" in warnings[0].getMessage()
