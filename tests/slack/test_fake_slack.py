"""Proves the Slack fakes work with the real slack-bolt / slack-sdk code paths.

Each test drives a plain bolt ``AsyncApp`` (or a bare ``AsyncWebClient``) over real loopback
HTTP/WebSocket against ``tests.fakes.slack_fake``; nothing is mocked inside the libraries.
These tests double as executable documentation of bolt/sdk behaviour the Slack adapter has to
live with (retries, acks, Socket Mode reconnects).
"""

import json
import time
from collections import defaultdict
from types import SimpleNamespace

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.oauth.installation_store import FileInstallationStore
from slack_sdk.oauth.state_store import FileOAuthStateStore
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_fake import (
    APP_TOKEN,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    CHANNEL_ID,
    DM_CHANNEL_ID,
    FILE_UPLOAD_CALL,
    FORM_CONTENT_TYPE,
    INSTALLED_BOT_TOKEN,
    JSON_CONTENT_TYPE,
    SIGNING_SECRET,
    TEAM_ID,
    USER_ID,
    FakeResponse,
    block_actions_payload,
    encode_for_http,
    event_payload,
    http_get,
    load_payload,
    post_signed,
    retry_headers,
    serve_bolt,
    sign,
    slash_command_payload,
    socket_mode_session,
    url_verification_payload,
    view_closed_payload,
    view_submission_payload,
)

EVENTS_PATH = "/slack/events"


def build_app(fake) -> tuple[AsyncApp, dict[str, list]]:
    """A small bolt app shaped like the future adapter: one listener per kind of request.

    Returns the app and a dict of what each listener saw, keyed by listener.
    """
    app = AsyncApp(
        signing_secret=SIGNING_SECRET,
        client=AsyncWebClient(token=BOT_TOKEN, base_url=fake.base_url),
        request_verification_enabled=True,
    )
    seen: dict[str, list] = defaultdict(list)

    @app.command("/cop")
    async def cop(ack, command, client, respond):
        seen["command"].append(command)
        await ack("On it")
        if command["text"] == "private":
            await respond("Only you can see this")
        else:
            await client.chat_postMessage(
                channel=command["channel_id"], text=f"cop: {command['text']}"
            )

    @app.action("vote")
    async def vote(ack, body, action, client):
        seen["vote"].append(action)
        await ack()
        await client.chat_update(
            channel=body["channel"]["id"], ts=body["message"]["ts"], text="Thanks for voting"
        )

    @app.view("propose_topic")
    async def propose(ack, view):
        topic = view["state"]["values"]["topic_block"]["topic_input"]["value"]
        if not topic:
            await ack(response_action="errors", errors={"topic_block": "Please name a topic"})
            return
        seen["view_submission"].append(
            {"topic": topic, "metadata": json.loads(view["private_metadata"])}
        )
        await ack()

    @app.view_closed("propose_topic")
    async def propose_closed(ack, view):
        seen["view_closed"].append(view["id"])
        await ack()

    @app.event("app_home_opened")
    async def home(event, body, request, client):
        # The retry header is visible to listeners; deduplication is the app's job.
        seen["app_home_opened"].append(
            {"event_id": body["event_id"], "retry_num": request.headers.get("x-slack-retry-num")}
        )
        await client.views_publish(
            user_id=event["user"],
            view={"type": "home", "blocks": [{"type": "section", "text": _mrkdwn("Hi")}]},
        )

    @app.event("member_joined_channel")
    async def joined(event, client):
        seen["member_joined_channel"].append(event)
        await client.chat_postMessage(channel=event["channel"], text=f"Welcome <@{event['user']}>")

    return app, seen


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


# -- signing -------------------------------------------------------------------------------------


def test_sign_produces_headers_the_real_verifier_accepts():
    body = encode_for_http(slash_command_payload("hello")).body
    verifier = SignatureVerifier(SIGNING_SECRET)

    assert verifier.is_valid_request(body, sign(body, SIGNING_SECRET))
    assert not verifier.is_valid_request(body, sign(body, "another-secret"))
    assert not verifier.is_valid_request(body + "x", sign(body, SIGNING_SECRET))
    stale = sign(body, SIGNING_SECRET, timestamp=int(time.time()) - 301)
    assert not verifier.is_valid_request(body, stale)


