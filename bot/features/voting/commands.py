"""The ``/cop poll``, ``/cop topics`` and ``/cop survey`` commands, declared in one place."""

from __future__ import annotations

from bot.across import each_community
from bot.commands import Command, Param, Role
from bot.context import Context
from bot.events import Reply, Respond
from bot.features.voting import manage, survey, topics
from bot.features.voting.close import agenda, close, export, list_polls, reopen, results
from bot.features.voting.mine import open_polls
from bot.features.voting.polls import (
    MAX_QUESTION,
    POLL_PARAMS,
    build_poll,
    open_poll,
    split_options,
)
from bot.ui import Message


async def new_poll(ctx: Context) -> Reply:
    labels = split_options(ctx, ctx.params["options"])
    poll = build_poll(ctx, ctx.params["question"], len(labels))
    await open_poll(ctx, poll, labels)
    return Respond(Message(text=ctx.t("voting.opened", id=poll.id)))


def commands() -> tuple[Command, ...]:
    poll_id = Param("poll", "voting.param.poll", kind="int", required=False)
    poll_number = Param("poll", "voting.param.poll_number", kind="int")
    return (
        Command(
            ("poll", "new"),
            "voting.help.new",
            new_poll,
            Role.FACILITATOR,
            (
                Param("question", "voting.param.question", max_length=MAX_QUESTION),
                Param(
                    "options",
                    "voting.param.options",
                    keyword=True,
                    max_length=2600,
                    multiline=True,
                ),
                *POLL_PARAMS,
            ),
            "voting.example.new",
        ),
        Command(
            ("poll", "list"),
            "voting.help.list",
            each_community(list_polls, in_dm=open_polls),
            Role.ANYONE,
            (),
            "voting.example.list",
            needs_community=False,
        ),
        Command(
            ("poll", "results"),
            "voting.help.results",
            results,
            Role.MEMBER,
            (poll_id,),
            "voting.example.results",
        ),
        Command(
            ("poll", "close"),
            "voting.help.close",
            close,
            Role.FACILITATOR,
            (poll_id,),
            "voting.example.close",
        ),
        Command(
            ("poll", "reopen"),
            "voting.help.reopen",
            reopen,
            Role.FACILITATOR,
            (
                poll_id,
                Param("closes", "voting.param.closes", required=False, keyword=True, max_length=60),
            ),
            "voting.example.reopen",
        ),
        Command(
            ("poll", "edit"),
            "voting.help.edit",
            manage.edit,
            Role.FACILITATOR,
            (
                poll_number,
                Param(
                    "question",
                    "voting.param.question",
                    required=False,
                    keyword=True,
                    max_length=MAX_QUESTION,
                ),
                Param(
                    "options",
                    "voting.param.options",
                    required=False,
                    keyword=True,
                    max_length=2600,
                    multiline=True,
                ),
                Param("closes", "voting.param.closes", required=False, keyword=True, max_length=60),
                Param("quorum", "voting.param.quorum", kind="int", required=False, keyword=True),
            ),
            "voting.example.edit",
        ),
        Command(
            ("poll", "delete"),
            "voting.help.delete",
            manage.ask_delete,
            Role.FACILITATOR,
            (poll_number,),
            "voting.example.delete",
        ),
        Command(
            ("poll", "export"),
            "voting.help.export",
            export,
            Role.FACILITATOR,
            (poll_id,),
            "voting.example.export",
        ),
        Command(
            ("poll", "agenda"),
            "voting.help.agenda",
            agenda,
            Role.FACILITATOR,
            (poll_id,),
            "voting.example.agenda",
        ),
        *topics.commands(),
        *survey.commands(),
    )
