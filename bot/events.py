"""What adapters hand to the core, and what the core answers within the platform's ack window."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.ui import ActionId, Form, Message


@dataclass(frozen=True)
class UserRef:
    """A person on one platform/workspace (Slack team, Discord guild, console)."""

    platform: str
    workspace_id: str
    user_id: str


@dataclass(frozen=True)
class ConversationRef:
    """A channel (or DM channel) on one platform/workspace."""

    platform: str
    workspace_id: str
    channel_id: str


@dataclass(frozen=True)
class MessageRef:
    """A posted message, so it can be edited in place (in `workspace_id`, where known)."""

    platform: str
    channel_id: str
    message_id: str
    workspace_id: str = ""


@dataclass(frozen=True)
class Actor:
    """Who did something; `is_admin` is the platform's own admin flag (Slack admin, Manage Guild).

    `locale` is the language the person's app is in, when the platform sends it with every
    interaction (Discord's ``interaction.locale``, ``es-ES``); the answer to that interaction
    uses it at once (`bot.languages`), before any ``ProfileSeen`` has kept it.
    """

    user: UserRef
    name: str
    is_admin: bool = False
    locale: str | None = None


@dataclass(frozen=True)
class Place:
    """Where it happened; `is_dm` for direct messages with the bot."""

    conversation: ConversationRef
    name: str = ""
    is_dm: bool = False


@dataclass(frozen=True, kw_only=True)
class Delivered:
    """What every incoming request carries: the platform's identity of it, when it has one.

    `delivery` (``slack:event:Ev123``, ``discord:interaction:1234``) is the same for a
    retry or a replay of one request; the dispatcher remembers it with the request's effect,
    so the copy is recognised and has no second effect. None: not de-duplicated (the
    console, tests, events the core makes itself).
    """

    delivery: str | None = None


@dataclass(frozen=True)
class CommandInvoked(Delivered):
    """`/cop <path...> <params>`; adapters parse with the core's registry (or native options)."""

    actor: Actor
    place: Place
    path: tuple[str, ...]
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionClicked(Delivered):
    """A button press or select choice; `value` is the chosen option of a select."""

    actor: Actor
    place: Place
    action: ActionId
    message: MessageRef | None = None
    value: str | None = None


@dataclass(frozen=True)
class FormSubmitted(Delivered):
    """A submitted form; `metadata` is the form's own (ids only)."""

    actor: Actor
    place: Place
    form_id: str
    values: dict[str, str]
    metadata: str = ""


@dataclass(frozen=True)
class MemberJoined(Delivered):
    """Someone joined a channel the bot is in."""

    actor: Actor
    place: Place


@dataclass(frozen=True)
class HomeOpened(Delivered):
    """A member opened the bot's home (Slack App Home); answer with their overview."""

    actor: Actor
    place: Place


@dataclass(frozen=True)
class ProfileSeen(Delivered):
    """What the platform says of a person, handed in by the adapter after an interaction:
    their IANA `zone` and `locale` (``en-US``), None where it says nothing. The core keeps
    them on the person's member rows in that workspace (`Member.platform_timezone`,
    `Member.platform_locale`); the core never asks a platform itself. `place` is where the
    person was seen."""

    actor: Actor
    place: Place
    zone: str | None = None
    locale: str | None = None


Event = CommandInvoked | ActionClicked | FormSubmitted | MemberJoined | HomeOpened | ProfileSeen


@dataclass(frozen=True)
class Ack:
    """Nothing to say; the interaction is acknowledged."""


@dataclass(frozen=True)
class Respond:
    """Answer the person; `private` means only they see it (ephemeral)."""

    message: Message
    private: bool = True


@dataclass(frozen=True)
class OpenForm:
    """Open a modal form; only possible as the answer to an interaction."""

    form: Form


@dataclass(frozen=True)
class FormErrors:
    """Keep the form open and show these messages under the named inputs."""

    errors: dict[str, str]


Reply = Ack | Respond | OpenForm | FormErrors