def test_payload_builders_encode_like_slack():
    slash = encode_for_http(slash_command_payload("help"))
    assert slash.content_type == FORM_CONTENT_TYPE
    assert "command=%2Fcop" in slash.body and "text=help" in slash.body

    click = encode_for_http(block_actions_payload("vote", "topic-2", in_dm=True))
    assert click.content_type == FORM_CONTENT_TYPE and click.body.startswith("payload=")
    assert click.payload["channel"]["id"] == DM_CHANNEL_ID
    assert click.payload["actions"][0]["value"] == "topic-2"

    event = encode_for_http(event_payload("app_home_opened"))
    assert event.content_type == JSON_CONTENT_TYPE
    assert json.loads(event.body)["event"]["type"] == "app_home_opened"
    assert event_payload("message")["event_id"] != event_payload("message")["event_id"]

    assert load_payload("view_submission", view={"callback_id": "x"})["view"]["hash"]


# -- HTTP mode -------------------------------------------------------------------------------------


async def test_signed_slash_command_acks_and_posts_message(slack_api):
    app, seen = build_app(slack_api)
    async with serve_bolt(app) as base:
        status, text = await post_signed(
            base + EVENTS_PATH, encode_for_http(slash_command_payload("help", fake=slack_api))
        )
        [post] = await slack_api.wait_for("chat.postMessage")

    assert (status, text) == (200, "On it")
    assert seen["command"][0]["user_id"] == USER_ID
    assert post.params["channel"] == CHANNEL_ID
    assert post.params["text"] == "cop: help"
    assert post.params["team_id"] == TEAM_ID  # bolt's per-request client adds it to every call
    assert post.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    # bolt's single-workspace authorization calls auth.test once before the first listener.
    assert slack_api.methods_called == ["auth.test", "chat.postMessage"]
    [message] = slack_api.messages[CHANNEL_ID]
    assert message["text"] == "cop: help" and message["bot_id"] == BOT_ID


async def test_respond_posts_to_the_fakes_response_url(slack_api):
    app, _ = build_app(slack_api)
    async with serve_bolt(app) as base:
        status, _ = await post_signed(
            base + EVENTS_PATH, encode_for_http(slash_command_payload("private", fake=slack_api))
        )
        [post] = await slack_api.wait_for("@response_url")

    assert status == 200
    assert post.params["text"] == "Only you can see this"
    assert post.path.startswith("/response_url/commands/")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"headers": {"X-Slack-Signature": "v0=" + "0" * 64}}, id="bad-signature"),
        pytest.param({"timestamp": int(time.time()) - 6 * 60}, id="stale-timestamp"),
        pytest.param({"secret": "not-the-signing-secret"}, id="wrong-secret"),
    ],
)
async def test_unverifiable_requests_get_401_and_have_no_effect(slack_api, tamper):
    app, seen = build_app(slack_api)
    async with serve_bolt(app) as base:
        status, _ = await post_signed(
            base + EVENTS_PATH,
            encode_for_http(slash_command_payload("help", fake=slack_api)),
            **tamper,
        )

    assert status == 401
    assert slack_api.calls == []
    assert not seen


@pytest.mark.parametrize(
    ("in_dm", "channel"), [(False, CHANNEL_ID), (True, DM_CHANNEL_ID)], ids=["channel", "dm"]
)
async def test_button_click_dispatches_to_action_handler(slack_api, in_dm, channel):
    app, seen = build_app(slack_api)
    payload = block_actions_payload(
        "vote", "topic-7", in_dm=in_dm, message_ts="1700000000.000100", fake=slack_api
    )
    async with serve_bolt(app) as base:
        status, text = await post_signed(base + EVENTS_PATH, encode_for_http(payload))
        [update] = await slack_api.wait_for("chat.update")

    assert (status, text) == (200, "")
    assert seen["vote"][0]["value"] == "topic-7"
    assert update.params["channel"] == channel
    assert update.params["ts"] == "1700000000.000100"


async def test_view_submission_dispatches_and_can_answer_with_errors(slack_api):
    app, seen = build_app(slack_api)
    ok = view_submission_payload(private_metadata={"channel_id": CHANNEL_ID})
    empty = view_submission_payload(
        values={"topic_block": {"topic_input": {"type": "plain_text_input", "value": None}}}
    )
    async with serve_bolt(app) as base:
        ok_status, ok_text = await post_signed(base + EVENTS_PATH, encode_for_http(ok))
        err_status, err_text = await post_signed(base + EVENTS_PATH, encode_for_http(empty))
        closed_status, _ = await post_signed(
            base + EVENTS_PATH, encode_for_http(view_closed_payload())
        )

    assert (ok_status, ok_text) == (200, "")
    assert seen["view_submission"] == [
        {"topic": "Property-based testing", "metadata": {"channel_id": CHANNEL_ID}}
    ]
    assert err_status == 200
    assert json.loads(err_text) == {
        "response_action": "errors",
        "errors": {"topic_block": "Please name a topic"},
    }
    assert closed_status == 200
    assert seen["view_closed"] == ["V0CIRCLE01"]


