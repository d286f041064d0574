"""Discord sends and scheduled events that may have been made unanswered are never doubled.

Every outbox post carries a nonce from its key with ``enforce_nonce``; the fake, like Discord,
answers a repeat with the message it already has. Scheduled events are found again by the
bot's own name and start. All through the real discord.py against the loopback fake.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import discord
import pytest
from sqlalchemy import select

from adapters.discord import WORKSPACE
from adapters.discord.adapter import delivery_error, nonce_for
from bot.events import ConversationRef, UserRef
from bot.ports import DeliveryError, FakeClock
from bot.ui import ActionId, Actions, Button, CalendarEvent, Message, Section
from storage.models import OutboxMessage
from tests.discord.helpers import running_adapter, running_bot
from tests.fakes.discord_fake import FakeDiscord

TIMEOUT = 0.3  # the adapter's request timeout in these tests
LATE = 0.8
START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)


def _posts(fake: FakeDiscord, channel: int | str) -> str:
    return rf"/channels/{channel}/messages"


def _stored(fake: FakeDiscord, channel: int | str) -> list[dict]:  # type: ignore[type-arg]
    return [m for m in fake.messages.values() if m["channel_id"] == str(channel)]


async def _row(db, key: str) -> OutboxMessage:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        return (
            await session.execute(select(OutboxMessage).where(OutboxMessage.key == key))
        ).scalar_one()


async def _enqueue(app, key: str, to, message: Message) -> None:  # type: ignore[no-untyped-def]
    async with app.db.session() as session:
        await app.outbox.enqueue(session, key=key, to=to, message=message)


async def _retry(app, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    clock.advance(timedelta(minutes=11))
    await app.worker.drain()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.mark.parametrize("dm", [False, True], ids=["channel", "dm"])
async def test_a_post_made_but_answered_after_the_timeout_is_delivered_once(
    fake_discord: FakeDiscord, db, clock: FakeClock, dm: bool
) -> None:
    fake = fake_discord
    user = UserRef("discord", WORKSPACE, fake.user["id"])
    channel = ConversationRef("discord", WORKSPACE, str(fake.channel_id))
    fake.fail_next("POST", r"/channels/\d+/messages", status=200, written=True, delay=LATE)
    async with running_bot(fake, db, clock, request_timeout=TIMEOUT) as (app, _adapter):
        await _enqueue(app, "reminder:3:PT1H", user if dm else channel, Message(text="Soon"))
        await app.worker.drain()
        first = await _row(db, "reminder:3:PT1H")
        assert (first.status, first.error, first.in_doubt) == ("pending", "timeout", True)
        await fake.wait_for_call("POST", r"/channels/\d+/messages")  # the late answer
        await _retry(app, clock)
        row = await _row(db, "reminder:3:PT1H")

    target = fake.dm_channels[int(fake.user["id"])] if dm else fake.channel_id
    [stored] = _stored(fake, target)
    assert (row.status, row.message_id) == ("sent", stored["id"])
    calls = fake.calls_to("POST", _posts(fake, target))
    assert len(calls) == 2
    assert {c.json["nonce"] for c in calls} == {nonce_for("reminder:3:PT1H")}
    assert all(c.json["enforce_nonce"] is True for c in calls)


async def test_a_post_made_and_answered_503_exists_once(
    fake_discord: FakeDiscord, db, clock: FakeClock
) -> None:
    fake = fake_discord
    fake.fail_next("POST", _posts(fake, fake.channel_id), status=503, written=True)
    channel = ConversationRef("discord", WORKSPACE, str(fake.channel_id))
    async with running_bot(fake, db, clock, request_timeout=TIMEOUT) as (app, _adapter):
        await _enqueue(app, "poll:9", channel, Message(text="Vote"))
        await app.worker.drain()
        assert (await _row(db, "poll:9")).error == "server_error"
        await _retry(app, clock)
        row = await _row(db, "poll:9")

    [stored] = _stored(fake, fake.channel_id)
    assert (row.status, row.message_id) == ("sent", stored["id"])
    assert [c.status for c in fake.calls_to("POST", _posts(fake, fake.channel_id))] == [503, 200]


async def test_discord_pys_own_retry_of_a_500_reuses_the_nonce(
    fake_discord: FakeDiscord, db, clock: FakeClock
) -> None:
    # discord.py repeats a 500 by itself (after a second); the nonce makes that safe too.
    fake = fake_discord
    fake.fail_next("POST", _posts(fake, fake.channel_id), status=500, written=True)
    channel = ConversationRef("discord", WORKSPACE, str(fake.channel_id))
    async with running_bot(fake, db, clock, request_timeout=5.0) as (app, _adapter):
        await _enqueue(app, "k", channel, Message(text="once"))
        await app.worker.drain()
        row = await _row(db, "k")

    [stored] = _stored(fake, fake.channel_id)
    assert (row.status, row.attempts, row.message_id) == ("sent", 1, stored["id"])


async def test_each_part_of_a_long_message_has_its_own_nonce(
    fake_discord: FakeDiscord, db, clock: FakeClock
) -> None:
    fake = fake_discord
    buttons = [Button(action=ActionId("vote", "cast", 1, i), label=f"T{i}") for i in range(30)]
    long = Message(text="p", blocks=[Section.of("Vote"), Actions(elements=buttons)])  # 2 parts
    # The first part goes through; the second is made but answered 503.
    fake.fail_next("POST", _posts(fake, fake.channel_id), status=200, written=True)
    fake.fail_next("POST", _posts(fake, fake.channel_id), status=503, written=True)
    channel = ConversationRef("discord", WORKSPACE, str(fake.channel_id))
    async with running_bot(fake, db, clock, request_timeout=TIMEOUT) as (app, _adapter):
        await _enqueue(app, "list", channel, long)
        await app.worker.drain()
        await _retry(app, clock)
        row = await _row(db, "list")

    stored = _stored(fake, fake.channel_id)
    assert len(stored) == 2
    assert row.status == "sent" and row.message_id == ",".join(m["id"] for m in stored)
    nonces = [c.json["nonce"] for c in fake.calls_to("POST", _posts(fake, fake.channel_id))]
    assert nonces == [nonce_for("list", 0), nonce_for("list", 1)] * 2


async def test_a_stuck_request_times_out_instead_of_waiting_minutes(
    fake_discord: FakeDiscord,
) -> None:
    fake = fake_discord
    fake.fail_next("POST", _posts(fake, fake.channel_id), status=200, written=True, delay=3)
    channel = ConversationRef("discord", WORKSPACE, str(fake.channel_id))
    async with running_adapter(fake, request_timeout=TIMEOUT) as adapter:
        with pytest.raises(DeliveryError) as err:
            await adapter.send(channel, Message(text="x"))
        await fake.wait_for_call("POST", _posts(fake, fake.channel_id))
    assert (err.value.reason, err.value.kind) == ("timeout", "ambiguous")


def _http(cls: type[discord.HTTPException], status: int, code: int = 0) -> discord.HTTPException:
    response = SimpleNamespace(status=status, reason="x")
    return cls(response, {"code": code, "message": "x"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "writes", "kind", "reason"),
    [
        (_http(discord.DiscordServerError, 503), True, "ambiguous", "server_error"),
        (_http(discord.DiscordServerError, 503), False, "transient", "server_error"),
        (_http(discord.HTTPException, 429), True, "transient", "ratelimited"),
        (_http(discord.Forbidden, 403, 50007), True, "permanent", "dm_closed"),
        (_http(discord.NotFound, 404, 10003), True, "permanent", "channel_not_found"),
        (_http(discord.HTTPException, 400, 50035), True, "permanent", "http_400"),
        (TimeoutError(), True, "ambiguous", "timeout"),
        (ConnectionResetError(), True, "ambiguous", "connection"),
        (KeyError("id"), True, "permanent", "unexpected_KeyError"),
    ],
)
def test_every_send_failure_is_transient_ambiguous_or_permanent(
    exc: BaseException, writes: bool, kind: str, reason: str
) -> None:
    err = delivery_error(exc, writes=writes)
    assert (err.kind, err.reason) == (kind, reason)


# -- scheduled events ----------------------------------------------------------------------------


def _event(**overrides: object) -> CalendarEvent:
    fields: dict[str, object] = {
        "name": "Finger Lakes CoP: outdoor play",
        "start": START,
        "end": START + timedelta(hours=1),
        "location": "https://meet.example.org/fl",
        "description": "Agenda",
    }
    fields.update(overrides)
    return CalendarEvent.model_validate(fields)


async def _sync(app, fake: FakeDiscord, event: CalendarEvent) -> None:  # type: ignore[no-untyped-def]
    to = ConversationRef("discord", WORKSPACE, str(fake.channel_id))
    async with app.db.session() as session:
        await app.outbox.enqueue_event(session, key="event:meeting:5", to=to, event=event)
    await app.worker.drain()


def _events_path(fake: FakeDiscord) -> str:
    return rf"/guilds/{fake.guild_id}/scheduled-events"


@pytest.mark.parametrize("written", [False, True], ids=["refused", "made-then-503"])
async def test_an_event_create_answered_503_then_retried_is_one_event(
    fake_discord: FakeDiscord, db, clock: FakeClock, written: bool
) -> None:
    fake = fake_discord
    fake.fail_next("POST", _events_path(fake), status=503, written=written)
    async with running_bot(fake, db, clock, request_timeout=TIMEOUT) as (app, _adapter):
        await _sync(app, fake, _event())
        row = await _row(db, "event:meeting:5")
        assert (row.status, row.error) == ("pending", "server_error")
        await _retry(app, clock)
        row = await _row(db, "event:meeting:5")

    [event] = fake.scheduled_events[fake.guild_id].values()
    assert (row.status, row.message_id) == ("sent", event["id"])
    assert len(fake.calls_to("POST", _events_path(fake))) == (1 if written else 2)


async def test_an_edit_that_fails_keeps_the_event_id_and_is_retried(
    fake_discord: FakeDiscord, db, clock: FakeClock
) -> None:
    fake = fake_discord
    async with running_bot(fake, db, clock, request_timeout=TIMEOUT) as (app, _adapter):
        await _sync(app, fake, _event())
        created = (await _row(db, "event:meeting:5")).message_id
        assert created is not None
        fake.fail_next("PATCH", _events_path(fake) + r"/\d+", status=503)
        moved = START + timedelta(days=1)
        await _sync(app, fake, _event(start=moved, end=moved + timedelta(hours=1)))
        row = await _row(db, "event:meeting:5")
        assert (row.status, row.message_id, row.error) == ("pending", created, "server_error")
        await _retry(app, clock)
        row = await _row(db, "event:meeting:5")

    [event] = fake.scheduled_events[fake.guild_id].values()
    assert (row.status, row.message_id, event["id"]) == ("sent", created, created)
    assert datetime.fromisoformat(event["scheduled_start_time"]) == moved


async def test_a_permanent_event_error_is_recorded_and_the_id_kept(
    fake_discord: FakeDiscord, db, clock: FakeClock
) -> None:
    fake = fake_discord
    async with running_bot(fake, db, clock, request_timeout=TIMEOUT) as (app, _adapter):
        await _sync(app, fake, _event())
        created = (await _row(db, "event:meeting:5")).message_id
        fake.fail_next("PATCH", _events_path(fake) + r"/\d+", status=400)
        await _sync(app, fake, _event(name="Finger Lakes CoP: moved"))
        row = await _row(db, "event:meeting:5")
        await _retry(app, clock)

    assert (row.status, row.error, row.message_id) == ("failed", "http_400", created)
    assert len(fake.calls_to("PATCH", _events_path(fake) + r"/\d+")) == 1
    assert len(fake.scheduled_events[fake.guild_id]) == 1
