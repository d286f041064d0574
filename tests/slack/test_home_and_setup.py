"""App Home, OAuth installs into the project's database, the manifest and start-up settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.slack import BOT_SCOPES, SlackAdapter, build_slack_adapter
from bot.cli import platform_adapters
from bot.config import SettingsError, load_settings
from bot.events import Respond
from bot.features import build_registry
from bot.ui import Actions, Button, Message, Section
from storage.db import Database
from tests.fakes.slack_fake import (
    INSTALLED_BOT_TOKEN,
    SIGNING_SECRET,
    TEAM_ID,
    USER_ID,
    event_payload,
    http_get,
    slash_command_payload,
)
from tests.slack.helpers import http_config, running_bot

MANIFEST = Path(__file__).resolve().parents[2] / "adapters" / "slack" / "manifest.json"


async def test_home_falls_back_to_help_when_no_feature_answers(slack_api):
    registry = build_registry()
    registry.home = None
    async with running_bot(slack_api, registry=registry) as bot:
        await bot.post(event_payload("app_home_opened"))
        [publish] = await slack_api.wait_for("views.publish")

    view = publish.json_param("view")
    assert publish.params["user_id"] == USER_ID
    assert view["type"] == "home"
    assert view["blocks"][0]["text"]["text"].startswith("What you can do with circlebot")


async def test_home_shows_what_the_home_hook_answers(slack_api):
    registry = build_registry()
    seen = []

    async def home(ctx):  # type: ignore[no-untyped-def]
        seen.append((ctx.actor.name, ctx.place.is_dm))
        return Respond(
            Message(
                text="Your circle",
                blocks=[
                    Section.of("Next meeting: Tue"),
                    Actions(elements=[Button(action="rsvp:yes:1", label="Going")]),
                ],
            )
        )

    registry.home = home
    async with running_bot(slack_api, registry=registry) as bot:
        await bot.post(event_payload("app_home_opened"))
        [publish] = await slack_api.wait_for("views.publish")

    view = publish.json_param("view")
    assert seen == [("ada", True)]
    assert [b["type"] for b in view["blocks"]] == ["section", "actions"]
    assert view["blocks"][1]["elements"][0]["action_id"] == "rsvp:yes:1"


async def test_messages_tab_opening_is_ignored(slack_api):
    async with running_bot(slack_api) as bot:
        status, _ = await bot.post(event_payload("app_home_opened", event={"tab": "messages"}))

    assert status == 200
    assert slack_api.calls_to("views.publish") == []


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_oauth_install_then_commands_and_outbox_use_the_installed_token(slack_api, tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'circlebot.db'}")
    config = http_config(slack_api, bot_token=None, client_id="111.222", client_secret="s3cr3t")
    async with running_bot(slack_api, config=config, db=db, engine=db.engine) as bot:
        assert bot.adapter.config.oauth
        base = bot.url.rsplit("/slack/events", 1)[0]
        status, headers, page = await http_get(base + "/slack/install")
        state = headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
        assert status == 200 and f"state={state}" in page
        status, _, _ = await http_get(
            f"{base}/slack/oauth_redirect?code=abc&state={state}",
            headers={"Cookie": f"slack-app-oauth-state={state}"},
        )
        assert status == 200

        status, text = await bot.post(slash_command_payload("help", fake=slack_api))
        assert status == 200 and json.loads(text)["response_type"] == "ephemeral"

        from bot.events import ConversationRef

        ref = await bot.adapter.send(
            ConversationRef("slack", TEAM_ID, "C012AB3CD"), Message(text="hi")
        )
    await db.dispose()

    [authorize] = slack_api.calls_to("oauth.v2.access")
    assert authorize.params["code"] == "abc"
    assert slack_api.calls_to("users.info")[0].token == INSTALLED_BOT_TOKEN
    assert slack_api.calls_to("chat.postMessage")[0].token == INSTALLED_BOT_TOKEN
    assert ref.channel_id == "C012AB3CD"


def test_manifest_declares_the_command_events_interactivity_and_exact_scopes():
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/cop"]
    assert manifest["features"]["slash_commands"][0]["should_escape"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert sorted(settings["event_subscriptions"]["bot_events"]) == [
        "app_home_opened",
        "member_joined_channel",
    ]


def test_modes_from_settings(monkeypatch):
    for key in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_CLIENT_ID"):
        monkeypatch.delenv(key, raising=False)
    registry = build_registry()
    socket = build_slack_adapter(
        load_settings(_env_file=None, slack_bot_token="xoxb-1", slack_app_token="xapp-1"),
        registry,
    )
    assert socket.mode == "socket"
    http = build_slack_adapter(
        load_settings(
            _env_file=None, slack_bot_token="xoxb-1", slack_signing_secret=SIGNING_SECRET
        ),
        registry,
    )
    assert http.mode == "http" and not http.config.oauth
    oauth = build_slack_adapter(
        load_settings(
            _env_file=None,
            slack_signing_secret=SIGNING_SECRET,
            slack_client_id="1.2",
            slack_client_secret="s",
        ),
        registry,
    )
    assert oauth.mode == "http" and oauth.config.oauth
    with pytest.raises(SettingsError, match="SLACK_APP_TOKEN"):
        build_slack_adapter(load_settings(_env_file=None, slack_bot_token="xoxb-1"), registry)


def test_make_run_picks_slack_when_its_tokens_are_set(monkeypatch):
    for key in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DISCORD_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    registry = build_registry()
    assert platform_adapters(load_settings(_env_file=None), registry) == []
    [adapter] = platform_adapters(
        load_settings(_env_file=None, slack_bot_token="xoxb-1", slack_app_token="xapp-1"),
        registry,
    )
    assert isinstance(adapter, SlackAdapter) and adapter.platform == "slack"
    assert adapter.registry is registry


def test_slack_url_settings_are_checked():
    assert load_settings(_env_file=None, slack_api_url="http://127.0.0.1:9/api").slack_api_url == (
        "http://127.0.0.1:9/api/"
    )
    with pytest.raises(SettingsError, match="SLACK_API_URL"):
        load_settings(_env_file=None, slack_api_url="slack.com/api")
    with pytest.raises(SettingsError, match="SLACK_HTTP_PATH"):
        load_settings(_env_file=None, slack_http_path="slack/events")


async def test_rsvp_pressed_on_the_home_tab_answers_by_dm_and_refreshes_home(slack_api):
    from tests.fakes.slack_fake import block_actions_payload

    admin = "U0ADMIN001"
    slack_api.add_user(admin, is_admin=True)
    async with running_bot(slack_api) as bot:
        await bot.post(slash_command_payload('setup "Finger Lakes CoP" UTC', user_id=admin))
        await bot.post(
            slash_command_payload(
                'meeting series "monthly on the first Tuesday at 18:30" title="Monthly CoP"',
                user_id=admin,
            )
        )
        await bot.post(slash_command_payload("join", fake=slack_api))
        await bot.post(event_payload("app_home_opened"))
        [first] = await slack_api.wait_for("views.publish")
        home = first.json_param("view")
        actions = [
            el["action_id"]
            for block in home["blocks"]
            if block["type"] == "actions"
            for el in block["elements"]
        ]
        assert actions[:3] == ["rsvp:going:1", "rsvp:maybe:1", "rsvp:no:1"]

        # A click on the Home tab: no channel, no message, no response_url.
        click = block_actions_payload("rsvp:going:1", "", fake=slack_api)
        for key in ("channel", "message", "response_url"):
            click.pop(key, None)
        click["container"] = {"type": "view", "view_id": "V0HOME"}
        click["view"] = {"id": "V0HOME", "type": "home", "blocks": home["blocks"]}
        await bot.post(click)
        [_, refreshed] = await slack_api.wait_for("views.publish", count=2)
        [answer] = await slack_api.wait_for("chat.postMessage")

    assert answer.params["channel"].startswith("D")  # privately, in the member's DM
    assert "Going" in answer.params["text"]
    assert "Going 0 · Maybe 0" in json.dumps(home, ensure_ascii=False)
    assert "Going 1 · Maybe 0" in json.dumps(refreshed.json_param("view"), ensure_ascii=False)