async def test_retried_event_is_delivered_again_and_bolt_does_not_dedupe(slack_api):
    app, seen = build_app(slack_api)
    body = encode_for_http(event_payload("app_home_opened"))
    async with serve_bolt(app) as base:
        first = await post_signed(base + EVENTS_PATH, body)
        retry = await post_signed(base + EVENTS_PATH, body, headers=retry_headers(1))
        await slack_api.wait_for("views.publish", count=2)

    # Events are auto-acked with an empty 200 before the listener runs.
    assert first == (200, "") and retry == (200, "")
    event_id = body.payload["event_id"]
    assert seen["app_home_opened"] == [
        {"event_id": event_id, "retry_num": None},
        {"event_id": event_id, "retry_num": ["1"]},
    ]
    assert set(slack_api.home_views) == {USER_ID}


async def test_member_joined_channel_for_the_bot_itself_is_not_filtered(slack_api):
    """bolt drops events whose user is the bot, except member_joined/left_channel."""
    app, seen = build_app(slack_api)
    body = encode_for_http(event_payload("member_joined_channel", event={"user": BOT_USER_ID}))
    async with serve_bolt(app) as base:
        status, _ = await post_signed(base + EVENTS_PATH, body)
        [welcome] = await slack_api.wait_for("chat.postMessage")

    assert status == 200
    assert [e["user"] for e in seen["member_joined_channel"]] == [BOT_USER_ID]
    assert welcome.params["channel"] == CHANNEL_ID


async def test_url_verification_returns_challenge(slack_api):
    app, _ = build_app(slack_api)
    async with serve_bolt(app) as base:
        status, text = await post_signed(
            base + EVENTS_PATH, encode_for_http(url_verification_payload("abc123"))
        )

    assert status == 200
    assert json.loads(text) == {"challenge": "abc123"}


async def test_slash_command_text_containing_payload_is_unhandled_by_bolt(slack_api):
    """Pins a bolt 1.30 quirk: a form body containing the substring "payload" is parsed as
    an interactive request, so `/cop payload` reaches no listener (404). If this starts
    failing after an upgrade, bolt fixed it."""
    app, seen = build_app(slack_api)
    async with serve_bolt(app) as base:
        status, _ = await post_signed(
            base + EVENTS_PATH, encode_for_http(slash_command_payload("payload please"))
        )

    assert status == 404
    assert not seen["command"]


# -- Web API client -----------------------------------------------------------------------------


@pytest.fixture
def no_retry_jitter(monkeypatch):
    """slack_sdk's rate-limit handler sleeps Retry-After + random() (up to 1s); pin it to 0."""
    monkeypatch.setattr(builtin_async_handlers, "random", SimpleNamespace(random=lambda: 0.0))


def retrying_client(fake) -> AsyncWebClient:
    return AsyncWebClient(
        token=BOT_TOKEN,
        base_url=fake.base_url,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=1),
            AsyncServerErrorRetryHandler(
                max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
            ),
        ],
    )


async def test_rate_limited_call_is_retried_after_retry_after(slack_api, no_retry_jitter):
    slack_api.fail_next("chat.postMessage", status=429, headers={"Retry-After": "0"})

    response = await retrying_client(slack_api).chat_postMessage(channel=CHANNEL_ID, text="hi")

    assert response["ok"] and response["channel"] == CHANNEL_ID
    assert [c.method for c in slack_api.calls] == ["chat.postMessage"] * 2


async def test_server_error_is_retried(slack_api):
    slack_api.fail_next("chat.postMessage", status=503)

    response = await retrying_client(slack_api).chat_postMessage(channel=CHANNEL_ID, text="hi")

    assert response["ok"]
    assert len(slack_api.calls_to("chat.postMessage")) == 2


async def test_without_retry_handlers_429_raises(slack_api):
    """AsyncWebClient's default handlers only retry connection errors, not 429/5xx."""
    slack_api.fail_next("chat.postMessage", status=429)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack_api.base_url)

    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=CHANNEL_ID, text="hi")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"
    assert raised.value.response["error"] == "ratelimited"


