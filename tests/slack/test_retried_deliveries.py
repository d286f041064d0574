"""Every Slack request delivered again has one effect, in the same process and after a restart.

Through real slack-bolt over loopback HTTP, signed as Slack signs, on SQLite and PostgreSQL:
each Events API event is delivered four times (the original and Slack's retries with
``X-Slack-Retry-Num`` 1, 2 and 3), each interaction (a slash command, a button press, a form
submission) twice, byte for byte; then the app is stopped, started again on the same database,
and every one of those requests arrives once more. Effects are counted where they land: rows of
every table (less the record of handled requests itself), outbox rows, and the calls the fake
Web API received (posts, ephemeral answers, forms opened, views published).

The App Home is the one exception by design (adapters/slack/dedupe.py): opening it only redraws
a view, so its retries are filtered in memory; after a restart a retried opening draws the same
view again and changes nothing stored (checked below).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.challenges import Challenge
from storage.db import Database
from storage.models import Member
from storage.tables import metadata
from storage.voting import Ballot, Poll
from tests.fakes.slack_fake import (
    FakeSlackWebAPI,
    block_actions_payload,
    event_payload,
    retry_headers,
    slash_command_payload,
    view_submission_payload,
)
from tests.slack.helpers import SlackBot, buttons, running_bot

ADMIN = "U0ADMIN001"
MEMBER = "U0MEMBER01"
NEWBIE = "U0NEWBIE01"
#: The fake Web API's methods whose calls are effects someone sees.
SEEN = ("chat.postMessage", "chat.postEphemeral", "chat.update", "views.open", "views.publish")


async def rows(db: Database) -> dict[str, int]:
    """How many rows each table holds (the record of handled requests left out)."""
    out: dict[str, int] = {}
    async with db.session() as s:
        for table in metadata.sorted_tables:
            if table.name != "seen_request":
                out[table.name] = (
                    await s.execute(select(func.count()).select_from(table))
                ).scalar_one()
    return out


def calls(fake: FakeSlackWebAPI) -> dict[str, int]:
    out = {m: len(fake.calls_to(m)) for m in SEEN}
    out["response_url"] = len(fake.response_url_posts)
    return out


class Copies(logging.Handler):
    """Counts the copies the core recognised, by kind (it logs each, naming the kind only),
    and wakes whoever waits for one: the explicit signal that a copy was taken up."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[str] = Counter()
        self.changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if " already handled" in message:
            self.counts[message.split(" already handled")[0]] += 1
            self.changed.set()

    async def reach(self, kind: str, n: int, timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while self.counts[kind] < n:
                self.changed.clear()
                await self.changed.wait()


class Deliveries:
    """Posts requests to the running bot and keeps them, to send again after a restart."""

    def __init__(self, copies: Copies) -> None:
        self.seen = copies
        self.events: list[dict[str, Any]] = []
        self.interactions: list[tuple[dict[str, Any], str]] = []

    def copies(self, kind: str) -> int:
        return self.seen.counts[kind]

    async def event(self, bot: SlackBot, payload: dict[str, Any], kind: str) -> None:
        """The event and Slack's three retries of it; returns when the retries were seen."""
        seen = self.copies(kind)
        status, _ = await bot.post(payload)
        assert status == 200
        for n in (1, 2, 3):
            status, _ = await bot.post(payload, headers=retry_headers(n, "http_timeout"))
            assert status == 200
        await self.seen.reach(kind, seen + 3)
        self.events.append(payload)

    async def twice(self, bot: SlackBot, payload: dict[str, Any], kind: str) -> str:
        """The interaction, then its copy; returns the first answer's body."""
        seen = self.copies(kind)
        status, first = await bot.post(payload)
        assert status == 200, first
        status, again = await bot.post(payload)
        assert status == 200 and again == "", again  # a copy is acknowledged, empty
        await self.seen.reach(kind, seen + 1)
        self.interactions.append((payload, kind))
        return first

    async def all_again(self, bot: SlackBot) -> None:
        """Every request once more (events with a retry header), after a restart."""
        for payload in self.events:
            seen = self.copies("MemberJoined slack:event")
            await bot.post(payload, headers=retry_headers(3, "http_timeout"))
            await self.seen.reach("MemberJoined slack:event", seen + 1)
        for payload, kind in self.interactions:
            seen = self.copies(kind)
            status, text = await bot.post(payload)
            assert (status, text) == (200, ""), text
            await self.seen.reach(kind, seen + 1)


async def count(db: Database, model: Any, **where: Any) -> int:
    async with db.session() as s:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int((await s.execute(query)).scalar_one())


@pytest.fixture
def copies() -> Iterator[Copies]:
    handler = Copies()
    logger = logging.getLogger("bot.dispatcher")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_every_request_delivered_again_has_one_effect_even_after_a_restart(
    slack_api: FakeSlackWebAPI, db: Database, copies: Copies
) -> None:
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    slack_api.add_user(MEMBER, profile={"display_name": "max"})
    slack_api.add_user(NEWBIE, profile={"display_name": "nia"})
    sent = Deliveries(copies)

    async with running_bot(slack_api, db=db) as bot:

        async def command(user: str, text: str) -> dict[str, Any]:
            payload = slash_command_payload(text, fake=slack_api, user_id=user)
            body = await sent.twice(bot, payload, "CommandInvoked slack:command")
            await bot.app.worker.drain()
            return json.loads(body) if body else {}

        await command(ADMIN, 'setup "Finger Lakes CoP" America/New_York')
        await command(MEMBER, "join")
        await command(ADMIN, 'poll new "Snack?" options="Apples | Pears"')
        assert await count(db, Poll) == 1

        # Events: someone joins the channel (a member row, a welcome); four deliveries.
        joined = event_payload("member_joined_channel", event={"user": NEWBIE})
        await sent.event(bot, joined, "MemberJoined slack:event")
        await bot.app.worker.drain()
        assert await count(db, Member, user_id=NEWBIE) == 1

        # A button press, twice: one ballot, one answer.
        [poll_post] = [
            c for c in slack_api.calls_to("chat.postMessage") if "Snack" in c.params["text"]
        ]
        apples = buttons(poll_post.json_param("blocks"))["Apples"]
        press = block_actions_payload(apples, "", user_id=MEMBER, fake=slack_api)
        answered = len(slack_api.response_url_posts)
        await sent.twice(bot, press, "ActionClicked slack:action")
        await slack_api.wait_for("@response_url", count=answered + 1)
        await bot.app.worker.drain()
        assert await count(db, Ballot) == 1

        # A form submitted twice: one challenge.
        listed = await command(MEMBER, "challenge list")
        bring = block_actions_payload(
            buttons(listed["blocks"])["Bring a challenge"], "", user_id=MEMBER, fake=slack_api
        )
        opened = len(slack_api.calls_to("views.open"))
        await sent.twice(bot, bring, "ActionClicked slack:action")
        await slack_api.wait_for("views.open", count=opened + 1)
        view = slack_api.calls_to("views.open")[-1].json_param("view")
        submission = view_submission_payload(
            view["callback_id"],
            values={
                "text": {"value": {"type": "plain_text_input", "value": "Biting at lunch"}},
                "visibility": {
                    "value": {
                        "type": "static_select",
                        "selected_option": {
                            "text": {"type": "plain_text", "text": "Everyone"},
                            "value": "open",
                        },
                    }
                },
            },
            private_metadata=view["private_metadata"],
            view={"blocks": view["blocks"]},
            user_id=MEMBER,
        )
        await sent.twice(bot, submission, "FormSubmitted slack:view")
        await bot.app.worker.drain()
        assert await count(db, Challenge) == 1
        # The App Home, opened and retried three times: drawn once.
        home = event_payload("app_home_opened", event={"user": MEMBER})
        await bot.post(home)
        for n in (1, 2, 3):
            await bot.post(home, headers=retry_headers(n))
        fresh = event_payload("app_home_opened", event={"user": ADMIN})
        await bot.post(fresh)  # the signal that the retries before it were taken up
        await slack_api.wait_for("views.publish", count=2)
        published = [c.params["user_id"] for c in slack_api.calls_to("views.publish")]
        assert published == [MEMBER, ADMIN]
        await bot.adapter.settled()
        await bot.app.worker.drain()
        stored, seen = await rows(db), calls(slack_api)

    # Restarted on the same database: every request again, nothing more happens.
    async with running_bot(slack_api, db=db) as again:
        await again.app.worker.drain()
        restarted, before = await rows(db), calls(slack_api)
        await sent.all_again(again)
        await again.post(home, headers=retry_headers(1))
        await again.adapter.settled()
        await again.app.worker.drain()
        after, received = await rows(db), calls(slack_api)

    assert after == restarted, {k: (restarted[k], v) for k, v in after.items() if restarted[k] != v}
    redrawn = {**before, "views.publish": before["views.publish"] + 1}
    assert received in (before, redrawn), (before, received)  # at most the Home drawn again
    # And the start itself added nothing a request had already done.
    effects = {"community", "member", "poll", "ballot", "challenge", "outbox"}
    assert {k: stored[k] for k in effects} == {k: restarted[k] for k in effects}
    assert stored["member"] == 3 and stored["ballot"] == 1 and stored["challenge"] == 1
    assert seen["chat.postMessage"] >= 1
