"""Outbox delivery through the real AsyncWebClient against the fake Web API."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from slack_sdk.http_retry import builtin_async_handlers
from sqlalchemy import select

from bot.events import ConversationRef, UserRef
from bot.ui import Actions, Button, File, Message, Section
from storage.models import OutboxMessage
from tests.fakes.slack_fake import CHANNEL_ID, TEAM_ID, dm_channel_for
from tests.slack.helpers import running_bot

CHANNEL = ConversationRef("slack", TEAM_ID, CHANNEL_ID)


@pytest.fixture(autouse=True)
def no_retry_jitter(monkeypatch):
    """slack_sdk's rate-limit handler sleeps Retry-After + random() (up to 1s); pin it to 0."""
    monkeypatch.setattr(builtin_async_handlers, "random", SimpleNamespace(random=lambda: 0.0))


async def enqueue(bot, key: str, to, message: Message) -> None:  # type: ignore[no-untyped-def]
    async with bot.db.session() as session:
        await bot.app.outbox.enqueue(session, key=key, to=to, message=message)


async def rows(bot) -> dict[str, OutboxMessage]:  # type: ignore[no-untyped-def]
    async with bot.db.session() as session:
        return {r.key: r for r in (await session.execute(select(OutboxMessage))).scalars()}


async def test_channel_message_is_posted_and_its_ts_recorded(slack_api):
    async with running_bot(slack_api) as bot:
        await enqueue(bot, "hello", CHANNEL, Message(text="Meeting <!here> soon & more"))
        assert await bot.app.worker.drain() == 1
        sent = await rows(bot)

    [post] = slack_api.calls_to("chat.postMessage")
    assert post.params["channel"] == CHANNEL_ID
    assert post.params["text"] == "Meeting &lt;!here&gt; soon &amp; more"
    assert post.token == "xoxb-test"
    assert (sent["hello"].status, sent["hello"].message_channel) == ("sent", CHANNEL_ID)
    assert sent["hello"].message_id == "1700000000.000100"


async def test_dms_open_the_conversation_once(slack_api):
    user = UserRef("slack", TEAM_ID, "U0MEMBER01")
    async with running_bot(slack_api) as bot:
        await enqueue(bot, "dm:1", user, Message(text="first"))
        await enqueue(bot, "dm:2", user, Message(text="second"))
        await bot.app.worker.drain()
        # The second DM to the same person waits for the per-channel pace (1 s).
        bot.clock.advance(timedelta(seconds=2))
        await bot.app.worker.drain()
        sent = await rows(bot)

    assert len(slack_api.calls_to("conversations.open")) == 1
    posts = slack_api.calls_to("chat.postMessage")
    assert [p.params["channel"] for p in posts] == [dm_channel_for("U0MEMBER01")] * 2
    assert [p.params["text"] for p in posts] == ["first", "second"]
    assert {r.status for r in sent.values()} == {"sent"}


async def test_rate_limited_post_is_retried_after_retry_after(slack_api):
    slack_api.fail_next("chat.postMessage", status=429, headers={"Retry-After": "0"})
    async with running_bot(slack_api) as bot:
        await enqueue(bot, "k", CHANNEL, Message(text="hi"))
        await bot.app.worker.drain()
        sent = await rows(bot)

    assert len(slack_api.calls_to("chat.postMessage")) == 2
    assert sent["k"].status == "sent"


async def test_long_retry_after_goes_back_to_the_outbox(slack_api):
    slack_api.fail_next("chat.postMessage", status=429, headers={"Retry-After": "30"})
    async with running_bot(slack_api) as bot:
        await enqueue(bot, "k", CHANNEL, Message(text="hi"))
        await bot.app.worker.drain()
        row = (await rows(bot))["k"]
        assert (row.status, row.error) == ("pending", "ratelimited")
        assert row.not_before >= bot.clock.now() + timedelta(seconds=30)
        bot.clock.advance(timedelta(seconds=31))
        await bot.app.worker.drain()
        row = (await rows(bot))["k"]

    assert row.status == "sent"
    assert len(slack_api.calls_to("chat.postMessage")) == 2


@pytest.mark.parametrize(
    "error", ["not_in_channel", "channel_not_found", "is_archived", "account_inactive"]
)
async def test_permanent_errors_fail_the_row_with_the_reason(slack_api, error):
    slack_api.fail_next("chat.postMessage", error=error)
    async with running_bot(slack_api) as bot:
        await enqueue(bot, "k", CHANNEL, Message(text="hi"))
        await bot.app.worker.drain()
        row = (await rows(bot))["k"]

    assert (row.status, row.error) == ("failed", error)
    assert len(slack_api.calls_to("chat.postMessage")) == 1


