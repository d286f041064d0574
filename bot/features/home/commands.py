"""`/cop home`: the home view where the platform has no home tab (Discord, the console)."""

from __future__ import annotations

from bot.commands import Command, Role
from bot.context import Context
from bot.events import Reply, Respond
from bot.features.home.render import home
from bot.ui import Message


async def show_home(ctx: Context) -> Reply:
    """The member's communities at a glance: in a DM as the answer, from a channel by DM.

    The view holds buttons of several communities, and a button works only in its own
    community's channel or in a DM, so from a channel the view is sent to the member's DMs.
    """
    view = await home(ctx)
    if not isinstance(view, Respond):
        return Respond(Message(text=ctx.t("home.none")))
    if ctx.place.is_dm:
        return view
    user = ctx.actor.user
    await ctx.outbox.enqueue(
        key=f"home:{user.platform}:{user.workspace_id}:{user.user_id}:{ctx.now.isoformat()}",
        to=user,
        message=view.message,
    )
    return Respond(Message(text=ctx.t("home.sent")))


def commands() -> tuple[Command, ...]:
    return (
        Command(
            ("home",),
            "home.help.home",
            show_home,
            Role.ANYONE,
            example="home.example.home",
            needs_community=False,
        ),
    )
