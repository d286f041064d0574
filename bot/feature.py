"""The contract every job package declares: one `Feature` object in its ``__init__``.

A feature names everything it answers to (commands, buttons, forms, job kinds, hooks) and
the app builds one `Registry` from the list in `bot.features`. Handlers of every kind take
the same `Context`: ``async def handler(ctx) -> Reply`` for commands, actions and forms,
``async def job(ctx, *args) -> None`` for job kinds, ``async def on_hook(ctx, payload)``
for hooks, and ``async def reconcile(services) -> None`` for the optional reconciler that
repairs jobs in the background after start (idempotent, incremental).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.commands import Command, Role

if TYPE_CHECKING:
    from bot.context import Context, Services
    from bot.events import Reply

ActionHandler = Callable[["Context"], Awaitable["Reply"]]
FormHandler = Callable[["Context"], Awaitable["Reply"]]
JobHandler = Callable[..., Awaitable[None]]
HookHandler = Callable[["Context", Any], Awaitable[Any]]
Reconciler = Callable[["Services"], Awaitable[None]]


@dataclass(frozen=True)
class Action:
    """A button's handler, who may press it, and whether a press may make someone a member.

    `joins` is an explicit decision and defaults to no: a non-member pressing a joining
    button in the community's own channel becomes a member; anywhere else (a DM, another
    community's channel) only members of the button's community may press it.
    """

    handler: ActionHandler
    role: Role = Role.MEMBER
    joins: bool = False


@dataclass(frozen=True)
class Feature:
    """One job of circlebot (voting, meetings, ...), as the app sees it."""

    name: str
    commands: Sequence[Command] = ()
    actions: Mapping[str, Action] = field(default_factory=dict)  # "feature:verb"
    forms: Mapping[str, FormHandler] = field(default_factory=dict)
    jobs: Mapping[str, JobHandler] = field(default_factory=dict)
    hooks: Mapping[str, HookHandler] = field(default_factory=dict)
    emits: Sequence[str] = ()
    reconcile: Reconciler | None = None
    # Draws the member's home (Slack's App Home); one feature at most declares it.
    home: ActionHandler | None = None
    # The key prefix of this feature's sentences in the catalogs (``voting.`` for "voting").
    catalog: str | None = None
