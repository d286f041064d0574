"""Slack payloads -> core events. Pure functions: no I/O, no bolt objects, only dicts.

The adapter looks up who the person is (name, workspace admin flag) and passes an `Actor`
in; everything else comes from the payload as Slack sent it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.commands import UNPARSED, Registry
from bot.events import (
    ActionClicked,
    Actor,
    CommandInvoked,
    ConversationRef,
    FormSubmitted,
    HomeOpened,
    MemberJoined,
    MessageRef,
    Place,
    UserRef,
)
from bot.i18n import Translator
from bot.ui import ActionId

PLATFORM = "slack"


def actor(team_id: str, user_id: str, name: str, is_admin: bool = False) -> Actor:
    return Actor(UserRef(PLATFORM, team_id, user_id), name or user_id, is_admin)


def place(team_id: str, channel_id: str, name: str = "") -> Place:
    """Where something happened; Slack DM channel ids start with ``D``."""
    return Place(
        ConversationRef(PLATFORM, team_id, channel_id), name, is_dm=channel_id.startswith("D")
    )


def user_dm_place(team_id: str, user_id: str) -> Place:
    """The person's DM with the bot when the payload names no channel (App Home, modals).

    Posting to a user id lands in the bot's DM with that user.
    """
    return Place(ConversationRef(PLATFORM, team_id, user_id), "directmessage", is_dm=True)


def team_of(body: dict[str, Any]) -> str:
    """The workspace of an interactive payload or slash command."""
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    if body.get("team_id"):
        return str(body["team_id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    return ""


# -- slash command -------------------------------------------------------------------------------


def unescape(text: str) -> str:
    """Undo Slack's escaping of ``&``, ``<`` and ``>`` in message and command text.

    With ``should_escape`` on (see manifest.json), mentions arrive as ``<@U123|ben>``, which
    the registry turns into the user id; anything the person typed comes back as they typed
    it (the renderer escapes it again on the way out).
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def command_event(
    body: dict[str, Any], registry: Registry, t: Translator, who: Actor
) -> CommandInvoked:
    """``/cop <text>`` parsed with the core's registry; raises `ParseError` for bad text."""
    cmd, params = registry.parse(unescape(body.get("text") or ""), t)
    where = place(team_of(body), body.get("channel_id", ""), body.get("channel_name", ""))
    return CommandInvoked(who, where, cmd.path, params)


def unparsed_event(body: dict[str, Any], who: Actor) -> CommandInvoked:
    """``/cop <text>`` that did not parse: the core refuses it in the person's language."""
    where = place(team_of(body), body.get("channel_id", ""), body.get("channel_name", ""))
    return CommandInvoked(who, where, UNPARSED, {"text": unescape(body.get("text") or "")})


# -- block_actions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clicked:
    """The clicked element of a block_actions payload."""

    action_id: str
    value: str | None
    action_ts: str
    in_view: bool  # on an App Home tab or a modal (no channel, no response_url)


def clicked(body: dict[str, Any]) -> Clicked:
    action = (body.get("actions") or [{}])[0]
    value: str | None = None
    if action.get("type") in ("static_select", "external_select"):
        value = (action.get("selected_option") or {}).get("value")
    elif action.get("type") not in ("button", None):
        value = action.get("value")
    container = body.get("container") or {}
    return Clicked(
        action_id=str(action.get("action_id", "")),
        value=value,
        action_ts=str(action.get("action_ts", "")),
        in_view=container.get("type") == "view" or "view" in body and not body.get("channel"),
    )


def action_event(body: dict[str, Any], who: Actor) -> ActionClicked:
    """A button press or select choice; raises `ActionIdError` for ids not made by the core."""
    click = clicked(body)
    team = team_of(body)
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    channel_id = channel.get("id") or container.get("channel_id")
    if channel_id:
        where = place(team, channel_id, channel.get("name", ""))
    else:
        where = user_dm_place(team, who.user.user_id)
    ref = None
    message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    # Ephemeral messages cannot be edited with chat.update, so they carry no reference.
    if channel_id and message_ts and not container.get("is_ephemeral"):
        ref = MessageRef(PLATFORM, channel_id, str(message_ts))
    return ActionClicked(who, where, ActionId.parse(click.action_id), ref, click.value)


# -- view_submission ------------------------------------------------------------------------------


def form_origin(view: dict[str, Any], team: str, user_id: str) -> tuple[str, Place]:
    """The form's own metadata and where it was opened, from ``private_metadata``.

    A view made elsewhere (not by `render.form_metadata`) keeps its raw metadata and is taken
    to come from the person's DM.
    """
    raw = view.get("private_metadata") or ""
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        data = None
    if isinstance(data, dict) and {"m", "c"} <= data.keys():
        channel = str(data["c"])
        if channel:
            return str(data["m"]), place(team, channel, str(data.get("n", "")))
        return str(data["m"]), user_dm_place(team, user_id)
    return raw, user_dm_place(team, user_id)


def _input_value(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind in ("static_select", "external_select", "radio_buttons"):
        return str((element.get("selected_option") or {}).get("value") or "")
    if kind in ("checkboxes", "multi_static_select"):
        return ",".join(str(o.get("value")) for o in element.get("selected_options") or [])
    if kind == "datepicker":
        return str(element.get("selected_date") or "")
    if kind == "users_select":
        return str(element.get("selected_user") or "")
    value = element.get("value")
    return "" if value is None else str(value)


def form_values(view: dict[str, Any]) -> dict[str, str]:
    """``{input name: text}``: one value per input block (block_id is the input's name)."""
    values: dict[str, str] = {}
    for block_id, elements in ((view.get("state") or {}).get("values") or {}).items():
        for element in elements.values():
            values[block_id] = _input_value(element)
            break
    return values


def form_event(body: dict[str, Any], who: Actor) -> FormSubmitted:
    view = body.get("view") or {}
    metadata, where = form_origin(view, team_of(body), who.user.user_id)
    return FormSubmitted(who, where, str(view.get("callback_id", "")), form_values(view), metadata)


# -- events ---------------------------------------------------------------------------------------


def home_event(event: dict[str, Any], team: str, who: Actor) -> HomeOpened:
    channel = event.get("channel") or ""
    where = (
        place(team, channel, "directmessage") if channel else user_dm_place(team, who.user.user_id)
    )
    return HomeOpened(who, where)


def joined_event(event: dict[str, Any], team: str, who: Actor) -> MemberJoined:
    return MemberJoined(who, place(team, str(event.get("channel", ""))))
