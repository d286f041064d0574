"""Outbox delivery through the adapter: send, edit in place, DMs, errors, pacing."""

from __future__ import annotations

import pytest

from adapters.discord import WORKSPACE
from adapters.discord.adapter import RateLimiter, delivery_error
from bot.events import ConversationRef, MessageRef, UserRef
from bot.features import build_registry
from bot.ports import DeliveryError
from bot.ui import ActionId, Actions, Button, Mention, Message, Section
from tests.discord.helpers import custom_ids, running_adapter
from tests.fakes.discord_fake import FakeDiscord


def _to(fake: FakeDiscord) -> ConversationRef:
    return ConversationRef("discord", WORKSPACE, str(fake.channel_id))


async def test_everyone_in_user_text_never_pings_and_a_mention_pings_only_that_member(
    fake_discord: FakeDiscord,
) -> None:
    fake = fake_discord
    async with running_adapter(fake) as adapter:
        await adapter.send(_to(fake), Message(text="@everyone @here <@&1> topic from a member"))
        await adapter.send(
            _to(fake),
            Message(
                text="x", blocks=[Section.of("@everyone: ", Mention(user_id="42", name="ana"))]
            ),
        )
    plain, mention = fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")
    # Shown as typed (escaped), and allowed_mentions pings nobody.
    assert plain.json["content"] == "@\u200beveryone @\u200bhere \\<@&1> topic from a member"
    assert plain.json["allowed_mentions"] == {"parse": []}
    assert mention.json["content"] == "@\u200beveryone: <@42>"
    assert mention.json["allowed_mentions"] == {"parse": [], "users": [42]}


async def test_poll_message_is_edited_in_place(fake_discord: FakeDiscord) -> None:
    fake = fake_discord

    def poll(count: int, *, open_: bool) -> Message:
        buttons = [Button(action=ActionId("vote", "cast", 1, 0), label="Outdoor play")]
        blocks = [Section.of(f"Outdoor play: {count} votes")]
        return Message(text="poll", blocks=blocks + ([Actions(elements=buttons)] if open_ else []))

    async with running_adapter(fake) as adapter:
        ref = await adapter.send(_to(fake), poll(0, open_=True))
        await adapter.edit(ref, poll(1, open_=True))
        await adapter.edit(ref, poll(1, open_=False))
    [post] = fake.calls_to("POST", rf"/channels/{fake.channel_id}/messages")
    assert ref == MessageRef("discord", str(fake.channel_id), post.response["id"])
    first, closed = fake.calls_to(
        "PATCH", rf"/channels/{fake.channel_id}/messages/{ref.message_id}"
    )
    assert first.json["embeds"][0]["description"] == "Outdoor play: 1 votes"
    assert custom_ids(first.json["components"]) == ["vote:cast:1:0"]
    assert closed.json["components"] == []  # buttons removed when the poll closes
    stored = fake.messages[int(ref.message_id)]
    assert (stored["content"], stored["embeds"]) == ("Outdoor play: 1 votes", [])


async def test_a_message_too_long_for_one_discord_message_is_sent_and_edited_as_parts(
    fake_discord: FakeDiscord,
) -> None:
    fake = fake_discord
    buttons = Actions(
        elements=[Button(action=ActionId("vote", "cast", 1, i), label=f"T{i}") for i in range(30)]
    )
    async with running_adapter(fake) as adapter:
        ref = await adapter.send(_to(fake), Message(text="p", blocks=[Section.of("Vote"), buttons]))
        ids = ref.message_id.split(",")
        assert len(ids) == 2 and len(ref.message_id) <= 64
        await adapter.edit(ref, Message(text="closed", blocks=[Section.of("Closed")]))
    edits = fake.calls_to("PATCH", rf"/channels/{fake.channel_id}/messages/\d+")
    assert [e.path.rsplit("/", 1)[1] for e in edits] == ids
    assert edits[0].json["embeds"] == [] and edits[0].json["content"] == "Closed"
    assert edits[1].json["content"] == "…(continued)" and edits[1].json["components"] == []


async def test_dm_to_closed_dms_is_a_permanent_dm_closed_failure(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    fake.fail_next(
        "POST",
        r"/channels/\d+/messages",
        status=403,
        json={"code": 50007, "message": "Cannot send messages to this user"},
    )
    user = UserRef("discord", WORKSPACE, fake.user["id"])
    async with running_adapter(fake) as adapter:
        with pytest.raises(DeliveryError) as err:
            await adapter.send_dm(user, Message(text="Reminder"))
        assert (err.value.reason, err.value.transient) == ("dm_closed", False)
        ref = await adapter.send_dm(user, Message(text="Reminder again"))  # they opened DMs
    assert ref.channel_id == str(fake.dm_channels[int(fake.user["id"])])
    assert len(fake.calls_to("POST", "/users/@me/channels")) == 1


@pytest.mark.parametrize(
    ("status", "code", "reason", "transient"),
    [
        (403, 50013, "missing_access", False),
        (403, 50001, "missing_access", False),
        (404, 10003, "channel_not_found", False),
        (503, 0, "server_error", True),
        (400, 50035, "http_400", False),
    ],
)
async def test_send_errors_map_to_delivery_errors(
    fake_discord: FakeDiscord, status: int, code: int, reason: str, transient: bool
) -> None:
    fake = fake_discord
    fake.fail_next(
        "POST", r"/channels/\d+/messages", status=status, json={"code": code, "message": "no"}
    )
    async with running_adapter(fake) as adapter:
        with pytest.raises(DeliveryError) as err:
            await adapter.send(_to(fake), Message(text="hello"))
    assert (err.value.reason, err.value.transient) == (reason, transient)


async def test_unknown_channel_is_channel_not_found(fake_discord: FakeDiscord) -> None:
    async with running_adapter(fake_discord) as adapter:
        with pytest.raises(DeliveryError) as err:
            await adapter.send(ConversationRef("discord", WORKSPACE, "123"), Message(text="x"))
    assert err.value.reason == "channel_not_found" and not err.value.transient


async def test_rate_limited_send_is_retried_by_discord_py(fake_discord: FakeDiscord) -> None:
    fake = fake_discord
    fake.rate_limit_next("POST", rf"/channels/{fake.channel_id}/messages", retry_after=0.05)
    async with running_adapter(fake) as adapter:
        await adapter.send(_to(fake), Message(text="agenda"))
    assert [c.status for c in fake.calls_to("POST", r"/channels/\d+/messages")] == [429, 200]


async def test_send_before_start_is_a_transient_failure() -> None:
    from adapters.discord import DiscordAdapter

    adapter = DiscordAdapter("token", registry=build_registry())
    with pytest.raises(DeliveryError) as err:
        await adapter.send(ConversationRef("discord", WORKSPACE, "1"), Message(text="x"))
    assert err.value.reason == "not_connected" and err.value.transient
    assert "token" not in repr(adapter)


def test_delivery_error_for_network_failures_is_transient() -> None:
    assert delivery_error(OSError("reset")).transient
    assert delivery_error(TimeoutError()).reason == "timeout"


async def test_global_rate_limiter_paces_calls() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        now[0] += seconds

    limiter = RateLimiter(3, 1.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(7):
        await limiter.acquire()
    # 3 per second: calls 4-6 wait for the window, call 7 waits again.
    assert slept == [1.0, 1.0]
    assert now[0] == 2.0
