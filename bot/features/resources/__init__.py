"""Resources: links a community shares between meetings, tagged, searchable, attached to a
meeting ("what we made in the breakout") so its agenda and the next digest show them."""

from bot.feature import Feature
from bot.features.resources import sections
from bot.features.resources.commands import commands

FEATURE = Feature(
    name="resources",
    commands=commands(),
    hooks={
        "agenda.sections": sections.agenda_section,
        "digest.sections": sections.digest_section,
    },
    catalog="resources",
)
