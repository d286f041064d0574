"""Slack sends that may have gone through unanswered are looked for, never repeated blindly.

The real AsyncWebClient talks to the fake Web API, which can store a post and answer it after
the client stopped waiting (`slow_next`). Every outbox post carries its key as message
metadata; the retry finds it in ``conversations.history``.
"""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from sqlalchemy import select

from adapters.slack.adapter import OUTBOX_EVENT, SlackAdapter
from adapters.slack.delivery import call, classify, web_client
from bot.events import ConversationRef, UserRef
from bot.features import build_registry
from bot.ports import DeliveryError
from bot.ui import File, Message, Section
from storage.models import OutboxMessage
from tests.fakes.slack_fake import (
    CHANNEL_ID,
    FILE_UPLOAD_CALL,
    TEAM_ID,
    FakeSlackWebAPI,
    dm_channel_for,
)
from tests.slack.helpers import START, http_config, running_bot

CHANNEL = ConversationRef("slack", TEAM_ID, CHANNEL_ID)
TIMEOUT = 0.3  # the adapter's request timeout in these tests
LATE = 0.8  # how late the fake answers a slow call


@pytest.fixture
async def slack_now():
    """A fake whose message timestamps are the bot's clock time, so `oldest` means something."""
    async with FakeSlackWebAPI(ts_base=int(START.timestamp())) as fake:
        yield fake


async def _enqueue(bot, key: str, to, message: Message) -> None:  # type: ignore[no-untyped-def]
    async with bot.db.session() as session:
        await bot.app.outbox.enqueue(session, key=key, to=to, message=message)


async def _row(bot, key: str) -> OutboxMessage:  # type: ignore[no-untyped-def]
    async with bot.db.session() as session:
        return (
            await session.execute(select(OutboxMessage).where(OutboxMessage.key == key))
        ).scalar_one()


async def _retry(bot) -> None:  # type: ignore[no-untyped-def]
    bot.clock.advance(timedelta(minutes=11))  # past any backoff
    await bot.app.worker.drain()


def _keys(fake: FakeSlackWebAPI, channel: str) -> list[str]:
    """The outbox key of every message in `channel`, one per message."""
    return [
        ((m.get("metadata") or {}).get("event_payload") or {}).get("key", "")
        for m in fake.messages.get(channel, [])
    ]


def _results() -> Message:
    chart = File(filename="results.png", content=b"\x89PNG fake", title="Results", mime="image/png")
    return Message(text="Results", blocks=[Section.of("Outdoor play won"), chart])


@pytest.mark.parametrize("dm", [False, True], ids=["channel", "dm"])
async def test_a_post_stored_but_answered_after_the_timeout_is_delivered_once(
    slack_now: FakeSlackWebAPI, db, dm: bool
) -> None:
    to = UserRef("slack", TEAM_ID, "U0MEMBER01") if dm else CHANNEL
    channel = dm_channel_for("U0MEMBER01") if dm else CHANNEL_ID
    slack_now.slow_next("chat.postMessage", LATE)
    async with running_bot(slack_now, db=db, request_timeout=TIMEOUT) as bot:
        await _enqueue(bot, "reminder:7:PT1H", to, Message(text="Meeting in an hour"))
        await bot.app.worker.drain()
        first = await _row(bot, "reminder:7:PT1H")
        assert (first.status, first.error, first.in_doubt) == ("pending", "timeout", True)
        await slack_now.wait_for("chat.postMessage")  # the late answer was written
        await _retry(bot)
        row = await _row(bot, "reminder:7:PT1H")

    assert _keys(slack_now, channel) == ["reminder:7:PT1H"]
    [stored] = slack_now.messages[channel]
    assert stored["metadata"]["event_type"] == OUTBOX_EVENT
    assert (row.status, row.message_channel, row.message_id) == ("sent", channel, stored["ts"])
    assert len(slack_now.calls_to("chat.postMessage")) == 1
    [history] = slack_now.calls_to("conversations.history")
    assert history.params["include_all_metadata"] in ("1", "true", "True")
    assert float(history.params["oldest"]) == START.timestamp() - 60