async def test_not_in_channel_from_channel_state(slack_api):
    slack_api.add_channel("C0LEFT0001", "left", is_member=False)
    async with running_bot(slack_api) as bot:
        await enqueue(bot, "k", ConversationRef("slack", TEAM_ID, "C0LEFT0001"), Message(text="x"))
        await bot.app.worker.drain()
        row = (await rows(bot))["k"]

    assert (row.status, row.error) == ("failed", "not_in_channel")


async def test_server_error_on_a_post_is_looked_for_then_posted_once(slack_api):
    # A 5xx on a post may come after Slack stored it: not retried blindly inside the client.
    slack_api.fail_next("chat.postMessage", status=503)
    async with running_bot(slack_api) as bot:
        await enqueue(bot, "k", CHANNEL, Message(text="hi"))
        await bot.app.worker.drain()
        assert (await rows(bot))["k"].in_doubt
        bot.clock.advance(timedelta(seconds=3))
        await bot.app.worker.drain()
        row = (await rows(bot))["k"]

    assert row.status == "sent"
    assert slack_api.methods_called.count("conversations.history") == 1
    assert len(slack_api.messages[CHANNEL_ID]) == 1


async def test_server_error_on_a_read_is_retried_inside_the_client(slack_api):
    slack_api.fail_next("chat.update", status=503)
    async with running_bot(slack_api) as bot:
        await enqueue(bot, "poll", CHANNEL, Message(text="v0"))
        await bot.app.worker.drain()
        async with bot.db.session() as session:
            await bot.app.outbox.enqueue_edit(
                session,
                edit_of="poll",
                platform="slack",
                workspace_id=TEAM_ID,
                message=Message(text="v1"),
            )
        await bot.app.worker.drain()
        row = (await rows(bot))["poll:edit"]

    assert row.status == "sent"
    assert len(slack_api.calls_to("chat.update")) == 2


async def test_edit_updates_the_message_in_place(slack_api):
    poll = Message(
        text="Vote",
        blocks=[
            Section.of("Vote: next topic"),
            Actions(elements=[Button(action="vote:cast:1:1", label="Outdoor play")]),
        ],
    )
    async with running_bot(slack_api) as bot:
        await enqueue(bot, "poll:1", CHANNEL, poll)
        await bot.app.worker.drain()
        async with bot.db.session() as session:
            await bot.app.outbox.enqueue_edit(
                session,
                edit_of="poll:1",
                platform="slack",
                workspace_id=TEAM_ID,
                message=Message(text="Vote (closed)", blocks=[Section.of("Closed: 3 votes")]),
            )
        await bot.app.worker.drain()

    [post] = slack_api.calls_to("chat.postMessage")
    [update] = slack_api.calls_to("chat.update")
    assert update.params["channel"] == CHANNEL_ID
    assert update.params["ts"] == "1700000000.000100"
    assert update.json_param("blocks")[0]["text"]["text"] == "Closed: 3 votes"
    assert post.json_param("blocks")[1]["elements"][0]["action_id"] == "vote:cast:1:1"
    [stored] = slack_api.messages[CHANNEL_ID]
    assert stored["text"] == "Vote (closed)"


async def test_files_are_uploaded_after_the_message(slack_api):
    message = Message(
        text="Results",
        blocks=[
            Section.of("Results are in"),
            File(
                filename="results.csv",
                content=b"topic,votes\nplay,3\n",
                title="Results",
                mime="text/csv",
            ),
            File(
                filename="meeting.ics",
                content=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                title="Meeting",
            ),
        ],
    )
    async with running_bot(slack_api) as bot:
        await enqueue(bot, "k", CHANNEL, message)
        await bot.app.worker.drain()

    assert slack_api.methods_called[0] == "chat.postMessage"  # the message first, then files
    assert len(slack_api.calls_to("files.getUploadURLExternal")) == 2
    [complete] = slack_api.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == CHANNEL_ID
    assert sorted(slack_api.uploaded_files.values()) == sorted(
        [b"topic,votes\nplay,3\n", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"]
    )
    blocks = slack_api.calls_to("chat.postMessage")[0].json_param("blocks")
    assert blocks[1]["elements"][0]["text"] == ":paperclip: *results.csv* (attached below)"
