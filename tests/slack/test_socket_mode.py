"""Socket Mode against the loopback WebSocket server: acks carry the reply; retries are dropped."""

from __future__ import annotations

from tests.fakes.slack_fake import APP_TOKEN, USER_ID, event_payload, slash_command_payload
from tests.slack.helpers import running_bot, socket_config


async def test_cop_help_over_socket_mode_and_a_retried_envelope(slack_api, socket_mode_server):
    async with running_bot(slack_api, config=socket_config(slack_api)) as bot:
        assert bot.adapter.mode == "socket" and bot.adapter.http_port is None
        await socket_mode_server.wait_for_connection()
        [connect] = slack_api.calls_to("apps.connections.open")

        envelope = await socket_mode_server.send_envelope(
            payload=slash_command_payload("help", fake=slack_api)
        )
        ack = await socket_mode_server.wait_for_ack(envelope)

        event = event_payload("app_home_opened")
        first = await socket_mode_server.send_envelope(payload=event)
        retried = await socket_mode_server.send_envelope(
            payload=event, retry_attempt=1, retry_reason="timeout"
        )
        await socket_mode_server.wait_for_ack(first)
        await socket_mode_server.wait_for_ack(retried)
        [home] = await slack_api.wait_for("views.publish")
        # A fresh event after the retry is the signal that the retry was taken up too.
        fresh = await socket_mode_server.send_envelope(
            payload=event_payload("app_home_opened", event={"user": "U0LATER001"})
        )
        await socket_mode_server.wait_for_ack(fresh)
        await slack_api.wait_for("views.publish", count=2)
        publishes = [c.params["user_id"] for c in slack_api.calls_to("views.publish")]

    assert connect.token == APP_TOKEN
    assert ack["payload"]["response_type"] == "ephemeral"
    assert ack["payload"]["text"].startswith("What you can do with circlebot here:")
    assert publishes == [USER_ID, "U0LATER001"]  # the first event and the fresh one
    assert home.json_param("view")["type"] == "home"
    # The adapter closed its WebSocket on stop.
    assert socket_mode_server.open_connections == []
