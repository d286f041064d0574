"""The commands of the member's own data: ``/cop my timezone|language``,
``/cop my-data export|erase``."""

from __future__ import annotations

from bot.commands import Command, Param, Role
from bot.features.mydata import erase, export, language, zone


def commands() -> tuple[Command, ...]:
    return (
        Command(
            ("my", "timezone"),
            "mydata.help.timezone",
            zone.my_timezone,
            Role.ANYONE,
            (Param("zone", "mydata.param.zone", kind="zone", required=False, max_length=64),),
            "mydata.example.timezone",
            needs_community=False,
        ),
        Command(
            ("my", "language"),
            "mydata.help.language",
            language.my_language,
            Role.ANYONE,
            (Param("language", "mydata.param.language", required=False, max_length=35),),
            "mydata.example.language",
            needs_community=False,
        ),
        Command(
            ("my-data", "export"),
            "mydata.help.export",
            export.export,
            Role.ANYONE,
            example="mydata.example.export",
            needs_community=False,
        ),
        Command(
            ("my-data", "erase"),
            "mydata.help.erase",
            erase.ask,
            Role.ANYONE,
            example="mydata.example.erase",
            needs_community=False,
        ),
    )