async def test_a_post_that_timed_out_unstored_is_posted_again_once(
    slack_now: FakeSlackWebAPI, db
) -> None:
    # The fake answers late *without* storing: the look finds nothing, so it is posted.
    slack_now.fail_next("chat.postMessage", status=503, delay=LATE)
    async with running_bot(slack_now, db=db, request_timeout=TIMEOUT) as bot:
        await _enqueue(bot, "k", CHANNEL, Message(text="hi"))
        await bot.app.worker.drain()
        assert (await _row(bot, "k")).in_doubt
        await slack_now.wait_for("chat.postMessage")  # the late refusal was written
        await _retry(bot)
        row = await _row(bot, "k")

    assert _keys(slack_now, CHANNEL_ID) == ["k"]
    assert row.status == "sent" and not row.in_doubt
    assert len(slack_now.calls_to("chat.postMessage")) == 2


async def test_only_circlebots_own_message_with_that_key_counts(
    slack_now: FakeSlackWebAPI, db
) -> None:
    # Someone else's app posting the same metadata is not circlebot's message.
    slack_now.messages[CHANNEL_ID] = [
        {
            "type": "message",
            "ts": f"{START.timestamp() + 1:.6f}",
            "bot_id": "B0OTHERAPP",
            "user": "U0OTHERBOT",
            "text": "hi",
            "metadata": {"event_type": OUTBOX_EVENT, "event_payload": {"key": "k"}},
        }
    ]
    slack_now.slow_next("chat.postMessage", LATE)
    slack_now.fail_next("chat.postMessage", status=500)
    async with running_bot(slack_now, db=db, request_timeout=TIMEOUT) as bot:
        await _enqueue(bot, "k", CHANNEL, Message(text="hi"))
        await bot.app.worker.drain()
        await _retry(bot)
        row = await _row(bot, "k")

    assert row.status == "sent"
    assert _keys(slack_now, CHANNEL_ID) == ["k", "k"]  # the other app's, then ours
    assert slack_now.messages[CHANNEL_ID][1]["bot_id"] != "B0OTHERAPP"


async def test_an_upload_timing_out_after_its_post_retries_only_the_upload_then_notes_it(
    slack_now: FakeSlackWebAPI, db
) -> None:
    slack_now.slow_next(FILE_UPLOAD_CALL, LATE, times=None)  # every upload times out
    async with running_bot(slack_now, db=db, request_timeout=TIMEOUT) as bot:
        bot.app.worker.max_attempts = 3
        await _enqueue(bot, "poll:3:result", CHANNEL, _results())
        await bot.app.worker.drain()
        row = await _row(bot, "poll:3:result")
        assert (row.status, row.step, row.error) == ("pending", "posted", "timeout")
        for _ in range(3):
            await _retry(bot)
        row = await _row(bot, "poll:3:result")
        await slack_now.wait_for(FILE_UPLOAD_CALL, count=3)  # the late answers were written

    posts = slack_now.calls_to("chat.postMessage")
    assert [p.params["text"] for p in posts] == [
        "Results",
        "I couldn't attach results.png to the message above; please ask a facilitator to share it.",
    ]
    assert _keys(slack_now, CHANNEL_ID) == ["poll:3:result", "poll:3:result:note"]
    assert len(slack_now.calls_to(FILE_UPLOAD_CALL)) == 3  # one per attempt, then given up
    assert slack_now.calls_to("files.completeUploadExternal") == []
    assert row.status == "sent"
    assert row.error == "file_not_attached:gave_up:timeout"
    assert row.message_id == slack_now.messages[CHANNEL_ID][0]["ts"]  # the message, not the note


async def test_an_upload_shared_but_answered_late_is_not_shared_twice(
    slack_now: FakeSlackWebAPI, db
) -> None:
    slack_now.slow_next("files.completeUploadExternal", LATE)
    async with running_bot(slack_now, db=db, request_timeout=TIMEOUT) as bot:
        await _enqueue(bot, "poll:4:result", CHANNEL, _results())
        await bot.app.worker.drain()
        assert (await _row(bot, "poll:4:result")).in_doubt
        await slack_now.wait_for("files.completeUploadExternal")
        await _retry(bot)
        row = await _row(bot, "poll:4:result")

    assert row.status == "sent" and row.error is None
    assert len(slack_now.calls_to("chat.postMessage")) == 1
    assert len(slack_now.calls_to("files.completeUploadExternal")) == 1
    shared = [m for m in slack_now.messages[CHANNEL_ID] if m.get("files")]
    assert [f["name"] for m in shared for f in m["files"]] == ["results.png"]