@pytest.mark.parametrize(
    "error",
    ["not_in_channel", "channel_not_found", "is_archived", "account_inactive", "invalid_auth"],
)
async def test_programmed_ok_false_errors_surface_as_slack_api_error(slack_api, error):
    slack_api.fail_next("chat.postMessage", error=error)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack_api.base_url)

    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=CHANNEL_ID, text="hi")
    assert raised.value.response["error"] == error

    assert (await client.chat_postMessage(channel=CHANNEL_ID, text="hi"))["ok"]


async def test_registered_channel_state_drives_posting_errors(slack_api):
    slack_api.add_channel("C0LEFT0001", "left", is_member=False)
    slack_api.add_channel("C0OLD00001", "old", is_archived=True)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack_api.base_url)

    for channel, error in [("C0LEFT0001", "not_in_channel"), ("C0OLD00001", "is_archived")]:
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel=channel, text="hi")
        assert raised.value.response["error"] == error


async def test_wildcard_failure_and_custom_responder(slack_api):
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack_api.base_url)
    slack_api.fail_next("*", error="account_inactive", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError):
            await client.auth_test()

    slack_api.set_responder("users.info", lambda call: {"user": {"id": call.params["user"]}})
    assert (await client.users_info(user="U9"))["user"] == {"id": "U9"}

    async def slow(call):
        return FakeResponse(body={"ok": True, "echo": call.params["x"]})

    slack_api.set_responder("custom.method", slow)
    assert (await client.api_call("custom.method", params={"x": "1"}))["echo"] == "1"


async def test_default_answers_have_realistic_shapes(slack_api):
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack_api.base_url)

    auth = await client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == (BOT_USER_ID, BOT_ID, TEAM_ID)

    first = await client.chat_postMessage(channel=CHANNEL_ID, text="one")
    second = await client.chat_postMessage(channel=CHANNEL_ID, text="two")
    assert first["ts"] == "1700000000.000100" and second["ts"] == "1700000000.000200"
    assert second["message"]["text"] == "two"

    ephemeral = await client.chat_postEphemeral(channel=CHANNEL_ID, user=USER_ID, text="psst")
    assert ephemeral["message_ts"] > second["ts"]

    dm = await client.conversations_open(users=USER_ID)
    assert dm["channel"]["id"] == DM_CHANNEL_ID
    assert (await client.conversations_open(users=[USER_ID]))["already_open"] is True

    user = (await client.users_info(user=USER_ID))["user"]
    assert {"tz", "tz_offset", "is_admin"} <= user.keys()
    slack_api.add_user("U0ADMIN001", is_admin=True, tz="Europe/Berlin", tz_offset=3600)
    admin = (await client.users_info(user="U0ADMIN001"))["user"]
    assert (admin["is_admin"], admin["tz"], admin["profile"]["team"]) == (
        True,
        "Europe/Berlin",
        TEAM_ID,
    )

    channel = (await client.conversations_info(channel=CHANNEL_ID))["channel"]
    assert channel["name"] == "general" and channel["is_member"]

    modal = {"type": "modal", "callback_id": "propose_topic", "title": _plain("Propose")}
    opened = (await client.views_open(trigger_id="1.2.3", view=modal))["view"]
    updated = (await client.views_update(view_id=opened["id"], view=modal))["view"]
    assert updated["id"] == opened["id"] and opened["callback_id"] == "propose_topic"

    with pytest.raises(SlackApiError) as raised, pytest.warns(UserWarning, match="`text`"):
        await client.chat_postMessage(channel=CHANNEL_ID)
    assert raised.value.response["error"] == "no_text"

    assert (await client.api_call("brand.newMethod"))["ok"]
    assert slack_api.calls_to("brand.newMethod")[0].token == BOT_TOKEN

    with pytest.raises(SlackApiError) as raised:
        await AsyncWebClient(base_url=slack_api.base_url).auth_test()
    assert raised.value.response["error"] == "not_authed"


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


async def test_files_upload_v2_end_to_end(slack_api):
    client = AsyncWebClient(token=BOT_TOKEN, base_url=slack_api.base_url)

    response = await client.files_upload_v2(
        channel=CHANNEL_ID, filename="agenda.txt", content="1. hello", title="Agenda"
    )

    file_id = response["file"]["id"]
    assert response["file"]["title"] == "Agenda"
    assert slack_api.uploaded_files[file_id] == b"1. hello"
    assert slack_api.methods_called == [
        "files.getUploadURLExternal",
        FILE_UPLOAD_CALL,
        "files.completeUploadExternal",
    ]
    complete = slack_api.calls_to("files.completeUploadExternal")[0]
    assert complete.params["channel_id"] == CHANNEL_ID
    assert complete.json_param("files") == [{"id": file_id, "title": "Agenda"}]


