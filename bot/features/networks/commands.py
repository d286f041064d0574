"""The ``/cop network`` commands: one group, so /cop stays within Discord's 25 children.

Facilitator commands (create, join, leave) are checked by the dispatcher's roles; the
coordinator's (invite, coordinator, announce, event, report, survey) are declared for anyone
in a community and checked here (`access.require_coordinator`), because a coordinator is a
person of the network, not a role in the community whose channel they type in.
"""

from __future__ import annotations

from bot.commands import Command, Param, Role
from bot.context import Context
from bot.events import Reply
from bot.features.networks import figures, membership, posts, surveys


async def survey(ctx: Context) -> Reply:
    if ctx.params["verb"] == "start":
        return await surveys.start(ctx)
    return await surveys.results(ctx)


def commands() -> tuple[Command, ...]:
    """Adds this feature's commands to the registry."""
    return (
        Command(
            ("network", "create"),
            "network.help.create",
            membership.create,
            Role.FACILITATOR,
            (Param("name", "network.param.name", max_length=100),),
            "network.example.create",
        ),
        Command(("network", "invite"), "network.help.invite", membership.invite, Role.ANYONE),
        Command(
            ("network", "join"),
            "network.help.join",
            membership.join,
            Role.FACILITATOR,
            (Param("code", "network.param.code", max_length=40),),
            "network.example.join",
        ),
        Command(("network", "leave"), "network.help.leave", membership.leave, Role.FACILITATOR),
        Command(("network", "show"), "network.help.show", membership.show, Role.ANYONE),
        Command(
            ("network", "coordinator"),
            "network.help.coordinator",
            membership.coordinator,
            Role.ANYONE,
            (
                Param("verb", "network.param.verb", kind="choice", choices=("add", "remove")),
                Param("user", "network.param.user", kind="user", max_length=100),
            ),
            "network.example.coordinator",
        ),
        Command(
            ("network", "announce"),
            "network.help.announce",
            posts.announce,
            Role.ANYONE,
            (
                Param(
                    "text",
                    "network.param.text",
                    rest=True,
                    max_length=posts.MAX_TEXT,
                    multiline=True,
                ),
            ),
            "network.example.announce",
        ),
        Command(
            ("network", "event"),
            "network.help.event",
            posts.event,
            Role.ANYONE,
            (
                Param("title", "network.param.title", max_length=200),
                Param("when", "network.param.when", keyword=True, max_length=60),
            ),
            "network.example.event",
        ),
        Command(
            ("network", "report"),
            "network.help.report",
            figures.report,
            Role.ANYONE,
            (
                Param("since", "network.param.since", required=False, max_length=10),
                Param("until", "network.param.until", required=False, max_length=10),
            ),
            "network.example.report",
        ),
        Command(
            ("network", "survey"),
            "network.help.survey",
            survey,
            Role.ANYONE,
            (
                Param(
                    "verb", "network.param.survey_verb", kind="choice", choices=("start", "results")
                ),
                Param("days", "network.param.days", kind="int", required=False, keyword=True),
            ),
            "network.example.survey",
        ),
    )