async def test_an_upload_failing_once_is_retried_alone(slack_now: FakeSlackWebAPI, db) -> None:
    slack_now.fail_next("files.getUploadURLExternal", status=429, headers={"Retry-After": "30"})
    async with running_bot(slack_now, db=db, request_timeout=TIMEOUT) as bot:
        await _enqueue(bot, "poll:5:result", CHANNEL, _results())
        await bot.app.worker.drain()
        row = await _row(bot, "poll:5:result")
        assert (row.step, row.in_doubt, row.error) == ("posted", False, "ratelimited")
        await _retry(bot)
        row = await _row(bot, "poll:5:result")

    assert row.status == "sent"
    assert len(slack_now.calls_to("chat.postMessage")) == 1
    assert len(slack_now.calls_to("files.completeUploadExternal")) == 1
    assert slack_now.calls_to("conversations.history") == []  # a 429 is surely not delivered


# -- every failure of a send is classified ----------------------------------------------------


def _api_error(status: int, error: str) -> SlackApiError:
    response = AsyncSlackResponse(
        client=None,  # type: ignore[arg-type]
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers={"Retry-After": "7"} if status == 429 else {},
        status_code=status,
    )
    return SlackApiError("failed", response)


@pytest.mark.parametrize(
    ("exc", "writes", "kind", "reason"),
    [
        (_api_error(429, "ratelimited"), True, "transient", "ratelimited"),
        (_api_error(503, "service_unavailable"), True, "ambiguous", "service_unavailable"),
        (_api_error(503, "service_unavailable"), False, "transient", "service_unavailable"),
        (_api_error(200, "internal_error"), True, "ambiguous", "internal_error"),
        (_api_error(200, "request_timeout"), True, "transient", "request_timeout"),
        (_api_error(200, "channel_not_found"), True, "permanent", "channel_not_found"),
        (_api_error(200, "msg_too_long"), True, "permanent", "msg_too_long"),
        (TimeoutError(), True, "ambiguous", "timeout"),
        (TimeoutError(), False, "transient", "timeout"),
        (aiohttp.ServerDisconnectedError(), True, "ambiguous", "connection_lost"),
        (
            aiohttp.ClientOSError(104, "Connection reset by peer"),
            True,
            "ambiguous",
            "connection_lost",
        ),
        (aiohttp.ClientPayloadError("cut"), True, "ambiguous", "connection_lost"),
        (ConnectionResetError(), True, "ambiguous", "connection_lost"),
        (SlackRequestError("upload answered 500"), True, "ambiguous", "client_error"),
        (KeyError("ts"), True, "permanent", "unexpected_KeyError"),
    ],
)
def test_every_send_failure_is_transient_ambiguous_or_permanent(
    exc: BaseException, writes: bool, kind: str, reason: str
) -> None:
    err = classify(exc, writes=writes)
    assert (err.kind, err.reason) == (kind, reason)
    assert err.transient == (kind != "permanent")
    if reason == "ratelimited":
        assert err.retry_after == 7.0


async def test_a_refused_connection_is_transient_even_for_a_post() -> None:
    # Port 9 on loopback refuses: nothing was written, so nothing can be there.
    client = web_client("xoxb-test", "http://127.0.0.1:9/api/", handlers=[], timeout=TIMEOUT)
    with pytest.raises(DeliveryError) as err:
        await call("chat.postMessage", client.chat_postMessage(channel="C1", text="x"), writes=True)
    assert (err.value.kind, err.value.reason) == ("transient", "connection_refused")


async def test_nothing_escapes_a_send_unclassified(slack_now: FakeSlackWebAPI) -> None:
    # A body that is not JSON at all: slack-sdk raises its own error, the adapter classifies it.
    slack_now.fail_next("chat.postMessage", status=200, body="<html>oops</html>")
    adapter = SlackAdapter(
        http_config(slack_now), registry=build_registry(), workspace_interval=0.0
    )
    with pytest.raises(DeliveryError) as err:
        await adapter.send(CHANNEL, Message(text="x"))
    assert err.value.kind in ("ambiguous", "permanent")
    assert len(slack_now.calls_to("chat.postMessage")) == 1  # not repeated inside the client