# slack_sdk 3.47 still builds aiohttp.BasicAuth for client credentials; aiohttp 3.14 warns.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_oauth_v2_access_returns_an_installation(slack_api):
    client = AsyncWebClient(base_url=slack_api.base_url)

    response = await client.oauth_v2_access(client_id="111.222", client_secret="s3cr3t", code="c")

    assert response["access_token"] == INSTALLED_BOT_TOKEN
    assert response["team"]["id"] == TEAM_ID and response["enterprise"] is None
    [call] = slack_api.calls_to("oauth.v2.access")
    assert call.headers["Authorization"].startswith("Basic ")


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_oauth_install_flow_then_requests_use_the_installed_token(slack_api, tmp_path):
    """bolt's real OAuth flow (install page -> redirect -> oauth.v2.access -> auth.test) against
    the fake, then a slash command authorized from the installation store."""
    app = AsyncApp(
        signing_secret=SIGNING_SECRET,
        client=AsyncWebClient(base_url=slack_api.base_url),
        oauth_settings=AsyncOAuthSettings(
            client_id="111.222",
            client_secret="s3cr3t",
            scopes=["commands", "chat:write"],
            installation_store=FileInstallationStore(base_dir=str(tmp_path / "installations")),
            state_store=FileOAuthStateStore(expiration_seconds=60, base_dir=str(tmp_path)),
        ),
    )

    @app.command("/cop")
    async def cop(ack, command, client):
        await ack()
        await client.chat_postMessage(channel=command["channel_id"], text="installed")

    async with serve_bolt(app) as base:
        status, headers, page = await http_get(base + "/slack/install")
        state = headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
        assert status == 200 and f"state={state}" in page
        status, _, _ = await http_get(
            f"{base}/slack/oauth_redirect?code=abc&state={state}",
            headers={"Cookie": f"slack-app-oauth-state={state}"},
        )
        assert status == 200

        status, _ = await post_signed(
            base + EVENTS_PATH, encode_for_http(slash_command_payload(fake=slack_api))
        )
        [post] = await slack_api.wait_for("chat.postMessage")

    assert status == 200
    assert slack_api.calls_to("oauth.v2.access")[0].params["code"] == "abc"
    assert post.token == INSTALLED_BOT_TOKEN


# -- Socket Mode ----------------------------------------------------------------------------------


async def test_socket_mode_delivers_envelopes_and_records_acks(slack_api, socket_mode_server):
    app, seen = build_app(slack_api)
    handler = AsyncSocketModeHandler(app, app_token=APP_TOKEN)

    async with socket_mode_session(handler, socket_mode_server):
        [connect] = slack_api.calls_to("apps.connections.open")
        assert connect.token == APP_TOKEN

        command_envelope = await socket_mode_server.send_envelope(
            type="slash_commands", payload=slash_command_payload("help", fake=slack_api)
        )
        ack = await socket_mode_server.wait_for_ack(command_envelope)
        [post] = await slack_api.wait_for("chat.postMessage")

        event = event_payload("app_home_opened")
        first = await socket_mode_server.send_envelope(payload=event)
        retried = await socket_mode_server.send_envelope(
            payload=event, retry_attempt=1, retry_reason="timeout"
        )
        await socket_mode_server.wait_for_ack(first)
        await socket_mode_server.wait_for_ack(retried)
        await slack_api.wait_for("views.publish", count=2)

    assert ack == {"envelope_id": command_envelope, "payload": {"text": "On it"}}
    assert post.params["text"] == "cop: help"
    assert seen["app_home_opened"] == [
        {"event_id": event["event_id"], "retry_num": ["0"]},
        {"event_id": event["event_id"], "retry_num": ["1"]},
    ]
    assert socket_mode_server.received[0] == {"envelope_id": command_envelope, **ack}


async def test_socket_mode_reconnects_on_disconnect_message(slack_api, socket_mode_server):
    app, _ = build_app(slack_api)
    handler = AsyncSocketModeHandler(app, app_token=APP_TOKEN)

    async with socket_mode_session(handler, socket_mode_server):
        await socket_mode_server.send_disconnect()
        await socket_mode_server.wait_for_connection(count=2)
        envelope = await socket_mode_server.send_envelope(
            payload=slash_command_payload("after reconnect", fake=slack_api)
        )
        await socket_mode_server.wait_for_ack(envelope)
        await slack_api.wait_for("chat.postMessage")

    assert len(slack_api.calls_to("apps.connections.open")) == 2
    assert len(set(socket_mode_server.issued_urls)) == 2
